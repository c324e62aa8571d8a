"""Optimisers (gd, momentum, adam) and l1/l2 regularisation against an independent
implementation written here, step by step over many steps and every batch mode.

The oracle keeps its own weights, computes its own gradients one sample at a time with
Python loops (the reference forward pass of conftest.py, then the chain rule written out
per node), adds the penalty's gradient and applies the update rule one number at a time
with Python floats. It shares nothing with the engine but the batch order, which
test_trainer.py checks on its own: each step it trains on the samples the record names.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from trace_schema import validate_trace

from tui_backprop import Trainer, write_trace
from tui_backprop.engine import make_optimizer
from tui_backprop.tui.widgets.header import Status

# f'(z) written from a = f(z)
DERIVATIVE = {
    "tanh": lambda z, a: 1.0 - a * a,
    "sigmoid": lambda z, a: a * (1.0 - a),
    "identity": lambda z, a: 1.0,
}


class Oracle:
    """Training with the mse loss, per sample and per number."""

    def __init__(
        self, ref, activations, W, b, *, lr, optimizer="gd", update_biases=True, l1=0.0, l2=0.0, **p
    ):
        self.ref, self.activations = ref, activations
        self.W = [np.array(w, dtype=float) for w in W]
        self.b = [np.array(v, dtype=float) for v in b] if b is not None else None
        self.lr, self.optimizer, self.update_biases, self.l1, self.l2 = lr, optimizer, update_biases, l1, l2
        self.momentum = p.get("momentum", 0.9)
        self.beta1, self.beta2, self.epsilon = (
            p.get("beta1", 0.9),
            p.get("beta2", 0.999),
            p.get("epsilon", 1e-8),
        )
        self.t = 0
        self.state = {}  # "velocity_w" -> one array per layer, ...
        kinds = ("w", "b") if update_biases else ("w",)
        slots = {"gd": (), "momentum": ("velocity",), "adam": ("m", "v")}[optimizer]
        for slot in slots:
            for kind in kinds:
                params = self.W if kind == "w" else (self.b or [np.zeros(0) for _ in self.W])
                self.state[f"{slot}_{kind}"] = [np.zeros_like(p) for p in params]

    def penalty(self) -> float:
        return self.ref.penalty(self.W, self.l1, self.l2)

    def gradients(self, X, T):
        """The mean over the batch of dl/dW and dl/db, plus dP/dW."""
        gw = [np.zeros_like(w) for w in self.W]
        gb = [np.zeros(w.shape[0]) for w in self.W]
        for x, t in zip(X, T, strict=True):
            zs, acts = self.ref.forward_sample(self.W, self.b, self.activations, x)
            n = len(t)
            L = len(self.W)
            delta = [None] * L
            f = DERIVATIVE[self.activations[-1]]
            delta[-1] = np.array(
                [2.0 / n * (acts[-1][j] - t[j]) * f(zs[-1][j], acts[-1][j]) for j in range(n)]
            )
            for l in range(L - 2, -1, -1):
                f = DERIVATIVE[self.activations[l]]
                below = self.W[l + 1]
                delta[l] = np.array(
                    [
                        sum(below[k, j] * delta[l + 1][k] for k in range(below.shape[0]))
                        * f(zs[l][j], acts[l][j])
                        for j in range(len(zs[l]))
                    ]
                )
            for l in range(L):
                a_prev = acts[l - 1] if l else np.asarray(x, dtype=float)
                for j in range(self.W[l].shape[0]):
                    gb[l][j] += delta[l][j] / len(X)
                    for i in range(self.W[l].shape[1]):
                        gw[l][j, i] += delta[l][j] * a_prev[i] / len(X)
        for l, w in enumerate(self.W):
            for idx in np.ndindex(w.shape):
                sign = float(w[idx] > 0) - float(w[idx] < 0)
                gw[l][idx] += self.l1 * sign + self.l2 * w[idx]
        return gw, gb

    def step(self, X, T) -> float:
        """One update on the batch (X, T); returns the batch loss before it, penalty included."""
        loss = self.ref.batch_loss(self.W, self.b, self.activations, "mse", X, T) + self.penalty()
        gw, gb = self.gradients(X, T)
        self.t += 1
        for l in range(len(self.W)):
            for idx in np.ndindex(self.W[l].shape):
                self.W[l][idx] = self.update("w", l, idx, self.W[l][idx], gw[l][idx])
            if self.b is not None and self.update_biases:
                for j in range(len(self.b[l])):
                    self.b[l][j] = self.update("b", l, j, self.b[l][j], gb[l][j])
        return loss

    def update(self, kind, l, idx, p: float, g: float) -> float:
        if self.optimizer == "gd":
            return p - self.lr * g
        if self.optimizer == "momentum":
            v = self.state[f"velocity_{kind}"][l]
            v[idx] = self.momentum * v[idx] + g
            return p - self.lr * v[idx]
        m, v = self.state[f"m_{kind}"][l], self.state[f"v_{kind}"][l]
        m[idx] = self.beta1 * m[idx] + (1 - self.beta1) * g
        v[idx] = self.beta2 * v[idx] + (1 - self.beta2) * g * g
        m_hat = m[idx] / (1 - self.beta1**self.t)
        v_hat = v[idx] / (1 - self.beta2**self.t)
        return p - self.lr * m_hat / (math.sqrt(v_hat) + self.epsilon)


def network(seed: int, bias: bool = True):
    """A 2-3-2 tanh / sigmoid network on 6 samples; |w| >= 0.05 keeps l1's kink away."""
    rng = np.random.default_rng(seed)
    W = [rng.choice([-1, 1], s) * rng.uniform(0.05, 1.0, s) for s in ((3, 2), (2, 3))]
    b = [rng.uniform(-0.5, 0.5, 3), rng.uniform(-0.5, 0.5, 2)] if bias else None
    X, T = rng.uniform(-2, 2, (6, 2)), rng.uniform(0, 1, (6, 2))
    return ("tanh", "sigmoid"), W, b, X, T


MODES = [("full", False), ("sample", True), (4, True), (2, False)]
CASES = [  # (optimizer, its parameters, learning rate, l1, l2)
    ("gd", {}, 0.5, 0.0, 0.0),
    ("gd", {}, 0.5, 0.02, 0.0),
    ("gd", {}, 0.5, 0.0, 0.3),
    ("gd", {}, 0.5, 0.01, 0.1),
    ("momentum", {}, 0.2, 0.0, 0.0),
    ("momentum", {"momentum": 0.5}, 0.3, 0.01, 0.05),
    ("momentum", {"momentum": 0.0}, 0.3, 0.0, 0.0),
    ("adam", {}, 0.05, 0.0, 0.0),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3}, 0.02, 0.0, 0.0),
    ("adam", {}, 0.01, 0.005, 0.02),
]


def case_id(case) -> str:
    name, params, lr, l1, l2 = case
    extra = ",".join(f"{k}={v:g}" for k, v in params.items())
    return f"{name}[{extra}]-lr{lr:g}-l1_{l1:g}-l2_{l2:g}"


def check_against_oracle(ref, scenario, oracle, X, T, steps: int) -> None:
    trainer = Trainer(scenario)
    for step in range(1, steps + 1):
        rec = trainer.step()
        idx = list(rec.batch)
        loss = oracle.step(X[idx], T[idx])
        where = f"step {step}"
        assert rec.loss == pytest.approx(loss, rel=1e-10, abs=1e-13), where
        for l, lay in enumerate(rec.layers):
            np.testing.assert_allclose(
                lay.w, oracle.W[l], rtol=1e-9, atol=1e-12, err_msg=f"{where} W[{l + 1}]"
            )
            want_b = oracle.b[l] if oracle.b is not None else np.zeros(0)
            np.testing.assert_allclose(lay.b, want_b, rtol=1e-9, atol=1e-12, err_msg=f"{where} b[{l + 1}]")
            assert set(lay.state) == set(oracle.state), where
            for name, arrays in oracle.state.items():
                np.testing.assert_allclose(
                    lay.state[name], arrays[l], rtol=1e-9, atol=1e-13, err_msg=f"{where} {name}[{l + 1}]"
                )
                assert not lay.state[name].flags.writeable
        penalty = ref.penalty(oracle.W, oracle.l1, oracle.l2)
        full = ref.batch_loss(oracle.W, oracle.b, oracle.activations, "mse", X, T) + penalty
        assert rec.train_loss == pytest.approx(full, rel=1e-9), where


@pytest.mark.parametrize("batch,shuffle", MODES, ids=[f"{b}-{s}" for b, s in MODES])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_each_optimizer_matches_an_independent_implementation_step_by_step(ref, case, batch, shuffle):
    name, params, lr, l1, l2 = case
    acts, W, b, X, T = network(7)
    s = ref.make_scenario(
        acts, W, b, inputs=X, targets=T, learning_rate=lr, batch=batch, shuffle=shuffle,
        optimizer=name, l1=l1, l2=l2, **params,
    )  # fmt: skip
    oracle = Oracle(ref, acts, W, b, lr=lr, optimizer=name, l1=l1, l2=l2, **params)
    check_against_oracle(ref, s, oracle, X, T, steps=40)


@pytest.mark.parametrize("name", ["momentum", "adam"])
@pytest.mark.parametrize(
    "bias,update_biases", [(True, False), (False, True)], ids=["frozen-biases", "no-biases"]
)
def test_frozen_or_absent_biases_with_an_optimizer(ref, name, bias, update_biases):
    acts, W, b, X, T = network(12, bias=bias)
    s = ref.make_scenario(
        acts, W, b, inputs=X, targets=T, learning_rate=0.1, batch=2, shuffle=True, optimizer=name,
        update_biases=update_biases, l2=0.01,
    )  # fmt: skip
    oracle = Oracle(ref, acts, W, b, lr=0.1, optimizer=name, update_biases=update_biases, l2=0.01)
    check_against_oracle(ref, s, oracle, X, T, steps=15)
    rec = Trainer(s).step()
    if not update_biases:  # frozen biases keep their value and have no optimiser state
        assert all(not any(k.endswith("_b") for k in lay.state) for lay in rec.layers)
        assert all(np.array_equal(lay.b, lay.b_before) for lay in rec.layers)
    else:  # no biases at all: empty b, and empty bias state
        assert all(lay.state[k].shape == (0,) for lay in rec.layers for k in lay.state if k.endswith("_b"))


def test_momentum_zero_is_gradient_descent_bit_for_bit(ref):
    acts, W, b, X, T = network(3)
    gd = Trainer(ref.make_scenario(acts, W, b, inputs=X, targets=T, learning_rate=0.4, batch=2))
    mom = Trainer(ref.make_scenario(acts, W, b, inputs=X, targets=T, learning_rate=0.4, batch=2,
                                    optimizer="momentum", momentum=0.0))  # fmt: skip
    gd.run(25, record=False)
    mom.run(25, record=False)
    for a, c in zip(gd.W + gd.b, mom.W + mom.b, strict=True):
        np.testing.assert_array_equal(a, c)


def test_adam_first_step_moves_every_weight_by_about_lr(ref):
    """m^ = g and sqrt(v^) = |g| at t = 1: each weight moves by lr g / (|g| + eps), about lr."""
    acts, W, b, X, T = network(4)
    rec = Trainer(ref.make_scenario(acts, W, b, inputs=X, targets=T, learning_rate=0.01,
                                    optimizer="adam")).step()  # fmt: skip
    for lay in rec.layers:
        g = lay.grad_w
        np.testing.assert_allclose(lay.w - lay.w_before, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-9)
        assert np.all(np.abs(lay.w - lay.w_before) > 0.0099)


def test_str_says_what_the_header_and_the_trace_show():
    assert str(make_optimizer("gd", 0.5)) == "GD(lr=0.5)"
    assert str(make_optimizer("momentum", 0.1, momentum=0.9)) == "Momentum(lr=0.1, momentum=0.9)"
    adam = make_optimizer("adam", 0.01, beta1=0.9, beta2=0.999, epsilon=1e-8)
    assert str(adam) == "Adam(lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-08)"


def test_the_header_shows_the_optimizer_instead_of_the_learning_rate(ref):
    acts, W, b, X, T = network(1)
    plain = ref.make_scenario(acts, W, b, inputs=X, targets=T, learning_rate=0.3)
    adam = dataclasses.replace(plain, optimizer="adam", beta2=0.99)
    assert Status.of(plain, None, 0.1, "paused", "10/s", "", None).optimizer == ""
    status = Status.of(adam, None, 0.1, "paused", "10/s", "", None)
    assert status.optimizer == "Adam(lr=0.3, beta1=0.9, beta2=0.99, epsilon=1e-08)"
    assert status.optimizer_short == "Adam(lr=0.3)"


def test_history_budget_counts_the_optimizer_state(ref):
    """A saved state of adam holds W, b, m and v: three times the arrays of plain gd."""
    rng = np.random.default_rng(0)
    W = [rng.normal(0, 0.05, (256, 784)), rng.normal(0, 0.05, (10, 256))]
    b = [np.zeros(256), np.zeros(10)]
    x, t = rng.random((1, 784)), np.eye(10)[:1]
    gd = Trainer(ref.make_scenario("sigmoid", W, b, inputs=x, targets=t))
    adam = Trainer(ref.make_scenario("sigmoid", W, b, inputs=x, targets=t, optimizer="adam"))
    mom = Trainer(ref.make_scenario("sigmoid", W, b, inputs=x, targets=t, optimizer="momentum"))
    assert 100 < gd.history_limit < 10_000
    assert abs(gd.history_limit - 3 * adam.history_limit) <= 3
    assert abs(gd.history_limit - 2 * mom.history_limit) <= 2


def test_the_trace_records_the_optimizer_state(ref, tmp_path):
    acts, W, b, X, T = network(5)
    s = ref.make_scenario(acts, W, b, inputs=X, targets=T, learning_rate=0.05, optimizer="adam", batch=4)
    trainer = Trainer(s)
    records = trainer.run(4)
    doc = json.loads(write_trace(tmp_path / "adam.json", trainer).read_text())
    validate_trace(doc)
    training = doc["scenario"]["training"]
    assert training["optimizer"] == "adam"
    assert (training["beta1"], training["beta2"], training["epsilon"]) == (0.9, 0.999, 1e-8)
    for step, rec in zip(doc["steps"], records, strict=True):
        for layer, lay in zip(step["layers"], rec.layers, strict=True):
            for name in ("m_w", "v_w", "m_b", "v_b"):
                assert layer[name] == lay.state[name].tolist()
    gd = dataclasses.replace(s, optimizer="gd")
    trainer = Trainer(gd)
    trainer.run(2)
    doc = json.loads(write_trace(tmp_path / "gd.json", trainer).read_text())
    assert "optimizer" not in doc["scenario"]["training"] and "beta1" not in doc["scenario"]["training"]
    # no optimiser state (the proportional split's e is written beside delta: test_split_trace.py)
    assert set(doc["steps"][0]["layers"][0]) == {"z", "a", "delta", "grad_w", "grad_b", "w", "b", "error"}


def test_an_optimizer_descends_the_proportional_split_when_asked(ref):
    """error_split = "proportional" hands its step to the optimiser in place of the gradient."""
    acts, W, b, X, T = network(6)
    gd = ref.make_scenario(acts, W, b, inputs=X, targets=T, learning_rate=0.1, error_split="proportional")
    plain = Trainer(gd).step()
    rec = Trainer(dataclasses.replace(gd, optimizer="adam")).step()
    for p, r in zip(plain.layers, rec.layers, strict=True):
        g = -p.update_w / 0.1  # the split's step, as gradient descent took it
        np.testing.assert_allclose(r.w - r.w_before, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-8, atol=1e-15)
        np.testing.assert_array_equal(r.update_w, r.w - r.w_before)
        np.testing.assert_allclose(r.state["m_w"], 0.1 * g, rtol=1e-8, atol=1e-15)
