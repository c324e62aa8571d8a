"""Trace files (JSON, format 1): every step of a run, streamed to disk, written atomically.

The file is strict JSON (no NaN or Infinity: a non-finite number is written as null) and
the same scenario and steps always give the same bytes. It is laid out one step per line,
so that two traces diff step by step. It is written to a temporary file beside the target
and renamed into place only when complete: an interrupted export leaves nothing behind, and a
temporary file left by a process that was killed is removed by the next export to that folder
(common/files.py). A path that holds anything but a regular file is never replaced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..common.errors import BackpropError
from ..common.files import NewFile
from ..engine import Diagnostic, Edit, LayerRecord, StepRecord, Trainer
from ..engine.regularization import Penalty
from ..engine.split import proportional_errors
from ..scenario.reader import Scenario
from .edit_json import edit_dict
from .fields import FIELDS, LAYER_FIELDS
from .numbers import dumps

FORMAT = "backprop-tui-trace"
VERSION = 1
STOP_REASONS = ("max_steps", "target_loss", "target_accuracy", "diverged", "steps", "user")


class TraceSource(Protocol):
    """What a trace's header is written from: a Trainer, or a recorded run (playback.RecordedRun)."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def initial_W(self) -> tuple[np.ndarray, ...]: ...
    @property
    def initial_b(self) -> tuple[np.ndarray, ...]: ...
    @property
    def X(self) -> np.ndarray: ...
    @property
    def T(self) -> np.ndarray: ...
    @property
    def X_test(self) -> np.ndarray | None: ...
    @property
    def penalty(self) -> Penalty: ...
    @property
    def T_test(self) -> np.ndarray | None: ...


class TraceError(BackpropError):
    """A trace that cannot be written (or read)."""


def schema() -> dict[str, Any]:
    """The JSON Schema of trace format 1, as shipped in the package."""
    text = resources.files("tui_backprop").joinpath("schemas/trace-v1.schema.json").read_text("utf-8")
    return json.loads(text)


def _num(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _arr(a: np.ndarray) -> list:
    """A nested list of floats, non-finite values as None."""
    if np.isfinite(a).all():
        return a.tolist()
    obj = a.astype(object)
    obj[~np.isfinite(a)] = None
    return obj.tolist()


def step_dict(
    rec: StepRecord,
    penalty: bool = False,
    fields: Collection[str] | None = None,
    raw: bool = False,
    rates: bool = False,
) -> dict[str, Any]:
    """One step of the trace; ``penalty``: the run is regularised, so its penalty is written;
    ``rates``: the run's learning rate follows a schedule, so each step's rate is written;
    ``fields``: only these fields of the step and of each layer ("step" always), None for all.
    A step without any layer field has no "layers". ``raw``: arrays stay numpy arrays (for
    trace/numbers.py's dumps, which writes them as the nested lists), not lists."""
    d: dict[str, Any] = {
        "step": rec.step,
        "epoch": rec.epoch,
        "batch": list(rec.batch),
        "loss": _num(rec.loss),
        "train_loss": _num(rec.train_loss),
    }
    if rec.test_loss is not None:  # a scenario with a test set ([data] test_fraction) only
        d["test_loss"] = _num(rec.test_loss)
    if rec.train_accuracy is not None:  # a classifier only (engine/accuracy.py): others keep their bytes
        d["train_accuracy"] = _num(rec.train_accuracy)
        if rec.test_accuracy is not None:
            d["test_accuracy"] = _num(rec.test_accuracy)
    if penalty:
        d["penalty"] = _num(rec.penalty)
    if rates:
        d["learning_rate"] = _num(rec.learning_rate)
    errors = split_errors(rec) if fields is None or "error" in fields else [None] * len(rec.layers)
    if fields is None:
        d["layers"] = [layer_dict(lr, error=e, raw=raw) for lr, e in zip(rec.layers, errors, strict=True)]
    else:
        d = {key: value for key, value in d.items() if key == "step" or key in fields}
        if any(f in fields for f in LAYER_FIELDS):
            d["layers"] = [layer_dict(lr, fields, e, raw) for lr, e in zip(rec.layers, errors, strict=True)]
    # only when there are some: a step without problems keeps its bytes
    if rec.warnings and (fields is None or "warnings" in fields):
        d["warnings"] = [_warning_dict(w) for w in rec.warnings]
    return d


def _raw(s: Scenario, raw: np.ndarray | None, X: np.ndarray) -> np.ndarray:
    """The rows a trace's data holds: the raw inputs when [data] features makes the network's
    inputs X of them (the reader makes them again), X otherwise."""
    return raw if s.features is not None and raw is not None else X


def scheduled(scenario: Any) -> bool:
    """Whether a run's learning rate follows a schedule ([training] schedule), so that each
    step of its trace says its rate."""
    return getattr(scenario, "schedule", "constant") != "constant"


def _warning_dict(w: Diagnostic) -> dict[str, Any]:
    return {"kind": w.kind, "layer": w.layer, "nodes": list(w.nodes), "message": w.message}


def split_errors(rec: StepRecord) -> list[np.ndarray | None]:
    """The proportional split's error e of each layer, as the trace writes it: the one the step
    trained with under error_split = "proportional" (recorded, finite or not); otherwise the split
    of the step's output error t - y by its weights before the update, where it is defined: a
    layer whose e is not finite (a row of weights summing to 0 above it) has none."""
    if all(lr.error is not None for lr in rec.layers):
        return [lr.error for lr in rec.layers]
    with np.errstate(all="ignore"):
        errors = proportional_errors([lr.w_before for lr in rec.layers], rec.t - rec.layers[-1].a)
    return [e if np.isfinite(e).all() else None for e in errors]


def layer_dict(
    lr: LayerRecord,
    fields: Collection[str] | None = None,
    error: np.ndarray | None = None,
    raw: bool = False,
) -> dict[str, Any]:
    """One layer of a step: its arrays as nested lists (``raw``: as arrays); ``fields``: only
    these, None for all; ``error``: its split error e, when the step's record does not hold it
    (see split_errors)."""
    arrays = layer_arrays(lr, error).items()
    return {key: v if raw else _arr(v) for key, v in arrays if fields is None or key in fields}


def layer_arrays(lr: LayerRecord, error: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every array a trace writes of one layer of a step, by its field name, in the order written;
    ``error``: its split error e, when the record does not hold it (split_errors gives it)."""
    arrays: dict[str, np.ndarray] = {
        "z": lr.z,
        "a": lr.a,
        "delta": lr.delta,
        "grad_w": lr.grad_w,
        "grad_b": lr.grad_b,
        "w": lr.w,
        "b": lr.b,
    }
    if error is None:
        error = lr.error  # error_split = "proportional": what the layer learnt from
    if error is not None:
        arrays["error"] = error
    if lr.update_w is not None and lr.update_b is not None:
        arrays["update_w"], arrays["update_b"] = lr.update_w, lr.update_b
    arrays.update(lr.state)  # the optimiser's, when it has one
    return arrays


RAW_WEIGHTS = 2048  # networks with more weights than this have their steps written by orjson


def _dump_lists(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def _dump(obj: Any) -> str:
    return dumps(obj)  # json.dumps's text, its arrays written by orjson (trace/numbers.py)


class TraceWriter:
    """Streams a trace: header on open, one line per ``write_step``, summary on ``close``.

    Use as a context manager; leaving the block by an exception removes the temporary
    file and leaves whatever was at ``path`` untouched. A ``path`` that holds anything but a
    regular file (a FIFO, a device, a directory, a symbolic link) is refused, when the writer
    opens and again right before the finished file is moved into place.
    """

    def __init__(
        self,
        path: str | Path,
        trainer: TraceSource,
        every: int = 1,
        fields: Collection[str] | None = None,
        replace: bool = True,
    ) -> None:
        """``every``: keep only every k-th step (and the last, see ``run`` and ``write_last``);
        ``fields``: keep only these fields of each step and layer (names from FIELDS);
        ``replace``: a regular file at ``path`` is replaced (False: the trace is put there only
        if nothing is there when it is complete; the command line and the app choose a free
        name first, see trace/paths.py)."""
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        unknown = [f for f in fields or () if f not in FIELDS]
        if unknown:
            raise ValueError(f"unknown trace fields: {', '.join(unknown)}")
        self.every = every
        # in the order of FIELDS, "step" always: the header lists exactly what each step holds
        self.fields = None if fields is None else tuple(f for f in FIELDS if f in fields or f == "step")
        self.path = Path(path)
        self.steps = 0
        self.last_step = 0  # the number of the last step written
        self._first = True
        self._trainer: Trainer | None = None  # the one run() steps: its edits go in the trace
        # written under a temporary name beside the target, put in place by close() when whole
        self._out = NewFile(self.path, replace, "trace", error=TraceError, text=True)
        self._penalty = bool(trainer.penalty)
        self._rates = scheduled(trainer.scenario)
        # a big network's arrays go to orjson (trace/numbers.py); a small one's steps are quicker
        # as nested lists through one json.dumps: the same bytes either way
        self._raw = sum(w.size for w in trainer.initial_W) > RAW_WEIGHTS
        try:
            self._header(trainer)
        except BaseException:  # Ctrl+C, say: no caller holds this writer yet to abort it
            self.abort()
            raise

    def _write(self, text: str) -> None:
        assert self._out.file is not None
        try:
            self._out.file.write(text)
        except OSError as e:
            self.abort()
            raise TraceError(str(self.path), f"cannot write: {e.strerror or e}") from e

    def _header(self, trainer: TraceSource) -> None:
        s: Scenario = trainer.scenario
        initial = {"w": list(trainer.initial_W), "b": list(trainer.initial_b)}
        lines = [
            f'"format": {_dump(FORMAT)}',
            f'"version": {VERSION}',
            f'"scenario": {_dump(s.to_dict())}',
            f'"data": {_dump({"inputs": _raw(s, s.raw_inputs, trainer.X), "targets": trainer.T})}',
            f'"initial": {_dump(initial)}',
        ]
        if trainer.X_test is not None and trainer.T_test is not None:  # [data] test_fraction > 0
            test = {"inputs": _raw(s, s.raw_test_inputs, trainer.X_test), "targets": trainer.T_test}
            lines.insert(4, f'"test_data": {_dump(test)}')
        if self.every > 1:
            lines.append(f'"every": {self.every}')
        if self.fields is not None:
            lines.append(f'"fields": {_dump(list(self.fields))}')
        self._write("{\n" + ",\n".join(lines) + ',\n"steps": [')

    def write_step(self, rec: StepRecord) -> None:
        step = step_dict(rec, self._penalty, self.fields, raw=self._raw, rates=self._rates)
        self._write(("\n" if self._first else ",\n") + (_dump(step) if self._raw else _dump_lists(step)))
        self._first = False
        self.steps += 1
        self.last_step = rec.step

    def write_steps(self, records: Iterable[StepRecord]) -> None:
        for rec in records:
            self.write_step(rec)

    def run(self, trainer: Trainer, steps: int) -> None:
        """Up to ``steps`` more steps of ``trainer``, writing each step this trace keeps as it
        is taken: one record at a time in memory, and none for the steps ``every`` skips."""
        self._trainer = trainer
        end = trainer.step_count + steps
        while trainer.step_count < end and not trainer.done:
            due = (trainer.step_count // self.every + 1) * self.every  # the next step to keep
            trainer.run(min(due - 1, end) - trainer.step_count, record=False)
            if trainer.step_count < end and not trainer.done:
                rec = trainer.step()
                if rec.step % self.every == 0:
                    self.write_step(rec)

    def write_last(self, trainer: Trainer) -> None:
        """The trainer's last step, when ``every`` skipped it: a trace always ends with it."""
        if trainer.step_count > self.last_step:
            rec = trainer.current_record()
            assert rec is not None
            self.write_step(rec)

    def close(self, final_loss: float, stop_reason: str, edits: Sequence[Edit] | None = None) -> Path:
        """Write the summary and the run's edits (``edits``, or those of the trainer ``run()``
        stepped; none: no "edits"), then move the finished file into place."""
        if stop_reason not in STOP_REASONS:
            raise ValueError(f"unknown stop reason {stop_reason!r}")
        if edits is None:
            edits = self._trainer.edits if self._trainer is not None else ()
        summary = {"steps": self.steps, "final_loss": _num(final_loss), "stop_reason": stop_reason}
        tail = f',\n"edits": {_dump_lists([edit_dict(e) for e in edits])}' if edits else ""
        self._write(("\n" if not self._first else "") + f'],\n"summary": {_dump(summary)}{tail}\n}}\n')
        return self._out.commit()

    def abort(self) -> None:
        """Drop the unfinished trace: close and remove the temporary file."""
        self._out.abort()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or self._out.file is not None:
            self.abort()


def summary_stop_reason(trainer: Trainer, otherwise: str) -> str:
    """The run's own stop reason, or ``otherwise`` ("steps", "user") when it has none."""
    return trainer.stop_reason or otherwise


class ExportCancelled(Exception):
    """An export given up half-way (the app quit): its temporary file is gone, nothing written."""


def never() -> bool:
    return False


def write_trace(
    path: str | Path,
    trainer: Trainer,
    stop_reason: str = "steps",
    writer_class: Callable[..., TraceWriter] = TraceWriter,
    replace: bool = True,
    cancelled: Callable[[], bool] = never,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Export every step ``trainer`` has taken, replayed from the start, to ``path``.

    The steps are computed again by a fresh Trainer and streamed to disk one at a time, so
    the trace holds every step whatever the trainer kept in memory, and it is the same
    file byte for byte as a headless run of the same scenario and number of steps.
    ``writer_class`` makes the writer (a served app's caps its size: trace/folder.py);
    ``replace``: as for TraceWriter; ``cancelled()`` is asked before each step, and True drops
    the trace (ExportCancelled); ``progress(done, total)`` is called after each step written.
    """
    replay = Trainer(trainer.scenario, history=1)
    total = trainer.step_count
    edits = trainer.edits
    with writer_class(path, replay, replace=replace) as writer:
        made = replay_edits(replay, edits, 0)
        for done in range(1, total + 1):
            if cancelled():
                raise ExportCancelled(str(path))
            writer.write_step(replay.step())
            made = replay_edits(replay, edits, made)
            if progress is not None:
                progress(done, total)
        final = replay.final_train_loss
        return writer.close(final, summary_stop_reason(replay, stop_reason), edits)


def replay_edits(trainer: Trainer, edits: Sequence[Edit], made: int) -> int:
    """Make the edits of ``edits[made:]`` that are for the step ``trainer`` is at; how many of
    ``edits`` are made then."""
    while made < len(edits) and edits[made].step == trainer.step_count:
        trainer.apply_edit(edits[made])
        made += 1
    return made


# -- how big a trace will be ---------------------------------------------------------------

# a float64 as the trace writes it (repr, up to 17 digits) with its ", ", on average: what a
# network's weights and activations take; 0.0 and 1.0 take less, so small traces are overestimated
NUMBER_BYTES = 22


@dataclass(frozen=True)
class TraceSize:
    """The bytes a trace will take, roughly: its header (the scenario, the data and the initial
    weights) and each step, counted in numbers at NUMBER_BYTES each."""

    header: int
    per_step: int
    steps: int

    @property
    def total(self) -> int:
        return self.header + self.per_step * self.steps

    def steps_within(self, budget: int) -> int:
        """How many steps' worth of the trace fits ``budget`` bytes, besides the header (1 at least)."""
        return max(1, (budget - self.header) // max(self.per_step, 1))


class SizeSource(Protocol):
    """What a trace's size is worked out from: a Trainer, a recorded run, the app's Stepper."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def initial_W(self) -> tuple[np.ndarray, ...]: ...
    @property
    def initial_b(self) -> tuple[np.ndarray, ...]: ...
    @property
    def X(self) -> np.ndarray: ...
    @property
    def X_test(self) -> np.ndarray | None: ...


def trace_size(source: SizeSource, steps: int, fields: Collection[str] | None = None) -> TraceSize:
    """How big the trace of ``steps`` steps of ``source`` (a Trainer or a recorded run) will be,
    from the network, the batch and the data alone (nothing is written): every layer's z, a,
    delta and e (B, n_l), grad_w and w (n_l, n_(l-1)), grad_b and b, and the optimiser's state
    and the split's updates when the run has them; ``fields``: only those (as --fields)."""
    s = source.scenario
    N = len(source.X)
    B = N if s.batch == "full" else 1 if s.batch == "sample" else min(int(s.batch), N)
    per_sample = ("z", "a", "delta", "error")
    shaped_like_w = ["grad_w", "w"] + (["update_w"] if s.error_split == "proportional" else [])
    shaped_like_w += {"momentum": ["velocity_w"], "adam": ["m_w", "v_w"]}.get(s.optimizer, [])
    numbers = 0
    for n_in, n in zip(s.layers, s.layers[1:], strict=False):
        for name in (*per_sample, *shaped_like_w):
            if fields is None or name in fields:
                numbers += B * n if name in per_sample else n * n_in
        for name in shaped_like_w:  # each has its bias vector (an empty one without biases)
            bias_name = name[:-2] + "_b" if name.endswith("_w") else "b"
            if s.bias and (fields is None or bias_name in fields):
                numbers += n
    numbers += 5 + B  # step, epoch, the losses and the batch's indices
    data = (len(source.X) + (len(source.X_test) if source.X_test is not None else 0)) * (
        s.layers[0] + s.layers[-1]
    )
    weights = sum(w.size + b.size for w, b in zip(source.initial_W, source.initial_b, strict=True))
    return TraceSize((data + weights) * NUMBER_BYTES + 4096, numbers * NUMBER_BYTES, steps)
