"""The generators of engine/datasets.py: shapes, reproducibility, and labels that mean what
the docstrings say, each checked from the geometry of the points in the test."""

from __future__ import annotations

import numpy as np
import pytest

from tui_backprop.engine.datasets import GENERATORS, PLANE_SETS, blobs, encode, generate

PLANE_NAMES = sorted(PLANE_SETS)
CLASSIFIERS = [n for n in PLANE_NAMES if n != "plane"]


def make(name: str, n: int = 400, noise: float = 0.0, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    return PLANE_SETS[name](n, noise, np.random.default_rng(seed))


# -- shapes, balance, reproducibility ----------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 7, 400])
@pytest.mark.parametrize("name", PLANE_NAMES)
def test_shapes_and_finite(name, n):
    X, y = make(name, n, noise=0.3)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert np.isfinite(X).all() and np.isfinite(y).all()


@pytest.mark.parametrize("n", [1, 2, 7, 400])
@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if n != "xor"])
def test_two_classes_as_even_as_n_allows(name, n):
    _, y = make(name, n)
    assert set(np.unique(y)) <= {0, 1}
    assert sorted(np.bincount(y, minlength=2)) == sorted([(n + 1) // 2, n // 2])


def test_xor_labels_are_zero_or_one_and_both_occur():
    _, y = make("xor", 400)
    assert set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_bytes_other_seed_differs(name):
    n_in, n_out = (5, 3) if name == "blobs" else (2, 1)
    a = generate(name, 50, 0.2, 11, n_in, n_out)
    b = generate(name, 50, 0.2, 11, n_in, n_out)
    c = generate(name, 50, 0.2, 12, n_in, n_out)
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
    assert a[0].tobytes() != c[0].tobytes()


@pytest.mark.parametrize("name", PLANE_NAMES)
def test_noise_is_gaussian_added_to_the_same_points(name):
    """The noise is drawn after the points and before the shuffle, so the same seed gives the same
    points in the same order, moved by noise * N(0, 1) on each coordinate."""
    X0, y0 = make(name, 4000, noise=0.0)
    X1, y1 = make(name, 4000, noise=0.5)
    assert np.array_equal(y0, y1)
    d = X1 - X0
    assert abs(d.mean()) < 0.03
    assert d.std() == pytest.approx(0.5, rel=0.05)


def test_rows_are_shuffled():
    _, y = make("circle", 400)
    assert 0 < y[:200].sum() < 200  # not all of class 1 first


# -- labels that mean what they should -------------------------------------------------------


def test_xor_class_is_the_sign_of_x1_x2_and_points_keep_off_the_axes():
    X, y = make("xor", 1000)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert (np.abs(X) >= 0.3).all() and (np.abs(X) <= 5.3).all()


def test_circle_class_is_the_radius():
    X, y = make("circle", 1000)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.array_equal(y, (r < 3.0).astype(int))
    assert (r[y == 1] <= 2.5).all() and (r[y == 0] >= 3.5).all() and (r <= 5.0).all()


def test_gauss_classes_are_two_unit_clouds_at_plus_and_minus_two():
    X, y = make("gauss", 8000)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.06)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.06)
    np.testing.assert_allclose(X[y == 1].std(axis=0), [1, 1], atol=0.05)
    # the line x1 + x2 = 0 lies 2.83 std from each centre: it separates all but ~0.2%
    assert ((X.sum(axis=1) > 0).astype(int) == y).mean() > 0.99


def test_spiral_points_lie_on_their_arm():
    """Class 1: (r sin t, r cos t) with t = 3.5 pi r / 5; class 0 the same turned by pi."""
    X, y = make("spiral", 301)
    r = np.hypot(X[:, 0], X[:, 1])
    t = 3.5 * np.pi * r / 5 + np.where(y == 1, 0.0, np.pi)
    np.testing.assert_allclose(X, np.column_stack([r * np.sin(t), r * np.cos(t)]), atol=1e-9)
    assert r.max() < 5.0 and r.min() == 0.0


def test_moons_points_lie_on_their_half_circle():
    X, y = make("moons", 1000)
    p = X / 3 + [0.5, 0.25]  # undo the scaling
    upper, lower = p[y == 1], p[y == 0]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(*(lower - [1.0, 0.5]).T), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_plane_target_is_the_scaled_sum_of_the_inputs():
    X, y = make("plane", 1000)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 12)
    assert (np.abs(X) <= 6).all() and np.abs(y).max() <= 1.0


# -- blobs -----------------------------------------------------------------------------------


def test_blobs_shape_balance_and_clusters():
    d, k, n = 20, 4, 403
    X, y = blobs(n, d, k, 0.0, np.random.default_rng(0), spread=1.0, centers=3.0)
    assert X.shape == (n, d) and y.shape == (n,)
    assert sorted(np.bincount(y)) == [100, 101, 101, 101]
    means = np.array([X[y == c].mean(axis=0) for c in range(k)])
    assert np.abs(means).max() < 3.0 + 0.6  # centres drawn in [-3, 3]^d
    np.testing.assert_allclose(X[y == 0].std(axis=0).mean(), 1.0, atol=0.1)
    # every point is nearest to its own cluster's mean
    dist = ((X[:, None, :] - means[None]) ** 2).sum(axis=2)
    assert np.array_equal(dist.argmin(axis=1), y)


def test_blobs_spread_zero_puts_every_point_on_its_centre():
    X, y = blobs(30, 3, 3, 0.0, np.random.default_rng(1), spread=0.0, centers=1.0)
    for c in range(3):
        assert len(np.unique(X[y == c], axis=0)) == 1
    assert np.abs(X).max() <= 1.0


def test_generate_blobs_gives_one_hot_targets_in_the_network_shape():
    X, T = generate("blobs", 100, 0.0, 3, n_in=784, n_out=10)
    assert X.shape == (100, 784) and T.shape == (100, 10)
    assert set(np.unique(T)) == {0.0, 1.0} and (T.sum(axis=1) == 1).all()
    assert (T.sum(axis=0) == 10).all()


# -- encoding --------------------------------------------------------------------------------


def test_encode_one_column_with_either_negative_and_one_hot():
    y = np.array([1, 0, 0, 1])
    np.testing.assert_array_equal(encode(y, 1), [[1], [0], [0], [1]])
    np.testing.assert_array_equal(encode(y, 1, negative=-1.0), [[1], [-1], [-1], [1]])
    np.testing.assert_array_equal(encode(y, 2), [[0, 1], [1, 0], [1, 0], [0, 1]])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_generate_encodes_the_classes_it_draws(name):
    X, T = generate(name, 60, 0.1, 4, 2, 1, negative=-1.0)
    X2, y = PLANE_SETS[name](60, 0.1, np.random.default_rng(4))
    assert X.tobytes() == X2.tobytes()
    np.testing.assert_array_equal(T[:, 0], np.where(y == 1, 1.0, -1.0))
