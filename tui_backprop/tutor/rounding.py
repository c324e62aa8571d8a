"""Hand precision: a step computed as a learner computes it on paper, to K significant digits.

Every intermediate is rounded to K significant digits as it is written down: each product
w_ji · a_i, each running sum (left to right, then + b_j), f(z), f′(z), ∂ℓ/∂y, each δ, each
δ_k · a_k of a gradient, the mean, η · ∂L/∂w and w − η · ∂L/∂w. The step starts from the
record's own inputs and weights before the update, so that the difference from the record
(the exact step) is what rounding alone did. With K = 17 every rounding keeps the float it is
given, and the hand step is the engine's step (to the order of its sums).

    hand_step(record, loss, digits)          a HandStep: every array of the step, rounded as by hand
    rounded(x, digits)                       x to ``digits`` significant digits, elementwise
    hand_values(record, loss, digits)        {"z[1]": array, ..., "loss": array}: by answers-file name
    rounding_digits(record, loss, name, index, value, written)
                                             the K (2..8) at which a learner's value is the hand
                                             calculation's, to the digits they wrote; None if none is

Plain gradient descent with the backpropagated gradient only (no momentum or adam, no l1 or l2,
no proportional split, no softmax but with cross_entropy): HandPrecisionUnsupported otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine.activations import get_activation
from ..engine.losses import get_loss
from ..engine.record import StepRecord

Array = np.ndarray
MIN_DIGITS, MAX_DIGITS = 1, 17
GRADING_DIGITS = range(2, 9)  # the precisions a learner plausibly worked to
MAX_PRODUCTS = 20_000  # products of one step done by hand (each is rounded in Python): ~0.1 s


class HandPrecisionUnsupported(ValueError):
    """A step that hand precision does not model (its message says what)."""


def rounded(x: Array | float, digits: int) -> Array:
    """``x`` to ``digits`` significant digits, elementwise, as ``f"{x:.{digits}g}"`` prints it
    (a decimal rounding: 0.15 stays 0.15). 0, inf and nan stay as they are."""
    arr = np.asarray(x, dtype=float)
    flat = [float(f"{v:.{digits}g}") for v in arr.ravel().tolist()]
    return np.array(flat, dtype=float).reshape(arr.shape)


@dataclass(frozen=True)
class HandLayer:
    """One layer of a hand step; shapes as in the record's LayerRecord."""

    z: Array  # (B, n)
    a: Array  # (B, n)
    fprime: Array  # (B, n) f'(z) as written down (1 for a softmax output: its delta is y - t)
    delta: Array  # (B, n)
    grad_w: Array  # (n, m)
    grad_b: Array  # (n,) or (0,)
    w: Array  # (n, m) after the update
    b: Array  # (n,) or (0,)


@dataclass(frozen=True)
class HandStep:
    digits: int
    layers: tuple[HandLayer, ...]
    sample_losses: Array  # (B,)
    loss: float


def _running_sum(terms: Array, digits: int, axis: int) -> Array:
    """Σ over ``axis``, left to right, each partial sum rounded (a column added by hand)."""
    terms = np.moveaxis(terms, axis, 0)
    total = terms[0]
    for term in terms[1:]:
        total = rounded(total + term, digits)
    return rounded(total, digits)


def check_supported(record: StepRecord, loss: str) -> None:
    B = len(record.batch)
    products = sum(3 * B * lr.w_before.size for lr in record.layers)  # forward, backward, gradient
    if products > MAX_PRODUCTS:
        raise HandPrecisionUnsupported(
            f"a step of {products:,} products is more than {MAX_PRODUCTS:,}: no hand calculation"
        )
    if record.penalty != 0.0:
        raise HandPrecisionUnsupported("hand precision does not model an l1 or l2 penalty")
    for lr in record.layers:
        if lr.state or lr.error is not None:
            raise HandPrecisionUnsupported(
                "hand precision models plain gradient descent on the backpropagated gradient only"
            )
        if lr.activation == "softmax" and not (loss == "cross_entropy" and lr is record.layers[-1]):
            raise HandPrecisionUnsupported(
                "hand precision models softmax only at the output under cross_entropy"
            )
    if loss == "bce" and record.layers[-1].activation != "sigmoid":
        raise HandPrecisionUnsupported("hand precision models bce only after a sigmoid output")


def hand_step(record: StepRecord, loss: str, digits: int, update_biases: bool = True) -> HandStep:
    """The step of ``record`` done by hand to ``digits`` significant digits (see the module)."""
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be {MIN_DIGITS} to {MAX_DIGITS}, got {digits}")
    check_supported(record, loss)
    r = lambda x: rounded(x, digits)  # noqa: E731 - read as "written down"
    L = len(record.layers)
    acts = [np.asarray(record.x, dtype=float)]
    zs, fprimes = [], []
    for lr in record.layers:
        W, b = lr.w_before, lr.b_before
        products = r(acts[-1][:, None, :] * W[None, :, :])  # (B, n, m): w_ji a_i
        z = _running_sum(products, digits, axis=2)
        if b.size:
            z = r(z + b)
        act = get_activation(lr.activation)
        a = r(act.fn(z))
        zs.append(z)
        fprimes.append(np.ones_like(z) if act.name == "softmax" else r(act.grad(z, a)))  # softmax: y - t
        acts.append(a)
    y, t = acts[-1], np.asarray(record.t, dtype=float)
    sample_losses = _loss(loss, y, t, zs[-1], digits)
    B = len(y)
    batch_loss = float(_running_sum(sample_losses, digits, axis=0) / B if B > 1 else sample_losses[0])
    batch_loss = float(r(batch_loss))
    deltas: list[Array] = [np.empty(0)] * L
    out = record.layers[-1].activation
    if (loss, out) == ("bce", "sigmoid"):
        deltas[-1] = r(r(y - t) / y.shape[1])
    elif (loss, out) == ("cross_entropy", "softmax"):
        deltas[-1] = r(y - t)
    else:
        deltas[-1] = r(r(get_loss(loss).dy(y, t)) * fprimes[-1])
    for l in range(L - 2, -1, -1):
        W_next = record.layers[l + 1].w_before  # (n_{l+1}, n_l)
        products = r(deltas[l + 1][:, :, None] * W_next[None, :, :])  # (B, m, n): w_mj delta_m
        deltas[l] = r(_running_sum(products, digits, axis=1) * fprimes[l])
    layers = []
    lr_rate = float(record.learning_rate)
    for l, lr in enumerate(record.layers):
        products = r(deltas[l][:, :, None] * acts[l][:, None, :])  # (B, n, m)
        grad_w = _mean(products, digits)
        grad_b = _mean(deltas[l], digits) if lr.b_before.size else np.zeros(0)
        w = r(lr.w_before - r(lr_rate * grad_w))
        b = r(lr.b_before - r(lr_rate * grad_b)) if update_biases else np.array(lr.b_before, dtype=float)
        layers.append(HandLayer(zs[l], acts[l + 1], fprimes[l], deltas[l], grad_w, grad_b, w, b))
    return HandStep(digits, tuple(layers), sample_losses, batch_loss)


def _mean(products: Array, digits: int) -> Array:
    B = products.shape[0]
    if B == 1:
        return products[0]
    return rounded(_running_sum(products, digits, axis=0) / B, digits)


def _loss(loss: str, y: Array, t: Array, z: Array, digits: int) -> Array:
    scale = {"mse": 1.0 / y.shape[1], "sse": 1.0, "half_sse": 0.5}.get(loss)
    if scale is None:  # bce, cross_entropy: one line of logarithms, written down once
        return rounded(get_loss(loss).fn(y, t, z), digits)
    e = rounded(y - t, digits)
    squares = rounded(e * e, digits)
    total = _running_sum(squares, digits, axis=1)
    return rounded(scale * total, digits) if scale != 1.0 else total


# -- for grading ---------------------------------------------------------------------------------


def hand_values(record: StepRecord, loss: str, digits: int, update_biases: bool = True) -> dict[str, Array]:
    """The hand step's numbers by the answers file's names: z[l], a[l], delta[l], grad_w[l],
    grad_b[l], w[l], b[l] (l = 1..L) and loss."""
    hand = hand_step(record, loss, digits, update_biases)
    out: dict[str, Array] = {"loss": np.array(hand.loss)}
    for l, h in enumerate(hand.layers, start=1):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
            out[f"{name}[{l}]"] = getattr(h, name)
    return out


def written_digits(text: str) -> int:
    """Significant digits of a number as written: ``0.1385`` 4, ``-2.50`` 3, ``1.2e-3`` 2."""
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return max(len(digits), 1)


def agrees(value: float, true: float, written: int) -> bool:
    """Whether ``value``, written to ``written`` significant digits, is ``true`` to those digits."""
    return f"{float(true):.{written}g}" == f"{float(value):.{written}g}"


def rounding_digits(
    record: StepRecord,
    loss: str,
    name: str,
    index: Sequence[int] | None,
    value: float,
    written: int,
    update_biases: bool = True,
) -> int | None:
    """The fewest digits K (of GRADING_DIGITS) at which the hand calculation gives ``value`` for
    ``name`` (answers-file name; ``index`` into its array, None for a scalar) to the ``written``
    digits; None when no K does, or the step is not one hand precision models."""
    for digits in GRADING_DIGITS:
        try:
            values = hand_values(record, loss, digits, update_biases)
        except HandPrecisionUnsupported:
            return None
        if name not in values:
            return None
        arr = values[name]
        hand = float(arr[tuple(index)] if index is not None else arr)
        if agrees(value, hand, written):
            return digits
    return None
