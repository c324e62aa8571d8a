"""Accuracy where a run without a screen shows it: the headless summary, the --vary table and
the comparison's columns; and percent(), how every view writes an accuracy.

The expected accuracies are counted here from the weights the trace recorded, with the
reference forward pass of tests/conftest.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import ref_forward_sample

from tui_backprop import load_scenario
from tui_backprop.cli import main
from tui_backprop.common.percent import percent
from tui_backprop.runs.vary import format_table, load_variants, run_variant, table_rows
from tui_backprop.scenario.overrides import parse_vary


def argmax_accuracy(W, b, activations, X, T) -> float:
    right = 0
    for x, t in zip(X, T, strict=True):
        y = ref_forward_sample(W, b, activations, x)[1][-1]
        right += int(np.argmax(y) == np.argmax(t))
    return right / len(X)


def threshold_accuracy(W, b, activations, X, T) -> float:
    right = 0
    for x, t in zip(X, T, strict=True):
        y = ref_forward_sample(W, b, activations, x)[1][-1]
        right += int((y[0] >= 0.5) == (t[0] == 1))
    return right / len(X)


def last_weights(path):
    step = json.loads(path.read_text())["steps"][-1]
    return [np.array(lr["w"]) for lr in step["layers"]], [np.array(lr["b"]) for lr in step["layers"]]


def test_the_headless_summary_of_iris_names_both_accuracies(tmp_path, capsys):
    path = tmp_path / "iris.json"
    assert main(["iris", "--headless", "--steps", "120", "--export", str(path)]) == 0
    out = capsys.readouterr().out
    s = load_scenario("iris")
    W, b = last_weights(path)
    train = argmax_accuracy(W, b, s.activations, s.inputs, s.targets)
    test = argmax_accuracy(W, b, s.activations, s.test_inputs, s.test_targets)
    m = re.search(r"test loss \S+, training accuracy (\S+)%, test accuracy (\S+)%, stopped: steps", out)
    assert m, out
    assert float(m[1]) == pytest.approx(100 * train, abs=0.05)
    assert float(m[2]) == pytest.approx(100 * test, abs=0.05)


def test_the_headless_summary_of_a_run_stopped_by_target_accuracy(capsys):
    assert main(["circle", "--headless", "--set", "training.target_accuracy=0.9"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"training accuracy (\S+)%, test accuracy \S+, stopped: target_accuracy", out)
    assert m and float(m[1]) >= 90.0, out


def test_a_regression_summary_says_nothing_of_accuracy(capsys):
    assert main(["linear_neuron_full", "--headless", "--steps", "3"]) == 0
    assert "accuracy" not in capsys.readouterr().out


def test_the_vary_table_has_accuracy_columns_for_classifiers(tmp_path):
    variants = load_variants("circle", [], parse_vary("training.learning_rate=0.05,0.5"))
    results = []
    for v in variants:
        result, trainer, _ = run_variant(v, 40)
        results.append(result)
        W, b = trainer.W, trainer.b
        s = v.scenario
        assert result.train_accuracy == pytest.approx(
            threshold_accuracy(W, b, s.activations, s.inputs, s.targets)
        )
        expected_test = threshold_accuracy(W, b, s.activations, s.test_inputs, s.test_targets)
        assert result.test_accuracy == pytest.approx(expected_test)
    rows = table_rows("training.learning_rate", results)
    header = rows[0]
    assert header[2:6] == ("final loss", "test loss", "accuracy", "test accuracy")
    for row, r in zip(rows[1:], results, strict=True):
        assert row[4] == percent(r.train_accuracy) and row[5] == percent(r.test_accuracy)
    table = format_table(rows)
    assert "test accuracy" in table.splitlines()[0]


def test_the_vary_table_of_a_regression_has_no_accuracy(capsys):
    assert (
        main(["linear_neuron_full", "--headless", "--steps", "3", "--vary", "training.learning_rate=0.1,0.2"])
        == 0
    )
    assert "accuracy" not in capsys.readouterr().out


def test_the_vary_table_counts_target_accuracy_as_reaching_the_target(capsys):
    code = main(
        ["xor", "--headless", "--set", "training.target_accuracy=1", "--vary", "training.learning_rate=2,4"]
    )
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        *(
            "training.learning_rate",
            "steps",
            "final",
            "loss",
            "accuracy",
            "to",
            "target",
            "diverged",
            "stopped",
        )
    ]
    for line in out[1:]:
        cells = line.split()
        assert cells[3] == "100%" and cells[4] == cells[1] and cells[-1] == "target_accuracy"


@pytest.mark.parametrize(
    "fraction, text",
    [
        (1.0, "100%"),
        (0.0, "0%"),
        (0.975, "97.5%"),
        (29 / 30, "96.7%"),
        (0.99996, "99.9%"),  # never rounded up to a perfect score
        (0.00004, "0.1%"),  # nor down to none right
        (float("nan"), "–"),
        (None, "–"),
    ],
)
def test_percent(fraction, text):
    assert percent(fraction) == text
