"""Accuracy in the app: the header, the chart's accuracy lines and A, the confusion matrices of
the boundary panel (iris in place of the plane, spiral's beside its zoomed plane), a step taken
by phases, a replay, and the comparison view's columns.

Every accuracy expected is counted here from the weights on screen with the reference forward
pass of tests/conftest.py, never read from the engine.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from app_harness import drive, headless_trace
from conftest import ref_forward_sample
from textual.widgets import DataTable

from tui_backprop import load_scenario
from tui_backprop.common.percent import percent
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.compare_app import CompareApp
from tui_backprop.tui.panels.boundary import BoundaryPanel
from tui_backprop.tui.panels.chart import LossChart
from tui_backprop.tui.replay_app import ReplayApp


def predictions(W, b, activations, X) -> list[int]:
    """The class of each sample: the largest output, or (one output) whether it is >= 0.5."""
    out = []
    for x in X:
        y = ref_forward_sample(W, b, activations, x)[1][-1]
        out.append(int(np.argmax(y)) if len(y) > 1 else int(y[0] >= 0.5))
    return out


def classes(T) -> list[int]:
    return [int(np.argmax(t)) if len(t) > 1 else int(t[0] == 1) for t in T]


def accuracy_of(W, b, activations, X, T) -> float:
    right = sum(p == c for p, c in zip(predictions(W, b, activations, X), classes(T), strict=True))
    return right / len(X)


def on_screen(app):
    rec = app.record
    return [lr.w for lr in rec.layers], [lr.b for lr in rec.layers]


def percent_in(header: str, label: str) -> float:
    """The percentage after ``label`` in the header ("accuracy" is "acc" below 150 columns)."""
    label = "acc(?:uracy)?" if label == "accuracy" else label
    m = re.search(rf"{label} (\d+(?:\.\d)?)%", header)
    assert m, f"no {label} in the header: {header!r}"
    return float(m[1])


async def test_the_header_shows_the_accuracy_of_the_weights_on_screen():
    s_ = load_scenario("circle")
    app = BackpropApp(s_)
    async with drive(app, size=(160, 45)) as s:
        header = s.header()
        W0, b0 = app.trainer.initial_W, app.trainer.initial_b
        expected = 100 * accuracy_of(W0, b0, s_.activations, s_.inputs, s_.targets)
        assert percent_in(header, "accuracy") == pytest.approx(expected, abs=0.05)
        await s.press("f")  # f: 100 steps
        await s.until(lambda: app.record is not None and app.record.step == 100, what="100 steps")
        await s.pilot.pause()
        header = s.header()
        W, b = on_screen(app)
        train = 100 * accuracy_of(W, b, s_.activations, s_.inputs, s_.targets)
        test = 100 * accuracy_of(W, b, s_.activations, s_.test_inputs, s_.test_targets)
        assert percent_in(header, "accuracy") == pytest.approx(train, abs=0.05)
        assert percent_in(header, "test") == pytest.approx(test, abs=0.05)


async def test_a_narrow_header_shortens_the_accuracy():
    app = BackpropApp(load_scenario("iris"))
    async with drive(app, size=(100, 30)) as s:
        await s.press("space")  # space: one step
        m = re.search(r"acc (\d+(?:\.\d)?)%/(\d+(?:\.\d)?)%", s.header())
        assert m, s.header()
        assert float(m[1]) == pytest.approx(100 * app.record.train_accuracy, abs=0.05)
        assert float(m[2]) == pytest.approx(100 * app.record.test_accuracy, abs=0.05)


async def test_a_regression_shows_no_accuracy_and_a_does_nothing_but_say_so():
    app = BackpropApp(load_scenario("linear_neuron_full"))
    async with drive(app) as s:
        await s.press("space")  # space: one step
        assert "acc" not in s.header()
        chart = app.query_one(LossChart)
        assert not chart.has_accuracy and "accuracy" not in str(chart.border_title)
        await s.press("A")  # A: no accuracy to toggle
        assert s.noted("not a classifier") and chart.show_accuracy


async def test_a_toggles_the_accuracy_lines_of_the_chart():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(160, 45)) as s:
        await s.press("f")  # f: 100 steps
        await s.until(lambda: app.record is not None and app.record.step == 100, what="100 steps")
        chart = app.query_one(LossChart)
        await s.press("6")  # 6: zoom the chart, wide enough for the legend's words
        assert chart.has_accuracy and chart.show_accuracy and chart.accuracy_drawn
        assert chart._accuracy.series.tolist() == list(app.trainer.train_accuracies)
        assert "accuracy" in str(chart.border_title)
        assert "100%" in str(chart.render())  # the right axis, 0 to 100%
        await s.press("A")  # A: hide them
        assert not chart.show_accuracy and "accuracy" not in str(chart.border_title)
        assert "100%" not in str(chart.render())
        assert s.noted("accuracy on the chart: hidden")
        await s.press("A")  # A: show them again
        assert chart.accuracy_drawn and "100%" in str(chart.render())


async def test_iris_shows_its_confusion_matrices_in_place_of_the_plane():
    s_ = load_scenario("iris")
    app = BackpropApp(s_)
    async with drive(app, size=(160, 45)) as s:
        await s.press("x")  # x: the explain panel off, so the chart cell is wide
        await s.press("f")  # f: 100 steps
        await s.until(lambda: app.record is not None and app.record.step == 100, what="100 steps")
        await s.pilot.pause()
        panel = app.query_one(BoundaryPanel)
        assert panel.display and panel.confusion_only and "confusion" in str(panel.border_title)
        W, b = on_screen(app)
        right = round(accuracy_of(W, b, s_.activations, s_.test_inputs, s_.test_targets) * 30)
        assert panel.text.startswith(f"test: {right}/30 ")  # beside the chart: the short heading
        await s.press("8")  # 8: zoom the confusion matrices
        assert app.screen.maximized is panel
        text = panel.text
        for label, X, T in (
            ("test set", s_.test_inputs, s_.test_targets),
            ("training set", s_.inputs, s_.targets),
        ):
            right = round(accuracy_of(W, b, s_.activations, X, T) * len(X))
            assert f"{label}: {right} of {len(X)} samples right" in text, text
        # the test set's rows, counted here: true class by row, predicted by column
        counted = np.zeros((3, 3), dtype=int)
        for p, c in zip(
            predictions(W, b, s_.activations, s_.test_inputs), classes(s_.test_targets), strict=True
        ):
            counted[c, p] += 1
        lines = text.splitlines()
        first = next(k for k, line in enumerate(lines) if line.startswith("setosa"))
        shown = [[int(n) for n in lines[first + i].split()[1:]] for i in range(3)]
        assert shown == counted.tolist() and counted.sum() == 30


async def test_spiral_zoomed_shows_its_confusion_matrices_beside_the_plane():
    s_ = load_scenario("spiral")
    app = BackpropApp(s_)
    async with drive(app, size=(160, 45)) as s:
        await s.press("space")  # space: one step
        panel = app.query_one(BoundaryPanel)
        assert "test set" not in panel.text  # not zoomed: the plane alone
        await s.press("8")  # 8: zoom the boundary panel
        await s.pilot.pause()
        W, b = on_screen(app)
        right = round(
            accuracy_of(W, b, s_.activations, s_.test_inputs, s_.test_targets) * len(s_.test_inputs)
        )
        lines = panel.text.splitlines()
        assert f"test set: {right} of {len(s_.test_inputs)} samples right" in lines[0]
        assert lines[0].lstrip().startswith("▀")  # the plane on its left
        assert any(line.startswith("x1 ") for line in lines)  # with its axes


async def test_a_step_taken_by_phases_shows_the_accuracy_before_its_update():
    app = BackpropApp(load_scenario("iris"))
    async with drive(app) as s:
        await s.press("f")  # f: 100 steps
        await s.until(lambda: app.record is not None and app.record.step == 100, what="100 steps")
        after_100 = app.record.train_accuracy
        await s.press("s")  # s: the first phase of step 101: its update not yet taken
        assert app.record.step == 101 and not app.reveal.update
        assert percent_in(s.header(), "accuracy") == pytest.approx(100 * after_100, abs=0.05)
        await s.press("space")  # space: the rest of step 101
        assert percent_in(s.header(), "accuracy") == pytest.approx(100 * app.record.train_accuracy, abs=0.05)


async def test_a_replayed_trace_shows_its_recorded_accuracies(tmp_path):
    path = tmp_path / "iris.json"
    headless_trace("iris", 20, path)
    recording = read_trace(path)
    app = ReplayApp(recording)
    async with drive(app) as s:
        assert percent_in(s.header(), "accuracy") == pytest.approx(
            100 * recording.initial_train_accuracy, abs=0.05
        )
        await s.press("space", "space")  # space twice: recorded steps 1 and 2
        rec = recording.records[1]
        assert percent_in(s.header(), "accuracy") == pytest.approx(100 * rec.train_accuracy, abs=0.05)
        assert app.query_one(LossChart)._accuracy.series.tolist() == [
            r.train_accuracy for r in recording.records[:2]
        ]


async def test_the_comparison_view_has_the_accuracy_columns_of_its_classifiers():
    scenario = load_scenario("iris")
    variants = load_variants("iris", [], parse_vary("training.learning_rate=0.05,0.5"))
    app = CompareApp(variants)
    async with app.run_test(size=(160, 45)) as pilot:
        assert ("accuracy", "test accuracy") == app.columns[4:6]
        await pilot.press("space")  # space: one step of each variant
        await pilot.pause()
        table = app.query_one(DataTable)
        for i, trainer in enumerate(app.trainers):
            row = dict(zip(("colour", *app.columns), map(str, table.get_row(str(i))), strict=True))
            W, b = trainer.W, trainer.b
            train = accuracy_of(W, b, scenario.activations, scenario.inputs, scenario.targets)
            test = accuracy_of(W, b, scenario.activations, scenario.test_inputs, scenario.test_targets)
            assert row["accuracy"] == percent(train) and row["test accuracy"] == percent(test)
    assert app._exception is None
