"""The network diagram: layers as columns of nodes, weights as lines between them.

Each node shows its activation a for the selected sample of the batch (x for the input
layer). Each weight W[l][j, i] is a line from node i of layer l-1 to node j of layer l:
in the palette's sign colours (default: blue when positive, red when negative), one dot
thick, or two when |w| is at least half the largest |weight|. The lines are the weights this
step's forward pass used (W before the update). A layer with more than BIG nodes shows its
first and last few, with ⋮ between. The bias units (+1) sit on one row of their own under the
nodes. Lines stop one cell short of every label, so that no dot ever touches its text.

For a two-input network, each hidden and output node also shows its activation over the input
plane (engine/planes.py, from the same weights as the lines) as a small map beside its value,
where the panel has room: maps h rows tall and 2h columns wide (MAP_ROWS, the largest that fits)
need the rows of nodes h + 1 apart, so that a blank row separates two maps, and the gaps between
the columns at least MIN_GAP wide and three times that spacing. Otherwise they are off; key 9
shows every node of a layer over the plane, larger (panels/planes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich.text import Text

from ...engine import StepRecord
from ...engine.planes import PlaneCache
from ..netinfo import BIG
from ..widgets.braille import Canvas
from ..widgets.lines import Line, Lines
from ..widgets.numbers import fmt, fmt_short, largest, sign_name, style
from ..widgets.palette import current, no_colour
from ..widgets.warning_text import warned_nodes
from .base import Panel
from .plane_text import map_cells, rows_of
from .probed import batch_size, probe_of, probe_title

KEEP = 5  # nodes kept at each end of an elided layer
MIN_GAP = 4  # cells between two columns of labels: a blank, at least two of lines, a blank
VALUE = 6  # characters kept for a node's value (fmt_short)
BIAS = "+1 bias"  # the bias unit of a layer: its weights are the biases b of the next layer
MAP_ROWS = (5, 4, 3, 2)  # the heights a node's map over the input plane may take, largest first


@dataclass(frozen=True)
class _Entry:
    label: str
    node: int | None  # index in the layer; None for the ⋮ row
    value: float | None = None


@dataclass(frozen=True)
class _Layout:
    """Where the diagram's parts go, in cells: a column's x, a node's row y, the bias row."""

    labels: list[list[str]]  # each column's labels, all as wide
    widths: list[int]  # each column's width
    xs: list[int]  # each column's left edge
    ys: list[list[int]]  # each label's row
    space: int  # rows between two nodes
    bias_y: int  # the row of the bias units
    width: int
    height: int
    map_rows: int = 0  # rows of each node's map over the input plane (0: no maps)
    map_xs: tuple[int, ...] = ()  # each column's left edge of its maps


class NetworkView(Panel):
    TITLE = "network"
    CROP = True  # laid out to the panel's width

    def __init__(self, net, key: str = "", planes: PlaneCache | None = None, **kwargs) -> None:
        """``planes``: each layer's activation over the input plane (two-input networks only)."""
        super().__init__(net, key, **kwargs)
        self.planes = planes
        self.map_rows = 0  # the rows of the maps last drawn (0: none)
        self._weights: tuple[tuple, Canvas] | None = None  # what the weights' lines were, drawn

    def build(self, width: int) -> Lines:
        net, rec, sel = self.net, self.record, self.selection
        k = min(sel.sample, batch_size(rec) - 1) if rec else 0
        W = [lr.w_before for lr in rec.layers] if rec else list(net.initial_W)
        b = [lr.b_before for lr in rec.layers] if rec else list(net.initial_b)
        # a layer the phases of a step have not computed yet shows no values
        shown = self.reveal.forward
        values = (
            [rec.x[k]] + [lr.a[k] if l <= shown else None for l, lr in enumerate(rec.layers, 1)]
            if rec
            else None
        )
        columns = [self._entries(l, values[l] if values else None) for l in range(net.depth + 1)]

        out = Lines()
        out.append(_first_line(rec, k, width) + "\n", style("selected" if probe_of(rec) else "dim"))
        for line in self._draw(columns, W, b, width):
            out.line.extend(line)
            out.newline()
        out.append_text(self._footer(W, b))
        return out

    def _entries(self, l: int, values: np.ndarray | None) -> list[_Entry]:
        net = self.net
        n = net.layers[l]
        shown = list(range(n)) if n <= BIG else list(range(KEEP)) + [-2] + list(range(n - KEEP, n))
        entries = []
        for j in shown:
            if j == -2:
                entries.append(_Entry(f"⋮ {n - 2 * KEEP} more", None))
            else:
                v = None if values is None else float(values[j])
                entries.append(_Entry(net.names[l][j], j, v))
        return entries

    def _labels(self, col: list[_Entry], with_value: bool) -> list[str]:
        """The labels of a column, all as wide: a node's name on the left and its value on the
        right (lines leave a node at its value and arrive at its name), ⋮ on the left."""
        if not with_value:
            width = max(len(e.label) for e in col)
            return [e.label.ljust(width) for e in col]
        shown = [fmt_short(e.value) if e.value is not None else "·" for e in col]
        vw = max([VALUE] + [len(v) for v in shown])  # as wide at every step: the diagram stays put
        width = max(len(e.label) + (1 + vw if e.node is not None else 0) for e in col)
        return [
            e.label.ljust(width - vw) + v.rjust(vw) if e.node is not None else e.label.ljust(width)
            for e, v in zip(col, shown, strict=True)
        ]

    def _draw(self, columns: list[list[_Entry]], W, b, width: int) -> list[Line]:
        """The diagram: its layout, then the weights as lines, then the labels over them. The
        weights' lines are drawn again only when what they show changed (an end, a colour, a
        thickness or the order they are drawn in): a step moves the weights a little, and the
        lines seldom change."""
        layout = self._layout(columns, width)
        drawn = self._weight_lines(layout, columns, W, b)
        key = (layout.width, layout.height, drawn)
        if self._weights is None or self._weights[0] != key:
            canvas = Canvas(layout.width, layout.height)
            for layer in drawn[:-1]:
                canvas.lines_in_order(layer)
            if drawn[-1] is not None:  # the selected weight
                (x0, y0, x1, y1), chosen, thickness = drawn[-1]
                canvas.line(x0, y0, x1, y1, chosen, thickness)
            self._weights = (key, canvas.copy())
        else:
            canvas = self._weights[1].copy()
        self._draw_labels(canvas, layout, columns)
        self._draw_maps(canvas, layout, columns, W, b)
        self.map_rows = layout.map_rows
        return canvas.pieces()

    def _layout(self, columns: list[list[_Entry]], width: int) -> _Layout:
        """Where each column and each row goes: values beside the names when they fit ``width``."""
        L, net = len(columns) - 1, self.net
        for with_value in (True, False):
            labels = [self._labels(col, with_value) for col in columns]
            # the bias unit (+1) of a layer sits on a row of its own, under the nodes
            widths = [max(len(c[0]), len(BIAS) if net.bias and l < L else 0) for l, c in enumerate(labels)]
            gap = (width - sum(widths)) // max(L, 1)
            if gap >= MIN_GAP:
                break
        gap = max(gap, MIN_GAP)
        rows = max(len(col) for col in columns)
        room = self.scrollable_content_region.height - 3  # the sample line and the footer take 3
        bias_rows = 1 if net.bias else 0

        def height(space: int) -> int:
            return space * (rows - 1 + bias_rows) + 1

        maps = self._map_rows(widths, width, lambda h: height(h + 1) <= room)
        label_widths = widths
        if maps:  # each node's map beside its label: the columns after the inputs widen
            widths = [w + (2 * maps + 1 if l else 0) for l, w in enumerate(widths)]
            gap = (width - sum(widths)) // L
            space = maps + 1
        else:
            # rows of nodes as far apart as the room allows, and at most a third of the gap
            # between columns: steeper lines are hard to follow
            space = next((s for s in (4, 3, 2) if height(s) <= room and 3 * s <= gap), 1)
        xs = [sum(widths[:l]) + gap * l for l in range(L + 1)]
        map_xs = tuple(x + w + 1 for x, w in zip(xs, label_widths, strict=True))  # a blank, then the map
        ys = [[(space * (rows - len(col))) // 2 + space * r for r in range(len(col))] for col in columns]
        width_used, tall = xs[-1] + widths[-1], height(space)
        return _Layout(labels, widths, xs, ys, space, tall - 1, width_used, tall, maps, map_xs)

    def _map_rows(self, widths: list[int], width: int, fits: Callable[[int], bool]) -> int:
        """The rows of each node's map over the input plane: the largest of MAP_ROWS for which
        the columns, widened by the maps, keep gaps of MIN_GAP and of three times the rows
        between nodes (h + 1), and ``fits(h)`` the height; 0 when none does, or when the
        network has no plane (not two inputs)."""
        L = len(widths) - 1
        if self.planes is None or L < 1:
            return 0
        for h in MAP_ROWS:
            gap = (width - sum(widths) - L * (2 * h + 1)) // L
            if gap >= max(MIN_GAP, 3 * (h + 1)) and fits(h):
                return h
        return 0

    def _weight_lines(self, at: _Layout, columns: list[list[_Entry]], W, b) -> tuple:
        """Every weight (and bias) as a line to draw, (ends, style, thickness): a tuple of them
        a layer, the larger |w| drawn over the smaller, and last the selected weight's, drawn
        over them all (None when no weight is selected)."""
        L, net = len(columns) - 1, self.net
        xs, ys, widths, space = at.xs, at.ys, at.widths, at.space
        scale = max([largest(w) for w in W] + [largest(v) for v in b])  # cached: tui/widgets/stats.py
        sel = self.selection
        chosen = None
        layers = []
        for l in range(1, L + 1):
            lines = []
            # (node index, row) of the sources: the nodes, then the bias unit (index n_{l-1})
            srcs = [(e.node, ys[l - 1][r]) for r, e in enumerate(columns[l - 1]) if e.node is not None]
            if net.bias:
                srcs.append((net.layers[l - 1], at.bias_y))
            dsts = [(e.node, ys[l][r]) for r, e in enumerate(columns[l]) if e.node is not None]
            # a line starts one cell after its source's label and ends one cell before its
            # destination's: the labels stay clear of every dot
            x0, x1 = (xs[l - 1] + widths[l - 1] + 1) * 2, (xs[l] - 2) * 2 + 1
            for d, (j, y_dst) in enumerate(dsts):
                for s, (i, y_src) in enumerate(srcs):
                    w = float(b[l - 1][j] if i == net.layers[l - 1] else W[l - 1][j, i])
                    # the lines of a node fan out over a few dots, so that they stay apart
                    y0 = y_src * 4 + 1 + _spread(d, len(dsts), space)
                    y1 = y_dst * 4 + 1 + _spread(s, len(srcs), space)
                    if sel.mode == "weight" and (sel.layer, sel.j, sel.i) == (l, j, i):
                        chosen = ((x0, y0, x1, y1), w)
                    lines.append((abs(w) if np.isfinite(w) else np.inf, (x0, y0, x1, y1), w))
            in_order = sorted(lines, key=lambda t: t[0])
            layers.append(
                tuple((ends, style(sign_name(w)), _thickness(size, scale)) for size, ends, w in in_order)
            )
        last = None if chosen is None else (chosen[0], style("marked"), _thickness(abs(chosen[1]), scale))
        return (*layers, last)

    def _draw_maps(self, canvas: Canvas, at: _Layout, columns: list[list[_Entry]], W, b) -> None:
        """Each node's activation over the input plane, from W and b, beside its label: its top
        row on the label's row; a click on it selects the node."""
        h = at.map_rows
        if not h or self.planes is None:
            return
        planes = self.planes.planes(W, b, 2 * h, rows_of(h))
        for l in range(1, len(columns)):
            for r, e in enumerate(columns[l]):
                if e.node is None:
                    continue
                cells = map_cells(planes.a[l - 1][:, :, e.node], planes.scale[l - 1], ("node", l, e.node))
                for dy, row in enumerate(cells):
                    for dx, (ch, st) in enumerate(row):
                        canvas.text(at.map_xs[l] + dx, at.ys[l][r] + dy, ch, st)

    def _draw_labels(self, canvas: Canvas, at: _Layout, columns: list[list[_Entry]]) -> None:
        """Every node's label in its style, and the bias units."""
        L, net = len(columns) - 1, self.net
        warned = warned_nodes(self.record)
        for l, col in enumerate(columns):
            for r, e in enumerate(col):
                meta = ("node", l, e.node) if e.node is not None else None
                canvas.text(
                    at.xs[l], at.ys[l][r], at.labels[l][r], style(self._node_style(l, e, warned), meta)
                )
            if net.bias and l < L:
                bias = "marked" if self._touches(l, net.layers[l]) else "dim"
                canvas.text(at.xs[l], at.bias_y, BIAS.rjust(at.widths[l]), style(bias))

    def _node_style(self, l: int, e: _Entry, warned: set[tuple[int, int]]) -> str:
        """The style of a node's label: selected, an end of the selected weight, the ⋮ row, a
        value that is not finite, named by a warning, or plain."""
        sel = self.selection
        if e.node is None:
            return "dim"
        if sel.mode == "node" and (l, e.node) == sel.focus_node():
            return "selected"
        if self._touches(l, e.node):
            return "marked"
        if e.value is not None and not np.isfinite(e.value):
            return "bad"
        if (l, e.node) in warned:
            return "warn"
        return "bold"

    def _touches(self, l: int, node: int) -> bool:
        """Is (l, node) an end of the selected weight?"""
        sel = self.selection
        if sel.mode != "weight":
            return False
        return (l, node) == (sel.layer, sel.j) or (l, node) == (sel.layer - 1, sel.i)

    def _footer(self, W, b) -> Text:
        sel, net = self.selection, self.net
        out = Text()
        if sel.mode == "weight":
            m = net.layers[sel.layer - 1]
            w = b[sel.layer - 1][sel.j] if sel.i == m else W[sel.layer - 1][sel.j, sel.i]
            out.append(f"selected {net.weight_label(sel.layer, sel.j, sel.i)} = {fmt(w)}", style("marked"))
        elif sel.mode == "node":
            out.append(f"selected {net.node_label(sel.node_layer, sel.node)}", style("marked"))
        else:
            out.append("selecting a sample of the batch: ↑/↓", style("marked"))
        plus, minus = current().signs
        signs = "signs: panel 5" if no_colour() else f"{plus} +, {minus} −"  # greys cannot tell them
        out.append(f"\nline: {signs}, thicker = larger |w|", style("dim"))
        if self.map_rows:
            out.append(f"; map: a over ({', '.join(net.names[0])}), 9 zooms", style("dim"))
        return out


def _first_line(rec: StepRecord | None, k: int, width: int) -> str:
    """The sample the diagram shows, x and t, in the longest form that fits ``width``."""
    if rec is None:
        options = [
            "initial weights; node values appear after the first step (space)",
            "initial weights; values after a step (space)",
            "initial weights (space: first step)",
        ]
    else:

        def values(v: np.ndarray, n: int) -> str:
            return ", ".join(fmt_short(x) for x in v[:n]) + (", …" if len(v) > n else "")

        probe = probe_of(rec)
        if probe is not None:
            return probe_title(probe, width)
        i, x, t = rec.batch[k], rec.x[k], rec.t[k]
        options = [f"sample #{i} (k={k}): x = ({values(x, 6)}) → target ({values(t, 6)})"]
        options += [f"sample #{i}: x ({values(x, n)}) → t ({values(t, n)})" for n in (6, 3, 1)]
        options.append(f"#{i}: x ({values(x, 1)}) → t ({values(t, 1)})")
    return next((line for line in options if len(line) <= width), options[-1])


def _spread(k: int, n: int, space: int) -> int:
    """Dot offset of the k-th of n lines at a node: spread over at most space + 1 dots each way."""
    if n <= 1:
        return 0
    reach = min(space + 1, n - 1)
    return round((k - (n - 1) / 2) * 2 * reach / (n - 1))


def _thickness(size: float, scale: float) -> int:
    if scale <= 0 or not np.isfinite(size):
        return 2 if not np.isfinite(size) else 1
    return 1 + int(size / scale >= 1 / 2)
