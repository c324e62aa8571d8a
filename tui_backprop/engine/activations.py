"""Activation functions, each with its derivative written right beside it.

Every activation maps z of shape (B, n) to a = f(z) of the same shape. ``grad(z, a)``
returns f'(z) elementwise; it receives a = f(z) as well, because for sigmoid and tanh
the derivative is cheapest (and easiest to check by eye) in terms of a.

Softmax is the exception: its Jacobian is not diagonal, so it has no elementwise
derivative. It is only allowed on the output layer together with the cross_entropy
loss, where the output delta simplifies to y - t (see ``losses.output_delta``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray

LEAKY_SLOPE = 0.01


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
def _sigmoid(z: Array) -> Array:
    e = np.abs(z)
    np.negative(e, out=e)  # in place: fewer temporaries on the hot path
    np.exp(e, out=e)
    r = e + 1.0
    np.reciprocal(r, out=r)
    return np.where(z < 0.0, e * r, r)


def _sigmoid_grad(z: Array, a: Array) -> Array:
    return a * (1.0 - a)  # sigma'(z) = sigma(z) (1 - sigma(z))


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
        Activation("softmax", _softmax, _softmax_grad, "e^z_j / sum_k e^z_k", "(with cross_entropy) y - t"),
    )
}
ALIASES = {"linear": "identity"}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (``linear`` is an alias of ``identity``)."""
    return ACTIVATIONS[ALIASES.get(name, name)]
