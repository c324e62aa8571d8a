"""[training] evaluate_every = K: the training- and test-set losses every K steps only."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario, loads_scenario, write_trace
from tui_backprop.scenario.reader import ScenarioError
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.verify import verify

SCENARIO = """
[scenario]
name = "evaluate every"
[network]
layers = [2, 3, 1]
activations = ["relu", "sigmoid"]
[init]
method = "uniform"
seed = 3
[data]
generator = "xor"
[training]
loss = "mse"
learning_rate = 0.5
batch = 2
max_steps = {max_steps}
{extra}
"""


def scenario(extra: str = "", max_steps: int = 1000):
    return loads_scenario(SCENARIO.format(extra=extra, max_steps=max_steps), "ev.toml")


def test_the_default_is_every_step():
    assert scenario().evaluate_every == 1


@pytest.mark.parametrize("bad", ["0", "-2", '"3"', "1.5"])
def test_a_bad_value_names_the_key(bad):
    with pytest.raises(ScenarioError) as e:
        scenario(f"evaluate_every = {bad}")
    assert "[training] evaluate_every" in str(e.value)


def test_evaluated_steps_have_the_losses_of_an_every_step_run():
    every, each = Trainer(scenario("evaluate_every = 3")), Trainer(scenario())
    recs = every.run(10)
    plain = each.run(10)
    for r, p in zip(recs, plain, strict=True):
        # the steps themselves are the same maths: same weights and batch loss, bit for bit
        assert r.loss == p.loss
        for lr, lp in zip(r.layers, p.layers, strict=True):
            assert np.array_equal(lr.w, lp.w)
        assert r.evaluated == (r.step % 3 == 0)
        if r.evaluated:
            assert r.train_loss == p.train_loss
        else:
            assert math.isnan(r.train_loss)
    assert [math.isnan(x) for x in every.train_losses] == [k % 3 != 0 for k in range(1, 11)]
    assert list(every.losses) == list(each.losses)


def test_the_last_step_of_a_run_is_evaluated():
    t = Trainer(scenario("evaluate_every = 4", max_steps=7))
    recs = t.run(100)
    assert len(recs) == 7 and t.stop_reason == "max_steps"
    assert recs[-1].evaluated and math.isfinite(recs[-1].train_loss)


def test_the_fast_path_matches_the_records():
    a, b = Trainer(scenario("evaluate_every = 5")), Trainer(scenario("evaluate_every = 5"))
    a.run(23, record=False)
    b.run(23)
    assert np.array_equal(np.array(a.train_losses), np.array(b.train_losses), equal_nan=True)
    rebuilt = a.current_record()
    assert rebuilt is not None and b.last_record is not None
    assert rebuilt.step == 23 and not rebuilt.evaluated and math.isnan(rebuilt.train_loss)
    assert rebuilt.loss == b.last_record.loss


LINEAR = """
[scenario]
name = "linear blow-up"
[network]
layers = [2, 1]
activations = ["identity"]
[init]
method = "uniform"
seed = 1
[data]
generator = "xor"
[training]
loss = "mse"
learning_rate = 4.0
max_steps = 100000
{extra}
"""


def test_divergence_between_evaluations_is_caught():
    # with every step evaluated, the training-set loss blows up at step k; evaluated every 10
    # steps, the run still stops, at the next evaluation at the latest (the loss only grows)
    each = Trainer(loads_scenario(LINEAR.format(extra=""), "lin.toml"))
    each.run(100000, record=False)
    every = Trainer(loads_scenario(LINEAR.format(extra="evaluate_every = 10"), "lin.toml"))
    every.run(100000, record=False)
    assert each.stop_reason == every.stop_reason == "diverged"
    assert each.step_count <= every.step_count <= -(-each.step_count // 10) * 10
    rec = every.current_record()
    assert rec is not None and rec.diverged and rec.divergence is not None


def test_the_trace_says_which_steps_have_them_and_verifies(tmp_path: Path):
    t = Trainer(scenario("evaluate_every = 3"))
    t.run(8)
    path = write_trace(tmp_path / "ev.json", t)
    doc = json.loads(path.read_text("utf-8"))
    validate_trace(doc)
    assert doc["scenario"]["training"]["evaluate_every"] == 3
    assert [s["train_loss"] is None for s in doc["steps"]] == [k % 3 != 0 for k in range(1, 9)]
    recording = read_trace(path)
    assert [r.evaluated for r in recording.records] == [k % 3 == 0 for k in range(1, 9)]
    verify(recording)  # recomputes every step: raises on a disagreement


def test_a_test_set_follows_the_same_steps():
    s = load_scenario("blobs_784")
    assert s.evaluate_every > 1  # the bundled big network evaluates once an epoch


def test_a_run_that_ends_between_evaluations_reports_its_final_loss(tmp_path: Path):
    t = Trainer(scenario("evaluate_every = 3"))
    t.run(8, record=False)
    assert math.isnan(t.train_losses[-1])
    each = Trainer(scenario())
    each.run(8, record=False)
    assert t.final_train_loss == each.train_losses[-1]  # the same weights, the same forward pass
    assert len(t.train_losses) == 8  # asking records nothing
    doc = json.loads(write_trace(tmp_path / "end.json", t).read_text("utf-8"))
    assert doc["summary"]["final_loss"] == each.train_losses[-1]


def test_the_header_says_when_the_training_loss_comes():
    from tui_backprop.tui.widgets.header import Status

    s = scenario("evaluate_every = 3")
    recs = Trainer(s).run(3)
    between = Status.of(s, recs[1], 0.3, "paused", "10/s", "", None)
    evaluated = Status.of(s, recs[2], 0.3, "paused", "10/s", "", None)
    assert between.evaluate_every == 3 and evaluated.evaluate_every == 0
