"""StepRecord: everything one step computed, frozen.

The app's panels and the exported trace are both made from these records, so the two
can never disagree. Every array in a record is read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


_warnings_slot = StepRecord.__dict__["warnings"]  # the slot StepRecord keeps its warnings in


class LazyStepRecord(StepRecord):
    """A StepRecord as the Trainer makes it: ``warnings`` are found on first access.

    The diagnostics read a step's numbers, which never change, so finding them later gives the
    same tuple; a step shown or exported pays for them once, and a step only passed through
    (a run of records nobody reads) not at all. Everything else is a StepRecord's, equality
    included (it reads ``warnings``, which finds them)."""

    __slots__ = ("_find",)

    @property  # type: ignore[override]
    def warnings(self) -> tuple[Diagnostic, ...]:
        find = getattr(self, "_find", None)
        if find is not None:  # computed once; a race computes the same tuple twice
            _warnings_slot.__set__(self, find())
            object.__setattr__(self, "_find", None)
        return _warnings_slot.__get__(self, StepRecord)

    @warnings.setter
    def warnings(self, value: tuple[Diagnostic, ...]) -> None:  # only __init__ sets it (frozen)
        _warnings_slot.__set__(self, value)

    @classmethod
    def finding(cls, find: Callable[[], tuple[Diagnostic, ...]], **fields: Any) -> LazyStepRecord:
        """The record of ``fields`` (a StepRecord's, but warnings) whose warnings are ``find()``."""
        rec = cls(**fields)
        object.__setattr__(rec, "_find", find)
        return rec
