"""The proportional split's error e, shown as a learner writes it and kept where it is defined.

The explain panel writes each term as e_m × w_mj / Σ_i w_mi (``2 × 0.58 / 1.15 = 1.009``, not
``2 × 0.5043``); the backward panel shows e beside delta, layer by layer, in its phase; and the
trace holds e in gradient mode too, an optional layer field ``error`` written where it is finite,
while traces written before it replay as ever.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from app_harness import check_block, drive
from conftest import make_scenario
from jsonschema import Draft202012Validator

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.engine.explain import record_split
from tui_backprop.engine.split import proportional_errors
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.verify import verify
from tui_backprop.trace.writer import TraceError, schema, write_trace
from tui_backprop.tui.app import BackpropApp


async def test_the_explain_panel_writes_each_share_as_the_learner_does():
    app = BackpropApp(load_scenario("proportional_2_3_1"))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space", "tab", "right")  # space, tab, right: step 1, the hidden node h1
        text = s.panel("explain")
        # e = t − y = 2 at x = (0, 0); h1's weight 0.58 of the output's row, which sums to 1.15
        assert "2 × 0.58 / 1.15 = 1.009   (y)" in text
        assert "e_j = 1.009   beside δ_j = -0.29" in text


async def test_the_backward_panel_shows_e_beside_delta_in_its_phase():
    scenario = load_scenario("proportional_2_3_1")
    app = BackpropApp(scenario)
    async with drive(app, size=(160, 45)) as s:
        await s.press("space", "3")  # space, 3: step 1, whole; the backward panel zoomed
        rec = app.record
        errors = record_split(rec)
        samples = [f"#{k}" for k in rec.batch]
        backward = s.panel("backward")
        for l in (1, 2):
            check_block(backward, f"e[{l}]", samples, errors[l - 1])
            check_block(backward, f"delta[{l}]", samples, rec.layers[l - 1].delta)
        np.testing.assert_array_equal(errors[1], rec.t - rec.layers[1].a)  # e[L] = t − y
        assert "e: the proportional error split, beside delta, not a gradient" in " ".join(backward.split())

        for _ in range(4):
            await s.press("s")  # s x4: step 2 up to its output delta (phase 4 of 7)
        backward = s.panel("backward")
        assert "e[2]" in backward and "e[1]" not in backward
        await s.press("s")  # s: the hidden delta, and e[1] with it
        assert "e[1]" in s.panel("backward")


async def test_a_run_trained_by_the_split_shows_the_e_it_learnt_from():
    app = BackpropApp(load_scenario("proportional_2_3_1_split"))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space", "space")  # space x2
        rec = app.record
        for l, layer in enumerate(rec.layers, start=1):
            check_block(s.panel("backward"), f"e[{l}]", [f"#{k}" for k in rec.batch], layer.error)
        assert "what this run trains with" in " ".join(s.panel("backward").split())


def test_a_gradient_trace_holds_e_of_every_layer_and_validates(tmp_path):
    trainer = Trainer(load_scenario("xor"))
    records = trainer.run(3)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    Draft202012Validator(schema()).validate(doc)
    for rec, step in zip(records, doc["steps"], strict=True):
        expected = proportional_errors([lr.w_before for lr in rec.layers], rec.t - rec.layers[-1].a)
        for layer, e in zip(step["layers"], expected, strict=True):
            assert layer["error"] == e.tolist()  # the split of the step, bit for bit
            assert "update_w" not in layer and "update_b" not in layer


def test_e_is_left_out_where_it_is_not_defined_and_the_run_goes_on(tmp_path):
    # the output's incoming weights 1 and -1 sum to 0: the hidden layer's share is undefined
    s = make_scenario("sigmoid", [[[0.5], [0.25]], [[1.0, -1.0]]], inputs=[[1.0]], targets=[[1.0]])
    trainer = Trainer(s)
    rec = trainer.step()
    assert not rec.diverged and rec.layers[0].error is None  # gradient mode: nothing recorded
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    Draft202012Validator(schema()).validate(doc)
    hidden, output = doc["steps"][0]["layers"]
    assert "error" not in hidden and output["error"] == (rec.t - rec.layers[1].a).tolist()


def test_fields_error_writes_e_alone_in_gradient_mode(tmp_path):
    out = tmp_path / "e.json"
    assert main(["xor", "--headless", "--steps", "2", "--export", str(out), "--fields", "error"]) == 0
    doc = json.loads(out.read_text())
    Draft202012Validator(schema()).validate(doc)
    assert doc["fields"] == ["step", "error"]
    assert all(set(layer) == {"error"} for step in doc["steps"] for layer in step["layers"])


def test_a_trace_written_before_e_was_added_replays_the_same(tmp_path):
    path = tmp_path / "new.json"
    trainer = Trainer(load_scenario("xor"))
    trainer.run(4)
    write_trace(path, trainer)
    doc = json.loads(path.read_text())
    for step in doc["steps"]:
        for layer in step["layers"]:
            del layer["error"]  # as a trace of an earlier version has it
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc), encoding="utf-8")
    Draft202012Validator(schema()).validate(doc)
    new_run, old_run = read_trace(str(path)), read_trace(str(old))
    for a, b in zip(new_run.records, old_run.records, strict=True):
        for x, y in zip(a.layers, b.layers, strict=True):
            assert x.error is None and y.error is None  # gradient mode: e is computed when shown
            np.testing.assert_array_equal(x.delta, y.delta)
        for e, f in zip(record_split(a), record_split(b), strict=True):
            np.testing.assert_array_equal(e, f)


def test_a_trace_whose_e_has_the_wrong_shape_is_refused(tmp_path, capsys):
    path = tmp_path / "t.json"
    trainer = Trainer(load_scenario("xor"))
    trainer.run(2)
    write_trace(path, trainer)
    doc = json.loads(path.read_text())
    doc["steps"][1]["layers"][0]["error"] = [[1.0]]
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["--check", str(path)]) == 2
    assert "steps[1].layers[0].error" in capsys.readouterr().err


def test_verify_recomputes_e_and_accepts_a_gradient_trace_without_it(tmp_path):
    path = tmp_path / "t.json"
    trainer = Trainer(load_scenario("xor"))
    trainer.run(3)
    write_trace(path, trainer)
    honest = json.loads(path.read_text())
    verify(read_trace(str(path), whole=False))  # e as written agrees with the recomputed split

    lie = json.loads(json.dumps(honest))
    lie["steps"][1]["layers"][0]["error"][0][0] += 0.5
    path.write_text(json.dumps(lie), encoding="utf-8")
    with pytest.raises(TraceError, match=r"step 2, layer 1, error\[0, 0\]"):
        verify(read_trace(str(path), whole=False))

    for step in honest["steps"]:  # as a trace written before e was added
        for layer in step["layers"]:
            del layer["error"]
    path.write_text(json.dumps(honest), encoding="utf-8")
    verify(read_trace(str(path), whole=False))
