"""The scenario's ``[scenario] description`` in the app (DESIGN section 4: "shown in the app"):
the explain panel shows it before the first step, the help screen starts with it, and a replay
shows the description its trace recorded. Each key press has its comment.
"""

from __future__ import annotations

from pathlib import Path

from app_harness import drive, headless_trace

from tui_backprop import load_scenario
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.explain_text import FIRST_KEYS
from tui_backprop.tui.replay_app import ReplayApp

WIDE = (160, 45)


def words(text: str) -> str:
    """``text`` with every run of whitespace one space: a wrapped paragraph reads as one line."""
    return " ".join(text.split())


def help_text(app: BackpropApp) -> str:
    return str(app.screen.query_one("#help-text").render())


async def test_before_the_first_step_the_explain_panel_shows_the_scenario_and_the_first_keys():
    scenario = load_scenario("xor")
    assert len(scenario.description) > 200  # a paragraph, wrapped to the panel
    app = BackpropApp(scenario)
    async with drive(app, size=WIDE) as s:
        explained = s.panel("explain")
        assert explained.splitlines()[0] == scenario.name
        assert words(scenario.description) in words(explained)
        assert FIRST_KEYS in explained.splitlines()  # on one line of its own
        assert "w_ji = -0.8287016657127513  (initial)" in explained  # the selected weight, in full
        width = app.query_one("#explain").scrollable_content_region.width
        paragraph = explained.splitlines()[1 : explained.splitlines().index("")]
        assert len(paragraph) > 1 and all(len(line) <= width for line in paragraph)  # wrapped to the panel
        assert not any(line.startswith(" ") for line in paragraph)  # flush left, as prose
        screen = s.screen()  # and it is on screen, not scrolled out of view
        assert scenario.name in screen and FIRST_KEYS in screen and "(initial)" in screen

        await s.press("space")  # space: step 1, which the panel explains instead
        assert words(scenario.description) not in words(s.panel("explain"))
        assert "∂L/∂w_ji" in s.panel("explain")
        await s.press("r")  # r: back to step 0, and to the scenario
        assert words(scenario.description) in words(s.panel("explain"))


async def test_the_help_screen_starts_with_the_scenario():
    scenario = load_scenario("xor")
    app = BackpropApp(scenario)
    async with drive(app, size=WIDE) as s:
        await s.press("question_mark")  # ?: the help screen
        text = help_text(app)
        assert text.splitlines()[0].startswith(scenario.name)
        assert words(text).index(words(scenario.description)) < words(text).index("One step = one forward")
        assert "backprop-tui help" in s.screen() and scenario.name in s.screen()


async def test_a_scenario_without_a_description_shows_its_name(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text((Path(__file__).parent / "data" / "tiny.toml").read_text(), encoding="utf-8")
    scenario = load_scenario(str(path))
    assert scenario.description == ""
    app = BackpropApp(scenario)
    async with drive(app, size=WIDE) as s:
        assert s.panel("explain").splitlines()[:3] == [scenario.name, "", FIRST_KEYS]
        await s.press("question_mark")  # ?: the help screen
        assert help_text(app).splitlines()[0].startswith(scenario.name)


async def test_a_replay_shows_the_description_its_trace_recorded(tmp_path):
    path = tmp_path / "run.json"
    headless_trace("xor", 3, path)
    recording = read_trace(path)
    description = load_scenario("xor").description
    assert recording.scenario.description == description
    app = ReplayApp(recording)
    async with drive(app, size=WIDE) as s:
        assert words(description) in words(s.panel("explain"))
        await s.press("question_mark")  # ?: the help screen
        assert words(description) in words(help_text(app))
