"""The weights panel's title gives the update rule the run applies: gradient descent, momentum,
adam, or the proportional split (error_split = "proportional"), in each notation; and the numbers
of a step follow the rule its title gives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.engine.activations import get_activation
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.tui.app import BackpropApp

DATA = Path(__file__).parent / "data"


def title(app: BackpropApp) -> str:
    return str(app.query_one("#weights").border_title)


@pytest.mark.parametrize(
    "scenario, sets, rules",
    [
        ("xor", [], ["W ← W − η·∂L/∂W", "weight −= LR·gradient", "w ← w − α·∂E/∂w"]),
        (
            "proportional_2_3_1_split",
            [],
            ["W ← W + η·(e ⊙ f′(z))ᵀ·a / B", "weight += LR·e·f′(S_preA)·S_postA", "w ← w + α·e·f′(z)·a"],
        ),
        (str(DATA / "momentum_l2.toml"), [], ["W ← W − η·v, v ← μ·v + ∂L/∂W"]),
        (str(DATA / "adam_l2.toml"), [], ["W ← W − η·m̂/(√v̂ + ε)"]),
        (
            "proportional_2_3_1_split",
            ["training.optimizer=momentum"],
            ["W ← W − η·v, v ← μ·v − (e ⊙ f′(z))ᵀ·a / B"],
        ),
    ],
    ids=["gd", "split", "momentum", "adam", "split-momentum"],
)
async def test_the_title_names_the_rule_applied_in_every_notation(scenario, sets, rules):
    app = BackpropApp(load_scenario(scenario, [parse_set(s) for s in sets]))
    async with drive(app, size=(160, 45)) as s:
        for n, rule in enumerate(rules):
            if n:
                await s.press("v")  # v: the next notation
            assert title(app) == f"5 weights: {rule}"
            assert f"5 weights: {rule}"[:40] in s.screen()  # as far as the panel's border has room


async def test_a_split_step_moves_the_weights_as_the_title_says():
    app = BackpropApp(load_scenario("proportional_2_3_1_split"))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space", "space")  # space x2: two steps trained by the split
        rec = app.record
        lr = rec.learning_rate
        a_prev = rec.x
        for layer in rec.layers:  # W ← W + η·(e ⊙ f′(z))ᵀ·a / B, e the recorded split error
            act = get_activation(layer.activation)
            s_ = layer.error * act.grad(layer.z, layer.a)
            np.testing.assert_allclose(
                layer.w - layer.w_before, lr * s_.T @ a_prev / len(rec.batch), rtol=1e-12
            )
            a_prev = layer.a
        assert "W ← W + η·(e ⊙ f′(z))ᵀ·a / B" in s.screen()


async def test_a_momentum_step_moves_the_weights_as_the_title_says():
    app = BackpropApp(load_scenario(str(DATA / "momentum_l2.toml")))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space", "space")  # space x2: the velocity has a history
        rec = app.record
        for layer in rec.layers:  # W ← W − η·v with the recorded velocity
            np.testing.assert_allclose(
                layer.w, layer.w_before - rec.learning_rate * layer.state["velocity_w"], rtol=1e-12
            )
