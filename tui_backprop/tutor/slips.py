"""The slips a learner makes, each a documented change to one step of plain gradient descent.

A step is computed here again, in plain numpy and on purpose independently of the engine (the
engine must never learn these mistakes): ``slipped_step`` takes the weights before the step, the
batch and the run's settings, and one slip id (or None for the true step, which the tests hold
against the engine's records). Each slip of ``CATALOGUE`` changes one thing:

    error-sign                the output error t - y in place of y - t
    update-sign               W + lr * dL/dW in place of W - lr * dL/dW
    missing-derivative        delta without its f'(z) factor
    derivative-at-activation  f' taken at a in place of z (sigmoid: sigma(a)(1 - sigma(a)))
    updated-weights           a hidden delta made with the outgoing weights already updated
    no-batch-mean             the gradient summed over the batch, not averaged
    loss-factor               the loss's constant dropped (1/2 of half_sse, 2/n of mse, 2 of sse, 1/n of bce)
    bias-forgotten            the bias left out of z (bias-forgotten: z), or its gradient (input 1) forgotten
    transposed-weights        every square W read as its transpose (w_ij for w_ji)
    proportional-split        the hidden error split in proportion to the weights, not backpropagated

Shapes follow the engine: x (B, n_0), t (B, n_L), W[l] (n_l, n_{l-1}) with row j the weights into
node j, b[l] (n_l,) or (0,) without biases; z, a, delta (B, n_l); grad_w like W, grad_b like b.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class Slip:
    id: str
    sentence: str  # what the learner did, in one sentence
    formula: str  # the correct formula


CATALOGUE: tuple[Slip, ...] = (
    Slip(
        "error-sign",
        "the output error was taken as t − y instead of y − t: every delta and gradient has the wrong sign",
        "δ[L] = ∂ℓ/∂y ⊙ f′(z[L]), with ∂ℓ/∂y built from y − t (half_sse: y − t)",
    ),
    Slip(
        "update-sign",
        "the update added the gradient (gradient ascent) instead of subtracting it",
        "W ← W − η·∂L/∂W,  b ← b − η·∂L/∂b",
    ),
    Slip(
        "missing-derivative",
        "the deltas were computed without the activation's derivative f′(z)",
        "δ[L] = ∂ℓ/∂y ⊙ f′(z[L]);  δ[l] = (δ[l+1] · W[l+1]) ⊙ f′(z[l])",
    ),
    Slip(
        "derivative-at-activation",
        "the activation's derivative was taken at a instead of z (σ′ computed as σ(a)(1 − σ(a)))",
        "f′ at z: σ′(z) = σ(z)(1 − σ(z)) = a(1 − a)",
    ),
    Slip(
        "updated-weights",
        "a hidden delta was computed with the outgoing weights already updated in this step",
        "δ[l] = (δ[l+1] · W[l+1]) ⊙ f′(z[l]) with W[l+1] as it was before this step's update",
    ),
    Slip(
        "no-batch-mean",
        "the gradient was summed over the samples of the batch instead of averaged",
        "∂L/∂W[l] = (1/B) Σ_k δ[l]_k ᵀ a[l−1]_k,  ∂L/∂b[l] = (1/B) Σ_k δ[l]_k",
    ),
    Slip(
        "loss-factor",
        "the loss's constant was dropped (½ of half_sse, 2/n of mse's gradient, 2 of sse's, 1/n of bce)",
        "half_sse: ℓ = ½ Σ (y − t)², ∂ℓ/∂y = y − t;  mse: ℓ = (1/n) Σ (y − t)², ∂ℓ/∂y = (2/n)(y − t)",
    ),
    Slip(
        "bias-forgotten",
        "the bias was left out of z",
        "z[l] = W[l] a[l−1] + b[l]",
    ),
    Slip(
        "bias-forgotten",
        "the bias's input of 1 was forgotten in its gradient, so the bias did not learn",
        "∂L/∂b[l] = (1/B) Σ_k δ[l]_k · 1",
    ),
    Slip(
        "transposed-weights",
        "the weights were read transposed, w_ij as w_ji (row j of W[l] holds the weights into node j)",
        "z[l]_j = Σ_i W[l][j, i] a[l−1]_i + b[l]_j",
    ),
    Slip(
        "proportional-split",
        "the hidden error was split back in proportion to the weights instead of backpropagated",
        "δ[l] = (δ[l+1] · W[l+1]) ⊙ f′(z[l]): each weight passes its share undivided, times f′(z[l])",
    ),
)
SLIP_IDS = tuple(dict.fromkeys(s.id for s in CATALOGUE))


@dataclass(frozen=True, slots=True)
class Settings:
    """What a step needs besides its weights and batch (plain gradient descent only)."""

    activations: tuple[str, ...]  # one per layer after the input
    loss: str
    learning_rate: float
    bias: bool
    update_biases: bool


@dataclass(frozen=True, slots=True)
class Step:
    """Every number of one step as the learner with a slip computes it."""

    z: tuple[Array, ...]
    a: tuple[Array, ...]
    loss: float
    delta: tuple[Array, ...]
    error: tuple[Array, ...]  # the proportional split e[l] (the slip proportional-split's signal)
    grad_w: tuple[Array, ...]
    grad_b: tuple[Array, ...]
    w: tuple[Array, ...]  # after the update
    b: tuple[Array, ...]


# -- activations and losses, each derivative beside its function ---------------------------------


def activate(name: str, z: Array) -> Array:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # 1 / (1 + e^-z), without overflow
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name in ("identity", "linear"):
        return z.copy()
    if name == "elu":  # alpha = 1
        return np.where(z > 0, z, np.exp(np.minimum(z, 0.0)) - 1.0)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    if name == "gelu":  # the tanh form
        return 0.5 * z * (1.0 + np.tanh(_gelu_u(z)))
    if name == "swish":
        return z * activate("sigmoid", z)
    if name == "sine":
        return np.sin(z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(f"no activation {name!r}")


def slope(name: str, z: Array) -> Array:
    """f′(z) (softmax: only ever with cross_entropy, whose delta needs none: ones)."""
    if name == "sigmoid":
        s = activate("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    if name == "elu":
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
    if name == "softplus":
        return activate("sigmoid", z)
    if name == "gelu":  # (1 + tanh u)/2 + z/2 (1 - tanh^2 u) u'
        th = np.tanh(_gelu_u(z))
        zc = np.clip(z, -50.0, 50.0)
        return 0.5 * (1.0 + th) + 0.5 * zc * (1.0 - th * th) * GELU_C * (1.0 + 3 * GELU_K * zc * zc)
    if name == "swish":
        s = activate("sigmoid", z)
        return s * (1.0 + z * (1.0 - s))
    if name == "sine":
        return np.cos(z)
    if name in ("identity", "linear", "softmax"):
        return np.ones_like(z)
    raise ValueError(f"no activation {name!r}")


GELU_C, GELU_K = np.sqrt(2.0 / np.pi), 0.044715


def _gelu_u(z: Array) -> Array:
    """u = sqrt(2/pi) (z + 0.044715 z^3), z clipped at 50 (beyond it tanh u is exactly +-1)."""
    zc = np.clip(z, -50.0, 50.0)
    return GELU_C * (zc + GELU_K * zc**3)


def sample_losses(loss: str, y: Array, t: Array, z: Array) -> Array:
    """ℓ(y_k, t_k) of each sample, shape (B,)."""
    n = y.shape[1]
    if loss == "mse":
        return ((y - t) ** 2).sum(axis=1) / n
    if loss == "sse":
        return ((y - t) ** 2).sum(axis=1)
    if loss == "half_sse":
        return 0.5 * ((y - t) ** 2).sum(axis=1)
    if loss == "bce":  # -ln y = softplus(-z), -ln(1 - y) = softplus(z)
        return (t * np.logaddexp(0.0, -z) + (1 - t) * np.logaddexp(0.0, z)).sum(axis=1) / n
    if loss == "cross_entropy":
        zmax = z.max(axis=1, keepdims=True)
        logsum = zmax + np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
        return (t * (logsum - z)).sum(axis=1)
    raise ValueError(f"no loss {loss!r}")


def loss_slope(loss: str, y: Array, t: Array) -> Array:
    """∂ℓ/∂y, shape (B, n) (bce and cross_entropy: their delta is made directly, see output_delta)."""
    n = y.shape[1]
    return {"mse": 2.0 / n, "sse": 2.0, "half_sse": 1.0}.get(loss, 1.0) * (y - t)


LOSS_FACTOR_SLIP = {  # loss-factor: (factor on the loss value, factor on the output delta)
    "half_sse": (2.0, 2.0),  # the 1/2 dropped: sum (y - t)^2, and 2 (y - t)
    "sse": (1.0, 0.5),  # the 2 of the gradient dropped
}


def _loss_factor(loss: str, n: int) -> tuple[float, float]:
    if loss == "mse":
        return 1.0, n / 2.0  # the 2/n of the gradient dropped: y - t
    if loss == "bce":
        return float(n), float(n)  # the 1/n dropped
    return LOSS_FACTOR_SLIP.get(loss, (1.0, 1.0))


# -- one step ---------------------------------------------------------------------------------------


def forward(
    W: Sequence[Array], b: Sequence[Array], x: Array, s: Settings, slip: str | None, variant: int = 0
) -> tuple[list[Array], list[Array]]:
    """z[l] and a[l] of every layer, l = 1..L."""
    zs, acts, a = [], [], x
    for Wl, bl, name in zip(W, b, s.activations, strict=True):
        z = a @ Wl.T
        if s.bias and not (slip == "bias-forgotten" and variant == 0):
            z = z + bl
        a = activate(name, z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def slipped_step(
    W: Sequence[Array],
    b: Sequence[Array],
    x: Array,
    t: Array,
    s: Settings,
    slip: str | None,
    variant: int = 0,
) -> Step:
    """One step of gradient descent from W, b on the batch (x, t), with ``slip`` (an id of
    CATALOGUE, ``variant`` its entry among those of that id) or none."""
    L = len(W)
    B = x.shape[0]
    zs, acts = forward(W, b, x, s, slip, variant)
    y, z_out, out_act = acts[-1], zs[-1], s.activations[-1]
    lf_loss, lf_delta = _loss_factor(s.loss, y.shape[1]) if slip == "loss-factor" else (1.0, 1.0)
    loss = float(lf_loss * sample_losses(s.loss, y, t, z_out).mean())

    def f_prime(l: int) -> Array:  # f′ of layer l (0-based) as the learner takes it
        if slip == "missing-derivative":
            return np.ones_like(zs[l])
        if slip == "derivative-at-activation":
            return slope(s.activations[l], acts[l])
        return slope(s.activations[l], zs[l])

    direct = (s.loss == "cross_entropy" and out_act == "softmax") or (
        s.loss == "bce" and out_act == "sigmoid"
    )
    if direct:
        d = (y - t) / (y.shape[1] if s.loss == "bce" else 1)  # no f′ factor to slip on
    else:
        error_out = loss_slope(s.loss, y, t)
        d = error_out * f_prime(L - 1)
    d = lf_delta * d
    if slip == "error-sign":
        d = -d
    deltas: list[Array] = [d]
    grad_w: list[Array] = [np.empty(0)] * L
    grad_b: list[Array] = [np.empty(0)] * L
    new_w: list[Array] = [np.empty(0)] * L
    new_b: list[Array] = [np.empty(0)] * L
    errors = _split(W, t - y, s)

    def gradients(l: int, delta: Array) -> None:  # l 0-based; computes and applies layer l's update
        a_prev = acts[l - 1] if l > 0 else x
        scale = 1.0 if slip == "no-batch-mean" else 1.0 / B
        grad_w[l] = scale * (delta.T @ a_prev)
        if s.bias:
            gb = scale * delta.sum(axis=0)
            grad_b[l] = np.zeros_like(gb) if slip == "bias-forgotten" and variant == 1 else gb
        else:
            grad_b[l] = np.zeros(0)
        sign = 1.0 if slip == "update-sign" else -1.0
        new_w[l] = W[l] + sign * s.learning_rate * grad_w[l]
        moves = s.bias and s.update_biases
        new_b[l] = b[l] + sign * s.learning_rate * grad_b[l] if moves else b[l].copy()

    gradients(L - 1, d)
    for l in range(L - 2, -1, -1):  # hidden layers, from L-1 down to 1
        if slip == "proportional-split":
            d = -errors[l] * f_prime(l)
        else:
            W_next = new_w[l + 1] if slip == "updated-weights" else W[l + 1]
            d = (d @ W_next) * f_prime(l)
        deltas.insert(0, d)
        gradients(l, d)
    return Step(
        tuple(zs),
        tuple(acts),
        loss,
        tuple(deltas),
        tuple(errors),
        tuple(grad_w),
        tuple(grad_b),
        tuple(new_w),
        tuple(new_b),
    )


def _split(W: Sequence[Array], e_out: Array, s: Settings) -> list[Array]:
    """The proportional split e[l]: e[L] = t − y, then e[l]_i = Σ_j e[l+1]_j · w_ji / Σ_k w_jk."""
    errors = [e_out]
    e = e_out
    for Wl in reversed(W[1:]):
        with np.errstate(divide="ignore", invalid="ignore"):
            e = (e / Wl.sum(axis=1)) @ Wl
        errors.insert(0, e)
    return errors


def training_loss(
    W: Sequence[Array],
    b: Sequence[Array],
    inputs: Array,
    targets: Array,
    s: Settings,
    slip: str | None,
    variant: int = 0,
) -> float:
    """The training-set loss of W, b, as the learner with the slip computes it."""
    zs, acts = forward(W, b, inputs, s, slip, variant)
    factor = _loss_factor(s.loss, acts[-1].shape[1])[0] if slip == "loss-factor" else 1.0
    return float(factor * sample_losses(s.loss, acts[-1], targets, zs[-1]).mean())


def learner_layout(W: Sequence[Array], slip: str | None) -> list[Array]:
    """The weights as the learner holds them: transposed-weights reads every square W as its
    transpose; any other slip holds them as they are."""
    if slip != "transposed-weights":
        return [w.copy() for w in W]
    return [w.T.copy() if w.shape[0] == w.shape[1] else w.copy() for w in W]
