"""The loss chart reduces any number of steps to its width before plotext sees them."""

from __future__ import annotations

import numpy as np
import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual_plotext import PlotextPlot

from tui_backprop.engine.loss_series import LossSeries
from tui_backprop.tui.panels.chart import LossChart, envelope


def test_few_points_are_all_drawn():
    y = np.array([0.5, 0.4, 0.3])
    assert envelope(y, 1, columns=10) == ([1, 2, 3], [0.5, 0.4, 0.3])


def test_many_points_become_each_columns_lowest_and_highest():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.0, 1.0, 100_000)
    columns = 50
    xs, ys = envelope(y, 0, columns)
    assert len(xs) == len(ys) == 2 * columns
    # each column of 2,000 steps gives its own minimum and maximum, at its first step
    for c in range(columns):
        group = y[c * 2000 : (c + 1) * 2000]
        assert xs[2 * c] == xs[2 * c + 1] == c * 2000
        assert ys[2 * c] == group.min() and ys[2 * c + 1] == group.max()


def test_undrawable_values_are_left_out():
    y = np.array([0.5, np.nan, np.inf, 1e40, -0.1, 0.2] * 100)
    xs, ys = envelope(y, 0, columns=10)
    assert ys and all(np.isfinite(ys)) and max(ys) <= 0.5 and min(ys) == -0.1
    _, log_ys = envelope(y, 0, columns=10, log=True)
    assert min(log_ys) == 0.2  # a log scale has no place for -0.1


class _ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LossChart()


@pytest.mark.parametrize("steps", [100, 100_000])
async def test_plotext_gets_points_in_proportion_to_the_width_not_the_steps(steps, monkeypatch):
    rng = np.random.default_rng(1)
    losses = list(np.exp(-np.linspace(0, 5, steps)) + rng.uniform(0, 0.01, steps))
    given: list[int] = []
    app = _ChartApp()
    async with app.run_test(size=(80, 20)) as pilot:
        chart = app.query_one(LossChart)
        for name in ("plot", "scatter"):
            original = getattr(chart.plt, name)

            def counting(x, y, *args, _original=original, **kwargs):
                given.append(len(x))
                return _original(x, y, *args, **kwargs)

            monkeypatch.setattr(chart.plt, name, counting)
        chart.set_losses(losses, losses, 1.0, steps)
        await pilot.pause()
        text = chart.render()
        assert "step" in text.plain  # it drew a chart, not an error
    columns = 80 - 12
    assert len(given) == 2 and all(n <= 2 * columns + 1 for n in given)


async def test_a_long_run_is_kept_bounded_and_a_spike_in_its_grouped_steps_is_drawn():
    steps, spike = 200_000, 9.0
    values = np.exp(-np.linspace(0, 5, steps))
    values[100_000] = spike  # long before the steps kept exactly: only its group's range is left
    losses = LossSeries(values.tolist())
    app = _ChartApp()
    async with app.run_test(size=(80, 20)) as pilot:
        chart = app.query_one(LossChart)
        chart.set_losses(losses, losses, 1.0, steps)
        await pilot.pause()
        assert "step" in chart.render().plain
        kept = chart._batch.series
        assert len(kept) == steps and kept.offset > 0 and kept.stored <= 2 * kept.window + 2 * kept.buckets
        assert max(envelope(kept, 1, columns=68)[1]) == spike
        losses.append(0.02)  # the run goes on: the chart copies the new step only
        chart.set_losses(losses, losses, 1.0, steps + 1)
        assert chart._batch.series[-1] == 0.02 and len(chart._batch.series) == steps + 1


@pytest.mark.parametrize(
    "test_line, log, accuracy", [(False, False, False), (True, False, True), (True, True, False)]
)
async def test_the_chart_read_from_plotexts_matrix_is_the_text_of_its_escape_codes(
    test_line, log, accuracy, monkeypatch
):
    """The chart's text comes from plotext's matrix of characters and colours; it must be the
    text that textual-plotext gives, which parses the figure plotext prints."""
    steps = 40
    losses = list(np.exp(-np.linspace(0, 3, steps)) + np.random.default_rng(2).uniform(0, 0.05, steps))
    app = _ChartApp()
    async with app.run_test(size=(70, 18)):
        chart = app.query_one(LossChart)
        chart.test_legend = test_line
        chart.set_log_scale(log)
        chart.set_losses(
            losses, losses, 1.2, steps, losses[::-1] if test_line else (), 1.1 if test_line else None
        )
        if accuracy:
            chart.set_accuracies([k / steps for k in range(steps)], 0.0, steps)
        text = chart._draw()
        monkeypatch.setattr(chart, "_plotext", lambda: PlotextPlot.render(chart))  # escape codes parsed
        printed = chart._draw()
        assert isinstance(printed, Text) and "step" in text.plain
        assert text.plain == printed.plain
        assert text.spans == printed.spans and len({span.style for span in text.spans}) > 3


async def test_the_charts_lines_are_the_strips_textual_makes_of_its_figure():
    """The chart draws its lines itself (render_line): each must be the strip that Textual's own
    path from the figure's text gives, step after step (with the accuracy axis, which makes
    plotext's figure afresh), after a resize, and with no figure at all."""
    from textual.widget import Widget

    def textual_lines(chart: LossChart) -> list:
        chart._dirty_regions.add(chart.region)  # Textual renders the figure again
        return [list(Widget.render_line(chart, y)) for y in range(chart.size.height)]

    def own_lines(chart: LossChart) -> list:
        return [list(chart.render_line(y)) for y in range(chart.size.height)]

    rng = np.random.default_rng(3)
    losses = list(np.exp(-np.linspace(0, 3, 60)) + rng.uniform(0, 0.05, 60))
    app = _ChartApp()
    async with app.run_test(size=(70, 18)) as pilot:
        chart = app.query_one(LossChart)
        await pilot.pause()
        assert own_lines(chart) == textual_lines(chart)  # "no loss to draw yet"
        for steps in (1, 2, 3, 30, 60):
            chart.set_losses(losses, losses, 1.2, steps)
            chart.set_accuracies([k / 60 for k in range(60)], 0.0, steps)
            await pilot.pause()
            assert own_lines(chart) == textual_lines(chart), steps
        await pilot.resize_terminal(90, 24)
        await pilot.pause()
        assert chart.size.height > 18 - 2 and own_lines(chart) == textual_lines(chart)


async def test_a_figure_drawn_over_the_last_one_is_the_figure_drawn_afresh():
    """plotext keeps a figure's settings from one draw to the next; the chart makes the figure
    afresh only when the accuracy axis goes. Step after step, with the axis hidden (A) and shown
    again, every figure must be the one a chart that never drew before makes of the same data."""
    rng = np.random.default_rng(4)
    steps = 50
    losses = list(np.exp(-np.linspace(0, 3, steps)) + rng.uniform(0, 0.05, steps))
    accuracies = list(np.clip(np.linspace(0.4, 1.0, steps) + rng.uniform(-0.1, 0.1, steps), 0, 1))

    def show(chart: LossChart, n: int) -> None:
        chart.set_losses(losses, losses, 1.2, n, losses[::-1], 1.1)
        chart.set_accuracies(accuracies, 0.5, n, accuracies[::-1], 0.25)

    class _TwoCharts(App[None]):
        def compose(self) -> ComposeResult:
            yield LossChart(id="kept")
            yield LossChart(id="fresh")

    app = _TwoCharts()
    async with app.run_test(size=(70, 36)) as pilot:
        kept = app.query_one("#kept", LossChart)
        await pilot.pause()
        hidden = {7, 8, 20, 35}  # the accuracy axis is hidden for these steps and shown after them
        for n in range(1, steps + 1):
            if (n in hidden) != (not kept.show_accuracy):
                kept.toggle_accuracy()
            show(kept, n)
            old = app.query_one("#fresh", LossChart)
            await old.remove()
            fresh = LossChart(id="fresh")
            await app.mount(fresh)
            if n in hidden:
                fresh.toggle_accuracy()
            show(fresh, n)
            await pilot.pause()
            assert kept.size == fresh.size
            drawn, afresh = kept._draw(), fresh._draw()
            assert drawn.plain == afresh.plain and drawn.spans == afresh.spans, n
            assert ("100%" in drawn.plain) == (n not in hidden)
