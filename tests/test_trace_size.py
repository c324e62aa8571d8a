"""Small traces and flat memory: --every and --fields, compact loss series, a bounded undo
history with optimiser state, and a streamed trace of the 784-256-10 scenario whose writer's
memory does not grow with the number of steps."""

from __future__ import annotations

import dataclasses
import json
import tracemalloc
from pathlib import Path

import pytest
from trace_schema import trace_is_valid, validate_trace

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.engine.loss_series import LossSeries
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.trace.writer import FIELDS, TraceWriter, schema

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"  # 2-2-1, max_steps = 50, no target_loss


def trace(path: Path) -> dict:
    doc = json.loads(path.read_text("utf-8"))
    validate_trace(doc)
    return doc


def headless(tmp_path: Path, name: str, scenario: str, *flags: str) -> dict:
    out = tmp_path / f"{name}.json"
    assert main([scenario, "--headless", "--export", str(out), *flags]) in (0, 3)
    return trace(out)


@pytest.mark.parametrize(
    "scenario,steps,every,expected",
    [
        (str(TINY), 25, 10, [10, 20, 25]),  # every 10th, then the last
        (str(TINY), 30, 10, [10, 20, 30]),  # the last is due anyway: not written twice
        (str(TINY), 7, 50, [7]),  # K beyond the run: only the last
        ("xor", 1000, 100, [*range(100, 600, 100), 569]),  # the run stops by itself at 569
    ],
)
def test_every_writes_every_kth_step_and_the_last_each_as_in_the_whole_trace(
    tmp_path, scenario, steps, every, expected
):
    whole = headless(tmp_path, "whole", scenario, "--steps", str(steps))
    doc = headless(tmp_path, "every", scenario, "--steps", str(steps), "--every", str(every))
    assert doc["every"] == every and "every" not in whole
    assert [s["step"] for s in doc["steps"]] == expected
    by_step = {s["step"]: s for s in whole["steps"]}
    for s in doc["steps"]:
        assert s == by_step[s["step"]]  # the same numbers, bit for bit, as the whole trace's
    assert doc["summary"] == {**whole["summary"], "steps": len(expected)}
    for key in ("scenario", "data", "initial"):
        assert doc[key] == whole[key]


def test_fields_keeps_only_the_named_fields_of_each_step_and_layer(tmp_path):
    whole = headless(tmp_path, "whole", "xor", "--steps", "12")
    doc = headless(tmp_path, "some", "xor", "--steps", "12", "--fields", "w,train_loss,grad_b")
    assert doc["fields"] == ["step", "train_loss", "grad_b", "w"]
    for mine, full in zip(doc["steps"], whole["steps"], strict=True):
        assert set(mine) == {"step", "train_loss", "layers"}
        assert mine["train_loss"] == full["train_loss"]
        for layer, full_layer in zip(mine["layers"], full["layers"], strict=True):
            assert layer == {"w": full_layer["w"], "grad_b": full_layer["grad_b"]}
    assert doc["summary"] == whole["summary"]
    # no layer field: no layers at all
    doc = headless(tmp_path, "losses", "xor", "--steps", "12", "--fields", "loss", "--every", "5")
    assert [set(s) for s in doc["steps"]] == [{"step", "loss"}] * 3


def test_fields_names_the_optimizer_state(tmp_path):
    text = TINY.read_text().replace('loss = "mse"', 'loss = "mse"\noptimizer = "adam"')
    assert 'optimizer = "adam"' in text
    path = tmp_path / "adam.toml"
    path.write_text(text)
    doc = headless(tmp_path, "adam", str(path), "--steps", "3", "--fields", "m_w,v_b")
    for s in doc["steps"]:
        assert [set(layer) for layer in s["layers"]] == [{"m_w", "v_b"}] * 2


def test_without_the_flags_a_trace_has_neither_every_nor_fields(tmp_path):
    doc = headless(tmp_path, "plain", str(TINY), "--steps", "3", "--every", "1")
    assert "every" not in doc and "fields" not in doc


def test_a_trace_that_names_no_fields_still_needs_every_field(tmp_path):
    """The schema relaxes a step's required fields only when "fields" says which are there."""
    doc = headless(tmp_path, "some", "xor", "--steps", "2", "--fields", "loss")
    assert trace_is_valid(doc)
    del doc["fields"]
    assert not trace_is_valid(doc)


@pytest.mark.parametrize(
    "flags,named",
    [
        (["--fields", "loss,wieghts"], "'wieghts'"),
        (["--fields", "loss,"], "''"),
        (["--every", "0"], "--every"),
        (["--every", "two"], "--every"),
    ],
)
def test_bad_values_exit_2_naming_them(tmp_path, capsys, flags, named):
    out = tmp_path / "t.json"
    with pytest.raises(SystemExit) as info:
        main(["xor", "--headless", "--steps", "3", "--export", str(out), *flags])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("flags", [["--every", "5"], ["--fields", "loss"]])
@pytest.mark.parametrize("mode", [[], ["--headless"]], ids=["app", "no-export"])
def test_the_flags_go_with_a_headless_export(capsys, flags, mode):
    with pytest.raises(SystemExit) as info:
        main(["xor", *mode, *flags])
    assert info.value.code == 2
    assert f"{flags[0]} goes with --headless --export" in capsys.readouterr().err


def test_every_field_name_is_known_to_the_schema():
    enum = schema()["properties"]["fields"]["items"]["enum"]
    assert list(FIELDS) == enum


# -- memory -------------------------------------------------------------------------------------


def growth(scenario, history: int, checkpoints: list[int]) -> tuple[list[tuple[int, int]], Trainer]:
    """At each step count of ``checkpoints``: the Python memory still held (tracemalloc), and the
    part of it that the trainer's float64 series (its LossSeries attributes) take, capacity included.

    Traced from before the trainer exists: memory allocated untraced and freed later would
    hide what replaces it."""
    tracemalloc.start()
    try:
        trainer = Trainer(scenario, history=history)
        points = []
        for n in checkpoints:
            trainer.run(n - trainer.step_count, record=False)
            series = sum(v.nbytes for v in vars(trainer).values() if isinstance(v, LossSeries))
            points.append((tracemalloc.get_traced_memory()[0], series))
        return points, trainer
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_memory_grows_by_the_two_loss_values_of_a_step_only(optimizer):
    """The loss series are float64 arrays (16 bytes a step for both; a list of floats takes 64),
    as is a classifier's training-set accuracy (xor is one: 8 bytes more), and the undo history
    is bounded, also with the optimiser's state in it: from step 1,000 to step 3,000 (well past
    the 10 states kept; a fast run saves one every 32 steps, 128 for xor with gd) nothing else keeps
    a value a step: less than 8 bytes a step (the allocator's arenas and the arrays' spare
    capacity settle by some kilobytes, 2 to 5 bytes a step over these 2,000 steps)."""
    s = dataclasses.replace(load_scenario("xor"), target_loss=None, max_steps=10**9, optimizer=optimizer)
    [(m1, a1), (m3, a3)], trainer = growth(s, 10, [1_000, 3_000])
    assert isinstance(trainer.losses, LossSeries) and isinstance(trainer.train_losses, LossSeries)
    series_per_step, other_per_step = (a3 - a1) / 2_000, ((m3 - a3) - (m1 - a1)) / 2_000
    assert isinstance(trainer.train_accuracies, LossSeries) and len(trainer.test_accuracies) == 0
    assert 23 < series_per_step < 26, f"the loss and accuracy series: {series_per_step:.1f} bytes a step"
    assert other_per_step < 8, f"everything else: {other_per_step:.1f} bytes a step"
    assert len(trainer._history) == 10
    assert trainer.step_count == len(trainer.losses) == len(trainer.train_losses) == 3_000


# the 784-256-10 run: its length, where it is first measured, the steps kept; on 200 of the
# scenario's samples (the training-set loss of every step is most of a step's work)
STEPS, FIRST, EVERY, SAMPLES = 300, 60, 30, 200


def test_a_streamed_trace_of_784_256_10_is_valid_and_its_memory_flat(tmp_path):
    """blobs_784: 784-256-10 on generated samples, mini-batches of 64. The writer keeps one record
    at a time: its memory after the header does not grow from step 60 to step 300 (one record of
    this network is megabytes; the two losses a step add 16 bytes)."""
    s = load_scenario("blobs_784", [parse_set(f"data.samples={SAMPLES}")])
    s = dataclasses.replace(s, max_steps=STEPS)
    assert s.layers == (784, 256, 10) and len(s.inputs) == SAMPLES and s.batch == 64
    trainer = Trainer(s, history=1)  # as a headless run has it
    path = tmp_path / "blobs.json"
    tracemalloc.start()
    try:
        with TraceWriter(path, trainer, every=EVERY, fields=("loss", "train_loss", "b")) as writer:
            tracemalloc.reset_peak()  # the header (the inputs as JSON) is written once
            base = tracemalloc.get_traced_memory()[0]
            writer.run(trainer, FIRST)
            at_first, peak_first = (m - base for m in tracemalloc.get_traced_memory())
            writer.run(trainer, STEPS - FIRST)
            at_last, peak_last = (m - base for m in tracemalloc.get_traced_memory())
            writer.write_last(trainer)
            writer.close(trainer.train_losses[-1], "max_steps")
    finally:
        tracemalloc.stop()
    assert trainer.step_count == STEPS
    # 240 more steps keep 240 x 16 bytes of losses (4 kB); the peak is one step's arrays
    assert at_last - at_first < 50_000, (at_first, at_last)
    assert peak_last < 1.5 * peak_first, (peak_first, peak_last)
    doc = json.loads(path.read_text("utf-8"))
    validate_trace(doc)
    assert [st["step"] for st in doc["steps"]] == list(range(EVERY, STEPS + 1, EVERY))
    assert [len(layer["b"]) for layer in doc["steps"][-1]["layers"]] == [256, 10]
    assert doc["steps"][-1]["train_loss"] == trainer.train_losses[-1]
