"""The reload key (R): a scenario file that changes or disappears while the app is open.

A changed valid file starts a new run of it; an unchanged one leaves the run alone; an invalid
or missing one is reported (file and key named) and the run goes on exactly as it was: the
state is compared with an independent Trainer that took the same steps.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from app_harness import drive, fresh, same_state, step_of

from tui_backprop import load_scenario
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.reload import ScenarioSource, same_scenario
from tui_backprop.tui.panels.chart import LossChart

XOR = load_scenario("xor")
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture
def xor_file(tmp_path):
    """A copy of the bundled xor scenario as a file of its own."""
    path = tmp_path / "net.toml"
    path.write_bytes((SCENARIOS / "xor.toml").read_bytes())
    return path


def chart_losses(app: BackpropApp) -> list[list[float]]:
    """The batch and training-set losses the chart holds (and draws)."""
    chart = app.query_one(LossChart)
    return [list(series.series) for series in (chart._batch, chart._train)]


async def test_r_after_a_valid_change_starts_the_new_scenario(xor_file):
    app = BackpropApp(load_scenario(str(xor_file)))
    async with drive(app) as s:
        await s.press("space", "space", "space")  # space x3: three steps of the old scenario
        text = xor_file.read_text()
        changed = text.replace("layers = [2, 3, 1]", "layers = [2, 4, 1]").replace(
            "learning_rate = 2.0", "learning_rate = 0.5"
        )
        assert changed != text
        xor_file.write_text(changed)
        await s.press("R")  # R: read the file again
        await s.until(lambda: not app.reloading, what="the reload")
        assert s.noted(f"{xor_file} changed: a new run of XOR, 2-3-1 sigmoid starts at step 0")
        assert s.noted("the run of 3 steps before it is gone")
        assert app.scenario.layers == (2, 4, 1) and app.scenario.learning_rate == 0.5
        assert app.trainer.step_count == 0 and app.record is None
        assert step_of(s.header()) == 0 and "lr 0.5" in s.header()
        assert [len(n) for n in app.net.names] == [2, 4, 1]
        assert "h4" in s.screen()  # the diagram was built again, with the fourth hidden node
        await s.press("space")  # space: the new run steps like a fresh Trainer of the new file
        assert same_state(app, fresh(load_scenario(str(xor_file)), 1))
        assert step_of(s.header()) == 1


async def test_r_on_an_unchanged_file_keeps_the_run(xor_file):
    app = BackpropApp(load_scenario(str(xor_file)))
    async with drive(app) as s:
        await s.press("space", "space")  # space x2
        xor_file.write_text(xor_file.read_text() + "\n# a comment changes no key\n")
        await s.press("R")  # R: the same scenario, so the run goes on
        await s.until(lambda: not app.reloading, what="the reload")
        assert s.noted(f"{xor_file} is unchanged: the run goes on at step 2")
        assert same_state(app, fresh(XOR, 2)) and step_of(s.header()) == 2


@pytest.mark.parametrize(
    "damage, says",
    [
        ("invalid", "[training] learning_rate: must be > 0, got -0.5"),
        ("not toml", "not valid TOML"),
        ("deleted", "no such file"),
    ],
)
async def test_r_on_a_broken_or_missing_file_reports_it_and_loses_nothing(xor_file, damage, says):
    app = BackpropApp(load_scenario(str(xor_file)))
    original = xor_file.read_text()
    async with drive(app) as s:
        await s.press("f")  # f: 100 steps, so there is a chart and a history to lose
        await s.until(lambda: not app.playing, what="the 100 steps")
        await s.press("b")  # b: and one back, so the run is not at its newest step
        weights = [w.copy() for w in app.trainer.W]
        losses, screen = chart_losses(app), s.screen()
        assert len(losses[0]) == len(losses[1]) == 99
        if damage == "invalid":
            xor_file.write_text(original.replace("learning_rate = 2.0", "learning_rate = -0.5"))
        elif damage == "not toml":
            xor_file.write_text(original.replace("[training]", "[training"))
        else:
            xor_file.unlink()
        await s.press("R")  # R: the file cannot be read as a scenario
        await s.until(lambda: not app.reloading, what="the reload")
        note = next(n for n in s.notes if n.title.startswith("reload failed"))
        assert note.severity == "error" and note.title == f"reload failed: {xor_file}"
        assert f"error: {xor_file}: " in note.message and says in note.message
        assert "The run goes on at step 99; fix the file and press R again." in note.message
        # nothing lost: the scenario, the weights, the chart and the screen are as they were
        assert app.scenario.source == str(xor_file) and app.trainer.step_count == 99
        assert all(np.array_equal(a, b) for a, b in zip(app.trainer.W, weights, strict=True))
        assert same_state(app, fresh(XOR, 99))
        assert chart_losses(app) == losses and s.screen() == screen
        await s.press("space")  # space: the run goes on from where it was
        assert same_state(app, fresh(XOR, 100))
        xor_file.write_text(original.replace("learning_rate = 2.0", "learning_rate = 1.0"))
        await s.press("R")  # R: once the file is fixed, it loads
        await s.until(lambda: not app.reloading, what="the reload")
        assert app.scenario.learning_rate == 1.0 and app.trainer.step_count == 0


async def test_a_bundled_scenario_reloads_from_the_package_even_beside_a_file_of_its_name(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xor.toml").write_text("not a scenario")  # what the current directory holds
    app = BackpropApp(load_scenario("xor"))
    app.scenario_source = ScenarioSource("xor")  # as the command line sets it
    async with drive(app) as s:
        await s.press("space", "R")  # space, R: the package's xor is unchanged
        await s.until(lambda: not app.reloading, what="the reload")
        assert s.noted("xor is unchanged: the run goes on at step 1")
        assert same_state(app, fresh(XOR, 1))


def test_the_source_recorded_in_a_scenario(xor_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ScenarioSource.of(load_scenario("xor")) == ScenarioSource("xor")  # the package
    assert ScenarioSource.of(load_scenario(str(xor_file))) == ScenarioSource(str(xor_file))
    assert ScenarioSource.of(replace(XOR, source="<test>")) is None
    assert ScenarioSource.of(replace(XOR, source=None)) is None


async def test_r_keeps_the_set_overrides_of_the_command_line(xor_file):
    sets = (parse_set("training.learning_rate=0.25"),)
    app = BackpropApp(load_scenario(str(xor_file), sets))
    app.scenario_source = ScenarioSource(str(xor_file), sets)
    async with drive(app) as s:
        await s.press("space", "R")  # space, R: the file with the same --set is the same scenario
        await s.until(lambda: not app.reloading, what="the reload")
        assert s.noted("is unchanged") and app.trainer.step_count == 1
        xor_file.write_text(xor_file.read_text().replace("max_steps = 5000", "max_steps = 60"))
        await s.press("R")  # R: changed, and the override still holds in the new run
        await s.until(lambda: not app.reloading, what="the reload")
        assert app.scenario.max_steps == 60 and app.scenario.learning_rate == 0.25


def test_same_scenario_compares_every_key_and_the_data():
    assert same_scenario(XOR, load_scenario("xor"))
    assert not same_scenario(XOR, replace(XOR, learning_rate=1.0))
    targets = XOR.targets.copy()
    targets[0, 0] = 1.0
    assert not same_scenario(XOR, replace(XOR, targets=targets))
