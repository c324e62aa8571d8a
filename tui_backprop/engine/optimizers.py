"""Optimisers: how a step turns the gradient g into the change of each weight and bias.

    GD        W <- W - lr g
    Momentum  v <- mu v + g;  W <- W - lr v                      (PyTorch's SGD, no dampening)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t = the update's number from 1
              m^ = m / (1 - b1^t);  v^ = v / (1 - b2^t);  W <- W - lr m^ / (sqrt(v^) + eps)

The same rule applies to every bias, unless the biases are frozen. Each optimiser has one
method, ``step(W, b, grad_w, grad_b, state, lr=None) -> (new_W, new_b, new_state)``: g may
be the true gradient or any other direction (the proportional error split), and nothing is
changed in place. ``lr`` is this update's rate (a learning-rate schedule's, engine/schedule.py),
passed in rather than set on the optimiser, which forked trainers share; None is ``self.lr``.
The state is immutable like the parameters: read-only arrays, one per layer under each name
("velocity_w", "velocity_b"; "m_w", "v_w", "m_b", "v_b"), so that undo restores it by reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from .names import OPTIMIZER_PARAMS

Array = np.ndarray
Params = tuple[Array, ...]


class OptimizerState(NamedTuple):
    t: int  # updates taken so far
    arrays: Mapping[str, Params]  # name -> one array per layer, shaped like W[l] or b[l]

    def layer(self, l: int) -> Mapping[str, Array]:
        """The state of layer ``l`` (0-based), by name, read-only: what a LayerRecord holds."""
        if not self.arrays:  # plain gd, on the record path of every step: no mapping to build
            return _NO_ARRAYS
        return MappingProxyType({name: arrays[l] for name, arrays in self.arrays.items()})


_NO_ARRAYS: Mapping[str, Array] = MappingProxyType({})


class Optimizer:
    """The shared loop: ``rule`` updates one array p from its gradient g and its slots."""

    name = ""
    slots: tuple[str, ...] = ()  # the names of the per-array state, e.g. ("m", "v")

    def __init__(self, lr: float, update_biases: bool = True) -> None:
        self.lr = lr
        self.update_biases = update_biases

    def params(self) -> dict[str, float]:
        return {"lr": self.lr}

    def __str__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v:g}' for k, v in self.params().items())})"

    def init(self, W: Sequence[Array], b: Sequence[Array]) -> OptimizerState:
        """The state before the first step: every slot zero."""
        arrays: dict[str, Params] = {}
        for kind, params in (("w", W), ("b", b)) if self.update_biases else (("w", W),):
            for slot in self.slots:
                arrays[f"{slot}_{kind}"] = tuple(_frozen(np.zeros_like(p)) for p in params)
        return OptimizerState(0, arrays)

    def step(
        self,
        W: Sequence[Array],
        b: Sequence[Array],
        grad_w: Sequence[Array],
        grad_b: Sequence[Array],
        state: OptimizerState,
        lr: float | None = None,
        spend: Sequence[bool] = (),
    ) -> tuple[Params, Params, OptimizerState]:
        """New W and b (n_l, n_{l-1}) and (n_l,) per layer, and the state after this update, at
        the rate ``lr`` (None: the optimiser's own). ``spend`` names, per layer, the grad_w the
        caller gives up: plain gradient descent writes that layer's new W into it (the others
        make new arrays, and leave it as it was)."""
        t = state.t + 1
        rate = self.lr if lr is None else lr
        arrays: dict[str, Params] = {}
        new_W = self._apply("w", W, grad_w, state, (t, rate), arrays)
        new_b = self._apply("b", b, grad_b, state, (t, rate), arrays) if self.update_biases else tuple(b)
        return new_W, new_b, OptimizerState(t, arrays)

    def _apply(
        self,
        kind: str,
        params: Sequence[Array],
        grads: Sequence[Array],
        state: OptimizerState,
        when: tuple[int, float],
        arrays: dict[str, Params],
    ) -> Params:
        t, lr = when  # the update's number from 1, and its rate
        names = [f"{slot}_{kind}" for slot in self.slots]
        new_params: list[Array] = []
        new_slots: list[list[Array]] = [[] for _ in names]
        for l, (p, g) in enumerate(zip(params, grads, strict=True)):
            slots = tuple(state.arrays[name][l] for name in names)
            if p.size:
                p, slots = self.rule(p, g, slots, t, lr)
            new_params.append(p)
            for i, s in enumerate(slots):
                new_slots[i].append(_frozen(s))
        for name, per_layer in zip(names, new_slots, strict=True):
            arrays[name] = tuple(per_layer)
        return tuple(new_params)

    def rule(
        self, p: Array, g: Array, slots: tuple[Array, ...], t: int, lr: float
    ) -> tuple[Array, tuple[Array, ...]]:
        """One array's update at rate ``lr``: the new p and its slots."""
        raise NotImplementedError


class GD(Optimizer):
    """Plain gradient descent, W - lr g: no state."""

    name = "gd"

    def step(self, W, b, grad_w, grad_b, state, lr=None, spend=()):  # the hot path of small networks
        if lr is None:
            lr = self.lr
        if spend:  # a big layer's new W in its spent gradient: no fresh 1.6 MB array to write
            layers = zip(W, grad_w, spend, strict=True)
            new_W = tuple([_descend(Wl, lr, g, g if spent else None) for Wl, g, spent in layers])
        else:
            new_W = tuple([_descend(Wl, lr, g) for Wl, g in zip(W, grad_w, strict=True)])
        if self.update_biases:
            new_b = tuple([_descend(bl, lr, g) if bl.size else bl for bl, g in zip(b, grad_b, strict=True)])
        else:
            new_b = tuple(b)
        return new_W, new_b, state


class Momentum(Optimizer):
    """v <- mu v + g; W <- W - lr v. With mu = 0 it is plain gradient descent."""

    name = "momentum"
    slots = ("velocity",)

    def __init__(self, lr: float, momentum: float = 0.9, update_biases: bool = True) -> None:
        super().__init__(lr, update_biases)
        self.momentum = momentum

    def params(self) -> dict[str, float]:
        return {"lr": self.lr, "momentum": self.momentum}

    def rule(self, p, g, slots, t, lr):
        (v,) = slots
        v = self.momentum * v + g
        return p - lr * v, (v,)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): steps of about lr per weight, scaled by the gradient's
    running mean m over its running root mean square sqrt(v), both corrected for starting at 0."""

    name = "adam"
    slots = ("m", "v")

    def __init__(
        self,
        lr: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        update_biases: bool = True,
    ) -> None:
        super().__init__(lr, update_biases)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def params(self) -> dict[str, float]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}

    def rule(self, p, g, slots, t, lr):
        m, v = slots
        b1, b2 = self.beta1, self.beta2
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        return p - lr * m_hat / (np.sqrt(v_hat) + self.epsilon), (m, v)


OPTIMIZERS: dict[str, type[Optimizer]] = {"gd": GD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, lr: float, update_biases: bool = True, **params: float) -> Optimizer:
    """The optimiser called ``name`` ("gd", "momentum", "adam") with its own parameters."""
    return OPTIMIZERS[name](lr, update_biases=update_biases, **params)  # type: ignore[call-arg]


def optimizer_for(scenario: Any) -> Optimizer:
    """The optimiser a Scenario asks for ([training] optimizer and its parameters)."""
    params = {key: getattr(scenario, key) for key in OPTIMIZER_PARAMS[scenario.optimizer]}
    return make_optimizer(scenario.optimizer, scenario.learning_rate, scenario.update_biases, **params)


def _frozen(x: Array) -> Array:
    """x, made read-only (``setflags`` costs half of setting ``flags.writeable``)."""
    x.setflags(write=False)
    return x


def _descend(p: Array, lr: float, g: Array, out: Array | None = None) -> Array:
    """p - lr g, in one array: lr g is computed into ``out`` (a fresh array when None; g itself
    when its caller gives it up) and p subtracted into it (the same bits as ``p - lr * g``; a
    big layer's second 1.6 MB array and pass are saved)."""
    step = np.multiply(g, lr) if out is None else np.multiply(g, lr, out=out)
    return np.subtract(p, step, out=step)
