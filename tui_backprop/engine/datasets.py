"""Generated data sets: the TensorFlow-playground planes, and Gaussian blobs in any dimension.

Every generator draws from ``rng`` only, so one seed always gives the same bytes. The
two-dimensional sets live on the playground's plane, about [-6, 6] x [-6, 6]:

    xor     x uniform in the four quadrants, kept 0.3 away from both axes; class 1 when x1 x2 > 0
    circle  class 1 inside radius 2.5 (r uniform in [0, 2.5]); class 0 in the ring 3.5 <= r <= 5
    gauss   two Gaussian clouds of std 1: class 1 around (2, 2), class 0 around (-2, -2)
    spiral  two interleaved spirals, r = 5 i / n, angle 3.5 pi i / n (+ pi for class 0)
    moons   two interleaved half circles (scikit-learn's moons, scaled by 3 and centred)
    plane   regression: x uniform in [-6, 6]^2, target (x1 + x2) / 12, in [-1, 1]

``noise`` is the standard deviation of Gaussian noise added to every input coordinate
after the class (or the plane's target) is fixed, so a noisy point can stray across the
boundary. Each returns X (N, 2) and y (N,): the class 0/1 (int) or the target (float).
Rows come in a random order (drawn from ``rng``), the classes as even as N allows.

``blobs`` draws one Gaussian cluster per class in d dimensions; ``encode`` turns classes
into target rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .names import GENERATORS as GENERATORS  # the names of the sets below, for their readers
from .names import REGRESSION

Array = np.ndarray
if TYPE_CHECKING:  # numpy.random loads when a set is drawn: checking a scenario does not need it
    Rng = np.random.Generator

PLANE = 6.0  # the 2-D sets lie in about [-PLANE, PLANE]^2 (before noise)


def _halves(n: int) -> Array:
    """Class labels (n,), ceil(n/2) ones then floor(n/2) zeros."""
    return (np.arange(n) < (n + 1) // 2).astype(int)


def _finish(X: Array, y: Array, noise: float, rng: Rng) -> tuple[Array, Array]:
    """Add the noise to X, then shuffle the rows (one permutation for X and y). X is a fresh
    array of the generator's, changed in place: one copy of the points at a time, not three."""
    e = rng.standard_normal(X.shape)
    e *= noise
    X += e
    del e
    order = rng.permutation(len(X))
    return X[order], y[order]


def xor(n: int, noise: float, rng: Rng) -> tuple[Array, Array]:
    """The four quadrants, class 1 where x1 x2 > 0 (the sign of the product, as the playground)."""
    X = rng.uniform(-5.0, 5.0, size=(n, 2))
    X += np.where(X >= 0, 0.3, -0.3)  # padding: no point sits on an axis
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return _finish(X, y, noise, rng)


def circle(n: int, noise: float, rng: Rng) -> tuple[Array, Array]:
    """Class 1 within radius 2.5 of the origin, class 0 in the ring between 3.5 and 5."""
    y = _halves(n)
    r = np.where(y == 1, rng.uniform(0.0, 2.5, n), rng.uniform(3.5, 5.0, n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    return _finish(X, y, noise, rng)


def gauss(n: int, noise: float, rng: Rng) -> tuple[Array, Array]:
    """Two clouds of std 1: class 1 around (2, 2), class 0 around (-2, -2)."""
    y = _halves(n)
    centre = np.where(y == 1, 2.0, -2.0)[:, None]
    X = centre + rng.standard_normal((n, 2))
    return _finish(X, y, noise, rng)


def spiral(n: int, noise: float, rng: Rng) -> tuple[Array, Array]:
    """Two spirals from the origin out to radius 5, one and three quarter turns each."""
    y = _halves(n)
    i = np.concatenate([np.arange((n + 1) // 2), np.arange(n // 2)])
    m = np.where(y == 1, (n + 1) // 2, n // 2)  # points on that spiral
    r = 5.0 * i / m
    t = 1.75 * 2 * np.pi * i / m + np.where(y == 1, 0.0, np.pi)
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return _finish(X, y, noise, rng)


def moons(n: int, noise: float, rng: Rng) -> tuple[Array, Array]:
    """Class 1 on the upper half circle (cos t, sin t); class 0 on (1 - cos t, 0.5 - sin t);
    t uniform in [0, pi]; the whole scaled by 3 about (0.5, 0.25)."""
    y = _halves(n)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = 3.0 * (np.where(y[:, None] == 1, upper, lower) - [0.5, 0.25])
    return _finish(X, y, noise, rng)


def plane(n: int, noise: float, rng: Rng) -> tuple[Array, Array]:
    """Regression: x uniform in [-6, 6]^2, target (x1 + x2) / 12 from the point before noise."""
    X = rng.uniform(-PLANE, PLANE, size=(n, 2))
    y = (X[:, 0] + X[:, 1]) / (2 * PLANE)
    return _finish(X, y, noise, rng)


PLANE_SETS: dict[str, Callable[[int, float, Rng], tuple[Array, Array]]] = {
    "xor": xor,
    "circle": circle,
    "gauss": gauss,
    "spiral": spiral,
    "moons": moons,
    "plane": plane,
}


def blobs(
    n: int, d: int, k: int, noise: float, rng: Rng, spread: float = 1.0, centers: float = 3.0
) -> tuple[Array, Array]:
    """k Gaussian clusters in d dimensions: X (n, d) and the class of each row (n,).

    The centres are drawn first, uniform in [-centers, centers]^d, one row per class
    (k, d); row i belongs to class i mod k (so the classes are as even as n allows) and is
    its centre plus spread * N(0, I), plus the noise.
    """
    mu = rng.uniform(-centers, centers, size=(k, d))
    y = np.arange(n) % k
    e = rng.standard_normal((n, d))
    e *= spread
    X = mu[y]
    X += e
    del e
    return _finish(X, y, noise, rng)


def encode(y: Array, n_out: int, negative: float = 0.0) -> Array:
    """Targets (N, n_out) for classes y (N,) of ``max(2, n_out)`` kinds.

    n_out = 1: the class itself, 1 or ``negative`` (0, or -1 for a tanh output);
    n_out >= 2: one-hot rows, column c for class c.
    """
    if n_out == 1:
        return np.where(y == 1, 1.0, negative)[:, None]
    T = np.zeros((len(y), n_out))
    T[np.arange(len(y)), y] = 1.0  # np.eye(n_out)[y], without an n_out x n_out matrix
    return T


def generate(
    name: str,
    samples: int,
    noise: float,
    seed: int,
    n_in: int,
    n_out: int,
    negative: float = 0.0,
    spread: float = 1.0,
    centers: float = 3.0,
) -> tuple[Array, Array]:
    """X (samples, n_in) and T (samples, n_out) of generator ``name``, drawn from ``seed``.

    The 2-D sets need n_in = 2; their classes are encoded by ``encode`` (plane's target
    is one column). The caller checks that the generator fits the network.
    """
    rng = np.random.default_rng(seed)
    if name == "blobs":
        X, y = blobs(samples, n_in, n_out, noise, rng, spread, centers)
        return X, encode(y, n_out)
    X, y = PLANE_SETS[name](samples, noise, rng)
    if name in REGRESSION:
        return X, y.astype(float)[:, None]
    return X, encode(y, n_out, negative)
