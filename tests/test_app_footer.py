"""What the footer offers at each width: every key it shows fits at 80 columns, x (the explain
panel, the only way to see it below 150 columns) is there from 100 columns on, and a variant
opened from the comparison shows escape from 150 on (its header says it at every width).
"""

from __future__ import annotations

import pytest
from app_harness import drive
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Static

from tui_backprop import load_scenario
from tui_backprop.engine import Trainer
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.variant_app import VariantApp
from tui_backprop.tui.widgets.footer import AppFooter

KEYS = ["tab Select", "space Step", "b Back", "p Play", "f +100", "r Reset", "e Export", "? Help", "q Quit"]


def footer(screen: str) -> str:
    return " ".join(screen.splitlines()[-1].split())


@pytest.mark.parametrize("width, explain", [(80, False), (100, True), (140, True), (160, True)])
async def test_x_shows_in_the_footer_from_100_columns_and_every_key_fits(width, explain):
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(width, 30)) as s:
        line = footer(s.screen())
        assert all(key in line for key in KEYS), line  # q Quit is whole: nothing is cut
        assert ("x Explain" in line) == explain
        if explain:  # (below 100 columns the panels stack, the explain panel among them)
            panel = app.query_one("#explain")
            assert bool(panel.region.width) == (width >= 150)  # beside forward from 150 columns on
            await s.press("x")  # x: the explain panel on (in the chart's place) or, from 150, off
            assert bool(panel.region.width) == (width < 150)


async def test_the_footer_follows_a_resize():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(140, 30)) as s:
        assert "x Explain" in footer(s.screen())
        await s.pilot.resize_terminal(80, 30)
        await s.pilot.pause()
        assert "x Explain" not in footer(s.screen()) and "q Quit" in footer(s.screen())


@pytest.mark.parametrize("width", [80, 100, 140, 160])
async def test_a_variant_says_how_to_go_back_at_every_width(width):
    variant = load_variants("xor", [], parse_vary("training.learning_rate=0.1,1"))[1]
    app = VariantApp(variant, Trainer(variant.scenario, history=1))
    async with drive(app, size=(width, 30)) as s:
        assert "escape: back" in s.header()
        line = footer(s.screen())
        assert "q Quit" in line
        assert ("esc Comparison" in line) == (width >= 150)


# -- the one-widget footer against Textual's ------------------------------------------------


class FooterApp(App):
    """Keys as the app's footer shows them, one disabled, drawn by Textual's Footer or AppFooter."""

    BINDINGS = [
        Binding("s", "noop('s')", "Select", tooltip="Select a weight"),
        Binding("space,n", "noop('space')", "Step", tooltip="One step"),
        Binding("b", "back", "Back", tooltip="Undo a step"),  # disabled (check_action)
        Binding("question_mark", "noop('?')", "Help"),
        Binding("k", "noop('k')", "Hidden", show=False),
        Binding("q", "noop('q')", "Quit", tooltip="Leave"),
    ]

    def __init__(self, textual: bool) -> None:
        super().__init__()
        self.textual, self.pressed = textual, []

    def compose(self):
        yield Static("body")
        if self.textual:
            yield Footer(compact=self.size.width < 120, show_command_palette=self.size.width >= 100)
        else:
            footer = AppFooter()
            footer.fit(self.size.width)
            yield footer

    def check_action(self, action, parameters):
        return None if action == "back" else True

    def action_noop(self, name):
        self.pressed.append(name)


def footer_cells(app: App) -> list[tuple[str, str]]:
    """The footer's line as the compositor draws it: each cell's character and Rich style."""
    strip = app.screen._compositor.render_strips()[-1]
    return [(ch, str(seg.style)) for seg in strip for ch in seg.text]


@pytest.mark.parametrize("width", [80, 99, 100, 119, 120, 160])
async def test_the_footer_draws_the_cells_textuals_footer_draws(width):
    """Every character and style of the line: spacing (compact below 120 columns), the
    disabled key dimmed, the hidden binding left out, the command palette's key and its rule."""
    lines = []
    for textual in (True, False):
        app = FooterApp(textual)
        async with app.run_test(size=(width, 5)) as pilot:
            await pilot.pause(0.1)  # Textual's footer mounts its keys after the first bindings change
            lines.append(footer_cells(app))
    assert "Select" in "".join(ch for ch, _ in lines[0]) and "Hidden" not in "".join(ch for ch, _ in lines[0])
    assert lines[1] == lines[0]


async def test_a_click_presses_a_key_and_a_disabled_one_rings_the_bell(monkeypatch):
    app = FooterApp(textual=False)
    async with app.run_test(size=(160, 5)) as pilot:
        footer = app.query_one(AppFooter)
        line = "".join(ch for ch, _ in footer_cells(app))
        bells = []
        monkeypatch.setattr(app, "bell", lambda: bells.append(1))
        await pilot.click(AppFooter, offset=(line.index("Step"), 0))
        await pilot.click(AppFooter, offset=(line.index("space"), 0))
        await pilot.click(AppFooter, offset=(line.index("Quit"), 0))
        assert app.pressed == ["space", "space", "q"] and bells == []
        await pilot.click(AppFooter, offset=(line.index("Back"), 0))
        assert bells == [1] and app.pressed == ["space", "space", "q"]
        await pilot.click(AppFooter, offset=(line.index("Quit") + 6, 0))  # between two keys: nothing
        assert app.pressed == ["space", "space", "q"] and bells == [1]
        assert footer.places[-1].key.action == "command_palette"


async def test_the_key_under_the_mouse_is_highlighted_with_its_tooltip():
    app = FooterApp(textual=False)
    async with app.run_test(size=(160, 5)) as pilot:
        footer = app.query_one(AppFooter)
        plain = footer_cells(app)
        line = "".join(ch for ch, _ in plain)
        at = line.index("Step")
        await pilot.hover(AppFooter, offset=(at, 0))
        await pilot.pause()
        assert footer.hovered == "noop('space')"
        assert footer.tooltip == "One step"
        lit = footer_cells(app)
        changed = [i for i, (a, b) in enumerate(zip(plain, lit, strict=True)) if a != b]
        place = next(p for p in footer.places if p.key.description == "Step")
        assert changed == list(range(place.start, place.end))  # the key, its description and no more
        await pilot.hover(AppFooter, offset=(line.index("Help"), 0))
        await pilot.pause()
        assert footer.tooltip is None  # a binding without one
        await pilot.hover(Static)
        await pilot.pause()
        assert footer.hovered is None and footer_cells(app) == plain


async def test_the_command_palettes_key_is_highlighted_too():
    app = FooterApp(textual=False)
    async with app.run_test(size=(120, 5)) as pilot:
        footer = app.query_one(AppFooter)
        plain = footer_cells(app)
        at = "".join(ch for ch, _ in plain).index("^p")
        await pilot.hover(AppFooter, offset=(at, 0))
        await pilot.pause()
        assert footer.hovered == "command_palette" and footer.tooltip
        changed = [i for i, (a, b) in enumerate(zip(plain, footer_cells(app), strict=True)) if a != b]
        assert changed and min(changed) > at - 2 and max(changed) < 120
