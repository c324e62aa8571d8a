"""The loss chart: batch loss (dots), training-set loss and test-set loss (lines) against step,
and a classifier's training- and test-set accuracy (marked lines) on an axis of its own, 0 to
100% on the right (A shows or hides them).

This is the only module that imports plotext (through textual-plotext), so that moving
to plotext 6 changes this file alone. Plotext's cost grows with the points it is given,
so the series are reduced to the plot's width first: with more than two points a column,
each column shows the lowest and the highest loss of its steps. 100,000 steps then draw
as fast as 100.

The chart is drawn again on every step. Plotext builds a matrix of characters and colours,
writes it out as one string of escape codes, and textual-plotext parses that string back
into Rich text; ``_MatrixPlot`` reads the matrix instead, a run of one colour at a time, in
the style the escape code of that run parses to (the same text, checked by
tests/test_chart.py, at half the cost). The chart then draws its lines itself, as the panels
do (``render_line``, Textual's line API): a line's strip is made from its text directly, and a
line that did not change since the last figure keeps its strip.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from plotext._utility import colors_to_ansi
from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Span, Text
from textual.app import RenderResult
from textual.geometry import Region
from textual.strip import Strip
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from ...engine.loss_series import LossSeries
from ..widgets.palette import current  # the loss colours: plotext colour names, which help names
from .base import line_segments, split_lines

DRAWABLE = 1e30  # plotext 5 draws an empty chart when a value is much larger (a diverging run)


class _Series:
    """The chart's own copy of a loss list that only grows or is cut short: the Trainer's
    LossSeries (bounded, engine/loss_series.py), or a replay's list. Only the new tail is
    copied on each sync, so following a run costs O(new steps); a reset, an undo past what the
    copy holds exactly, or a source it has not followed from its start is copied afresh. The
    copy is a LossSeries too: the chart keeps what it can draw, whatever the run's length."""

    def __init__(self) -> None:
        self.series = LossSeries()
        self._source: object = None

    @property
    def count(self) -> int:
        return len(self.series)

    def sync(self, values: Sequence[float], n: int) -> None:
        known = values is self._source
        forgotten = isinstance(values, LossSeries) and self.count < values.offset
        if known and n < self.count and n >= self.series.offset:  # cut short (undo)
            del self.series[n:]
        elif not known or n < self.count or forgotten:  # a new list (reset), or a jump
            self._source = values
            if isinstance(values, LossSeries) and values.offset:
                self.series = values.head(n)
                return
            self.series = LossSeries()
        if n > self.count:
            for v in values[self.count : n]:
                self.series.append(v)


def envelope(
    y: np.ndarray | LossSeries, x0: int, columns: int, log: bool = False
) -> tuple[list[float], list[float]]:
    """Points to plot for y[k] at step x0 + k: all of them when they are few, otherwise, for
    each of ``columns`` groups of steps, the group's lowest and highest value at its first step.
    Values plotext cannot draw (non-finite, beyond ±DRAWABLE, <= 0 on a log scale) are left out.
    A LossSeries that keeps its older steps as ranges gives its groups as they are."""
    if isinstance(y, LossSeries):
        if y.offset:
            return _grouped(y, x0, columns, log)
        y = np.asarray(y[:], dtype=float)
    n = len(y)
    ok = _drawable(y, log)
    if n <= 2 * columns:
        xs = np.arange(x0, x0 + n)[ok]
        return xs.tolist(), y[ok].tolist()
    clean = np.where(ok, y, np.nan)
    starts = np.unique(np.linspace(0, n, columns + 1)[:-1].astype(int))
    with np.errstate(invalid="ignore"):
        lo, hi = np.fmin.reduceat(clean, starts), np.fmax.reduceat(clean, starts)
    xs = np.repeat(starts + x0, 2).astype(float)
    ys = np.column_stack([lo, hi]).ravel()
    keep = np.isfinite(ys)
    return xs[keep].tolist(), ys[keep].tolist()


def _drawable(y: np.ndarray, log: bool) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        ok = np.abs(y) <= DRAWABLE  # False for nan and inf too
        return ok & (y > 0) if log else ok


def _grouped(y: LossSeries, x0: int, columns: int, log: bool) -> tuple[list[float], list[float]]:
    """A long LossSeries in about ``columns`` groups, each its lowest and highest drawable value
    (of a group of old steps, only its range is known: a bound plotext cannot draw is left out)."""
    starts, lo, hi = y.envelope(len(y), columns)
    xs = np.repeat(starts + x0, 2).astype(float)
    ys = np.column_stack([lo, hi]).ravel()
    keep = _drawable(ys, log)
    return xs[keep].tolist(), ys[keep].tolist()


def _line(initial: float, after: LossSeries, columns: int, log: bool) -> tuple[list[float], list[float]]:
    """A loss line: ``initial`` at step 0 (when it can be drawn), then the loss after each step."""
    if not after.offset:  # every value kept: the initial one is grouped with the first steps
        return envelope(np.concatenate([[initial], np.asarray(after[:], dtype=float)]), 0, columns, log)
    xs, ys = envelope(after, 1, columns, log)
    if _drawable(np.array([initial]), log)[0]:
        return [0, *xs], [initial, *ys]
    return xs, ys


def _step_ticks(n: int, count: int) -> list[int]:
    """About ``count`` round step numbers from 0 to n."""
    if n <= 0:
        return [0]
    raw = n / count
    magnitude = 10 ** int(np.floor(np.log10(raw))) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, n + 1, int(step)))


ACCURACY_MARKERS = ("•", "+")  # the training- and test-set accuracy lines: marked, unlike the losses
# the accuracy lines' plotext colours and the same colours in the title's markup, by palette: apart
# from the loss colours (and, in the colorblind palette, from every red and green)
ACCURACY_COLOURS = {
    "default": (("green", "green"), ("white", "white")),
    "colorblind": (("white", "white"), ("orange+", "bright_yellow")),
}


def chart_title(test: bool, width: int | None = None, log: bool = False, accuracy: bool = False) -> str:
    """The panel title: a legend with its marks in the chart's colours, the longest of its forms
    that fits a border ``width`` cells wide (None: the longest); ``log``: the loss axis is on a
    log scale, which the title says first; ``accuracy``: the accuracy lines are drawn."""
    p = current()
    b, tr, te = f"[{p.batch}]•[/]", f"[{p.train}]─[/]", f"[{p.test}]─[/]"
    name = "6 loss (log scale)" if log else "6 loss"
    short = "6 loss (log)" if log else "6 loss"
    colours = ACCURACY_COLOURS.get(p.name, ACCURACY_COLOURS["default"])
    ta, ea = (f"[{markup}]{mark}[/]" for (_, markup), mark in zip(colours, ACCURACY_MARKERS, strict=True))
    if test:
        long_acc, short_acc, tiny_acc = f"  {ta}{ea} accuracy", f" {ta}{ea}acc", f"{ta}{ea}"
        forms = [f"{name}: {b} batch  {tr} training  {te} test", f"{short}: {b}batch {tr}train {te}test"]
    else:
        long_acc, short_acc, tiny_acc = f"  {ta} accuracy", f" {ta}acc", ta
        forms = [f"{name}: {b} batch  {tr} training set", f"{short}: {b}batch {tr}training"]
    if accuracy:
        forms = [forms[0] + long_acc, forms[1] + short_acc]
    forms.append(f"{short} {b}{tr}{te if test else ''}{tiny_acc if accuracy else ''}")
    if width is None:
        return forms[0]
    return next((f for f in forms if Text.from_markup(f).cell_len <= width - 4), forms[-1])


def accuracy_colours() -> tuple[str, str]:
    """The plotext colours of the training- and test-set accuracy lines in the palette in use."""
    train, test = ACCURACY_COLOURS.get(current().name, ACCURACY_COLOURS["default"])
    return train[0], test[0]


class _MatrixPlot(Plot):
    """A plotext figure that gives what it draws as Rich text straight from its matrix of
    characters and colours, without the string of escape codes between them."""

    # a run's (colour, style, background) and its Rich style: kept by the class, for plotext's
    # clear_figure makes the figure afresh (__init__ again), as the chart does when the
    # accuracy axis goes
    _styles: dict[tuple, Style | None] = {}

    def drawn(self, width: int, height: int, theme: str) -> Text:
        """The figure at ``width`` x ``height`` in ``theme``: what ``Text.from_ansi(build())``
        gives (textual-plotext's render), made without writing and parsing the escape codes."""
        self.plotsize(width, height)
        self._set_size(width, height)  # as textual-plotext's render does, for its resizing
        self.theme(theme)
        # build() up to its matrix (textual-plotext's stubs do not declare these), then the matrix
        self._set_sizes()  # type: ignore[attr-defined]
        self._build_matrix()  # type: ignore[attr-defined]
        m = self.monitor.matrix  # type: ignore[attr-defined]
        lines = []
        for row in reversed(m.Rows):
            markers, colours, styles = m.marker[row], m.fullground[row], m.style[row]
            backgrounds = m.background[row]
            spans = []  # the line is made from its string and spans at once, as Text.append would
            start = 0
            for col in m.Cols:
                run = (colours[col], styles[col], backgrounds[col])
                last = col + 1 == m.cols
                if last or run != (colours[col + 1], styles[col + 1], backgrounds[col + 1]):
                    run_style = self._style(run)
                    if run_style:
                        spans.append(Span(start, col + 1, run_style))
                    start = col + 1
            line = Text("".join(markers))
            line.spans = spans
            lines.append(line)
        lines.append(Text())  # the canvas ends with a newline, which Text.from_ansi keeps
        return Text("\n", tab_size=8).join(lines)

    def _style(self, run: tuple) -> Style | None:
        """The Rich style that a run's escape code parses to (None: no colour at all)."""
        if run not in self._styles:
            decoded = AnsiDecoder().decode_line(colors_to_ansi(*run) + " ")
            self._styles[run] = decoded.spans[0].style if decoded.spans else None  # type: ignore[assignment]
        return self._styles[run]


class _CachedPlot(PlotextPlot):
    """A chart drawn again only when what it shows changed: ``_key()`` says what it shows
    (counts, sizes, the theme), ``_draw()`` draws it. A key press that redraws the screen
    (a selection move) then costs the chart nothing."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._figure = _MatrixPlot()  # read as a matrix; plt (textual-plotext's) gives it too
        self._plot = self._figure
        self._cache_key: tuple | None = None
        self._cache: Text | None = None
        # render_line's lines of the cached figure, and their strips, made at (width, base style)
        self._lines_of: object = None
        self._lines_base: tuple[int, Style] | None = None
        self._lines: list[Text] = []
        self._line_strips: dict[int, tuple[Text, Strip]] = {}

    def _key(self) -> tuple:
        raise NotImplementedError

    def _draw(self) -> Text:
        raise NotImplementedError

    def _plotext(self) -> RenderResult:
        """What plotext draws of the figure ``_draw`` has set up."""
        theme = self._get_plotext_theme_name(self.app.theme)
        return self._figure.drawn(self.size.width, self.size.height, theme)

    def render(self) -> RenderResult:
        key = self._key()
        if key == self._cache_key and self._cache is not None:
            return self._cache
        rendered = self._draw()
        self._cache_key, self._cache = key, rendered
        return rendered

    def render_lines(self, crop: Region) -> list[Strip]:
        self._prepare_lines()  # once a frame, not once a line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the figure, made from its text as a panel makes its lines (Textual's
        line API): Textual's own path from a renderable to strips cost as much as plotext's
        drawing. A line whose text did not change since the last figure keeps its strip."""
        width, base = self._lines_base or self._prepare_lines()
        if y >= len(self._lines):
            return Strip.blank(width, base)
        hit = self._line_strips.get(y)
        if hit is None:
            line = self._lines[y]
            strip = Strip(line_segments(line, base), line.cell_len)
            if strip.cell_length > width:
                strip = strip.crop(0, width)
            self._line_strips[y] = hit = (line, strip.apply_offsets(0, y))
        return hit[1]

    def _prepare_lines(self) -> tuple[int, Style]:
        """The figure (drawn again if what it shows changed) split into lines, at the chart's
        width and style; the strips of lines that did not change are kept."""
        figure = self.render()
        assert isinstance(figure, Text)  # _draw gives Text
        width, base = self.size.width, self.rich_style
        if self._lines_of is not figure or self._lines_base != (width, base):
            if self._lines_base != (width, base):
                self._line_strips.clear()
            self._lines_of, self._lines_base = figure, (width, base)
            self._lines = split_lines(figure)
            old, self._line_strips = self._line_strips, {}
            for k, line in enumerate(self._lines):
                if k in old and old[k][0] == line:
                    self._line_strips[k] = old[k]
        return width, base

    def notify_style_update(self) -> None:
        self._lines_of = None
        super().notify_style_update()


class LossChart(_CachedPlot):
    """Give it the trainer's loss lists with ``set_losses``; it draws at its own width."""

    ALLOW_MAXIMIZE = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._batch, self._train, self._test = _Series(), _Series(), _Series()
        self._initial = self._initial_test = float("nan")
        self._has_test = False
        self.test_legend = False  # whether the title's legend names a test line
        self.log_scale = False
        # a classifier's accuracies (set_accuracies), on the right axis while show_accuracy (A)
        self._accuracy, self._test_accuracy = _Series(), _Series()
        self._initial_accuracy = self._initial_test_accuracy = float("nan")
        self.has_accuracy = False  # the run is a classifier: there are accuracies to draw
        self.show_accuracy = True
        self._right_axis = False  # whether the last figure had the accuracy axis
        self._titled_width = -1  # the width the border title was chosen for

    def set_losses(
        self,
        losses: Sequence[float],
        train_losses: Sequence[float],
        initial: float,
        steps: int,
        test_losses: Sequence[float] = (),
        initial_test: float | None = None,
    ) -> None:
        """``losses[k]``: batch loss of step k+1; ``train_losses[k]``: training-set loss after it;
        ``initial``: training-set loss before any step; only the first ``steps`` are shown.
        ``test_losses`` and ``initial_test`` likewise for the test set (none: no test line)."""
        self._batch.sync(losses, steps)
        self._train.sync(train_losses, steps)
        self._test.sync(test_losses, min(steps, len(test_losses)))
        self._initial = float(initial)
        self._initial_test = float("nan") if initial_test is None else float(initial_test)
        self._has_test = initial_test is not None
        self.refresh()

    def set_accuracies(
        self,
        accuracies: Sequence[float],
        initial: float | None,
        steps: int,
        test_accuracies: Sequence[float] = (),
        initial_test: float | None = None,
    ) -> None:
        """A classifier's accuracies as set_losses takes the losses: ``accuracies[k]`` the
        training-set accuracy after step k+1, ``initial`` before any step (None: the run is not
        a classifier, and nothing is drawn); the test set's likewise."""
        self._accuracy.sync(accuracies, min(steps, len(accuracies)))
        self._test_accuracy.sync(test_accuracies, min(steps, len(test_accuracies)))
        self._initial_accuracy = float("nan") if initial is None else float(initial)
        self._initial_test_accuracy = float("nan") if initial_test is None else float(initial_test)
        if self.has_accuracy != (initial is not None):
            self.has_accuracy = initial is not None
            self.retitle()
        self.refresh()

    def toggle_accuracy(self) -> bool:
        """A: the accuracy lines shown or hidden; whether they are shown now."""
        self.show_accuracy = not self.show_accuracy
        self.retitle()
        self.refresh()
        return self.show_accuracy

    @property
    def accuracy_drawn(self) -> bool:
        return self.has_accuracy and self.show_accuracy

    def retitle(self, width: int | None = None) -> None:
        """The border title for ``width`` columns (None: the chart's own, or the longest)."""
        width = width or self.size.width or None
        self.border_title = chart_title(self.test_legend, width, self.log_scale, self.accuracy_drawn)
        self._titled_width = self.size.width

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._titled_width != self.size.width:  # the title for the width drawn at, from the
            self.retitle(self.size.width)  # first frame on (which comes before the resize event)
        return super().render_lines(crop)

    def set_log_scale(self, log: bool) -> None:
        self.log_scale = log
        self.retitle()
        self.refresh()

    @property
    def steps(self) -> int:
        return self._batch.count

    def _key(self) -> tuple:
        return (
            self._batch.count,
            self._train.count,
            self._test.count,
            self._initial,
            self._initial_test,
            self._accuracy.count,
            self._test_accuracy.count,
            self._initial_accuracy,
            self.accuracy_drawn,
            self.size,
            self.log_scale,
            current().name,
            self.app.theme,
        )

    def _draw(self) -> Text:
        columns = max(self.size.width - 12, 8)
        n = self._batch.count
        bx, by = envelope(self._batch.series, 1, columns, self.log_scale)
        tx, ty = _line(self._initial, self._train.series, columns, self.log_scale)
        sx: list[float] = []
        sy: list[float] = []
        if self._has_test:
            sx, sy = _line(self._initial_test, self._test.series, columns, self.log_scale)
        if not (bx or tx):
            return Text(
                "no loss to draw yet"
                if n == 0
                else "no finite loss to draw" + (" (log scale: press l)" if self.log_scale else ""),
                style="dim",
            )
        plt = self.plt
        accuracies = self._accuracy_lines(columns) if self.accuracy_drawn else []
        if self._right_axis and not accuracies:  # the accuracy axis of the last figure goes,
            plt.clear_figure()  # with its ticks (a figure that draws it sets them again)
        plt.clear_data()
        # the batch loss is noisy (SGD, mini-batches) and lines through noise are slow to
        # draw: dots for it, a line for the smooth training-set loss
        if sx:  # under the training line: where they part, the network has begun to overfit
            plt.plot(sx, sy, marker="hd", color=current().test)
        if tx:
            plt.plot(tx, ty, marker="hd", color=current().train)
        if bx:  # on top: the spread of the batch losses around the line is what they show
            plt.scatter(bx, by, marker="hd", color=current().batch)
        plt.yscale("log" if self.log_scale else "linear")
        plt.xlim(0, max(n, 1))
        ticks = _step_ticks(n, max(2, self.size.width // 12))
        plt.xticks([float(t) for t in ticks], [str(t) for t in ticks])
        # plotext writes every digit of a tick (0.25424, 7036810631322155.0): fewer
        values = by + ty + sy
        lo, hi = min(values), max(values)
        count = max(2, min(5, (self.size.height - 3) // 2))
        spaced = np.geomspace(lo, hi, count) if self.log_scale else np.linspace(lo, hi, count)
        yt = sorted(set(float(v) for v in spaced)) if hi > lo else [lo]
        plt.yticks(yt, [f"{v:.4g}" for v in yt])
        plt.xlabel("step")
        self._plot_accuracies(accuracies)
        self._right_axis = bool(accuracies)
        try:
            rendered = self._plotext()
        except Exception as e:  # plotext 5 has corner cases of its own: a chart is never worth a crash
            return Text(f"the chart cannot be drawn: {type(e).__name__}: {e}", style="dim")
        return rendered if isinstance(rendered, Text) else Text.from_ansi(str(rendered))

    def _accuracy_lines(self, columns: int) -> list[tuple[list[float], list[float], str, str]]:
        """The accuracy lines to draw on the right axis, 0 to 100%, as (xs, ys, marker, colour):
        the test set's first, under the training set's, as the losses."""
        lines = [(self._test_accuracy, self._initial_test_accuracy), (self._accuracy, self._initial_accuracy)]
        colours = accuracy_colours()[::-1]
        markers = ACCURACY_MARKERS[::-1]
        out = []
        for (series, initial), colour, mark in zip(lines, colours, markers, strict=True):
            if np.isnan(initial):
                continue
            xs, ys = _line(initial, series.series, columns, False)
            if xs:
                out.append((xs, ys, mark, colour))
        return out

    def _plot_accuracies(self, lines: list[tuple[list[float], list[float], str, str]]) -> None:
        """``lines`` (``_accuracy_lines``) on the right axis, with its range and ticks."""
        if not lines:
            return
        plt = self.plt
        for xs, ys, mark, colour in lines:
            plt.plot(xs, ys, marker=mark, color=colour, yside="right")
        # plotext 5's annotations call yside a float; its code takes "left" or "right"
        plt.ylim(0.0, 1.0, yside="right")  # type: ignore[arg-type]
        plt.yticks([0.0, 0.5, 1.0], ["0%", "50%", "100%"], yside="right")  # type: ignore[arg-type]


# -- several runs on one chart (the comparison view) ---------------------------------------


def series_colour(i: int) -> int:
    """The colour of run ``i`` (0-based), in the chart and in the table beside it: a 256-colour
    code of the palette in use, which plotext and Rich both draw."""
    series = current().series
    return series[i % len(series)]


def _value_ticks(values: Sequence[float], height: int, log: bool) -> list[float]:
    lo, hi = min(values), max(values)
    count = max(2, min(5, (height - 3) // 2))
    spaced = np.geomspace(lo, hi, count) if log else np.linspace(lo, hi, count)
    return sorted(set(float(v) for v in spaced)) if hi > lo else [lo]


class OverlayChart(_CachedPlot):
    """The training-set loss of several runs against step, one colour each, with a legend.

    ``set_runs`` gives it, for each run, its label, its training-set losses after each step
    (a list that only grows, or is replaced on reset), its initial loss and how many of the
    losses to show. Each run is reduced to the chart's width as in LossChart.
    """

    ALLOW_MAXIMIZE = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._labels: list[str] = []
        self._series: list[_Series] = []
        self._initial: list[float] = []
        self.log_scale = False

    def set_runs(self, runs: Sequence[tuple[str, Sequence[float], float, int]]) -> None:
        """``runs``: (label, training-set losses, initial loss, steps shown) for each run."""
        while len(self._series) < len(runs):
            self._series.append(_Series())
        del self._series[len(runs) :]
        for series, (_, losses, _, steps) in zip(self._series, runs, strict=True):
            series.sync(losses, steps)
        self._labels = [label for label, *_ in runs]
        self._initial = [float(initial) for _, _, initial, _ in runs]
        self.refresh()

    def set_log_scale(self, log: bool) -> None:
        self.log_scale = log
        self.refresh()

    @property
    def counts(self) -> list[int]:
        """The steps shown of each run."""
        return [s.count for s in self._series]

    def _key(self) -> tuple:
        return (
            tuple(self.counts),
            tuple(self._labels),
            tuple(self._initial),
            self.size,
            self.log_scale,
            current().name,
            self.app.theme,
        )

    def _draw(self) -> Text:
        columns = max(self.size.width - 12, 8)
        curves = []
        for i, (label, series, initial) in enumerate(
            zip(self._labels, self._series, self._initial, strict=True)
        ):
            curves.append((label, series_colour(i), *_line(initial, series.series, columns, self.log_scale)))
        values = [v for *_, ys in curves for v in ys]
        if not values:
            note = " (log scale: press l)" if self.log_scale else ""
            return Text("no finite loss to draw" + note, style="dim")
        plt = self.plt
        plt.clear_data()
        for label, colour, xs, ys in curves:
            if xs:  # a run with nothing drawable still has its row, marked, in the table
                plt.plot(xs, ys, marker="hd", color=colour, label=label)
        plt.yscale("log" if self.log_scale else "linear")
        n = max(max(self.counts, default=0), 1)
        plt.xlim(0, n)
        ticks = _step_ticks(n, max(2, self.size.width // 12))
        plt.xticks([float(t) for t in ticks], [str(t) for t in ticks])
        yt = _value_ticks(values, self.size.height, self.log_scale)
        plt.yticks(yt, [f"{v:.4g}" for v in yt])
        plt.xlabel("step")
        try:
            rendered = self._plotext()
        except Exception as e:  # as in LossChart: a chart is never worth a crash
            return Text(f"the chart cannot be drawn: {type(e).__name__}: {e}", style="dim")
        return rendered if isinstance(rendered, Text) else Text.from_ansi(str(rendered))
