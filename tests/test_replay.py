"""Reading traces back (tui_backprop/trace/reader.py): every record as the run made it, and every
corrupted trace refused with a message that names what is wrong and where.

The fixtures under tests/bad_traces/ (one defect each, written by make_fixtures.py from a
two-step xor trace) go through the real command: ``backprop-tui --check FILE`` in-process,
and the installed command for a few.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from trace_schema import trace_is_valid

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import is_trace, main
from tui_backprop.engine import BatchSchedule
from tui_backprop.scenario.reader import bundled_names
from tui_backprop.trace.reader import loads_trace, read_trace
from tui_backprop.trace.writer import TraceError, schema, write_trace

HERE = Path(__file__).parent
BAD = HERE / "bad_traces"
DATA = HERE / "data"

# fixture -> the message it must get (after "error: NAME.json: ")
EXPECTED = {
    "empty": "empty file: not a trace",
    "whitespace_only": "empty file: not a trace",
    "truncated": "truncated: the file ends at line 9 before the JSON is complete",
    "truncated_in_a_string": "truncated: the file ends at line 4 before the JSON is complete",
    "not_json": "not valid JSON: Expecting value (line 1, column 2)",
    "not_utf8": "not UTF-8 text (line 4, byte 87): a trace is JSON",
    "json_list": "not a backprop-tui trace: expected a JSON object, got a list of 3",
    "no_format": 'not a backprop-tui trace: no "format": "backprop-tui-trace"',
    "wrong_format": 'format: expected "backprop-tui-trace", got the string "other-trace"',
    "wrong_version": "version: this backprop-tui reads trace version 1, got the number 2 (written by a newer",
    "version_string": 'version: this backprop-tui reads trace version 1, got the string "1"',
    "nan_literal": "steps[0].loss: expected a number or null, got NaN (not strict JSON",
    "infinity_literal": "steps[0].train_loss: expected a number or null, got Infinity (not strict JSON",
    "huge_number": "steps[1].loss: expected a number or null, got a number too large for a float",
    "integer_too_many_digits": "not valid JSON: Exceeds the limit (4300 digits) for integer string",
    "layers_too_deep": "scenario.network.layers: 65 layers is more than 64, the most this simulator steps",
    "loss_control_character": 'scenario.training.loss: expected one of "mse", "sse", "half_sse", "bce", '
    '"cross_entropy", got the string "mse\\u001b[31m"',
    "unknown_field_long_name": f'top level: unknown field "{"k" * 60}..."',
    "duplicate_key": 'not strict JSON: the key "epoch" appears twice in one object',
    "unknown_field": 'steps[1].layers[0]: unknown field "foo"',
    "unknown_top_level": 'top level: unknown field "comment"',
    "missing_loss": 'steps[0]: missing field "loss"',
    "missing_layer_field": 'steps[1].layers[1]: missing field "delta"',
    "loss_string": 'steps[0].loss: expected a number or null, got the string "0.25"',
    "batch_bool": "steps[0].batch[2]: expected an integer, got true",
    "stop_reason_unknown": (
        'summary.stop_reason: expected one of "max_steps", "target_loss", "target_accuracy"'
    ),
    "scenario_learning_rate": "scenario.training.learning_rate: must be > 0, got -0.5",
    "scenario_softmax_hidden": "scenario.network.activations: softmax is for the output layer only",
    "scenario_unknown_key": 'scenario.training: unknown field "learning_rat"',
    "data_null": "data.inputs[2][1]: expected a finite number, got null",
    "data_row_length": "data.inputs[1]: expected 2 numbers, got 3",
    "targets_rows": "data.targets: expected 4 rows, got 3",
    "initial_w_count": "initial.w: expected 2 (one per layer after the input), got 1",
    "initial_b_length": "initial.b[1]: expected 1 number (n_2), got 2",
    "grad_w_shape": "steps[1].layers[0].grad_w: expected 3 x 2 (n_1 x n_0), got 3 x 3",
    "z_batch_rows": "steps[0].layers[0].z: expected 4 x 3 (the batch of 4 x n_1), got 3 x 3",
    "w_ragged": "steps[0].layers[0].w: expected 3 x 2 (n_1 x n_0), got rows of different lengths",
    "grad_b_length": "steps[0].layers[1].grad_b: expected 1 number (n_2), got 2",
    "layers_count": "steps[0].layers: expected 2 (one per layer after the input), got 1",
    "step_numbering": "steps[1].step: expected 2 (steps are numbered 1, 2, 3, ...), got 3 (replay needs",
    "step_repeated": "steps[1].step: expected 2 (steps are numbered 1, 2, 3, ...), got 1",
    "steps_reversed": "steps[0].step: expected 1 (steps are numbered 1, 2, 3, ...), got 2",
    "batch_out_of_range": "steps[0].batch: sample index 7 is out of range: the data has 4 samples",
    "batch_order": 'steps[1].batch: expected [0, 1, 2, 3] (batch = "full", in file order), got [3, 2, 1, 0]',
    "epoch_wrong": 'steps[1].epoch: expected 2 (batch = "full", in file order), got 1',
    "summary_count": "summary.steps: expected 2 (the steps in the file), got 5",
    "every_third_step": "every: this trace keeps one step in 3 (exported with --every 3); replay needs every",
    "some_fields": "fields: this trace keeps only step, loss, w (exported with --fields); replay needs every",
}


# valid traces that only replay refuses (--check verifies what they hold: tests/test_verify.py)
REPLAY_ONLY = ("every_third_step", "some_fields")


def test_every_fixture_has_its_message_and_every_message_its_fixture():
    assert sorted(p.stem for p in BAD.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_corrupted_trace_is_refused_by_the_command_with_its_message(name, capsys, monkeypatch):
    monkeypatch.chdir(BAD)
    command = [f"{name}.json"] if name in REPLAY_ONLY else ["--check", f"{name}.json"]
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert lines and all(line.startswith(f"error: {name}.json: ") for line in lines), err
    assert EXPECTED[name] in lines[0], err


@pytest.mark.parametrize("name", ["truncated", "grad_w_shape", "not_utf8", "wrong_version"])
def test_the_installed_command_refuses_with_exit_code_2_and_no_traceback(name):
    exe = Path(sys.executable).with_name("backprop-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_backprop.cli"]
    done = subprocess.run(
        [*cmd, "--check", str(BAD / f"{name}.json")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr and EXPECTED[name] in done.stderr


def _numbers(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _numbers(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _numbers(v)
    elif isinstance(doc, float):
        yield doc


def _strict_json(path: Path):
    """The document in ``path`` when it is strict JSON (no NaN, no Infinity), else None."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return None if any(isinstance(v, float) and not np.isfinite(v) for v in _numbers(doc)) else doc


# the fixtures that are strict JSON: the others are refused before any schema applies
STRICT_JSON = [name for name in sorted(EXPECTED) if _strict_json(BAD / f"{name}.json") is not None]


@pytest.mark.parametrize("name", STRICT_JSON)
def test_jsonschema_rs_agrees_with_jsonschema(name):
    """The reader (trace/schema_check.py) and the tests validate traces with jsonschema-rs; on every
    fixture it finds a trace valid exactly when the reference implementation does, and on a good
    trace too."""
    doc = _strict_json(BAD / f"{name}.json")
    assert trace_is_valid(doc) == jsonschema.Draft202012Validator(schema()).is_valid(doc)


def test_the_tests_validator_accepts_what_jsonschema_accepts(tmp_path):
    doc = json.loads(write_trace(tmp_path / "t.json", stepped_xor(3)).read_bytes())
    assert jsonschema.Draft202012Validator(schema()).is_valid(doc) and trace_is_valid(doc)


def stepped_xor(steps: int) -> Trainer:
    trainer = Trainer(load_scenario("xor"))
    trainer.run(steps)
    return trainer


# -- good traces read back exactly -------------------------------------------------------------

# blobs_784 (40 MB of trace a step) is left out: circle and spiral read generated data back too
SCENARIOS = [n for n in bundled_names() if n != "blobs_784"] + [str(p) for p in sorted(DATA.glob("*.toml"))]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_trace_reads_back_as_the_records_of_the_live_run(scenario, tmp_path):
    s = load_scenario(scenario)
    live = Trainer(s)
    records = live.run(7)
    path = tmp_path / "run.json"
    write_trace(path, live, "steps")
    rec = read_trace(path)

    assert rec.scenario.to_dict() == json.loads(path.read_text())["scenario"]
    np.testing.assert_array_equal(rec.scenario.inputs, s.inputs)
    np.testing.assert_array_equal(rec.scenario.targets, s.targets)
    assert rec.initial_train_loss == live.initial_train_loss
    assert rec.initial_test_loss == live.initial_test_loss  # None without a test set
    for got, want in ((rec.scenario.test_inputs, s.test_inputs), (rec.scenario.test_targets, s.test_targets)):
        assert (got is None) == (want is None)
        if got is not None:
            np.testing.assert_array_equal(got, want)
    for a, b in zip(rec.initial_W + rec.initial_b, live.initial_W + live.initial_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert rec.steps == len(records) and rec.stop_reason == (live.stop_reason or "steps")
    for got, want in zip(rec.records, records, strict=True):
        same_record(got, want)


def same_record(got, want) -> None:
    """Every field of two StepRecords equal, arrays bit for bit (nan where the run had inf or nan)."""
    for name in ("step", "epoch", "batch", "learning_rate", "stop_reason", "warnings", "penalty"):
        assert getattr(got, name) == getattr(want, name), name
    for name in ("loss", "train_loss"):
        np.testing.assert_array_equal(_nan(getattr(got, name)), _nan(getattr(want, name)), err_msg=name)
    assert (got.test_loss is None) == (want.test_loss is None)
    if got.test_loss is not None:
        np.testing.assert_array_equal(_nan(got.test_loss), _nan(want.test_loss), err_msg="test_loss")
    for name in ("x", "t", "sample_losses"):
        np.testing.assert_array_equal(_nan(getattr(got, name)), _nan(getattr(want, name)), err_msg=name)
    assert len(got.layers) == len(want.layers)
    for l, (g, w) in enumerate(zip(got.layers, want.layers, strict=True), 1):
        assert g.activation == w.activation
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w_before", "b_before", "w", "b"):
            x, y = getattr(g, name), getattr(w, name)
            assert x.shape == y.shape and not x.flags.writeable, (l, name)
            np.testing.assert_array_equal(_nan(x), _nan(y), err_msg=f"layer {l} {name}")
        assert sorted(g.state) == sorted(w.state), l  # the optimiser's arrays (momentum, adam)
        for name in g.state:
            np.testing.assert_array_equal(
                _nan(g.state[name]), _nan(w.state[name]), err_msg=f"layer {l} {name}"
            )
        for name in ("error", "update_w", "update_b"):  # error_split = "proportional" only
            x, y = getattr(g, name), getattr(w, name)
            assert (x is None) == (y is None), (l, name)
            if x is not None:
                np.testing.assert_array_equal(_nan(x), _nan(y), err_msg=f"layer {l} {name}")


def _nan(x):
    """inf reads back as nan (the trace writes every non-finite number as null)."""
    x = np.array(x, dtype=float)
    x[~np.isfinite(x)] = np.nan
    return x


def test_a_diverged_trace_reads_back_with_nan_for_null_and_its_stop_reason(tmp_path):
    path = tmp_path / "diverged.json"
    assert main([str(DATA / "diverges_1_1.toml"), "--headless", "--export", str(path)]) == 3
    live = Trainer(load_scenario(str(DATA / "diverges_1_1.toml")))
    records = live.run(1000)
    rec = read_trace(path)
    assert rec.stop_reason == "diverged" and rec.records[-1].diverged
    assert rec.records[-1].nonfinite is not None
    assert all(r.stop_reason is None for r in rec.records[:-1])
    for got, want in zip(rec.records, records, strict=True):
        same_record(got, want)


def test_the_check_command_says_what_a_good_trace_holds(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    assert main([str(DATA / "tiny.toml"), "--headless", "--steps", "3", "--export", str(path)]) == 0
    capsys.readouterr()
    assert main(["--check", str(path), str(DATA / "tiny.toml")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[0] == (
        f"ok: {path}: trace of tiny 2-2-1 (2-2-1, mse, lr=0.5, batch=full), 3 steps, stopped: steps, "
        "every number recomputed"
    )


def test_a_trace_is_recognised_by_its_name_or_its_first_character(tmp_path):
    trace = tmp_path / "run.trace"
    trace.write_text('\n  {"format": "backprop-tui-trace"}')
    assert is_trace(str(trace)) and is_trace("missing.json") and is_trace("RUN.JSON")
    assert not is_trace(str(DATA / "tiny.toml")) and not is_trace("xor")


def test_problems_everywhere_are_listed_together_but_not_endlessly():
    doc = json.loads((BAD / "unknown_field.json").read_text())
    for step in doc["steps"]:
        for layer in step["layers"]:
            for key in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):  # 28 problems
                layer[key] = "x"
    with pytest.raises(TraceError) as info:
        loads_trace(json.dumps(doc), "many.json")
    problems = info.value.problems
    assert len(problems) == 21 and problems[-1] == "... (stopped after 20 problems)"
    assert problems[0] == 'steps[0].layers[0].z: expected a list, got the string "x"'


def test_a_float_with_no_fraction_is_an_integer_as_json_schema_says(tmp_path):
    doc = json.loads((BAD / "unknown_field.json").read_text())
    del doc["steps"][1]["layers"][0]["foo"]
    doc["steps"][0]["step"] = 1.0
    doc["summary"]["steps"] = 2.0
    assert jsonschema.Draft202012Validator(schema()).is_valid(doc)
    assert loads_trace(json.dumps(doc)).records[0].step == 1


@pytest.mark.parametrize("n", [1, 4, 5, 7])
@pytest.mark.parametrize("batch", ["full", "sample", 2, 3, 9])
@pytest.mark.parametrize("shuffle", [False, True])
def test_the_position_after_k_steps_is_where_stepping_k_times_leaves_the_schedule(n, batch, shuffle):
    schedule = BatchSchedule(n, batch, shuffle, seed=5)
    pos = schedule.position_after(0)
    for k in range(1, 25):
        _, pos = schedule.next_batch(pos)
        assert schedule.position_after(k) == pos, k
