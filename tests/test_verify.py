"""A trace that lies is caught (tui_backprop/trace/verify.py): every recorded number is recomputed.

Each lie is a trace exported by the real command with one number changed in the test; it must
be refused with exactly one message, naming the step, the layer, the field and the index of
that number (the numbers after it are recomputed from the true state, so nothing cascades),
with the honest number as the recomputed one. Honest traces of every bundled scenario, of
--every and --fields exports, and of small random scenarios (hypothesis) pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tui_backprop.tui.replay_app as replay_app
from tui_backprop import Trainer, loads_scenario
from tui_backprop.cli import main
from tui_backprop.scenario.reader import bundled_names
from tui_backprop.trace.reader import loads_trace, read_trace
from tui_backprop.trace.verify import verify
from tui_backprop.trace.writer import TraceError, TraceWriter, summary_stop_reason

DATA = Path(__file__).parent / "data"


@functools.cache
def exported(scenario: str, steps: int, *flags: str) -> str:
    """The trace of ``backprop-tui SCENARIO --headless --steps N --export PATH FLAGS``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.json"
        argv = [scenario, "--headless", "--steps", str(steps), "--export", str(path), *flags]
        # its summary and progress lines would land in the capsys of whichever test exports first
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(argv) in (0, 3)
        return path.read_text("utf-8")


def trace(scenario: str, steps: int, *flags: str) -> dict:
    return json.loads(exported(scenario, steps, *flags))


def problems(doc: dict) -> list[str]:
    """What verifying the trace ``doc`` says is wrong ([] when it is honest)."""
    recording = loads_trace(json.dumps(doc), "run.json", whole=False)  # the reader accepts it
    try:
        verify(recording)
    except TraceError as e:
        assert e.title == "run.json"
        return e.problems
    return []


def at(doc: dict, path: str) -> tuple[list | dict, int | str]:
    """The container and key of ``path`` ("steps.2.layers.0.w.0.0") in doc."""
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    for p in parents:
        doc = doc[p]
    return doc, last


XOR = ("xor", 4)
MOMENTUM = ("xor", 4, "--set", "training.optimizer=momentum")
ADAM = ("xor", 4, "--set", "training.optimizer=adam", "--set", "training.learning_rate=0.1")
L2 = ("xor", 4, "--set", "training.l2=0.01")
CIRCLE = ("circle", 3)  # generated data, a test set, batches of 10
SPLIT = ("proportional_2_3_1_split", 3)  # the proportional error split

# a lie: the trace, the number changed, and where the message must say it is
LIES = {
    "weight": (XOR, "steps.2.layers.0.w.0.0", "step 3, layer 1, w[0, 0]"),
    "bias": (XOR, "steps.1.layers.1.b.0", "step 2, layer 2, b[0]"),
    "z": (XOR, "steps.0.layers.0.z.2.1", "step 1, layer 1, z[2, 1]"),
    "a": (XOR, "steps.3.layers.1.a.3.0", "step 4, layer 2, a[3, 0]"),
    "delta": (XOR, "steps.1.layers.0.delta.1.2", "step 2, layer 1, delta[1, 2]"),
    "grad_w": (XOR, "steps.2.layers.1.grad_w.0.1", "step 3, layer 2, grad_w[0, 1]"),
    "grad_b": (XOR, "steps.0.layers.0.grad_b.1", "step 1, layer 1, grad_b[1]"),
    "loss": (XOR, "steps.0.loss", "step 1, loss"),
    "train_loss": (XOR, "steps.3.train_loss", "step 4, train_loss"),
    "test_loss": (CIRCLE, "steps.1.test_loss", "step 2, test_loss"),
    "penalty": (L2, "steps.2.penalty", "step 3, penalty"),
    "final_loss": (XOR, "summary.final_loss", "summary, final_loss"),
    "initial weight": (XOR, "initial.w.1.0.2", "initial, layer 2, w[0, 2]"),
    "initial bias": (MOMENTUM, "initial.b.0.1", "initial, layer 1, b[1]"),
    "data row": (CIRCLE, "data.inputs.5.1", "data, inputs[5, 1]"),
    "test data row": (CIRCLE, "test_data.inputs.0.0", "test_data, inputs[0, 0]"),
    "momentum velocity": (MOMENTUM, "steps.1.layers.0.velocity_w.2.1", "step 2, layer 1, velocity_w[2, 1]"),
    "momentum velocity of a bias": (
        MOMENTUM,
        "steps.2.layers.1.velocity_b.0",
        "step 3, layer 2, velocity_b[0]",
    ),
    "adam m": (ADAM, "steps.2.layers.1.m_w.0.0", "step 3, layer 2, m_w[0, 0]"),
    "adam v": (ADAM, "steps.1.layers.0.v_b.1", "step 2, layer 1, v_b[1]"),
    "proportional error": (SPLIT, "steps.1.layers.0.error.0.1", "step 2, layer 1, error[0, 1]"),
    "proportional update": (SPLIT, "steps.2.layers.1.update_w.0.2", "step 3, layer 2, update_w[0, 2]"),
}


@pytest.mark.parametrize("kind", sorted(LIES))
def test_a_trace_with_one_number_changed_is_refused_naming_that_number(kind):
    (args, path, where) = LIES[kind]
    doc = trace(*args)
    parent, key = at(doc, path)
    honest = parent[key]
    parent[key] = honest + 0.25
    found = problems(doc)
    assert len(found) == 1, found  # the steps after it start from the true state: no cascade
    m = re.fullmatch(rf"{re.escape(where)}: recorded (\S+), recomputed (\S+)( \(.*\))?", found[0])
    assert m, found[0]
    assert float(m[1]) == pytest.approx(honest + 0.25, rel=1e-3)
    assert float(m[2]) == pytest.approx(honest, rel=1e-3, abs=1e-3)  # printed to 4 digits or more


def test_the_lies_of_the_issue_are_each_named(capsys, tmp_path):
    """A weight changed to 123.456, loss = 0 and final_loss = -5.0, through --check (exit 2)."""
    doc = trace(*XOR)
    doc["steps"][2]["layers"][0]["w"][0][0] = 123.456
    doc["steps"][3]["loss"] = 0
    doc["summary"]["final_loss"] = -5.0
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    assert main(["--check", str(path)]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and len(lines) == 3, err
    assert lines[0].startswith(f"error: {path}: step 3, layer 1, w[0, 0]: recorded 123.456, recomputed -0.")
    assert lines[1].startswith(f"error: {path}: step 4, loss: recorded 0, recomputed 0.2")
    assert lines[2].startswith(f"error: {path}: summary, final_loss: recorded -5, recomputed 0.2")


def test_a_stop_reason_the_run_does_not_reach_is_refused():
    doc = trace(*XOR)
    doc["summary"]["stop_reason"] = "target_loss"
    assert problems(doc) == [
        'summary, stop_reason: recorded "target_loss", recomputed "steps": the training-set loss after '
        f"step 4 is {doc['summary']['final_loss']:.6g}, not below target_loss 0.01"
    ]


def test_a_run_that_stopped_by_itself_cannot_say_it_was_cut_short():
    doc = trace("xor", 5, "--set", "training.max_steps=3")
    assert doc["summary"]["stop_reason"] == "max_steps" and not problems(doc)
    doc["summary"]["stop_reason"] = "steps"
    assert problems(doc) == [
        'summary, stop_reason: recorded "steps", recomputed "max_steps" (the run stops by itself at step 3)'
    ]
    doc["summary"]["stop_reason"] = "user"  # Ctrl+C as the run stopped: both are true
    assert not problems(doc)


def test_steps_after_the_run_stopped_by_itself_are_refused():
    doc = trace(*XOR)
    doc["scenario"]["training"]["max_steps"] = 2
    assert problems(doc) == [
        "step 3: recorded, but the run stops by itself at step 2 (max_steps): no step follows it"
    ]


def test_a_changed_warning_is_refused_and_shown_escaped():
    doc = trace("xor_identity_worked", 2)
    doc["steps"][0]["warnings"][0]["message"] = "All is well.\u001b[2J"
    (found,) = problems(doc)
    assert found.startswith(
        'step 1, warnings[0]: recorded identical_units, layer 1, nodes [0, 1, 2] "All is well.\\u001b[2J", '
        'recomputed identical_units, layer 1, nodes [0, 1, 2] "Layer 1: units 1, 2 and 3 are exact copies'
    )
    del doc["steps"][1]["warnings"]  # no warning where there is one
    assert problems(doc)[1].startswith("step 2, warnings[0]: recorded none, recomputed identical_units")


def test_an_inline_data_row_that_was_changed_is_caught_at_the_first_step_it_is_used():
    """Inline data is the scenario's own (nothing draws it again): the recorded steps, computed
    from the original rows, disagree with it."""
    doc = trace(*XOR)
    doc["data"]["inputs"][2][0] = 0.5
    found = problems(doc)
    assert found and found[0].startswith("step 1, loss: recorded ")


def test_a_field_the_run_does_not_have_or_that_it_lacks_is_named():
    doc = trace(*MOMENTUM)
    del doc["steps"][1]["layers"][0]["velocity_w"]
    doc["steps"][2]["test_loss"] = 0.5
    assert problems(doc) == [
        "step 2, layer 1: no velocity_w, which the run has",
        "step 3, test_loss: recorded, but the run has no test_loss",
    ]


def test_null_agrees_only_with_a_number_that_is_not_finite():
    doc = trace(str(DATA / "diverges_1_1.toml"), 5)  # diverges at step 1: train_loss is null
    assert doc["summary"]["stop_reason"] == "diverged" and doc["steps"][0]["train_loss"] is None
    assert problems(doc) == []
    doc["steps"][0]["train_loss"] = 3.0
    doc["steps"][0]["loss"] = None
    assert problems(doc) == [
        "step 1, loss: recorded null, recomputed 0.625",
        "step 1, train_loss: recorded 3, recomputed inf (null in a trace)",
    ]


def test_a_trace_that_would_take_too_long_to_recompute_is_refused_at_once():
    doc = trace("xor", 1, "--fields", "loss")
    doc["every"] = 10_000_000
    doc["steps"][0]["step"] = 10_000_000
    doc["scenario"]["training"]["max_steps"] = 10_000_000
    assert problems(doc) == [
        "steps: verifying this trace means recomputing 10,000,000 steps (7.2e+08 multiply-adds), about "
        "400 s on an idle machine, more than --check takes (6 s); --no-verify skips the recomputation"
    ]


# -- the tolerance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "refused"), [(1 + 1e-13, False), (1 - 1e-13, False), (1 + 1e-6, True), (1 - 1e-6, True)]
)
def test_a_relative_change_of_1e_13_passes_and_one_of_1e_6_does_not(factor, refused):
    doc = trace(*XOR)
    for path in ("steps.2.layers.0.w.1.0", "steps.1.train_loss", "steps.3.layers.1.a.2.0"):
        parent, key = at(doc, path)
        assert abs(parent[key]) > 0.1  # not a value near 0, where the absolute floor decides
        parent[key] *= factor
    found = problems(doc)
    if not refused:
        assert found == []
        return
    places = [p.split(":")[0] for p in found]
    assert places == ["step 2, train_loss", "step 3, layer 1, w[1, 0]", "step 4, layer 2, a[2, 0]"]
    for line in found:  # to as many digits as it takes to tell the two apart
        m = re.fullmatch(r".*: recorded (\S+), recomputed (\S+)", line)
        assert m and m[1] != m[2] and len(m[1]) == len(m[2]), line


# -- honest traces pass ------------------------------------------------------------------

# blobs_784 writes 15 MB of data and 4 MB of weights: the same network, narrower, on fewer points
HONEST = [(name, 3) for name in bundled_names() if name != "blobs_784"]
HONEST += [("blobs_784", 2, "--set", "network.layers=[20,8,10]", "--set", "data.samples=60")]
HONEST += [(str(p), 3) for p in sorted(DATA.glob("*.toml"))]


@pytest.mark.parametrize("args", HONEST, ids=lambda a: " ".join([Path(a[0]).stem, *a[2:]]))
def test_an_honest_trace_of_every_bundled_scenario_passes(args):
    assert problems(trace(*args)) == []


KEPT = [
    ("xor", 10, "--every", "3"),  # steps 3, 6, 9 and 10
    ("circle", 7, "--every", "2", "--fields", "loss,test_loss,w,b"),
    ("xor", 5, "--set", "training.optimizer=momentum", "--fields", "loss,velocity_w"),  # w recomputed
    ("xor", 5, "--set", "training.optimizer=adam", "--fields", "w,b,m_w,v_b,warnings"),
    ("proportional_2_3_1_split", 6, "--every", "4", "--fields", "error,update_w,train_loss"),
    ("xor", 4, "--fields", "step"),  # nothing but the step numbers: the summary is still checked
]


@pytest.mark.parametrize("args", KEPT, ids=lambda a: " ".join(map(str, a)))
def test_an_honest_trace_of_every_or_fields_passes(args):
    doc = trace(*args)
    assert "every" in doc or "fields" in doc
    assert problems(doc) == []


def test_a_lie_in_a_trace_of_every_is_pinned_to_its_step():
    doc = trace("xor", 10, "--every", "3")
    assert [s["step"] for s in doc["steps"]] == [3, 6, 9, 10]
    doc["steps"][1]["layers"][0]["w"][2][1] += 0.5
    doc["steps"][3]["loss"] *= 1.01
    assert [p.split(":")[0] for p in problems(doc)] == ["step 6, layer 1, w[2, 1]", "step 10, loss"]


def test_a_lie_in_a_trace_of_some_fields_is_pinned_to_its_step():
    doc = trace("xor", 6, "--set", "training.optimizer=momentum", "--fields", "loss,velocity_w")
    doc["steps"][2]["layers"][1]["velocity_w"][0][0] += 0.5
    doc["steps"][4]["loss"] = 0
    assert [p.split(":")[0] for p in problems(doc)] == ["step 3, layer 2, velocity_w[0, 0]", "step 5, loss"]
    doc["steps"][0]["train_loss"] = 0.25  # a field that the trace's fields leave out
    assert problems(doc)[0] == "step 1, train_loss: recorded, but the trace's fields do not list it"


def test_the_summary_of_a_trace_of_every_says_where_the_run_ended():
    doc = trace("xor", 10, "--every", "3")
    doc["summary"]["final_loss"] = doc["steps"][2]["train_loss"]  # step 9's, not step 10's
    assert [p.split(":")[0] for p in problems(doc)] == ["summary, final_loss"]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_trace_of_a_small_random_scenario_passes(data, tmp_path_factory):
    text, steps, every, fields = data.draw(small_runs())
    s = loads_scenario(text, "random.toml")
    trainer = Trainer(s, history=1)
    path = tmp_path_factory.mktemp("random") / "run.json"
    writer = TraceWriter(path, trainer, every, fields)
    writer.run(trainer, steps)
    writer.write_last(trainer)
    final = trainer.train_losses[-1] if trainer.step_count else trainer.initial_train_loss
    writer.close(final, summary_stop_reason(trainer, "steps"))
    verify(read_trace(path, whole=False))


ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")


@st.composite
def small_runs(draw):
    """A scenario of a few nodes and samples (TOML text), a number of steps, --every, --fields."""
    layers = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(2, 4)))]
    n = draw(st.integers(1, 6))
    number = st.floats(-2, 2, allow_nan=False).map(lambda x: round(x, 3))
    inputs = [[draw(number) for _ in range(layers[0])] for _ in range(n)]
    targets = [[draw(number) for _ in range(layers[-1])] for _ in range(n)]
    optimizer = draw(st.sampled_from(["gd", "momentum", "adam"]))
    training = {
        "loss": draw(st.sampled_from(['"mse"', '"sse"', '"half_sse"'])),
        "learning_rate": draw(st.sampled_from([0.01, 0.1, 0.5, 2.0])),
        "batch": draw(st.sampled_from(['"full"', '"sample"', "2"])),
        "shuffle": draw(st.sampled_from(["true", "false"])),
        "seed": draw(st.integers(0, 9)),
        "optimizer": f'"{optimizer}"',
        "update_biases": draw(st.sampled_from(["true", "false"])),
        "error_split": draw(st.sampled_from(['"gradient"', '"proportional"'])),
        "l2": draw(st.sampled_from([0, 0.01])),
        "max_steps": draw(st.integers(1, 8)),
    }
    tables = {
        "scenario": {"name": '"random"'},
        "network": {
            "layers": layers,
            "activations": json.dumps([draw(st.sampled_from(ACTIVATIONS)) for _ in layers[1:]]),
            "bias": draw(st.sampled_from(["true", "false"])),
        },
        "init": {
            "method": draw(st.sampled_from(['"uniform"', '"normal"', '"xavier"'])),
            "seed": draw(st.integers(0, 99)),
        },
        "data": {"inputs": json.dumps(inputs), "targets": json.dumps(targets)},
        "training": training,
    }
    text = "\n".join(
        f"[{name}]\n" + "\n".join(f"{k} = {v}" for k, v in table.items()) for name, table in tables.items()
    )
    every = draw(st.sampled_from([1, 1, 2, 3]))
    fields = draw(st.sampled_from([None, None, ("loss", "w"), ("train_loss", "delta", "b", "warnings")]))
    return text, draw(st.integers(0, 6)), every, fields


# -- the command line and replay -------------------------------------------------------------


def lying_trace(tmp_path: Path) -> Path:
    doc = trace(*XOR)
    doc["steps"][1]["layers"][1]["grad_w"][0][2] = 0.5
    path = tmp_path / "lie.json"
    path.write_text(json.dumps(doc))
    return path


def test_no_verify_skips_the_recomputation_but_not_the_format(tmp_path, capsys):
    path = lying_trace(tmp_path)
    assert main(["--check", "--no-verify", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("4 steps, stopped: steps, not recomputed (--no-verify)\n") and err == ""
    broken = tmp_path / "broken.json"
    broken.write_text(path.read_text().replace('"grad_w": [[', '"grad_w": [[1, ', 1))
    assert main(["--check", "--no-verify", str(broken)]) == 2
    assert (
        "steps[0].layers[0].grad_w: expected 3 x 2 (n_1 x n_0), got rows of different lengths"
        in capsys.readouterr().err
    )


class FakeApp:
    """Stands for the replay app: records that it was opened, instead of opening."""

    opened: list[object] = []
    return_code = 0  # what the command line reads after run(), as it does of a Textual app

    def __init__(self, recording, export_path=None) -> None:
        self.recording = recording

    def run(self) -> None:
        FakeApp.opened.append(self.recording)


def test_replay_refuses_a_lie_before_the_app_opens(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(replay_app, "ReplayApp", FakeApp)
    FakeApp.opened = []
    path = lying_trace(tmp_path)
    assert main([str(path)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"error: {path}: step 2, layer 2, grad_w[0, 2]: recorded 0.5, recomputed ")
    assert FakeApp.opened == []
    assert main([str(path), "--no-verify"]) == 0  # the user's choice: it opens
    assert len(FakeApp.opened) == 1


def test_no_verify_goes_with_check_or_a_trace(capsys):
    with pytest.raises(SystemExit) as info:
        main(["xor", "--headless", "--no-verify"])
    assert info.value.code == 2
    assert "--no-verify goes with --check or a trace to replay" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["every_third_step", "some_fields"])
def test_the_check_command_verifies_the_traces_only_replay_refuses(name, capsys):
    path = Path(__file__).parent / "bad_traces" / f"{name}.json"
    assert main(["--check", str(path)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(", every number recomputed")


def test_a_generated_set_of_another_size_is_refused_before_it_is_drawn():
    doc = trace(*CIRCLE)
    doc["scenario"]["data"]["samples"] = 20_000_000 // 2  # the most a generator may draw
    assert problems(doc) == ["scenario.data.samples: says 10000000, the trace holds 200 rows"]


def test_a_trace_written_with_other_numpy_kernels_verifies(tmp_path):
    """numpy picks its SIMD loops and OpenBLAS its kernels per CPU, and they round the last bits
    differently: a trace from another machine is stood in for by one written with other kernels
    (in a process of its own: they are chosen when numpy loads), then verified here."""
    path = tmp_path / "other.json"
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": "X86_V3", "OPENBLAS_CORETYPE": "Sandybridge"}
    argv = [
        sys.executable,
        "-m",
        "tui_backprop.cli",
        "spiral",
        "--headless",
        "--steps",
        "10",
        "--export",
        str(path),
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert problems(json.loads(path.read_text())) == []


EVERY_3 = "(with every 3 the steps are 3, 6, 9, ... and the run's last one)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda doc: doc["steps"][1].update(step=5),
            f"steps[1].step: expected 6 {EVERY_3}, got 5",
        ),
        (
            lambda doc: doc["steps"][3].update(step=13),
            f"steps[3].step: expected 10 to 12 {EVERY_3}, got 13",
        ),
        (
            lambda doc: doc["steps"][2]["layers"][1]["w"].append([1, 2, 3]),
            "steps[2].layers[1].w: expected 1 x 3 (n_2 x n_1), got 2 x 3",
        ),
        (
            lambda doc: doc["steps"][0].update(epoch=2),
            'steps[0].epoch: expected 3 (batch = "full", in file order), got 2',
        ),
    ],
    ids=["a step between", "after the last", "a shape", "an epoch"],
)
def test_a_trace_of_every_is_read_with_its_numbering_and_shapes_checked(change, message, tmp_path, capsys):
    """What the reader checks of a trace kept in part, before (and without) any recomputation."""
    doc = trace("xor", 10, "--every", "3", "--fields", "epoch,loss,w")
    capsys.readouterr()  # the export's progress, when it ran here
    change(doc)
    path = tmp_path / "kept.json"
    path.write_text(json.dumps(doc))
    assert main(["--check", "--no-verify", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: {message}\n"
