"""The tutor's parts close the loop: an exercise sheet's answer key is an answers file that the
grader takes, all right; and the grader's diagnosis says when hand precision (every intermediate
rounded to k digits, tutor/rounding.py) gives a learner's wrong number."""

from __future__ import annotations

import io
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tui_backprop.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("scenario", "steps"), [("xor_identity_worked", "2"), ("xor", "1")])
def test_an_exercise_sheets_answer_key_is_graded_all_right(tmp_path, scenario, steps):
    sheet = tmp_path / "sheet.md"
    assert run([scenario, "--exercise", steps, "-o", str(sheet)])[0] == 0
    key = tmp_path / "sheet.key.toml"
    code, out, err = run([scenario, "--answers", str(key), "--headless"])
    assert code == 0, err
    lines = out.splitlines()
    graded = [line for line in lines if line.startswith(("✓", "✗"))]
    assert graded and all(line.startswith("✓") for line in graded)
    assert f"{len(graded)} of {len(graded)} right" in lines


def test_a_key_with_one_number_changed_is_graded_wrong_at_that_number(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: a long one is cut where it is printed
    assert run(["xor_identity_worked", "--exercise", "-o", "sheet.md"])[0] == 0
    key = Path("sheet.key.toml")
    text = key.read_text()
    first = text.index("value = ")
    end = text.index("\n", first)
    changed = text[:first] + "value = 123.0" + text[end:]
    key.write_text(changed)
    code, out, _ = run(["xor_identity_worked", "--answers", str(key), "--headless"])
    assert code == 1
    assert (
        "first wrong: step 1 delta[2][0, 0]: you wrote 123.0" in out and "sheet.key.toml: answer[0])" in out
    )


def one_weight(tmp_path: Path, written: str) -> tuple[Path, Path]:
    """z = 0.3333 * 3 = 0.9999 exactly; a hand calculation at 2 or 3 digits gives 1.0."""
    scenario = tmp_path / "one.toml"
    scenario.write_text(
        textwrap.dedent(
            """
            [scenario]
            name = "one weight"
            [network]
            layers = [1, 1]
            activation = "identity"
            bias = false
            [init]
            method = "explicit"
            weights = [ [[0.3333]] ]
            [data]
            inputs = [[3.0]]
            targets = [[0.0]]
            [training]
            loss = "half_sse"
            learning_rate = 0.1
            """
        )
    )
    answers = tmp_path / "mine.toml"
    answers.write_text(f'[[answer]]\nstep = 1\nname = "z[1]"\nvalue = {written}\n')
    return scenario, answers


def test_a_number_a_rounded_hand_calculation_gives_is_said_to_be_rounding(tmp_path):
    scenario, answers = one_weight(tmp_path, "1.0000")  # 0.9999 to 5 digits is 0.99990
    code, out, _ = run([str(scenario), "--answers", str(answers), "--headless"])
    assert code == 1
    assert "✗ step 1  z[1][0, 0]  1.0000  (true 0.9999)" in out
    assert (
        "rounding: not a slip: the step done by hand with every intermediate rounded to 2 significant" in out
    )


def test_a_number_no_rounding_gives_is_said_not_to_be(tmp_path):
    scenario, answers = one_weight(tmp_path, "1.0500")
    code, out, _ = run([str(scenario), "--answers", str(answers), "--headless"])
    assert code == 1
    assert "rounding: no: the step done by hand with every intermediate rounded to 2 to 8" in out
