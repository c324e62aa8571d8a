"""Every neuron over the input plane: each layer's activation a[l] at every pixel of a grid.

Each hidden and output node of a two-input network computes a function of the input point. Drawn
over the plane, as boundary.py draws the output, it shows what that unit has learned:

    planes = activation_planes(network, W, b, ext, cols, rows)   # one forward pass over the grid
    planes.a[l - 1]       # a[l] at every pixel centre, shape (rows, cols, n_l), row 0 at the top
    planes.scale[l - 1]   # (lo, hi): the range the colours of layer l span

A layer's scale is its activation's range when that is bounded (sigmoid and softmax 0..1, tanh
and sine -1..1: a map then reads the same at every step), and otherwise (relu, identity, elu,
...) the lowest and highest finite a[l] of the whole layer over the grid, so that the maps of one
layer share one scale.

PlaneCache keeps the planes last computed for each grid size while the weights are the same
arrays: parameters are read-only and every update makes new ones, so their identity tells
whether the planes are still those of the weights asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .boundary import Extent, InputMap, plane_inputs
from .network import Network

Array = np.ndarray

# the range of each bounded activation; any other spans the data
BOUNDED: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "sine": (-1.0, 1.0),
}


@dataclass(frozen=True)
class Planes:
    """Every layer's activation over a rows x cols grid of ``extent`` (read-only arrays)."""

    a: tuple[Array, ...]  # a[l] for l = 1..L, each (rows, cols, n_l)
    scale: tuple[tuple[float, float], ...]  # (lo, hi) of each layer
    bounded: tuple[bool, ...]  # the scale is the activation's range (else the data's)
    extent: Extent


def layer_scale(activation: str, a: Array) -> tuple[tuple[float, float], bool]:
    """(lo, hi) that the values ``a`` of a layer of ``activation`` are drawn on, and whether it
    is the activation's own range: the data's range otherwise, widened by 1 on each side when
    the layer is constant (and -1..1 when no value is finite)."""
    if activation in BOUNDED:
        return BOUNDED[activation], True
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return (-1.0, 1.0), False
    lo, hi = float(finite.min()), float(finite.max())
    return ((lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)), False


def activation_planes(
    network: Network,
    W: Sequence[Array],
    b: Sequence[Array],
    ext: Extent,
    cols: int,
    rows: int,
    inputs: InputMap | None = None,
) -> Planes:
    """a[l] of every layer l = 1..L at the centre of every pixel of a rows x cols grid over
    ``ext``, each (rows, cols, n_l), by one forward pass of the rows * cols points; ``inputs``
    turns the raw points into the network's inputs (boundary.plane_inputs)."""
    with np.errstate(all="ignore"):  # a diverged network's planes hold inf and nan
        _, acts = network.forward(W, b, plane_inputs(ext, cols, rows, inputs))
    maps, scales, bounded = [], [], []
    for act, a in zip(network.activations, acts, strict=True):
        grid = a.reshape(rows, cols, a.shape[1])
        grid.flags.writeable = False
        scale, own = layer_scale(act.name, grid)
        maps.append(grid)
        scales.append(scale)
        bounded.append(own)
    return Planes(tuple(maps), tuple(scales), tuple(bounded), ext)


class PlaneCache:
    """activation_planes of one network over one extent, remembered for the last weights
    asked for at each of the ``kept`` grid sizes last used."""

    def __init__(self, network: Network, ext: Extent, inputs: InputMap | None = None, kept: int = 4) -> None:
        self.network, self.extent, self.inputs, self.kept = network, ext, inputs, kept
        # (cols, rows) -> (W, b, planes), the most recently used last
        self._kept: dict[tuple[int, int], tuple[tuple[Array, ...], tuple[Array, ...], Planes]] = {}
        self.computed = 0  # forward passes made (tests and benchmarks read it)

    def planes(self, W: Sequence[Array], b: Sequence[Array], cols: int, rows: int) -> Planes:
        """The planes of W and b on a rows x cols grid: computed once for the same arrays."""
        W, b, size = tuple(W), tuple(b), (cols, rows)
        entry = self._kept.pop(size, None)
        if entry is None or not (_same(entry[0], W) and _same(entry[1], b)):
            entry = (W, b, activation_planes(self.network, W, b, self.extent, cols, rows, self.inputs))
            self.computed += 1
        self._kept[size] = entry
        while len(self._kept) > self.kept:
            del self._kept[next(iter(self._kept))]
        return entry[2]


def _same(kept: tuple[Array, ...], given: tuple[Array, ...]) -> bool:
    """The same arrays, one for one (identity, not equality: parameters are never changed in place)."""
    return len(kept) == len(given) and all(x is y for x, y in zip(kept, given, strict=True))
