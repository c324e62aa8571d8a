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


async def test_the_keys_are_made_in_the_footers_style_and_follow_it(monkeypatch):
    """Each key is made as compact as the footer: on the first frame its watcher sees that value
    once, as the reactive's first (Textual's keys start compact, and the binding would then
    restyle them one by one, twice the watching); the command palette's key,
    which Textual binds to nothing, stays compact; the keys follow the footer across 120 columns."""
    from textual.widgets._footer import FooterKey

    restyled = []
    watch = FooterKey._watch_compact

    def seen(key, compact):
        restyled.append((key.key, compact))
        watch(key, compact)

    monkeypatch.setattr(FooterKey, "_watch_compact", seen)

    def keys(app):
        bound = [k for k in app.query(FooterKey) if not k.has_class("-command-palette")]
        palette = app.query_one("FooterKey.-command-palette", FooterKey)
        return bound, palette

    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(160, 30)) as s:
        bound, palette = keys(app)
        assert len(bound) >= 10
        assert sorted(restyled) == sorted([(k.key, False) for k in bound] + [(palette.key, True)])
        assert all(not k.compact and not k.has_class("-compact") for k in bound)
        assert palette.compact and palette.has_class("-compact")
        before = s.screen()
        await s.pilot.resize_terminal(110, 30)
        await s.pilot.pause()
        bound, _ = keys(app)
        assert all(k.compact and k.has_class("-compact") for k in bound)
        await s.pilot.resize_terminal(160, 30)
        await s.pilot.pause()
        bound, _ = keys(app)
        assert all(not k.compact and not k.has_class("-compact") for k in bound)
        assert footer(s.screen()) == footer(before)
