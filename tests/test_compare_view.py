"""The comparison view (``--vary`` in the app): Pilot tests of its state and what it draws,
and snapshots after looking at it.

Every number is checked against an independent headless run of the same variant
(compare.run_variant on a fresh Trainer), never against numbers copied into the test.
"""

from __future__ import annotations

import asyncio
import math

import pytest
from rich.text import Text
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tui_backprop import cli
from tui_backprop.runs.vary import Variant, fmt_loss, load_variants, run_variant
from tui_backprop.scenario.overrides import parse_set, parse_vary
from tui_backprop.tui.compare_app import CompareApp, CompareState
from tui_backprop.tui.panels.chart import OverlayChart, series_colour
from tui_backprop.tui.screens.compare_help import COLUMNS as HELP_COLUMNS
from tui_backprop.tui.screens.compare_help import CompareHelpScreen

SIZE = (160, 45)
STEP_SIZES = "training.learning_rate=0.01,0.1,1,10"  # 1 and 10 diverge: their loss blows up
BATCH_MODES = "training.batch=full,sample,4"


def variants(vary: str, scenario: str = "linear_neuron_full") -> list[Variant]:
    return load_variants(scenario, [], parse_vary(vary))


async def settle(app: CompareApp, pilot: Pilot, timeout: float = 30.0) -> None:
    """Wait for the stepping worker to end and its last update to be drawn."""
    deadline = asyncio.get_running_loop().time() + timeout
    while app.playing:
        assert asyncio.get_running_loop().time() < deadline, "the worker did not finish"
        await pilot.pause(0.05)
    await pilot.pause()


def cells(app: CompareApp) -> list[dict[str, str]]:
    """The table as shown: one dict per row, by column key."""
    table = app.query_one(DataTable)
    rows = []
    for i in range(table.row_count):
        row = table.get_row(str(i))
        rows.append({name: str(cell) for name, cell in zip(("colour", *app.columns), row, strict=True)})
    return rows


def curve_colours(chart: OverlayChart) -> set[int]:
    """The 256-colour codes drawn in the chart's plot (legend included)."""
    rendered = chart.render()
    assert isinstance(rendered, Text)
    out = set()
    for span in rendered.spans:
        style = span.style
        color = getattr(style, "color", None)
        if color is not None and color.number is not None:
            out.add(color.number)
    return out


def assert_clean(app: CompareApp) -> None:
    assert app._exception is None, f"the app raised {app._exception!r}"
    errors = [n for n in app._notifications if n.severity == "error"]
    assert not errors, errors


async def test_space_steps_every_variant_once():
    app = CompareApp(variants(BATCH_MODES))
    async with app.run_test(size=SIZE) as pilot:
        assert [t.step_count for t in app.trainers] == [0, 0, 0]
        await pilot.press("space")  # space: one step of each variant
        await pilot.press("n")  # n: and another
        await pilot.pause()
        assert [t.step_count for t in app.trainers] == [2, 2, 2]
        chart = app.query_one(OverlayChart)
        assert chart.counts == [2, 2, 2]
        rows = cells(app)
        assert [r["value"] for r in rows] == ["full", "sample", "4"]
        for row, v in zip(rows, app.variants, strict=True):
            result, _, _ = run_variant(v, 2)
            assert row["steps"] == "2"
            assert row["final loss"] == fmt_loss(result.final_loss)
            assert row["diverged"] == "no" and row["to target"] == "-" and row["stopped"] == "-"
        # one curve in each variant's colour, and the table's swatch in the same colour
        assert {series_colour(i) for i in range(3)} <= curve_colours(chart)
        table = app.query_one(DataTable)
        for i in range(3):
            swatch = table.get_row(str(i))[0]
            assert isinstance(swatch, Text) and f"color({series_colour(i)})" in str(swatch.style)
        await pilot.press("r")  # r: every variant back to step 0
        assert [t.step_count for t in app.trainers] == [0, 0, 0]
        assert chart.counts == [0, 0, 0]
    assert_clean(app)


async def test_run_all_matches_independent_runs_and_marks_divergence():
    app = CompareApp(variants(STEP_SIZES))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")  # f: run every variant until it stops by itself (in the worker)
        await settle(app, pilot)
        rows = cells(app)
        for row, v, trainer in zip(rows, app.variants, app.trainers, strict=True):
            result, alone, _ = run_variant(v, None)
            assert trainer.train_losses == alone.train_losses  # the same run, step for step
            assert row["steps"] == str(result.steps)
            assert row["final loss"] == fmt_loss(result.final_loss)
            assert row["to target"] == (str(result.steps_to_target) if result.steps_to_target else "-")
            assert row["stopped"] == result.stop_reason
        assert [r["diverged"] for r in rows] == ["no", "no", "YES", "YES"]
        table = app.query_one(DataTable)
        for key in ("2", "3"):
            diverged_cell = table.get_row(key)[app.columns.index("diverged") + 1]
            assert isinstance(diverged_cell, Text) and "red" in str(diverged_cell.style)
        chart = app.query_one(OverlayChart)
        assert chart.counts == [507, 50, 310, 4]
        assert chart._labels[2:] == ["learning_rate=1 (diverged)", "learning_rate=10 (diverged)"]
        plain = chart.render().plain  # type: ignore[union-attr]
        for v in app.variants:
            assert v.label in plain  # the legend names every variant
        assert {series_colour(i) for i in range(4)} <= curve_colours(chart)
        for announced in ("learning_rate=1 diverged at step 310", "learning_rate=10 diverged at step 4"):
            assert any(announced in n.message for n in app._notifications)
        await pilot.press("space")  # space: nothing left to step, said so
        assert any("every variant has stopped" in n.message for n in app._notifications)
    assert_clean(app)


async def test_play_steps_in_lockstep_and_pauses():
    # small steps and no max_steps in reach: the run never stops by itself within the test
    sets = [parse_set("training.max_steps=10000000")]
    app = CompareApp(
        load_variants("linear_neuron_full", sets, parse_vary("training.learning_rate=1e-5,2e-5,3e-5"))
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "plus", "plus")  # plus x3: play faster, 20 -> 200 steps a second
        await pilot.press("p")  # p: play
        assert app.playing
        deadline = asyncio.get_running_loop().time() + 30
        while app.trainers[0].step_count < 5:  # a few steps, however slow the machine
            assert asyncio.get_running_loop().time() < deadline, "play took no step"
            await pilot.pause(0.01)
        await pilot.press("p")  # p: pause
        assert not app.playing
        counts = [t.step_count for t in app.trainers]
        assert counts[0] > 0 and len(set(counts)) == 1  # every variant the same number of steps
        await pilot.pause(0.2)  # a while in which a running player would step again
        assert [t.step_count for t in app.trainers] == counts  # paused means paused
        assert app.query_one(OverlayChart).counts == counts
    assert_clean(app)


async def test_o_opens_the_selected_variant():
    app = CompareApp(variants(BATCH_MODES))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")  # down x2: the third row, batch = 4
        await pilot.press("o")  # o: open it in the single-run view
    assert app.return_value == 2


def test_cli_opens_the_view_then_the_chosen_variant(monkeypatch, tmp_path):
    opened = {}

    def compare_run(self):
        opened["variants"] = [v.value for v in self.variants]
        self.left = CompareState(self.trainers, 0, log_scale=True, row=1, announced=frozenset())
        return 1  # as if o was pressed on the second row

    def app_run(self):
        opened["scenario"], opened["export"] = self.scenario, self.export_path

    monkeypatch.setattr(CompareApp, "run", compare_run)
    monkeypatch.setattr("tui_backprop.tui.app.BackpropApp.run", app_run)
    out = tmp_path / "out.json"
    assert cli.main(["linear_neuron_full", "--vary", BATCH_MODES, "--export", str(out)]) == 0
    assert opened["variants"] == ["full", "sample", "4"]
    assert opened["scenario"].batch == "sample"
    assert opened["export"] == tmp_path / "out-batch=sample.json"


async def look_at_the_step_sizes(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, CompareApp)
    await pilot.press("f")  # f: run every variant until it stops (1 and 10 diverge)
    await settle(app, pilot)
    await pilot.press("down")  # down: select the second variant's row
    app.clear_notifications()  # the divergence toast times out: keep the picture stable
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (160, 45)], ids=["100x30", "160x45"])
def test_comparison_snapshot(snap_compare, monkeypatch, size):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = CompareApp(variants(STEP_SIZES))
    assert snap_compare(app, terminal_size=size, run_before=look_at_the_step_sizes)
    assert app._exception is None, f"the app raised {app._exception!r}"
    assert [t.step_count for t in app.trainers] == [507, 50, 310, 4]
    assert [t.stop_reason for t in app.trainers[2:]] == ["diverged", "diverged"]
    assert not any(math.isnan(loss) for loss in app.trainers[0].train_losses)


async def test_help_lists_every_key_and_column_and_keys_under_it_do_nothing():
    app = CompareApp(variants(BATCH_MODES))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")  # ?: the help
        assert isinstance(app.screen, CompareHelpScreen)
        text = str(app.screen.query_one("#help-text", Static).render())
        for binding in CompareApp.BINDINGS:
            assert isinstance(binding, Binding) and binding.tooltip in text
        for name, _ in HELP_COLUMNS:
            assert f"  {name}" in text
        await pilot.press("space")  # space: under the help, nothing steps
        assert [t.step_count for t in app.trainers] == [0, 0, 0]
        await pilot.press("escape")  # escape: closes it
        assert not isinstance(app.screen, CompareHelpScreen)
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert "One step of every variant that is still running" in commands
    assert_clean(app)


async def test_a_test_loss_column_when_the_runs_have_a_test_set():
    app = CompareApp(variants("training.learning_rate=0.01,0.1", "iris"))
    async with app.run_test(size=SIZE) as pilot:
        assert "test loss" in app.columns
        await pilot.press("space")  # space: one step of each
        await pilot.pause()
        for row, v in zip(cells(app), app.variants, strict=True):
            result, alone, _ = run_variant(v, 1)
            assert alone.test_losses and result.test_loss == alone.test_losses[-1]
            assert row["test loss"] == fmt_loss(alone.test_losses[-1])
    assert_clean(app)
