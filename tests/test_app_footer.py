"""What the footer offers at each width: every key it shows fits at 80 columns, x (the explain
panel, the only way to see it below 150 columns) is there from 100 columns on, and a variant
opened from the comparison shows escape from 150 on (its header says it at every width).
"""

from __future__ import annotations

import pytest
from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.engine import Trainer
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.variant_app import VariantApp

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
