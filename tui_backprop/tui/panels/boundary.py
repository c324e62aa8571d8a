"""The decision-boundary panel (two-input networks): the network's output over the input plane.

Each character cell holds two pixels, one above the other (the upper half block ``▀`` in the
top pixel's colour on the bottom pixel's), so a pixel is about square. The grid is evaluated by
engine.boundary from the record's weights; this module only turns outputs into colours:

- one output node: from the lowest training target (orange) through the middle (dark) to the
  highest (blue), so a sigmoid's 0/1, a tanh's -1/+1 and a regression's range all read the same;
- several output nodes (softmax): the colour of the arg-max class, deeper where the network is
  more certain (its largest output further above 1/n_L).

The training points sit on top in their class colours, lightened, each class with its own marker
(``•``, ``▲``, ``■``, ...: widgets/palette.py MARKERS), so that they read without colour too; a
point probed with P is ``◎``, in white, over them.
``ChartCell`` is the loss chart's grid cell: the chart, with this panel beside it, sized to keep
the plane about square.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual import events
from textual.containers import Grid
from textual.content import Content

from ...engine.boundary import Extent, extent, output_grid, pixel_of
from ...engine.network import Network
from ..widgets.palette import DEFAULT, current, marker
from .base import Panel
from .probed import probe_of

Array = np.ndarray

# the class colours of the default palette (the one in use: class_colours())
PALETTE = np.array(DEFAULT.classes, dtype=float)
BASE = np.array((34, 34, 34), dtype=float)  # an undecided pixel
MIDDLE = "○"  # one output: a point whose target is the middle of the range, neither end's class
PROBE = "◎"  # the point probed with P (engine/probe.py); outside the plane, at its nearest edge
PROBE_COLOUR = (255, 255, 255)
AXES_FROM = 16  # a panel this many rows tall (zoomed) also shows the range of each axis
STYLES_KEPT = 4096  # cell styles cached: more than the cells of the plane zoomed at 160x45 (39x77)


def class_colours() -> Array:
    """(n, 3) the class colours of the palette in use."""
    return np.array(current().classes, dtype=float)


def _rgb(values: Array) -> Array:
    """Colours (..., 3) rounded to steps of 4, so that few distinct styles are made."""
    return (np.clip(np.rint(values / 4) * 4, 0, 255)).astype(int)


@lru_cache(maxsize=STYLES_KEPT)
def cell_style(fg: tuple[int, ...], bg: tuple[int, ...], bold: bool = False) -> Style:
    """A cell's style, ``fg`` on ``bg`` (colours of _rgb): made once while it is drawn often, and
    forgotten when it has not been drawn for a while (a long run meets ever new colours)."""
    return Style(color=Color.from_rgb(*fg), bgcolor=Color.from_rgb(*bg), bold=bold)


class BoundaryPanel(Panel):
    TITLE = "boundary"
    CROP = True

    def __init__(self, net, network: Network, X: Array, T: Array, key: str = "", **kwargs) -> None:
        """``network`` (its activations and loss), ``X`` (N, 2) and ``T`` (N, n_L): the training set."""
        super().__init__(net, key, **kwargs)
        self.network = network
        self.X, self.T = X, T
        self.display = net.layers[0] == 2  # only a plane can be drawn
        self.extent: Extent | None = extent(X) if net.layers[0] == 2 else None
        lo, hi = float(T.min()), float(T.max())
        self.t_range = (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)
        self.grid: Array | None = None  # the last output grid drawn, (2 rows, cols, n_L)
        self.plane = (0, 0)  # rows and columns of characters the plane takes
        self.markers = self.point_markers()
        self.border_subtitle = self._legend()

    def set_notation(self, notation: str) -> None:  # the title names no symbol of a notation
        self.notation = notation

    # -- colours ---------------------------------------------------------------------------

    def _signed(self, y: Array) -> Array:
        """One output node: y mapped to [-1, 1] across the training targets' range."""
        lo, hi = self.t_range
        return np.clip(2 * (y - lo) / (hi - lo) - 1, -1.0, 1.0)

    def pixel_colours(self, Y: Array) -> Array:
        """(rows, cols, 3) colours of the outputs Y (rows, cols, n_L)."""
        if Y.shape[2] == 1:
            s = self._signed(Y[..., 0])[..., None]
            classes = class_colours()
            hue = np.where(s > 0, classes[1], classes[0])
            return _rgb(BASE + (hue - BASE) * 0.75 * np.abs(s))
        k = Y.shape[2]
        top = Y.max(axis=2)
        sure = np.clip((top - 1 / k) / (1 - 1 / k), 0.0, 1.0)[..., None]
        classes = class_colours()
        hue = classes[np.argmax(Y, axis=2) % len(classes)]
        return _rgb(BASE + (hue - BASE) * (0.2 + 0.6 * sure))

    def point_colours(self) -> Array:
        """(N, 3) colours of the training points: their class (or the side of the range they are on)."""
        classes = class_colours()
        if self.T.shape[1] == 1:
            s = self._signed(self.T[:, 0])
            hue = np.where((s > 0)[:, None], classes[1], np.where((s < 0)[:, None], classes[0], 200.0))
        else:
            hue = classes[np.argmax(self.T, axis=1) % len(classes)]
        return _rgb(hue + (255 - hue) * 0.35)  # lighter than any pixel of the plane

    def point_markers(self) -> list[str]:
        """The marker of each training point: its class's (one output: the end of the range it is
        on, MIDDLE at the middle)."""
        if self.T.shape[1] == 1:
            s = self._signed(self.T[:, 0])
            return [marker(1) if v > 0 else (marker(0) if v < 0 else MIDDLE) for v in s.tolist()]
        return [marker(k) for k in np.argmax(self.T, axis=1).tolist()]

    # -- drawing ---------------------------------------------------------------------------

    def weights(self) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
        """W and b to draw: the record's after its update (before it, while a step is taken by
        phases and the update is still to come); the initial ones before the first step."""
        rec = self.record
        if rec is None:
            return self.net.initial_W, self.net.initial_b
        if self.reveal.update:
            return tuple(lr.w for lr in rec.layers), tuple(lr.b for lr in rec.layers)
        return tuple(lr.w_before for lr in rec.layers), tuple(lr.b_before for lr in rec.layers)

    def build(self, width: int) -> Text:
        if self.extent is None:
            return Text("")
        height = self.scrollable_content_region.height or self.size.height or 10
        axes = height >= AXES_FROM
        cols, rows = self._plane_size(max(width, 2), max(height - axes, 1))
        left = " " * ((width - cols) // 2)  # a plane narrower than the panel is centred
        W, b = self.weights()
        with np.errstate(all="ignore"):
            Y = output_grid(self.network, W, b, self.extent, cols, 2 * rows)
        self.grid = Y
        # a diverged network's outputs: nan is undecided, the infinities the ends of the range
        colours = self.pixel_colours(np.clip(np.nan_to_num(Y), -1e6, 1e6))
        pixels = [[tuple(rgb) for rgb in line] for line in colours.tolist()]  # cell_style's keys
        pr, pc = pixel_of(self.X, self.extent, cols, 2 * rows)
        points: dict[tuple[int, int], tuple[tuple[int, ...], int, str]] = {}
        drawn = zip(pr, pc, self.point_colours().tolist(), self.markers, strict=True)
        for r, c, colour, mark in drawn:
            points.setdefault((r // 2, c), (tuple(colour), r, mark))  # the first point in a cell is drawn
        probe = probe_of(self.record)
        if probe is not None:  # the probed point, over any training point in its cell
            (r,), (c,) = pixel_of(probe.x, self.extent, cols, 2 * rows)
            points[(int(r) // 2, int(c))] = (PROBE_COLOUR, int(r), PROBE)
        out = Text(no_wrap=True, overflow="crop")
        for row in range(rows):
            if row:
                out.append("\n")
            out.append(left)
            for c in range(cols):
                point = points.get((row, c))
                if point is None:
                    out.append("▀", cell_style(pixels[2 * row][c], pixels[2 * row + 1][c]))
                else:
                    colour, r, mark = point
                    out.append(mark, cell_style(colour, pixels[r][c], bold=True))
        if axes:
            e, (x1, x2) = self.extent, self.net.names[0]
            line = Text(
                f"{x1} {e.x1_lo:.3g}..{e.x1_hi:.3g} →  {x2} {e.x2_lo:.3g}..{e.x2_hi:.3g} ↑", style="dim"
            )
            line.truncate(width)
            out.append("\n")
            out.append_text(line)
        return out

    def _plane_size(self, width: int, height: int) -> tuple[int, int]:
        """(cols, rows) of the plane in a width x height space: all of it, or less of one side
        when that keeps the input plane's proportions (a pixel is half a cell tall)."""
        e = self.extent
        assert e is not None
        aspect = (e.x1_hi - e.x1_lo) / (e.x2_hi - e.x2_lo)  # the plane's width over its height
        cols = min(width, max(2, round(2 * height * aspect)))
        rows = min(height, max(1, round(cols / (2 * aspect))))
        self.plane = (rows, cols)
        return cols, rows

    def _legend(self) -> Content:
        """The bottom border: each class (or each end of the output's range) as its marker in its
        colour; the output names come from the file and are shown as written (never as markup)."""
        names = self.net.names[-1]
        classes = class_colours()
        if self.T.shape[1] == 1:
            lo, hi = self.t_range
            entries = [(0, f"{names[0]}={lo:g}"), (1, f"{names[0]}={hi:g}")]
        else:
            entries = list(enumerate(names))
        parts: list[str | tuple[str, str]] = []
        for n, (k, name) in enumerate(entries):
            c = classes[k % len(classes)]
            parts += [*(("  ",) if n else ()), (marker(k), f"rgb({','.join(map(str, _rgb(c)))})"), f" {name}"]
        return Content.assemble(*parts)

    def recolour(self) -> None:
        """Draw again in the palette in use (C switched it): the legend, the plane and the points."""
        self.border_subtitle = self._legend()
        self.redraw()


class ChartCell(Grid):
    """The loss chart's grid cell: the chart, and the boundary panel beside it when it is shown,
    as wide as its height needs for an about square plane (at most 45% of the cell)."""

    DEFAULT_CSS = """
    ChartCell { height: 1fr; grid-size: 2 1; grid-columns: 1fr 24; }
    """

    def on_resize(self, event: events.Resize) -> None:
        shown = [p for p in self.query(BoundaryPanel) if p.display]
        if not shown:
            self.styles.grid_size_columns = 1
            self.styles.grid_columns = "1fr"
            return
        # two pixels a row and one a column: the plane's rows give its width; the border, the
        # padding and the scrollbar gutter take 5 columns
        rows = max(event.size.height - 2, 4)
        width = max(12, min(2 * rows + 5, int(event.size.width * 0.45)))
        self.styles.grid_columns = f"1fr {width}"
