"""Snapshots of the whole screen (pytest-textual-snapshot): xor and proportional_2_3_1 after a few
steps, at the two sizes of DESIGN section 7 (readable at 100x30, better at 160x45), and xor at
step 0, where the explain panel shows the scenario.

DESIGN 9 warns that a snapshot test can pass on an app that crashed, so each test also asserts
that the app raised nothing and ended cleanly, and checks its state beside the picture
(STYLE 12). (With pytest-textual-snapshot 1.1.0 and Textual 8, a crash before the screenshot
already fails inside ``take_svg_screenshot``, which gets no SVG back; the asserts keep that
true whatever the plugin version does.)

Regenerate with ``pytest tests/test_app_snapshots.py --snapshot-update`` and look at the SVGs
under tests/__snapshots__/ (``rsvg-convert x.svg -o x.png``) before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tui_backprop import load_scenario
from tui_backprop.tui.app import BackpropApp

STEPS = 3


async def three_steps_and_a_selection(pilot: Pilot) -> None:
    await pilot.press("space")  # space: step 1
    await pilot.press("space")  # space: step 2
    await pilot.press("n")  # n: step 3
    await pilot.press("down")  # down: select the weight into the second hidden node, W[1][1,0]
    await pilot.press("right")  # right: and the one from the second input, W[1][1,1]
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (160, 45)], ids=["100x30", "160x45"])
@pytest.mark.parametrize("scenario", ["xor", "proportional_2_3_1"])
def test_app_after_three_steps(snap_compare, monkeypatch, scenario, size):
    monkeypatch.delenv("NO_COLOR", raising=False)  # read when the app is made: colours on
    app = BackpropApp(load_scenario(scenario))

    assert snap_compare(app, terminal_size=size, run_before=three_steps_and_a_selection)

    assert app._exception is None, f"the app raised {app._exception!r}"
    assert app.return_code == 0  # the screenshot helper exits with 0 after a clean run
    assert app.trainer.step_count == STEPS and app.record is not None and app.record.step == STEPS
    sel = app.selection
    assert (sel.mode, sel.layer, sel.j, sel.i) == ("weight", 1, 1, 1)


async def two_steps_then_phases_of_the_third(pilot: Pilot) -> None:
    await pilot.press("space")  # space: step 1
    await pilot.press("space")  # space: step 2
    await pilot.press("tab")  # tab: select a node (input x1)
    await pilot.press("right")  # right: the hidden layer, h1
    await pilot.press("v")  # v: the signals notation
    for _ in range(5):
        await pilot.press("s")  # s × 5: step 3 up to the hidden layer's delta (phase 5 of 7)
    await pilot.pause()


def test_app_phase_by_phase_in_signals_notation(snap_compare, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("proportional_2_3_1"))

    assert snap_compare(app, terminal_size=(160, 45), run_before=two_steps_then_phases_of_the_third)

    assert app._exception is None, f"the app raised {app._exception!r}"
    assert app.return_code == 0
    assert app.trainer.step_count == 3 and app.reveal.index == 5 and app.notation == "signals"
    assert (app.selection.mode, app.selection.node_layer, app.selection.node) == ("node", 1, 0)


async def three_hundred_steps_then_zoom_the_boundary(pilot: Pilot) -> None:
    pilot.app.trainer.run(299, record=False)  # 299 steps without drawing (the same as f pressed 3 times)
    await pilot.press("space")  # space: step 300, drawn
    await pilot.press("8")  # 8: zoom the decision boundary
    await pilot.pause()


@pytest.mark.parametrize("zoomed", [False, True], ids=["grid", "zoomed"])
def test_decision_boundary_of_circle(snap_compare, monkeypatch, zoomed):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("circle"))

    seen: dict[str, bool] = {}

    async def run_before(pilot: Pilot) -> None:
        await three_hundred_steps_then_zoom_the_boundary(pilot)
        if not zoomed:
            await pilot.press("8")  # 8: back to every panel, the boundary beside the loss chart
            await pilot.pause()
        boundary = app.query_one("#boundary")
        seen.update(shown=boundary.display, zoomed=app.screen.maximized is boundary)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)

    assert app._exception is None, f"the app raised {app._exception!r}"
    assert app.return_code == 0
    assert app.trainer.step_count == 300 and app.record is not None and app.record.step == 300
    assert seen == {"shown": True, "zoomed": zoomed}


def test_app_at_step_0_shows_the_scenario(snap_compare, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("xor"))

    explained: list[str] = []

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()  # nothing pressed: the screen a learner opens on
        explained.append(app.query_one("#explain").text)

    assert snap_compare(app, terminal_size=(160, 45), run_before=run_before)

    assert app._exception is None, f"the app raised {app._exception!r}"
    assert app.return_code == 0
    assert app.trainer.step_count == 0 and app.record is None
    assert explained[0].startswith(app.scenario.name + "\nA sigmoid network that really learns XOR")


@pytest.mark.parametrize("key", ["9", "1"], ids=["heatmaps", "network"])
def test_neuron_heatmaps_of_circle_after_training(snap_compare, monkeypatch, key):
    """Every hidden unit of circle over the input plane after 300 steps: the zoom 9 (h1 larger,
    with the training points), and the network zoomed (1), a small map beside each node."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("circle"))

    seen: dict[str, object] = {}

    async def run_before(pilot: Pilot) -> None:
        pilot.app.trainer.run(299, record=False)  # 299 steps without drawing (f pressed 3 times)
        await pilot.press("space")  # space: step 300, drawn
        await pilot.press(key)  # 9: the neuron heatmaps of layer 1 (h1 selected); 1: the network
        await pilot.pause()
        seen.update(
            zoomed=app.screen.maximized.id if app.screen.maximized else None,
            shown=app.query_one("#heatmaps").shown,
            map_rows=app.query_one("#network").map_rows,
        )

    assert snap_compare(app, terminal_size=(140, 40), run_before=run_before)

    assert app._exception is None, f"the app raised {app._exception!r}"
    assert app.return_code == 0
    assert app.trainer.step_count == 300 and app.record is not None and app.record.step == 300
    if key == "9":
        assert seen["zoomed"] == "heatmaps" and seen["shown"] == (1, 0)
    else:
        assert seen["zoomed"] == "network" and seen["map_rows"] >= 3
