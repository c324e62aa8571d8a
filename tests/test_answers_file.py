"""The answers file (tutor/answers.py) and the grading rule (tutor/grading.py): every bad file
refused with its file and key, a trace read as answers, and a number right exactly when it agrees
with the engine's to the digits written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tui_backprop.cli import main
from tui_backprop.engine import Trainer
from tui_backprop.scenario.reader import load_scenario
from tui_backprop.trace.writer import write_trace
from tui_backprop.tutor.answers import AnswersError, Written, loads_answers
from tui_backprop.tutor.check import check_answers, check_loaded
from tui_backprop.tutor.grading import agrees

TESTS = Path(__file__).parent
TINY = TESTS / "data" / "tiny.toml"  # 2-2-1 sigmoid, mse, full batch of 4, max_steps 50
BAD = TESTS / "bad_answers"

# each bad file, and the key its one message names
BAD_KEYS = {
    "name_typo": 'answer[0].name: unknown name "dleta[2]" (did you mean "delta[2]"?)',
    "name_layer_missing": "answer[0].name: unknown name",
    "layer_too_deep": "answer[0].name: layer 3 is not in this network",
    "step_zero": "answer[0].step: expected a step number",
    "step_string": "answer[0].step: expected a step number",
    "step_beyond_run": "answer[0].step: the run has no step 60",
    "value_missing": "answer[0].value: required key is missing",
    "value_nan": "answer[0].value: expected a finite number",
    "value_string": "answer[0].value: expected a finite number",
    "index_outside": "answer[0].index: [5, 0] is outside w[1]",
    "index_too_short": "answer[0].index: w[l] takes two indices",
    "index_negative": "answer[0].index: expected a list of indices",
    "index_on_loss": "answer[0].index: loss is one number",
    "array_wrong_shape": "answer[0].value: expected 2 x 2",
    "array_bad_number": "answer[0].value[1]: expected a finite number",
    "unknown_key": "answer[0].vlaue: unknown key (did you mean 'value'?)",
    "unknown_table": "answers: unknown key",
    "not_toml": "not valid TOML",
    "no_answers": "answer: no answers",
}


def test_every_bad_file_has_its_expected_message() -> None:
    assert {p.stem for p in BAD.glob("*.toml")} == set(BAD_KEYS)


@pytest.mark.parametrize("name", sorted(BAD_KEYS))
def test_a_bad_answers_file_is_refused_naming_file_and_key(name: str, capsys) -> None:
    path = BAD / f"{name}.toml"
    code = main([str(TINY), "--answers", str(path), "--headless"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == "" and "Traceback" not in err
    assert err.startswith(f"error: {path}: "), err
    assert BAD_KEYS[name] in err, err


def test_every_problem_of_a_file_is_named(tmp_path: Path) -> None:
    text = (BAD / "step_zero.toml").read_text() + "\n" + (BAD / "name_typo.toml").read_text()
    with pytest.raises(AnswersError) as info:
        loads_answers(text, "two.toml")
    assert [p.split(":")[0] for p in info.value.problems] == ["answer[0].step", "answer[1].name"]


def test_a_missing_file_and_a_fifo_are_refused(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "answers.toml"
    import os

    os.mkfifo(fifo)
    assert main([str(TINY), "--answers", str(fifo), "--headless"]) == 2
    assert "is a FIFO" in capsys.readouterr().err
    assert main([str(TINY), "--answers", str(tmp_path / "none.toml"), "--headless"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_bad_file_is_refused_before_the_app_opens(capsys) -> None:
    assert main([str(TINY), "--answers", str(BAD / "name_typo.toml")]) == 2  # no --headless: the app
    assert "answer[0].name: unknown name" in capsys.readouterr().err


def test_flags_that_do_not_go_with_answers(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main([str(TINY), "--answers", str(BAD / "step_zero.toml"), "--headless", "--steps", "3"])
    assert info.value.code == 2
    assert "--steps does not go with --answers" in capsys.readouterr().err


# -- the grading rule ----------------------------------------------------------------------------


def written(text: str) -> Written:
    doc = loads_answers(f'[[answer]]\nstep = 1\nname = "loss"\nvalue = {text}\n')
    return doc.numbers[0].written


@pytest.mark.parametrize(
    ("text", "place"),
    [("0.1385", -4), ("1.5e-3", -4), ("12.0", -1), ("-3.25E+2", 0), ("1_000.5", -1), ("4", None)],
)
def test_the_place_of_the_last_digit_written(text: str, place: int | None) -> None:
    assert written(text).place == place


def test_the_issue_s_example_four_digits() -> None:
    assert agrees(written("0.1385"), 0.138498562)
    assert not agrees(written("0.1384"), 0.138498562)


@pytest.mark.parametrize("digits", [3, 4, 10])
def test_a_value_rounded_to_k_significant_digits_is_right_and_one_unit_off_is_not(digits: int) -> None:
    rng = np.random.default_rng(digits)
    for true in rng.uniform(-2, 2, 200) * 10.0 ** rng.integers(-4, 3, 200):
        text = f"{true:.{digits - 1}e}"
        assert agrees(written(text), float(true)), (text, true)
        mantissa, exponent = text.split("e")
        # one unit of the last digit away; at 10 digits a unit is under the relative 1e-9 that is
        # always allowed, so 20 units (over 2e-9 relative) are
        unit = Decimal(1 if digits < 10 else 20).scaleb(int(exponent) - (digits - 1))
        off = Decimal(text) + (unit if true >= 0 else -unit)
        w = written(f"{off:e}".replace("E", "e"))
        assert not agrees(w, float(true)), (off, true)


def test_a_tie_at_exactly_half_a_unit_is_right() -> None:
    assert agrees(written("0.12"), 0.125)  # exactly representable: 0.125 is half a unit from both
    assert agrees(written("0.13"), 0.125)
    assert not agrees(written("0.13"), 0.12499)


def test_an_integer_is_exact_and_full_precision_is_relative() -> None:
    assert not agrees(written("0"), 0.0035)
    assert agrees(written("0.0"), 0.0035)
    assert agrees(written("4"), 4.0)
    full = Written(0.1 + 0.2, repr(0.1 + 0.2), None)
    assert agrees(full, 0.3) and not agrees(full, 0.3 * (1 + 1e-8))
    assert agrees(Written(1e-17, "1e-17", None), 0.0)


# -- grading against the engine -----------------------------------------------------------------


def engine_record(step: int = 1):
    trainer = Trainer(load_scenario(str(TINY)))
    return trainer.run(step)[-1]


def test_answers_graded_against_the_engine_in_order(tmp_path: Path) -> None:
    rec = engine_record(2)
    W1, loss = rec.layers[0].w, rec.loss
    text = (
        f'[[answer]]\nstep = 2\nname = "w[1]"\nvalue = [[{W1[0, 0]:.6f}, {W1[0, 1]:.6f}], '
        f"[{W1[1, 0]:.6f}, {W1[1, 1] + 0.01:.6f}]]\n"
        f'[[answer]]\nstep = 2\nname = "loss"\nvalue = {loss:.5f}\n'
    )
    result = check_loaded(load_scenario(str(TINY)), loads_answers(text, "mine.toml"))
    marks = [(g.number.name, g.right) for g in result.graded]
    assert marks == [
        ("loss", True),
        ("w[1][0, 0]", True),
        ("w[1][0, 1]", True),
        ("w[1][1, 0]", True),
        ("w[1][1, 1]", False),
    ]
    assert not result.all_right


def test_headless_lines_and_exit_codes(tmp_path: Path, capsys) -> None:
    rec = engine_record()
    d = rec.layers[1].delta
    right = tmp_path / "right.toml"
    right.write_text(f'[[answer]]\nstep = 1\nname = "delta[2]"\nindex = [3, 0]\nvalue = {d[3, 0]:.4e}\n')
    assert main([str(TINY), "--answers", str(right), "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("✓ step 1  delta[2][3, 0]  ")
    assert out[-1] == "1 of 1 right"
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(f'[[answer]]\nstep = 1\nname = "delta[2]"\nindex = [3, 0]\nvalue = {-d[3, 0]:.4e}\n')
    assert main([str(TINY), "--answers", str(wrong), "--headless"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("✗ step 1  delta[2][3, 0]  ")
    assert "first wrong: step 1 delta[2][3, 0]" in out
    assert "diagnosis: error-sign" in out


def test_a_partial_trace_is_an_answers_file_with_one_number_changed(tmp_path: Path, capsys) -> None:
    scenario = load_scenario(str(TINY))
    trainer = Trainer(scenario)
    trainer.run(3)
    path = tmp_path / "mine.json"
    write_trace(path, trainer)
    doc = json.loads(path.read_text())
    assert check_answers(scenario, path).all_right
    doc["steps"][1]["layers"][0]["grad_w"][1][0] *= 1 + 1e-6  # one number, one part in a million off
    path.write_text(json.dumps(doc))
    result = check_answers(scenario, path)
    wrong = [g for g in result.graded if not g.right]
    assert [(g.number.step, g.number.name) for g in wrong[:1]] == [(2, "grad_w[1][1, 0]")]
    assert wrong[0].number.key == "steps[1].layers[0].grad_w[1][0]"
    assert len(wrong) == 1  # the learner's w after it are the true ones


def test_a_trace_of_another_network_is_refused_naming_each_array(tmp_path: Path, capsys) -> None:
    trainer = Trainer(load_scenario("xor"))  # 2-3-1: its arrays do not fit tiny's 2-2-1
    trainer.run(1)
    path = tmp_path / "xor.json"
    write_trace(path, trainer)
    assert main([str(TINY), "--answers", str(path), "--headless"]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: steps[0].layers[0].z: expected 4 x 2 (a row of 2" in err
