"""--export-code numpy writes a trace (tutor/code_export.py): `python3 script.py STEPS TRACE.json`
writes every number of every step in trace format 1, which equals the engine's trace of the same
run to 1e-12 relative, which --check reads and recomputes, and which --answers grades as a
learner's partial trace."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tui_backprop.cli import main
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.scenario.reader import load_scenario
from tui_backprop.tutor.code_export import script
from tui_backprop.tutor.code_torch import torch_script

FIELDS = "step,epoch,batch,loss,train_loss,z,a,delta,grad_w,grad_b,w,b"

# (scenario, --set, steps: None for the default, the scenario's max_steps, as a run without --steps)
CASES = [
    ("xor", (), None),  # full batch, to the target loss (569 steps)
    ("circle", (), 40),  # bce, batches of 10, shuffled, over three epochs; a test set in the data
    ("iris", (), 40),  # tanh and softmax with cross_entropy, batches of 8, shuffled
    ("xor", ("training.optimizer=momentum", "training.momentum=0.8"), 60),
    ("xor", ("training.optimizer=adam", "training.learning_rate=0.05", "training.update_biases=false"), 60),
    ("xor", ("network.bias=false", "network.activation=leaky_relu", "training.loss=sse"), 30),
    ("xor", ("training.evaluate_every=4",), 30),  # train_loss null but every 4th (step 30 too)
    *(("xor", (f"network.activation={f}",), 40) for f in ("softplus", "gelu", "swish")),  # through sigmoid
]

# one interpreter runs every script (numpy is imported once), each with its argv: STEPS TRACE
RUN_EACH = """
import contextlib, io, runpy, sys
for job in sys.argv[1:]:
    path, *args = job.split("|")
    sys.argv = [path, *args]
    with contextlib.redirect_stdout(io.StringIO()):
        runpy.run_path(path, run_name="__main__")
"""


def run_scripts(jobs):
    """Run each (script path, argv) in one fresh interpreter; the scripts write their traces."""
    argv = ["|".join([str(path), *map(str, args)]) for path, args in jobs]
    command = [sys.executable, "-c", RUN_EACH, *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def write_script(tmp_path, n, name, sets):
    """The script of the scenario, and the scenario's max_steps."""
    path = tmp_path / f"lesson{n}.py"
    scenario = load_scenario(name, [parse_set(s) for s in sets])
    path.write_text(script(scenario))
    return path, scenario.max_steps


def engine_trace(tmp_path, n, name, sets, steps, capsys):
    path = tmp_path / f"engine{n}.json"
    args = [name, *(a for s in sets for a in ("--set", s)), "--headless", "--export", str(path)]
    args += ["--fields", FIELDS, *(() if steps is None else ("--steps", str(steps)))]
    assert main(args) == 0, capsys.readouterr().err
    return json.loads(path.read_text())


def differences(mine, engine, place="", rtol=1e-12):
    """Every place where two parsed traces differ: keys, lengths, integers and strings exactly;
    an array of floats to ``rtol`` relative, each number within rtol of itself plus rtol of the
    array's largest magnitude (a floor for the numbers near 0 that cancellation makes); a float
    alone to ``rtol`` relative."""
    if isinstance(engine, dict):
        if not isinstance(mine, dict) or mine.keys() != engine.keys():
            return [f"{place}: keys {sorted(mine) if isinstance(mine, dict) else mine} != {sorted(engine)}"]
        return [d for key in engine for d in differences(mine[key], engine[key], f"{place}.{key}", rtol)]
    if (expected := floats(engine)) is not None:
        got = floats(mine)
        if got is None or got.shape != expected.shape:
            return [f"{place}: {mine!r:.80} is not an array of floats of shape {expected.shape}"]
        off = np.abs(got - expected) > rtol * (np.abs(expected) + np.abs(expected).max())
        places = [tuple(int(i) for i in k) for k in np.argwhere(off)]
        return [f"{place}{list(k)}: {float(got[k])!r} != {float(expected[k])!r}" for k in places]
    if isinstance(engine, list):
        if not isinstance(mine, list) or len(mine) != len(engine):
            return [f"{place}: {mine!r:.80} is not a list of {len(engine)}"]
        pairs = enumerate(zip(mine, engine, strict=True))
        return [d for k, (m, e) in pairs for d in differences(m, e, f"{place}[{k}]", rtol)]
    if type(mine) is not type(engine):
        return [f"{place}: {mine!r} is not a {type(engine).__name__}"]
    if isinstance(engine, float):
        return (
            []
            if math.isclose(mine, engine, rel_tol=rtol, abs_tol=0.0)
            else [f"{place}: {mine!r} != {engine!r}"]
        )
    return [] if mine == engine else [f"{place}: {mine!r} != {engine!r}"]


def floats(value):
    """A JSON array of floats (nested, rectangular, no null) as a numpy array; None otherwise."""
    if not isinstance(value, list) or not value:
        return None
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        return None
    return array if array.dtype == np.float64 and array.size else None


@pytest.mark.parametrize("cases", [CASES[:1], CASES[1:]], ids=["xor-to-its-target", "five-more"])
def test_the_numpy_scripts_trace_is_the_engines_trace(cases, tmp_path, capsys):
    jobs, engines = [], []
    for n, (name, sets, steps) in enumerate(cases):
        path, max_steps = write_script(tmp_path, n, name, sets)
        jobs.append((path, [max_steps if steps is None else steps, tmp_path / f"mine{n}.json"]))
        engines.append(engine_trace(tmp_path, n, name, sets, steps, capsys))
    run_scripts(jobs)
    for n, ((name, sets, _), engine) in enumerate(zip(cases, engines, strict=True)):
        mine = json.loads((tmp_path / f"mine{n}.json").read_text())
        assert differences(mine, engine) == [], (name, sets)
        assert len(mine["steps"]) == engine["summary"]["steps"] > 0
        if name == "circle":  # its held-out test set is in the trace's data, as the engine writes it
            assert "test_data" in mine
    if cases[0][2] is None:  # xor ran to its target loss, as the app does, and said so
        assert mine["summary"]["stop_reason"] == "target_loss"


def test_differences_finds_one_changed_number():  # the comparison above could fail
    trace = {"steps": [{"step": 1, "loss": 0.25, "layers": [{"w": [[0.5, -0.25]], "b": []}]}]}
    changed = json.loads(json.dumps(trace))
    changed["steps"][0]["layers"][0]["w"][0][1] = -0.25 * (1 + 1e-11)
    assert differences(changed, trace) == [f".steps[0].layers[0].w[0, 1]: {-0.25 * (1 + 1e-11)!r} != -0.25"]
    changed["steps"][0]["layers"][0]["w"][0][1] = -0.25 * (1 + 1e-13)
    assert differences(changed, trace) == []
    changed["steps"][0]["loss"] = 0.25 * (1 + 1e-11)
    assert differences(changed, trace) == [f".steps[0].loss: {0.25 * (1 + 1e-11)!r} != 0.25"]
    assert differences({"step": 1.0}, {"step": 1}) == [".step: 1.0 is not a int"]  # an integer stays one
    assert differences({"b": [0.0]}, {"b": []}) != []


@pytest.fixture(scope="module")
def xor_trace(tmp_path_factory):
    """The numpy script's own trace of 2 steps of xor, and its path."""
    tmp = tmp_path_factory.mktemp("xor")
    path, _ = write_script(tmp, 0, "xor", ())
    run_scripts([(path, [2, tmp / "mine.json"])])
    return tmp / "mine.json"


def test_check_reads_and_recomputes_the_scripts_trace(xor_trace, capsys):
    assert main(["--check", str(xor_trace)]) == 0
    out = capsys.readouterr().out
    assert "2 steps" in out and "every number recomputed" in out, out


def test_a_learners_partial_trace_with_one_number_changed_is_graded(xor_trace, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: a long one is cut where a message prints it
    trace = json.loads(xor_trace.read_text())
    true = trace["steps"][1]["layers"][0]["delta"][2][1]
    trace["steps"][1]["layers"][0]["delta"][2][1] = true * 1.5  # the learner's one slip
    mine = Path("learner.json")
    mine.write_text(json.dumps(trace))
    assert main(["xor", "--answers", str(mine), "--headless"]) == 1
    lines = capsys.readouterr().out.splitlines()
    graded = [line for line in lines if line[:2] in ("✓ ", "✗ ")]
    wrong = [line for line in graded if line.startswith("✗")]
    # every number of the trace's layers and its losses, two steps of a 2-3-1 network on 4 samples
    per_step = 2 + 3 * (4 * 3 + 4 * 1) + 2 * (3 * 2 + 3 * 1 + 3 + 1)
    assert len(graded) == 2 * per_step, len(graded)
    assert wrong == [f"✗ step 2  delta[1][2, 1]  {true * 1.5!r}  (true {true:.10g})"], wrong
    first = next(line for line in lines if line.startswith("first wrong:"))
    assert first.endswith(f"({mine}: steps[1].layers[0].delta[2][1])"), first
    assert main(["xor", "--answers", str(xor_trace), "--headless"]) == 0  # unchanged: all right


def test_the_script_stops_at_max_steps_as_the_app_does(tmp_path, capsys):
    path, max_steps = write_script(tmp_path, 0, "xor", ("training.max_steps=5",))
    run_scripts([(path, [max_steps + 3, tmp_path / "mine.json"])])
    summary = json.loads((tmp_path / "mine.json").read_text())["summary"]
    assert (summary["steps"], summary["stop_reason"]) == (5, "max_steps")
    assert main(["--check", str(tmp_path / "mine.json")]) == 0, capsys.readouterr().err


def test_a_slip_in_the_learners_copy_of_the_script_is_diagnosed(tmp_path, capsys):
    """The script as a learner's starting point: the update's minus sign turned into a plus in their
    copy, its trace graded, and the slip named at the first weight it changes."""
    text = script(load_scenario("mlp_error_signal"))
    right = "W = [w - LEARNING_RATE * g for w, g in zip(W, grad_w)]"
    assert text.count(right) == 1
    path = tmp_path / "mine.py"
    path.write_text(text.replace(right, right.replace("w - ", "w + ")))
    run_scripts([(path, [1, tmp_path / "mine.json"])])
    assert main(["mlp_error_signal", "--answers", str(tmp_path / "mine.json"), "--headless"]) == 1
    lines = capsys.readouterr().out.splitlines()
    first = next(line for line in lines if line.startswith("first wrong:"))
    assert first.startswith("first wrong: step 1 w[1]") and ": steps[0].layers[0].w[" in first, first
    assert next(line for line in lines if line.startswith("diagnosis:")).startswith("diagnosis: update-sign:")
    assert all(line.startswith("✓") for line in lines if " delta[" in line or " grad_w[" in line)


HAS_TORCH = importlib.util.find_spec("torch") is not None  # not imported here: it takes seconds

TORCH_CASES = [
    ("circle", ("training.optimizer=momentum",), 30),  # bce, batches of 10, shuffled, SGD with momentum
    ("xor", ("training.optimizer=adam", "training.learning_rate=0.05", "training.update_biases=false"), 30),
    ("iris", (), 30),  # tanh, softmax and cross_entropy, plain SGD
]


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed (it is no dependency of backprop-tui)")
def test_the_torch_scripts_trace_is_the_engines_trace(tmp_path, capsys):
    """What autograd and torch.optim computed, delta included (B dL/dz), agrees with the engine to
    1e-9, and --check recomputes it."""
    jobs, engines = [], []
    for n, (name, sets, steps) in enumerate(TORCH_CASES):
        path = tmp_path / f"torch{n}.py"
        path.write_text(torch_script(load_scenario(name, [parse_set(s) for s in sets])))
        jobs.append((path, [steps, tmp_path / f"mine{n}.json"]))
        engines.append(engine_trace(tmp_path, n, name, sets, steps, capsys))
    run_scripts(jobs)
    for n, ((name, sets, _), engine) in enumerate(zip(TORCH_CASES, engines, strict=True)):
        mine = tmp_path / f"mine{n}.json"
        assert differences(json.loads(mine.read_text()), engine, rtol=1e-9) == [], (name, sets)
        assert main(["--check", str(mine)]) == 0, capsys.readouterr().err
