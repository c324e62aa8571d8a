"""--export-code numpy (tutor/code_export.py): the script, run in a fresh interpreter, prints the
losses the engine computes, to 1e-10, across activations, losses, batches, shuffling and optimisers."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest

from tui_backprop.cli import main
from tui_backprop.engine import Trainer
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.scenario.reader import load_scenario
from tui_backprop.tutor.code_export import script
from tui_backprop.tutor.code_torch import torch_script

HAS_TORCH = importlib.util.find_spec("torch") is not None  # not imported here: it takes seconds

STEPS = 12
LINE = re.compile(r"^step (\d+)  loss (\S+)  train_loss (\S+)$")

CASES = [
    ("xor", ()),  # sigmoid, mse, full batch
    ("xor_identity_worked", ()),  # identity, half_sse, one sample a step
    ("circle", ()),  # bce with a sigmoid output, batches of 10, shuffled
    ("iris", ()),  # tanh and softmax, cross_entropy, a held-out test set
    ("xor", ("training.optimizer=momentum", "training.momentum=0.8")),
    ("xor", ("training.optimizer=adam", "training.learning_rate=0.05", "training.update_biases=false")),
    ("xor", ("network.activation=relu", "training.batch=3", "training.shuffle=true")),
    ("xor", ("network.bias=false", "network.activation=leaky_relu", "training.loss=sse")),
    ("linear_neuron_sgd", ("network.activation=tanh", "training.loss=half_sse")),
]


# one interpreter runs several scripts: importing numpy (or torch) once
RUN_EACH = """
import contextlib, io, runpy, sys
steps, paths = sys.argv[1], sys.argv[2:]
for path in paths:
    sys.argv = [path, steps]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    print(out.getvalue(), end="=====\\n")
"""


def run_scripts(cases, tmp_path, write):
    """Each case's script run for STEPS steps in one fresh interpreter, and the engine's losses:
    a list of (name, printed, engine) with (STEPS, 2) arrays of the batch and training-set loss."""
    paths, expected = [], []
    for n, (name, sets) in enumerate(cases):
        scenario = load_scenario(name, [parse_set(s) for s in sets])
        trainer = Trainer(scenario, history=1)
        trainer.run(STEPS, record=False)
        expected.append(np.column_stack([trainer.losses, trainer.train_losses]))
        paths.append(tmp_path / f"lesson{n}.py")
        paths[-1].write_text(write(scenario))
    done = subprocess.run(
        [sys.executable, "-c", RUN_EACH, str(STEPS), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    outputs = done.stdout.split("=====\n")[:-1]
    assert len(outputs) == len(cases), done.stdout
    return [
        (name, _rows(out), engine) for (name, _), out, engine in zip(cases, outputs, expected, strict=True)
    ]


def _rows(out):
    rows = [LINE.match(line) for line in out.splitlines()]
    assert all(rows), out
    return np.array([[float(m[2]), float(m[3])] for m in rows if m])


def printed(scenario, tmp_path, write=script):
    path = tmp_path / "lesson.py"
    path.write_text(write(scenario))
    done = subprocess.run(
        [sys.executable, str(path), str(STEPS)], capture_output=True, text=True, timeout=60, check=True
    )
    return _rows(done.stdout)


def test_the_numpy_scripts_print_the_engines_losses(tmp_path):
    for name, mine, engine in run_scripts(CASES, tmp_path, script):
        assert mine.shape == engine.shape == (STEPS, 2), name
        np.testing.assert_allclose(mine, engine, rtol=1e-10, atol=1e-14, err_msg=name)


def test_the_script_stops_at_the_target_loss(tmp_path):
    scenario = load_scenario("xor_identity_worked", [parse_set("training.target_loss=0.3")])
    trainer = Trainer(scenario, history=1)
    trainer.run(STEPS, record=False)
    assert trainer.step_count < STEPS  # the engine stopped early
    assert len(printed(scenario, tmp_path)) == trainer.step_count


def test_the_script_reads_as_a_lesson():
    text = script(load_scenario("mlp_error_signal"))
    for part in (
        "def forward(W, b, x):",
        "def backward(W, zs, acts, t):",
        "def update(W, b, grad_w, grad_b, state):",
    ):
        assert part in text
    assert "W0 = [[[0.4, 0.3, " in text  # the scenario's own weights, inline
    assert "def sigmoid_slope(z, a):" in text and "def tanh(" not in text  # only what it uses
    compile(text, "lesson.py", "exec")


def test_what_the_script_does_not_model_is_refused(tmp_path, capsys):
    out = tmp_path / "s.py"
    assert main(["xor", "--set", "training.l2=0.01", "--export-code", "numpy", "-o", str(out)]) == 2
    assert "[training] l1, l2: the script does not model a penalty" in capsys.readouterr().err
    assert main(["proportional_2_3_1_split", "--export-code", "numpy", "-o", str(out)]) == 2
    assert "[training] error_split" in capsys.readouterr().err
    assert main(["xor", "--set", "training.target_accuracy=1", "--export-code", "torch", "-o", str(out)]) == 2
    assert "[training] target_accuracy: the script does not count accuracy" in capsys.readouterr().err
    assert not out.exists()
    assert main(["xor", "--export-code", "numpy", "-o", str(out)]) == 0
    assert out.read_text().startswith("#!/usr/bin/env python3\n")


TORCH_CASES = [
    ("circle", ("training.optimizer=momentum",)),  # bce, batches of 10, shuffled, SGD with momentum
    ("xor", ("training.optimizer=adam", "training.learning_rate=0.05", "training.update_biases=false")),
    ("iris", ()),  # tanh, softmax and cross_entropy, plain SGD
]


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed (it is no dependency of backprop-tui)")
def test_the_torch_scripts_print_the_engines_losses(tmp_path):
    for name, mine, engine in run_scripts(TORCH_CASES, tmp_path, torch_script):
        assert mine.shape == engine.shape == (STEPS, 2), name
        np.testing.assert_allclose(mine, engine, rtol=1e-9, atol=1e-13, err_msg=name)


def test_the_torch_script_uses_autograd_and_torch_optim():
    text = torch_script(load_scenario("xor", [parse_set("training.optimizer=adam")]))
    assert "loss.backward()" in text and "torch.optim.Adam(params, lr=LEARNING_RATE" in text
    compile(text, "lesson.py", "exec")
