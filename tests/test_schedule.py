"""Learning-rate schedules ([training] schedule, engine/schedule.py): each schedule's rates against
its formula written out here, every step's update against w - rate_k * grad with the gradient by
finite differences, the rate in the record, the trace, --check and a replay's continuation, and
the bad keys refused with their name."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tui_backprop import Trainer, loads_scenario
from tui_backprop.cli import main
from tui_backprop.engine.schedule import Cosine, Exponential, StepDecay, make_schedule
from tui_backprop.trace.reader import read_trace

TINY = """\
[scenario]
name = "tiny"
[network]
layers = [2, 2, 1]
activation = "sigmoid"
[init]
seed = 3
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 0]
[training]
loss = "mse"
learning_rate = 0.8
max_steps = 50
"""

SCHEDULES = {
    "step": 'schedule = "step"\nstep_factor = 0.5\nstep_every = 3\n',
    "exponential": 'schedule = "exponential"\ngamma = 0.9\n',
    "cosine": 'schedule = "cosine"\ncosine_period = 7\nmin_learning_rate = 0.1\n',
}


def scenario(schedule: str = "", extra: str = ""):
    return loads_scenario(TINY + schedule + extra, "tiny.toml")


# -- the rates, each schedule against its formula written out here --------------------------


def test_step_multiplies_by_the_factor_after_every_k_steps():
    rates, rate = [], 0.8
    for k in range(20):  # k updates taken before the step
        if k and k % 3 == 0:
            rate *= 0.5
        rates.append(rate)
    got = [StepDecay(0.5, 3).rate(0.8, k) for k in range(20)]
    assert got == pytest.approx(rates, rel=1e-15)
    assert got[:3] == [0.8, 0.8, 0.8]  # steps 1..3 use the base rate


def test_exponential_multiplies_by_gamma_every_step():
    rates, rate = [], 0.3
    for _ in range(30):
        rates.append(rate)
        rate *= 0.95
    assert [Exponential(0.95).rate(0.3, k) for k in range(30)] == pytest.approx(rates, rel=1e-12)


def test_cosine_goes_from_the_rate_to_the_minimum_over_the_period_and_restarts():
    T, lo, hi = 8, 0.05, 0.5
    expected = [lo + (hi - lo) * 0.5 * (1 + np.cos(np.pi * (k % T) / T)) for k in range(3 * T)]
    got = [Cosine(T, lo).rate(hi, k) for k in range(3 * T)]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[0] == hi and got[T] == hi  # a restart every T steps
    assert got[T // 2] == pytest.approx((hi + lo) / 2)  # half way: the middle of the range
    assert all(a > b for a, b in zip(got[:T], got[1:T], strict=False))  # falling within a period
    assert min(got) > lo  # it never quite reaches the minimum: k mod T stops at T - 1


def test_a_factor_that_grows_past_any_float_gives_an_infinite_rate_not_an_error():
    assert StepDecay(10.0, 1).rate(1.0, 400) == math.inf
    assert Exponential(0.5).rate(1.0, 5000) == 0.0


def test_the_constant_schedule_is_the_base_rate():
    assert make_schedule("constant").rate(0.25, 1000) == 0.25
    assert Trainer(scenario()).rate_of(999) == 0.8


# -- a run with a schedule: each update at its step's rate -----------------------------------


def _finite_difference_gradient(ref, s, W, b, X, T):
    """dL/dW[l] by five-point differences of the reference batch loss (tests/conftest.py)."""
    grads = []
    for l, Wl in enumerate(W):
        g = np.zeros_like(Wl)
        for idx in np.ndindex(Wl.shape):

            def loss(eps, l=l, idx=idx):
                nudged = [w.copy() for w in W]
                nudged[l][idx] += eps
                return ref.batch_loss(nudged, b, s.activations, s.loss, X, T)

            g[idx] = ref.five_point(loss, 1e-4)
        grads.append(g)
    return grads


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_step_moves_each_weight_by_its_rate_times_the_gradient(name, ref):
    s = scenario(SCHEDULES[name])
    t = Trainer(s)
    X, T = np.asarray(s.inputs), np.asarray(s.targets)
    formula = {
        "step": lambda k: 0.8 * 0.5 ** (k // 3),
        "exponential": lambda k: 0.8 * 0.9**k,
        "cosine": lambda k: 0.1 + 0.7 * (1 + math.cos(math.pi * (k % 7) / 7)) / 2,
    }[name]
    for step in range(1, 11):
        W = [np.array(w) for w in t.W]
        b = [np.array(v) for v in t.b]
        rec = t.step()
        rate = formula(step - 1)
        assert rec.learning_rate == pytest.approx(rate, rel=1e-12)
        grads = _finite_difference_gradient(ref, s, W, b, X, T)
        for l, layer in enumerate(rec.layers):
            np.testing.assert_allclose(layer.w, W[l] - rate * grads[l], rtol=0, atol=1e-9)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_the_optimisers_take_the_steps_rate_in_place_of_their_own(optimizer):
    """Momentum and Adam, written out here, at each step's scheduled rate."""
    s = scenario(SCHEDULES["exponential"], f'optimizer = "{optimizer}"\n')
    t = Trainer(s)
    state = {l: (np.zeros_like(w), np.zeros_like(w)) for l, w in enumerate(t.W)}
    for step in range(1, 8):
        W = [np.array(w) for w in t.W]
        rec = t.step()
        rate = 0.8 * 0.9 ** (step - 1)
        for l, layer in enumerate(rec.layers):
            g = layer.grad_w
            m, v = state[l]
            if optimizer == "momentum":
                m = 0.9 * m + g
                expected = W[l] - rate * m
            else:
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
                expected = W[l] - rate * m_hat / (np.sqrt(v_hat) + 1e-8)
            state[l] = (m, v)
            np.testing.assert_allclose(layer.w, expected, rtol=1e-12, atol=1e-15)


def test_undo_and_a_fork_keep_the_schedule_and_share_no_rate():
    t = Trainer(scenario(SCHEDULES["step"]))
    records = t.run(7)
    t.undo()
    assert t.step().learning_rate == records[-1].learning_rate
    other = t.fork()
    other.base_learning_rate = 0.1  # a live change of the base rate, in the fork only
    assert other.step().learning_rate == pytest.approx(0.1 * 0.5 ** (7 // 3))
    assert t.step().learning_rate == pytest.approx(0.8 * 0.5 ** (7 // 3))
    assert t.optimizer.lr == 0.8  # the shared optimiser was never changed


# -- the scenario file: keys, defaults, the trace's scenario -----------------------------------


def test_cosine_period_defaults_to_max_steps_and_the_keys_go_into_the_trace_scenario():
    s = scenario('schedule = "cosine"\n')
    assert s.cosine_period == 50 and s.min_learning_rate == 0.0
    training = s.to_dict()["training"]
    assert training["schedule"] == "cosine" and training["cosine_period"] == 50
    assert "gamma" not in training and "step_factor" not in training


def test_a_constant_rate_leaves_the_trace_scenario_as_before():
    training = scenario().to_dict()["training"]
    assert not {"schedule", "step_factor", "step_every", "gamma", "cosine_period"} & set(training)


@pytest.mark.parametrize(
    ("lines", "key", "text"),
    [
        ('schedule = "warm"\n', "schedule", "unknown schedule 'warm'"),
        ('schedule = "step"\nstep_factor = -1.0\n', "step_factor", "must be > 0"),
        ('schedule = "step"\nstep_every = 0\n', "step_every", "must be >= 1"),
        ('schedule = "exponential"\ngamma = 0.0\n', "gamma", "must be > 0"),
        ('schedule = "cosine"\nmin_learning_rate = -0.1\n', "min_learning_rate", "must be >= 0"),
        ('schedule = "cosine"\nmin_learning_rate = 2.0\n', "min_learning_rate", "at most learning_rate"),
        ("step_every = 5\n", "step_every", 'only used with schedule = "step"'),
    ],
)
def test_bad_schedule_keys_exit_2_naming_the_file_and_the_key(lines, key, text, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(TINY + lines, encoding="utf-8")
    assert main(["--check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: [training] {key}: ")
    assert text in err and "Traceback" not in err


# -- the trace: each step's rate, --check, replay --------------------------------------------


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_the_trace_holds_each_steps_rate_and_check_recomputes_it(name, tmp_path, capsys):
    path = tmp_path / f"{name}.json"
    scenario_file = tmp_path / "s.toml"
    scenario_file.write_text(TINY + SCHEDULES[name], encoding="utf-8")
    assert main([str(scenario_file), "--headless", "--steps", "20", "--export", str(path)]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    rates = [step["learning_rate"] for step in doc["steps"]]
    s = scenario(SCHEDULES[name])
    t = Trainer(s)
    assert rates == [r.learning_rate for r in t.run(20)]  # as the run took them, to the bit
    assert main(["--check", str(path)]) == 0
    capsys.readouterr()
    doc["steps"][4]["learning_rate"] = 0.123  # a lie about step 5's rate
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["--check", str(forged)]) == 2
    assert "step 5, learning_rate: recorded 0.123" in capsys.readouterr().err


def test_a_replay_continues_the_schedule_exactly(tmp_path):
    s = scenario(SCHEDULES["cosine"])
    path = tmp_path / "run.json"
    scenario_file = tmp_path / "s.toml"
    scenario_file.write_text(TINY + SCHEDULES["cosine"], encoding="utf-8")
    assert main([str(scenario_file), "--headless", "--steps", "9", "--export", str(path)]) == 0
    recording = read_trace(path)
    assert [r.learning_rate for r in recording.records] == [r.learning_rate for r in Trainer(s).run(9)]
    later = Trainer(recording.scenario)
    later.start_from(recording.records[-1])
    whole = Trainer(s)
    whole.run(9)
    for _ in range(12):  # across a restart of the cosine at step 15
        a, b = later.step(), whole.step()
        assert a.learning_rate == b.learning_rate
        for la, lb in zip(a.layers, b.layers, strict=True):
            np.testing.assert_array_equal(la.w, lb.w)


# -- the app: the header and the explain panel -------------------------------------------------


async def test_the_header_and_the_explain_panel_show_the_rate_of_the_step_on_screen():
    from app_harness import drive

    from tui_backprop.tui.app import BackpropApp

    app = BackpropApp(scenario(SCHEDULES["cosine"]))
    cosine = [0.1 + 0.7 * (1 + math.cos(math.pi * (k % 7) / 7)) / 2 for k in range(10)]
    async with drive(app) as s:
        assert "lr 0.8 (cosine)" in s.header()  # before the first step: step 1's rate, the base
        await s.press("space", "space", "space", "space")  # space x4: steps 1 to 4
        assert f"lr {cosine[3]:.4g} (cosine)" in s.header()
        await s.press("b")  # b: back to step 3, and its rate
        assert f"lr {cosine[2]:.4g} (cosine)" in s.header()
        while app.selection.mode != "weight":
            await s.press("tab")  # tab: select a weight, whose update the explain panel shows
        explained = s.panel("explain")
        assert "η of step 3: the cosine schedule" in explained
        assert "η_k = 0.1 + (η − 0.1) · (1 + cos(π · (k mod 7) / 7)) / 2" in explained
        assert f"η = 0.8, k = 2 (the updates before this step): η_k = {cosine[2]:.4g}" in explained


async def test_without_a_schedule_the_header_and_explain_panel_are_as_before():
    from app_harness import drive

    from tui_backprop.tui.app import BackpropApp

    app = BackpropApp(scenario())
    async with drive(app) as s:
        await s.press("space")  # space: one step
        assert "lr 0.8  " in s.header() and "(constant)" not in s.header()
        while app.selection.mode != "weight":
            await s.press("tab")  # tab: select a weight
        assert "schedule" not in s.panel("explain")


def test_a_script_export_is_refused_with_a_schedule_rather_than_wrong(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(TINY + SCHEDULES["step"], encoding="utf-8")
    assert main([str(path), "--export-code", "numpy"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--export-code: [training] schedule:" in err


def test_a_worked_solution_names_the_schedule_and_updates_at_each_steps_rate(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(TINY + SCHEDULES["cosine"], encoding="utf-8")
    out = tmp_path / "worked.md"
    assert main([str(path), "--worked", "2", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "learning rate 0.8 on the schedule cosine(period=7, minimum=0.1)" in text
    second = 0.1 + 0.7 * (1 + math.cos(math.pi / 7)) / 2  # step 2: k = 1
    step2 = text.split("Step 2")[1]
    assert f" - {second:.4g} \\times " in step2 and " - 0.8 \\times " not in step2
