"""Hand precision in the app: with [display] digits (or --digits) the explain panel shows the
selected number as the step computed it and as the tutor's hand calculation gives it."""

from __future__ import annotations

from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.engine import Trainer
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.selection import Selection
from tui_backprop.tui.panels.hand_text import hand_lines
from tui_backprop.tutor.rounding import hand_values


def test_the_lines_say_both_numbers_and_how_far_rounding_moved_them():
    scenario = load_scenario("mlp_error_signal")
    record = Trainer(scenario, history=1).step()
    hand = hand_values(record, scenario.loss, 3)
    exact, mine = record.layers[1].w[0, 2], hand["w[2]"][0, 2]
    lines = [s for s, _ in hand_lines(record, Selection(mode="weight", layer=2, j=0, i=2), 3, hand)]
    assert (
        f"w[2][0, 2] = {mine:.3g} by hand, {exact:.10g} exact: rounding moved it by {mine - exact:+.2g}"
        in lines
    )
    node = [s for s, _ in hand_lines(record, Selection(mode="node", node_layer=1, node=2), 3, hand)]
    assert any(s.startswith(f"delta[1][0, 2] = {hand['delta[1]'][0, 2]:.3g} by hand") for s in node)
    said = hand_lines(record, Selection(mode="sample"), 3, "too big a step")
    assert said[-1] == ("too big a step", "dim")


async def test_the_explain_panel_shows_the_hand_step():
    scenario = load_scenario("mlp_error_signal", [parse_set("display.digits=3")])
    app = BackpropApp(scenario)
    async with drive(app, size=(160, 45)) as s:
        await s.press("space")  # space: step 1
        text = " ".join(s.panel("explain").split())
        assert "by hand, every number rounded to 3 significant digits" in text
        record = app.trainer.current_record()
        hand = hand_values(record, scenario.loss, 3)
        assert f"grad_w[1][0, 0] = {hand['grad_w[1]'][0, 0]:.3g} by hand" in text
