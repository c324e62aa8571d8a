"""[init] decimals: drawn initial weights rounded for hand arithmetic; --set init.seed=K gives each
learner a variant of their own."""

from __future__ import annotations

import numpy as np
import pytest

from tui_backprop.cli import main
from tui_backprop.engine import Trainer
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.scenario.reader import ScenarioError, load_scenario
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.verify import verify


def weights(*sets: str) -> list[np.ndarray]:
    trainer = Trainer(load_scenario("xor", [parse_set(s) for s in sets]))
    return [*trainer.initial_W, *trainer.initial_b]


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_the_drawn_weights_are_rounded_to_the_decimals(decimals):
    raw = weights("init.method=uniform", "init.bias_value=0.123456")
    rounded = weights("init.method=uniform", "init.bias_value=0.123456", f"init.decimals={decimals}")
    for r, w in zip(raw, rounded, strict=True):
        scaled = w * 10**decimals
        assert np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-9)  # N decimals at most
        assert np.all(np.abs(w - r) <= 0.5 * 10**-decimals + 1e-12)  # the nearest such number
    assert any(not np.array_equal(r, w) for r, w in zip(raw, rounded, strict=True))


def test_each_seed_is_a_variant_of_its_own():
    one = weights("init.decimals=1", "init.seed=1")
    again = weights("init.decimals=1", "init.seed=1")
    two = weights("init.decimals=1", "init.seed=2")
    assert all(np.array_equal(a, b) for a, b in zip(one, again, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(one, two, strict=True))


@pytest.mark.parametrize(
    "value,message",
    [
        ("-1", "must be 0 to 15, got -1"),
        ("16", "must be 0 to 15, got 16"),
        ("'two'", "[init] decimals"),
        ("1.5", "[init] decimals"),
    ],
)
def test_bad_decimals_name_the_key(value, message):
    with pytest.raises(ScenarioError) as e:
        load_scenario("xor", [parse_set(f"init.decimals={value}")])
    assert "[init] decimals" in str(e.value) and message in str(e.value)


def test_decimals_do_not_go_with_explicit_weights():
    with pytest.raises(ScenarioError) as e:
        load_scenario("mlp_error_signal", [parse_set("init.decimals=2")])
    assert '[init] decimals: rounds drawn weights: not used with method = "explicit"' in str(e.value)


def test_a_trace_keeps_the_decimals_and_is_recomputed(tmp_path, capsys):
    path = tmp_path / "t.json"
    assert main(["xor", "--set", "init.decimals=2", "--headless", "--steps", "3", "--export", str(path)]) == 0
    recording = read_trace(path)
    verify(recording)  # the weights are drawn and rounded again from the trace's scenario
    scaled = recording.initial_W[0] * 100
    assert np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-9)
