"""Reading a trace back (JSON, format 1): a validated Recording of the Scenario and its StepRecords.

    recording = read_trace("run.json")      # TraceError lists what is wrong, and where
    recording.records[2].layers[0].grad_w    # the StepRecord of step 3, as the run made it

Nothing is recomputed: every number of a record is the one in the file. What a trace does
not hold is derived from what it does: a step's inputs x and targets t are the rows of the
data its batch names, its per-sample losses come from its output a[L] and t through the
loss function, w_before and b_before are the previous step's w and b (or the "initial"
ones), and the training-set loss before the first step is one forward pass of the
initial weights. A non-finite number, written as null, reads back as nan. Why a diverged run
stopped is found again as the Trainer found it: its last step's first non-finite number, or,
with every number finite, its training-set loss over DIVERGENCE_FACTOR x max(initial, 1).

A trace is refused, with every problem named by its place in the file
(``steps[3].layers[1].grad_w: expected 3 x 2 (n_1 x n_0), got 3 x 3``), when it is empty,
not UTF-8, not strict JSON, cut short, of another format or version, breaks the JSON Schema
that ships with the package, has an array whose shape disagrees with the scenario's layers
or the step's batch, has steps not numbered 1, 2, 3, ... or batches that are not the
scenario's sample order, or a summary that does not count its steps. Replay needs every
step and every field of every layer: a trace that skips steps or leaves fields out is
refused, saying which. ``read_trace(path, whole=False)`` (what ``--check`` uses) reads such
a trace too, checking what it holds: its steps are then only in ``Recording.kept``.

Recomputing the numbers is verify.py's part (``--check`` and replay call it).
"""

from __future__ import annotations

import gc
import itertools
import json
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .engine import BatchSchedule, LayerRecord, StepRecord, get_activation, get_loss
from .engine.diagnostics import Diagnostic
from .engine.network import Network
from .engine.record import find_nonfinite
from .engine.regularization import Penalty
from .engine.trainer import loss_blowup
from .files import TRACE_LIMIT, Unreadable, read_regular
from .scenario import Scenario, ScenarioError, parse_scenario
from .schemacheck import at, check
from .trace import FORMAT, VERSION, TraceError
from .values import BadNumber, describe

Array = np.ndarray
Arrays = tuple[Array, ...]
Converted = dict[tuple[int, str], list[Array | None]]  # (layer, field): each step's array, or None
Columns = dict[int, list[tuple[str, list[Array | None]]]]  # the same by layer, fields in SHAPE_ORDER

MAX_PROBLEMS = 20
# what a trace may hold, counted in its bytes before it is parsed: a parsed number takes some
# 32 bytes, a list 100 and an object 300, so that these keep a trace's Python objects to about
# 350 MB at the most (20,000 steps of xor, 10 of blobs_784); and the steps it holds, each of
# which becomes a StepRecord and is recomputed (20,000 of a 1-1 network: 6 s on 2 busy cores)
MAX_ITEMS = 6_000_000  # numbers and other items: the commas between them
MAX_LISTS = 500_000  # lists and objects
MAX_STEPS = 20_000
SELF_STOPS = ("diverged", "target_loss", "max_steps")  # summary reasons that belong to the last step

# every field of a layer that replay shows
LAYER_FIELDS = ("z", "a", "delta", "grad_w", "grad_b", "w", "b")
# the arrays a layer of a step may hold, by shape, in the order their shapes are checked
PER_SAMPLE = ("z", "a", "delta", "error")  # (B, n_l)
WEIGHT_SHAPED = ("w", "grad_w", "update_w", "velocity_w", "m_w", "v_w")  # (n_l, n_{l-1})
BIAS_SHAPED = ("b", "grad_b", "update_b", "velocity_b", "m_b", "v_b")  # (n_l,) or (0,)
SHAPE_ORDER = (*PER_SAMPLE, "w", "b", "grad_w", "grad_b", *WEIGHT_SHAPED[2:], *BIAS_SHAPED[2:])


@dataclass(frozen=True)
class KeptStep:
    """One step as the trace holds it: every field written, every number as recorded (null as
    nan). A whole trace keeps every field of every step; one written with --every or --fields
    keeps some steps, or some fields."""

    step: int
    # the step's fields besides "step" and "layers": epoch (int), batch (tuple of int), loss,
    # train_loss, test_loss, penalty (float), warnings (tuple of Diagnostic)
    values: Mapping[str, Any]
    layers: tuple[Mapping[str, Array], ...]  # layer l = 1..L: the arrays written; () without "layers"


@dataclass(frozen=True)
class Recording:
    """A run read back from a trace: everything the app shows of it, as it was recorded."""

    source: str  # the path as given, for messages and the header
    scenario: Scenario
    initial_W: tuple[Array, ...]  # W[1..L] before the first step, each (n_l, n_{l-1})
    initial_b: tuple[Array, ...]  # b[1..L], each (n_l,) or (0,)
    initial_train_loss: float  # the training-set loss before the first step
    initial_test_loss: float | None  # the test-set loss before the first step; None without a test set
    records: tuple[StepRecord, ...]  # step 1..n; () for a trace kept in part (every, fields)
    stop_reason: str  # the summary's
    final_loss: float
    kept: tuple[KeptStep, ...] = ()  # every step of the file, as written
    every: int = 1  # --every K: the file keeps steps K, 2K, 3K, ... and the run's last one
    fields: tuple[str, ...] | None = None  # --fields: the fields each step keeps; None: all

    @property
    def steps(self) -> int:
        """The number of steps in the file."""
        return len(self.kept)


# -- reading strict JSON ---------------------------------------------------------------------


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"not strict JSON: the key {json.dumps(dup)} appears twice in one object")
    return d


_EXPONENT = re.compile(rb"e\+?[0-9]{3}")  # an exponent of three digits (found fast: it starts with e)
_EXPONENT_E = re.compile(rb"E\+?[0-9]{3}")
_DIGITS = bytes(ord("0") if 48 <= i <= 57 else 32 for i in range(256))  # digits as 0, the rest blank


def _may_overflow(data: bytes) -> bool:
    """Whether the text may hold a number too large for a float (1e400, or an integer of 400
    digits): one with an exponent of 100 or more, or 209 digits in a row (with an exponent of at
    most 99, a number below 1e308 has at most 208 digits before its point). A float that Python
    writes has at most 17 significant digits and, below 1e100, an exponent of two. About 80 ms
    for 19 MB, where walking the parsed document would take a second."""
    if _EXPONENT.search(data) or (b"E" in data and _EXPONENT_E.search(data)):
        return True
    return b"0" * 209 in data.translate(_DIGITS)


def parse_json(data: bytes, source: str) -> tuple[Any, bool]:
    """The document in ``data``, read as strict JSON (RFC 8259), and whether it may hold a number
    that strict JSON does not allow (NaN and Infinity, which read as a BadNumber, or 1e400, as
    inf), which the schema check then looks for (schemacheck.check). TraceError when it is not
    JSON, or too large to read back."""
    if not data.strip():
        raise TraceError(source, "empty file: not a trace")
    items, lists = data.count(b","), data.count(b"[") + data.count(b"{")
    if items > MAX_ITEMS or lists > MAX_LISTS:
        holds = f"{items:,} items in {lists:,} lists"
        most = f"{MAX_ITEMS:,} in {MAX_LISTS:,}"
        raise TraceError(
            source,
            f"too large to read back: {holds}, where a trace holds at most {most} "
            "(--every K or --fields keep a long run's trace small)",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise TraceError(source, f"not UTF-8 text (line {line}, byte {e.start}): a trace is JSON") from e
    constants: list[BadNumber] = []

    def constant(text: str) -> BadNumber:  # NaN, Infinity, -Infinity
        constants.append(BadNumber(text))
        return constants[-1]

    try:
        doc = json.loads(text, parse_constant=constant, object_pairs_hook=_unique)
    except json.JSONDecodeError as e:
        end = len(text.rstrip())
        if e.pos >= end or (e.msg.startswith("Unterminated string") and '"' not in text[e.pos + 1 :]):
            line = text.count("\n", 0, end) + 1
            message = f"truncated: the file ends at line {line} before the JSON is complete"
            raise TraceError(source, message + " (an export that was cut short?)") from e
        raise TraceError(source, f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e
    except RecursionError as e:
        raise TraceError(source, "not valid JSON for a trace: nested too deeply") from e
    except ValueError as e:  # a duplicate key, or an integer of more than 4300 digits
        why = str(e).split(";")[0]  # not Python's advice on its own limit of digits
        raise TraceError(source, why if "twice" in why else f"not valid JSON: {why}") from e
    return doc, bool(constants) or _may_overflow(data)


# -- the trace ---------------------------------------------------------------------------------


def read_trace(path: str | Path, whole: bool = True) -> Recording:
    """A Recording from a trace file; TraceError names every problem and where it is.
    ``whole=False``: a trace written with --every or --fields is read too (see loads_trace)."""
    label = str(path)
    try:
        data = read_regular(path, TRACE_LIMIT, "trace file")  # a regular file, within the limit
    except Unreadable as e:
        raise TraceError(label, e.reason) from e.__cause__ or e
    return loads_trace(data, label, whole)


def loads_trace(data: bytes | str, source: str = "<trace>", whole: bool = True) -> Recording:
    """A Recording from the text of a trace; errors are titled with ``source``. ``whole``: refuse
    a trace that keeps only some steps or fields (replay needs them all); otherwise read it,
    checking the shapes of what it holds, with its steps in ``kept`` and no ``records``."""
    with _no_cycle_collection():
        return _loads(data.encode("utf-8") if isinstance(data, str) else data, source, whole)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The interpreter's cycle collector off while a trace is read: a parsed trace is millions of
    lists and floats, none of them in a cycle, which each collection of the oldest generation
    walks again (a third of json.loads's time, and as much of the rest)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _loads(data: bytes, source: str, whole: bool) -> Recording:
    doc, strict = parse_json(data, source)
    _format(doc, source)
    steps = doc.get("steps")
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        message = f"{len(steps):,} steps is more than {MAX_STEPS:,}, the most a trace is read back with"
        raise TraceError(source, f"steps: {message} (--every K keeps a long run's trace small)")
    problems = check(doc, strict)
    if problems:
        raise TraceError(source, problems)
    if whole:
        _whole(doc, source)
    scenario = _scenario(doc, source)
    return _Builder(doc, scenario, source, whole).build()


def _format(doc: Any, source: str) -> None:
    """Refuse anything that is not a format-1 trace before looking further."""
    if not isinstance(doc, dict):
        raise TraceError(source, f"not a backprop-tui trace: expected a JSON object, got {describe(doc)}")
    if "format" not in doc:
        raise TraceError(source, f'not a backprop-tui trace: no "format": "{FORMAT}"')
    if doc["format"] != FORMAT:
        raise TraceError(source, f'format: expected "{FORMAT}", got {describe(doc["format"])}')
    version = doc.get("version")
    if "version" not in doc:
        raise TraceError(source, 'missing field "version"')
    if type(version) is not int or version != VERSION:
        newer = " (written by a newer backprop-tui?)" if type(version) is int and version > VERSION else ""
        raise TraceError(
            source,
            f"version: this backprop-tui reads trace version {VERSION}, got {describe(version)}{newer}",
        )


def _whole(doc: dict[str, Any], source: str) -> None:
    """Refuse a valid trace that replay cannot show: one of some steps, or of some fields."""
    if "every" in doc:
        k = doc["every"]
        message = f"this trace keeps one step in {k} (exported with --every {k}); replay needs every step"
        raise TraceError(source, f"every: {message}")
    if "fields" in doc:
        kept = ", ".join(doc["fields"])
        message = f"this trace keeps only {kept} (exported with --fields); replay needs every field"
        raise TraceError(source, f"fields: {message}")


_PROBLEM = re.compile(r"^\[(?P<table>[^\]]+)\](?: (?P<key>[^:]+))?: (?P<message>.*)$", re.S)


def _scenario(doc: dict[str, Any], source: str) -> Scenario:
    """The Scenario of the trace: its "scenario" object with the inputs and targets of "data"."""
    tables = {name: dict(table) for name, table in doc["scenario"].items()}
    # the rows were recorded: where they came from (a generator and its keys) is kept as it
    # was written, and not run again
    written = tables["data"]
    names = {k: written[k] for k in ("input_names", "output_names") if written.get(k)}
    origin = tuple((k, v) for k, v in written.items() if k not in ("input_names", "output_names"))
    tables["data"] = {**names, "inputs": doc["data"]["inputs"], "targets": doc["data"]["targets"]}
    init = tables["init"]
    if init.get("biases") == [] and not tables["network"].get("bias", True):
        del init["biases"]
    try:
        scenario = parse_scenario(tables, source)
    except ScenarioError as e:
        raise TraceError(source, [_trace_place(p) for p in e.problems]) from e
    if "test_fraction" in written:
        scenario = replace(scenario, test_fraction=float(written["test_fraction"]))
    if origin:
        scenario = replace(
            scenario, data_source=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in origin)
        )
    return scenario


def _trace_place(problem: str) -> str:
    """``[training] learning_rate: ...`` -> ``scenario.training.learning_rate: ...``; the data
    rows are the trace's "data" object."""
    m = _PROBLEM.match(problem)
    if not m:
        return f"scenario: {problem}"
    table, key, message = m["table"], m["key"], m["message"]
    if table == "data" and key and key.startswith(("inputs", "targets")):
        return f"data.{key}: {message}"
    return f"scenario.{table}{'.' + key if key else ''}: {message}"


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


class _Builder:
    """Checks every shape against the scenario and builds the records, collecting problems."""

    def __init__(self, doc: dict[str, Any], scenario: Scenario, source: str, whole: bool = True) -> None:
        self.doc, self.s, self.source = doc, scenario, source
        self.problems: list[str] = []
        self.layers = scenario.layers
        self.L = len(self.layers) - 1
        self.N = len(scenario.inputs)
        self.network = Network(
            tuple(get_activation(a) for a in scenario.activations), get_loss(scenario.loss), scenario.bias
        )
        self.schedule = BatchSchedule(self.N, scenario.batch, scenario.shuffle, scenario.seed)
        self.every: int = doc.get("every", 1)
        self.fields: tuple[str, ...] | None = tuple(doc["fields"]) if "fields" in doc else None
        self.whole = self.every == 1 and self.fields is None  # every step and every field
        self.replayed = whole and self.whole  # then every step also becomes a StepRecord, for replay

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")
        if len(self.problems) >= MAX_PROBLEMS:
            raise TraceError(self.source, self.problems + ["... (stopped after 20 problems)"])

    def matrix(self, v: list, path: str, rows: int, cols: int, names: str) -> Array:
        """v as a read-only (rows, cols) float array; a problem when its shape differs."""
        got_cols = {len(r) for r in v}
        if len(v) != rows or got_cols - {cols}:
            if len(got_cols) > 1:
                ragged = next(i for i, r in enumerate(v) if len(r) != len(v[0]))
                got = f"rows of different lengths (row 0 has {len(v[0])}, row {ragged} has {len(v[ragged])})"
            else:
                got = f"{len(v)} x {got_cols.pop() if got_cols else 0}"
            self.problem(path, f"expected {rows} x {cols} ({names}), got {got}")
            return np.full((rows, cols), np.nan)
        return _frozen(np.array(v, dtype=float).reshape(rows, cols))

    def vector(self, v: list, path: str, n: int, names: str) -> Array:
        if len(v) != n:
            self.problem(path, f"expected {n} number{'s' if n != 1 else ''} ({names}), got {len(v)}")
            return np.full(n, np.nan)
        return _frozen(np.array(v, dtype=float).reshape(n))

    def weights(self, obj: Any, path: str, key: str | int, l: int) -> Array:
        """obj[key], the (n_l, n_{l-1}) weights of layer l (or an array shaped like them)."""
        n, m = self.layers[l], self.layers[l - 1]
        return self.matrix(obj[key], at(path, key), n, m, f"n_{l} x n_{l - 1}")

    def biases(self, obj: Any, path: str, key: str | int, l: int) -> Array:
        """obj[key], the (n_l,) biases of layer l; (0,) for a network without biases."""
        n = self.layers[l] if self.s.bias else 0
        names = f"n_{l}" if self.s.bias else "none: the network has no biases"
        return self.vector(obj[key], at(path, key), n, names)

    def build(self) -> Recording:
        doc, s = self.doc, self.s
        initial = doc["initial"]
        for key in ("w", "b"):
            if len(initial[key]) != self.L:
                self.problem(
                    f"initial.{key}",
                    f"expected {self.L} (one per layer after the input), got {len(initial[key])}",
                )
        if self.problems:
            raise TraceError(self.source, self.problems)
        W0 = tuple(self.weights(initial["w"], "initial.w", l - 1, l) for l in range(1, self.L + 1))
        b0 = tuple(self.biases(initial["b"], "initial.b", l - 1, l) for l in range(1, self.L + 1))
        steps = doc["steps"]
        converted = self.convert(steps)
        columns: Columns = {l: [] for l in range(1, self.L + 1)}
        for (l, name), column in sorted(converted.items(), key=lambda item: SHAPE_ORDER.index(item[0][1])):
            columns[l].append((name, column))
        kept: list[KeptStep] = []
        for i, step in enumerate(steps):
            k = self.kept_step(step, f"steps[{i}]", i, i == len(steps) - 1, columns)
            if k is not None:
                kept.append(k)
        summary = doc["summary"]
        if summary["steps"] != len(steps):
            self.problem(
                "summary.steps", f"expected {len(steps)} (the steps in the file), got {summary['steps']}"
            )
        if self.problems:
            raise TraceError(self.source, self.problems)
        penalty = Penalty(s.l1, s.l2)(W0) if Penalty(s.l1, s.l2) else 0.0  # in both losses, as trained
        test_loss = None
        if "test_data" in doc:
            test = doc["test_data"]
            X_test = self.matrix(
                test["inputs"], "test_data.inputs", len(test["inputs"]), self.layers[0], "n_0"
            )
            T_test = self.matrix(
                test["targets"], "test_data.targets", len(test["inputs"]), self.layers[-1], "n_L"
            )
            if not (np.isfinite(X_test).all() and np.isfinite(T_test).all()):
                self.problem("test_data", "expected finite numbers, got null")
            if self.problems:
                raise TraceError(self.source, self.problems)
            s = self.s = replace(s, test_inputs=X_test, test_targets=T_test)
            with np.errstate(all="ignore"):
                zs, acts = self.network.forward(W0, b0, X_test)
                sample_losses = self.network.sample_losses(acts[-1], T_test, zs[-1])
                test_loss = float(np.add.reduce(sample_losses) / sample_losses.size) + penalty
        with np.errstate(all="ignore"):
            zs, acts = self.network.forward(W0, b0, s.inputs)
            sample_losses = self.network.sample_losses(acts[-1], s.targets, zs[-1])
            initial_loss = (
                float(np.add.reduce(sample_losses) / sample_losses.size) + penalty
            )  # as the Trainer sums
        return Recording(
            source=self.source,
            scenario=s,
            initial_W=W0,
            initial_b=b0,
            initial_train_loss=initial_loss,
            initial_test_loss=test_loss,
            records=_with_blowup(self.records(kept, W0, b0), initial_loss) if self.replayed else (),
            stop_reason=summary["stop_reason"],
            final_loss=_num(summary["final_loss"]),
            kept=tuple(kept),
            every=self.every,
            fields=self.fields,
        )

    def number(self, i: int, last: bool) -> tuple[int, int, str]:
        """The step numbers allowed for the i-th step of the file (0-based): from, to, and why."""
        k = self.every
        if k == 1:
            return i + 1, i + 1, "steps are numbered 1, 2, 3, ..."
        why = f"with every {k} the steps are {k}, {2 * k}, {3 * k}, ... and the run's last one"
        return (i * k + 1 if last else (i + 1) * k), (i + 1) * k, why

    def batch_size(self, number: int) -> int:
        """The number of samples in the batch of step ``number`` (the last of an epoch may be short)."""
        offset = self.schedule.position_after(number - 1).offset
        return min(self.schedule.size, self.N - offset)

    def shape(self, key: str, l: int, B: int) -> tuple[int, ...]:
        """The shape of array ``key`` of layer l in a step of a batch of B."""
        if key in PER_SAMPLE:
            return (B, self.layers[l])
        if key in WEIGHT_SHAPED:
            return (self.layers[l], self.layers[l - 1])
        return (self.layers[l] if self.s.bias else 0,)

    def convert(self, steps: list[Any]) -> Converted:
        """Every array of every step, field by field and layer by layer: the steps whose array
        should have the same shape in one np.array call, which costs a fraction of a call a step.
        None where a step lacks it or the call fails (a shape that is wrong somewhere): kept_step
        then converts that step's array alone, and says what is wrong with it."""
        by_size: dict[int, list[int]] = {}  # the steps of each batch size whose layers can be read
        for i, step in enumerate(steps):
            layers = step.get("layers")
            if isinstance(layers, list) and len(layers) == self.L and 1 <= step["step"] < 2**53:
                by_size.setdefault(self.batch_size(int(step["step"])), []).append(i)
        readable = sorted(i for members in by_size.values() for i in members)
        out: Converted = {}
        for l in range(1, self.L + 1):
            layer = {i: steps[i]["layers"][l - 1] for i in readable}
            for key in SHAPE_ORDER:
                column: list[Array | None] | None = None
                groups = by_size.items() if key in PER_SAMPLE else [(0, readable)]
                for B, members in groups:
                    try:
                        values = [layer[i][key] for i in members]
                    except KeyError:  # not in every step
                        members = [i for i in members if key in layer[i]]
                        values = [layer[i][key] for i in members]
                    arrays = _stacked(values, self.shape(key, l, B))
                    if arrays is None:
                        continue
                    arrays.flags.writeable = False  # and so every view of it
                    if len(members) == len(steps):
                        column = list(arrays)  # a view a step, made in C
                        continue
                    column = column or [None] * len(steps)
                    for j, i in enumerate(members):
                        column[i] = arrays[j]
                if column is not None:
                    out[l, key] = column
        return out

    def kept_step(
        self,
        step: dict[str, Any],
        path: str,
        i: int,
        last: bool,
        columns: Columns,
    ) -> KeptStep | None:
        """The i-th step of the file (0-based) with its numbering, batch, epoch and shapes checked;
        None after a problem that leaves nothing to check further."""
        low, high, why = self.number(i, last)
        number = int(step["step"])  # an integer, as the schema says: maybe written 3.0
        if not low <= number <= high:
            skipped = (
                " (replay needs every step; was it exported with --every?)"
                if self.whole and number > high
                else ""
            )
            expected = str(high) if low == high else f"{low} to {high}"
            self.problem(f"{path}.step", f"expected {expected} ({why}), got {step['step']}{skipped}")
            return None
        if "layers" in step and len(step["layers"]) != self.L:
            self.problem(
                f"{path}.layers",
                f"expected {self.L} (one per layer after the input), got {len(step['layers'])}",
            )
            return None
        expected_batch, after = self.schedule.next_batch(self.schedule.position_after(number - 1))
        values: dict[str, Any] = {}
        if "batch" in step:
            batch = step["batch"]
            bad = [k for k in batch if not 0 <= k < self.N]
            if bad:
                self.problem(
                    f"{path}.batch", f"sample index {bad[0]} is out of range: the data has {self.N} samples"
                )
                return None
            if list(batch) != expected_batch.tolist():
                self.problem(
                    f"{path}.batch",
                    f"expected {_indices(expected_batch)} ({self._order()}), got {_indices(batch)}",
                )
                return None
            values["batch"] = tuple(map(int, batch))
        epoch = after.epoch - 1 if after.offset == 0 else after.epoch
        if "epoch" in step:
            if step["epoch"] != epoch:
                self.problem(f"{path}.epoch", f"expected {epoch} ({self._order()}), got {step['epoch']}")
            values["epoch"] = epoch
        B = len(expected_batch)
        layers = []
        for l, layer in enumerate(step.get("layers", ()), 1):
            where = f"{path}.layers[{l - 1}]"
            missing = [k for k in LAYER_FIELDS if k not in layer]
            if missing and self.whole:
                self.problem(
                    where, f"no {', '.join(missing)}: replay shows {', '.join(LAYER_FIELDS)} of every layer"
                )
                return None
            arrays = {k: a for k, column in columns[l] if (a := column[i]) is not None}
            if len(arrays) == len(layer):  # every array of the layer converted with the other steps'
                layers.append(MappingProxyType(arrays))
                continue
            n = self.layers[l]
            for k in SHAPE_ORDER:  # the others one by one, each with what is wrong with it
                if k not in layer or k in arrays:
                    continue
                if k in PER_SAMPLE:
                    arrays[k] = self.matrix(layer[k], f"{where}.{k}", B, n, f"the batch of {B} x n_{l}")
                elif k in WEIGHT_SHAPED:
                    arrays[k] = self.weights(layer, where, k, l)
                else:
                    arrays[k] = self.biases(layer, where, k, l)
            layers.append(MappingProxyType({k: arrays[k] for k in SHAPE_ORDER if k in arrays}))
        for key in ("loss", "train_loss", "test_loss", "penalty"):
            if key in step:
                values[key] = _num(step[key])
        if "warnings" in step:
            values["warnings"] = self.warnings(step["warnings"], f"{path}.warnings")
        return KeptStep(number, MappingProxyType(values), tuple(layers))

    def records(
        self, kept: list[KeptStep], W0: tuple[Array, ...], b0: tuple[Array, ...]
    ) -> tuple[StepRecord, ...]:
        """The StepRecord of every step of a whole trace: what it holds, and what follows from it
        (w_before and b_before are the step before's w and b; x and t the rows of its batch; its
        per-sample losses those of its output, computed for all the steps of a batch size at once)."""
        by_size: dict[int, list[int]] = {}
        for i, k in enumerate(kept):
            by_size.setdefault(len(k.values["batch"]), []).append(i)
        xs: list[Array] = [_EMPTY] * len(kept)
        ts: list[Array] = [_EMPTY] * len(kept)
        losses: list[Array] = [_EMPTY] * len(kept)
        for members in by_size.values():
            idx = np.array([kept[i].values["batch"] for i in members], dtype=np.intp)
            x, t = _frozen(self.s.inputs[idx]), _frozen(self.s.targets[idx])
            out = [kept[i].layers[-1] for i in members]
            a, z = np.stack([o["a"] for o in out]), np.stack([o["z"] for o in out])
            n = a.shape[-1]
            with np.errstate(all="ignore"):  # row by row, as the Trainer computes each batch's
                flat = self.network.sample_losses(a.reshape(-1, n), t.reshape(-1, n), z.reshape(-1, n))
            per_step = _frozen(np.asarray(flat, dtype=float).reshape(len(members), -1))
            for j, i in enumerate(members):
                xs[i], ts[i], losses[i] = x[j], t[j], per_step[j]
        names = tuple(a.name for a in self.network.activations)
        summary = self.doc["summary"]["stop_reason"]
        stop_last = summary if summary in SELF_STOPS else None
        records: list[StepRecord] = []
        W, b = W0, b0
        for i, k in enumerate(kept):
            layers = tuple(_layer_record(names[l], W[l], b[l], arrays) for l, arrays in enumerate(k.layers))
            values = k.values
            loss, train_loss = values["loss"], values["train_loss"]
            stop = stop_last if i == len(kept) - 1 else None
            test_loss = values.get("test_loss")
            records.append(
                StepRecord(
                    step=k.step,
                    epoch=values["epoch"],
                    batch=values["batch"],
                    x=xs[i],
                    t=ts[i],
                    sample_losses=losses[i],
                    loss=loss,
                    train_loss=train_loss,
                    learning_rate=self.s.learning_rate,
                    layers=layers,
                    stop_reason=stop,
                    nonfinite=find_nonfinite(layers, loss, train_loss) if stop == "diverged" else None,
                    test_loss=None if test_loss is None or np.isnan(test_loss) else test_loss,
                    warnings=values.get("warnings", ()),
                    penalty=values.get("penalty", 0.0),
                )
            )
            W, b = tuple(lr.w for lr in layers), tuple(lr.b for lr in layers)
        return tuple(records)

    def warnings(self, items: list[dict[str, Any]], path: str) -> tuple[Diagnostic, ...]:
        """The step's diagnostics; a layer or node that the network does not have is a problem."""
        out = []
        for i, w in enumerate(items):
            layer, nodes = w["layer"], tuple(w["nodes"])
            if layer is not None and not 1 <= layer <= self.L:
                self.problem(f"{path}[{i}].layer", f"expected a layer from 1 to {self.L}, got {layer}")
            elif nodes and not all(0 <= k < self.layers[layer or self.L] for k in nodes):
                self.problem(
                    f"{path}[{i}].nodes", f"expected node indices of layer {layer}, got {list(nodes)}"
                )
            out.append(Diagnostic(w["kind"], layer, nodes, w["message"]))
        return tuple(out)

    def _order(self) -> str:
        s = self.s
        order = f"shuffled with seed {s.seed}" if s.shuffle else "in file order"
        return f"batch = {json.dumps(s.batch)}, {order}"


def _with_blowup(records: tuple[StepRecord, ...], initial_loss: float) -> tuple[StepRecord, ...]:
    """The records, the last one saying why it diverged when its numbers are all finite and its
    training-set loss went over the Trainer's limit (records of other runs are left as they are)."""
    last = records[-1] if records else None
    if last is None or not last.diverged or last.nonfinite is not None:
        return records
    blowup = loss_blowup(last.train_loss, initial_loss)
    return records if blowup is None else (*records[:-1], replace(last, blowup=blowup))


def _stacked(values: list[Any], shape: tuple[int, ...]) -> Array | None:
    """``values``, nested lists of numbers (or nulls) each of ``shape`` (rows, cols) or (n,), as
    one array of shape (len(values), *shape); None when one of them has another shape. The
    lengths are checked first, so that the numbers can be read in one C loop (np.fromiter: a
    third faster than np.array, which also finds the shape)."""
    if set(map(len, values)) - {shape[0]}:
        return None
    flat: Iterator[Any] = itertools.chain.from_iterable(values)
    if len(shape) == 2:
        if set(map(len, itertools.chain.from_iterable(values))) - {shape[1]}:
            return None
        flat = itertools.chain.from_iterable(flat)
    try:
        out = np.fromiter(flat, dtype=float, count=len(values) * math.prod(shape))
    except TypeError:  # a null among them: np.array reads it as nan
        out = np.array(values, dtype=float)
    return out.reshape(len(values), *shape)


def _indices(batch: Any) -> str:
    items = [int(k) for k in batch]
    return str(items) if len(items) <= 8 else str(items[:8])[:-1] + f", ... ({len(items)} samples)]"


_STATE_KEYS = ("velocity_w", "velocity_b", "m_w", "v_w", "m_b", "v_b")
_EMPTY = np.zeros(0)


def _layer_record(
    activation: str, w_before: Array, b_before: Array, arrays: Mapping[str, Array]
) -> LayerRecord:
    """The LayerRecord of one layer of a step: the arrays the trace holds, the optimiser's in its state."""
    return LayerRecord(
        activation=activation,
        z=arrays["z"],
        a=arrays["a"],
        delta=arrays["delta"],
        grad_w=arrays["grad_w"],
        grad_b=arrays["grad_b"],
        w_before=w_before,
        b_before=b_before,
        w=arrays["w"],
        b=arrays["b"],
        error=arrays.get("error"),
        update_w=arrays.get("update_w"),
        update_b=arrays.get("update_b"),
        state=MappingProxyType({k: arrays[k] for k in _STATE_KEYS if k in arrays}),
    )


def _frozen(x: Array) -> Array:
    x.flags.writeable = False
    return x
