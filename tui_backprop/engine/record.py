"""StepRecord: everything one step computed, frozen.

The app's panels and the exported trace are both made from these records, so the two
can never disagree. Every array in a record is read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning about a step (engine/diagnostics.py finds them): saturation, dead units, ..."""

    kind: str  # one of diagnostics.KINDS
    layer: int | None  # 1-based layer, None when it concerns the whole network
    nodes: tuple[int, ...]  # 0-based node indices in that layer; () when not about nodes
    message: str  # one or two short plain sentences

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One layer l of one step. B = batch size, n = n_l, m = n_{l-1}."""

    activation: str
    z: Array  # (B, n) pre-activations
    a: Array  # (B, n) activations
    delta: Array  # (B, n) dl_k/dz[l][k], per sample
    grad_w: Array  # (n, m) batch mean of delta.T @ a[l-1], plus dP/dW with an l1/l2 penalty
    grad_b: Array  # (n,), or (0,) without biases
    w_before: Array  # (n, m)
    b_before: Array  # (n,) or (0,)
    w: Array  # (n, m) after the update
    b: Array  # (n,) or (0,) after the update
    # error_split = "proportional" only (None otherwise): the split error e of engine/split.py
    # this layer learnt from in place of delta, and the change that made to W and b
    error: Array | None = None  # (B, n)
    update_w: Array | None = None  # (n, m): w - w_before
    update_b: Array | None = None  # (n,) or (0,): b - b_before
    # the optimiser's state after the update, shaped like w or b: momentum "velocity_w",
    # "velocity_b"; adam "m_w", "v_w", "m_b", "v_b" (no "_b" entries when biases are frozen)
    state: Mapping[str, Array] = field(default_factory=dict)

    @property
    def dw(self) -> Array:
        """The change this step made to W, shape (n, m): -lr grad_w with plain gradient
        descent, as rounded in w."""
        return self.w - self.w_before

    @property
    def db(self) -> Array:
        """The change this step made to b, shape (n,) or (0,)."""
        return self.b - self.b_before


@dataclass(frozen=True, slots=True)
class NonFinite:
    """Where the first non-finite number of a diverged step appeared."""

    # "z", "a", "loss", "delta", "error", "grad_w", "grad_b", "w", "b", "train_z" or "train_loss";
    # train_z is z of the training-set forward pass with the updated weights (not in the record)
    quantity: str
    layer: int | None  # 1-based layer, None for the losses
    index: tuple[int, ...]  # position inside that array

    def __str__(self) -> str:
        if self.layer is None:
            return self.quantity
        where = ", ".join(str(i) for i in self.index)
        return f"{self.quantity}[{self.layer}][{where}]"

    def in_words(self) -> str:
        """Where the value is, for a reader: ``delta[1][0, 2]``, or the losses by name."""
        if self.quantity == "loss":
            return "the batch loss"
        if self.quantity == "train_loss":
            return "the training-set loss after the update"
        if self.quantity == "train_z":
            where = ", ".join(str(i) for i in self.index)
            return f"z[{self.layer}][{where}] of the training set, computed with the updated weights"
        return str(self)


@dataclass(frozen=True, slots=True)
class LossBlowUp:
    """Why a step whose numbers are all finite diverged: its training-set loss went over
    ``factor`` x max(initial, 1) (the Trainer's DIVERGENCE_FACTOR)."""

    train_loss: float  # the step's training-set loss, after the update
    initial: float  # the training-set loss before the first step
    factor: float

    def __str__(self) -> str:
        said = f"the training-set loss {self.train_loss:.3g} is over {self.factor:g}"
        if self.initial >= 1.0:
            return f"{said} times its initial {self.initial:.3g}"
        return f"{said} ({self.factor:g} times 1, as its initial {self.initial:.3g} is below 1)"


@dataclass(frozen=True, slots=True)
class StepRecord:
    """Every number of one step, as the trace writes it: frozen, its arrays read-only.

    The batch's inputs and targets, each layer's forward and backward pass (``layers``, one
    LayerRecord per layer after the input), the losses before and after the update, the
    optimiser's state and what the diagnostics found (``warnings``). A record never changes
    once returned: the app, the trace and the tests read the same object.
    """

    step: int  # 1-based
    epoch: int  # 1-based
    batch: tuple[int, ...]  # 0-based sample indices, in the order used
    x: Array  # (B, n_0) the inputs a[0] (with [data] features: the features of the batch's raw rows)
    t: Array  # (B, n_L) the targets
    sample_losses: Array  # (B,) l(y_k, t_k) before the update
    loss: float  # mean of sample_losses + penalty: the batch loss before the update
    # training-set loss after the update (its penalty with the updated weights); nan on a step
    # that did not evaluate it ([training] evaluate_every)
    train_loss: float
    learning_rate: float  # the rate this step's update used: its schedule's (engine/schedule.py)
    layers: tuple[LayerRecord, ...]
    stop_reason: str | None = None  # set when this step ended the run by itself
    # why this step diverged (one of the two is set when it did): the first non-finite number,
    # or, when every number is finite, the training-set loss that blew up
    nonfinite: NonFinite | None = None
    blowup: LossBlowUp | None = None
    test_loss: float | None = None  # test-set loss after the update; None without a test set
    warnings: tuple[Diagnostic, ...] = ()  # what engine/diagnostics.py found wrong in this step
    penalty: float = 0.0  # the l1/l2 penalty of the weights before the update, included in loss
    # whether this step computed the training- and test-set losses ([training] evaluate_every = K:
    # every K-th step and the last); when not, train_loss and test_loss are nan
    evaluated: bool = True
    # a classifier's (engine/accuracy.py) fraction of the training and test set classified
    # right after the update; None for a run that is not a classifier (and test_accuracy
    # without a test set), nan on a step that did not evaluate ([training] evaluate_every)
    train_accuracy: float | None = None
    test_accuracy: float | None = None

    @property
    def diverged(self) -> bool:
        return self.stop_reason == "diverged"

    @property
    def divergence(self) -> str | None:
        """Why this step diverged, in words (None when it did not): ``the first non-finite
        value is delta[1][0, 2]``, or ``the training-set loss 2.31e+08 is over 1e+08 times its
        initial 2.1``."""
        if not self.diverged:
            return None
        if self.nonfinite is not None:
            return f"the first non-finite value is {self.nonfinite.in_words()}"
        if self.blowup is not None:
            return str(self.blowup)
        return "its record shows no non-finite number and no loss over the limit"  # a trace made elsewhere


def find_nonfinite(
    layers: tuple[LayerRecord, ...], loss: float, train_loss: float, train_zs: Sequence[Array] = ()
) -> NonFinite | None:
    """The first non-finite value in the order the step computed them, or None.

    ``train_zs``: z of every layer over the training set after the update, (N, n_l) each.
    """
    arrays: list[tuple[str, int | None, Array]] = []
    for l, lr in enumerate(layers, start=1):
        arrays += [("z", l, lr.z), ("a", l, lr.a)]
    arrays.append(("loss", None, np.array(loss)))
    for l in range(len(layers), 0, -1):
        arrays.append(("delta", l, layers[l - 1].delta))
    for l in range(len(layers), 0, -1):
        error = layers[l - 1].error
        if error is not None:
            arrays.append(("error", l, error))
    for l, lr in enumerate(layers, start=1):
        arrays += [("grad_w", l, lr.grad_w), ("grad_b", l, lr.grad_b)]
    for l, lr in enumerate(layers, start=1):
        arrays += [("w", l, lr.w), ("b", l, lr.b)]
    arrays += [("train_z", l, z) for l, z in enumerate(train_zs, start=1)]
    arrays.append(("train_loss", None, np.array(train_loss)))
    for name, layer, arr in arrays:
        bad = ~np.isfinite(arr)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
            return NonFinite(name, layer, index)
    return None


# what a LazyStepRecord is made from: make() gives its fields by name and the function that
# finds its warnings
Found = Callable[[], tuple[Diagnostic, ...]]
Make = Callable[[], tuple[dict[str, Any], Found]]


class LazyStepRecord(StepRecord):
    """A StepRecord as the Trainer makes it: its fields are made from the step's numbers when
    one is first read, and its warnings found when they are first read.

    ``make()`` returns every field but ``warnings``, by name, and the function that finds the
    warnings (engine/diagnostics.py). A step's numbers are its own fresh arrays, which nothing
    changes afterwards, so making the fields later gives what making them at once would, the
    arrays made read-only before anyone reads them: a step shown or exported pays for its
    record once, a step only passed through (a run of records nobody reads) next to nothing.
    Everything else is a StepRecord's: equality, repr, copying and ``dataclasses.replace`` read
    the fields, which makes them. Two threads reading a new record at once may both make it:
    the same values, one kept."""

    __slots__ = ("_make", "_find")

    @classmethod
    def of(cls, make: Make) -> LazyStepRecord:
        """The record whose fields ``make()`` returns (on first read)."""
        rec = _new(cls)
        _make_slot.__set__(rec, make)
        return rec


def _fill(rec: LazyStepRecord) -> None:
    """Make every field of ``rec`` but the warnings (the first read of one comes here), then
    let go of what they were made from: a record kept (the app's, a trace's last) holds its
    fields only, not the step's numbers twice nor the training set's z."""
    try:
        make = _make_slot.__get__(rec)
    except AttributeError:  # made already, by another thread's read
        return
    made, find = make()
    for name, value in made.items():
        _SET[name](rec, value)
    _find_slot.__set__(rec, find)
    _forget(_make_slot, rec)


def _found(rec: LazyStepRecord) -> tuple[Diagnostic, ...]:
    """The warnings of ``rec``, found once (the first read of them comes here); the function
    that found them (which holds the training set's z of an evaluated step) is let go."""
    try:
        find = _find_slot.__get__(rec)
    except AttributeError:  # the fields are not made yet
        _fill(rec)
        try:
            find = _find_slot.__get__(rec)
        except AttributeError:  # found meanwhile, by another thread's read
            return _SLOTS["warnings"].__get__(rec)  # type: ignore[no-any-return]
    found = find()
    _SET["warnings"](rec, found)
    _forget(_find_slot, rec)
    return found


def _forget(slot: Any, rec: LazyStepRecord) -> None:
    try:
        slot.__delete__(rec)
    except AttributeError:  # forgotten already, by another thread's read
        pass


class _MadeOnRead:
    """A field of LazyStepRecord: StepRecord's slot, made (``_fill``) the first time it is read."""

    __slots__ = ("slot",)

    def __init__(self, slot: Any) -> None:
        self.slot = slot  # StepRecord's member descriptor of the field

    def __get__(self, rec: LazyStepRecord | None, owner: type | None = None) -> Any:
        if rec is None:
            return self
        try:
            return self.slot.__get__(rec, owner)
        except AttributeError:  # not made yet
            _fill(rec)
            return self.slot.__get__(rec, owner)

    def __set__(self, rec: LazyStepRecord, value: Any) -> None:  # __init__ and unpickling set fields
        self.slot.__set__(rec, value)


class _FoundOnRead(_MadeOnRead):
    """LazyStepRecord's warnings: found (``_found``) the first time they are read."""

    __slots__ = ()

    def __get__(self, rec: LazyStepRecord | None, owner: type | None = None) -> Any:
        if rec is None:
            return self
        try:
            return self.slot.__get__(rec, owner)
        except AttributeError:  # not found yet
            return _found(rec)


_SLOTS = {f.name: StepRecord.__dict__[f.name] for f in fields(StepRecord)}  # StepRecord's own slots
for _name, _slot in _SLOTS.items():
    setattr(LazyStepRecord, _name, (_FoundOnRead if _name == "warnings" else _MadeOnRead)(_slot))
_SET = {name: slot.__set__ for name, slot in _SLOTS.items()}  # each slot's setter, made once
_make_slot, _find_slot = LazyStepRecord.__dict__["_make"], LazyStepRecord.__dict__["_find"]
_new = object.__new__
