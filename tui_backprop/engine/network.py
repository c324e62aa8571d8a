"""The forward and backward passes of a fully connected network.

Conventions (DESIGN section 3): layers l = 1..L after the input layer 0. W[l] has shape
(n_l, n_{l-1}), row j holding the weights into node j; b[l] has shape (n_l,), or (0,)
when the network has no biases. Lists here are indexed from 0, so ``W[0]`` is W[1].

    z[l] = a[l-1] @ W[l].T + b[l]        a[l] = f_l(z[l])        a[0] = X, shape (B, n_0)
    delta[L] = dl/dy * f'(z[L])          delta[l] = (delta[l+1] @ W[l+1]) * f'(z[l])
    grad_w[l] = delta[l].T @ a[l-1] / B  grad_b[l] = mean_k delta[l][k]

The update that follows is the optimiser's (optimizers.py).

Parameters are never changed in place: an update builds new arrays, so a StepRecord
can keep the arrays it was given and stays true forever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .losses import Loss, output_delta

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class Network:
    activations: tuple[Activation, ...]
    loss: Loss
    bias: bool

    def forward(self, W: Sequence[Array], b: Sequence[Array], x: Array) -> tuple[list[Array], list[Array]]:
        """z and a for every layer: lists of L arrays, each (B, n_l). a[0] = x is not included."""
        zs: list[Array] = []
        acts: list[Array] = []
        a = x
        for Wl, bl, act in zip(W, b, self.activations, strict=True):
            z = a @ Wl.T
            if self.bias:
                z += bl
            a = act.fn(z)
            zs.append(z)
            acts.append(a)
        return zs, acts

    def sample_losses(self, y: Array, t: Array, z_out: Array) -> Array:
        """Per-sample loss, shape (B,)."""
        return self.loss.fn(y, t, z_out)

    def backward(
        self, W: Sequence[Array], x: Array, t: Array, zs: Sequence[Array], acts: Sequence[Array]
    ) -> tuple[list[Array], list[Array], list[Array]]:
        """delta (B, n_l), grad_w (n_l, n_{l-1}) and grad_b (n_l,) for every layer.

        Uses W as it was before the update, as backpropagation requires.
        """
        L = len(W)
        B = float(x.shape[0])  # a float scalar: numpy converts a Python int more slowly (same bits)
        deltas: list[Array] = [None] * L  # type: ignore[list-item]
        grad_w: list[Array] = [None] * L  # type: ignore[list-item]
        grad_b: list[Array] = [None] * L  # type: ignore[list-item]
        delta = output_delta(self.loss, self.activations[-1], acts[-1], t, zs[-1])
        for l in range(L - 1, -1, -1):
            deltas[l] = delta
            a_prev = acts[l - 1] if l > 0 else x
            grad_w[l] = weight_gradient(delta, a_prev, B)
            # np.add.reduce / B is np.mean bit for bit, without its Python-level wrappers
            grad_b[l] = _sum(delta, 0) / B if self.bias else _EMPTY
            if l > 0:
                delta = (delta @ W[l]) * self.activations[l - 1].grad(zs[l - 1], acts[l - 1])
        return deltas, grad_w, grad_b


def weight_gradient(delta: Array, a_prev: Array, B: float) -> Array:
    """grad_w[l] = delta[l].T @ a[l-1] / B, shape (n_l, n_{l-1}), as a fresh array.

    ``B`` is the batch size as a float. The division is in place: the same bits as
    (delta.T @ a_prev) / B, one big array fewer. A StepRecord may make it again from the
    delta and a[l-1] it keeps (trainer.py): the same call on the same arrays, the same bits.
    """
    gw = delta.T @ a_prev
    gw /= B
    return gw


_sum = np.add.reduce  # what ndarray.sum calls, minus a Python wrapper: the same bits


def all_finite(zs: Sequence[Array]) -> bool:
    """Whether every element of every z is finite: the divergence rule's check of every weight
    and bias, read off the pre-activations.

    A non-finite W[l] or b[l] always makes a column of z[l] = a[l-1] @ W[l].T + b[l]
    non-finite (inf * a is +-inf, inf * 0 is nan), even where the activation would
    saturate it away, so one sum of squares per layer checks every parameter of that layer
    (z.ravel() dotted with itself: a quarter of a ufunc sum's cost on xor, a third on a
    64 x 256 batch). Squares of finite numbers can overflow too: only then is each element
    checked, so that a diverged step always has a non-finite number for its record's
    ``nonfinite`` to point at.
    """
    for z in zs:
        flat = z.ravel()
        if not math.isfinite(flat.dot(flat)) and not np.isfinite(z).all():
            return False
    return True


_EMPTY = np.zeros(0)
_EMPTY.flags.writeable = False


def initial_parameters(
    layers: Sequence[int], bias: bool, init
) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
    """W[l] (n_l, n_{l-1}) and b[l] (n_l,) from an init spec (see scenario.InitSpec).

    Random methods draw the layers in order from one generator seeded with ``init.seed``;
    with ``init.decimals`` = N every drawn weight and bias is rounded to N decimals (numbers a
    learner can multiply by hand).
    """
    decimals = getattr(init, "decimals", None)  # a spec made before the key existed has none
    rng = np.random.default_rng(init.seed)
    W: list[Array] = []
    b: list[Array] = []
    for l in range(1, len(layers)):
        n_in, n_out = layers[l - 1], layers[l]
        shape = (n_out, n_in)
        if init.method == "explicit":
            Wl = np.array(init.weights[l - 1], dtype=float)
            bl = np.array(init.biases[l - 1], dtype=float) if bias else _EMPTY
        else:
            if init.method == "constant":
                Wl = np.full(shape, float(init.value))
            elif init.method == "uniform":
                Wl = rng.uniform(init.low, init.high, size=shape)
            elif init.method == "normal":
                Wl = rng.normal(init.mean, init.std, size=shape)
            elif init.method == "xavier":
                limit = np.sqrt(6.0 / (n_in + n_out))
                Wl = rng.uniform(-limit, limit, size=shape)
            elif init.method == "he":
                Wl = rng.normal(0.0, np.sqrt(2.0 / n_in), size=shape)
            else:
                raise ValueError(f"unknown init method {init.method!r}")
            bl = np.full(n_out, float(init.bias_value)) if bias else _EMPTY
            if decimals is not None:
                Wl, bl = np.round(Wl, decimals), np.round(bl, decimals)
        W.append(_frozen(Wl))
        b.append(_frozen(bl))
    return tuple(W), tuple(b)


def _frozen(x: Array) -> Array:
    x = np.ascontiguousarray(x, dtype=float)
    x.flags.writeable = False
    return x
