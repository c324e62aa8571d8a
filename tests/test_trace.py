"""Trace files (DESIGN section 5): valid against the shipped schema, strict JSON, reproducible
to the byte, true to the StepRecords they come from, and never left half written."""

from __future__ import annotations

import dataclasses
import errno
import json
import math
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import numpy as np
import pytest
from trace_schema import trace_is_valid, validate_trace

from tui_backprop import Trainer, load_scenario, loads_scenario, write_trace
from tui_backprop.cli import main
from tui_backprop.engine.trainer import Trainer as EngineTrainer
from tui_backprop.trace.writer import TraceError, TraceWriter, schema

DATA = Path(__file__).parent / "data"
SCENARIOS = {
    "tiny": DATA / "tiny.toml",  # full batch, sigmoid, mse
    "softmax_minibatch": DATA / "softmax_minibatch.toml",  # batches of 3 over 5 samples, shuffled
    "sgd_nobias": DATA / "sgd_nobias.toml",  # one sample a step, bias = false
    "explicit_bce": DATA / "explicit_bce.toml",  # explicit init, bce, biases frozen
}

DIVERGING = (DATA / "diverges_1_1.toml").read_text()  # overflows at step 1
EXPLODING = (DATA / "explodes_1_1.toml").read_text()  # its loss blows up at step 18


def _refuse(constant: str):
    raise ValueError(f"not strict JSON: {constant}")


def read_trace(path: Path) -> dict:
    """The trace at ``path``, parsed as strict JSON and validated against the shipped schema."""
    doc = json.loads(path.read_text("utf-8"), parse_constant=_refuse)
    validate_trace(doc)
    return doc


def headless(tmp_path: Path, scenario: Path, steps: int | None = None, name: str = "t.json") -> Path:
    out = tmp_path / name
    argv = [str(scenario), "--headless", "--export", str(out)] + (["--steps", str(steps)] if steps else [])
    assert main(argv) in (0, 3)
    return out


def leftovers(directory: Path) -> list[str]:
    """Temporary files that an export left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


def stepped(scenario, steps: int) -> Trainer:
    trainer = Trainer(scenario)
    trainer.run(steps, record=False)
    return trainer


# -- the schema and its use -------------------------------------------------------------------


def test_shipped_schema_is_a_valid_2020_12_schema():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["$schema"].endswith("2020-12/schema")


def test_schema_is_not_a_pushover(tmp_path):
    """The validator really checks: a broken trace fails it."""
    doc = read_trace(write_trace(tmp_path / "t.json", stepped(load_scenario(SCENARIOS["tiny"]), 2)))
    for breakage in (
        lambda d: d.pop("summary"),
        lambda d: d["summary"].update(stop_reason="tired"),
        lambda d: d["steps"][0].update(step=0),
        lambda d: d["steps"][0]["layers"][0].pop("grad_w"),
        lambda d: d["scenario"]["training"].update(learning_rate=0),
        lambda d: d.update(extra=1),
    ):
        broken = json.loads(json.dumps(doc))
        breakage(broken)
        assert not trace_is_valid(broken)


@pytest.mark.parametrize("name", [*SCENARIOS, "xor"])
def test_every_export_validates(tmp_path, name, capsys):
    scenario = SCENARIOS.get(name, name)
    doc = read_trace(headless(tmp_path, scenario, steps=12))
    assert doc["format"] == "backprop-tui-trace" and doc["version"] == 1
    assert doc["summary"]["steps"] == len(doc["steps"]) == 12
    assert leftovers(tmp_path) == []


def test_export_of_a_diverged_run_validates_with_nulls(tmp_path, capsys):
    path = tmp_path / "diverge.toml"
    path.write_text(DIVERGING)
    doc = read_trace(headless(tmp_path, path))
    assert doc["summary"]["stop_reason"] == "diverged"
    last = doc["steps"][-1]
    assert last["train_loss"] is None
    assert doc["summary"]["final_loss"] is None


def test_zero_steps_trace(tmp_path):
    trainer = Trainer(load_scenario(SCENARIOS["tiny"]))
    doc = read_trace(write_trace(tmp_path / "t.json", trainer))
    assert doc["steps"] == []
    assert doc["summary"] == {"steps": 0, "final_loss": trainer.initial_train_loss, "stop_reason": "steps"}


# -- bytes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_two_identical_runs_give_identical_bytes(tmp_path, name, capsys):
    a = headless(tmp_path, SCENARIOS[name], steps=9, name="a.json").read_bytes()
    b = headless(tmp_path, SCENARIOS[name], steps=9, name="b.json").read_bytes()
    assert a == b


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_headless_export_equals_write_trace_of_a_stepped_trainer(tmp_path, name, capsys):
    from_cli = headless(tmp_path, SCENARIOS[name], steps=11, name="cli.json").read_bytes()
    from_api = write_trace(tmp_path / "api.json", stepped(load_scenario(SCENARIOS[name]), 11)).read_bytes()
    assert from_cli == from_api


def test_headless_export_equals_write_trace_when_the_run_stops_by_itself(tmp_path, capsys):
    # tiny stops at max_steps = 50; the trainer that ran to its end carries the same stop reason
    from_cli = headless(tmp_path, SCENARIOS["tiny"], name="cli.json").read_bytes()
    trainer = stepped(load_scenario(SCENARIOS["tiny"]), 1000)
    assert trainer.step_count == 50 and trainer.stop_reason == "max_steps"
    assert write_trace(tmp_path / "api.json", trainer).read_bytes() == from_cli


def test_trace_after_undo_holds_the_steps_that_remain(tmp_path):
    s = load_scenario(SCENARIOS["softmax_minibatch"])
    trainer = stepped(s, 6)
    trainer.undo()
    trainer.undo()
    assert write_trace(tmp_path / "a.json", trainer).read_bytes() == (
        write_trace(tmp_path / "b.json", stepped(s, 4)).read_bytes()
    )


@pytest.mark.parametrize("scenario", [DIVERGING, EXPLODING], ids=["overflows", "explodes"])
def test_trace_is_strict_json_one_step_per_line(tmp_path, capsys, scenario):
    path = tmp_path / "d.toml"
    path.write_text(scenario)
    text = headless(tmp_path, path).read_text("utf-8")
    json.loads(text, parse_constant=_refuse)  # no NaN, Infinity or -Infinity anywhere
    doc = json.loads(text)
    step_lines = [line for line in text.splitlines() if line.startswith('{"step": ')]
    assert len(step_lines) == len(doc["steps"])
    assert [json.loads(line.rstrip(","))["step"] for line in step_lines] == [s["step"] for s in doc["steps"]]
    assert text.endswith("}\n")


# -- the numbers are the StepRecords' numbers ------------------------------------------------


def _same(actual, expected):
    np.testing.assert_array_equal(np.array(actual, dtype=float).reshape(np.shape(expected)), expected)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_trace_numbers_equal_the_step_records(tmp_path, name):
    s = load_scenario(SCENARIOS[name])
    trainer = Trainer(s)
    records = trainer.run(7)
    doc = read_trace(write_trace(tmp_path / "t.json", trainer))
    assert doc["scenario"] == s.to_dict()
    assert doc["data"] == {"inputs": s.inputs.tolist(), "targets": s.targets.tolist()}
    for w, b, w0, b0 in zip(
        doc["initial"]["w"], doc["initial"]["b"], trainer.initial_W, trainer.initial_b, strict=True
    ):
        _same(w, w0)
        assert b == b0.tolist()
    layers = s.layers
    assert len(doc["steps"]) == len(records) == 7
    for step, rec in zip(doc["steps"], records, strict=True):
        assert (step["step"], step["epoch"], step["batch"]) == (rec.step, rec.epoch, list(rec.batch))
        assert step["loss"] == rec.loss and step["train_loss"] == rec.train_loss
        B = len(rec.batch)
        assert len(step["layers"]) == len(layers) - 1
        for l, (out, lr) in enumerate(zip(step["layers"], rec.layers, strict=True), start=1):
            n, m = layers[l], layers[l - 1]
            for key in ("z", "a", "delta"):
                assert np.shape(out[key]) == (B, n)
                _same(out[key], getattr(lr, key))
            assert np.shape(out["grad_w"]) == np.shape(out["w"]) == (n, m)
            _same(out["grad_w"], lr.grad_w)
            _same(out["w"], lr.w)
            if s.bias:
                assert np.shape(out["grad_b"]) == np.shape(out["b"]) == (n,)
            _same(out["grad_b"], lr.grad_b)
            _same(out["b"], lr.b)


def test_mini_batches_have_their_own_sizes_in_the_trace(tmp_path):
    # 5 samples in batches of 3: each epoch is a batch of 3, then a batch of 2
    doc = read_trace(
        write_trace(tmp_path / "t.json", stepped(load_scenario(SCENARIOS["softmax_minibatch"]), 4))
    )
    assert [len(s["batch"]) for s in doc["steps"]] == [3, 2, 3, 2]
    assert [s["epoch"] for s in doc["steps"]] == [1, 1, 2, 2]
    assert sorted(doc["steps"][0]["batch"] + doc["steps"][1]["batch"]) == [0, 1, 2, 3, 4]
    assert [len(s["layers"][0]["z"]) for s in doc["steps"]] == [3, 2, 3, 2]


def test_without_biases_b_and_grad_b_are_empty_lists(tmp_path):
    s = load_scenario(SCENARIOS["sgd_nobias"])
    assert s.bias is False
    doc = read_trace(write_trace(tmp_path / "t.json", stepped(s, 5)))
    assert doc["initial"]["b"] == [[], []]
    for step in doc["steps"]:
        for layer in step["layers"]:
            assert layer["b"] == [] and layer["grad_b"] == []
            assert layer["w"] != []


def test_frozen_biases_keep_their_values_in_the_trace(tmp_path):
    doc = read_trace(write_trace(tmp_path / "t.json", stepped(load_scenario(SCENARIOS["explicit_bce"]), 5)))
    assert doc["initial"]["b"] == [[0.1, -0.1], [0.0]]
    for step in doc["steps"]:
        assert [layer["b"] for layer in step["layers"]] == [[0.1, -0.1], [0.0]]
        assert any(v != 0 for layer in step["layers"] for v in layer["grad_b"])  # computed, not applied


# -- the summary -----------------------------------------------------------------------------


def test_summary_steps_and_final_loss(tmp_path):
    trainer = stepped(load_scenario(SCENARIOS["tiny"]), 13)
    doc = read_trace(write_trace(tmp_path / "t.json", trainer))
    assert doc["summary"] == {"steps": 13, "final_loss": trainer.train_losses[-1], "stop_reason": "steps"}
    assert doc["summary"]["final_loss"] == doc["steps"][-1]["train_loss"]


def test_a_reason_given_by_the_caller_yields_to_the_runs_own(tmp_path):
    s = load_scenario(SCENARIOS["tiny"])
    running = read_trace(write_trace(tmp_path / "a.json", stepped(s, 3), stop_reason="user"))
    assert running["summary"]["stop_reason"] == "user"
    finished = read_trace(write_trace(tmp_path / "b.json", stepped(s, 50), stop_reason="user"))
    assert finished["summary"]["stop_reason"] == "max_steps"


def _first_step_below(scenario, threshold: float) -> int:
    trainer = Trainer(dataclasses.replace(scenario, max_steps=100_000, target_loss=None))
    for _ in range(100_000):
        trainer.run(1, record=False)
        if trainer.train_losses[-1] < threshold:
            return trainer.step_count
    raise AssertionError("never got below the threshold")


def test_target_loss_wins_over_max_steps_on_the_same_step(tmp_path):
    s = dataclasses.replace(load_scenario(SCENARIOS["tiny"]), learning_rate=3.0)
    k = _first_step_below(s, 0.2)
    assert k > 1
    both = dataclasses.replace(s, max_steps=k, target_loss=0.2)
    doc = read_trace(write_trace(tmp_path / "t.json", stepped(both, k + 10)))
    assert doc["summary"]["steps"] == k
    assert doc["summary"]["stop_reason"] == "target_loss"
    # one step earlier, only max_steps holds
    early = dataclasses.replace(s, max_steps=k - 1, target_loss=0.2)
    assert read_trace(write_trace(tmp_path / "u.json", stepped(early, k + 10)))["summary"]["stop_reason"] == (
        "max_steps"
    )


def test_max_steps_wins_over_steps(tmp_path, capsys):
    # --steps 50 on a scenario whose max_steps is 50: both hold at step 50
    doc = read_trace(headless(tmp_path, SCENARIOS["tiny"], steps=50))
    assert doc["summary"]["steps"] == 50
    assert doc["summary"]["stop_reason"] == "max_steps"


def test_diverged_wins_over_max_steps(tmp_path):
    s = loads_scenario(EXPLODING, "explode.toml")
    k = stepped(s, 1000).step_count
    assert 1 < k < 1000
    both = dataclasses.replace(s, max_steps=k)
    trainer = stepped(both, k + 10)
    doc = read_trace(write_trace(tmp_path / "t.json", trainer))
    assert doc["summary"]["steps"] == k
    assert doc["summary"]["stop_reason"] == "diverged"


def test_unknown_stop_reason_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="unknown stop reason"):
        write_trace(tmp_path / "t.json", stepped(load_scenario(SCENARIOS["tiny"]), 2), stop_reason="bored")
    assert list(tmp_path.iterdir()) == []


# -- an interrupted export leaves nothing behind ---------------------------------------------


class Boom(RuntimeError):
    pass


def _fail_on_call(monkeypatch, owner, name: str, n: int, exc: BaseException) -> list[int]:
    """Make owner.name raise ``exc`` on its n-th call; returns the call counter."""
    real = getattr(owner, name)
    calls = [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


@pytest.fixture(params=[Boom("disk on fire"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def interruption(request):
    return request.param


@pytest.mark.parametrize("old", [None, b"an older trace\n"], ids=["no-file", "older-file"])
def test_interrupted_headless_export(tmp_path, monkeypatch, interruption, old, capsys):
    target = tmp_path / "t.json"
    if old is not None:
        target.write_bytes(old)
    calls = _fail_on_call(monkeypatch, TraceWriter, "write_step", 4, interruption)
    argv = [str(SCENARIOS["tiny"]), "--headless", "--steps", "10", "--export", str(target)]
    if isinstance(interruption, KeyboardInterrupt):  # a second Ctrl+C: stopped at once, exit 130
        assert main(argv) == 130
        assert "interrupted: stopped at once; a trace in progress was not written" in capsys.readouterr().err
    else:
        with pytest.raises(type(interruption)):
            main(argv)
    assert calls[0] == 4
    assert leftovers(tmp_path) == []
    if old is None:
        assert list(tmp_path.iterdir()) == []
    else:
        assert target.read_bytes() == old


@pytest.mark.parametrize("old", [None, b"an older trace\n"], ids=["no-file", "older-file"])
def test_interrupted_write_trace(tmp_path, monkeypatch, interruption, old):
    target = tmp_path / "t.json"
    if old is not None:
        target.write_bytes(old)
    trainer = stepped(load_scenario(SCENARIOS["softmax_minibatch"]), 10)
    calls = _fail_on_call(monkeypatch, EngineTrainer, "step", 6, interruption)  # the replay's 6th step
    with pytest.raises(type(interruption)):
        write_trace(target, trainer)
    assert calls[0] == 6
    assert leftovers(tmp_path) == []
    assert (target.read_bytes() if target.exists() else None) == old


def test_trainer_failing_between_chunks_of_a_long_headless_run(tmp_path, monkeypatch, capsys):
    # headless writes in chunks of 256 steps; fail in the second chunk, after the first is on disk
    scenario = tmp_path / "long.toml"
    scenario.write_text(SCENARIOS["tiny"].read_text().replace("max_steps = 50", "max_steps = 1000"))
    target = tmp_path / "t.json"
    target.write_bytes(b"older\n")
    calls = _fail_on_call(monkeypatch, EngineTrainer, "_advance", 300, Boom("midway"))
    with pytest.raises(Boom):
        main([str(scenario), "--headless", "--steps", "600", "--export", str(target)])
    assert calls[0] == 300
    assert target.read_bytes() == b"older\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.toml", "t.json"]


class _FailingFile:
    """A text file whose write() fails with ENOSPC after ``ok`` successful writes."""

    def __init__(self, real, ok: int) -> None:
        self._real, self._ok = real, ok

    def write(self, text: str) -> int:
        if self._ok == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._ok -= 1
        return self._real.write(text)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self) -> _FailingFile:  # common/files.py also reads files through os.fdopen
        return self

    def __exit__(self, *exc) -> None:
        self._real.close()


def _os_with(monkeypatch, **overrides):
    """Replace what common/files.py, which writes a trace's file, sees as ``os`` with the real
    module plus ``overrides``."""
    import os

    import tui_backprop.common.files as trace_module

    fake = SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    for key, value in overrides.items():
        setattr(fake, key, value)
    monkeypatch.setattr(trace_module, "os", fake)


def test_full_disk_during_headless_export_is_an_error_naming_the_path(tmp_path, monkeypatch, capsys):
    import os

    _os_with(monkeypatch, fdopen=lambda *a, **k: _FailingFile(os.fdopen(*a, **k), ok=3))
    target = tmp_path / "t.json"
    target.write_bytes(b"older\n")
    argv = [str(SCENARIOS["tiny"]), "--headless", "--steps", "10", "--export", str(target), "--force"]
    assert main(argv) == 2  # --force: the older file would be replaced by a complete trace
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == f"error: {target}: cannot write: No space left on device"
    assert "Traceback" not in err
    assert target.read_bytes() == b"older\n"
    assert leftovers(tmp_path) == []


def test_failing_rename_leaves_the_older_file_and_no_temporary(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    _os_with(monkeypatch, replace=refuse)
    target = tmp_path / "t.json"
    target.write_bytes(b"older\n")
    with pytest.raises(TraceError) as info:
        write_trace(target, stepped(load_scenario(SCENARIOS["tiny"]), 3))
    assert str(info.value) == f"error: {target}: cannot write: Invalid cross-device link"
    assert target.read_bytes() == b"older\n"
    assert leftovers(tmp_path) == []


def test_writer_left_by_an_exception_removes_its_temporary_file(tmp_path):
    trainer = Trainer(load_scenario(SCENARIOS["tiny"]))
    with pytest.raises(Boom):
        with TraceWriter(tmp_path / "t.json", trainer) as writer:
            writer.write_step(trainer.step())
            assert len(leftovers(tmp_path)) == 1  # the temporary file exists while writing
            raise Boom
    assert list(tmp_path.iterdir()) == []


def test_trace_final_loss_of_a_finite_run_is_finite(tmp_path):
    doc = read_trace(write_trace(tmp_path / "t.json", stepped(load_scenario(SCENARIOS["explicit_bce"]), 4)))
    assert math.isfinite(doc["summary"]["final_loss"])
