"""Activations and losses against their formulas, written here one element at a time with
Python's math module, and their derivatives against those formulas and finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_backprop.engine import ACTIVATIONS, LOSSES, get_activation, get_loss, output_delta

ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "linear")
REGRESSION = ("mse", "sse", "half_sse")


def elementwise(f, z: np.ndarray) -> np.ndarray:
    return np.vectorize(f, otypes=[float])(z)


# -- formulas, one number at a time -------------------------------------------------------------


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def sigmoid_prime(z: float) -> float:
    e = math.exp(-abs(z))  # sigma'(z) = e^-z / (1 + e^-z)^2, symmetric in z
    return e / (1.0 + e) ** 2


def tanh(z: float) -> float:
    e = math.expm1(-2.0 * abs(z))  # tanh|z| = (1 - e^-2|z|) / (1 + e^-2|z|)
    return math.copysign(-e / (2.0 + e), z)


def tanh_prime(z: float) -> float:
    return 1.0 / math.cosh(z) ** 2


FORMULAS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (lambda z: z if z > 0 else 0.0, lambda z: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else 0.01 * z, lambda z: 1.0 if z > 0 else 0.01),
    "identity": (lambda z: z, lambda z: 1.0),
    "linear": (lambda z: z, lambda z: 1.0),
}


def five_point(f, x: float, h: float) -> float:
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def softmax_row(z) -> list[float]:
    m = max(z)
    e = [math.exp(v - m) for v in z]
    return [v / sum(e) for v in e]


def loss_formula(name: str, y, t, z) -> float:
    """One sample's loss, from DESIGN section 3; bce and cross_entropy from z, computed stably."""
    n = len(y)
    if name == "mse":
        return sum((yj - tj) ** 2 for yj, tj in zip(y, t, strict=True)) / n
    if name == "sse":
        return sum((yj - tj) ** 2 for yj, tj in zip(y, t, strict=True))
    if name == "half_sse":
        return 0.5 * sum((yj - tj) ** 2 for yj, tj in zip(y, t, strict=True))
    if name == "bce":  # -ln sigma(z) = softplus(-z), -ln(1 - sigma(z)) = softplus(z)

        def softplus(v):
            return v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))

        return sum(tj * softplus(-zj) + (1 - tj) * softplus(zj) for zj, tj in zip(z, t, strict=True)) / n
    if name == "cross_entropy":
        m = max(z)
        lse = m + math.log(sum(math.exp(v - m) for v in z))
        return sum(tj * (lse - zj) for zj, tj in zip(z, t, strict=True))
    raise KeyError(name)


def naive_bce(y, t) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        y, t = np.asarray(y), np.asarray(t)
        return float(-(t * np.log(y) + (1 - t) * np.log(1 - y)).mean())


# grid of pre-activations, clear of the kink at 0 (tested on its own below), shape (B, n)
Z = np.concatenate([np.linspace(-12.0, -0.01, 120), np.linspace(0.01, 12.0, 120)]).reshape(40, 6)


# -- activations --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_value_and_derivative_match_their_formulas(name):
    act = get_activation(name)
    f, f_prime = FORMULAS[name]
    a = act.fn(Z)
    assert a.shape == Z.shape
    # relative accuracy, or absolute accuracy to about an ulp of 1 where f or f' is tiny:
    # sigmoid' = a (1 - a) and tanh' = 1 - a^2 are computed from a, as DESIGN writes them
    np.testing.assert_allclose(a, elementwise(f, Z), rtol=1e-12, atol=3e-16)
    g = act.grad(Z, a)
    assert g.shape == Z.shape
    np.testing.assert_allclose(g, elementwise(f_prime, Z), rtol=1e-12, atol=3e-16)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_derivative_matches_finite_differences(name):
    act = get_activation(name)
    z = Z[np.abs(Z) > 1e-3]  # the stencil must not cross a kink

    def f(v):
        return act.fn(np.array([[v]]))[0, 0]

    fd = np.array([five_point(f, v, 1e-4) for v in z])
    g = act.grad(z.reshape(1, -1), act.fn(z.reshape(1, -1)))[0]
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-10)


def test_relu_and_leaky_relu_at_and_around_zero():
    z = np.array([[-2.0, -1e-300, 0.0, 1e-300, 2.0]])
    relu, leaky = get_activation("relu"), get_activation("leaky_relu")
    np.testing.assert_array_equal(relu.fn(z), [[0.0, 0.0, 0.0, 1e-300, 2.0]])
    np.testing.assert_array_equal(relu.grad(z, relu.fn(z)), [[0.0, 0.0, 0.0, 1.0, 1.0]])  # relu'(0) = 0
    np.testing.assert_array_equal(leaky.fn(z), [[0.01 * -2.0, 0.01 * -1e-300, 0.0, 1e-300, 2.0]])
    np.testing.assert_array_equal(leaky.grad(z, leaky.fn(z)), [[0.01, 0.01, 0.01, 1.0, 1.0]])


def test_linear_is_an_alias_of_identity():
    assert get_activation("linear") is get_activation("identity")
    assert "linear" not in ACTIVATIONS  # one object, one name on screen and in the trace
    z = np.array([[-3.5, 0.0, 2.25]])
    np.testing.assert_array_equal(get_activation("linear").fn(z), z)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_prints_as_its_name(name):
    assert str(ACTIVATIONS[name]) == name


def test_sigmoid_is_accurate_in_absolute_terms_everywhere():
    """In the far left tail the result has an absolute error of at most about an ulp of 1/2."""
    z = np.linspace(-745.0, 745.0, 4001).reshape(1, -1)
    a = get_activation("sigmoid").fn(z)
    np.testing.assert_allclose(a, elementwise(sigmoid, z), rtol=0, atol=2.3e-16)


@pytest.mark.parametrize("name", ELEMENTWISE + ("softmax",))
def test_activations_stay_finite_and_silent_at_saturation(name):
    act = get_activation(name)
    z = np.array([[-1e300, -1e6, -800.0, 800.0, 1e6, 1e300]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act.fn(z)
        assert np.isfinite(a).all()
        if name != "softmax":
            assert np.isfinite(act.grad(z, a)).all()
    if name == "sigmoid":
        np.testing.assert_array_equal(a, [[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
        assert ((0.0 <= a) & (a <= 1.0)).all()
    if name == "tanh":
        np.testing.assert_array_equal(a, [[-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]])


def test_softmax_matches_its_formula_and_is_shift_invariant():
    softmax = get_activation("softmax")
    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 3.0, (7, 4))
    y = softmax.fn(z)
    np.testing.assert_allclose(y, [softmax_row(row) for row in z], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(softmax.fn(z + 1000.0), y, rtol=1e-12)
    big = softmax.fn(np.array([[1000.0, 0.0, -1000.0], [1e300, 1e300, 0.0]]))
    np.testing.assert_allclose(big, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], rtol=1e-15, atol=1e-300)


def test_softmax_has_no_elementwise_derivative():
    z = np.zeros((1, 3))
    softmax = get_activation("softmax")
    with pytest.raises(TypeError):
        softmax.grad(z, softmax.fn(z))


# -- losses -------------------------------------------------------------------------------------


def random_problem(rng, loss: str, shape=(6, 3)):
    """z (B, n), y = f(z) for the output activation the loss uses, and matching targets."""
    z = rng.normal(0.0, 2.0, shape)
    if loss == "bce":
        return z, elementwise(sigmoid, z), rng.uniform(0.0, 1.0, shape)
    if loss == "cross_entropy":
        return z, np.array([softmax_row(r) for r in z]), rng.dirichlet(np.ones(shape[1]), shape[0])
    return z, np.tanh(z), rng.uniform(-1.0, 1.0, shape)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_its_formula_per_sample(name):
    rng = np.random.default_rng(11)
    loss = get_loss(name)
    z, y, t = random_problem(rng, name)
    values = loss.fn(y, t, z)
    assert values.shape == (len(z),)
    expected = [loss_formula(name, yk, tk, zk) for yk, tk, zk in zip(y, t, z, strict=True)]
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15)
    assert str(loss) == name


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_derivative_in_y_matches_finite_differences(name):
    rng = np.random.default_rng(12)
    loss = get_loss(name)
    z, y, t = random_problem(rng, name, shape=(3, 3))
    if name in ("bce", "cross_entropy"):
        y = rng.uniform(0.2, 0.8, y.shape)  # away from 0 and 1, where ln misbehaves

    def naive(yk, tk):  # the loss as a function of y alone
        if name == "bce":
            return naive_bce(yk, tk)
        if name == "cross_entropy":
            return float(-(tk * np.log(yk)).sum())
        return loss_formula(name, yk, tk, None)

    dy = loss.dy(y, t)
    for k, j in np.ndindex(y.shape):

        def f(v, k=k, j=j):
            row = y[k].copy()
            row[j] = v
            return naive(row, t[k])

        assert math.isclose(dy[k, j], five_point(f, y[k, j], 1e-5), rel_tol=1e-7, abs_tol=1e-10)


def test_bce_stable_form_agrees_with_the_naive_formula_where_that_is_finite():
    rng = np.random.default_rng(13)
    bce = get_loss("bce")
    z = rng.uniform(-10.0, 10.0, (50, 2))
    y = elementwise(sigmoid, z)
    t = np.where(rng.random(z.shape) < 0.3, rng.integers(0, 2, z.shape), rng.uniform(0, 1, z.shape))
    naive = np.array([naive_bce(yk, tk) for yk, tk in zip(y, t, strict=True)])
    assert np.isfinite(naive).all()
    np.testing.assert_allclose(bce.fn(y, t, z), naive, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("z0", [40.0, 800.0, 1e6])
def test_bce_stays_finite_at_saturation(z0):
    bce = get_loss("bce")
    z = np.array([[z0, -z0], [z0, -z0], [-z0, z0]])
    t = np.array([[1.0, 0.0], [0.0, 1.0], [0.25, 0.5]])
    y = get_activation("sigmoid").fn(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = bce.fn(y, t, z)
    expected = [loss_formula("bce", yk, tk, zk) for yk, tk, zk in zip(y, t, z, strict=True)]
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-300)
    # right answers near 0, wrong ones cost about |z| per output (averaged over n = 2)
    assert values[0] < 1e-15 and math.isclose(values[1], z0, rel_tol=1e-12)
    assert not math.isfinite(naive_bce(y[1], t[1]))  # where the naive formula gives up


def test_cross_entropy_stays_finite_at_saturation():
    ce = get_loss("cross_entropy")
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    y = get_activation("softmax").fn(z)
    values = ce.fn(y, t, z)
    np.testing.assert_allclose(values, [2000.0, 0.0], rtol=1e-15, atol=1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(-(t[0] * np.log(y[0])).sum())  # the naive form: 1 ln 0


# -- output deltas: delta[L] = dl/dz[L] ---------------------------------------------------------


def fd_output_delta(loss: str, act: str, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d loss(f(z), t) / dz by finite differences of the formulas above, per sample."""

    def ell(row, k):
        y = softmax_row(row) if act == "softmax" else [FORMULAS[act][0](v) for v in row]
        return loss_formula(loss, y, t[k], row)

    d = np.zeros_like(z)
    for k, j in np.ndindex(z.shape):

        def f(v, k=k, j=j):
            row = z[k].copy()
            row[j] = v
            return ell(row, k)

        d[k, j] = five_point(f, z[k, j], 1e-4)
    return d


PAIRS = [(loss, act) for loss in REGRESSION for act in ELEMENTWISE] + [
    ("bce", "sigmoid"),
    ("cross_entropy", "softmax"),
]


@pytest.mark.parametrize("loss,act", PAIRS)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), b=st.integers(1, 4), n=st.integers(1, 4))
def test_output_delta_is_dl_dz(loss, act, seed, b, n):
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, (b, n))
    z = np.where(np.abs(z) < 1e-2, 0.5, z)  # clear of relu kinks
    if loss == "bce":
        t = rng.uniform(0.0, 1.0, (b, n))
    elif loss == "cross_entropy":
        t = rng.dirichlet(np.ones(n), b)
    else:
        t = rng.uniform(-1.0, 1.0, (b, n))
    f = get_activation(act)
    delta = output_delta(get_loss(loss), f, f.fn(z), t, z)
    assert delta.shape == z.shape
    np.testing.assert_allclose(delta, fd_output_delta(loss, act, z, t), rtol=1e-7, atol=1e-10)


def test_softmax_cross_entropy_delta_is_the_true_gradient_for_any_nonnegative_targets():
    """y sum(t) - t: equal to y - t for a distribution, and still dl/dz when t does not sum to 1."""
    rng = np.random.default_rng(5)
    z, t = rng.normal(0, 2, (4, 3)), rng.uniform(0, 2, (4, 3))
    softmax = get_activation("softmax")
    delta = output_delta(get_loss("cross_entropy"), softmax, softmax.fn(z), t, z)
    expected = fd_output_delta("cross_entropy", "softmax", z, t)
    np.testing.assert_allclose(delta, expected, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("z0", [40.0, 800.0, 1e300])
def test_fused_output_deltas_stay_finite_at_saturation(z0):
    sig, softmax = get_activation("sigmoid"), get_activation("softmax")
    z = np.array([[z0, -z0, z0], [-z0, z0, 0.0]])
    t_bce = np.array([[1.0, 1.0, 0.0], [0.0, 0.5, 0.5]])
    t_ce = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.5]])  # distributions
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d_bce = output_delta(get_loss("bce"), sig, sig.fn(z), t_bce, z)
        d_ce = output_delta(get_loss("cross_entropy"), softmax, softmax.fn(z), t_ce, z)

    # (sigma(z) - t) / n, with sigma computed one number at a time (at z = -40 it is 4.2e-18,
    # not 0: the tails keep their relative precision)
    def sigma(v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))

    y_bce = np.array([[sigma(v) for v in row] for row in z])
    np.testing.assert_allclose(d_bce, (y_bce - t_bce) / 3, rtol=1e-14, atol=1e-300)
    y_ce = np.array([softmax_row(r) for r in z])  # [1/2, 0, 1/2] and [0, 1, 0]
    np.testing.assert_allclose(d_ce, y_ce - t_ce, rtol=1e-15, atol=1e-300)


def test_sigmoid_keeps_its_relative_precision_in_both_tails():
    # the panels print numbers in scientific notation, so a tiny activation must be right
    # relative to itself, not just to within 1e-16
    z = np.linspace(-700.0, 700.0, 2801)
    a = get_activation("sigmoid").fn(z)
    exact = np.array([1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v)) for v in z])
    np.testing.assert_allclose(a, exact, rtol=4e-16, atol=0)
    assert get_activation("sigmoid").fn(np.array([-746.0]))[0] == 0.0  # underflow, silently
