"""Edits in a trace (trace/edit_json.py): written, read back into the records the run made,
made again by --check (which reports a tampered edit) and by replay, whose export is the
live export byte for byte."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trace_schema import trace_is_valid

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.engine import Point
from tui_backprop.trace.edit_json import FIELDS
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.recorded import RecordedRun, continue_from
from tui_backprop.trace.recorded import write_trace as write_recorded
from tui_backprop.trace.writer import TraceError, TraceWriter, write_trace


def edited_run(name: str = "xor", steps: int = 12) -> Trainer:
    """A run with every kind of edit: a weight and a bias at step 5 (the issue's), the data
    and the learning rate after it, and a point added and one removed."""
    t = Trainer(load_scenario(name))
    t.edit("input", 0.5, index=(0, 1))  # before the first step
    t.run(5)
    t.edit("weight", 1.25, layer=1, index=(0, 1))
    t.edit("bias", -0.5, layer=2, index=(0,))
    t.run(2)
    t.edit("learning_rate", t.base_learning_rate / 2)
    t.edit("add_point", Point((0.5, 0.5), (1.0,)))
    t.run(2)
    t.edit("remove_point", index=(1,))
    t.run(steps - t.step_count)
    t.edit("weight", 0.0, layer=2, index=(0, 2))  # after the last step
    return t


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Trainer, Path]:
    t = edited_run()
    return t, write_trace(tmp_path / "edited.json", t)


def test_the_trace_lists_every_edit_after_the_summary(exported) -> None:
    t, path = exported
    doc = json.loads(path.read_text())
    assert list(doc)[-2:] == ["summary", "edits"] and trace_is_valid(doc)
    assert [(e["step"], e["what"]) for e in doc["edits"]] == [
        (0, "input"),
        (5, "weight"),
        (5, "bias"),
        (7, "learning_rate"),
        (7, "add_point"),
        (9, "remove_point"),
        (12, "weight"),
    ]
    old = t.edits[1].old
    assert doc["edits"][1] == {
        "step": 5,
        "what": "weight",
        "layer": 1,
        "index": [0, 1],
        "old": old,
        "new": 1.25,
    }
    assert doc["edits"][4]["new"] == {"inputs": [0.5, 0.5], "targets": [1.0]}
    assert doc["edits"][5]["old"] == {"inputs": [0.0, 1.0], "targets": [1.0]}  # sample 1 of xor
    # the final loss is after the last edit: the weights as the run left them
    assert doc["summary"]["final_loss"] == t.train_losses[-1]


def test_a_run_without_edits_writes_no_edits(tmp_path: Path) -> None:
    t = Trainer(load_scenario("xor"))
    t.run(3)
    t.edit("weight", 1.0, layer=1, index=(0, 0))
    t.undo()
    text = write_trace(tmp_path / "a.json", t).read_text()
    plain = Trainer(load_scenario("xor"))
    plain.run(3)
    assert '"edits"' not in text and text == write_trace(tmp_path / "b.json", plain).read_text()


def test_the_trace_reads_back_as_the_records_of_the_live_run(exported) -> None:
    t, path = exported
    recording = read_trace(path)
    assert recording.edits == t.edits
    live = Trainer(t.scenario)
    made = 0
    for rec in recording.records:
        while made < len(t.edits) and t.edits[made].step == live.step_count:
            live.apply_edit(t.edits[made])
            made += 1
        mine = live.step()
        assert (rec.step, rec.epoch, rec.batch, rec.learning_rate) == (
            mine.step,
            mine.epoch,
            mine.batch,
            mine.learning_rate,
        )
        assert np.array_equal(rec.x, mine.x) and np.array_equal(rec.t, mine.t)
        for a, b in zip(rec.layers, mine.layers, strict=True):
            assert np.array_equal(a.w_before, b.w_before) and np.array_equal(a.b_before, b.b_before)
            assert np.array_equal(a.w, b.w) and np.array_equal(a.delta, b.delta)
        np.testing.assert_array_equal(rec.sample_losses, mine.sample_losses)


def test_check_recomputes_a_trace_with_edits(exported, capsys) -> None:
    _, path = exported
    assert main(["--check", str(path)]) == 0, capsys.readouterr().err
    assert "12 steps, 7 edits, stopped: steps, every number recomputed" in capsys.readouterr().out


def test_check_of_an_edit_at_step_5_headless_api(tmp_path: Path, capsys) -> None:
    """The issue's case through the Python API that streams a trace as it runs: a TraceWriter
    takes the steps, the edit is made between two calls of run(), close() writes it."""
    s = load_scenario("xor")
    t = Trainer(s)
    with TraceWriter(tmp_path / "run.json", t) as writer:
        writer.run(t, 5)
        t.edit("weight", 2.0, layer=2, index=(0, 1))
        writer.run(t, 5)
        path = writer.close(t.final_train_loss, "steps")
    assert json.loads(path.read_text())["edits"][0]["step"] == 5
    assert main(["--check", str(path)]) == 0, capsys.readouterr().err
    assert path.read_bytes() == write_trace(tmp_path / "again.json", t).read_bytes()


def test_a_trace_of_every_third_step_with_edits_between_is_checked(tmp_path: Path, capsys) -> None:
    """--every K keeps some steps; the edits made between them are made again where they were."""
    t = Trainer(load_scenario("xor"))
    with TraceWriter(tmp_path / "every.json", t, every=3) as writer:
        writer.run(t, 4)
        t.edit("add_point", Point((0.25, 0.75), (1.0,)))
        writer.run(t, 3)
        t.edit("input", 0.5, index=(2, 0))
        writer.run(t, 4)
        writer.write_last(t)
        path = writer.close(t.final_train_loss, "steps")
    assert main(["--check", str(path)]) == 0, capsys.readouterr().err
    doc = json.loads(path.read_text())
    doc["edits"][1]["new"] = 0.75
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert main(["--check", str(bad)]) == 2
    assert "step 9, " in capsys.readouterr().err


TAMPERED = {
    # what is changed in the file, the message --check gives
    "old_weight": (("edits", 1, "old"), 0.125, "edits[1] (W[1][0, 1] after step 5), old: recorded 0.125"),
    "new_weight": (("edits", 1, "new"), 1.5, "step 6, "),
    "new_rate": (("edits", 3, "new"), 0.1, "step 8, "),
    "old_point": (
        ("edits", 5, "old", "inputs", 1),
        0.25,
        "edits[5] (sample 1 after step 9), old.inputs[1]: ",
    ),
    "added_point": (("edits", 4, "new", "targets", 0), 0.0, "step 8, "),
    "old_input": (("edits", 0, "old"), 0.75, "edits[0] (x[0, 1] after step 0), old: recorded 0.75"),
}


@pytest.mark.parametrize("name", sorted(TAMPERED))
def test_check_reports_a_tampered_edit(exported, tmp_path: Path, capsys, name) -> None:
    _, path = exported
    place, value, message = TAMPERED[name]
    doc = json.loads(path.read_text())
    target = doc
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc))
    assert main(["--check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and message in err, err


BAD_EDITS = {
    # one defect each: the edit, and the place and words of the message
    "step_after_the_end": (
        {"step": 99, "what": "learning_rate", "old": 0.5, "new": 1.0},
        "edits[0].step: expected 0 to",
    ),
    "out_of_order": (None, "edits[1].step: expected 3 to"),
    "unknown_kind": (
        {"step": 1, "what": "momentum", "old": 0.5, "new": 1.0},
        "edits[0].what: expected one of",
    ),
    "no_layer": (
        {"step": 1, "what": "weight", "index": [0, 0], "old": 0.5, "new": 1.0},
        'edits[0]: missing field "layer"',
    ),
    "layer_too_deep": (
        {"step": 1, "what": "weight", "layer": 3, "index": [0, 0], "old": 0.5, "new": 1.0},
        "edits[0]: weight: layer must be 1 to 2",
    ),
    "index_outside": (
        {"step": 1, "what": "input", "index": [4, 0], "old": 0.5, "new": 1.0},
        "edits[0]: input: index [4, 0] is outside [4, 2]",
    ),
    "point_width": (
        {"step": 1, "what": "add_point", "index": [4], "new": {"inputs": [1.0], "targets": [1.0]}},
        "edits[0]: new: expected 2 inputs and 1 targets",
    ),
    "point_index": (
        {"step": 1, "what": "add_point", "index": [2], "new": {"inputs": [1.0, 1.0], "targets": [1.0]}},
        "edits[0]: add_point: a point is added as sample 4",
    ),
    "rate_zero": ({"step": 1, "what": "learning_rate", "old": 0.5, "new": 0.0}, "edits[0].new"),
    "string_value": (
        {"step": 1, "what": "bias", "layer": 1, "index": [0], "old": 0.5, "new": "1"},
        "edits[0].new",
    ),
    "points_for_a_weight": (
        {
            "step": 1,
            "what": "weight",
            "layer": 1,
            "index": [0, 0],
            "old": {"inputs": [1.0, 1.0], "targets": [1.0]},
            "new": 1.0,
        },
        "edits[0].old",
    ),
    "remove_with_new": (
        {
            "step": 1,
            "what": "remove_point",
            "index": [0],
            "old": {"inputs": [0.0, 0.0], "targets": [0.0]},
            "new": 1.0,
        },
        "edits[0]: a remove_point edit has index, old; this one has new",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_EDITS))
def test_a_bad_edit_is_refused_naming_its_place(tmp_path: Path, capsys, name) -> None:
    t = Trainer(load_scenario("xor"))
    t.run(4)
    doc = json.loads(write_trace(tmp_path / "good.json", t).read_text())
    edit, message = BAD_EDITS[name]
    if edit is None:  # two edits, the second before the first
        doc["edits"] = [
            {"step": 3, "what": "learning_rate", "old": 0.5, "new": 1.0},
            {"step": 2, "what": "learning_rate", "old": 1.0, "new": 2.0},
        ]
    else:
        doc["edits"] = [edit]
    bad = tmp_path / f"{name}.json"
    bad.write_text(json.dumps(doc))
    assert main(["--check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith(f"error: {bad}: ") and message in err, err


@pytest.mark.parametrize("name", ["step_after_the_end", "index_outside", "point_width"])
def test_replay_refuses_a_bad_edit_too(tmp_path: Path, name) -> None:
    t = Trainer(load_scenario("xor"))
    t.run(4)
    doc = json.loads(write_trace(tmp_path / "good.json", t).read_text())
    doc["edits"] = [BAD_EDITS[name][0]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(TraceError, match=r"edits\[0\]"):
        read_trace(bad)


# -- replay --------------------------------------------------------------------------------------


def test_the_replay_export_of_a_trace_with_edits_is_the_live_export_byte_for_byte(exported, tmp_path) -> None:
    _, path = exported
    run = RecordedRun(read_trace(path))
    run.run(run.steps)
    again = write_recorded(tmp_path / "replayed.json", run)
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("k", [0, 3, 5, 7, 9, 12])
def test_a_continuation_from_step_k_makes_the_rest_of_the_run_with_its_edits(exported, tmp_path, k) -> None:
    t, path = exported
    run = RecordedRun(read_trace(path))
    run.seek(k)
    live = continue_from(run, history=100)
    assert live.edits == tuple(e for e in t.edits if e.step <= k)
    for e in t.edits[len(live.edits) :]:
        for rec in live.run(e.step - live.step_count):
            original = run.recording.records[rec.step - 1]
            assert rec.batch == original.batch and np.array_equal(rec.layers[0].w, original.layers[0].w)
        live.apply_edit(e)
    assert live.step_count == 12 and live.edits == t.edits
    # its export: the recorded steps up to k, the live ones after, every edit: the original file
    out = write_recorded(tmp_path / "continued.json", run, live, origin=k)
    assert out.read_bytes() == path.read_bytes()


def test_a_playback_exported_part_way_is_the_run_as_it_was_then(exported, tmp_path, capsys) -> None:
    _, path = exported
    run = RecordedRun(read_trace(path))
    run.seek(8)
    out = write_recorded(tmp_path / "at8.json", run)
    doc = json.loads(out.read_text())
    assert [e["step"] for e in doc["edits"]] == [0, 5, 5, 7, 7]
    assert main(["--check", str(out)]) == 0, capsys.readouterr().err


# -- any "edits" at all: a clear refusal or a run that checks, never a traceback -----------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10) | st.floats(-4, 4) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["inputs", "targets", "x"]), inner)
    ),
    max_leaves=6,
)
EDIT_OBJECTS = st.dictionaries(
    st.sampled_from(["step", "what", "layer", "index", "old", "new", "extra"]),
    st.one_of(
        st.sampled_from(["weight", "bias", "input", "learning_rate", "add_point", "remove_point"]),
        JSON_VALUES,
    ),
    max_size=7,
)

POINTS = st.fixed_dictionaries(
    {
        "inputs": st.lists(st.floats(-2, 2), min_size=1, max_size=3),
        "targets": st.lists(st.floats(0, 1), max_size=2),
    }
)
NUMBERS = st.floats(-3, 3) | st.integers(-1, 5) | st.floats(1e300, 1e308)


@st.composite
def plausible_edit(draw) -> dict:
    """An edit of the shape its kind has, with any place and value: most check, some do not."""
    what = draw(st.sampled_from(sorted(FIELDS)))
    values = {
        "layer": draw(st.integers(0, 3)),
        "index": draw(st.lists(st.integers(0, 5), min_size=1, max_size=2)),
        "old": draw(POINTS if what == "remove_point" else NUMBERS),
        "new": draw(POINTS if what == "add_point" else NUMBERS),
    }
    return {"step": draw(st.integers(0, 4)), "what": what, **{k: values[k] for k in FIELDS[what]}}


@settings(max_examples=60, deadline=None)
@given(st.lists(EDIT_OBJECTS | plausible_edit(), max_size=4))
def test_any_edits_list_is_refused_clearly_or_checks(tmp_path_factory, edits) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    t = Trainer(load_scenario("xor"))
    t.run(3)
    doc = json.loads(write_trace(folder / "good.json", t).read_text())
    doc["edits"] = edits
    path = folder / "fuzzed.json"
    path.write_text(json.dumps(doc))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--check", str(path)])
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert all(line.startswith(f"error: {path}: ") for line in err.getvalue().splitlines())


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "name",
    ["circle", "iris", "linear_neuron_minibatch", "proportional_2_3_1_split", str(DATA / "adam_l2.toml"),
     str(DATA / "sgd_nobias.toml")],
)  # fmt: skip
def test_every_kind_of_edit_checks_on_other_optimisers_batches_and_test_sets(tmp_path, capsys, name) -> None:
    s = load_scenario(name)
    t = Trainer(s)
    t.run(3)
    t.edit("weight", 0.25, layer=1, index=(0, 0))
    if s.bias:
        t.edit("bias", -0.25, layer=len(s.layers) - 1, index=(0,))
    t.run(2)
    t.edit("learning_rate", t.base_learning_rate * 2)
    t.edit("input", float(t.X[1, 0]) + 0.5, index=(1, 0))
    t.run(2)
    t.edit("add_point", Point(tuple(t.X[0].tolist()), tuple(t.T[-1].tolist())))
    t.run(3)
    t.edit("remove_point", index=(2,))
    t.run(2)
    path = write_trace(tmp_path / "run.json", t)
    assert main(["--check", str(path)]) == 0, capsys.readouterr().err
    recording = read_trace(path)
    assert recording.edits == t.edits
    last = recording.records[-1]
    mine = t.current_record()
    assert last.batch == mine.batch and np.array_equal(last.x, mine.x)
    assert last.learning_rate == mine.learning_rate == t.base_learning_rate
