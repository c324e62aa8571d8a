"""Edits: a number of the run changed by hand between two steps, kept so that the run replays.

    trainer.edit("weight", 0.5, layer=1, index=(0, 1))   # W[1][0, 1] = 0.5 from the next step on
    trainer.edit("bias", -1.0, layer=2, index=(0,))      # b[2][0]
    trainer.edit("input", 0.25, index=(3, 0))            # x[3, 0]: input 0 of training sample 3
    trainer.edit("learning_rate", 0.25)                  # the base rate, from the next step
    trainer.edit("add_point", Point((0.5, 0.5), (1.0,)))  # a new training sample, index N
    trainer.edit("remove_point", index=(2,))             # sample 2 gone; the ones after move up
    trainer.undo()                                       # the last edit taken back
    trainer.edits                                        # the edits in effect, in order

An ``Edit`` says the step after which it applies (0: before the first step), ``what`` it changes,
where (``layer``, 1-based, and ``index``, 0-based) and the value before and after (``old``,
``new``; for a point, its inputs and targets: ``new`` of an added one, ``old`` of a removed
one). ``Trainer.apply_edit(edit)`` applies a recorded edit again; its ``old`` must be the value
the state holds, so that a replay that drifted from the run it replays stops at the edit.

What changes with the number of samples N: an added point is appended as sample N, a removed
one takes its row out (the samples after it move up by one). The epoch under way ends there:
the next step starts a new epoch (the same one, when no batch of it was taken yet) over the
new data, with its batch size ("full" is the new N) and, under shuffle, its order drawn from
(seed, epoch) as always. ``timeline_position`` works out where k steps leave a run with edits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .batching import BatchSchedule, Position, batch_size

Array = np.ndarray

WHAT = ("weight", "bias", "input", "learning_rate", "add_point", "remove_point")
RESIZES = ("add_point", "remove_point")  # the edits that change N, and so the batch schedule
PARAMETERS = ("weight", "bias")


class Point(NamedTuple):
    """A training sample: its inputs (n_0 numbers) and its targets (n_L numbers)."""

    inputs: tuple[float, ...]
    targets: tuple[float, ...]


Value = float | Point | None


@dataclass(frozen=True, slots=True)
class Edit:
    """One number (or one training point) changed after step ``step``.

    weight: layer l, index (j, i), W[l][j, i]      bias: layer l, index (j,), b[l][j]
    input: index (k, i), x[k, i] of sample k       learning_rate: the base rate, no index
    add_point: index (N,), new = the Point         remove_point: index (k,), old = the Point
    """

    step: int
    what: str
    layer: int | None = None
    index: tuple[int, ...] = ()
    old: Value = None
    new: Value = None

    def __str__(self) -> str:
        where = self.place()
        if self.what == "add_point":
            return f"after step {self.step}: {where} added"
        if self.what == "remove_point":
            return f"after step {self.step}: {where} removed"
        return f"after step {self.step}: {where} {self.old:g} -> {self.new:g}"

    def place(self) -> str:
        """Where the edit is, in the engine's names: ``W[1][0, 1]``, ``x[3, 0]``, ``sample 4``."""
        at = ", ".join(map(str, self.index))
        if self.what == "weight":
            return f"W[{self.layer}][{at}]"
        if self.what == "bias":
            return f"b[{self.layer}][{at}]"
        if self.what == "input":
            return f"x[{at}]"
        if self.what == "learning_rate":
            return "learning_rate"
        return f"sample {at}"


class Era(NamedTuple):
    """What edits change besides W and b, the same for every step between two edits: the
    training data X (N, n_0) and T (N, n_L), its batch schedule and the base learning rate."""

    X: Array
    T: Array
    schedule: BatchSchedule
    learning_rate: float


def current(what: str, layer: int | None, index: tuple[int, ...], W, b, era: Era) -> Value:
    """The value an edit of ``what`` at (layer, index) changes, as the state holds it now
    (None for an added point); ValueError when there is no such place."""
    _check_place(what, layer, index, W, b, era)
    if what == "weight":
        return float(W[layer - 1][index])  # type: ignore[operator]
    if what == "bias":
        return float(b[layer - 1][index])  # type: ignore[operator]
    if what == "input":
        return float(era.X[index])
    if what == "learning_rate":
        return float(era.learning_rate)
    if what == "remove_point":
        k = index[0]
        return Point(tuple(era.X[k].tolist()), tuple(era.T[k].tolist()))
    return None


def _check_place(what: str, layer: int | None, index: tuple[int, ...], W, b, era: Era) -> None:
    if what not in WHAT:
        raise ValueError(f"unknown edit {what!r}: expected one of {', '.join(WHAT)}")
    if what in PARAMETERS:
        if layer is None or not 1 <= layer <= len(W):
            raise ValueError(f"{what}: layer must be 1 to {len(W)}, got {layer}")
        if (W if what == "weight" else b)[layer - 1].shape == (0,):
            raise ValueError(f"bias: layer {layer} has no biases (the network has none)")
    elif layer is not None:
        raise ValueError(f"{what}: takes no layer, got {layer}")
    N = len(era.X)
    if what in PARAMETERS:
        assert layer is not None
        shape = (W if what == "weight" else b)[layer - 1].shape
    else:
        shape = {"input": era.X.shape, "learning_rate": (), "add_point": (N + 1,), "remove_point": (N,)}[what]
    if len(index) != len(shape) or not all(0 <= k < n for k, n in zip(index, shape, strict=True)):
        raise ValueError(f"{what}: index {list(index)} is outside {list(shape)}")
    if what == "add_point" and index[0] != N:
        raise ValueError(f"add_point: a point is added as sample {N} (the last), not {index[0]}")
    if what == "remove_point" and N == 1:
        raise ValueError("remove_point: the only training sample cannot be removed")


def check_new(what: str, new: Value, era: Era) -> Value:
    """``new`` as the edit keeps it (a float, or a Point of floats); ValueError when it is not a
    finite number (a positive one for the learning rate) or a point of the data's widths."""
    if what == "remove_point":
        if new is not None:
            raise ValueError("remove_point: takes no new value")
        return None
    if what == "add_point":
        if not isinstance(new, Point | tuple) or len(new) != 2:
            raise ValueError("add_point: the new value must be a Point(inputs, targets)")
        inputs, targets = (tuple(_finite(what, v) for v in part) for part in new)
        n_in, n_out = era.X.shape[1], era.T.shape[1]
        if len(inputs) != n_in or len(targets) != n_out:
            raise ValueError(
                f"add_point: expected {n_in} inputs and {n_out} targets, got {len(inputs)} and {len(targets)}"
            )
        return Point(inputs, targets)
    value = _finite(what, new)
    if what == "learning_rate" and value <= 0:
        raise ValueError(f"learning_rate: must be > 0, got {value:g}")
    return value


def _finite(what: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
        raise ValueError(f"{what}: expected a number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise ValueError(f"{what}: expected a finite number, got {x}")
    return x


def same(old: Value, now: Value) -> bool:
    """Whether an edit's ``old`` is the value the state holds, to the bit."""
    return old == now


def edited_parameters(edit: Edit, W: tuple[Array, ...], b: tuple[Array, ...]) -> tuple[tuple, tuple]:
    """W and b with a weight or bias edit made: the one array changed is a new read-only copy."""
    assert edit.layer is not None and isinstance(edit.new, float)
    params = list(W if edit.what == "weight" else b)
    changed = params[edit.layer - 1].copy()
    changed[edit.index] = edit.new
    changed.flags.writeable = False
    params[edit.layer - 1] = changed
    return (tuple(params), b) if edit.what == "weight" else (W, tuple(params))


def edited_era(edit: Edit, era: Era, batch: str | int, shuffle: bool, seed: int) -> Era:
    """The era after a data or learning-rate edit: new read-only X and T, a new schedule when
    N changes (``batch``, ``shuffle`` and ``seed`` as the scenario says)."""
    if edit.what == "learning_rate":
        assert isinstance(edit.new, float)
        return Era(era.X, era.T, era.schedule, edit.new)
    X, T = era.X, era.T
    if edit.what == "input":
        X = X.copy()
        X[edit.index] = edit.new
    elif edit.what == "add_point":
        assert isinstance(edit.new, Point)
        X = np.vstack([X, np.asarray(edit.new.inputs, dtype=float)[None, :]])
        T = np.vstack([T, np.asarray(edit.new.targets, dtype=float)[None, :]])
    else:  # remove_point
        X, T = np.delete(X, edit.index[0], axis=0), np.delete(T, edit.index[0], axis=0)
    for a in (X, T):
        a.flags.writeable = False
    schedule = era.schedule if len(X) == len(era.X) else BatchSchedule(len(X), batch, shuffle, seed)
    return Era(X, T, schedule, era.learning_rate)


def new_epoch(pos: Position) -> Position:
    """Where a run goes on after N changed: the start of the next epoch, or of this one when
    none of its batches was taken."""
    return Position(pos.epoch + 1, 0) if pos.offset else pos


def advanced(pos: Position, steps: int, n_samples: int, batch: str | int) -> Position:
    """The position ``steps`` batches after ``pos`` over N = ``n_samples`` samples."""
    size = batch_size(batch, n_samples)
    per_epoch = -(-n_samples // size)
    m = pos.offset // size + steps
    return Position(pos.epoch + m // per_epoch, (m % per_epoch) * size)


def timeline_position(steps: int, n_samples: int, batch: str | int, edits: Sequence[Edit]) -> Position:
    """Where ``steps`` steps from the start leave a run of N = ``n_samples`` samples that made
    ``edits`` (those after step ``steps`` are not counted): the position of the next batch."""
    pos, n, done = Position(), n_samples, 0
    for e in edits:
        if e.step > steps:
            break
        if e.what in RESIZES:
            pos = new_epoch(advanced(pos, e.step - done, n, batch))
            n, done = n + (1 if e.what == "add_point" else -1), e.step
    return advanced(pos, steps - done, n, batch)


class Timeline:
    """The data, sample order and base learning rate of each step of a run that made ``edits``
    (what a trace's reader needs of them, without running it): the run's data X (N, n_0) and
    T (N, n_L) and learning rate before any edit, and its [training] batch, shuffle and seed."""

    def __init__(
        self,
        X: Array,
        T: Array,
        learning_rate: float,
        batch: str | int,
        shuffle: bool,
        seed: int,
        edits: Sequence[Edit],
    ) -> None:
        self.batch_mode = batch
        era = Era(X, T, BatchSchedule(len(X), batch, shuffle, seed), learning_rate)
        # (s, the position after step s, the era of the steps after s): one for each step after
        # which data or the learning rate changed, in order
        self.eras: list[tuple[int, Position, Era]] = [(0, Position(), era)]
        self._parameters: dict[int, list[Edit]] = {}
        for e in edits:
            if e.what in PARAMETERS:
                self._parameters.setdefault(e.step, []).append(e)
                continue
            s, pos, era = self.eras[-1]
            pos = advanced(pos, e.step - s, len(era.X), batch)
            era = edited_era(e, era, batch, shuffle, seed)
            if e.what in RESIZES:
                pos = new_epoch(pos)
            if e.step == s:
                self.eras[-1] = (s, pos, era)
            else:
                self.eras.append((e.step, pos, era))

    def at(self, number: int) -> tuple[Era, Position]:
        """The era of step ``number`` (1-based) and the position of its batch."""
        i = len(self.eras) - 1
        while self.eras[i][0] > number - 1:
            i -= 1
        s, pos, era = self.eras[i]
        return era, advanced(pos, number - 1 - s, len(era.X), self.batch_mode)

    def batch(self, number: int) -> tuple[int, Array, Era]:
        """The epoch of step ``number``, the sample indices of its batch, and its era."""
        era, pos = self.at(number)
        indices, _ = era.schedule.next_batch(pos)
        return pos.epoch, indices, era

    def parameter_edits(self, step: int) -> list[Edit]:
        """The weight and bias edits made after step ``step`` (0: before the first), in order."""
        return self._parameters.get(step, [])
