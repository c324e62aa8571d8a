"""How a trace is read fast (tui_backprop/trace/reader.py): the arrays of all the steps converted field by
field in one call each, and what that must not change. A step whose array has another shape is
still named alone, with its own message; a null still reads as nan in its own step; a trace read
for --check (whole=False) builds no StepRecords, which only replay shows; and the interpreter's
cycle collector, off while a trace is read, is on again afterwards, whatever happened.

That the records are the live run's, bit for bit, is tests/test_replay.py's part.
"""

from __future__ import annotations

import gc
import json
import tracemalloc

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.trace import text as tracetext
from tui_backprop.trace.reader import loads_trace
from tui_backprop.trace.writer import TraceError, write_trace


@pytest.fixture(scope="module")
def xor_50(tmp_path_factory) -> dict:
    trainer = Trainer(load_scenario("xor"))
    trainer.run(50)
    path = write_trace(tmp_path_factory.mktemp("t") / "xor.json", trainer, "steps")
    return json.loads(path.read_text())


def test_one_step_of_another_shape_among_many_is_named_alone(xor_50):
    doc = json.loads(json.dumps(xor_50))
    doc["steps"][37]["layers"][0]["grad_w"] = [[0.0, 0.0, 0.0]] * 3
    doc["steps"][41]["layers"][1]["z"] = [[0.0]] * 3
    with pytest.raises(TraceError) as info:
        loads_trace(json.dumps(doc), "t.json")
    assert info.value.problems == [
        "steps[37].layers[0].grad_w: expected 3 x 2 (n_1 x n_0), got 3 x 3",
        "steps[41].layers[1].z: expected 4 x 1 (the batch of 4 x n_2), got 3 x 1",
    ]


def test_a_null_reads_as_nan_in_its_own_step_and_nowhere_else(xor_50):
    doc = json.loads(json.dumps(xor_50))
    doc["steps"][20]["layers"][0]["delta"][1][2] = None
    recording = loads_trace(json.dumps(doc), "t.json")
    for i, record in enumerate(recording.records):
        delta = record.layers[0].delta
        assert np.isnan(delta).sum() == (i == 20), i
        assert not delta.flags.writeable
    assert np.isnan(recording.records[20].layers[0].delta[1, 2])


def test_check_reads_the_steps_without_building_records(xor_50):
    text = json.dumps(xor_50)
    kept = loads_trace(text, "t.json", whole=False)
    replayed = loads_trace(text, "t.json")
    assert kept.records == () and len(kept.kept) == len(replayed.records) == 50
    for k, record in zip(kept.kept, replayed.records, strict=True):
        for l, layer in enumerate(k.layers):
            np.testing.assert_array_equal(layer["w"], record.layers[l].w)


@pytest.mark.parametrize("good", [True, False])
def test_the_cycle_collector_is_on_again_after_reading(xor_50, good):
    doc = json.loads(json.dumps(xor_50))
    if not good:
        doc["steps"][3]["loss"] = "x"
    assert gc.isenabled()
    try:
        loads_trace(json.dumps(doc), "t.json")
    except TraceError:
        assert not good
    assert gc.isenabled()
    gc.disable()  # and off, when it was off
    try:
        loads_trace(json.dumps(xor_50), "t.json")
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- a step a line, a chunk at a time ------------------------------------------------------------


def _one_line(text: str) -> str:
    """The same trace on one line, as another tool might write it: read whole, not in lines."""
    return json.dumps(json.loads(text))


@pytest.fixture(scope="module")
def xor_text(tmp_path_factory) -> str:
    trainer = Trainer(load_scenario("xor"))
    trainer.run(50)
    return write_trace(tmp_path_factory.mktemp("t") / "xor.json", trainer, "steps").read_text()


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few steps, so that the 50 steps come in many."""
    monkeypatch.setattr(tracetext, "CHUNK", 3000)
    parsed, _ = tracetext.parse([XOR_TEXT[0].encode()], "t.json")
    assert parsed.in_lines and len(list(parsed.chunks())) > 5


XOR_TEXT: list[str] = []


@pytest.fixture(autouse=True)
def _xor_text(xor_text):
    XOR_TEXT[:] = [xor_text]


def test_a_trace_in_lines_reads_as_the_same_trace_on_one_line(xor_text, small_chunks):
    in_lines = loads_trace(xor_text, "t.json")
    whole = loads_trace(_one_line(xor_text), "t.json")
    assert tracetext.parse([xor_text.encode()], "t")[0].in_lines
    assert not tracetext.parse([_one_line(xor_text).encode()], "t")[0].in_lines
    assert len(in_lines.records) == len(whole.records) == 50
    for a, b in zip(in_lines.records, whole.records, strict=True):
        assert a.step == b.step and a.batch == b.batch and a.loss == b.loss
        for la, lb in zip(a.layers, b.layers, strict=True):
            for name in ("z", "a", "delta", "grad_w", "grad_b", "w", "b", "w_before"):
                np.testing.assert_array_equal(getattr(la, name), getattr(lb, name))


def _defects(doc: dict) -> None:
    doc["steps"][3]["layers"][0]["grad_w"] = [[0.0, 0.0, 0.0]] * 3  # a shape: the reader's check
    doc["steps"][44]["loss"] = "0.25"  # the schema's, in a later chunk


def _refused(text: str) -> list[str]:
    with pytest.raises(TraceError) as info:
        loads_trace(text, "t.json")
    return info.value.problems


def test_the_schema_is_heard_first_wherever_its_problem_is(xor_text, small_chunks):
    """A step's shape is wrong in an early chunk, the schema breaks in a later one: as for the
    whole document, the schema's problem is the one said."""
    lines = xor_text.splitlines()
    doc = json.loads(xor_text)
    _defects(doc)
    first = lines.index('"steps": [') + 1
    lines[first + 3] = json.dumps(doc["steps"][3]) + ","
    lines[first + 44] = json.dumps(doc["steps"][44]) + ","
    in_lines = "\n".join(lines)
    assert tracetext.parse([in_lines.encode()], "t")[0].in_lines
    expected = ['steps[44].loss: expected a number or null, got the string "0.25"']
    assert _refused(in_lines) == _refused(json.dumps(doc)) == expected
    del doc["steps"][44]["loss"]
    doc["steps"][44]["loss"] = 0.25
    lines[first + 44] = json.dumps(doc["steps"][44]) + ","
    expected = ["steps[3].layers[0].grad_w: expected 3 x 2 (n_1 x n_0), got 3 x 3"]
    assert _refused("\n".join(lines)) == _refused(json.dumps(doc)) == expected


@pytest.mark.parametrize("how", ["a step over two lines", "two steps on a line", "a comma missing"])
def test_steps_not_a_line_each_are_read_whole(xor_text, small_chunks, how):
    lines = xor_text.splitlines()
    first = lines.index('"steps": [') + 1
    if how == "a step over two lines":
        head, tail = lines[first + 10].split(', "loss": ', 1)
        lines[first + 10 : first + 11] = [head + ",", '"loss": ' + tail]
    elif how == "two steps on a line":
        lines[first + 10 : first + 12] = [lines[first + 10] + " " + lines[first + 11]]
    else:
        lines[first + 20] = lines[first + 20].rstrip(",")
    text = "\n".join(lines)
    if how == "a comma missing":
        assert _refused(text) == [f"not valid JSON: Expecting ',' delimiter (line {first + 22}, column 1)"]
    else:
        assert len(loads_trace(text, "t.json").records) == 50


def test_a_trace_in_lines_holds_a_chunk_of_steps_in_memory_not_all_of_them(tmp_path, monkeypatch):
    """Parsed whole, a trace of a 1-1 network takes nine times its size in Python objects; read a
    chunk of lines at a time, the peak is its text, what is kept of each step (some 700 bytes)
    and a chunk."""
    path = tmp_path / "t.json"
    endless = ["--set", "training.max_steps=1000", "--set", "training.target_loss=0"]
    assert main(["linear_neuron_sgd", "--headless", "--steps", "1000", "--export", str(path), *endless]) == 0
    text = path.read_text()  # 0.34 MB
    monkeypatch.setattr(tracetext, "CHUNK", 50_000)

    def peak(text: str) -> int:
        tracemalloc.start()
        try:
            loads_trace(text, "t.json", whole=False)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    in_lines, whole = peak(text), peak(_one_line(text))
    assert in_lines < whole / 2, (in_lines, whole)
