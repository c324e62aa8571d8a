"""L1 and L2 regularisation: the penalised loss, its gradient against finite differences of
the reference (conftest.py: ref.total_loss = mean per-sample loss + l1 sum|w| + (l2/2) sum w^2),
biases left alone, sign(0) = 0, the scenario keys and the trace's "penalty"."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trace_schema import validate_trace

from tui_backprop import Trainer, write_trace

H = 1e-4
SMOOTH = ("sigmoid", "tanh", "identity")


def away_from_zero(rng, shape, low=0.05, high=1.2):
    """Weights with |w| in [low, high]: the l1 kink at 0 stays far outside the 2h stencil."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape)


def random_problem(ref, seed: int, l1: float, l2: float, batch="full", **training):
    rng = np.random.default_rng(seed)
    layers = [int(n) for n in rng.integers(1, 4, size=int(rng.integers(3, 5)))]
    acts = tuple(rng.choice(SMOOTH) for _ in layers[1:])
    W = [away_from_zero(rng, (layers[l], layers[l - 1])) for l in range(1, len(layers))]
    b = [rng.uniform(-1, 1, layers[l]) for l in range(1, len(layers))]
    X = rng.uniform(-2, 2, (5, layers[0]))
    T = rng.uniform(-1, 1, (5, layers[-1]))
    return ref.make_scenario(
        acts, W, b, inputs=X, targets=T, loss="mse", l1=l1, l2=l2, batch=batch, **training
    ), (acts, W, b, X, T)


def fd_grad_w(ref, acts, W, b, X, T, l1, l2):
    """d(total loss)/dW[l] by the five-point difference of the reference."""
    out = []
    for l in range(len(W)):
        g = np.zeros_like(W[l])
        for idx in np.ndindex(W[l].shape):

            def f(eps, l=l, idx=idx):
                Wp = [w.copy() for w in W]
                Wp[l][idx] += eps
                return ref.total_loss(Wp, b, acts, "mse", X, T, l1, l2)

            g[idx] = ref.five_point(f, H)
        out.append(g)
    return out


def fd_grad_b(ref, acts, W, b, X, T, l1, l2):
    out = []
    for l in range(len(b)):
        g = np.zeros_like(b[l])
        for j in range(len(b[l])):

            def f(eps, l=l, j=j):
                bp = [v.copy() for v in b]
                bp[l][j] += eps
                return ref.total_loss(W, bp, acts, "mse", X, T, l1, l2)

            g[j] = ref.five_point(f, H)
        out.append(g)
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    l1=st.sampled_from([0.0, 1e-3, 0.05, 0.7]),
    l2=st.sampled_from([0.0, 1e-3, 0.1, 2.0]),
    batch=st.sampled_from(["full", "sample", 2]),
)
def test_grad_w_is_the_gradient_of_the_penalised_loss(ref, seed, l1, l2, batch):
    s, (acts, W, b, X, T) = random_problem(ref, seed, l1, l2, batch, shuffle=True)
    rec = Trainer(s).step()
    x, t = X[list(rec.batch)], T[list(rec.batch)]
    for l, (got, want) in enumerate(zip(rec.layers, fd_grad_w(ref, acts, W, b, x, t, l1, l2), strict=True)):
        np.testing.assert_allclose(got.grad_w, want, rtol=1e-6, atol=1e-9, err_msg=f"grad_w[{l + 1}]")
    for l, (got, want) in enumerate(zip(rec.layers, fd_grad_b(ref, acts, W, b, x, t, l1, l2), strict=True)):
        np.testing.assert_allclose(got.grad_b, want, rtol=1e-6, atol=1e-9, err_msg=f"grad_b[{l + 1}]")
    # the losses recorded are the penalised ones, each with the weights it was computed with
    assert rec.penalty == pytest.approx(ref.penalty(W, l1, l2), rel=1e-12, abs=1e-15)
    assert rec.loss == pytest.approx(ref.total_loss(W, b, acts, "mse", x, t, l1, l2), rel=1e-12)
    W_after, b_after = [lay.w for lay in rec.layers], [lay.b for lay in rec.layers]
    assert rec.train_loss == pytest.approx(
        ref.total_loss(W_after, b_after, acts, "mse", X, T, l1, l2), rel=1e-12
    )


def test_the_initial_training_loss_includes_the_penalty(ref):
    s, (acts, W, b, X, T) = random_problem(ref, 5, 0.3, 0.2)
    t = Trainer(s)
    assert t.initial_train_loss == pytest.approx(ref.total_loss(W, b, acts, "mse", X, T, 0.3, 0.2), rel=1e-12)
    assert t.initial_train_loss > ref.batch_loss(W, b, acts, "mse", X, T)


def test_biases_are_not_penalised_and_sign_of_zero_is_zero(ref):
    rng = np.random.default_rng(8)
    W = [away_from_zero(rng, (3, 2)), away_from_zero(rng, (1, 3))]
    W[0][1, 0] = 0.0  # exactly 0: sign(0) = 0, so l1 adds nothing to its gradient
    b = [np.array([0.5, -0.7, 0.0]), np.array([0.9])]
    X, T = rng.uniform(-1, 1, (4, 2)), rng.uniform(0, 1, (4, 1))
    plain = Trainer(ref.make_scenario("sigmoid", W, b, inputs=X, targets=T)).step()
    l1 = Trainer(ref.make_scenario("sigmoid", W, b, inputs=X, targets=T, l1=0.25)).step()
    for p, r, Wl in zip(plain.layers, l1.layers, W, strict=True):
        np.testing.assert_array_equal(r.grad_b, p.grad_b)  # biases: no penalty at all
        np.testing.assert_array_equal(r.delta, p.delta)  # the penalty does not reach the deltas
        expected = np.where(Wl > 0, 0.25, np.where(Wl < 0, -0.25, 0.0))
        np.testing.assert_allclose(r.grad_w - p.grad_w, expected, rtol=0, atol=1e-15)
    assert l1.layers[0].grad_w[1, 0] == plain.layers[0].grad_w[1, 0]


@pytest.mark.parametrize("batch", ["full", "sample", 3])
def test_l2_with_gradient_descent_is_weight_decay(ref, batch):
    """W <- W - lr (g + l2 W) = (1 - lr l2) W - lr g, g the unregularised gradient."""
    s, (acts, W, b, X, T) = random_problem(ref, 11, 0.0, 0.4, batch)
    plain = dataclasses.replace(s, l2=0.0)
    decayed = Trainer(s)
    for _ in range(12):
        rec = decayed.step()
        for lay, g in zip(rec.layers, rec_plain_grad(plain, rec), strict=True):
            want = (1 - s.learning_rate * 0.4) * lay.w_before - s.learning_rate * g
            np.testing.assert_allclose(lay.w, want, rtol=1e-12, atol=1e-14)


def rec_plain_grad(plain, rec):
    """The unregularised grad_w of the batch of ``rec`` at its weights, from a fresh trainer."""
    W = [np.array(lay.w_before) for lay in rec.layers]
    b = [np.array(lay.b_before) for lay in rec.layers]
    s = dataclasses.replace(
        plain,
        init=dataclasses.replace(
            plain.init, weights=tuple(map(_nested, W)), biases=tuple(tuple(map(float, v)) for v in b)
        ),
        inputs=rec.x,
        targets=rec.t,
        batch="full",
        shuffle=False,
    )
    return [lay.grad_w for lay in Trainer(s).step().layers]


def _nested(w):
    return tuple(tuple(map(float, row)) for row in w)


def test_scenario_keys_load_and_are_written_only_when_set(ref):
    base = """
        [scenario]
        name = "r"
        [network]
        layers = [2, 2, 1]
        activation = "tanh"
        [data]
        inputs = [[0, 1], [1, 0]]
        targets = [[1], [0]]
        [training]
        loss = "mse"
        learning_rate = 0.1
    """
    plain = ref.toml_scenario(base)
    assert (plain.l1, plain.l2) == (0.0, 0.0)
    assert "l1" not in plain.to_dict()["training"] and "l2" not in plain.to_dict()["training"]
    s = ref.toml_scenario(base + "        l1 = 0.01\n        l2 = 1\n")
    assert (s.l1, s.l2) == (0.01, 1.0)
    assert s.to_dict()["training"]["l1"] == 0.01 and s.to_dict()["training"]["l2"] == 1.0


def test_trace_writes_the_penalty_only_for_a_regularised_run(ref, tmp_path):
    s, _ = random_problem(ref, 3, 0.01, 0.1)
    for scenario, has in ((s, True), (dataclasses.replace(s, l1=0.0, l2=0.0), False)):
        t = Trainer(scenario)
        records = t.run(3)
        doc = json.loads(write_trace(tmp_path / f"{has}.json", t).read_text())
        validate_trace(doc)
        for step, rec in zip(doc["steps"], records, strict=True):
            assert ("penalty" in step) is has
            if has:
                assert step["penalty"] == rec.penalty > 0
        assert ("l1" in doc["scenario"]["training"]) is has


def test_the_penalty_also_applies_to_the_proportional_split(ref):
    """With error_split = "proportional" the update descends the split's step plus dP/dW."""
    s, _ = random_problem(ref, 17, 0.02, 0.3, "full", error_split="proportional")
    plain = Trainer(dataclasses.replace(s, l1=0.0, l2=0.0)).step()
    rec = Trainer(s).step()
    for p, r in zip(plain.layers, rec.layers, strict=True):
        dP = 0.02 * np.sign(r.w_before) + 0.3 * r.w_before
        np.testing.assert_allclose(r.w, p.w - s.learning_rate * dP, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(r.grad_w, p.grad_w + dP, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(r.error, p.error)


def test_the_test_loss_includes_the_penalty_like_the_training_loss(ref):
    s, (acts, W, b, X, T) = random_problem(ref, 23, 0.05, 0.2)
    X_test, T_test = X[:2] + 0.5, T[:2]
    s = dataclasses.replace(s, test_inputs=X_test, test_targets=T_test)
    t = Trainer(s)
    assert t.initial_test_loss == pytest.approx(ref.total_loss(W, b, acts, "mse", X_test, T_test, 0.05, 0.2))
    rec = t.step()
    W_after, b_after = [lay.w for lay in rec.layers], [lay.b for lay in rec.layers]
    want = ref.total_loss(W_after, b_after, acts, "mse", X_test, T_test, 0.05, 0.2)
    assert rec.test_loss == pytest.approx(want, rel=1e-12)
