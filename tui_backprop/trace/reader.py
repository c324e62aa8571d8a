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

The text is parsed by trace/text.py (strict JSON, bounded before it is parsed, a trace as the
writer lays it out a chunk of steps at a time) and checked against the JSON Schema by
trace/schema_check.py (jsonschema-rs). Each chunk of steps is built at once: each array field of each
layer is converted for all the steps of one shape in one call into a column (_Column), of
which a step keeps a row, so that a long trace of a small network costs its numbers and some
700 bytes a step. Recomputing the numbers is trace/verify.py's part (``--check`` and replay call it).
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

from ..common.files import TRACE_LIMIT, Unreadable, read_regular
from ..common.values import describe
from ..common.words import count
from ..engine import BatchSchedule, LayerRecord, StepRecord, get_activation, get_loss
from ..engine.accuracy import classifier_of
from ..engine.diagnostics import Diagnostic
from ..engine.edits import Edit, Timeline, edited_parameters
from ..engine.network import Network
from ..engine.record import find_nonfinite
from ..engine.regularization import Penalty
from ..engine.schedule import schedule_for
from ..engine.trainer import loss_blowup
from ..scenario.reader import Scenario, ScenarioError, parse_scenario
from .edit_json import read_edits
from .schema_check import Check, at
from .text import NotInLines, Parsed, parse, parse_whole
from .writer import FORMAT, VERSION, TraceError

Array = np.ndarray
Arrays = tuple[Array, ...]

MAX_PROBLEMS = 20
# the steps a trace may hold: each one kept costs some 700 bytes besides its numbers (its values,
# its layers' mappings, a row in each array's column), and a whole trace's StepRecord 2 KB more
# for replay; a trace of a 1-1 network, the smallest step, holds 146,000 steps in 50 MB
MAX_STEPS = 200_000
# summary reasons that belong to the last step
SELF_STOPS = ("diverged", "target_loss", "target_accuracy", "max_steps")

# every field of a layer that replay shows
LAYER_FIELDS = ("z", "a", "delta", "grad_w", "grad_b", "w", "b")
_LAYER_FIELDS = frozenset(LAYER_FIELDS)
# the arrays a layer of a step may hold, by shape, in the order their shapes are checked
PER_SAMPLE = ("z", "a", "delta", "error")  # (B, n_l)
WEIGHT_SHAPED = ("w", "grad_w", "update_w", "velocity_w", "m_w", "v_w")  # (n_l, n_{l-1})
BIAS_SHAPED = ("b", "grad_b", "update_b", "velocity_b", "m_b", "v_b")  # (n_l,) or (0,)
SHAPE_ORDER = (*PER_SAMPLE, "w", "b", "grad_w", "grad_b", *WEIGHT_SHAPED[2:], *BIAS_SHAPED[2:])


@dataclass(frozen=True, slots=True)
class KeptStep:
    """One step as the trace holds it: every field written, every number as recorded (null as
    nan). A whole trace keeps every field of every step; one written with --every or --fields
    keeps some steps, or some fields."""

    step: int
    # the step's fields besides "step" and "layers": epoch (int), batch (tuple of int), loss,
    # train_loss, test_loss, train_accuracy, test_accuracy, penalty, learning_rate (float),
    # warnings (tuple of Diagnostic)
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
    edits: tuple[Edit, ...] = ()  # the run's edits, in the order made (trace/edit_json.py)
    # a classifier's accuracies before the first step (engine/accuracy.py); None when it is not
    # one (and for the test set without one)
    initial_train_accuracy: float | None = None
    initial_test_accuracy: float | None = None

    @property
    def steps(self) -> int:
        """The number of steps in the file."""
        return len(self.kept)


# -- reading ---------------------------------------------------------------------------------


def read_trace(path: str | Path, whole: bool = True) -> Recording:
    """A Recording from a trace file; TraceError names every problem and where it is.
    ``whole=False``: a trace written with --every or --fields is read too (see loads_trace)."""
    label = str(path)
    try:
        data = [read_regular(path, TRACE_LIMIT, "trace file")]  # a regular file, within the limit
    except Unreadable as e:
        raise TraceError(label, e.reason) from e.__cause__ or e
    return _read(data, label, whole)  # the bytes handed over: freed once they are text


def loads_trace(data: bytes | str, source: str = "<trace>", whole: bool = True) -> Recording:
    """A Recording from the text of a trace; errors are titled with ``source``. ``whole``: refuse
    a trace that keeps only some steps or fields (replay needs them all), and make the
    StepRecords of its steps; otherwise read such a trace too, checking the shapes of what it
    holds, with its steps in ``kept`` and no ``records`` (what --check verifies)."""
    return _read([data.encode("utf-8") if isinstance(data, str) else data], source, whole)


def _read(box: list[bytes], source: str, whole: bool) -> Recording:
    with _no_cycle_collection():
        parsed, text = parse(box, source)
        try:
            return _Reading(parsed, source, whole).recording()
        except NotInLines:  # steps not a chunk of lines at a time: the whole document says why
            return _Reading(parse_whole(text, source, parsed.strict), source, whole).recording()


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


class _Reading:
    """A trace read in the order its checks come: the format; the number of steps; the JSON
    Schema (every problem of it, anywhere, before any other); a trace of some steps or fields
    where replay needs all; the scenario; then the shapes, numbering and batches of the steps.
    Its steps come a chunk at a time (trace/text.py): each is checked against the schema and,
    while nothing has been found wrong, built at once, its Python objects then dropped. A
    problem of a later kind is held until the schema is known to hold everywhere."""

    def __init__(self, parsed: Parsed, source: str, whole: bool) -> None:
        self.parsed, self.source, self.whole = parsed, source, whole

    def recording(self) -> Recording:
        parsed, source = self.parsed, self.source
        top = parsed.top
        _format(top, source)
        if parsed.total > MAX_STEPS:
            message = f"{parsed.total:,} steps is more than {MAX_STEPS:,}, the most a trace is read back with"
            raise TraceError(source, f"steps: {message} (--every K keeps a long run's trace small)")
        check = Check().top(top, parsed.strict)
        held: TraceError | None = None  # the first problem found after the schema's
        builder: _Builder | None = None
        if not check.problems():
            try:
                if self.whole:
                    _whole(top, source)
                builder = _Builder(top, _scenario(top, source), source, self.whole, parsed.total)
                builder.start()
            except TraceError as e:
                held, builder = e, None
        for start, steps, strict in parsed.chunks():
            if check.full:
                break  # as many problems as are said: the rest is not parsed
            check.steps(steps, start, strict)
            if builder is not None and not check.problems():
                try:
                    builder.steps(steps, start)
                except TraceError as e:
                    held, builder = e, None
            del steps  # its Python objects: what is kept of them is in the builder's arrays
        problems = check.problems()
        if problems:
            raise TraceError(source, problems)
        if held is not None:
            raise held
        assert builder is not None
        return builder.finish()


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
    # the rows are the raw inputs: [data] features makes the network's inputs of them again
    written = tables["data"]
    kept = ("input_names", "output_names", "features")
    names = {k: written[k] for k in kept if written.get(k)}
    origin = tuple((k, v) for k, v in written.items() if k not in kept)
    tables["data"] = {**names, "inputs": doc["data"]["inputs"], "targets": doc["data"]["targets"]}
    init = tables["init"]
    if init.get("biases") == [] and not tables["network"].get("bias", True):
        del init["biases"]
    try:
        scenario = parse_scenario(tables, source)
    except ScenarioError as e:
        raise TraceError(source, [trace_place(p) for p in e.problems]) from e
    if "test_fraction" in written:
        scenario = replace(scenario, test_fraction=float(written["test_fraction"]))
    if origin:
        scenario = replace(
            scenario, data_source=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in origin)
        )
    return scenario


def trace_place(problem: str) -> str:
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

    def __init__(self, top: dict[str, Any], scenario: Scenario, source: str, whole: bool, total: int) -> None:
        self.doc, self.s, self.source = top, scenario, source  # the trace without its steps
        self.total = total  # the steps in the file, which come a chunk at a time (steps())
        self.problems: list[str] = []
        self.kept: list[KeptStep] = []
        self.columns: dict[int, dict[str, _Column]] = {}  # layer l: each array of it, for every step
        self.names: dict[tuple[str, ...], tuple[str, ...]] = {}  # a layer's fields: in SHAPE_ORDER
        self.loose: set[tuple[int, int]] = set()  # (step, layer) with an array converted alone
        self.batches: dict[tuple[int, int], tuple[int, ...]] = {}  # (epoch, offset): the batch
        self.layers = scenario.layers
        self.L = len(self.layers) - 1
        self.N = len(scenario.inputs)
        self.network = Network(
            tuple(get_activation(a) for a in scenario.activations), get_loss(scenario.loss), scenario.bias
        )
        self.schedule = BatchSchedule(self.N, scenario.batch, scenario.shuffle, scenario.seed)
        self.per_epoch = -(-self.N // self.schedule.size)  # batches an epoch
        self.every: int = top.get("every", 1)
        self.fields: tuple[str, ...] | None = tuple(top["fields"]) if "fields" in top else None
        self.whole = self.every == 1 and self.fields is None  # every step and every field
        self.replayed = whole and self.whole  # then every step also becomes a StepRecord, for replay

    def problem(self, path: str | _StepPath, message: str) -> None:
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

    def weights(self, obj: Any, path: str | _StepPath, key: str | int, l: int) -> Array:
        """obj[key], the (n_l, n_{l-1}) weights of layer l (or an array shaped like them)."""
        n, m = self.layers[l], self.layers[l - 1]
        return self.matrix(obj[key], at(str(path), key), n, m, f"n_{l} x n_{l - 1}")

    def biases(self, obj: Any, path: str | _StepPath, key: str | int, l: int) -> Array:
        """obj[key], the (n_l,) biases of layer l; (0,) for a network without biases."""
        n = self.layers[l] if self.s.bias else 0
        names = f"n_{l}" if self.s.bias else "none: the network has no biases"
        return self.vector(obj[key], at(str(path), key), n, names)

    def start(self) -> None:
        """The initial weights and biases, checked against the layers."""
        initial = self.doc["initial"]
        for key in ("w", "b"):
            if len(initial[key]) != self.L:
                self.problem(
                    f"initial.{key}",
                    f"expected {self.L} (one per layer after the input), got {len(initial[key])}",
                )
        if self.problems:
            raise TraceError(self.source, self.problems)
        self.W0 = tuple(self.weights(initial["w"], "initial.w", l - 1, l) for l in range(1, self.L + 1))
        self.b0 = tuple(self.biases(initial["b"], "initial.b", l - 1, l) for l in range(1, self.L + 1))
        self.start_edits()

    def start_edits(self) -> None:
        """The run's edits, checked; with them, each step's data and order come from a Timeline."""
        s = self.s
        last = self.total * self.every  # the last step the file can hold (verify says more)
        edits, problems = read_edits(self.doc.get("edits", ()), last, self.W0, self.b0, s)
        for p in problems:
            self.problem(p.split(": ", 1)[0], p.split(": ", 1)[1])
        self.edits = edits
        self.timeline = Timeline(s.inputs, s.targets, s.learning_rate, s.batch, s.shuffle, s.seed, edits)
        self.timed = any(e.what not in ("weight", "bias") for e in edits)  # data or rate changes

    def steps(self, steps: list[Any], start: int) -> None:
        """Steps ``start``, ``start + 1``, ... of the file: converted, checked and kept."""
        self.convert(steps, start)
        last = self.total - 1
        for i, step in enumerate(steps, start):
            k = self.kept_step(step, i, i == last)
            if k is not None:
                self.kept.append(k)

    def finish(self) -> Recording:
        """The Recording, once every step is in: the summary checked, what follows from it made."""
        doc, s = self.doc, self.s
        W0, b0 = self.W0, self.b0
        summary = doc["summary"]
        if summary["steps"] != self.total:
            self.problem(
                "summary.steps", f"expected {self.total} (the steps in the file), got {summary['steps']}"
            )
        if self.problems:
            raise TraceError(self.source, self.problems)
        penalty = Penalty(s.l1, s.l2)(W0) if Penalty(s.l1, s.l2) else 0.0  # in both losses, as trained
        test_loss = test_y = None
        if "test_data" in doc:
            test = doc["test_data"]
            features = s.features  # the test rows are raw inputs too, the network's are their features
            n_raw, names = (self.layers[0], "n_0") if features is None else (features.n_raw, "raw inputs")
            X_test = self.matrix(test["inputs"], "test_data.inputs", len(test["inputs"]), n_raw, names)
            T_test = self.matrix(
                test["targets"], "test_data.targets", len(test["inputs"]), self.layers[-1], "n_L"
            )
            if not (np.isfinite(X_test).all() and np.isfinite(T_test).all()):
                self.problem("test_data", "expected finite numbers, got null")
            if self.problems:
                raise TraceError(self.source, self.problems)
            if features is not None:
                X_raw, X_test = X_test, _frozen(features(X_test))
                s = replace(s, raw_test_inputs=X_raw)
                if not np.isfinite(X_test).all():
                    raise TraceError(
                        self.source, "test_data.inputs: a feature of a row is not a finite number"
                    )
            s = self.s = replace(s, test_inputs=X_test, test_targets=T_test)
            with np.errstate(all="ignore"):
                zs, acts = self.network.forward(W0, b0, X_test)
                sample_losses = self.network.sample_losses(acts[-1], T_test, zs[-1])
                test_loss = float(np.add.reduce(sample_losses) / sample_losses.size) + penalty
                test_y = acts[-1]
        with np.errstate(all="ignore"):
            zs, acts = self.network.forward(W0, b0, s.inputs)
            sample_losses = self.network.sample_losses(acts[-1], s.targets, zs[-1])
            initial_loss = (
                float(np.add.reduce(sample_losses) / sample_losses.size) + penalty
            )  # as the Trainer sums
        train_accuracy, test_accuracy = _initial_accuracies(s, acts[-1], test_y)
        return Recording(
            source=self.source,
            scenario=s,
            initial_W=W0,
            initial_b=b0,
            initial_train_loss=initial_loss,
            initial_test_loss=test_loss,
            records=_with_blowup(self.records(self.kept, W0, b0), initial_loss) if self.replayed else (),
            stop_reason=summary["stop_reason"],
            final_loss=_num(summary["final_loss"]),
            kept=tuple(self.kept),
            every=self.every,
            fields=self.fields,
            edits=self.edits,
            initial_train_accuracy=train_accuracy,
            initial_test_accuracy=test_accuracy,
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
        if self.timed:
            return len(self.timeline.batch(number)[1])
        offset = (number - 1) % self.per_epoch * self.schedule.size
        return min(self.schedule.size, self.N - offset)

    def batch(self, number: int) -> tuple[int, tuple[int, ...]]:
        """The epoch of step ``number`` and the sample indices of its batch, as the Trainer's
        schedule draws them (the same batches again in each epoch without shuffling: kept)."""
        if self.timed:
            epoch, indices, _ = self.timeline.batch(number)
            return epoch, tuple(indices.tolist())
        epoch, k = divmod(number - 1, self.per_epoch)  # as schedule.position_after counts
        key = (epoch if self.s.shuffle else 0, k)
        batch = self.batches.get(key)
        if batch is None:
            indices, _ = self.schedule.next_batch(self.schedule.position_after(number - 1))
            batch = tuple(indices.tolist())
            if len(self.batches) < 100_000:
                self.batches[key] = batch
        return epoch + 1, batch

    def shape(self, key: str, l: int, B: int) -> tuple[int, ...]:
        """The shape of array ``key`` of layer l in a step of a batch of B."""
        if key in PER_SAMPLE:
            return (B, self.layers[l])
        if key in WEIGHT_SHAPED:
            return (self.layers[l], self.layers[l - 1])
        return (self.layers[l] if self.s.bias else 0,)

    def column(self, l: int, key: str) -> _Column:
        columns = self.columns.setdefault(l, {})
        if key not in columns:
            columns[key] = _Column(self.total)
        return columns[key]

    def convert(self, steps: list[Any], start: int) -> None:
        """Every array of steps ``start``, ... into its column, field by field and layer by layer:
        the arrays that should have the same shape in one conversion, which costs a fraction of a
        call a step. A step that lacks an array, or one of a conversion that fails (a shape wrong
        somewhere), is left out: kept_step converts it alone, and says what is wrong with it."""
        by_size: dict[int, list[int]] = {}  # the steps of each batch size whose layers can be read
        for j, step in enumerate(steps):
            layers = step.get("layers")
            if isinstance(layers, list) and len(layers) == self.L and 1 <= step["step"] < 2**53:
                by_size.setdefault(self.batch_size(int(step["step"])), []).append(j)
        readable = sorted(j for members in by_size.values() for j in members)
        for l in range(1, self.L + 1):
            layer = {j: steps[j]["layers"][l - 1] for j in readable}
            present = set().union(*(d.keys() for d in layer.values()))
            for key in SHAPE_ORDER:
                if key not in present:
                    continue
                groups = by_size.items() if key in PER_SAMPLE else [(0, readable)]
                for B, members in groups:
                    try:
                        values = [layer[j][key] for j in members]
                    except KeyError:  # not in every step
                        members = [j for j in members if key in layer[j]]
                        values = [layer[j][key] for j in members]
                    arrays = _stacked(values, self.shape(key, l, B)) if members else None
                    if arrays is not None:
                        arrays.flags.writeable = False  # and so every row taken of it
                        self.column(l, key).stacked(arrays, [start + j for j in members])
                    else:
                        self.loose.update((start + j, l) for j in members)

    def kept_step(self, step: dict[str, Any], i: int, last: bool) -> KeptStep | None:
        """The i-th step of the file (0-based) with its numbering, batch, epoch and shapes checked;
        None after a problem that leaves nothing to check further."""
        path = _StepPath(i)  # steps[i], made into text only for a message
        number = self.step_number(step, i, last, path)
        if number is None:
            return None
        if "layers" in step and len(step["layers"]) != self.L:
            self.problem(
                f"{path}.layers",
                f"expected {self.L} (one per layer after the input), got {len(step['layers'])}",
            )
            return None
        values: dict[str, Any] = {}
        B = self.step_batch(step, number, path, values)
        if B is None:
            return None
        layers = []
        for l, layer in enumerate(step.get("layers", ()), 1):
            arrays = self.layer_arrays(layer, i, l, B)
            if arrays is None:
                return None
            layers.append(arrays)
        for key in (
            "loss",
            "train_loss",
            "test_loss",
            "train_accuracy",
            "test_accuracy",
            "penalty",
            "learning_rate",
        ):
            if key in step:
                values[key] = _num(step[key])
        if "warnings" in step:
            values["warnings"] = self.warnings(step["warnings"], f"{path}.warnings")
        return KeptStep(number, MappingProxyType(values), tuple(layers))

    def step_number(self, step: dict[str, Any], i: int, last: bool, path: _StepPath) -> int | None:
        """The number of the i-th step, checked against ``every`` (None: a problem)."""
        number = int(step["step"])  # an integer, as the schema says: maybe written 3.0
        low, high, why = (i + 1, i + 1, "") if self.every == 1 else self.number(i, last)
        if low <= number <= high:
            return number
        why = why or self.number(i, last)[2]
        skipped = (
            " (replay needs every step; was it exported with --every?)"
            if self.whole and number > high
            else ""
        )
        allowed = str(high) if low == high else f"{low} to {high}"
        self.problem(f"{path}.step", f"expected {allowed} ({why}), got {step['step']}{skipped}")
        return None

    def step_batch(
        self, step: dict[str, Any], number: int, path: _StepPath, values: dict[str, Any]
    ) -> int | None:
        """The batch and epoch of step ``number`` checked against the schedule and put in
        ``values`` where the file has them; the batch size (None: the batch is wrong)."""
        epoch, expected = self.batch(number)
        if "batch" in step:
            batch = step["batch"]
            if batch != list(expected):  # (equal lists are the fast path: 3.0 == 3 as in JSON)
                bad = [k for k in batch if not 0 <= k < self.N]
                if bad:
                    message = f"sample index {bad[0]} is out of range: the data has {count(self.N, 'sample')}"
                    self.problem(f"{path}.batch", message)
                    return None
                self.problem(
                    f"{path}.batch", f"expected {_indices(expected)} ({self._order()}), got {_indices(batch)}"
                )
                return None
            values["batch"] = expected
        if "epoch" in step:
            if step["epoch"] != epoch:
                self.problem(f"{path}.epoch", f"expected {epoch} ({self._order()}), got {step['epoch']}")
            values["epoch"] = epoch
        return len(expected)

    def layer_arrays(self, layer: dict[str, Any], i: int, l: int, B: int) -> _LayerArrays | None:
        """Layer l of the i-th step (a batch of B): its arrays from the columns, and each one
        that could not be converted with the other steps' converted alone, with what is wrong
        with it (None: a field replay needs is missing)."""
        where = _StepPath(i, l - 1)
        if self.whole and not layer.keys() >= _LAYER_FIELDS:
            missing = [k for k in LAYER_FIELDS if k not in layer]
            self.problem(
                where, f"no {', '.join(missing)}: replay shows {', '.join(LAYER_FIELDS)} of every layer"
            )
            return None
        names = self.names.get(order := tuple(layer))  # in the order of the file
        if names is None:
            names = self.names[order] = tuple(k for k in SHAPE_ORDER if k in layer)
        columns = self.columns.get(l, {})
        for k in names if (i, l) in self.loose else ():  # not converted with the other steps':
            if k in columns and columns[k].has(i):  # each alone, with what is wrong with it
                continue
            if k in PER_SAMPLE:
                n = self.layers[l]
                array = self.matrix(layer[k], f"{where}.{k}", B, n, f"the batch of {B} x n_{l}")
            elif k in WEIGHT_SHAPED:
                array = self.weights(layer, where, k, l)
            else:
                array = self.biases(layer, where, k, l)
            self.column(l, k).own(i, array)
            columns = self.columns[l]
        return _LayerArrays(columns, i, names)

    def records(
        self, kept: list[KeptStep], W0: tuple[Array, ...], b0: tuple[Array, ...]
    ) -> tuple[StepRecord, ...]:
        """The StepRecord of every step of a whole trace: what it holds, and what follows from it
        (w_before and b_before are the step before's w and b; x and t the rows of its batch; its
        per-sample losses those of its output, computed for all the steps of a batch size at once)."""
        # the steps of one batch size over the same data (one era of edits: engine/edits.py)
        by_size: dict[tuple[int, int], list[int]] = {}
        eras = [self.timeline.at(k.step)[0] for k in kept] if self.timed else []
        era_number: dict[int, int] = {}
        for i, k in enumerate(kept):
            era = era_number.setdefault(id(eras[i]), len(era_number)) if eras else 0
            by_size.setdefault((era, len(k.values["batch"])), []).append(i)
        xs: list[Array] = [_EMPTY] * len(kept)
        ts: list[Array] = [_EMPTY] * len(kept)
        losses: list[Array] = [_EMPTY] * len(kept)
        for members in by_size.values():
            idx = np.array([kept[i].values["batch"] for i in members], dtype=np.intp)
            X, T = (eras[members[0]].X, eras[members[0]].T) if eras else (self.s.inputs, self.s.targets)
            x, t = _frozen(X[idx]), _frozen(T[idx])
            out = [kept[i].layers[-1] for i in members]
            a, z = np.stack([o["a"] for o in out]), np.stack([o["z"] for o in out])
            n = a.shape[-1]
            with np.errstate(all="ignore"):  # row by row, as the Trainer computes each batch's
                flat = self.network.sample_losses(a.reshape(-1, n), t.reshape(-1, n), z.reshape(-1, n))
            per_step = _frozen(np.asarray(flat, dtype=float).reshape(len(members), -1))
            for j, i in enumerate(members):
                xs[i], ts[i], losses[i] = x[j], t[j], per_step[j]
        names = tuple(a.name for a in self.network.activations)
        # e beside delta in gradient mode (traces since it was added): checked, then left out, as
        # in a trace without it; a record's error is what its step trained with, and replay works
        # e out from the step where it shows it
        split = self.s.error_split == "proportional"
        summary = self.doc["summary"]["stop_reason"]
        stop_last = summary if summary in SELF_STOPS else None
        records: list[StepRecord] = []
        W, b = self.edited(W0, b0, 0)
        rates = schedule_for(self.s)  # each step's rate when the trace does not say it
        for i, k in enumerate(kept):
            layers = tuple(
                _layer_record(names[l], W[l], b[l], arrays, split) for l, arrays in enumerate(k.layers)
            )
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
                    learning_rate=values.get(
                        "learning_rate",
                        rates.rate(eras[i].learning_rate if eras else self.s.learning_rate, k.step - 1),
                    ),
                    layers=layers,
                    stop_reason=stop,
                    nonfinite=find_nonfinite(layers, loss, train_loss) if stop == "diverged" else None,
                    test_loss=None if test_loss is None or np.isnan(test_loss) else test_loss,
                    warnings=values.get("warnings", ()),
                    penalty=values.get("penalty", 0.0),
                    evaluated=_evaluated(self.s, k.step),
                    train_accuracy=values.get("train_accuracy"),
                    test_accuracy=values.get("test_accuracy"),
                )
            )
            W, b = self.edited(tuple(lr.w for lr in layers), tuple(lr.b for lr in layers), k.step)
        return tuple(records)

    def edited(self, W: Arrays, b: Arrays, step: int) -> tuple[Arrays, Arrays]:
        """W and b with the weight and bias edits made after step ``step``: the next step's w_before."""
        for e in self.timeline.parameter_edits(step):
            W, b = edited_parameters(e, W, b)
        return W, b

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


class _StepPath:
    """``steps[i]`` or ``steps[i].layers[l]``, a place as messages name it, made into text only
    when a message needs it (most steps need none)."""

    __slots__ = ("i", "l")

    def __init__(self, i: int, l: int | None = None) -> None:
        self.i, self.l = i, l

    def __str__(self) -> str:
        return f"steps[{self.i}]" if self.l is None else f"steps[{self.i}].layers[{self.l}]"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class _Column:
    """One array of one layer (its z, say) for every step of a trace: each step's as a row of an
    array stacked for the steps of one shape, which one conversion made, or as an array of its
    own. A row becomes an array (a read-only view) only when it is asked for: a step kept costs
    16 bytes a field here, where an array of its own costs 112 more."""

    __slots__ = ("arrays", "rows")

    def __init__(self, steps: int) -> None:
        self.arrays: list[Array | None] = [None] * steps
        self.rows = np.full(steps, -1, dtype=np.intp)  # -1: the step's array is its own

    def stacked(self, arrays: Array, steps: list[int]) -> None:
        """Steps ``steps`` (ascending) are the rows of ``arrays``, in turn."""
        if steps and steps[-1] - steps[0] == len(steps) - 1:  # consecutive: a slice
            self.arrays[steps[0] : steps[-1] + 1] = [arrays] * len(steps)
            self.rows[steps[0] : steps[-1] + 1] = np.arange(len(steps))
            return
        for row, i in enumerate(steps):
            self.arrays[i] = arrays
            self.rows[i] = row

    def own(self, i: int, array: Array) -> None:
        self.arrays[i] = array
        self.rows[i] = -1

    def has(self, i: int) -> bool:
        return self.arrays[i] is not None

    def __getitem__(self, i: int) -> Array:
        array, row = self.arrays[i], self.rows[i]
        assert array is not None
        return array if row < 0 else array[row]


class _LayerArrays(Mapping[str, Array]):
    """The arrays one layer of one step holds, by field name in the order the shapes are checked:
    made from their columns as they are asked for."""

    __slots__ = ("_columns", "_i", "_names")

    def __init__(self, columns: dict[str, _Column], i: int, names: tuple[str, ...]) -> None:
        self._columns, self._i, self._names = columns, i, names

    def __getitem__(self, name: str) -> Array:
        if name not in self._names:
            raise KeyError(name)
        return self._columns[name][self._i]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


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
    activation: str, w_before: Array, b_before: Array, arrays: Mapping[str, Array], split: bool = True
) -> LayerRecord:
    """The LayerRecord of one layer of a step: the arrays the trace holds, the optimiser's in its
    state; ``split``: the run trained with the proportional split, so its error is the record's
    (a gradient run's e is the split beside delta, left out of the record)."""
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
        error=arrays.get("error") if split else None,
        update_w=arrays.get("update_w"),
        update_b=arrays.get("update_b"),
        state=MappingProxyType({k: arrays[k] for k in _STATE_KEYS if k in arrays}),
    )


def _frozen(x: Array) -> Array:
    x.flags.writeable = False
    return x


def _evaluated(s: Scenario, step: int) -> bool:
    """Whether step ``step`` of a run of ``s`` computed the training- and test-set losses
    ([training] evaluate_every = K: every K-th step and the last one max_steps allows); a step
    that did not has null for them in the trace."""
    K = s.evaluate_every
    return K == 1 or step % K == 0 or step >= s.max_steps


def _initial_accuracies(s: Scenario, y: Array, test_y: Array | None) -> tuple[float | None, float | None]:
    """A classifier's training- and test-set accuracy before the first step, from the outputs
    y (N, n_L) and test_y (N_test, n_L) of the initial weights; None when not a classifier."""
    classifier = classifier_of(s.activations[-1], s.loss, s.targets, s.test_targets)
    if classifier is None:
        return None, None
    train = classifier.accuracy(y, classifier.labels(s.targets))
    if test_y is None or s.test_targets is None:
        return train, None
    return train, classifier.accuracy(test_y, classifier.labels(s.test_targets))
