"""The neuron heatmaps (key 9, two-input networks): every node of a layer over the input plane.

The layer is the selection's (the selected node's, or the node a selected weight goes into; the
input layer's selection shows layer 1). The selected node's map is drawn large, with the training
points on it in their class markers and colours, as on the decision boundary; beside it, or
under it when the panel is narrow, every node of the layer side by side, smaller, the selected
one's name highlighted. The maps are each node's a over the plane (engine/planes.py) with the
weights the boundary is drawn with: the record's after its update. The heading states the scale
(the activation's range, or the layer's range over the plane) and the range of each axis.

The panel is hidden until 9 zooms it; hidden, it builds nothing.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from rich.text import Text

from ...engine.boundary import pixel_of
from ...engine.planes import PlaneCache, Planes
from ..widgets.numbers import style
from ..widgets.palette import current, marker, no_colour
from .base import Panel
from .boundary import cell_style, class_colours
from .plane_text import LEVELS, Cell, colours, map_cells, map_text, position, rows_of

Array = np.ndarray

HEADING = 4  # lines above the maps: the layer, the scale, the axes and keys, a blank
LARGEST = 28  # rows of the selected node's map at most (56 pixels a side: a frame stays quick)
GAP = 2  # columns between two maps side by side
MIDDLE = "○"  # one output: a point whose target is the middle of the range (as the boundary)


class Sizes(NamedTuple):
    """The layout: the large map ``rows`` x ``cols`` cells; each small one ``small_rows`` x
    ``small_cols``, ``per_row`` of them a row; ``beside``: the small ones right of the large one."""

    rows: int
    cols: int
    small_rows: int
    small_cols: int
    per_row: int
    beside: bool


def map_width(rows: int, aspect: float) -> int:
    """Columns of a map ``rows`` cells tall that keep the plane's proportions (a cell is twice
    as tall as wide): aspect = the plane's width over its height."""
    return max(2, round(2 * rows * aspect))


def layout(width: int, height: int, n: int, aspect: float) -> Sizes:
    """The largest maps that fit ``width`` x ``height`` cells for ``n`` nodes: the selected
    node's as tall as the room (and at most half the width) and the n smaller ones in a grid
    beside it, each at most half as tall; under it when no grid of maps 2 rows tall fits
    beside it (the panel then scrolls)."""
    rows = max(2, min(height - 1, LARGEST, int(width / 2 / (2 * aspect))))  # its title line above it
    cols = map_width(rows, aspect)
    room = width - cols - GAP - 1
    for small in range(max(2, rows // 2), 1, -1):
        small_cols = map_width(small, aspect)
        per_row = (room + GAP) // (small_cols + GAP)
        if per_row >= 1 and math.ceil(n / per_row) * (small + 1) <= height:
            return Sizes(rows, cols, small, small_cols, per_row, True)
    small = max(2, min(rows // 2, 8))
    small_cols = map_width(small, aspect)
    return Sizes(rows, cols, small, small_cols, max(1, (width + GAP) // (small_cols + GAP)), False)


class HeatmapsPanel(Panel):
    TITLE = "neuron heatmaps"
    CROP = True

    def __init__(self, net, planes: PlaneCache | None, X: Array, T: Array, key: str = "", **kwargs) -> None:
        """``planes``: the network's activations over the plane (None: not two inputs); ``X``
        (N, 2) and ``T`` (N, n_L): the training points drawn on the selected node's map."""
        super().__init__(net, key, **kwargs)
        self.planes = planes
        self.X, self.T = X, T
        lo, hi = (float(T.min()), float(T.max())) if T.size else (0.0, 1.0)
        self.t_range = (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)
        self.shown: tuple[int, int] | None = None  # (layer, node) of the large map drawn
        self.sizes: Sizes | None = None
        self.drawn: Planes | None = None  # the planes of the large map drawn
        self._point_styles: tuple[object, list[tuple[int, ...]], list[str]] | None = None  # point_classes

    def set_notation(self, notation: str) -> None:  # the title names no symbol of a notation
        self.notation = notation

    def weights(self) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
        """W and b as the boundary panel draws them: after the record's update (before it while
        a step taken phase by phase has not reached it); the initial ones at step 0."""
        rec = self.record
        if rec is None:
            return self.net.initial_W, self.net.initial_b
        if self.reveal.update:
            return tuple(lr.w for lr in rec.layers), tuple(lr.b for lr in rec.layers)
        return tuple(lr.w_before for lr in rec.layers), tuple(lr.b_before for lr in rec.layers)

    def layer_shown(self) -> tuple[int, int, str]:
        """(layer, node) whose layer is shown, with a note when it is not the selection's."""
        layer, j = self.selection.focus_node()
        if layer == 0:
            return 1, 0, f"input {self.net.names[0][j]} selected: layer 1 shown"
        return layer, j, ""

    def build(self, width: int) -> Text:
        return Text("\n").join(self.build_lines(width))

    def build_lines(self, width: int) -> list[Text]:
        if self.planes is None or not self.display:
            return [Text("")]
        height = (self.scrollable_content_region.height or self.size.height or 30) - HEADING
        layer, j, note = self.layer_shown()
        n = self.net.layers[layer]
        e = self.planes.extent
        aspect = (e.x1_hi - e.x1_lo) / (e.x2_hi - e.x2_lo)
        at = self.sizes = layout(width, height, n, aspect)
        W, b = self.weights()
        big = self.planes.planes(W, b, at.cols, rows_of(at.rows))
        small = self.planes.planes(W, b, at.small_cols, rows_of(at.small_rows))
        self.shown, self.drawn = (layer, j), big
        heading = Text(no_wrap=True, overflow="crop")
        self._heading(heading, layer, note, big, width)
        large = self._large(big, layer, j)
        grid = self._grid(small, layer, j, at)
        lines = _beside(large, grid, at.cols + GAP) if at.beside else [*large, Text(""), *grid]
        return [*heading.split("\n", allow_blank=True)[:HEADING], *lines]

    def _heading(self, out: Text, layer: int, note: str, planes: Planes, width: int) -> None:
        """The layer and the weights, the scale, the axes and the keys."""
        net, rec = self.net, self.record
        kind = "output" if layer == net.depth else "hidden"
        act = net.activations[layer - 1]
        if rec is None:
            when = "the initial weights"
        else:
            when = f"the weights {'after' if self.reveal.update else 'before'} step {rec.step}'s update"
        head = f"layer {layer} ({kind}, {act}): each node's a over the input plane, with {when}"
        out.append(_cut(head + (f"   ({note})" if note else ""), width) + "\n", style("bold"))
        lo, hi = planes.scale[layer - 1]
        source = f"{act}'s range" if planes.bounded[layer - 1] else "this layer's range over the plane"
        out.append_text(self._legend(lo, hi, source, width))
        e, (x1, x2) = planes.extent, net.names[0]
        axes = f"{x1} {e.x1_lo:.3g}..{e.x1_hi:.3g} →   {x2} {e.x2_lo:.3g}..{e.x2_hi:.3g} ↑"
        keys = "arrows: the selection (tab: a node); 9 or escape: back"
        out.append("\n" + _cut(f"{axes}   {keys}", width) + "\n\n", style("dim"))

    def _legend(self, lo: float, hi: float, source: str, width: int) -> Text:
        """The scale: its ends and middle, each as it is drawn."""
        line = Text(no_wrap=True, overflow="crop")
        line.append(f"scale {lo:.3g}..{hi:.3g} ({source}): ", style("dim"))
        mid = (lo + hi) / 2
        values = np.array([[lo, mid, hi]])
        if no_colour():
            ends = zip((LEVELS[0], LEVELS[len(LEVELS) // 2], LEVELS[-1]), (lo, mid, hi), strict=True)
            line.append(" … ".join(f"{shade} {value:.3g}" for shade, value in ends))
        else:
            rgb = [tuple(c) for c in colours(values, (lo, hi))[0].tolist()]
            for k, (colour, value) in enumerate(zip(rgb, (lo, mid, hi), strict=True)):
                line.append(" … " if k else "")
                line.append("██", cell_style(colour, colour))
                line.append(f" {value:.3g}")
        line.truncate(width)
        return line

    def _large(self, planes: Planes, layer: int, j: int) -> list[Text]:
        """The selected node's map, under its name, with the training points on it."""
        at = self.sizes
        assert at is not None
        values = planes.a[layer - 1][:, :, j]
        cells = map_cells(values, planes.scale[layer - 1])
        self._points(cells, at.cols, rows_of(at.rows), planes)
        title = Text(_cut(f"{self.net.names[layer][j]} (selected), node {j} of layer {layer}", at.cols))
        title.stylize(style("selected"))
        return [title, *map_text(cells)]

    def _points(self, cells: list[list[Cell]], cols: int, pixel_rows: int, planes: Planes) -> None:
        """The training points on the cells, each in its class's marker (the first point of a
        cell is drawn): in its class colour on the pixel it falls in, or plain under NO_COLOR."""
        if self.X.shape[1] != 2 or not len(self.X):
            return
        pr, pc = pixel_of(self.X, planes.extent, cols, pixel_rows)
        per_cell = 1 if no_colour() else 2
        hues, marks = self.point_classes()
        seen: set[tuple[int, int]] = set()
        for r, c, hue, mark in zip(pr.tolist(), pc.tolist(), hues, marks, strict=True):
            cell = (r // per_cell, c)
            if cell in seen:
                continue
            seen.add(cell)
            if per_cell == 1:
                cells[cell[0]][c] = (mark, None)
                continue
            under = cells[cell[0]][c][1]  # the pixel the point falls in is its background
            bg = under.color if r % 2 == 0 else under.bgcolor  # type: ignore[union-attr]
            back = bg.get_truecolor() if bg is not None else (34, 34, 34)
            cells[cell[0]][c] = (mark, cell_style(hue, tuple(back), bold=True))

    def point_classes(self) -> tuple[list[tuple[int, ...]], list[str]]:
        """Each training point's colour (its class's, lightened) and marker: the end of the
        targets' range it is on with one output (MIDDLE at the middle), the arg-max class with several.
        Made once for each palette."""
        palette = current()
        if self._point_styles is not None and self._point_styles[0] is palette:
            return self._point_styles[1], self._point_styles[2]
        classes = class_colours()
        if self.T.shape[1] == 1:
            s = position(self.T[:, 0], self.t_range)
            keys = [1 if v > 0 else (0 if v < 0 else -1) for v in s.tolist()]
        else:
            keys = np.argmax(self.T, axis=1).tolist()
        hues, marks = [], []
        for k in keys:
            hue = classes[k % len(classes)] if k >= 0 else np.array((200.0, 200.0, 200.0))
            light = np.clip(np.rint((hue + (255 - hue) * 0.35) / 4) * 4, 0, 255).astype(int)
            hues.append(tuple(light.tolist()))
            marks.append(marker(k) if k >= 0 else MIDDLE)
        self._point_styles = (palette, hues, marks)
        return hues, marks

    def _grid(self, planes: Planes, layer: int, j: int, at: Sizes) -> list[Text]:
        """Every node of the layer, ``at.per_row`` maps a row, each under its name."""
        names, values = self.net.names[layer], planes.a[layer - 1]
        scale = planes.scale[layer - 1]
        lines: list[Text] = []
        for first in range(0, len(names), at.per_row):
            row = range(first, min(first + at.per_row, len(names)))
            block = [Text("") for _ in range(at.small_rows + 1)]
            for k, node in enumerate(row):
                cells = map_cells(values[:, :, node], scale)
                name = Text(_cut(names[node], at.small_cols).ljust(at.small_cols))
                name.stylize(style("selected" if node == j else "bold"))
                for line, part in zip(block, [name, *map_text(cells)], strict=True):
                    if k:
                        line.append(" " * GAP)
                    line.append_text(part)
            lines += block
        return lines


def _beside(left: list[Text], right: list[Text], width: int) -> list[Text]:
    """Two columns of lines side by side, the left one padded to ``width``."""
    out = []
    for k in range(max(len(left), len(right))):
        line = left[k].copy() if k < len(left) else Text("")
        line.pad_right(width - line.cell_len)
        if k < len(right):
            line.append_text(right[k])
        out.append(line)
    return out


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis at the end of a cut one."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
