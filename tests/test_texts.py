"""Words on screen and in messages: one step is ``1 step`` (never ``1 steps``, nor ``sample(s)``),
a batch size is ``batches of 10`` (not ``mode 10``), and a chart on a log scale says so."""

from __future__ import annotations

import json

import pytest
from app_harness import drive

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.common.words import count
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.writer import TraceError, write_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.compare_app import CompareApp


def test_count_says_one_thing_and_many_things():
    assert [count(n, "step") for n in (0, 1, 2)] == ["0 steps", "1 step", "2 steps"]
    assert count(1, "more term") == "1 more term" and count(3, "more term") == "3 more terms"
    assert count(2, "class", "classes") == "2 classes"


def test_the_headless_summary_of_one_step(capsys):
    assert main(["xor", "--headless", "--steps", "1"]) == 0
    assert capsys.readouterr().out.startswith("XOR, 2-3-1 sigmoid: 1 step, epoch 1, ")


def test_check_of_a_trace_of_one_step(tmp_path, capsys):
    trainer = Trainer(load_scenario("xor"))
    trainer.run(1)
    path = write_trace(tmp_path / "one.json", trainer)
    assert main(["--check", str(path)]) == 0
    assert ", 1 step, stopped: steps" in capsys.readouterr().out


def test_a_trace_refused_for_an_empty_batch_says_one_item(tmp_path):
    trainer = Trainer(load_scenario("xor"))
    trainer.run(1)
    path = write_trace(tmp_path / "t.json", trainer)
    doc = json.loads(path.read_text())
    doc["steps"][0]["batch"] = []
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(TraceError, match=r"steps\[0\]\.batch: expected at least 1 item, got 0") as info:
        read_trace(str(path))
    assert "item(s)" not in str(info.value)


@pytest.mark.parametrize(
    "scenario, words",
    [
        ("xor", "full batch, mse"),
        ("proportional_2_3_1", "one sample a step, half_sse"),
        ("circle", "batches of 10, bce"),
    ],
)
async def test_the_header_says_the_batch_in_words(scenario, words):
    app = BackpropApp(load_scenario(scenario))
    async with drive(app, size=(160, 45)) as s:
        assert words in s.header() and "mode" not in s.header()
        if len(app.scenario.name) < 30:  # a long name leaves no room on the first line at 100 columns
            await s.pilot.resize_terminal(100, 30)
            await s.pilot.pause()
            assert words in s.header()


async def test_the_forward_panel_counts_the_samples_of_the_batch():
    app = BackpropApp(load_scenario("proportional_2_3_1"))
    async with drive(app) as s:
        await s.press("space")  # space: one sample a step
        assert "mean of ℓ over 1 sample, before the update" in s.panel("forward")
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: the four samples of xor
        assert "mean of ℓ over 4 samples, before the update" in s.panel("forward")


async def test_the_export_and_reload_notifications_count_steps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "xor.toml"
    path.write_text(_xor_text(), encoding="utf-8")
    app = BackpropApp(load_scenario(str(path)))
    async with drive(app) as s:
        await s.press("space", "e")  # space, e: one step, then export it
        await s.until(lambda: not app.exporting, what="the export")
        assert s.noted("exporting 1 step to") and s.noted("(1 step)")
        path.write_text(_xor_text().replace("learning_rate = 2.0", "learning_rate = 1.0"), encoding="utf-8")
        await s.press("R")  # R: the changed file starts a new run
        assert s.noted("(the run of 1 step before it is gone)")
        assert not any("1 steps" in n.message for n in s.notes)


def _xor_text() -> str:
    from importlib import resources

    return resources.files("tui_backprop.scenarios").joinpath("xor.toml").read_text("utf-8")


async def test_the_loss_chart_title_says_log_scale():
    # three inputs and no classifier: no boundary nor confusion matrix, the chart has its cell's width
    app = BackpropApp(load_scenario("mlp_error_signal"))
    async with drive(app, size=(140, 40)) as s:
        assert "log" not in s.screen().split("6 loss")[1].split("─╮")[0]
        await s.press("l")  # l: a log scale
        assert "6 loss (log scale):" in s.screen()
        await s.press("l")  # l: linear again
        assert "(log scale)" not in s.screen()


async def test_a_narrow_loss_chart_still_says_log():
    app = BackpropApp(load_scenario("xor"))  # beside the boundary: a narrow chart
    async with drive(app, size=(100, 30)) as s:
        await s.press("l")  # l: a log scale
        assert "6 loss (log)" in s.screen()


async def test_the_comparison_chart_title_says_log_scale():
    app = CompareApp(load_variants("linear_neuron_full", [], parse_vary("training.learning_rate=0.1,1")))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        chart = app.query_one("#chart")
        assert chart.log_scale and "training-set loss by training.learning_rate (log scale)" in str(
            chart.border_title
        )
        await pilot.press("l")  # l: a linear scale
        assert "log" not in str(chart.border_title)
    assert app._exception is None
