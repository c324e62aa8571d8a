"""A run whose training-set loss blows up diverges, every number still finite.

The first step whose training-set loss is over 1e8 x max(initial, 1) stops the run with
"diverged" (engine/trainer.py, DIVERGENCE_FACTOR), as a non-finite number does. The step is
computed here apart from the engine (a numpy loop for the linear neuron); the fast path, undo,
start_from() and a replay of the trace stop at it too; no bundled scenario comes near it; the
headless summary, the trace, the app's banner and a replay say why the run stopped.
"""

from __future__ import annotations

import io
import json
import math
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from app_harness import EXPLODE_1_1, drive, fresh, scenario_file
from test_replay import same_record
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.scenario.reader import bundled_names
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.replay_app import ReplayApp

FACTOR = 1e8  # the rule, restated: a step diverges when its training-set loss > FACTOR x max(L0, 1)


def linear_neuron_full(learning_rate: float = 1.0):
    return replace(load_scenario("linear_neuron_full"), learning_rate=learning_rate)


def numpy_run(learning_rate: float = 1.0) -> tuple[float, list[float]]:
    """linear_neuron_full by hand: y = w x + b from w = b = 0, mse over the 20 samples, full-batch
    gradient descent. The initial loss and the training-set loss after each step, up to and
    including the first over the limit."""
    s = load_scenario("linear_neuron_full")
    x, t = np.asarray(s.inputs, dtype=float)[:, 0], np.asarray(s.targets, dtype=float)[:, 0]
    w = b = 0.0

    def loss() -> float:
        return float(np.mean((w * x + b - t) ** 2))

    initial = loss()
    losses: list[float] = []
    for _ in range(s.max_steps):
        e = w * x + b - t  # dl/dy = 2 e for each sample
        w, b = w - learning_rate * np.mean(2 * e * x), b - learning_rate * np.mean(2 * e)
        losses.append(loss())
        if losses[-1] > FACTOR * max(initial, 1.0):
            break
    return initial, losses


# -- the engine --------------------------------------------------------------------------------


def test_learning_rate_1_on_linear_neuron_full_diverges_where_numpy_says():
    initial, expected = numpy_run(1.0)
    k = len(expected)
    assert expected[-1] > FACTOR * initial and k < 1000  # the loop crossed the limit: at step 310
    trainer = Trainer(linear_neuron_full())
    records = trainer.run(1000)
    assert trainer.stop_reason == "diverged" and trainer.step_count == k
    np.testing.assert_allclose(trainer.initial_train_loss, initial, rtol=1e-12)
    np.testing.assert_allclose(trainer.train_losses, expected, rtol=1e-9)
    assert all(r.stop_reason is None and r.blowup is None for r in records[:-1])
    last = records[-1]
    assert last.diverged and last.nonfinite is None and all(np.isfinite(lr.w).all() for lr in last.layers)
    assert last.blowup is not None
    assert (last.blowup.train_loss, last.blowup.initial) == (last.train_loss, trainer.initial_train_loss)
    assert last.divergence == (
        f"the training-set loss {expected[-1]:.3g} is over 1e+08 times its initial {initial:.3g}"
    )
    assert [w.kind for w in last.warnings] == ["loss_exploded"]


def test_the_fast_path_stops_at_the_same_step_in_the_same_state():
    recorded, fast = Trainer(linear_neuron_full()), Trainer(linear_neuron_full())
    records = recorded.run(1000)
    assert fast.run(1000, record=False) == []
    assert (fast.stop_reason, fast.step_count) == ("diverged", len(records))
    assert fast.train_losses == recorded.train_losses and fast.losses == recorded.losses
    for a, b in zip(fast.W + fast.b, recorded.W + recorded.b, strict=True):
        assert a.tobytes() == b.tobytes()
    same_record(fast.current_record(), records[-1])  # the record the fast path skipped, rebuilt
    assert fast.current_record().blowup == records[-1].blowup


@pytest.mark.parametrize("history", [10_000, 1])  # 1: the second undo replays from the start
def test_undo_across_the_divergence_step_restores_the_run(history):
    trainer = Trainer(load_scenario(Path(__file__).parent / "data" / "explodes_1_1.toml"), history=history)
    records = trainer.run(1000)
    k = len(records)
    assert trainer.stop_reason == "diverged" and records[-1].blowup is not None
    same_record(trainer.undo(), records[-2])
    before = fresh(trainer.scenario, k - 1)
    assert (trainer.step_count, trainer.stop_reason, trainer.done) == (k - 1, None, False)
    assert trainer.train_losses == before.train_losses and trainer.best_train_loss == before.best_train_loss
    assert all(a.tobytes() == b.tobytes() for a, b in zip(trainer.W, before.W, strict=True))
    same_record(trainer.undo(), records[-3])  # further back, and forward again over both steps
    again = trainer.run(10)
    assert len(again) == 2 and trainer.stop_reason == "diverged"
    for got, want in zip(again, records[-2:], strict=True):
        same_record(got, want)
    assert again[-1].blowup == records[-1].blowup


def test_a_continuation_from_a_recorded_step_diverges_at_the_same_step():
    original = Trainer(linear_neuron_full())
    records = original.run(1000)
    k = len(records)
    for j in (1, k - 5, k - 1):  # start_from() the record of step j, as a replay's c does
        other = Trainer(linear_neuron_full())
        other.start_from(records[j - 1], original.losses[:j], original.train_losses[:j])
        rest = other.run(1000)
        assert other.step_count == k and other.stop_reason == "diverged"
        same_record(rest[-1], records[-1])
        assert rest[-1].blowup == records[-1].blowup
    done = Trainer(linear_neuron_full())
    done.start_from(records[-1], original.losses, original.train_losses)
    assert done.done and done.stop_reason == "diverged" and done.run(5) == []


CAPPED = {"blobs_784": 100}  # its 100,000 steps take 20 minutes; 100 are 6 epochs
# trained to the end of their runs by tests/test_generated_scenarios.py, which checks that they
# learn on the way and ends with far_from_the_limit (spiral's run alone takes 3 s)
PLANE = {"circle", "spiral"}


@pytest.mark.parametrize("name", [name for name in bundled_names() if name not in PLANE])
def test_no_bundled_scenario_comes_near_the_limit(name):
    s = load_scenario(name)
    trainer = Trainer(s, history=1)
    steps = CAPPED.get(name, s.max_steps)
    trainer.run(steps, record=False)
    far_from_the_limit(trainer, steps)


def far_from_the_limit(trainer: Trainer, steps: int) -> None:
    """``trainer`` ran ``steps`` steps (or to its target loss), and its training-set loss kept
    far below the divergence limit all along."""
    assert trainer.stop_reason in (None, "max_steps", "target_loss")
    assert trainer.step_count == steps or trainer.stop_reason == "target_loss"
    limit = FACTOR * max(trainer.initial_train_loss, 1.0)
    # four orders of magnitude to spare, at least: none of them goes above max(initial, 1)
    # (nan marks the steps between evaluations of a scenario with [training] evaluate_every)
    assert np.nanmax(trainer.train_losses) < 1e-4 * limit


# -- the command line and the trace ------------------------------------------------------------


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_the_headless_summary_says_the_loss_blew_up():
    initial, expected = numpy_run(1.0)
    code, out, err = run_main(["linear_neuron_full", "--headless", "--set", "training.learning_rate=1"])
    assert code == 3
    assert f": {len(expected)} steps," in out and out.count("\n") == 1
    why = f"the training-set loss {expected[-1]:.3g} is over 1e+08 times its initial {initial:.3g}"
    assert out.rstrip().endswith(f"stopped: diverged ({why})")
    assert all(re.match(r"^step \d+/\d+  epoch \d+  loss \S+$", line) for line in err.splitlines())


def test_the_vary_table_shows_learning_rate_1_as_diverged():
    _, expected = numpy_run(1.0)
    code, out, _ = run_main(["linear_neuron_full", "--headless", "--vary", "training.learning_rate=0.1,1"])
    assert code == 3  # a variant diverged
    row = out.splitlines()[2].split()
    assert row == ["1", str(len(expected)), f"{expected[-1]:.6g}", "-", "yes", "diverged"]


def test_a_trace_of_it_says_why_and_replays_with_its_reason(tmp_path):
    path = tmp_path / "lr1.json"
    argv = ["linear_neuron_full", "--headless", "--set", "training.learning_rate=1", "--export", str(path)]
    assert run_main(argv)[0] == 3
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate_trace(doc)
    live = Trainer(linear_neuron_full())
    records = live.run(1000)
    assert doc["summary"] == {
        "steps": len(records),
        "final_loss": records[-1].train_loss,
        "stop_reason": "diverged",
    }
    (warning,) = doc["steps"][-1]["warnings"]
    assert warning["kind"] == "loss_exploded" and warning["message"] == records[-1].warnings[0].message
    recording = read_trace(path)
    assert recording.stop_reason == "diverged" and recording.initial_train_loss == live.initial_train_loss
    for got, want in zip(recording.records, records, strict=True):
        same_record(got, want)
    assert recording.records[-1].blowup == records[-1].blowup
    assert recording.records[-1].divergence == records[-1].divergence
    code, out, _ = run_main(["--check", str(path)])
    assert code == 0 and "stopped: diverged" in out


# -- the app -------------------------------------------------------------------------------------


async def test_the_app_shows_why_in_its_banner_and_steps_back_out_of_it(tmp_path):
    scenario = scenario_file(tmp_path, EXPLODE_1_1)
    reference = Trainer(scenario)
    last = reference.run(1000)[-1]
    n = last.step
    banner = f"✖ diverged at step {n}: the training-set loss {last.train_loss:.3g} is over 1e+08"
    assert last.blowup is not None and math.isfinite(last.train_loss)
    app = BackpropApp(scenario, export_path=tmp_path / "t.json")
    async with drive(app) as s:
        await s.press("f")  # f: run until the run stops by itself: where the loss blows up
        await s.until(lambda: not app.playing, what="the run to stop")
        assert app.trainer.step_count == n and app.record.diverged
        header = s.header()
        assert "stopped: diverged" in header and f"{banner} (1e+08 times 1, as its initial 0.625" in header
        assert s.noted(f"diverged at step {n}: the training-set loss", "error")
        assert "loss_exploded" in s.screen()  # the warnings line under the banner
        await s.press("b")  # b: back before the divergence; the banner goes
        assert app.trainer.step_count == n - 1 and "diverged" not in s.header()
        await s.press("space")  # space: the same step diverges again, for the same reason
        same_record(app.record, last)
        assert banner in s.header()
        await s.press("e")  # e: export the diverged run
        await s.until(lambda: not app.exporting and (tmp_path / "t.json").exists(), what="the export")
    recording = read_trace(tmp_path / "t.json")
    replay = ReplayApp(recording)
    async with drive(replay) as s:
        await s.press("f")  # f: on to the end of the recording
        await s.until(lambda: not replay.playing, what="the replay to end")
        assert replay.record is recording.records[-1] and banner in s.header()
