"""The neuron view's key (w) says what it needs when the selection has no incoming weights: a
sample is not an input node, and the message says so and what w needs. Each key has its comment.
"""

from __future__ import annotations

from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.screens.neuron import NeuronScreen

NEEDS = "w shows a neuron's incoming weights: select a node of layer 1 or later, or a weight"


async def test_w_with_a_sample_selected_says_what_w_needs():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "tab", "tab")  # space, tab x2: a step, then select a sample
        assert app.selection.mode == "sample"
        await s.press("w")  # w: a sample has no incoming weights
        assert not isinstance(app.screen, NeuronScreen)
        (note,) = s.notes
        assert note.message == f"{NEEDS} (tab switches; a sample is selected now)"
        assert "input" not in note.message


async def test_w_on_an_input_node_names_it_and_the_way_on():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("tab")  # tab: node mode, on the input x1
        await s.press("down", "w")  # down, w: the input x2 has no incoming weights
        assert not isinstance(app.screen, NeuronScreen)
        assert (
            s.notes[-1].message
            == f"{NEEDS} (the input x2 has no incoming weights; right moves on to layer 1)"
        )
        await s.press("right", "w")  # right, w: a hidden node, whose view opens
        assert isinstance(app.screen, NeuronScreen)


async def test_w_with_a_weight_selected_opens_the_neuron_it_goes_into():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("w")  # w: the selected weight W[1][0,0] goes into h1
        assert isinstance(app.screen, NeuronScreen) and "neuron h1" in s.screen()
        assert not s.notes
