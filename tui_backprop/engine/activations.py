"""Activation functions, each with its derivative written right beside it.

Every activation maps z of shape (B, n) to a = f(z) of the same shape. ``grad(z, a)``
returns f'(z) elementwise; it receives a = f(z) as well, because for sigmoid and tanh
the derivative is cheapest (and easiest to check by eye) in terms of a.

elu, softplus, gelu and swish are computed through the stable sigmoid, expm1 and log1p, so
that no intermediate overflows for large |z| (see each function's comment); elu's alpha is fixed
at 1 (its derivative is then continuous at 0), and gelu is the tanh approximation.

Softmax is the exception: its Jacobian is not diagonal, so it has no elementwise
derivative. It is only allowed on the output layer together with the cross_entropy
loss, where the output delta simplifies to y - t (see ``losses.output_delta``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .names import ALIASES

Array = np.ndarray

LEAKY_SLOPE = 0.01
GELU_C = float(np.sqrt(2.0 / np.pi))  # gelu: u = GELU_C (z + GELU_K z^3)
GELU_K = 0.044715
GELU_CLIP = 50.0  # |z| beyond which gelu's tanh(u) is exactly +-1 in float64 (u > 4000)


@dataclass(frozen=True, slots=True)
class Activation:
    name: str
    fn: Callable[[Array], Array]
    grad: Callable[[Array, Array], Array]
    formula: str
    grad_formula: str

    def __str__(self) -> str:
        return self.name


# sigmoid(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) for z < 0: the same function,
# computed through e = e^-|z| <= 1, which never overflows and keeps full relative precision
# in both tails (sigmoid(-30) = 9.357622968840175e-14 to the last digit; below z = -745 it
# underflows to exactly 0). 1/2 + tanh(z/2)/2 would be cheaper, but it is off by 2e-4 of
# itself at z = -30 and returns 0 from z = -37 on.
# _ZERO and _ONE are 0.0 and 1.0 as 0-d arrays, which numpy combines with an array faster than a
# Python float (no scalar conversion a call; the same bits): sigmoid runs twice a step on xor.
_ZERO, _ONE = np.zeros(()), np.ones(())
_ZERO.flags.writeable = _ONE.flags.writeable = False


def _sigmoid(z: Array) -> Array:
    e = np.abs(z)
    np.negative(e, out=e)  # in place: fewer temporaries on the hot path
    np.exp(e, out=e)
    r = e + _ONE
    np.reciprocal(r, out=r)
    return np.where(z < _ZERO, e * r, r)


def _sigmoid_grad(z: Array, a: Array) -> Array:
    return a * (_ONE - a)  # sigma'(z) = sigma(z) (1 - sigma(z))


def _tanh_grad(z: Array, a: Array) -> Array:
    return 1.0 - a * a  # tanh'(z) = 1 - tanh(z)^2


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_grad(z: Array, a: Array) -> Array:
    return (z > 0.0).astype(z.dtype)  # relu'(0) = 0


def _leaky_relu(z: Array) -> Array:
    return np.where(z > 0.0, z, LEAKY_SLOPE * z)


def _leaky_relu_grad(z: Array, a: Array) -> Array:
    return np.where(z > 0.0, 1.0, LEAKY_SLOPE)  # slope 0.01 at 0 too


def _identity(z: Array) -> Array:
    return z


def _identity_grad(z: Array, a: Array) -> Array:
    return np.ones_like(z)


# elu with alpha = 1: z for z > 0, e^z - 1 below (expm1: precise near 0; min(z, 0): no overflow).
def _elu(z: Array) -> Array:
    return np.where(z > 0.0, z, np.expm1(np.minimum(z, 0.0)))


def _elu_grad(z: Array, a: Array) -> Array:
    return np.where(z > 0.0, 1.0, np.exp(np.minimum(z, 0.0)))  # e^z = a + 1 for z <= 0


def _softplus(z: Array) -> Array:
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))  # ln(1 + e^z), finite for any finite z


def _softplus_grad(z: Array, a: Array) -> Array:
    return _sigmoid(z)  # softplus'(z) = sigma(z)


def _sigmoid_pair(x: Array) -> tuple[Array, Array]:
    """sigma(x) and sigma(-x) = 1 - sigma(x), both to full relative precision, from one exp."""
    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    er = e * r
    negative = x < 0.0
    return np.where(negative, er, r), np.where(negative, r, er)


# gelu (tanh form): z/2 (1 + tanh u) = z sigma(2u), u = c (z + k z^3). Through sigma, the negative
# tail keeps its relative precision (1 + tanh u cancels there); z is clipped inside u so that z^3
# never overflows, which changes nothing: beyond the clip sigma(2u) is exactly 0 or 1.
def _gelu_u(z: Array) -> tuple[Array, Array]:
    zc = np.clip(z, -GELU_CLIP, GELU_CLIP)
    return GELU_C * (zc + GELU_K * (zc * zc * zc)), zc  # zc * zc * zc: 50x faster than zc**3


def _gelu(z: Array) -> Array:
    u, _ = _gelu_u(z)
    return z * _sigmoid(2.0 * u)


def _gelu_grad(z: Array, a: Array) -> Array:
    u, zc = _gelu_u(z)
    s, s_neg = _sigmoid_pair(2.0 * u)  # sigma(2u) and 1 - sigma(2u), without cancelling
    du = GELU_C * (1.0 + 3.0 * GELU_K * zc * zc)
    return s + 2.0 * zc * s * s_neg * du  # d/dz [z sigma(2u)] = sigma(2u) + z 2 sigma' u'


def _swish(z: Array) -> Array:
    return z * _sigmoid(z)  # z sigma(z), also called silu


def _swish_grad(z: Array, a: Array) -> Array:
    s, s_neg = _sigmoid_pair(z)
    return s + z * s * s_neg  # sigma + z sigma (1 - sigma) = a + sigma (1 - a)


def _sine_grad(z: Array, a: Array) -> Array:
    return np.cos(z)


def _softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_grad(z: Array, a: Array) -> Array:
    raise TypeError("softmax has no elementwise derivative; it pairs with cross_entropy only")


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("sigmoid", _sigmoid, _sigmoid_grad, "1 / (1 + e^-z)", "a (1 - a)"),
        Activation("tanh", np.tanh, _tanh_grad, "tanh(z)", "1 - a^2"),
        Activation("relu", _relu, _relu_grad, "max(z, 0)", "1 if z > 0 else 0"),
        Activation(
            "leaky_relu", _leaky_relu, _leaky_relu_grad, "z if z > 0 else 0.01 z", "1 if z > 0 else 0.01"
        ),
        Activation("identity", _identity, _identity_grad, "z", "1"),
        Activation("elu", _elu, _elu_grad, "z if z > 0 else e^z - 1 (alpha = 1)", "1 if z > 0 else e^z"),
        Activation("softplus", _softplus, _softplus_grad, "ln(1 + e^z)", "1 / (1 + e^-z)"),
        Activation(
            "gelu",
            _gelu,
            _gelu_grad,
            "z/2 (1 + tanh u), u = sqrt(2/pi) (z + 0.044715 z^3)",
            "(1 + tanh u)/2 + z/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 0.134145 z^2)",
        ),
        Activation("swish", _swish, _swish_grad, "z / (1 + e^-z)", "a + sigma(z) (1 - a)"),
        Activation("sine", np.sin, _sine_grad, "sin(z)", "cos(z)"),
        Activation("softmax", _softmax, _softmax_grad, "e^z_j / sum_k e^z_k", "(with cross_entropy) y - t"),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (``linear`` is an alias of ``identity``)."""
    return ACTIVATIONS[ALIASES.get(name, name)]
