"""Hand precision (tutor/rounding.py): a step done to K significant digits, proven against the
engine (K = 17 is the exact step) and against a hand calculation written here, number by number."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tutor_text import TWO_TWO_TWO

from tui_backprop.engine import Trainer
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.scenario.reader import load_scenario, loads_scenario
from tui_backprop.tutor.rounding import (
    HandPrecisionUnsupported,
    hand_step,
    hand_values,
    rounded,
    rounding_digits,
    written_digits,
)


def first_record(scenario):
    return Trainer(scenario, history=1).step()


@pytest.mark.parametrize(
    "name", ["xor", "mlp_error_signal", "linear_neuron_minibatch", "xor_identity_worked", "circle", "iris"]
)
def test_at_17_digits_the_hand_step_is_the_engines(name):
    scenario = load_scenario(name)
    record = first_record(scenario)
    hand = hand_step(record, scenario.loss, 17, scenario.update_biases)
    assert hand.loss == pytest.approx(record.loss, rel=1e-12)
    for h, lr in zip(hand.layers, record.layers, strict=True):
        for field in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
            np.testing.assert_allclose(
                getattr(h, field), getattr(lr, field), rtol=1e-12, atol=1e-15, err_msg=field
            )


def r(x, k):
    return float(f"{x:.{k}g}")


def by_hand(k):
    """TWO_TWO_TWO's step, one scalar at a time, every number written down to k digits."""
    W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
    b = [[0.35, 0.35], [0.60, 0.60]]
    X, T = [[0.05, 0.10], [0.3, -0.2]], [[0.01, 0.99], [0.5, 0.2]]
    out = {"z": [[], []], "a": [[], []], "delta": [None, None]}
    for x in X:
        a_prev = x
        for l in range(2):
            zs, acts = [], []
            for j in range(2):
                s = r(W[l][j][0] * a_prev[0], k)
                s = r(s + r(W[l][j][1] * a_prev[1], k), k)
                z = r(s + b[l][j], k)
                zs.append(z)
                acts.append(r(1 / (1 + math.exp(-z)), k))
            out["z"][l].append(zs)
            out["a"][l].append(acts)
            a_prev = acts
    fp = [[[r(a * (1 - a), k) for a in row] for row in out["a"][l]] for l in range(2)]
    d2 = [
        [r(r(y - t, k) * f, k) for y, t, f in zip(ys, ts, fs, strict=True)]
        for ys, ts, fs in zip(out["a"][1], T, fp[1], strict=True)
    ]
    d1 = []
    for sample, deltas in enumerate(d2):
        row = []
        for j in range(2):
            s = r(W[1][0][j] * deltas[0], k)
            s = r(s + r(W[1][1][j] * deltas[1], k), k)
            row.append(r(s * fp[0][sample][j], k))
        d1.append(row)
    g1 = [
        [r(r(r(d1[0][j] * X[0][i], k) + r(d1[1][j] * X[1][i], k), k) / 2, k) for i in range(2)]
        for j in range(2)
    ]
    w1 = [[r(W[0][j][i] - r(0.5 * g1[j][i], k), k) for i in range(2)] for j in range(2)]
    return {
        "z[1]": out["z"][0],
        "z[2]": out["z"][1],
        "delta[2]": d2,
        "delta[1]": d1,
        "grad_w[1]": g1,
        "w[1]": w1,
    }


@pytest.mark.parametrize("k", [2, 3, 5])
def test_the_hand_step_is_a_hand_calculation(k):
    scenario = loads_scenario(TWO_TWO_TWO)
    record = first_record(scenario)
    mine = hand_values(record, scenario.loss, k)
    theirs = by_hand(k)
    for name, expected in theirs.items():
        # the same roundings; only a tie in the k-th digit, met from the other side of a last
        # bit (sigmoid's), could differ, by one unit there
        np.testing.assert_allclose(mine[name], np.array(expected), rtol=1.01 * 10 ** (1 - k), err_msg=name)
        assert np.mean(mine[name] == np.array(expected)) >= 0.75, name
    exact = record.layers[0].grad_w
    assert not np.allclose(mine["grad_w[1]"], exact, rtol=10 ** (-k - 1), atol=0)  # rounding moved it


def test_rounding_is_recognised_for_grading():
    scenario = loads_scenario(TWO_TWO_TWO)
    record = first_record(scenario)
    hand3 = hand_values(record, scenario.loss, 3)["grad_w[1]"][1, 0]
    exact = record.layers[0].grad_w[1, 0]
    written = f"{hand3:.3g}"
    assert written != f"{exact:.3g}"  # the learner's 3-digit number is not the true one to 3 digits
    k = rounding_digits(record, scenario.loss, "grad_w[1]", (1, 0), float(written), written_digits(written))
    assert k is not None and k <= 3
    assert f"{hand_values(record, scenario.loss, k)['grad_w[1]'][1, 0]:.3g}" == written
    wrong = float(written) * 1.5
    assert rounding_digits(record, scenario.loss, "grad_w[1]", (1, 0), wrong, 3) is None


def test_written_digits_and_rounded():
    assert [written_digits(s) for s in ("0.1385", "-2.50", "1.2e-3", "0", "0.0040")] == [4, 3, 2, 1, 2]
    np.testing.assert_array_equal(rounded(np.array([0.138498562, -2.5e-7, 0.0]), 3), [0.138, -2.5e-7, 0.0])


def test_steps_it_does_not_model_are_refused():
    scenario = load_scenario("xor", [parse_set("training.optimizer=momentum")])
    with pytest.raises(HandPrecisionUnsupported, match="plain gradient descent"):
        hand_step(first_record(scenario), scenario.loss, 3)


def test_worked_digits_sets_the_hand_step_beside_the_exact_one(capsys):
    from tui_backprop.cli import main

    assert main(["mlp_error_signal", "--worked", "--digits", "3"]) == 0
    out = capsys.readouterr().out
    assert "### Step 1 by hand, to 3 significant digits" in out
    scenario = load_scenario("mlp_error_signal")
    record = first_record(scenario)
    hand = hand_step(record, scenario.loss, 3)
    exact, mine = record.layers[1].w[0, 2], hand.layers[1].w[0, 2]
    assert f"| w\\[2\\]\\[0, 2\\] | {exact:.10g} | {mine:.3g} | {mine - exact:+.2g} |" in out
    # [display] digits does the same without the flag; the flag wins over it
    assert main(["mlp_error_signal", "--worked", "--set", "display.digits=2"]) == 0
    assert "by hand, to 2 significant digits" in capsys.readouterr().out
    assert main(["mlp_error_signal", "--worked", "--set", "display.digits=2", "--digits", "4"]) == 0
    assert "by hand, to 4 significant digits" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--worked", "--digits", "0"], "--digits: expected 1 to 17 significant digits, got 0"),
        (["--worked", "--set", "display.digits=18"], "[display] digits: must be 1 to 17"),
        (["--digits", "3", "--headless"], "--digits goes with --worked or the app"),
        (["--worked", "--set", "display.digits=true"], "[display] digits: expected an integer"),
    ],
)
def test_bad_digits_are_named(argv, message, capsys):
    from tui_backprop.cli import main

    try:
        code = main(["xor", *argv])
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_digits_for_the_app_is_the_display_key_it_stands_for():
    from tui_backprop.cli import _parser
    from tui_backprop.tutor.flags import app_sets

    assert app_sets(_parser().parse_args(["xor", "--digits", "3"])) == ["display.digits=3"]
    assert app_sets(_parser().parse_args(["xor", "--digits", "3", "--worked"])) == []
    assert app_sets(_parser().parse_args(["xor"])) == []
