"""Grading: is the learner's number the true one, to the digits the learner wrote?

The rule. A number written with its last digit in the decimal place p (``0.1385``: p = -4;
``1.5e-3``: p = -4; ``12``: p = 0) is right when

    |written - true| <= max(5 x 10^(p-1), 1e-9 x |true|)

that is, within half a unit of its last digit (a tie, exactly half a unit, counts as right, so that
either way of rounding a 5 is accepted), and never held tighter than a relative 1e-9: ``0.1385`` is
right for 0.138498562 (it is 0.0000014 away, under 0.00005), ``0.1384`` is not (0.0000986 away).
Trailing zeros are digits written: ``0.60`` claims two decimals, ``0.6`` one. The comparison is
made on the exact decimal the learner wrote and the exact binary value of the true float, so that no
rounding of the grader's decides a case on the edge. An integer (``0``, ``4``: no decimal point, no
exponent) is taken as exact, and so is every number of a trace (full precision): right within the
relative 1e-9 alone, with an absolute floor of 1e-15 for a true value at or near 0 (a sum that
cancels exactly in one program leaves a few units of 1e-17 in another). So ``grad_b = 0`` is wrong
for a gradient of 0.0035, and ``0.0`` (one decimal) right.

The true numbers are the engine's: the StepRecords of a Trainer run on the scenario (or, for
``error[l]`` of a run trained by the gradient, the proportional split engine/split.py computes
from the step's weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ..engine.record import StepRecord
from ..engine.split import proportional_errors
from .answers import PER_SAMPLE, Number, Written

RELATIVE = 1e-9
FLOOR = 1e-15  # absolute tolerance of a full-precision number, for a true value at or near 0


def agrees(written: Written, true: float) -> bool:
    """Whether the learner's number is ``true`` to the digits written (see the module's rule)."""
    if not np.isfinite(true):
        return False
    if abs(written.value - true) <= RELATIVE * abs(true):
        return True
    if written.place is None:
        return abs(written.value - true) <= FLOOR
    half_unit = Decimal(5).scaleb(written.place - 1)
    return abs(written.exact - Decimal(true)) <= half_unit


def true_value(number: Number, record: StepRecord) -> float:
    """The engine's value of the answered number, from the record of its step."""
    if number.layer is None:
        return float(record.loss if number.quantity == "loss" else record.train_loss)
    lr = record.layers[number.layer - 1]
    if number.quantity == "error":
        arr = lr.error if lr.error is not None else split_error(record)[number.layer - 1]
    else:
        arr = getattr(lr, number.quantity)
    return float(arr[number.index])


def split_error(record: StepRecord) -> list[np.ndarray]:
    """e[1] .. e[L] of the proportional split for a step trained by the gradient (the backward
    panel shows it beside delta): e[L] = t - y, handed back in proportion to the weights."""
    W = [lr.w_before for lr in record.layers]
    return proportional_errors(W, record.t - record.layers[-1].a)


@dataclass(frozen=True, slots=True)
class Graded:
    number: Number
    true: float
    right: bool


def grade(numbers: tuple[Number, ...], records: dict[int, StepRecord]) -> list[Graded]:
    """Each number graded against its step's record, in the order the step computes them."""
    out = []
    for n in sorted(numbers, key=order):
        true = true_value(n, records[n.step])
        out.append(Graded(n, true, agrees(n.written, true)))
    return out


# the order a step computes its quantities in: the forward pass (layer by layer), the loss, the
# deltas and split errors (output first), the gradients, the update, the training-set loss
def order(n: Number) -> tuple[int, int, int, tuple[int, ...]]:
    layer = n.layer or 0
    if n.quantity in ("z", "a"):
        phase, within = 0, 2 * layer + (n.quantity == "a")
    elif n.quantity == "loss":
        phase, within = 1, 0
    elif n.quantity in ("delta", "error"):
        phase, within = 2, -2 * layer + (n.quantity == "error")
    elif n.quantity in ("grad_w", "grad_b"):
        phase, within = 3, 2 * layer + (n.quantity == "grad_b")
    elif n.quantity in ("w", "b"):
        phase, within = 4, 2 * layer + (n.quantity == "b")
    else:
        phase, within = 5, 0
    return (n.step, phase, within, n.index)


def shown_true(true: float) -> str:
    """The true value, to 10 significant digits (more than any learner writes by hand)."""
    return f"{true:.10g}"


def is_per_sample(n: Number) -> bool:
    return n.quantity in PER_SAMPLE
