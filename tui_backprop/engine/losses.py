"""Per-sample losses l(y, t), each with its derivative dl/dy right beside it.

y and t have shape (B, n): B samples, n = n_L outputs. ``fn`` returns the loss of each
sample, shape (B,); the batch loss is its mean. ``dy`` returns dl/dy, shape (B, n).
``fn`` also receives z = z[L], so that bce and cross_entropy can be computed in their
numerically stable forms from the pre-activations instead of from ln y.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .names import LOSS_OUTPUTS

Array = np.ndarray
_sum = np.add.reduce  # ndarray.sum without its Python wrapper: the same bits, less overhead


@dataclass(frozen=True, slots=True)
class Loss:
    name: str
    fn: Callable[[Array, Array, Array], Array]
    dy: Callable[[Array, Array], Array]
    formula: str
    dy_formula: str
    needs_output: str | None = None  # the output activation this loss requires

    def __str__(self) -> str:
        return self.name


def _mse(y: Array, t: Array, z: Array) -> Array:
    e = y - t
    # (1/n) sum_j (y_j - t_j)^2, as np.mean computes it; n as a float, which numpy takes faster
    return _sum(e * e, 1) / float(e.shape[1])


def _mse_dy(y: Array, t: Array) -> Array:
    return (2.0 / y.shape[1]) * (y - t)


def _sse(y: Array, t: Array, z: Array) -> Array:
    e = y - t
    return _sum(e * e, 1)  # sum_j (y_j - t_j)^2


def _sse_dy(y: Array, t: Array) -> Array:
    return 2.0 * (y - t)


def _half_sse(y: Array, t: Array, z: Array) -> Array:
    e = y - t
    return 0.5 * _sum(e * e, 1)  # 1/2 sum_j (y_j - t_j)^2


def _half_sse_dy(y: Array, t: Array) -> Array:
    return y - t  # the "final error" of the worked examples


# bce: -(1/n) sum_j [t ln y + (1 - t) ln(1 - y)] with y = sigmoid(z), which equals
# (1/n) sum_j [max(z, 0) - z t + ln(1 + e^-|z|)] and never takes the log of 0.
def _bce(y: Array, t: Array, z: Array) -> Array:
    return (np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))).sum(axis=1) / z.shape[1]


def _bce_dy(y: Array, t: Array) -> Array:
    return (y - t) / (y * (1.0 - y) * y.shape[1])


# cross_entropy: -sum_j t_j ln y_j with y = softmax(z), which equals
# sum_j t_j (logsumexp(z) - z_j).
def _cross_entropy(y: Array, t: Array, z: Array) -> Array:
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return (t * (lse - z)).sum(axis=1)


def _cross_entropy_dy(y: Array, t: Array) -> Array:
    return -t / y


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", _mse, _mse_dy, "(1/n) sum_j (y_j - t_j)^2", "2 (y - t) / n"),
        Loss("sse", _sse, _sse_dy, "sum_j (y_j - t_j)^2", "2 (y - t)"),
        Loss("half_sse", _half_sse, _half_sse_dy, "1/2 sum_j (y_j - t_j)^2", "y - t"),
        Loss(
            "bce",
            _bce,
            _bce_dy,
            "-(1/n) sum_j [t_j ln y_j + (1 - t_j) ln(1 - y_j)]",
            "(y - t) / (y (1 - y) n)",
            needs_output=LOSS_OUTPUTS["bce"],
        ),
        Loss(
            "cross_entropy",
            _cross_entropy,
            _cross_entropy_dy,
            "-sum_j t_j ln y_j",
            "-t / y",
            needs_output=LOSS_OUTPUTS["cross_entropy"],
        ),
    )
}


def output_delta(loss: Loss, act: Activation, y: Array, t: Array, z: Array) -> Array:
    """delta[L] = dl/dy * f'(z[L]), shape (B, n).

    Two pairs are simplified exactly, which also keeps them finite when y saturates:
    sigmoid with bce gives (y - t) / n, softmax with cross_entropy gives y sum(t) - t
    (y - t for a target distribution).
    """
    if loss.name == "bce" and act.name == "sigmoid":
        return (y - t) / y.shape[1]
    if loss.name == "cross_entropy" and act.name == "softmax":
        return y * t.sum(axis=1, keepdims=True) - t
    return loss.dy(y, t) * act.grad(z, y)


def get_loss(name: str) -> Loss:
    return LOSSES[name]
