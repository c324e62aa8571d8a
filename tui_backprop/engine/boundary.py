"""The decision boundary of a two-input network: its output over a grid on the input plane.

    ext = extent(X)                                   # the data's range, plus a margin
    Y = output_grid(network, W, b, ext, cols, rows)   # (rows, cols, n_L), row 0 at the top
    r, c = pixel_of(X, ext, cols, rows)               # where each data point falls on that grid
    x1, x2 = pixel_centre(r, c, ext, cols, rows)      # the point at the centre of a pixel (a click)

The grid's pixel (r, c) is the network's output at the centre of that pixel: x1 grows to the
right along the columns, x2 grows upwards (row 0 is the highest x2), as on a plot. With
engineered features ([data] features, engine/features.py) the plane is still the raw inputs'
(x1, x2): each pixel centre goes through the features before the network (plane_inputs), as
every data point did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .network import Network

Array = np.ndarray
InputMap = Callable[[Array], Array]  # raw points (P, 2) -> the network's inputs (P, n_0)


class Extent(NamedTuple):
    """The rectangle of the input plane drawn: x1 from x1_lo to x1_hi, x2 from x2_lo to x2_hi."""

    x1_lo: float
    x1_hi: float
    x2_lo: float
    x2_hi: float


def extent(X: Array, margin: float = 0.1) -> Extent:
    """The range of the points X (N, 2) widened by ``margin`` times its span on every side
    (by 1 on each side when a coordinate does not vary)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, margin * (hi - lo), 1.0)
    lo, hi = lo - pad, hi + pad
    return Extent(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def grid_points(ext: Extent, cols: int, rows: int) -> Array:
    """The centres of a rows x cols grid of pixels over ``ext``, as points (rows * cols, 2),
    row by row from the top."""
    x1 = ext.x1_lo + (np.arange(cols) + 0.5) * (ext.x1_hi - ext.x1_lo) / cols
    x2 = ext.x2_hi - (np.arange(rows) + 0.5) * (ext.x2_hi - ext.x2_lo) / rows
    g1, g2 = np.meshgrid(x1, x2)
    return np.column_stack([g1.ravel(), g2.ravel()])


def plane_inputs(ext: Extent, cols: int, rows: int, features: InputMap | None = None) -> Array:
    """The network's inputs a[0] at every pixel centre of the raw plane, (rows * cols, n_0) row by
    row from the top: the points themselves, or their ``features``."""
    points = grid_points(ext, cols, rows)
    return points if features is None else features(points)


def output_grid(
    network: Network,
    W: Sequence[Array],
    b: Sequence[Array],
    ext: Extent,
    cols: int,
    rows: int,
    features: InputMap | None = None,
) -> Array:
    """The network's output y = a[L] at every pixel centre of the raw plane (through the
    ``features`` when the network has them), shape (rows, cols, n_L)."""
    _, acts = network.forward(W, b, plane_inputs(ext, cols, rows, features))
    y = acts[-1]
    return y.reshape(rows, cols, y.shape[1])


def pixel_of(X: Array, ext: Extent, cols: int, rows: int) -> tuple[Array, Array]:
    """The pixel (row, column) each point of X (N, 2) falls in; points outside are clipped in."""
    c = np.floor((X[:, 0] - ext.x1_lo) / (ext.x1_hi - ext.x1_lo) * cols).astype(int)
    r = np.floor((ext.x2_hi - X[:, 1]) / (ext.x2_hi - ext.x2_lo) * rows).astype(int)
    return np.clip(r, 0, rows - 1), np.clip(c, 0, cols - 1)


def pixel_centre(r: int, c: int, ext: Extent, cols: int, rows: int) -> tuple[float, float]:
    """The point (x1, x2) at the centre of pixel (r, c) of a rows x cols grid over ``ext``: the
    inverse of ``pixel_of``, which puts this point back in (r, c)."""
    x1 = ext.x1_lo + (c + 0.5) * (ext.x1_hi - ext.x1_lo) / cols
    x2 = ext.x2_hi - (r + 0.5) * (ext.x2_hi - ext.x2_lo) / rows
    return x1, x2
