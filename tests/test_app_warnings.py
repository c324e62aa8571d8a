"""The engine's diagnostics in the app: the warnings bar under the header, the list in the
explain panel, and the named nodes marked in the network diagram. The diagnostics themselves
are the engine's (tests/test_diagnostics.py); here, that the app shows the record's.
"""

from __future__ import annotations

import dataclasses
import re

from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.engine.diagnostics import Diagnostic
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.network import NetworkView
from tui_backprop.tui.widgets.numbers import style
from tui_backprop.tui.widgets.warning_text import warning_line

WIDE = (160, 45)


def label_style(app: BackpropApp, name: str) -> object:
    """The style of a node's label in the network diagram."""
    view = app.query_one(NetworkView)
    for line in view.build_lines(view.scrollable_content_region.width):
        if (m := re.search(rf"(?<!\S){re.escape(name)}(?!\S)", line.plain)) is not None:
            return line.get_style_at_offset(app.console, m.start())
    raise AssertionError(name)


async def test_a_steps_warnings_show_under_the_header_in_the_explain_panel_and_on_the_nodes():
    # every weight 1: the three hidden units are copies and stay copies (identical_units)
    app = BackpropApp(load_scenario("xor_identity_worked"))
    async with drive(app, size=WIDE) as s:
        bar = app.query_one("#warnings")
        assert not bar.display  # step 0: nothing to say
        await s.press("space")  # space: step 1
        warnings = app.record.warnings
        kinds = [d.kind for d in warnings]
        assert "identical_units" in kinds, kinds
        first = warnings[0]
        assert bar.display
        screen = s.screen()
        assert f"⚠ {first.kind}" in screen.splitlines()[2]  # the line under the header
        if len(warnings) > 1:
            assert f"+{len(warnings) - 1} more" in screen
        explained = s.panel("explain")
        assert "warnings of step 1" in explained
        for d in warnings:  # every one, with its layer and node names
            assert warning_line(d, app.net).split(":")[0] in explained
        copies = next(d for d in warnings if d.kind == "identical_units")
        names = [app.net.names[copies.layer][n] for n in copies.nodes]
        assert f"layer {copies.layer} ({', '.join(names)})" in explained
        # W[1][0,0] is selected, so h1 is marked as its end; the other copies carry the warning
        for n in copies.nodes:
            name = app.net.names[copies.layer][n]
            if name != "h1":
                assert label_style(app, name) == style("warn", ("node", copies.layer, n)), name
        await s.press("b")  # b: back to step 0, no warnings
        assert not bar.display


async def test_a_step_without_warnings_shows_no_bar():
    app = BackpropApp(load_scenario("proportional_2_3_1"))
    async with drive(app, size=WIDE) as s:
        await s.press("space")  # space: step 1
        assert app.record.warnings == ()
        assert not app.query_one("#warnings").display
        assert "warnings of step" not in s.panel("explain")


async def test_the_bar_counts_the_others_and_names_nodes_of_any_layer():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(100, 30)) as s:
        await s.press("space")  # space: step 1
        found = (
            Diagnostic("saturated", 2, (0,), "Layer 2: unit 1 is saturated."),
            Diagnostic("loss_rising", None, (), "The loss rose."),
            Diagnostic("dead_relu", 1, (0, 2), "Layer 1: units 1 and 3 are dead."),
        )
        app.show_record(dataclasses.replace(app.record, warnings=found))  # the app draws what a record says
        await s.pilot.pause()
        line = s.screen().splitlines()[2]
        assert line.startswith(" ⚠ saturated · layer 2 (y) (+2 more in the explain panel): Layer 2")
        explained = s.panel("explain")
        assert "⚠ loss_rising: The loss rose." in explained
        assert "⚠ dead_relu · layer 1 (h1, h3): Layer 1: units 1 and 3 are dead." in explained
        assert label_style(app, "h3") == style("warn", ("node", 1, 2))
        assert label_style(app, "y") == style("warn", ("node", 2, 0))
