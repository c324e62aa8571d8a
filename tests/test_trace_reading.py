"""How a trace is read fast (tui_backprop/replay.py): the arrays of all the steps converted field by
field in one call each, and what that must not change. A step whose array has another shape is
still named alone, with its own message; a null still reads as nan in its own step; a trace read
for --check (whole=False) builds no StepRecords, which only replay shows; and the interpreter's
cycle collector, off while a trace is read, is on again afterwards, whatever happened.

That the records are the live run's, bit for bit, is tests/test_replay.py's part.
"""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.replay import loads_trace
from tui_backprop.trace import TraceError, write_trace


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
