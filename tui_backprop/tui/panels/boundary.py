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

A softmax network's confusion matrices (engine/accuracy.py: the test set's, and the training
set's) are shown below the plane when the panel is zoomed (8), and in place of the plane when
the network has more than two inputs and at most CONFUSION_CLASSES classes (iris): such a
network has no plane to draw, and its panel is then titled "confusion" (panels/confusion.py).
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
from textual.css.scalar import Scalar
from textual.geometry import Size
from textual.layout import DockArrangeResult
from textual.message import Message

from ...engine.accuracy import Classifier, confusion_matrix
from ...engine.boundary import Extent, extent, output_grid, pixel_centre, pixel_of
from ...engine.features import Features
from ...engine.network import Network
from ..widgets.lines import Lines
from ..widgets.palette import DEFAULT, current, marker
from .base import Panel
from .confusion import confusion_lines, confusion_text, confusion_width
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
# the most classes whose confusion matrix takes the place of a plane that cannot be drawn: its
# matrix fits beside the loss chart (blobs_784's ten would not, and would cost a forward pass of
# its 1,000 samples a frame)
CONFUSION_CLASSES = 6
PLANE_BESIDE = 30  # zoomed, the matrices go beside the plane when it keeps this many columns


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

    class Clicked(Message):
        """A click on the plane at ``point`` (x1, x2): the centre of the cell clicked; ``sample``:
        the index in X of the training point drawn in that cell, None when none is."""

        def __init__(self, point: tuple[float, float], sample: int | None) -> None:
            super().__init__()
            self.point, self.sample = point, sample

    def __init__(
        self,
        net,
        network: Network,
        X: Array,
        T: Array,
        key: str = "",
        features: Features | None = None,
        *,
        classifier: Classifier | None = None,
        X_test: Array | None = None,
        T_test: Array | None = None,
        **kwargs,
    ) -> None:
        """``network`` (its activations and loss), ``X`` (N, 2) and ``T`` (N, n_L): the training set,
        its raw inputs; ``features``: the map from them to the network's inputs ([data] features);
        a softmax classifier's ``classifier`` and test set ``X_test``, ``T_test`` (or None) give
        its confusion matrices (over the network's inputs: the test set's features)."""
        super().__init__(net, key, **kwargs)
        self.network = network
        self.X, self.T = X, T
        self.features = features
        self.classifier = classifier if classifier is not None and classifier.kind == "multiclass" else None
        self.test_set = (X_test, T_test) if X_test is not None and T_test is not None else None
        plane = X.shape[1] == 2  # only a plane can be drawn: two raw inputs
        # no plane to draw: the confusion matrix in its place, when there is one that fits
        self.confusion_only = not plane and self.classifier is not None
        self.confusion_only &= net.layers[-1] <= CONFUSION_CLASSES
        self.display = plane or self.confusion_only
        if self.confusion_only:
            self.border_title = f"{key} confusion".strip()
        self.extent: Extent | None = extent(X) if plane else None
        # the axes: the raw inputs, x1 and x2 as the features name them, or the input nodes
        self.axes = features.raw_names if features is not None else net.names[0]
        lo, hi = float(T.min()), float(T.max())
        self.t_range = (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)
        self.grid: Array | None = None  # the last output grid drawn, (2 rows, cols, n_L)
        self.plane = (0, 0)  # rows and columns of characters the plane takes
        self.left = 0  # blank columns before the plane (it is centred)
        self.drawn: dict[tuple[int, int], int] = {}  # the training point drawn in a cell (row, column)
        # W and b edited since the step on screen (tui/control/editing.py): drawn in its place
        self.edited: tuple[tuple[Array, ...], tuple[Array, ...]] | None = None
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
        phases and the update is still to come); the initial ones before the first step; those
        edited since, when the app hands them over (``edited``)."""
        rec = self.record
        if self.edited is not None:
            return self.edited
        if rec is None:
            return self.net.initial_W, self.net.initial_b
        if self.reveal.update:
            return tuple(lr.w for lr in rec.layers), tuple(lr.b for lr in rec.layers)
        return tuple(lr.w_before for lr in rec.layers), tuple(lr.b_before for lr in rec.layers)

    def build(self, width: int) -> Text | Lines:
        height = self.scrollable_content_region.height or self.size.height or 10
        if self.extent is None:
            return self.confusion(width, height) if self.confusion_only else Text("")
        side = self.confusion_beside(width, height)
        if side:  # zoomed: the plane on the left, the matrices on its right
            left = self.plane_text(width - side, height).text(no_wrap=True, overflow="crop")
            return beside(left, self.confusion(side - 2, height), width - side)
        below = self.confusion_below(height)
        if below:
            plane = self.plane_text(width, height - below - 1)
            plane.append("\n\n")
            plane.append_text(self.confusion(width, below))
            return plane
        return self.plane_text(width, height)

    def plane_text(self, width: int, height: int) -> Lines:
        """The plane in ``width`` x ``height`` cells, with the range of its axes below it when
        it is tall enough."""
        e = self.extent
        assert e is not None  # a network with two inputs
        axes = height >= AXES_FROM
        cols, rows = self._plane_size(max(width, 2), max(height - axes, 1))
        left = " " * ((width - cols) // 2)  # a plane narrower than the panel is centred
        W, b = self.weights()
        with np.errstate(all="ignore"):
            Y = output_grid(self.network, W, b, e, cols, 2 * rows, self.features)
        self.grid = Y
        # a diverged network's outputs: nan is undecided, the infinities the ends of the range
        colours = self.pixel_colours(np.clip(np.nan_to_num(Y), -1e6, 1e6))
        pixels = [[tuple(rgb) for rgb in line] for line in colours.tolist()]  # cell_style's keys
        pr, pc = pixel_of(self.X, e, cols, 2 * rows)
        points: dict[tuple[int, int], tuple[tuple[int, ...], int, str]] = {}
        self.left, self.drawn = len(left), {}
        drawn = zip(pr.tolist(), pc.tolist(), self.point_colours().tolist(), self.markers, strict=True)
        for k, (r, c, colour, mark) in enumerate(drawn):
            if (r // 2, c) not in points:  # the first point in a cell is drawn
                points[r // 2, c] = (tuple(colour), r, mark)
                self.drawn[r // 2, c] = k
        probe = probe_of(self.record)
        if probe is not None and self.features is None:  # the probed point, over any in its cell
            (r,), (c,) = pixel_of(probe.x, e, cols, 2 * rows)
            points[(int(r) // 2, int(c))] = (PROBE_COLOUR, int(r), PROBE)
        out = Lines()  # a line a row of cells, a span a cell
        for row in range(rows):
            if row:
                out.newline()
            line, top, bottom = out.line, pixels[2 * row], pixels[2 * row + 1]
            line.add(left)
            for c in range(cols):
                point = points.get((row, c))
                if point is None:
                    line.add("▀", cell_style(top[c], bottom[c]))
                else:
                    colour, r, mark = point
                    line.name(mark, cell_style(colour, pixels[r][c], bold=True))
        if axes:
            x1, x2 = self.axes
            axis = Text(
                f"{x1} {e.x1_lo:.3g}..{e.x1_hi:.3g} →  {x2} {e.x2_lo:.3g}..{e.x2_hi:.3g} ↑", style="dim"
            )
            axis.truncate(width)
            out.append("\n")
            out.append_text(axis)
        return out

    # -- the confusion matrices --------------------------------------------------------------

    def sets(self) -> list[tuple[str, Array, Array]]:
        """The data sets whose confusion matrix is shown: the test set first, when there is one."""
        shown = [("test set", *self.test_set)] if self.test_set is not None else []
        # the network's inputs: the raw points drawn, through the features when there are some
        X = self.X if self.features is None else self.features(self.X)
        return [*shown, ("training set", X, self.T)]

    def confusion_beside(self, width: int, height: int) -> int:
        """The columns the confusion matrices take beside the plane: none unless the panel is
        zoomed (and the network a softmax classifier). With their long headings when the plane
        keeps all the width its height gives it; otherwise with short ones, when that does (or
        at least leaves it PLANE_BESIDE columns); otherwise none (then they go below it)."""
        if self.classifier is None or not self.is_maximized:
            return 0
        rows = max(height - (height >= AXES_FROM), 1)
        plane = self._plane_size(10**4, rows)[0]  # its width when nothing else needs room
        wide, narrow = self.confusion_width(long=True) + 2, self.confusion_width() + 2
        fits = [side for side in (wide, narrow) if width - side >= plane]
        if fits:
            return fits[0]
        return narrow if width - narrow >= PLANE_BESIDE else 0

    def confusion_below(self, height: int) -> int:
        """The lines the confusion matrices take below the plane when they are not beside it:
        none unless the panel is zoomed (and the network a softmax classifier); as many
        matrices as leave the plane the height to show its axes."""
        if self.classifier is None or not self.is_maximized:
            return 0
        one = confusion_lines(self.classifier.classes) + 1
        fit = min(len(self.sets()), max(height - AXES_FROM, 0) // one)
        return fit * one - 1 if fit else 0

    def confusion(self, width: int, height: int) -> Text:
        """The confusion matrices of the weights drawn (the test set's first), as many as fit in
        ``height`` lines (at least one)."""
        assert self.classifier is not None
        W, b = self.weights()
        one = confusion_lines(self.classifier.classes) + 1
        out = Text(no_wrap=True, overflow="crop")
        for i, (label, X, T) in enumerate(self.sets()[: max(1, (height + 1) // one)]):
            with np.errstate(all="ignore"):
                counts = confusion_matrix(self.network, W, b, X, T, self.classifier)
            assert counts is not None  # a multiclass classifier's
            if i:
                out.append("\n\n")
            out.append_text(confusion_text(counts, self.net.names[-1], label, width))
        return out

    def confusion_width(self, long: bool = False) -> int:
        """The columns the confusion matrices take at their widest (ChartCell sizes the panel by
        it), with their short headings ("test: 27/30 90.0%"), or their ``long`` ones ("test set:
        27 of 30 samples right (90.0%)")."""
        k = self.net.layers[-1]
        width = confusion_width(np.full((k, k), len(self.X)), self.net.names[-1])
        for label, X, _ in self.sets():
            n = len(X)
            said = (
                f"{label}: {n} of {n} samples right (99.9%)" if long else f"{label.split()[0]}: {n}/{n} 99.9%"
            )
            width = max(width, len(said))
        return width

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

    # -- clicks ----------------------------------------------------------------------------

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The cell (row, column) of the plane at ``x``, ``y`` of the panel's content (scrolled
        lines included); None outside the plane (its margin, the axes line)."""
        rows, cols = self.plane
        row, col = y + round(self.scroll_y), x - self.left
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def point_of(self, row: int, col: int) -> tuple[float, float]:
        """The input-plane point (x1, x2) at the centre of the cell (row, col)."""
        assert self.extent is not None
        rows, cols = self.plane
        return pixel_centre(row, col, self.extent, cols, rows)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        cell = None if offset is None or self.extent is None else self.cell_at(offset.x, offset.y)
        if cell is not None:
            event.stop()
            self.post_message(self.Clicked(self.point_of(*cell), self.drawn.get(cell)))

    def set_data(self, X: Array, T: Array) -> None:
        """Draw the training set X (N, 2), T (N, n_L) from now on (points added or removed); the
        plane keeps its extent and its colours their range, so that nothing moves."""
        self.X, self.T = X, T
        self.markers = self.point_markers()
        self.redraw()

    def recolour(self) -> None:
        """Draw again in the palette in use (C switched it): the legend, the plane and the points."""
        self.border_subtitle = self._legend()
        self.redraw()


def beside(left: Text, right: Text, width: int) -> Text:
    """``right``'s lines to the right of ``left``'s, which are padded to ``width`` cells and
    followed by two spaces."""
    lines_l, lines_r = left.split("\n", allow_blank=True), right.split("\n", allow_blank=True)
    out = Text(no_wrap=True, overflow="crop")
    for k in range(max(len(lines_l), len(lines_r))):
        if k:
            out.append("\n")
        line = lines_l[k] if k < len(lines_l) else Text()
        out.append_text(line)
        out.append(" " * (max(width - line.cell_len, 0) + 2))
        if k < len(lines_r):
            out.append_text(lines_r[k])
    return out


class ChartCell(Grid):
    """The loss chart's grid cell: the chart, and the boundary panel beside it when it is shown,
    as wide as its height needs for an about square plane (at most 45% of the cell)."""

    DEFAULT_CSS = """
    ChartCell { height: 1fr; grid-size: 2 1; grid-columns: 1fr 24; }
    """

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """The columns for ``size``, set as the cell is laid out: the first layout of the screen
        is then its last (set on a resize, they took a second layout and frame)."""
        boundary = self.columns(size)
        self.styles.set_rule("grid_size_columns", 2 if boundary else 1)
        self.styles.set_rule("grid_columns", tuple(Scalar.parse(c) for c in ("1fr", boundary) if c))
        return super().arrange(size, optimal)

    def columns(self, size: Size) -> str:
        """The boundary panel's column for a cell of ``size`` ("": no boundary panel shown)."""
        shown = [p for p in self.query(BoundaryPanel) if p.display]
        if not shown:
            return ""
        if shown[0].confusion_only:  # the matrix's own width (and its heading's), plus the border's 5
            width = max(shown[0].confusion_width(), 30) + 5
            return str(min(width, int(size.width * 0.45)))
        # two pixels a row and one a column: the plane's rows give its width; the border, the
        # padding and the scrollbar gutter take 5 columns
        rows = max(size.height - 2, 4)
        return str(max(12, min(2 * rows + 5, int(size.width * 0.45))))
