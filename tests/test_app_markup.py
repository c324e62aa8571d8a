"""Text from a file or from the user is shown as written, never read as Textual markup.

A scenario whose name, description and node names hold markup (``[b]``, ``[/]``, ``[init]``),
in a folder whose name holds some too, is opened; each place that shows such text is checked on
the screen, as a user sees it: the words in brackets are there, nothing was swallowed, and the
app raised nothing (an unbalanced ``[/]`` read as markup is an error in Textual).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import Session, drive

from tui_backprop import load_scenario
from tui_backprop.cli import main
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.compare_app import CompareApp
from tui_backprop.tui.control import export as export_module
from tui_backprop.tui.control.reload import ScenarioSource
from tui_backprop.tui.replay_app import ReplayApp
from tui_backprop.tui.screens.export_question import ExportConfirmScreen
from tui_backprop.tui.screens.neuron import NeuronScreen

WIDE = (160, 45)
NAME = "[b]net[/b] [init] x"
DESCRIPTION = "Look at [training] and at [red]this[/]."
INPUTS = ("[i]p", "q[/]")
OUTPUT = "[red]y"

# a 2-2-1 sigmoid network whose output starts saturated (z[2] >= 10 for every sample), so that
# the first step warns about the output node, by its name
SCENARIO = f"""\
[scenario]
name = "{NAME}"
description = "{DESCRIPTION}"

[network]
layers = [2, 2, 1]
activation = "sigmoid"

[init]
method = "explicit"
weights = [[[1.0, 0.5], [0.5, 1.0]], [[10.0, 10.0]]]
biases = [[0.0, 0.0], [0.0]]

[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 0]
input_names = {list(INPUTS)!r}
output_names = ["{OUTPUT}"]

[training]
loss = "mse"
learning_rate = 0.5
max_steps = 50
""".replace("'", '"')


@pytest.fixture
def scenario_path(tmp_path: Path) -> Path:
    folder = tmp_path / "[dim]runs"
    folder.mkdir()
    path = folder / "net.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def open_app(path: Path) -> BackpropApp:
    return BackpropApp(load_scenario(str(path)))


def flat(text: str) -> str:
    """The screen with the box-drawing borders and runs of spaces taken out: a toast or a
    paragraph wrapped over several lines reads as one line."""
    for c in "│╭╮╰╯─▊▎▌▐▕▏":
        text = text.replace(c, " ")
    return " ".join(text.split())


def on_screen(s: Session) -> str:
    return flat(s.screen())


def squeezed(text: str) -> str:
    """``text`` without any whitespace: a toast breaks a long path in the middle of a word."""
    return "".join(flat(text).split())


def shown(s: Session, text: str) -> bool:
    """Whether ``text`` is in a notification on the screen, as its toast draws it (wrapped)."""
    return any(squeezed(text) in squeezed(str(toast.render())) for toast in s.app.screen.query("Toast"))


async def test_the_header_shows_the_scenario_name(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        assert NAME in s.header()


async def test_the_explain_panel_shows_the_name_and_description(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        assert NAME in s.panel("explain") and DESCRIPTION in s.panel("explain")
        assert DESCRIPTION in on_screen(s)


async def test_the_help_screen_shows_the_name_and_description(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        await s.press("question_mark")  # ?: the help, which starts with the scenario
        screen = on_screen(s)
        assert NAME in screen and DESCRIPTION in screen


async def test_the_panels_show_the_node_names(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        await s.press("space")  # space: a step, so that forward shows its columns
        screen = s.screen()
        for name in (*INPUTS, OUTPUT):
            assert name in s.panel("network") and name in s.panel("forward")
            assert name in screen
        assert f"{INPUTS[1]}→h1" in s.panel("weights") and f"{INPUTS[1]}→h1" in screen


async def test_the_warnings_bar_shows_the_node_name(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        await s.press("space")  # space: step 1, whose output node is saturated
        assert any(w.kind == "saturated" for w in s.app.record.warnings)
        assert f"({OUTPUT})" in s.header() + "\n" + s.screen().splitlines()[2]


async def test_the_boundary_legend_shows_the_output_name(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        assert f"• {OUTPUT}=0" in s.screen()
        await s.press("8")  # 8: the boundary zoomed, with the whole legend in its bottom border
        assert f"• {OUTPUT}=0  ▲ {OUTPUT}=1" in s.screen()


async def test_the_neuron_view_title_shows_the_node_name(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        await s.press("right", "right", "right")  # right x3: past b[1], into W[2][0, 0]
        assert (s.app.selection.layer, s.app.selection.j) == (2, 0)
        await s.press("w")  # w: the neuron view of the output node
        assert isinstance(s.app.screen, NeuronScreen)
        assert f"neuron {OUTPUT}: W[2][0, :]" in s.screen()


async def test_a_failed_reload_names_the_table_in_its_notification(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        scenario_path.write_text(SCENARIO.replace("[[10.0, 10.0]]", "[[10.0]]"), encoding="utf-8")
        await s.press("R")  # R: read the file again; its second weight matrix is too narrow
        assert s.noted("[init] weights[1]", "error")
        assert shown(s, "[init] weights[1]")  # in the toast, the table name included
        assert shown(s, f"reload failed: {scenario_path}")  # and its title names the file


async def test_a_reload_names_the_new_scenario_in_its_notification(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        scenario_path.write_text(SCENARIO.replace("0.5", "0.25"), encoding="utf-8")
        await s.press("R")  # R: a changed, valid file: a new run
        assert shown(s, f"{scenario_path} changed: a new run of {NAME} starts at step 0")


async def test_the_export_notification_shows_the_path(scenario_path, monkeypatch):
    monkeypatch.chdir(scenario_path.parent)
    app = BackpropApp(load_scenario(str(scenario_path)), export_path=scenario_path.parent / "[b]t.json")
    async with drive(app, size=WIDE, notifications=True) as s:
        await s.press("space", "e")  # space, e: one step, then export it
        await s.until(lambda: not app.exporting, what="the export")
        assert (scenario_path.parent / "[b]t.json").is_file()
        assert shown(s, f"trace written to {scenario_path.parent / '[b]t.json'}")
        assert "exported [b]t.json" in s.header()


async def test_the_go_to_prompt_and_its_error_show_the_text_as_written(scenario_path):
    async with drive(open_app(scenario_path), size=WIDE, notifications=True) as s:
        await s.press("g")  # g: the go-to prompt, which names W[layer]
        assert "column i of W[layer]" in on_screen(s)  # not markup either
        await s.press("[", "b", "]", "enter")  # [b] enter: not an index
        assert shown(s, "'[b]': expected")


async def test_the_comparison_view_shows_names_and_notifications_as_written(scenario_path):
    variants = load_variants(str(scenario_path), [], parse_vary("training.learning_rate=0.5,0.25"))
    app = CompareApp(variants)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await pilot.pause()
        app.notify(f"{variants[0].label} of {NAME}")  # the comparison's own notifications
        await pilot.pause()
        screen = flat(Session(pilot, app).screen())  # type: ignore[arg-type]
        assert NAME in screen and squeezed(f"learning_rate=0.5 of {NAME}") in squeezed(screen)
    assert app._exception is None and app.return_code in (None, 0)


async def test_a_replay_names_its_trace_as_written(scenario_path):
    trace = scenario_path.parent / "[b]run.json"
    assert main([str(scenario_path), "--headless", "--steps", "2", "--export", str(trace)]) == 0
    app = ReplayApp(read_trace(str(trace)))
    async with drive(app, size=WIDE, notifications=True) as s:
        assert "replay of [b]run.json" in s.header()
        await s.press("space", "c")  # space, c: step 1 of the recording, then continue from it live
        assert shown(s, f"training live from step 1 of {trace}")


async def test_the_big_export_question_shows_the_command_as_written(scenario_path, monkeypatch):
    monkeypatch.chdir(scenario_path.parent)
    monkeypatch.setattr(export_module, "CONFIRM_BYTES", 1_000)  # any trace is big
    app = open_app(scenario_path)
    app.scenario_source = ScenarioSource(str(scenario_path), ())
    async with drive(app, size=WIDE, notifications=True) as s:
        await s.press("space", "e")  # space, e: a step, then an export that asks first
        assert isinstance(app.screen, ExportConfirmScreen)
        shown_advice = str(app.screen.query_one("#export-advice").render())  # what the question shows
        assert f"backprop-tui '{scenario_path}'" in shown_advice
        await s.press("escape")  # escape: not now
