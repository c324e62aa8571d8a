"""Accuracy of classifiers (engine/accuracy.py): which runs are classifiers, the training- and
test-set accuracy of every step, target_accuracy, the confusion matrix, and the trace.

Every expected accuracy is counted here from the record's weights with plain numpy written out
in the test (tests/conftest.py's reference forward pass, one sample at a time), never read
from the engine.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import make_scenario, ref_forward_sample, toml_scenario
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario, write_trace
from tui_backprop.cli import main
from tui_backprop.engine.accuracy import Classifier, classifier_of, confusion_matrix
from tui_backprop.scenario.reader import ScenarioError
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.verify import verify


def outputs(W, b, activations, X) -> np.ndarray:
    """y (N, n_L) of every sample, by the reference forward pass."""
    return np.array([ref_forward_sample(W, b, activations, x)[1][-1] for x in X])


def counted(y: np.ndarray, T: np.ndarray, kind: str) -> float:
    """The fraction of samples right, written out: each output over 0.5 (every one of them right
    for several sigmoid outputs), or the position of the largest output against the 1."""
    right = 0
    for yk, tk in zip(y, T, strict=True):
        if kind == "multiclass":
            right += int(max(range(len(yk)), key=lambda j: (yk[j], -j)) == list(tk).index(1.0))
        else:
            right += int(all((yj >= 0.5) == (tj == 1.0) for yj, tj in zip(yk, tk, strict=True)))
    return right / len(T)


def weights_of(rec):
    return [lr.w for lr in rec.layers], [lr.b for lr in rec.layers]


RNG = np.random.default_rng(7)
X8 = RNG.normal(size=(8, 2))

# one classifier of each kind, and their explicit weights
BINARY = make_scenario(
    ("tanh", "sigmoid"),
    [RNG.normal(size=(3, 2)), RNG.normal(size=(1, 3))],
    [np.zeros(3), np.zeros(1)],
    inputs=X8,
    targets=[[0], [1], [1], [0], [1], [0], [0], [1]],
    loss="bce",
    learning_rate=0.5,
)
MULTILABEL = make_scenario(
    "sigmoid",
    [RNG.normal(size=(3, 2)), RNG.normal(size=(2, 3))],
    [np.zeros(3), np.zeros(2)],
    inputs=X8,
    targets=[[0, 1], [1, 1], [1, 0], [0, 0], [1, 1], [0, 1], [0, 0], [1, 0]],
    loss="mse",
    learning_rate=2.0,
)
MULTICLASS = make_scenario(
    ("tanh", "softmax"),
    [RNG.normal(size=(4, 2)), RNG.normal(size=(3, 4))],
    [np.zeros(4), np.zeros(3)],
    inputs=X8,
    targets=np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]],
    loss="cross_entropy",
    learning_rate=0.5,
)
KINDS = {"binary": BINARY, "multilabel": MULTILABEL, "multiclass": MULTICLASS}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_step_accuracy_is_the_count_of_right_samples(kind):
    scenario = KINDS[kind]
    trainer = Trainer(scenario)
    assert trainer.classifier is not None and trainer.classifier.kind == kind
    W0, b0 = trainer.initial_W, trainer.initial_b
    y0 = outputs(W0, b0, scenario.activations, scenario.inputs)
    assert trainer.initial_train_accuracy == pytest.approx(counted(y0, scenario.targets, kind))
    expected = []
    for _ in range(30):
        rec = trainer.step()
        W, b = weights_of(rec)
        expected.append(counted(outputs(W, b, scenario.activations, scenario.inputs), scenario.targets, kind))
        assert rec.train_accuracy == pytest.approx(expected[-1])
        assert rec.test_accuracy is None  # no test set
    assert trainer.train_accuracies.tolist() == pytest.approx(expected)
    assert trainer.test_accuracies.tolist() == []


def test_accuracies_change_over_a_run_and_the_series_holds_each_step():
    trainer = Trainer(MULTICLASS)
    records = trainer.run(40)
    assert [r.train_accuracy for r in records] == trainer.train_accuracies.tolist()
    assert len(set(trainer.train_accuracies)) > 1  # it learns: not a constant


@pytest.mark.parametrize("name", ["iris", "circle", "spiral"])
def test_the_test_set_accuracy_of_bundled_classifiers(name):
    s = load_scenario(name)
    trainer = Trainer(s)
    assert trainer.classifier is not None
    rec = trainer.run(25)[-1]
    W, b = weights_of(rec)
    kind = trainer.classifier.kind
    y_test = outputs(W, b, s.activations, s.test_inputs)
    assert rec.test_accuracy == pytest.approx(counted(y_test, s.test_targets, kind))
    y = outputs(W, b, s.activations, s.inputs)
    assert rec.train_accuracy == pytest.approx(counted(y, s.targets, kind))
    assert trainer.test_accuracies[-1] == rec.test_accuracy


NOT_CLASSIFIERS = {
    "identity output": make_scenario("identity", [[[0.5, -0.5]]], inputs=X8, targets=[0, 1] * 4),
    "tanh output": make_scenario("tanh", [[[0.5, -0.5]]], inputs=X8, targets=[0, 1] * 4),
    "sigmoid with half_sse": make_scenario(
        "sigmoid", [[[0.5, -0.5]]], inputs=X8, targets=[0, 1] * 4, loss="half_sse"
    ),
    "sigmoid with targets not 0 or 1": make_scenario(
        "sigmoid", [[[0.5, -0.5]]], inputs=X8, targets=[0, 0.7] * 4, loss="bce"
    ),
    "softmax with soft targets": make_scenario(
        "softmax", [[[0.5, -0.5], [0.1, 0.2]]], inputs=X8, targets=[[0.3, 0.7]] * 8, loss="cross_entropy"
    ),
}


@pytest.mark.parametrize("name", list(NOT_CLASSIFIERS))
def test_a_run_that_is_not_a_classifier_has_no_accuracy(name, tmp_path):
    trainer = Trainer(NOT_CLASSIFIERS[name])
    assert trainer.classifier is None
    assert trainer.initial_train_accuracy is None and trainer.initial_test_accuracy is None
    rec = trainer.run(3)[-1]
    assert rec.train_accuracy is None and rec.test_accuracy is None
    assert len(trainer.train_accuracies) == 0 and len(trainer.test_accuracies) == 0
    assert trainer.final_accuracies == (None, None)


def test_a_regression_trace_names_no_accuracy(tmp_path):
    trainer = Trainer(load_scenario("linear_neuron_full"))
    trainer.run(5)
    path = tmp_path / "line.json"
    write_trace(path, trainer)
    assert "accuracy" not in path.read_text()


def test_the_classifier_kinds_follow_output_loss_and_targets():
    onehot = np.eye(3)[[0, 1, 2]]
    assert classifier_of("sigmoid", "bce", np.array([[0.0], [1.0]])).kind == "binary"
    assert classifier_of("sigmoid", "mse", np.array([[0.0, 1.0], [1.0, 1.0]])).kind == "multilabel"
    assert classifier_of("softmax", "cross_entropy", onehot).kind == "multiclass"
    # a test set that is not classes spoils it
    assert classifier_of("sigmoid", "bce", np.array([[0.0], [1.0]]), np.array([[0.5]])) is None
    assert classifier_of("sigmoid", "sse", np.array([[0.0], [1.0]])) is None
    assert classifier_of("softmax", "cross_entropy", np.array([[1.0, 1.0, 0.0]])) is None


def test_a_step_that_does_not_evaluate_has_nan_accuracy_like_its_losses():
    s = load_scenario("circle", [])
    from dataclasses import replace

    trainer = Trainer(replace(s, evaluate_every=3))
    records = trainer.run(6)
    for r in records:
        evaluated = r.step % 3 == 0
        assert r.evaluated == evaluated
        assert math.isnan(r.train_accuracy) != evaluated
        assert math.isnan(r.test_accuracy) != evaluated
    assert len(trainer.train_accuracies) == len(trainer.test_accuracies) == 6


def test_undo_and_reset_give_back_the_accuracy_series():
    trainer = Trainer(MULTICLASS)
    trainer.run(10)
    before = trainer.train_accuracies.tolist()
    last = trainer.step()
    trainer.undo()
    assert trainer.train_accuracies.tolist() == before
    again = trainer.step()
    assert again.train_accuracy == last.train_accuracy
    trainer.reset()
    assert len(trainer.train_accuracies) == 0


# -- target_accuracy ---------------------------------------------------------------------------


def test_target_accuracy_stops_at_the_first_step_at_or_over_it():
    from dataclasses import replace

    free = Trainer(BINARY)
    accuracies = []
    for _ in range(200):
        rec = free.step()
        W, b = weights_of(rec)
        accuracies.append(counted(outputs(W, b, BINARY.activations, BINARY.inputs), BINARY.targets, "binary"))
    target = max(accuracies)
    assert target > free.initial_train_accuracy  # the run gets somewhere to stop at
    first = next(k for k, a in enumerate(accuracies, 1) if a >= target)
    stopped = Trainer(replace(BINARY, target_accuracy=target))
    records = stopped.run(500)
    assert records[-1].step == first
    assert records[-1].stop_reason == stopped.stop_reason == "target_accuracy"
    assert all(r.stop_reason is None for r in records[:-1])


def test_target_loss_wins_when_both_targets_hold_at_the_same_step():
    from dataclasses import replace

    both = Trainer(replace(BINARY, target_loss=1e9, target_accuracy=1e-9))
    assert both.step().stop_reason == "target_loss"
    only_accuracy = Trainer(replace(BINARY, target_accuracy=1e-9))
    assert only_accuracy.step().stop_reason == "target_accuracy"


XOR_TOML = """
[scenario]
name = "xor"
[network]
layers = [2, 2, 1]
activation = "{activation}"
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [{targets}]
[training]
loss = "{loss}"
learning_rate = 0.5
target_accuracy = {target}
"""


@pytest.mark.parametrize(
    "activation, loss, targets, target, says",
    [
        ("tanh", "mse", "0, 1, 1, 0", "0.9", "this is tanh with mse"),
        ("sigmoid", "half_sse", "0, 1, 1, 0", "0.9", "this is sigmoid with half_sse"),
        ("sigmoid", "mse", "0, 1, 0.5, 0", "0.9", "its targets are not classes"),
        ("sigmoid", "bce", "0, 1, 1, 0", "0", "must be > 0 and <= 1"),
        ("sigmoid", "bce", "0, 1, 1, 0", "1.5", "must be > 0 and <= 1"),
        ("sigmoid", "bce", "0, 1, 1, 0", '"all"', "target_accuracy"),
    ],
)
def test_target_accuracy_is_refused_where_it_means_nothing(activation, loss, targets, target, says):
    text = XOR_TOML.format(activation=activation, loss=loss, targets=targets, target=target)
    with pytest.raises(ScenarioError) as e:
        toml_scenario(text)
    message = str(e.value)
    assert "[training] target_accuracy" in message and says in message


def test_target_accuracy_of_a_classifier_is_read():
    s = toml_scenario(XOR_TOML.format(activation="sigmoid", loss="bce", targets="0, 1, 1, 0", target="1"))
    assert s.target_accuracy == 1.0
    assert s.to_dict()["training"]["target_accuracy"] == 1.0


def test_target_accuracy_on_the_command_line_is_a_clear_error_for_a_regression(capsys):
    code = main(["linear_neuron_full", "--headless", "--set", "training.target_accuracy=0.9"])
    err = capsys.readouterr().err
    assert code == 2 and "[training] target_accuracy" in err and "Traceback" not in err


# -- the confusion matrix ----------------------------------------------------------------------


def test_iris_confusion_matrix_after_training_sums_to_the_test_set_and_matches_test_accuracy():
    s = load_scenario("iris")
    trainer = Trainer(s)
    rec = trainer.run(400)[-1]
    W, b = weights_of(rec)
    m = confusion_matrix(trainer.network, W, b, s.test_inputs, s.test_targets, trainer.classifier)
    assert m.shape == (3, 3)
    assert m.sum() == len(s.test_inputs) == 30
    assert np.trace(m) / m.sum() == pytest.approx(rec.test_accuracy)
    # rows are the true classes: 10 flowers of each species in the test set
    assert m.sum(axis=1).tolist() == np.sum(s.test_targets, axis=0).astype(int).tolist()
    # each cell counted here, sample by sample
    y = outputs(W, b, s.activations, s.test_inputs)
    expected = np.zeros((3, 3), dtype=int)
    for yk, tk in zip(y, s.test_targets, strict=True):
        expected[list(tk).index(1.0), int(np.argmax(yk))] += 1
    assert m.tolist() == expected.tolist()
    assert rec.test_accuracy > 0.8  # iris is learned


def test_a_binary_confusion_matrix_is_two_by_two_and_multilabel_has_none():
    trainer = Trainer(BINARY)
    rec = trainer.run(20)[-1]
    W, b = weights_of(rec)
    m = confusion_matrix(trainer.network, W, b, BINARY.inputs, BINARY.targets, trainer.classifier)
    y = outputs(W, b, BINARY.activations, BINARY.inputs)[:, 0]
    t = BINARY.targets[:, 0]
    assert m.tolist() == [
        [int(np.sum((t == 0) & (y < 0.5))), int(np.sum((t == 0) & (y >= 0.5)))],
        [int(np.sum((t == 1) & (y < 0.5))), int(np.sum((t == 1) & (y >= 0.5)))],
    ]
    ml = Trainer(MULTILABEL)
    X, T = MULTILABEL.inputs, MULTILABEL.targets
    assert confusion_matrix(ml.network, ml.W, ml.b, X, T, ml.classifier) is None


# -- the trace -------------------------------------------------------------------------------


def test_the_trace_round_trip_and_check(tmp_path):
    trainer = Trainer(load_scenario("iris"))
    records = trainer.run(30)
    path = tmp_path / "iris.json"
    write_trace(path, trainer)
    doc = json.loads(path.read_text())
    validate_trace(doc)
    assert [st["train_accuracy"] for st in doc["steps"]] == [r.train_accuracy for r in records]
    assert [st["test_accuracy"] for st in doc["steps"]] == [r.test_accuracy for r in records]
    recording = read_trace(path)
    assert [r.train_accuracy for r in recording.records] == [r.train_accuracy for r in records]
    assert [r.test_accuracy for r in recording.records] == [r.test_accuracy for r in records]
    assert recording.initial_train_accuracy == trainer.initial_train_accuracy
    assert recording.initial_test_accuracy == trainer.initial_test_accuracy
    verify(read_trace(path, whole=False))


@pytest.mark.parametrize("field", ["train_accuracy", "test_accuracy"])
def test_check_finds_a_wrong_accuracy(tmp_path, field, capsys):
    trainer = Trainer(load_scenario("iris"))
    trainer.run(5)
    path = tmp_path / "iris.json"
    write_trace(path, trainer)
    doc = json.loads(path.read_text())
    doc["steps"][2][field] = 1.0 - doc["steps"][2][field] / 2
    path.write_text(json.dumps(doc))
    assert main(["--check", str(path)]) == 2
    assert f"step 3, {field}: recorded" in capsys.readouterr().err


def test_a_run_stopped_by_target_accuracy_is_exported_and_checked(tmp_path, capsys):
    path = tmp_path / "xor.json"
    code = main(["xor", "--headless", "--set", "training.target_accuracy=1", "--export", str(path)])
    assert code == 0
    doc = json.loads(path.read_text())
    validate_trace(doc)
    assert doc["summary"]["stop_reason"] == "target_accuracy"
    assert doc["steps"][-1]["train_accuracy"] == 1.0
    assert all(st["train_accuracy"] < 1.0 for st in doc["steps"][:-1])
    assert main(["--check", str(path)]) == 0


@pytest.mark.parametrize("kind,outputs", [("binary", 1), ("multilabel", 3), ("multiclass", 4)])
def test_a_stack_scorer_gives_the_accuracy_of_each_outputs_as_its_scorer_does(kind, outputs):
    """The fast path counts many steps' outputs at once: each accuracy is the one the count of
    right samples of that step gives, ties, nan and outputs at the threshold included."""
    rng = np.random.default_rng(outputs)
    B = 7
    if kind == "multiclass":
        T = np.eye(outputs)[rng.integers(0, outputs, B)]
    else:
        T = rng.integers(0, 2, (B, outputs)).astype(float)
    ys = [rng.random((B, outputs)) for _ in range(9)]
    ys[1][0] = np.nan  # a diverged output
    ys[2][:] = 0.5  # every output at the threshold, every multiclass output tied
    ys[3] = (T >= 0.5) * 1.0  # all right
    c = Classifier(kind, outputs)
    want = []
    for y in ys:
        right = c.predict(y) == c.labels(T)
        right = right.all(axis=1) if right.ndim == 2 else right
        want.append(int(right.sum()) / B)
    assert c.stack_scorer(T)(ys) == want == [c.scorer(T)(y) for y in ys]
    assert want[3] == 1.0
