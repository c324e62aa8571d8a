"""Verifying a trace: every number it records, recomputed by the engine and compared.

    recording = read_trace("run.json", whole=False)
    verify(recording)      # TraceError: "step 3, layer 1, w[0, 0]: recorded 123.456, recomputed 0.4127"

What is recomputed, and from what:

- the data, when the scenario generated it ([data] generator and its keys: the same seed
  draws the same points, split and standardised the same way); inline data is the
  scenario's own, and a CSV file is not part of the trace, so both are taken as recorded;
- the initial weights and biases, from [init] (the same seed draws the same weights;
  explicit ones are equal);
- every recorded step, from the scenario and the state the step before it recorded: its
  weights, biases and optimiser arrays (momentum's velocity, Adam's m and v; the step
  number gives Adam's count and the position in the sample order). Every field the step
  holds is compared: loss, train_loss, test_loss, a classifier's train_accuracy and
  test_accuracy (counted again from the recomputed outputs; traces written before they were
  added have none), penalty, warnings, and each layer's z, a,
  delta, grad_w, grad_b, w, b, error (the proportional split's e, beside delta in gradient
  mode, where traces written before it have none), update_w, update_b and optimiser arrays
  (epoch and batch are checked by the reader). A state that disagrees is replaced by the recomputed
  one before the next step, so that a wrong number is reported at the step where it
  appears, once, and does not cascade;
- steps a trace skips (--every) by running on from the last step's state; a state a trace
  leaves out (--fields) is the recomputed one;
- the edits ("edits", trace/edit_json.py), each made at its step as the run made it: its
  ``old`` is compared with the value the recomputed state holds there (a disagreement is
  reported, and the edit made from the state's value, so that it does not cascade);
- the summary: final_loss is the training-set loss after the last step (and the edits made
  after it), and stop_reason is the run's own (a run that says target_loss or target_accuracy
  reached it), or steps or user.

Two numbers agree when |recorded - recomputed| <= RTOL |recorded| + ATOL s, s being the
largest finite magnitude of the recomputed array (1 when that is below 1): a relative
tolerance that holds across machines, whose numpy kernels differ in the last bits, with a
floor for values near 0. null (a non-finite number) agrees only with a non-finite one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..engine import Trainer
from ..engine.batching import batch_size
from ..engine.edits import Edit, Point
from ..engine.network import initial_parameters
from ..engine.trainer import divergence_limit
from ..scenario.reader import ScenarioError, parse_scenario
from .reader import KeptStep, Recording, trace_place
from .writer import LAYER_FIELDS, TraceError, layer_arrays, scheduled, split_errors

Array = np.ndarray

RTOL = 1e-9  # relative to the recorded value
ATOL = 1e-12  # times the largest magnitude in the recomputed array (at least 1): values near 0
MAX_DISAGREEMENTS = 10  # listed before stopping; the first is the one that matters
# What recomputing a trace costs on the machine of the benchmarks (2 cores, idle), from
# benchmarks/verify.py and benchmarks/engine.py: a step recomputed and compared (the Trainer's
# recorded step and the comparison, on a small network), a step --every skipped (run without a
# record), and the multiply-adds of the passes (784-256-10: 5 ms for 2.2e8). --check refuses,
# before any work, a trace whose estimate is over MAX_SECONDS: with reading it, any file under
# 50 MB is answered within 10 s (--no-verify is the way).
SECONDS_A_STEP_COMPARED = 100e-6
SECONDS_A_STEP_RUN = 40e-6
MULTIPLY_ADDS_A_SECOND = 4e10
MAX_SECONDS = 6.0
# a step's own numbers, in the order written (learning_rate: a run with a schedule)
SCALARS = ("loss", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "penalty", "learning_rate")


def verify(recording: Recording) -> None:
    """Recompute every number ``recording`` holds; TraceError lists the first disagreements (up
    to MAX_DISAGREEMENTS), each naming its step, layer, field and index."""
    _Verifier(recording).run()


def cost(steps: int, compared: int, work: float) -> float:
    """Seconds that recomputing ``steps`` steps, ``compared`` of them against a record, and
    ``work`` multiply-adds take on the benchmarks' machine when idle (about)."""
    return (
        compared * SECONDS_A_STEP_COMPARED
        + (steps - compared) * SECONDS_A_STEP_RUN
        + work / MULTIPLY_ADDS_A_SECOND
    )


def agree(recorded: Array, recomputed: Array) -> Array:
    """Element by element, whether two arrays of the same shape agree (see the module's docstring)."""
    r = np.asarray(recorded, dtype=float)
    c = np.asarray(recomputed, dtype=float)
    fr, fc = np.isfinite(r), np.isfinite(c)
    scale = max(1.0, float(np.max(np.abs(c), initial=0.0, where=fc)))
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(r - c) <= RTOL * np.abs(r) + ATOL * scale
    return np.where(fr & fc, close, fr == fc)


class _Stop(Exception):
    """Enough disagreements listed."""


class _Verifier:
    def __init__(self, recording: Recording) -> None:
        self.rec = recording
        self.s = recording.scenario
        self.problems: list[str] = []
        self.fields = None if recording.fields is None else frozenset(recording.fields)
        self.layer_fields = self.fields is None or not self.fields.isdisjoint(LAYER_FIELDS)
        self.identical = False  # whether the last compare() found every number equal to the bit
        self.made = 0  # how many of the recording's edits the trainer has made

    def problem(self, message: str) -> None:
        self.problems.append(message)
        if len(self.problems) >= MAX_DISAGREEMENTS:
            raise _Stop

    def run(self) -> None:
        self.check_cost()
        try:
            self.check_data()
            self.trainer = self.make_trainer(*self.check_initial())
            for kept in self.rec.kept:
                if not self.reach(kept):
                    break
                self.check_step(kept)
            else:
                if self.edit_until(self.trainer.step_count):
                    self.check_summary()
        except _Stop:
            self.problems.append(f"... (stopped after {MAX_DISAGREEMENTS} disagreements)")
        if self.problems:
            raise TraceError(self.rec.source, self.problems)

    # -- what the trace holds besides its steps --------------------------------------------

    def check_cost(self) -> None:
        """Refuse, before any work, a trace whose recomputation would take too long."""
        s = self.s
        steps = self.rec.kept[-1].step if self.rec.kept else 0
        N, N_test = len(s.inputs), 0 if s.test_inputs is None else len(s.test_inputs)
        B = batch_size(s.batch, N)
        weights = sum(n * m for n, m in zip(s.layers[1:], s.layers[:-1], strict=True))
        work = steps * (B + N + N_test) * weights  # the batch, the training and the test set's passes
        seconds = cost(steps, len(self.rec.kept), work)
        if seconds > MAX_SECONDS:
            raise TraceError(
                self.rec.source,
                f"steps: verifying this trace means recomputing {steps:,} steps ({work:.2g} "
                f"multiply-adds), about {seconds:,.0f} s on an idle machine, more than --check takes "
                f"({MAX_SECONDS:.0f} s); --no-verify skips the recomputation",
            )

    def check_data(self) -> None:
        """Generated data drawn again from its keys, against the rows recorded. Where they
        disagree, the steps are recomputed on the data drawn (with as many rows)."""
        s = self.s
        source = dict(s.data_source)
        if "generator" not in source:
            return
        rows = len(s.inputs) + (0 if s.test_inputs is None else len(s.test_inputs))
        if source.get("samples") != rows:  # before drawing them: a forged count could be huge
            self.problem(f"scenario.data.samples: says {source.get('samples')}, the trace holds {rows} rows")
            return
        tables = s.to_dict()
        for key in ("input_names", "output_names"):  # none: written as [], which would say 0 names
            if not tables["data"][key]:
                del tables["data"][key]
        if not s.bias:
            tables["init"].pop("biases", None)  # written as [] for an explicit init
        try:
            fresh = parse_scenario(tables, self.rec.source)
        except ScenarioError as e:
            for p in e.problems:
                self.problem(trace_place(p))
            return
        note = f' (generator "{source["generator"]}", seed {source.get("seed", 0)})'
        pairs: list[tuple[str, str, Array | None, Array | None]] = [
            ("data", "inputs", s.inputs, fresh.inputs),
            ("data", "targets", s.targets, fresh.targets),
        ]
        if s.test_inputs is not None or fresh.test_inputs is not None:
            pairs += [
                ("test_data", "inputs", s.test_inputs, fresh.test_inputs),
                ("test_data", "targets", s.test_targets, fresh.test_targets),
            ]
        redrawn = True
        for place, name, recorded, recomputed in pairs:
            r_rows = 0 if recorded is None else len(recorded)
            c_rows = 0 if recomputed is None else len(recomputed)
            if r_rows != c_rows:
                self.problem(f"{place}, {name}: recorded {r_rows} rows, recomputed {c_rows}{note}")
                return  # the recorded batches number other rows: the steps go on the recorded ones
            if recorded is not None and recomputed is not None:
                redrawn &= self.compare([(place, name, recorded, recomputed, note)])[0]
        if not redrawn:
            self.s = replace(
                s,
                inputs=fresh.inputs,
                raw_inputs=fresh.raw_inputs,
                targets=fresh.targets,
                test_inputs=fresh.test_inputs,
                raw_test_inputs=fresh.raw_test_inputs,
                test_targets=fresh.test_targets,
            )

    def check_initial(self) -> tuple[list[Array], list[Array]]:
        """The initial weights and biases against those [init] makes; the ones to start from:
        the recorded ones, or [init]'s where they disagree."""
        s = self.s
        with np.errstate(all="ignore"):
            W0, b0 = initial_parameters(s.layers, s.bias, s.init)
        init = s.init
        note = (
            f" ([init] {init.method}, seed {init.seed})"
            if init.method != "explicit"
            else " ([init] explicit)"
        )
        items = []
        for l in range(len(W0)):
            place = f"initial, layer {l + 1}"
            items += [
                (place, "w", self.rec.initial_W[l], W0[l], note),
                (place, "b", self.rec.initial_b[l], b0[l], note),
            ]
        flags = self.compare(items)  # w and b of layer 1, then of layer 2, ...
        W = [r if ok else w for r, w, ok in zip(self.rec.initial_W, W0, flags[0::2], strict=True)]
        b = [r if ok else v for r, v, ok in zip(self.rec.initial_b, b0, flags[1::2], strict=True)]
        return W, b

    def make_trainer(self, W: list[Array], b: list[Array]) -> Trainer:
        """A trainer of the recorded scenario that starts from weights W and biases b."""
        s = self.s
        init = replace(s.init, method="explicit", weights=tuple(W), biases=tuple(b) if s.bias else None)
        return Trainer(replace(s, init=init), history=1)

    # -- the steps ------------------------------------------------------------------------

    def reach(self, kept: KeptStep) -> bool:
        """Run on to the step before ``kept`` (the steps --every skipped); False when the run
        stops by itself before it."""
        t = self.trainer
        if not self.edit_until(kept.step - 1):
            return False
        if t.step_count < kept.step - 1 and not t.done:
            t.run(kept.step - 1 - t.step_count, record=False)
        if t.done:
            self.problem(
                f"step {kept.step}: recorded, but the run stops by itself at step {t.step_count} "
                f"({t.stop_reason}): no step follows it"
            )
            return False
        return True

    def edit_until(self, step: int) -> bool:
        """Run on making the recording's edits up to those after step ``step``; False when the
        run stopped by itself before one of them (a problem)."""
        t, edits = self.trainer, self.rec.edits
        while self.made < len(edits) and edits[self.made].step <= step:
            e = edits[self.made]
            if t.step_count < e.step and not t.done:
                t.run(e.step - t.step_count, record=False)
            if t.done:
                self.problem(
                    f"edits[{self.made}]: made after step {e.step}, but the run stops by itself at step "
                    f"{t.step_count} ({t.stop_reason})"
                )
                return False
            self.check_edit(self.made, e)
            self.made += 1
        return True

    def check_edit(self, i: int, e: Edit) -> None:
        """Edit ``e`` (the i-th) compared with the state it was made in, then made."""
        t = self.trainer
        now = t.value_at(e.what, e.layer, e.index)
        where = f"edits[{i}] ({e.place()} after step {e.step})"
        if isinstance(now, Point) and isinstance(e.old, Point):
            self.compare(
                [
                    (where, "old.inputs", np.array(e.old.inputs), np.array(now.inputs), ""),
                    (where, "old.targets", np.array(e.old.targets), np.array(now.targets), ""),
                ]
            )
        elif isinstance(now, float) and isinstance(e.old, float):
            self.compare([(where, "old", e.old, now, "")])
        try:
            t.apply_edit(replace(e, old=now))
        except ValueError as error:  # a place or value the recomputed run does not allow
            self.problem(f"{where}: {error}")

    def check_step(self, kept: KeptStep) -> None:
        """Recompute step ``kept.step`` from the trainer's state, compare what the trace holds,
        then leave the trainer in the recorded state (the recomputed one where they disagree)."""
        t = self.trainer
        rec = t.step()
        place = f"step {kept.step}"
        items: list[Any] = []
        computed = {"loss": rec.loss, "train_loss": rec.train_loss}
        if rec.test_loss is not None:
            computed["test_loss"] = rec.test_loss
        for name in ("train_accuracy", "test_accuracy"):  # a classifier's (engine/accuracy.py),
            if getattr(rec, name) is not None and name in kept.values:  # which older traces lack
                computed[name] = getattr(rec, name)
        if t.penalty:
            computed["penalty"] = rec.penalty
        if scheduled(self.s):
            computed["learning_rate"] = rec.learning_rate
        for name in SCALARS:
            if self.present(items, place, name, name in kept.values, name in computed):
                items.append((place, name, kept.values[name], computed[name], ""))
        if self.layer_fields and not kept.layers:
            items.append(f"{place}: no layers (the trace's fields list some of theirs)")
        wants_e = kept.layers and (self.fields is None or "error" in self.fields)
        errors = split_errors(rec) if wants_e else [None] * len(rec.layers)
        for l, layer in enumerate(kept.layers):
            where = f"{place}, layer {l + 1}"
            arrays = layer_arrays(rec.layers[l], errors[l])
            if "error" not in layer and rec.layers[l].error is None:
                arrays.pop("error", None)  # e beside delta: traces written before it was added lack it
            for name in [*arrays, *(k for k in layer if k not in arrays)]:
                if self.present(items, where, name, name in layer, name in arrays):
                    items.append((where, name, layer[name], arrays[name], ""))
        flags = self.compare(items)
        if self.fields is None or "warnings" in self.fields:
            self.check_warnings(place, kept.values.get("warnings", ()), rec.warnings)
        if self.identical:  # every number as recomputed, to the last bit (the same machine): the
            return  # trainer is in the recorded state already
        agreed = {
            (it[0], it[1]) for it, ok in zip(items, flags, strict=True) if ok and not isinstance(it, str)
        }
        self.go_on(kept, agreed)

    def present(self, items: list[Any], where: str, name: str, recorded: bool, computed: bool) -> bool:
        """Whether field ``name`` is there to compare; a problem when the trace holds it and should
        not, or lacks it and should not."""
        listed = self.fields is None or name in self.fields
        if recorded and not listed:
            items.append(f"{where}, {name}: recorded, but the trace's fields do not list it")
        elif recorded and not computed:
            items.append(f"{where}, {name}: recorded, but the run has no {name}")
        elif computed and listed and not recorded:
            items.append(f"{where}: no {name}, which the run has")
        return recorded and computed and listed

    def check_warnings(self, place: str, recorded: Sequence[Any], recomputed: Sequence[Any]) -> None:
        def key(w: Any) -> tuple[Any, ...]:
            return (w.kind, w.layer, tuple(w.nodes), w.message)

        for i in range(max(len(recorded), len(recomputed))):
            r = recorded[i] if i < len(recorded) else None
            c = recomputed[i] if i < len(recomputed) else None
            if r is None or c is None or key(r) != key(c):
                self.problem(f"{place}, warnings[{i}]: recorded {_warning(r)}, recomputed {_warning(c)}")
                return

    def go_on(self, kept: KeptStep, agreed: set[tuple[str, str]]) -> None:
        """The state the next step starts from: each recorded array that agreed, the recomputed
        one (the trainer's) where it disagreed or the trace leaves it out."""
        t = self.trainer
        W, b = list(t.W), list(t.b)
        opt = {name: list(arrays) for name, arrays in t.opt_state.arrays.items()}
        taken = False
        for l, layer in enumerate(kept.layers):
            where = f"step {kept.step}, layer {l + 1}"
            for name, per_layer in (("w", W), ("b", b), *opt.items()):
                if (where, name) in agreed:
                    per_layer[l] = layer[name]
                    taken = True
        if taken:
            t.set_state(W, b, opt)

    # -- the summary ---------------------------------------------------------------------

    def check_summary(self) -> None:
        t, rec = self.trainer, self.rec
        k = t.step_count
        final = t.final_train_loss if k else t.initial_train_loss
        self.compare([("summary", "final_loss", rec.final_loss, final, "")])
        said, own = rec.stop_reason, t.stop_reason
        if own is not None and said not in (own, "user"):
            self.problem(
                f'summary, stop_reason: recorded "{said}", recomputed "{own}" (the run stops by itself '
                f"at step {k})"
            )
        elif own is None and said not in ("steps", "user"):
            self.problem(
                f'summary, stop_reason: recorded "{said}", recomputed "steps": {self.why_not(said, final)}'
            )

    def why_not(self, said: str, final: float) -> str:
        """Why the run did not stop by itself after its last step for the reason ``said``."""
        s, k = self.s, self.trainer.step_count
        if said == "target_loss":
            if s.target_loss is None:
                return "the scenario has no target_loss"
            loss = f"the training-set loss after step {k} is {final:.6g}"
            return f"{loss}, not below target_loss {s.target_loss:g}"
        if said == "target_accuracy":
            return self.why_not_accuracy()
        if said == "max_steps":
            return f"step {k} is before max_steps ({s.max_steps})"
        limit = divergence_limit(self.trainer.initial_train_loss)
        return f"every number of step {k} is finite and its training-set loss is below the limit {limit:.3g}"

    def why_not_accuracy(self) -> str:
        """Why the run did not stop for target_accuracy after its last step."""
        s, t = self.s, self.trainer
        if s.target_accuracy is None:
            return "the scenario has no target_accuracy"
        accuracy = t.final_accuracies[0]
        if accuracy is None:
            return "the run is not a classifier"
        said = f"the training-set accuracy after step {t.step_count} is {accuracy:.6g}"
        return f"{said}, under target_accuracy {s.target_accuracy:g}"

    # -- comparing -----------------------------------------------------------------------

    def compare(self, items: Sequence[Any]) -> list[bool]:
        """Whether each item (where, name, recorded, recomputed, note) agrees; a problem for each
        that does not, naming its first disagreeing element. A str item is a problem already."""
        arrays = [it for it in items if not isinstance(it, str)]
        if len(arrays) == len(items) and all(_same(it[2], it[3]) for it in arrays):
            self.identical = True  # every number to the bit (the machine that wrote it): nothing to weigh
            return [True] * len(items)
        fine = True
        self.identical = len(arrays) == len(items)
        if arrays:
            R = np.concatenate([_flat(it[2]) for it in arrays])
            C = np.concatenate([_flat(it[3]) for it in arrays])
            with np.errstate(invalid="ignore", over="ignore"):
                # scale >= 1: this tolerance is the strictest, so passing it is agreeing
                fine = bool((np.abs(R - C) <= RTOL * np.abs(R) + ATOL).all()) if R.size == C.size else False
            fine = fine and all(getattr(it[2], "shape", ()) == getattr(it[3], "shape", ()) for it in arrays)
            self.identical = self.identical and fine and bool((R == C).all())
        flags = []
        for it in items:
            if isinstance(it, str):
                self.problem(it)
                flags.append(False)
            elif fine:
                flags.append(True)
            else:
                flags.append(self.compare_one(*it))
        return flags

    def compare_one(self, where: str, name: str, recorded: Any, recomputed: Any, note: str) -> bool:
        r = np.asarray(recorded, dtype=float)
        c = np.asarray(recomputed, dtype=float)
        if r.shape != c.shape:  # the run's batch has other rows than the recorded one
            self.problem(f"{where}, {name}: recorded {_shape(r)}, recomputed {_shape(c)}{note}")
            return False
        ok = agree(r, c)
        if ok.all():
            return True
        bad = np.argwhere(~ok)
        index = tuple(int(i) for i in bad[0])
        more = f" (and {len(bad) - 1} more in {name})" if len(bad) > 1 else ""
        shown = f"{name}[{', '.join(map(str, index))}]" if index else name
        rs, cs = _numbers(float(r[index]), float(c[index]))
        self.problem(f"{where}, {shown}: recorded {rs}, recomputed {cs}{note}{more}")
        return False


def _same(recorded: Any, recomputed: Any) -> bool:
    """Whether two numbers, or two float arrays, are the same to the bit: compared as bytes, in
    a fraction of what numpy's comparison costs for the small arrays of a small network (a nan
    that is the same bits agrees, as the full comparison would say too)."""
    if isinstance(recorded, np.ndarray):
        return (
            isinstance(recomputed, np.ndarray)
            and recorded.shape == recomputed.shape
            and recorded.dtype == recomputed.dtype
            and recorded.tobytes() == recomputed.tobytes()
        )
    return type(recorded) is float and recorded == recomputed


def _shape(a: Array) -> str:
    return " x ".join(map(str, a.shape)) if a.ndim else "a number"


def _flat(x: Any) -> Any:
    """An array as one row, a number as a row of one: what np.concatenate joins (np.ravel costs more)."""
    return x.ravel() if isinstance(x, np.ndarray) else (x,)


def _numbers(r: float, c: float) -> tuple[str, str]:
    """The recorded and the recomputed number, to as many significant digits (4 or more) as it
    takes to tell them apart."""
    if not math.isfinite(c):
        return _number(r, 17), f"{c} (null in a trace)"
    if not math.isfinite(r):
        return "null", f"{c:.4g}"
    for digits in range(4, 18):
        cs = f"{c:#.{digits}g}"  # trailing zeros kept: 0.2512110 against 0.2512113
        if f"{r:#.{digits}g}" != cs:
            return _number(r, digits), cs
    return _number(r, 17), repr(c)


def _number(r: float, digits: int) -> str:
    """A recorded number: as written when it has 8 significant digits or fewer (123.456, typed by
    hand), otherwise to ``digits``; null when it is not finite."""
    if not math.isfinite(r):
        return "null"
    short = f"{r:.8g}"
    return short if float(short) == r else f"{r:#.{digits}g}"


def _warning(w: Any) -> str:
    if w is None:
        return "none"
    nodes = f", nodes {list(w.nodes)}" if w.nodes else ""
    layer = f", layer {w.layer}" if w.layer is not None else ""
    message = w.message if len(w.message) <= 100 else w.message[:97] + "..."
    return f"{w.kind}{layer}{nodes} {json.dumps(message)}"  # escaped: it came from a file


def describe_kept(recording: Recording) -> str:
    """How many steps the file keeps, for --check: ``3 steps``, ``3 of 7 steps (every 3)``, and
    the run's edits (``12 steps, 7 edits``)."""
    n = recording.steps
    text = f"{n} step{'s' if n != 1 else ''}"
    if recording.every > 1 and recording.kept:
        text = f"{n} of {recording.kept[-1].step} steps (every {recording.every})"
    if recording.fields is not None:
        text += f", fields {', '.join(recording.fields)}"
    if recording.edits:
        text += f", {len(recording.edits)} edit{'s' if len(recording.edits) != 1 else ''}"
    return text
