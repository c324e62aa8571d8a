"""The engine's gradients against finite differences, over many random small networks.

The oracle is the reference maths in conftest.py (a per-sample forward pass and per-sample
losses written from DESIGN section 3, sharing no code with the engine) differentiated by the
fourth-order central difference

    dL/dp ~ [L(p - 2h) - 8 L(p - h) + 8 L(p + h) - L(p + 2h)] / 12h,   h = 1e-4,

whose truncation error is O(h^4) and whose rounding error is about eps |L| / h, far below the
1e-6 relative tolerance (with an absolute floor of 1e-4 in the denominator, so that gradients
that are zero or tiny are compared to about 1e-10 absolute).

relu and leaky_relu have a kink at 0: draws where any of their pre-activations is within 1e-3
of it are rejected, and so is any finite difference whose stencil moves one of them across it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, given, settings
from hypothesis import strategies as st

from tui_backprop import Trainer

ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "linear")
OUTPUTS = {
    "mse": ELEMENTWISE,
    "sse": ELEMENTWISE,
    "half_sse": ELEMENTWISE,
    "bce": ("sigmoid",),
    "cross_entropy": ("softmax",),
}
KINKED = ("relu", "leaky_relu")
H = 1e-4  # finite-difference step
RTOL = 1e-6
FLOOR = 1e-4  # absolute floor of the relative error's denominator
KINK_MARGIN = 1e-3

FUZZING = settings.default.max_examples >= 1000  # HYPOTHESIS_PROFILE=fuzz: draw as many as it says
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class Problem:
    """A network (explicit W, b), a dataset and a loss. W[l] is (n_l, n_{l-1})."""

    activations: tuple[str, ...]
    W: list[np.ndarray]
    b: list[np.ndarray] | None
    X: np.ndarray  # (N, n_0)
    T: np.ndarray  # (N, n_L)
    loss: str

    def scenario(self, ref, **training):
        return ref.make_scenario(
            self.activations, self.W, self.b, inputs=self.X, targets=self.T, loss=self.loss, **training
        )


def random_targets(rng, loss: str, shape: tuple[int, int]) -> np.ndarray:
    if loss == "bce":  # probabilities, half of them hard 0/1 labels
        soft = rng.uniform(0.0, 1.0, shape)
        return np.where(rng.random(shape) < 0.5, rng.integers(0, 2, shape).astype(float), soft)
    if loss == "cross_entropy":  # a probability distribution per row, one-hot half of the time
        if rng.random() < 0.5:
            return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
        return rng.dirichlet(np.ones(shape[1]), shape[0])
    return rng.uniform(-1.0, 1.0, shape)


@st.composite
def problems(draw, loss: str, max_hidden: int = 3, max_width: int = 4, n_samples=None):
    """1..max_hidden hidden layers of width 1..max_width; values from a drawn seed."""
    hidden = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_hidden))
    layers = [draw(st.integers(1, max_width)), *hidden, draw(st.integers(1, max_width))]
    acts = tuple(draw(st.sampled_from(ELEMENTWISE)) for _ in hidden) + (draw(st.sampled_from(OUTPUTS[loss])),)
    bias = draw(st.booleans())
    n = draw(n_samples if n_samples is not None else st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = [rng.uniform(-1.2, 1.2, (layers[l], layers[l - 1])) for l in range(1, len(layers))]
    b = [rng.uniform(-1.0, 1.0, layers[l]) for l in range(1, len(layers))] if bias else None
    X = rng.uniform(-2.0, 2.0, (n, layers[0]))
    return Problem(acts, W, b, X, random_targets(rng, loss, (n, layers[-1])), loss)


# -- the oracle ------------------------------------------------------------------------------


def refuse_unless(ok: bool) -> None:
    """Reject the draw inside a hypothesis test; outside one a fixed case must simply hold."""
    if currently_in_test_context():
        assume(ok)
    else:
        assert ok, "a fixed test case sits on a relu kink"


def kink_signs(zs, activations) -> tuple:
    """Which side of 0 every relu / leaky_relu pre-activation is on."""
    return tuple(tuple(z > 0) for z, act in zip(zs, activations, strict=True) if act in KINKED)


def assume_clear_of_kinks(ref, activations, W, b, X) -> None:
    for x in X:
        zs, _ = ref.forward_sample(W, b, activations, x)
        for z, act in zip(zs, activations, strict=True):
            if act in KINKED:
                refuse_unless(np.abs(z).min() >= KINK_MARGIN)


def batch_loss_and_signs(ref, activations, loss, W, b, X, T, nudge=None):
    """Mean per-sample loss over (X, T) and the kink signs of every sample."""
    losses, signs = [], []
    for x, t in zip(X, T, strict=True):
        zs, acts = ref.forward_sample(W, b, activations, x, nudge)
        losses.append(ref.losses[loss](acts[-1], zs[-1], t))
        signs.append(kink_signs(zs, activations))
    return float(np.mean(losses)), tuple(signs)


def fd_derivative(ref, evaluate, base_signs) -> float:
    """evaluate(eps) -> (loss, signs); the 5-point derivative at eps = 0, kinks refused."""

    def f(eps):
        value, signs = evaluate(eps)
        refuse_unless(signs == base_signs)  # the stencil must not step across a relu kink
        return value

    return ref.five_point(f, H)


def fd_parameter_gradients(ref, activations, loss, W, b, X, T):
    """d(batch-mean loss)/dW[l] and /db[l] by finite differences."""
    _, base = batch_loss_and_signs(ref, activations, loss, W, b, X, T)
    grad_w, grad_b = [], []
    for l in range(len(W)):
        gw = np.zeros_like(W[l])
        for idx in np.ndindex(W[l].shape):

            def at(eps, l=l, idx=idx):
                Wp = [w.copy() for w in W]
                Wp[l][idx] += eps
                return batch_loss_and_signs(ref, activations, loss, Wp, b, X, T)

            gw[idx] = fd_derivative(ref, at, base)
        grad_w.append(gw)
        gb = np.zeros(len(b[l]) if b is not None else 0)
        for j in range(len(gb)):

            def at(eps, l=l, j=j):
                bp = [v.copy() for v in b]
                bp[l][j] += eps
                return batch_loss_and_signs(ref, activations, loss, W, bp, X, T)

            gb[j] = fd_derivative(ref, at, base)
        grad_b.append(gb)
    return grad_w, grad_b


def fd_deltas(ref, activations, loss, W, b, X, T):
    """delta[l][k][j] = d(loss of sample k)/dz[l][k][j] by finite differences."""
    deltas = []
    for l in range(len(W)):
        d = np.zeros((len(X), W[l].shape[0]))
        for k in range(len(X)):
            x, t = X[k : k + 1], T[k : k + 1]
            _, base = batch_loss_and_signs(ref, activations, loss, W, b, x, t)
            for j in range(d.shape[1]):

                def at(eps, l=l, j=j, x=x, t=t):
                    return batch_loss_and_signs(ref, activations, loss, W, b, x, t, nudge=(l, j, eps))

                d[k, j] = fd_derivative(ref, at, base)
        deltas.append(d)
    return deltas


def assert_rel_close(actual, expected, what: str, rtol: float = RTOL, floor: float = FLOOR) -> None:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = np.maximum(np.maximum(np.abs(actual), np.abs(expected)), floor)
    err = np.abs(actual - expected) / scale
    assert err.max(initial=0.0) < rtol, (
        f"{what}: relative error {err.max():.3g}\nengine:\n{actual}\nreference:\n{expected}"
    )


def check_step(ref, activations, loss, W, b, X, T, rec) -> None:
    """Everything one StepRecord says about its batch (X, T) and weights (W, b) before it."""
    L = len(W)
    assert len(rec.layers) == L
    np.testing.assert_array_equal(rec.x, X)
    np.testing.assert_array_equal(rec.t, T)
    # forward pass and losses, before the update
    per_sample = [ref.sample_loss(W, b, activations, loss, x, t) for x, t in zip(X, T, strict=True)]
    assert_rel_close(rec.sample_losses, per_sample, "sample_losses", rtol=1e-10, floor=1e-12)
    assert_rel_close(rec.loss, np.mean(per_sample), "batch loss", rtol=1e-10, floor=1e-12)
    for k, x in enumerate(X):
        zs, acts = ref.forward_sample(W, b, activations, x)
        for l in range(L):
            assert_rel_close(rec.layers[l].z[k], zs[l], f"z[{l + 1}][{k}]", rtol=1e-10, floor=1e-12)
            assert_rel_close(rec.layers[l].a[k], acts[l], f"a[{l + 1}][{k}]", rtol=1e-10, floor=1e-12)
    # backward pass
    deltas = fd_deltas(ref, activations, loss, W, b, X, T)
    grad_w, grad_b = fd_parameter_gradients(ref, activations, loss, W, b, X, T)
    for l in range(L):
        lay = rec.layers[l]
        assert lay.grad_w.shape == W[l].shape
        assert lay.grad_b.shape == ((W[l].shape[0],) if b is not None else (0,))
        assert_rel_close(lay.delta, deltas[l], f"delta[{l + 1}]")
        assert_rel_close(lay.grad_w, grad_w[l], f"grad_w[{l + 1}]")
        assert_rel_close(lay.grad_b, grad_b[l], f"grad_b[{l + 1}]")


# -- random networks, one full-batch step ------------------------------------------------------


@pytest.mark.parametrize("loss", list(OUTPUTS))
@settings(SETTINGS, max_examples=settings.default.max_examples if FUZZING else 60)  # 360 over six losses
@given(data=st.data())
def test_step_gradients_match_finite_differences(ref, loss, data):
    p = data.draw(problems(loss))
    assume_clear_of_kinks(ref, p.activations, p.W, p.b, p.X)
    rec = Trainer(p.scenario(ref)).step()
    assert rec.batch == tuple(range(len(p.X)))
    check_step(ref, p.activations, p.loss, p.W, p.b, p.X, p.T, rec)


def _fixed_problem(ref, hidden_act: str, out_act: str, loss: str, bias: bool) -> Problem:
    """A 3-3-2 network clear of relu kinks, chosen deterministically."""
    for seed in range(100):
        rng = np.random.default_rng(seed)
        W = [rng.uniform(-1.2, 1.2, (3, 3)), rng.uniform(-1.2, 1.2, (2, 3))]
        b = [rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)] if bias else None
        X = rng.uniform(-2, 2, (4, 3))
        acts = (hidden_act, out_act)
        zs = [ref.forward_sample(W, b, acts, x)[0] for x in X]
        if all(np.abs(z[l]).min() >= 0.05 for z in zs for l in (0, 1)):
            return Problem(acts, W, b, X, random_targets(rng, loss, (4, 2)), loss)
    raise AssertionError("no kink-free draw")  # pragma: no cover


COMBINATIONS = [
    (hidden, out, loss) for loss, outs in OUTPUTS.items() for out in outs for hidden in ELEMENTWISE
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("hidden,out,loss", COMBINATIONS)
def test_every_activation_and_loss_pair(ref, hidden, out, loss, bias):
    """Every hidden activation with every output activation that each loss allows."""
    p = _fixed_problem(ref, hidden, out, loss, bias)
    rec = Trainer(p.scenario(ref)).step()
    check_step(ref, p.activations, p.loss, p.W, p.b, p.X, p.T, rec)


# -- batch modes through the Trainer -----------------------------------------------------------


def expected_sizes(batch, n: int) -> list[int]:
    """DESIGN section 3: the batch sizes of one epoch."""
    size = n if batch == "full" else 1 if batch == "sample" else min(batch, n)
    return [size] * (n // size) + ([n % size] if n % size else [])


@settings(SETTINGS, max_examples=settings.default.max_examples if FUZZING else 90)
@given(data=st.data())
def test_every_batch_mode_steps_on_the_right_samples_with_the_right_gradients(ref, data):
    n = data.draw(st.integers(1, 7), label="N")
    batch = data.draw(st.sampled_from(["full", "sample"]) | st.integers(1, 9), label="batch")
    shuffle = data.draw(st.booleans(), label="shuffle")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    loss = data.draw(st.sampled_from(list(OUTPUTS)), label="loss")
    p = data.draw(problems(loss, max_hidden=1, max_width=3, n_samples=st.just(n)))
    s = p.scenario(ref, batch=batch, shuffle=shuffle, seed=seed, learning_rate=0.05, max_steps=10_000)
    trainer, twin = Trainer(s), Trainer(s)  # the same seed gives the same order

    W, b, step = p.W, p.b, 0
    for epoch in (1, 2, 3):
        visited: list[int] = []
        for size in expected_sizes(batch, n):
            rec = trainer.step()
            step += 1
            assert twin.step().batch == rec.batch
            assert (rec.step, rec.epoch, len(rec.batch)) == (step, epoch, size)
            visited += rec.batch
            idx = list(rec.batch)
            if epoch < 3:  # the gradient of this step on exactly this batch
                for l in range(len(W)):  # the weights are those the last step left
                    np.testing.assert_array_equal(rec.layers[l].w_before, W[l])
                    if b is not None:
                        np.testing.assert_array_equal(rec.layers[l].b_before, b[l])
                assume_clear_of_kinks(ref, p.activations, W, b, p.X[idx])
                check_step(ref, p.activations, loss, W, b, p.X[idx], p.T[idx], rec)
            W = [lay.w for lay in rec.layers]
            b = [lay.b for lay in rec.layers] if p.b is not None else None
        # an epoch is one pass over all N samples, nothing carried over between epochs
        assert sorted(visited) == list(range(n))
        if not shuffle:
            assert visited == list(range(n))


@pytest.mark.parametrize("batch", [6, 7, 50])
@pytest.mark.parametrize("shuffle", [False, True])
def test_a_batch_of_at_least_n_is_the_full_batch(ref, batch, shuffle):
    p = _fixed_problem(ref, "tanh", "sigmoid", "mse", True)
    X, T = np.vstack([p.X, -p.X[:2]]), np.vstack([p.T, p.T[:2]])  # N = 6
    p = Problem(p.activations, p.W, p.b, X, T, p.loss)
    full = Trainer(p.scenario(ref, batch="full", shuffle=shuffle, seed=5))
    big = Trainer(p.scenario(ref, batch=batch, shuffle=shuffle, seed=5))
    for epoch in (1, 2, 3):
        r_full, r_big = full.step(), big.step()
        assert r_big.epoch == epoch and sorted(r_big.batch) == list(range(6))
        assert r_big.batch == r_full.batch
        for a, c in zip(r_big.layers, r_full.layers, strict=True):
            np.testing.assert_allclose(a.grad_w, c.grad_w, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(a.w, c.w, rtol=1e-13, atol=1e-15)


def _epoch_orders(trainer: Trainer, epochs: int) -> list[list[int]]:
    orders: list[list[int]] = [[] for _ in range(epochs)]
    while True:
        rec = trainer.step()
        if rec.epoch > epochs:
            return orders
        orders[rec.epoch - 1] += rec.batch


@pytest.mark.parametrize("batch", ["sample", 3, "full"])
def test_shuffle_is_drawn_anew_each_epoch_from_the_seed(ref, batch):
    n = 10
    rng = np.random.default_rng(1)
    X, T = rng.uniform(-1, 1, (n, 2)), rng.uniform(-1, 1, (n, 1))
    W = [rng.uniform(-1, 1, (2, 2)), rng.uniform(-1, 1, (1, 2))]

    def orders(seed: int, shuffle: bool = True, epochs: int = 6) -> list[list[int]]:
        s = ref.make_scenario("tanh", W, None, inputs=X, targets=T, batch=batch, shuffle=shuffle, seed=seed)
        return _epoch_orders(Trainer(s), epochs)

    first = orders(seed=7)
    for order in first:
        assert sorted(order) == list(range(n))
    assert len({tuple(o) for o in first}) > 1, "every epoch had the same order"
    assert any(o != list(range(n)) for o in first), "shuffling kept the file order"
    assert orders(seed=7) == first  # same seed, same orders
    assert len({tuple(orders(seed)[0]) for seed in range(5)}) > 1, "the seed changes nothing"
    assert orders(seed=7, shuffle=False) == [list(range(n))] * 6

    # the order depends on the seed only, not on the trainer's past: reset, then step again
    trainer = Trainer(
        ref.make_scenario("tanh", W, None, inputs=X, targets=T, batch=batch, shuffle=True, seed=7)
    )
    trainer.run(13)
    trainer.reset()
    assert _epoch_orders(trainer, 6) == first
