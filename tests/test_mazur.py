"""The worked example everyone checks (scenarios/mazur_2_2_2.toml): what its published figures are,
proven with a loop written here apart from the engine and the tutor, and graded by --answers.

The example prints the true first round, then a total error and outputs that a calculation with
the updated-weights slip gives (the hidden deltas made with the output weights already updated)."""

from __future__ import annotations

import io
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "examples" / "mazur_2_2_2-published.toml"


def rounds(n: int, slipped: bool) -> tuple[float, float, np.ndarray]:
    """n rounds of the example by hand: the error after the first, the error after n (half the
    squared error summed over the outputs), and the outputs after n."""
    x, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    w1, b1 = np.array([[0.15, 0.20], [0.25, 0.30]]), 0.35
    w2, b2 = np.array([[0.40, 0.45], [0.50, 0.55]]), 0.60

    def out(w1, w2):
        h = 1 / (1 + np.exp(-(w1 @ x + b1)))
        return h, 1 / (1 + np.exp(-(w2 @ h + b2)))

    first = 0.0
    for k in range(n):
        h, o = out(w1, w2)
        d2 = (o - t) * o * (1 - o)
        new_w2 = w2 - 0.5 * np.outer(d2, h)
        d1 = ((new_w2 if slipped else w2).T @ d2) * h * (1 - h)
        w1, w2 = w1 - 0.5 * np.outer(d1, x), new_w2
        if k == 0:
            first = 0.5 * float(((out(w1, w2)[1] - t) ** 2).sum())
    o = out(w1, w2)[1]
    return first, 0.5 * float(((o - t) ** 2).sum()), o


def test_the_engine_is_the_true_calculation():
    trainer = Trainer(load_scenario("mazur_2_2_2"))
    trainer.run(10_000, record=False)
    first, last, outputs = rounds(10_000, slipped=False)
    assert trainer.train_losses[0] == pytest.approx(first, rel=1e-12)
    assert trainer.train_losses[-1] == pytest.approx(last, rel=1e-9)
    assert trainer.step().layers[-1].a[0] == pytest.approx(outputs, rel=1e-9)  # the 10,001st forward pass
    assert f"{first:.10g}" == "0.2910277737" and f"{last:.6g}" == "3.51019e-05"
    assert [f"{v:.10g}" for v in outputs] == ["0.01591362044", "0.9840642735"]


def test_the_published_later_figures_are_the_slips_but_its_last_error_is_neither():
    first, last, outputs = rounds(10_000, slipped=True)
    assert f"{first:.9f}" == "0.291027924"  # printed after the first round
    assert [f"{v:.9f}" for v in outputs] == ["0.015912196", "0.984065734"]  # after 10,000
    assert f"{last:.6g}" == "3.50848e-05"  # printed: 0.0000351085, which neither gives
    assert f"{rounds(10_000, slipped=False)[1]:.6g}" != "3.51085e-05"


def grade(answers: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["mazur_2_2_2", "--answers", str(answers), "--headless"])
    return code, out.getvalue() + err.getvalue()


def test_the_published_first_round_is_right_and_its_error_names_the_slip(tmp_path):
    # the bundled answers file, up to the first round's error (its 10,001st step takes seconds)
    doc = PUBLISHED.read_text()
    cut = doc.index("[[answer]]\nstep = 10001")
    first_round = tmp_path / "first.toml"
    first_round.write_text(doc[:cut])
    assert len(tomllib.loads(doc)["answer"]) == 8  # the first round's six, then the three of step 10,001
    code, out = grade(first_round)
    assert code == 1
    assert "13 of 14 right" in out
    assert "first wrong: step 1 train_loss: you wrote 0.291027924, the true value is 0.2910277737" in out
    assert "diagnosis: updated-weights:" in out
    assert "of step 1 are the true ones, not what the slip gives: train_loss came from another" in out


def test_a_later_figure_of_the_slipped_calculation_follows_from_it(tmp_path):
    _, _, outputs = rounds(100, slipped=True)
    answers = tmp_path / "later.toml"
    answers.write_text(
        PUBLISHED.read_text()[: PUBLISHED.read_text().index("[[answer]]\nstep = 10001")]
        + f'[[answer]]\nstep = 101\nname = "a[2]"\nvalue = [[{outputs[0]:.9g}, {outputs[1]:.9g}]]\n'
    )
    code, out = grade(answers)
    assert code == 1
    assert "diagnosis: updated-weights:" in out
    assert "step 101 a[2][0, 0]" in out and "follows from it" in out
    assert "does not follow" not in out
