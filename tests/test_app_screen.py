"""What a learner sees, beyond the numbers: the header from the first frame on, the exported path,
the help screen under the command palette, and the network diagram's labels and lines.

Each test runs the app headless through ``app_harness.drive`` with a comment on every key press.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_harness import Session, big_scenario_toml, drive, scenario_file, shows
from rich.text import Text
from textual.command import CommandInput, CommandList, CommandPalette

from tui_backprop import load_scenario
from tui_backprop.tui.app import BackpropApp, MainScreen
from tui_backprop.tui.panels.base import Panel
from tui_backprop.tui.panels.network import NetworkView
from tui_backprop.tui.screens.help import HelpScreen
from tui_backprop.tui.widgets.header import Header, display_path, elide_path
from tui_backprop.tui.widgets.numbers import style

# -- the header --------------------------------------------------------------------------------


async def test_the_header_uses_the_labels_of_its_width_from_the_first_frame(monkeypatch):
    drawn: list[str] = []
    update = Header.update

    def recording_update(self: Header, content: object = "", **kw: object) -> None:
        drawn.append(content.plain if isinstance(content, Text) else str(content))
        update(self, content, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Header, "update", recording_update)
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(140, 40)) as s:
        # everything the header was given, the content of the very first paint included
        assert drawn and all("epoch 1" in text and "train loss" in text for text in drawn), drawn[0]
        await s.pilot.resize_terminal(100, 30)  # narrower: the short labels
        await s.pilot.pause()
        assert re.search(r"\bep 1\b", s.header()) and "train loss" not in s.header()


@pytest.mark.parametrize(
    ("room", "shown"),
    [
        (60, "/home/ada/runs/2024/xor/xor-trace.json"),
        (30, "/home/a…024/xor/xor-trace.json"),
        (16, "…/xor-trace.json"),
        (15, "…xor-trace.json"),
        (10, "…race.json"),
    ],
)
def test_a_long_path_loses_the_middle_of_its_folder_first(room, shown):
    assert elide_path("/home/ada/runs/2024/xor/xor-trace.json", room) == shown
    assert len(shown) <= room


def test_an_exported_path_is_shown_relative_to_the_cwd_when_it_can_be(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "runs" / "t.json") == "runs/t.json"
    assert display_path(Path("/elsewhere/t.json")) == "/elsewhere/t.json"

    def gone() -> Path:
        raise FileNotFoundError("the working directory has been removed")

    monkeypatch.setattr(Path, "cwd", staticmethod(gone))
    assert display_path(tmp_path / "t.json") == str(tmp_path / "t.json")


async def test_the_header_shows_an_exported_path_short_enough_to_keep_its_file_name(tmp_path, monkeypatch):
    deep = tmp_path.joinpath(*[f"folder-{k}" for k in range(8)])
    deep.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the trace goes outside the cwd: the path stays absolute
    # a regression: a classifier's header also holds its accuracy, which leaves the path less room
    app = BackpropApp(load_scenario("linear_neuron_full"), export_path=deep / "a-rather-long-trace-name.json")
    async with drive(app) as s:
        await s.press("space", "e")  # space, e: step 1, export to the deep path
        await s.until(lambda: app.last_export_path is not None, what="the export")
        line = s.header().splitlines()[1].rstrip()
        assert line.endswith("/a-rather-long-trace-name.json"), line  # the file name is whole
        assert "exported /" in line and "…" in line  # the folder lost its middle
        assert s.noted(f"trace written to {deep / 'a-rather-long-trace-name.json'}")  # in full
        await s.pilot.resize_terminal(100, 30)  # narrower: less room, the name still whole
        await s.pilot.pause()
        line = s.header().splitlines()[1].rstrip()
        assert re.search(r"saved /?…/?a-rather-long-trace-name\.json$", line), line

    monkeypatch.chdir(tmp_path)  # inside the cwd: relative to it
    app = BackpropApp(load_scenario("xor"), export_path=tmp_path / "folder-0")
    async with drive(app, size=(140, 40)) as s:
        await s.press("space", "e")  # space, e: step 1, export into folder-0
        await s.until(lambda: app.last_export_path is not None, what="the export")
        assert "exported folder-0/xor-trace.json" in s.header().splitlines()[1]


# -- the command palette over the help screen ------------------------------------------------


async def run_command(s: Session, explanation: str) -> None:
    """Run the palette's command ``explanation``: ctrl+p, its text as the search, enter."""
    await s.pilot.press("ctrl+p")  # ctrl+p: the command palette, over whatever screen is on top
    await s.until(lambda: isinstance(s.app.screen, CommandPalette), what="the palette")
    s.app.screen.query_one(CommandInput).value = explanation  # the search

    def first() -> str:
        options = s.app.screen.query_one(CommandList)
        index = options.highlighted
        return "" if index is None else str(options.get_option_at_index(index).prompt).split("\n")[0]

    await s.until(lambda: first() == explanation, timeout=5, what=f"{explanation!r} highlighted")
    await s.pilot.press("enter")  # enter: run it
    await s.until(lambda: not isinstance(s.app.screen, CommandPalette), what="the palette to close")
    await s.pilot.pause()


def helps(app: BackpropApp) -> int:
    return sum(isinstance(screen, HelpScreen) for screen in app.screen_stack)


async def test_a_palette_command_run_over_the_help_closes_it_and_acts_on_the_main_screen():
    app = BackpropApp(load_scenario("xor"))
    help_of = {action: explanation for action, _, explanation in app.key_help()}
    async with drive(app) as s:
        await s.press("question_mark")  # ?: help
        await run_command(s, help_of["step"])  # the palette over the help: one step
        assert isinstance(app.screen, MainScreen) and helps(app) == 0
        assert app.trainer.step_count == 1 and app.record.step == 1

        await s.press("question_mark")  # ?: help again
        await run_command(s, help_of["zoom('network')"])  # zoom, from over the help
        assert isinstance(app.screen, MainScreen) and helps(app) == 0
        assert app.screen.maximized is app.query_one("#network")
        await s.press("1")  # 1: back from the zoom

        await s.press("question_mark")  # ?: help again
        await run_command(s, help_of["cycle(1)"])  # select mode, from over the help
        assert isinstance(app.screen, MainScreen) and app.selection.mode == "node"


async def test_the_palettes_help_command_toggles_the_help_and_never_stacks_it():
    app = BackpropApp(load_scenario("xor"))
    help_of = {action: explanation for action, _, explanation in app.key_help()}
    async with drive(app) as s:
        await run_command(s, help_of["help"])  # Help from the main screen: opens it
        assert isinstance(app.screen, HelpScreen) and helps(app) == 1
        await run_command(s, help_of["help"])  # Help over the help: closes it
        assert isinstance(app.screen, MainScreen) and helps(app) == 0
        await s.press("question_mark")  # ?: opens it
        await run_command(s, help_of["help"])  # Help: closes it
        assert isinstance(app.screen, MainScreen) and len(app.screen_stack) == 1
        assert app.trainer.step_count == 0


# -- the network diagram -----------------------------------------------------------------------

DATA = Path(__file__).parent / "data"
BRAILLE = "\u2800-\u28ff"
TOUCHING = re.compile(rf"[{BRAILLE}][^\s{BRAILLE}]|[^\s{BRAILLE}][{BRAILLE}]")


def diagram_cells(app: BackpropApp) -> list[list[tuple[str, object]]]:
    """The network panel as drawn: one list a line of (character, style)."""
    view = app.query_one(NetworkView)
    rows = []
    for line in view.build_lines(view.scrollable_content_region.width):
        cells: list[tuple[str, object]] = [(ch, None) for ch in line.plain]
        for span in line.spans:
            for k in range(span.start, span.end):
                cells[k] = (cells[k][0], span.style)
        rows.append(cells)
    return rows


@pytest.mark.parametrize(
    "scenario, size",
    [  # every network at the smallest and the largest size; the two extremes at every size
        *[(name, size) for name in ("xor", "big") for size in ((80, 24), (100, 30), (140, 40), (160, 45))],
        *[
            (name, size)
            for name in ("proportional_2_3_1", "mlp_error_signal", "softmax")
            for size in ((80, 24), (160, 45))
        ],
    ],
    ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else v,
)
async def test_lines_of_the_network_never_touch_a_label(tmp_path, scenario, size):
    if scenario == "big":
        loaded = scenario_file(tmp_path, big_scenario_toml())
    else:
        loaded = load_scenario(DATA / "softmax_minibatch.toml" if scenario == "softmax" else scenario)
    app = BackpropApp(loaded)
    async with drive(app, size=size) as s:
        for _ in range(2):
            text = s.panel("network")
            lines = text.splitlines()
            width = app.query_one(NetworkView).scrollable_content_region.width
            assert len(lines[0]) <= width, lines[0]  # the sample line is never cut
            for line in lines:
                assert not TOUCHING.search(line), f"a line touches a label:\n{text}"
            names = [
                n for layer in app.net.names for n in layer if layer is app.net.names[-1] or len(layer) <= 12
            ]
            for name in names:  # every node's label is there, whole
                assert re.search(rf"(?<!\S){re.escape(name)} +(\S+)(?!\S)", text), f"{name}:\n{text}"
            if app.net.bias:  # a bias unit for every layer but the output, side by side on one row
                assert [line.count("+1 bias") for line in lines if "+1 bias" in line] == [app.net.depth]
            await s.press("space")  # space: one step, and the same again with values
        rec = app.record
        for j, name in enumerate(app.net.names[-1]):  # the output nodes show a for sample k=0
            value = re.search(rf"(?<!\S){re.escape(name)} +(\S+)", s.panel("network"))[1]
            assert shows(value, rec.layers[-1].a[0, j]), name


async def test_the_diagram_colours_lines_by_sign_and_marks_the_selected_weight():
    app = BackpropApp(load_scenario("xor_identity_worked"))  # every weight and bias is +1
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        await s.press("down", "right")  # down, right: W[1][1,1] x2→h2
        cells = diagram_cells(app)
        dots = {st for row in cells for ch, st in row if "\u2800" <= ch <= "\u28ff"}
        assert dots <= {style("pos"), style("neg"), style("marked")} and style("marked") in dots

        def label_style(name: str) -> object:
            for row in cells:
                line = "".join(ch for ch, _ in row)
                if (m := re.search(rf"(?<!\S){re.escape(name)}(?!\S)", line)) is not None:
                    return row[m.start()][1]
            raise AssertionError(name)

        assert label_style("x2").color == style("marked").color  # the two ends of the weight
        assert label_style("h2").color == style("marked").color
        assert label_style("x1").color != style("marked").color
        await s.press("right")  # right: past x2, the bias b[1][1] (its line leaves the +1 bias unit)
        cells = diagram_cells(app)
        bias_row = next(row for row in cells if "+1 bias" in "".join(ch for ch, _ in row))
        first = "".join(ch for ch, _ in bias_row).index("+1 bias")
        assert bias_row[first][1] == style("marked")


# -- small things a learner sees -------------------------------------------------------------


async def test_before_the_first_step_every_panel_fits_its_hint_at_100x30():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(100, 30)) as s:
        for name in ("network", "forward", "backward", "gradients", "weights"):
            width = app.query_one(f"#{name}", Panel).scrollable_content_region.width
            for line in s.panel(name).splitlines():
                assert len(line.rstrip()) <= width, f"{name}: {line!r} is cut at {width}"
        assert "space: take the first step. Then z and a of" in s.panel("forward")


@pytest.mark.parametrize("size", [(100, 30), (160, 45)], ids=["100x30", "160x45"])
@pytest.mark.parametrize("name", ["xor", "mlp_error_signal"])
async def test_the_loss_charts_title_fits_its_border(size, name):
    app = BackpropApp(load_scenario(name))
    async with drive(app, size=size) as s:
        title = Text.from_markup(str(app.query_one("#chart").border_title)).plain
        assert title.startswith("6 loss") and title in s.screen()  # whole, the form that fits
        if name == "mlp_error_signal":  # 3 inputs: no decision boundary beside the chart
            assert "6 loss: • batch  ─ training set" in s.screen()


async def test_an_underlined_column_underlines_its_numbers_not_the_gap_before_them():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1; W[1][0,0] is selected: columns x1 and h1 are related
        for name in ("forward", "backward"):
            panel = app.query_one(f"#{name}", Panel)
            underlined = [
                line.plain[span.start : span.end]
                for line in panel.build_lines(panel.scrollable_content_region.width)
                for span in line.spans
                if not isinstance(span.style, str) and span.style.underline
            ]
            assert underlined and all(text == text.strip() for text in underlined), underlined


def weight_changes(app: BackpropApp) -> list[float]:
    """Δ of every weight and bias the weights panel lists, in its order (j, then i, then b)."""
    rec = app.record
    assert rec is not None
    out = []
    for lr in rec.layers:
        for j in range(lr.dw.shape[0]):
            out.extend([*map(float, lr.dw[j]), *([float(lr.db[j])] if app.scenario.bias else [])])
    return out


@pytest.mark.parametrize(
    ("name", "steps"),
    [("xor", 560), ("iris", 300)],  # xor just before it stops; iris, whose node names are long
)
async def test_the_change_of_every_weight_is_whole_on_screen_at_160x45(name, steps):
    app = BackpropApp(load_scenario(name))
    async with drive(app, size=(160, 45)) as s:
        app.trainer.run(steps - 1, record=False)  # the steps before, not drawn
        await s.press("space")  # space: the last step, drawn
        panel = app.query_one("#weights", Panel)
        region = panel.scrollable_content_region
        lines = panel.text.splitlines()
        # every line fits the panel: nothing to scroll sideways to, nothing cut at its edge
        assert panel.virtual_size.width <= region.width
        assert all(len(line.rstrip()) <= region.width for line in lines), region.width
        # Δ ends each line with an arrow, printed whole (e-notation for iris's small changes)
        shown = [line.split()[-1] for line in lines if re.search(r"[▲▼] ", line)]
        changes = [c for c in weight_changes(app) if c]
        assert len(shown) == len(changes)
        assert all(shows(text, c) for text, c in zip(shown, changes, strict=True)), shown
        assert any("e-" in text for text in shown) == (name == "iris")
        # and the lines in view are on the screen as the panel has them
        screen = s.screen().splitlines()
        top = round(panel.scroll_y)
        for y in range(min(region.height, len(lines) - top)):
            row = screen[region.y + y][region.x : region.x + region.width]
            assert row.rstrip() == lines[top + y].rstrip()


async def test_the_diagrams_kept_weight_lines_are_the_lines_drawn_afresh():
    """The diagram draws its weights' lines again only when what they show changes (the
    NetworkView keeps the last canvas of them): after every step, selection and sample move,
    what it shows is what a diagram with nothing kept draws."""
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        view = app.query_one(NetworkView)
        width = view.scrollable_content_region.width
        redrawn, previous = 0, None
        for keys in ["space"] * 30 + ["down", "right", "space", "right", "space", "up", "tab", "space"] * 3:
            await s.press(keys)
            kept = view.build_lines(width)
            assert view._weights is not None
            redrawn += view._weights[0] != previous  # the lines changed: drawn again
            previous = view._weights[0]
            view._weights = None  # nothing kept: every line drawn
            fresh = view.build_lines(width)
            assert [line.plain for line in kept] == [line.plain for line in fresh], keys
            assert [line.spans for line in kept] == [line.spans for line in fresh], keys
        assert 0 < redrawn < 54  # the weights' lines were kept on most steps, not on all
