"""A probe: the network's forward pass at one point x that the user gives, and with a target t
its backward pass too, with the weights as they are, without an update.

    record = probe(network, W, b, x)            # forward only: z and a of every layer
    record = probe(network, W, b, x, t)         # and the loss, every delta, grad_w and grad_b

x need not be a sample of the data. The passes are Network.forward and Network.backward, the
code every step runs (one copy of the maths); W and b are only read, so the run being probed
is left exactly as it was, and a probe is never a step: nothing trains on it and no trace
records it.

The result is a ProbeRecord: a StepRecord of a batch of one (B = 1), so that every panel and
the explain panel (engine/explain.py) read it as they read a step, with these differences:
``batch`` is () (the point is no sample of the data set); ``w`` is ``w_before`` and ``b`` is
``b_before`` (no update) and the optimiser state is empty; ``train_loss`` is nan and
``evaluated`` False (no training-set loss is computed); ``step`` and ``epoch`` say whose
weights were probed. With a target, ``loss``, ``delta``, ``grad_w`` and ``grad_b`` are what a
step on that one point would compute (with an l1/l2 penalty, its P(W) in the loss and dP/dW
in grad_w, as in a step); without one they are nan, ``has_target`` is False and ``reveal``
says that only the forward pass exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .network import Network
from .phases import FULL, Reveal
from .record import LayerRecord, NonFinite, StepRecord, find_nonfinite
from .regularization import Penalty

Array = np.ndarray

CLASS_TOLERANCE = 1e-9  # a cross_entropy target sums to 1 within this (the scenario reader's)


@dataclass(frozen=True, slots=True)
class ProbeRecord(StepRecord):
    """The passes at one point, as a one-sample StepRecord (see the module's docstring)."""

    has_target: bool = True  # False: forward only; t, the loss, delta and the gradients are nan

    @property
    def point(self) -> Array:
        """x, shape (n_0,)."""
        return self.x[0]

    @property
    def target(self) -> Array | None:
        """t, shape (n_L,), or None when the probe has no target."""
        return self.t[0] if self.has_target else None

    @property
    def reveal(self) -> Reveal:
        """What the probe computed: everything but the update, or the forward pass alone."""
        if self.has_target:
            return Reveal(FULL.forward, loss=True, delta_from=0, gradients=True, update=False)
        none = len(self.layers) + 1  # the lowest layer with a delta: none has one
        return Reveal(FULL.forward, loss=False, delta_from=none, gradients=False, update=False)


def probe(
    network: Network,
    W: Sequence[Array],
    b: Sequence[Array],
    x: Sequence[float] | Array,
    t: Sequence[float] | Array | None = None,
    *,
    penalty: Penalty | None = None,
    step: int = 0,
    epoch: int = 1,
    learning_rate: float = math.nan,
) -> ProbeRecord:
    """The forward pass of weights W[l] (n_l, n_{l-1}) and biases b[l] at x (n_0 numbers), and
    with a target t (n_L numbers) the loss and the backward pass, as one frozen ProbeRecord.

    ``penalty``: the run's l1/l2 penalty, added as a step adds it; ``step``, ``epoch``,
    ``learning_rate``: whose weights these are, for the record's reader. ValueError, in words,
    for an x or t of the wrong length, a number that is not finite, or a target the loss cannot
    take (bce: between 0 and 1; cross_entropy: a probability distribution)."""
    W, b = [_read_only(w) for w in W], [_read_only(v) for v in b]
    X = point(x, W[0].shape[1], "x")[None, :]
    T = None if t is None else target(network.loss.name, t, W[-1].shape[0])[None, :]
    with np.errstate(all="ignore"):
        zs, acts = network.forward(W, b, X)
        if T is None:
            return _forward_only(network, W, b, X, zs, acts, step, epoch, learning_rate)
        sample_losses = network.sample_losses(acts[-1], T, zs[-1])
        deltas, grad_w, grad_b = network.backward(W, X, T, zs, acts)
        loss, pen = float(sample_losses[0]), 0.0
        if penalty:  # as a step: P(W) in the loss, dP/dW in grad_w
            pen = penalty(W)
            grad_w = [g + d for g, d in zip(grad_w, penalty.grad(W), strict=True)]
            loss += pen
    layers = _layers(network, W, b, zs, acts, deltas, grad_w, grad_b)
    return ProbeRecord(
        step=step,
        epoch=epoch,
        batch=(),
        x=_read_only(X),
        t=_read_only(T),
        sample_losses=_frozen(sample_losses),
        loss=loss,
        train_loss=math.nan,
        learning_rate=learning_rate,
        layers=layers,
        nonfinite=find_nonfinite(layers, loss, 0.0),
        penalty=pen,
        evaluated=False,
    )


def _forward_only(
    network: Network,
    W: Sequence[Array],
    b: Sequence[Array],
    X: Array,
    zs: list[Array],
    acts: list[Array],
    step: int,
    epoch: int,
    learning_rate: float,
) -> ProbeRecord:
    """The probe without a target: z and a; everything the target would give is nan."""
    deltas = [np.full_like(a, math.nan) for a in acts]
    grad_w = [np.full_like(w, math.nan) for w in W]
    grad_b = [np.full_like(v, math.nan) for v in b]
    layers = _layers(network, W, b, zs, acts, deltas, grad_w, grad_b)
    return ProbeRecord(
        step=step,
        epoch=epoch,
        batch=(),
        x=_read_only(X),
        t=_frozen(np.full((1, W[-1].shape[0]), math.nan)),
        sample_losses=_frozen(np.full(1, math.nan)),
        loss=math.nan,
        train_loss=math.nan,
        learning_rate=learning_rate,
        layers=layers,
        nonfinite=_first_nonfinite_forward(layers),
        evaluated=False,
        has_target=False,
    )


def _layers(
    network: Network,
    W: Sequence[Array],
    b: Sequence[Array],
    zs: list[Array],
    acts: list[Array],
    deltas: list[Array],
    grad_w: list[Array],
    grad_b: list[Array],
) -> tuple[LayerRecord, ...]:
    """One LayerRecord a layer, its (read-only) weights both before and after: a probe updates
    nothing."""
    return tuple(
        LayerRecord(
            activation=network.activations[l].name,
            z=_frozen(zs[l]),
            a=_frozen(acts[l]),
            delta=_frozen(deltas[l]),
            grad_w=_frozen(grad_w[l]),
            grad_b=_frozen(grad_b[l]),
            w_before=W[l],
            b_before=b[l],
            w=W[l],
            b=b[l],
        )
        for l in range(len(W))
    )


def _first_nonfinite_forward(layers: tuple[LayerRecord, ...]) -> NonFinite | None:
    """The first non-finite z or a of a forward-only probe (None when all are finite)."""
    found = find_nonfinite(layers, 0.0, 0.0)
    return found if found is not None and found.quantity in ("z", "a") else None


def point(values: Sequence[float] | Array, n: int, name: str) -> Array:
    """``values`` as n finite floats, shape (n,); ValueError naming ``name`` otherwise."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size != n:
        raise ValueError(f"{name} needs {n} {'number' if n == 1 else 'numbers'}, got {v.size}")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {float(v[bad[0]])}: every number must be finite")
    return v


def target(loss: str, values: Sequence[float] | Array, n: int) -> Array:
    """A target of n numbers that ``loss`` can take, shape (n,); ValueError in words otherwise
    (bce: each between 0 and 1; cross_entropy: non-negative, summing to 1)."""
    t = point(values, n, "t")
    if loss == "bce" and ((t < 0) | (t > 1)).any():
        raise ValueError(f"bce needs a target between 0 and 1, got {_listed(t)}")
    if loss == "cross_entropy" and ((t < 0).any() or abs(float(t.sum()) - 1.0) > CLASS_TOLERANCE):
        raise ValueError(
            f"cross_entropy needs a target that is a probability distribution (non-negative, "
            f"summing to 1), got {_listed(t)}"
        )
    return t


def _listed(t: Array) -> str:
    return ", ".join(f"{v:g}" for v in t)


def _frozen(x: Array) -> Array:
    """An array this module made, read-only from now on."""
    x.flags.writeable = False
    return x


def _read_only(x: Array) -> Array:
    """A parameter as the record keeps it: the caller's own array when it is read-only already
    (a Trainer's always are), else a read-only copy (the caller's flags are left alone)."""
    x = np.asarray(x, dtype=float)
    if x.flags.writeable:
        x = x.copy()
        x.flags.writeable = False
    return x
