"""The explaining keys in the app: s (a step phase by phase), v (the notation), x (the explain
panel on or off), and [display] notation in the scenario. Each key press has its comment.
"""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from app_harness import drive, headless_trace, scenario_file
from trace_schema import validate_trace

from tui_backprop import load_scenario
from tui_backprop.engine.phases import phases
from tui_backprop.scenario.reader import loads_scenario
from tui_backprop.tui.app import BackpropApp

WIDE = (160, 45)

# (what the panels show after each phase of a 2-layer step): forward layers, loss, deltas,
# gradients, update -- each part appears in its phase and stays
EXPECTED = [
    # forward shows      loss   backward shows           gradients  update
    ({"z[1]"}, False, set(), False, False),
    ({"z[1]", "z[2]"}, False, set(), False, False),
    ({"z[1]", "z[2]"}, True, set(), False, False),
    ({"z[1]", "z[2]"}, True, {"delta[2]"}, False, False),
    ({"z[1]", "z[2]"}, True, {"delta[2]", "delta[1]"}, False, False),
    ({"z[1]", "z[2]"}, True, {"delta[2]", "delta[1]"}, True, False),
    ({"z[1]", "z[2]"}, True, {"delta[2]", "delta[1]"}, True, True),
]


def _shown(text: str, names: tuple[str, ...]) -> set[str]:
    """The blocks among ``names`` that the panel draws (a block's title line: its name, then │ or
    the end of the line)."""
    return {n for n in names if re.search(rf"^\s+{re.escape(n)}\s*(│|$)", text, re.MULTILINE)}


async def test_s_reveals_a_step_phase_by_phase_in_the_order_the_maths_computes_it():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=WIDE) as s:
        names = [p.name for p in phases(2)]
        assert names == [
            "forward, layer 1",
            "forward, layer 2",
            "loss",
            "output delta, layer 2",
            "hidden delta, layer 1",
            "gradients",
            "update",
        ]
        for n, (forward, loss, backward, gradients, update) in enumerate(EXPECTED, start=1):
            await s.press("s")  # s: the next phase (the first one takes step 1)
            assert app.trainer.step_count == 1 and app.reveal.index == n
            assert f"phase {n}/7: {names[n - 1]}" in s.header()
            panels = s.panels()
            assert _shown(panels["forward"], ("z[1]", "z[2]")) == forward, panels["forward"]
            assert ("batch loss" in panels["forward"]) == loss
            assert _shown(panels["backward"], ("delta[2]", "delta[1]")) == backward, panels["backward"]
            assert ("grad_w[1]" in panels["gradients"]) == gradients
            assert ("▼" in panels["weights"] or "▲" in panels["weights"]) == update
            explained = s.panel("explain")
            assert f"phase {names[n - 1]}" in explained  # the explain panel explains this phase
            assert "◂ this phase" in "".join(panels.values())  # and the panels mark its part
            assert app.query_one("#chart").steps == (1 if update else 0)  # the loss of a finished step
        await s.press("s")  # s: after the update, the next phase is the first of step 2
        assert app.trainer.step_count == 2 and app.reveal.index == 1


async def test_space_completes_a_step_taken_by_phases_and_the_trace_is_the_same(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(load_scenario("xor"), export_path=tmp_path / "phases.json")
    async with drive(app, size=WIDE) as s:
        await s.press(*["s"] * 7)  # s × 7: step 1, every phase
        await s.press("s", "s", "s")  # s × 3: step 2 up to its loss
        await s.press("space")  # space: completes step 2, takes no new step
        assert app.trainer.step_count == 2 and app.reveal.whole
        assert "▼" in s.panel("weights") or "▲" in s.panel("weights")
        await s.press("space")  # space: step 3, whole
        await s.press("s", "s")  # s s: step 4 in its second phase
        assert app.trainer.step_count == 4 and app.reveal.index == 2
        await s.press("e")  # e: export the 4 steps
        await s.until(lambda: app.last_export_path is not None, what="the export")
    assert (tmp_path / "phases.json").read_bytes() == headless_trace("xor", 4, tmp_path / "whole.json")


async def test_v_cycles_the_notation_and_the_titles_follow():
    app = BackpropApp(load_scenario("proportional_2_3_1"))
    async with drive(app, size=WIDE) as s:
        await s.press("space")  # space: step 1
        assert app.notation == "symbols" and "δ = ∂ℓ/∂z" in app.query_one("#backward").border_title
        await s.press("v")  # v: signals
        assert app.notation == "signals"
        assert "S_ERROR = FE·f′(S_preA,O)" in app.query_one("#backward").border_title
        assert "gradient_HtoO" in app.query_one("#gradients").border_title
        assert "weight_ItoH" in s.panel("explain")  # W[1][0,0] is selected: input to hidden
        await s.press("v")  # v: delta
        assert (
            app.notation == "delta" and "delta_0 = w·delta_1·f′(z)" in app.query_one("#backward").border_title
        )
        assert "∂E/∂w_0 = ∂E_k/∂z_0 · ∂z_0/∂w_0\n  = delta_0 · x" in s.panel("explain")
        await s.press("v")  # v: back to symbols
        assert app.notation == "symbols" and "∂L/∂w_ji" in s.panel("explain")


async def test_the_scenarios_display_notation_is_where_the_app_starts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the export goes there
    scenario = scenario_file(
        tmp_path,
        _bundled_text("proportional_2_3_1") + '\n[display]\nnotation = "signals"\n',
    )
    assert scenario.notation == "signals"
    app = BackpropApp(scenario)
    async with drive(app, size=WIDE) as s:
        assert app.notation == "signals" and "S_ERROR" in app.query_one("#backward").border_title
        await s.press("space", "e")  # space, e: a step, exported
        await s.until(lambda: app.last_export_path is not None, what="the export")
        trace = json.loads(app.last_export_path.read_text())
    assert trace["scenario"]["display"] == {"notation": "signals"}
    validate_trace(trace)
    # the default is not written: a format-1 file keeps its trace
    assert "display" not in load_scenario("xor").to_dict()


def _bundled_text(name: str) -> str:
    return resources.files("tui_backprop.scenarios").joinpath(f"{name}.toml").read_text("utf-8")


@pytest.mark.parametrize("notation", ["symbols", "signals", "delta"])
def test_display_notation_loads_each_value(notation):
    s = loads_scenario(_bundled_text("xor") + f'\n[display]\nnotation = "{notation}"\n')
    assert s.notation == notation


@pytest.mark.parametrize(
    "size", [(100, 30), (120, 35), (140, 40), (150, 40), (160, 45)], ids=lambda s: "x".join(map(str, s))
)
async def test_the_explain_panel_shows_at_160x45_and_x_switches_it_anywhere(size):
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=size) as s:
        await s.press("space")  # space: step 1
        explain, chart = app.query_one("#explain"), app.query_one("#chart")
        wide = size[0] >= 150
        assert explain.display == wide and chart.display
        await s.press("x")  # x: switch the explain panel
        assert explain.display != wide
        assert chart.display == wide  # below 150 columns it takes the chart's place
        if explain.display:
            assert explain.size.height >= 7 and explain.size.width >= 40  # as tall as the others
            assert "W[1][0,0] x1→h1" in s.screen() and "w_ji = " in s.screen()  # readable where it is
        for name in ("network", "forward", "backward", "gradients", "weights"):
            panel = app.query_one(f"#{name}")
            assert panel.size.height >= 7 and panel.size.width >= 40, (name, panel.size)
        await s.press("x")  # x: back as it was
        assert explain.display == wide


async def test_zooming_a_panel_that_shares_its_cell_shows_it_first():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(100, 30)) as s:
        await s.press("space")  # space: step 1
        explain, chart = app.query_one("#explain"), app.query_one("#chart")
        assert not explain.display
        await s.press("7")  # 7: zoom the explain panel, which was off at 100 columns
        assert explain.display and app.screen.maximized is explain
        assert "W[1][0,0] x1→h1" in s.screen()
        await s.press("7")  # 7: back
        await s.press("6")  # 6: zoom the chart, whose cell the explain panel had taken
        assert chart.display and app.screen.maximized is chart and not explain.display


async def test_the_help_legend_follows_the_notation():
    app = BackpropApp(load_scenario("mlp_error_signal"))
    async with drive(app, size=WIDE) as s:
        await s.press("v")  # v: signals
        await s.press("question_mark")  # ?: the help screen
        legend = str(app.screen.query_one("#help-text").render())
        assert "Notation: signals (v switches to symbols, delta)" in legend
        for name in ("S_preA,H", "S_postA,H", "S_ERROR", "FE", "weight_HtoO", "gradient_HtoO", "LR", "T"):
            assert re.search(rf"^\s+{re.escape(name)}\s", legend, re.MULTILINE), name
        assert "7 explain" in legend and "◂ this phase" in legend


async def test_reloading_a_file_with_another_notation_titles_the_new_panels_in_it(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(_bundled_text("xor"), encoding="utf-8")
    app = BackpropApp(load_scenario(str(path)))
    async with drive(app, size=WIDE) as s:
        assert app.notation == "symbols"
        path.write_text(_bundled_text("xor") + '\n[display]\nnotation = "delta"\n', encoding="utf-8")
        await s.press("R")  # R: reload the changed file
        await s.until(lambda: app.notation == "delta", what="the reload")
        assert "delta_0 = w·delta_1·f′(z)" in app.query_one("#backward").border_title


async def test_s_on_a_network_that_steps_in_a_worker_shows_the_first_phase_when_it_is_done():
    app = BackpropApp(load_scenario("xor"), background_steps=True)  # as a big network steps
    async with drive(app, size=WIDE) as s:
        await s.press("s")  # s: step 1 is computed in a worker, then shown from its first phase
        await s.until(lambda: not app.busy and app.record is not None, what="the worker's step")
        assert app.trainer.step_count == 1 and app.reveal.index == 1
        await s.press("s")  # s: the second phase, from the record already computed
        assert app.reveal.index == 2 and app.trainer.step_count == 1
        await s.press("space")  # space: completes step 1 (no new step)
        assert app.reveal.whole and app.trainer.step_count == 1
        await s.press("space")  # space: step 2, in the worker, shown whole
        await s.until(lambda: not app.busy and app.trainer.step_count == 2, what="step 2")
        assert app.reveal.whole
