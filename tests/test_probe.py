"""The probe (engine/probe.py): the passes at a point the user gives, against maths written here.

The oracles share no code with the engine: a backward pass written out below for each
activation and loss (delta = dl/dy * f'(z) at the output, (delta W) * f'(z) below it), the
reference forward pass and losses of conftest.py, and the fourth-order central difference of
that reference loss for every delta, weight and bias. And a probe changes nothing: the run it
looks at steps on to identical records and exports the same bytes.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tui_backprop import Trainer
from tui_backprop.engine import Network, get_activation, get_loss
from tui_backprop.engine.probe import ProbeRecord, probe
from tui_backprop.engine.regularization import Penalty
from tui_backprop.scenario.reader import load_scenario
from tui_backprop.trace.writer import write_trace

H = 1e-4
RTOL = 1e-6
FLOOR = 1e-4

FUNCTIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z.copy(),
    "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
}
# f'(z) written from each function, for the hand backward pass below
SLOPES = {
    "sigmoid": lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2,
    "tanh": lambda z: 1.0 / np.cosh(z) ** 2,
    "relu": lambda z: (z > 0.0).astype(float),
    "identity": lambda z: np.ones_like(z),
}
# dl/dy of each loss at output y, target t (n outputs)
DL_DY = {
    "mse": lambda y, t: 2.0 * (y - t) / len(t),
    "sse": lambda y, t: 2.0 * (y - t),
    "half_sse": lambda y, t: y - t,
}

CASES = [  # hidden activation, output activation, loss, layers
    ("sigmoid", "sigmoid", "mse", (2, 3, 1)),
    ("tanh", "identity", "sse", (3, 4, 2)),
    ("relu", "tanh", "half_sse", (2, 5, 3, 2)),
    ("tanh", "sigmoid", "bce", (2, 3, 2)),
    ("sigmoid", "softmax", "cross_entropy", (4, 5, 3)),
]


def network_of(ref, hidden, output, loss, layers, seed, bias=True, **training):
    rng = np.random.default_rng(seed)
    W = [rng.normal(0.0, 0.8, size=(n, m)) for m, n in zip(layers, layers[1:], strict=False)]
    b = [rng.normal(0.0, 0.5, size=n) for n in layers[1:]] if bias else None
    acts = (hidden,) * (len(layers) - 2) + (output,)
    X = rng.normal(size=(3, layers[0]))
    T = np.tile(_target(rng, loss, layers[-1]), (3, 1))
    scenario = ref.make_scenario(acts, W, b, inputs=X, targets=T, loss=loss, **training)
    return Trainer(scenario), W, b, acts, rng


def _target(rng, loss, n):
    if loss == "cross_entropy":
        return np.eye(n)[rng.integers(n)]
    if loss == "bce":
        return rng.integers(0, 2, size=n).astype(float)
    return rng.normal(size=n)


def hand_backward(W, b, acts, loss, x, t):
    """z, a, delta, grad_w and grad_b of one sample, written out layer by layer."""
    z_list, a_list, a = [], [np.asarray(x, dtype=float)], np.asarray(x, dtype=float)
    for l, Wl in enumerate(W):
        z = Wl @ a + (b[l] if b is not None else 0.0)
        a = FUNCTIONS[acts[l]](z)
        z_list.append(z)
        a_list.append(a)
    y = a_list[-1]
    if loss == "cross_entropy":
        delta = y - t  # softmax with cross_entropy
    elif loss == "bce":
        delta = (y - t) / len(t)  # sigmoid with bce, averaged over the outputs
    else:
        delta = DL_DY[loss](y, t) * SLOPES[acts[-1]](z_list[-1])
    deltas = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        deltas[l] = delta
        if l:
            delta = (W[l].T @ delta) * SLOPES[acts[l - 1]](z_list[l - 1])
    grad_w = [np.outer(deltas[l], a_list[l]) for l in range(len(W))]
    return z_list, a_list[1:], deltas, grad_w, deltas


def close(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return np.all(np.abs(got - want) <= RTOL * np.maximum(np.abs(want), FLOOR))


@pytest.mark.parametrize(("hidden", "output", "loss", "layers"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_probe_is_the_hand_written_forward_and_backward_pass(ref, hidden, output, loss, layers, seed):
    trainer, W, b, acts, rng = network_of(ref, hidden, output, loss, layers, seed)
    x = rng.normal(size=layers[0]) * 2  # not a sample of the data
    t = _target(rng, loss, layers[-1])
    rec = probe(trainer.network, trainer.W, trainer.b, x, t)
    zs, As, deltas, grad_w, grad_b = hand_backward(W, b, acts, loss, x, t)
    for l, lr in enumerate(rec.layers):
        assert lr.z.shape == lr.a.shape == lr.delta.shape == (1, layers[l + 1])
        assert close(lr.z[0], zs[l]) and close(lr.a[0], As[l])
        assert close(lr.delta[0], deltas[l]), f"delta[{l + 1}]"
        assert close(lr.grad_w, grad_w[l]) and close(lr.grad_b, grad_b[l]), f"gradients of layer {l + 1}"
    assert math.isclose(rec.loss, ref.sample_loss(W, b, acts, loss, x, t), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize(("hidden", "output", "loss", "layers"), CASES)
def test_a_probes_deltas_and_gradients_are_finite_differences_of_its_loss(ref, hidden, output, loss, layers):
    trainer, W, b, acts, rng = network_of(ref, hidden, output, loss, layers, seed=7)
    x, t = rng.normal(size=layers[0]), _target(rng, loss, layers[-1])
    rec = probe(trainer.network, trainer.W, trainer.b, x, t)
    for l, lr in enumerate(rec.layers):
        for j in range(layers[l + 1]):

            def nudged_z(h, l=l, j=j):
                return ref.sample_loss(W, b, acts, loss, x, t, nudge=(l, j, h))

            assert close(lr.delta[0, j], ref.five_point(nudged_z, H)), f"delta[{l + 1}][{j}]"
            for i in range(layers[l]):

                def nudged_w(h, l=l, j=j, i=i):
                    V = [w.copy() for w in W]
                    V[l][j, i] += h
                    return ref.sample_loss(V, b, acts, loss, x, t)

                assert close(lr.grad_w[j, i], ref.five_point(nudged_w, H)), f"grad_w[{l + 1}][{j}, {i}]"

            def nudged_b(h, l=l, j=j):
                c = [v.copy() for v in b]
                c[l][j] += h
                return ref.sample_loss(W, c, acts, loss, x, t)

            assert close(lr.grad_b[j], ref.five_point(nudged_b, H)), f"grad_b[{l + 1}][{j}]"


def test_with_a_penalty_a_probe_adds_it_as_a_step_does(ref):
    trainer, W, b, acts, rng = network_of(ref, "tanh", "sigmoid", "mse", (2, 3, 1), seed=3)
    x, t = rng.normal(size=2), rng.normal(size=1)
    penalty = Penalty(l1=0.01, l2=0.1)
    rec = probe(trainer.network, trainer.W, trainer.b, x, t, penalty=penalty)
    want = ref.sample_loss(W, b, acts, "mse", x, t) + ref.penalty(W, 0.01, 0.1)
    assert math.isclose(rec.loss, want, rel_tol=1e-12)
    assert math.isclose(rec.penalty, ref.penalty(W, 0.01, 0.1), rel_tol=1e-12)
    plain = probe(trainer.network, trainer.W, trainer.b, x, t)
    for l in range(2):
        extra = 0.01 * np.sign(W[l]) + 0.1 * W[l]  # dP/dW written out
        assert close(rec.layers[l].grad_w, plain.layers[l].grad_w + extra)
        assert np.array_equal(rec.layers[l].grad_b, plain.layers[l].grad_b)  # biases carry no penalty


def test_a_probe_on_one_point_is_the_step_a_run_on_that_point_would_take(ref):
    """The same code as a step: a full-batch step on a data set of that one point computes the
    same z, a, delta and gradients, bit for bit."""
    _, W, b, acts, rng = network_of(ref, "sigmoid", "softmax", "cross_entropy", (3, 4, 3), seed=5)
    x, t = rng.normal(size=3), np.eye(3)[1]
    one = Trainer(ref.make_scenario(acts, W, b, inputs=[x], targets=[t], loss="cross_entropy"))
    rec = probe(one.network, one.W, one.b, x, t)
    step = one.step()
    for p, s in zip(rec.layers, step.layers, strict=True):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w_before", "b_before"):
            assert np.array_equal(getattr(p, name), getattr(s, name)), name
    assert rec.loss == step.loss


def test_a_forward_only_probe_has_z_and_a_and_no_loss_delta_or_gradient(ref):
    trainer, W, b, acts, rng = network_of(ref, "tanh", "sigmoid", "bce", (2, 3, 2), seed=1)
    x = np.array([0.3, -1.2])
    rec = probe(trainer.network, trainer.W, trainer.b, x)
    zs, As = ref.forward_sample(W, b, acts, x)
    assert isinstance(rec, ProbeRecord) and not rec.has_target and rec.target is None
    for l, lr in enumerate(rec.layers):
        assert close(lr.z[0], zs[l]) and close(lr.a[0], As[l])
        assert np.isnan(lr.delta).all() and np.isnan(lr.grad_w).all() and np.isnan(lr.grad_b).all()
    assert math.isnan(rec.loss) and np.isnan(rec.t).all()
    r = rec.reveal
    assert r.loss is False and r.gradients is False and r.update is False and not r.has_delta(1)
    assert rec.nonfinite is None


def test_a_probe_is_marked_frozen_and_updates_nothing(ref):
    trainer, W, b, *_ = network_of(ref, "sigmoid", "sigmoid", "mse", (2, 3, 1), seed=0)
    rec = probe(trainer.network, trainer.W, trainer.b, [1.0, 2.0], [0.5], step=4, epoch=2, learning_rate=0.3)
    assert rec.batch == () and rec.step == 4 and rec.epoch == 2 and rec.learning_rate == 0.3
    assert rec.reveal.loss and rec.reveal.gradients and not rec.reveal.update
    assert np.array_equal(rec.point, [1.0, 2.0]) and np.array_equal(rec.target, [0.5])
    for lr in rec.layers:
        assert lr.w is lr.w_before and lr.b is lr.b_before and not lr.state
        for arr in (lr.z, lr.a, lr.delta, lr.grad_w, lr.grad_b, lr.w, lr.b):
            assert not arr.flags.writeable
    assert not rec.x.flags.writeable and not rec.t.flags.writeable
    assert math.isnan(rec.train_loss) and not rec.evaluated and rec.stop_reason is None


def test_a_probe_leaves_the_callers_arrays_alone():
    x = np.array([0.5, -0.5])
    W = [np.array([[1.0, 2.0]]), np.array([[3.0]])]
    b = [np.array([0.1]), np.array([0.2])]
    linear = Network((get_activation("identity"), get_activation("identity")), get_loss("mse"), True)
    rec = probe(linear, W, b, x, [1.0])
    assert x.flags.writeable and all(w.flags.writeable for w in W) and all(v.flags.writeable for v in b)
    W[0][0, 0] = 100.0  # the record holds copies
    assert rec.layers[0].w[0, 0] == 1.0 and rec.layers[0].z[0, 0] == 0.5 - 1.0 + 0.1


@pytest.mark.parametrize(
    ("loss", "x", "t", "words"),
    [
        ("mse", [1.0], None, "x needs 2 numbers, got 1"),
        ("mse", [1.0, 2.0, 3.0], None, "x needs 2 numbers, got 3"),
        ("mse", [1.0, math.nan], None, "x[1] is nan"),
        ("mse", [math.inf, 0.0], None, "x[0] is inf"),
        ("mse", [1.0, 0.0], [1.0, 2.0], "t needs 1 number, got 2"),
        ("mse", [1.0, 0.0], [-math.inf], "t[0] is -inf"),
        ("bce", [1.0, 0.0], [1.5], "bce needs a target between 0 and 1, got 1.5"),
    ],
)
def test_a_bad_point_or_target_is_refused_in_words(ref, loss, x, t, words):
    W, b = [np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)]
    trainer = Trainer(ref.make_scenario("sigmoid", W, b, inputs=[[0, 0]], targets=[[0]], loss=loss))
    with pytest.raises(ValueError, match=re.escape(words)):
        probe(trainer.network, trainer.W, trainer.b, x, t)


def test_a_cross_entropy_target_must_be_a_distribution(ref):
    trainer, *_ = network_of(ref, "tanh", "softmax", "cross_entropy", (2, 3, 3), seed=0)
    for t in ([0.5, 0.6, 0.0], [1.5, -0.5, 0.0]):
        with pytest.raises(ValueError, match="probability distribution"):
            probe(trainer.network, trainer.W, trainer.b, [0.0, 0.0], t)
    assert probe(trainer.network, trainer.W, trainer.b, [0.0, 0.0], [0.25, 0.25, 0.5]).has_target


def test_a_probe_changes_nothing_in_the_run_it_looks_at(tmp_path):
    """Step 3 of xor, probed twice between steps, gives the records and the trace of a run never probed."""
    plain, probed = Trainer(load_scenario("xor")), Trainer(load_scenario("xor"))
    plain.run(2), probed.run(2)
    W, b = probed.W, probed.b
    probe(probed.network, probed.W, probed.b, [0.3, -1.2], [1.0], penalty=probed.penalty)
    probe(probed.network, probed.W, probed.b, [5.0, 5.0])
    assert probed.W is W and probed.b is b
    a, c = plain.step(), probed.step()
    assert a.loss == c.loss and a.train_loss == c.train_loss and a.batch == c.batch
    for p, q in zip(a.layers, c.layers, strict=True):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
            assert np.array_equal(getattr(p, name), getattr(q, name)), name
    write_trace(tmp_path / "plain.json", plain)
    write_trace(tmp_path / "probed.json", probed)
    assert (tmp_path / "plain.json").read_bytes() == (tmp_path / "probed.json").read_bytes()
