"""Diagnostics (engine/diagnostics.py): each kind raised by a network made to trigger it,
and absent from one that does not. Where a kind has a definition that can be computed
from the numbers (a slope, a norm, a loss), the test computes it itself and compares the
units or steps it finds with the warnings, over many networks.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_scenario, toml_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from trace_schema import trace_is_valid, validate_trace

from tui_backprop import Trainer, load_scenario, write_trace
from tui_backprop.engine.diagnostics import KINDS, Diagnostic

DATA = Path(__file__).parent / "data"


def kinds(rec) -> list[str]:
    return [w.kind for w in rec.warnings]


def only(rec, kind) -> Diagnostic:
    (found,) = [w for w in rec.warnings if w.kind == kind]
    return found


def test_the_learning_xor_has_no_warnings_at_all():
    trainer = Trainer(load_scenario("xor"))
    records = trainer.run(1000)
    assert trainer.stop_reason == "target_loss"
    assert [r.step for r in records if r.warnings] == []


def test_every_warning_is_a_known_kind_with_a_message():
    for name in ("xor_identity_worked", DATA / "proportional_saturates.toml"):
        for rec in Trainer(load_scenario(name)).run(100):
            for w in rec.warnings:
                assert w.kind in KINDS
                assert w.layer is None or 1 <= w.layer <= len(rec.layers)
                assert w.message and str(w) == w.message


# -- saturated -------------------------------------------------------------------------------


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_a_sigmoid_unit_driven_far_from_zero_is_saturated():
    # unit 1 sees z = 20 and 30, unit 2 sees z = 0.5 and 0.75
    s = make_scenario("sigmoid", [[[20.0], [0.5]], [[1.0, 1.0]]], inputs=[[1.0], [1.5]], targets=[0.0, 1.0])
    rec = Trainer(s).step()
    w = only(rec, "saturated")
    assert (w.layer, w.nodes) == (1, (0,))
    assert "Layer 1" in w.message and "unit 1 " in w.message


@pytest.mark.parametrize(
    ("act", "z", "saturated"),
    [
        # sigma'(6.0) = 0.00247 < 1% of 1/4 < sigma'(5.97) = 0.00254
        ("sigmoid", 6.0, True),
        ("sigmoid", -6.0, True),
        ("sigmoid", 5.97, False),
        ("sigmoid", -5.97, False),
        # tanh'(3.0) = 0.00987 < 1% of 1 < tanh'(2.985) = 0.01017
        ("tanh", 3.0, True),
        ("tanh", -3.0, True),
        ("tanh", 2.985, False),
    ],
)
def test_saturation_starts_where_the_slope_falls_below_one_percent_of_its_maximum(act, z, saturated):
    slope = sigmoid(z) * (1 - sigmoid(z)) / 0.25 if act == "sigmoid" else 1 / np.cosh(z) ** 2
    assert (slope < 0.01) == saturated  # the test's own premise
    s = make_scenario([act, "identity"], [[[z]], [[1.0]]], inputs=[[1.0]], targets=[0.0])
    assert ("saturated" in kinds(Trainer(s).step())) == saturated


@pytest.mark.parametrize(
    ("loss", "split", "reported"),
    [("mse", "gradient", True), ("bce", "gradient", False), ("bce", "proportional", True)],
)
def test_a_saturated_sigmoid_output_matters_unless_its_delta_is_y_minus_t(loss, split, reported):
    # the output sees z = 9 and 10.8: with bce its delta is y - t and it learns at full speed,
    # but with mse, or trained with the split (e * f'(z)), its slope below 1.3e-4 slows it down
    s = make_scenario(
        "sigmoid", [[[1.0]], [[8.0]]], [[0.0], [5.0]], inputs=[[0.0], [1.0]], targets=[0.0, 0.0], loss=loss
    )
    s = dataclasses.replace(s, error_split=split)
    found = [w.layer for w in Trainer(s).step().warnings if w.kind == "saturated"]
    assert found == ([2] if reported else [])


def test_saturated_on_one_sample_only_is_not_saturated():
    # unit 1 sees z = 20 on the first sample but 0 on the second
    s = make_scenario("tanh", [[[20.0], [0.5]], [[1.0, 1.0]]], inputs=[[1.0], [0.0]], targets=[0.0, 1.0])
    assert "saturated" not in kinds(Trainer(s).step())


@st.composite
def tanh_or_sigmoid_layers(draw):
    act = draw(st.sampled_from(["sigmoid", "tanh"]))
    n_in, n_hidden, N = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W2 = rng.normal(0.0, 1.0, size=(1, n_hidden))
    if draw(st.booleans()):  # scales from calm to deep saturation
        W1 = rng.normal(0.0, draw(st.sampled_from([0.5, 3.0, 6.0, 20.0])), size=(n_hidden, n_in))
        X = rng.choice([-1.0, 1.0], size=(N, n_in)) * rng.uniform(0.5, 1.0, size=(N, n_in))
    else:  # every |z| within 10% of where the slope crosses 1% of its maximum: 2 acosh(10), acosh(10)
        edge = np.arccosh(10.0) * (2 if act == "sigmoid" else 1)
        W1 = rng.choice([-1.0, 1.0], size=(n_hidden, 1)) * rng.uniform(0.9, 1.1, size=(n_hidden, 1)) * edge
        X = rng.uniform(0.95, 1.05, size=(N, 1))
    return make_scenario([act, "identity"], [W1, W2], inputs=X, targets=rng.normal(size=N))


@settings(max_examples=80, deadline=None)
@given(tanh_or_sigmoid_layers())
def test_saturated_units_are_those_whose_slope_is_below_one_percent_on_every_sample(s):
    rec = Trainer(s).step()
    z = rec.layers[0].z
    if s.activations[0] == "sigmoid":
        slope, top = sigmoid(z) * (1 - sigmoid(z)), 0.25
    else:
        slope, top = 1 / np.cosh(z) ** 2, 1.0
    expected = tuple(j for j in range(z.shape[1]) if all(slope[:, j] < 0.01 * top))
    found = [w.nodes for w in rec.warnings if w.kind == "saturated" and w.layer == 1]
    assert found == ([expected] if expected else [])


# -- dead ReLUs ------------------------------------------------------------------------------


def relu_net(w_hidden, inputs, batch="full"):
    return make_scenario(
        ["relu", "identity"],
        [np.array(w_hidden, dtype=float)[:, None], np.ones((1, len(w_hidden)))],
        [np.zeros(len(w_hidden)), [0.0]],
        inputs=inputs,
        targets=[1.0] * len(inputs),
        batch=batch,
        learning_rate=0.01,
    )


def test_a_relu_below_zero_on_every_training_sample_is_dead():
    # unit 4 has z = 0 exactly: relu'(0) = 0, so it is as dead as units 1 and 3
    s = relu_net([-1.0, 1.0, -2.0, 0.0], inputs=[[1.0], [2.0], [3.0]])
    trainer = Trainer(s)
    for rec in trainer.run(5):
        w = only(rec, "dead_relu")
        assert (w.layer, w.nodes) == (1, (0, 2, 3))
        # and dead they stay: no gradient reaches their weights
        np.testing.assert_array_equal(rec.layers[0].w[[0, 2, 3]], [[-1.0], [-2.0], [0.0]])
        assert "units 1, 3 and 4 are dead" in w.message


def test_a_relu_dead_on_the_batch_but_not_on_the_training_set_is_not_dead():
    # one sample a step: on sample 0 (x = -1) unit 1 has z = 1 > 0, unit 2 has z = -1 <= 0,
    # but on sample 1 (x = 1) unit 2 is alive: it is not dead
    s = relu_net([-1.0, 1.0], inputs=[[-1.0], [1.0]], batch="sample")
    rec = Trainer(s).step()
    assert rec.layers[0].z[0, 1] < 0  # the batch alone would call it dead
    assert "dead_relu" not in kinds(rec)


def test_leaky_relu_is_never_dead():
    s = make_scenario(["leaky_relu", "identity"], [[[-1.0]], [[1.0]]], inputs=[[1.0], [2.0]], targets=[1, 2])
    assert "dead_relu" not in kinds(Trainer(s).step())


# -- identical units -------------------------------------------------------------------------


def test_the_all_ones_xor_example_has_three_copies_for_ever():
    trainer = Trainer(load_scenario("xor_identity_worked"))
    records = trainer.run(400)
    for rec in records:
        w = only(rec, "identical_units")
        assert (w.layer, w.nodes) == (1, (0, 1, 2))
    # the test's own check of what the warning claims: the rows stay equal to the last step
    last = records[-1]
    W1, b1, W2 = last.layers[0].w, last.layers[0].b, last.layers[1].w
    for j in (1, 2):
        np.testing.assert_array_equal(W1[j], W1[0])
        assert b1[j] == b1[0] and W2[0, j] == W2[0, 0]


def test_same_weights_in_but_different_weights_out_are_not_copies():
    # no biases and the input (0, 0): nothing moves, so the incoming rows stay equal
    W1 = [[1.0, 1.0], [1.0, 1.0], [0.5, -0.5]]
    s = make_scenario("tanh", [W1, [[0.3, -0.7, 0.2]]], inputs=[[0, 0]], targets=[1])
    rec = Trainer(s).step()
    np.testing.assert_array_equal(rec.layers[0].w[0], rec.layers[0].w[1])
    assert "identical_units" not in kinds(rec)
    s = make_scenario("tanh", [W1, [[0.3, 0.3, 0.2]]], inputs=[[0, 0]], targets=[1])
    assert only(Trainer(s).step(), "identical_units").nodes == (0, 1)


def test_copies_need_the_same_bias_too():
    W = [[[1.0], [1.0]], [[0.5, 0.5]]]
    differing = make_scenario("tanh", W, [[0.0, 0.1], [0.0]], inputs=[[1.0]], targets=[0.0])
    assert "identical_units" not in kinds(Trainer(differing).step())
    same = make_scenario("tanh", W, [[0.1, 0.1], [0.0]], inputs=[[1.0]], targets=[0.0])
    assert "identical_units" in kinds(Trainer(same).step())


# -- all-zero initial weights ----------------------------------------------------------------

ZERO_INIT = """
[scenario]
name = "zeros"
[network]
layers = [2, 2, 1]
activation = "tanh"
[init]
method = "constant"
value = 0.0
bias_value = 0.1
[data]
inputs = [[0, 1], [1, 0], [1, 1]]
targets = [1, 1, 0]
[training]
loss = "mse"
learning_rate = 0.5
"""


def test_zero_weights_are_reported_while_they_are_still_zero():
    trainer = Trainer(toml_scenario(ZERO_INIT))
    records = trainer.run(4)
    warned = [[w.layer for w in r.warnings if w.kind == "zero_init"] for r in records]
    still_zero = [[l for l, lr in enumerate(r.layers, 1) if not lr.w_before.any()] for r in records]
    assert warned == still_zero
    # step 1: both layers are 0; W2 moves at once, W1 only once W2 passes an error back
    assert warned[:3] == [[1, 2], [1], []]


def test_zero_init_messages_say_what_each_layer_loses():
    (first, second) = [w for w in Trainer(toml_scenario(ZERO_INIT)).step().warnings if w.kind == "zero_init"]
    assert first.layer == 1 and "ignore their inputs" in first.message
    assert second.layer == 2 and "pass no error back to layer 1" in second.message


def test_one_layer_starting_at_zero_is_plain_regression():
    rec = Trainer(load_scenario("linear_neuron_full")).step()
    assert not rec.layers[0].w_before.any()
    assert "zero_init" not in kinds(rec)


# -- vanishing and exploding gradients -------------------------------------------------------


def chain(act, depth, weight):
    """A 1-1-...-1 network of ``depth`` layers, every weight ``weight``, no biases."""
    return make_scenario(act, [[[weight]]] * depth, inputs=[[1.0], [0.5]], targets=[0.0, 1.0])


def delta_ratio(rec):
    return np.linalg.norm(rec.layers[0].delta) / np.linalg.norm(rec.layers[-1].delta)


@pytest.mark.parametrize(
    ("act", "weight"),
    [
        ("sigmoid", 1.0),  # each layer scales delta by w sigma'(z) <= 1/4
        ("tanh", 0.1),  # by w tanh'(z) <= 0.1
        ("identity", 0.2),  # by w = 0.2
        ("identity", 3.0),  # by w = 3: growing
    ],
)
def test_gradient_ratio_across_layers(act, weight):
    seen = set()
    for depth in range(2, 11):
        rec = Trainer(chain(act, depth, weight)).step()
        ratio = delta_ratio(rec)  # |delta[1]| / |delta[L]|, from the record's deltas
        expected = "vanishing_gradient" if ratio < 1e-4 else "exploding_gradient" if ratio > 1e4 else None
        found = [k for k in kinds(rec) if k.endswith("_gradient")]
        assert found == ([expected] if expected else []), (depth, ratio)
        if expected:
            assert f"at layer {depth}" in only(rec, expected).message
        seen.add(expected)
    assert len(seen) == 2  # the sweep crosses the line


def test_a_zero_first_layer_gradient_from_a_zero_input_is_not_vanishing():
    # xor_identity_worked's first sample is (0, 0): grad_w[1] is exactly 0, delta[1] is not
    rec = Trainer(load_scenario("xor_identity_worked")).step()
    assert not rec.layers[0].grad_w.any()
    assert not any(k.endswith("_gradient") for k in kinds(rec))


# -- the loss: rising far above its best, exploded, non-finite ----------------------------------


def test_loss_rising_marks_the_steps_ten_times_above_the_best_so_far():
    trainer = Trainer(load_scenario(DATA / "explodes_1_1.toml"))
    records = trainer.run(100)
    assert records[-1].diverged
    best = trainer.initial_train_loss
    for rec in records[:-1]:
        rising = rec.train_loss > 10 * best and rec.train_loss > 1e-3
        assert ("loss_rising" in kinds(rec)) == rising, rec.step
        best = min(best, rec.train_loss)
    assert sum("loss_rising" in kinds(r) for r in records) > 5


@pytest.mark.parametrize("w", [1.0, 1e-3])
def test_a_loss_growing_ten_percent_a_step_is_rising_from_ten_times_its_best(w):
    # one linear neuron on mse: w <- w (1 - 2 lr) each step, so the loss w^2 grows 1.1-fold
    lr = (1 + 1.1**0.5) / 2
    s = make_scenario("identity", [[[w]]], inputs=[[1.0]], targets=[0.0], learning_rate=lr)
    trainer = Trainer(s)
    records = trainer.run(40)
    start = trainer.initial_train_loss
    for rec in records:
        rising = rec.train_loss > 10 * start and rec.train_loss > 1e-3  # the best is the start
        assert ("loss_rising" in kinds(rec)) == rising, rec.step
    if w == 1.0:  # 1.1^25 = 10.8: from step 25 on
        assert [r.step for r in records if r.warnings][0] == 25
    else:  # a loss of 1e-6 growing ten-fold stays below the 1e-3 floor
        assert all(not r.warnings for r in records)


def test_a_diverged_step_says_where_the_first_inf_or_nan_appeared():
    records = Trainer(load_scenario(DATA / "diverges_1_1.toml")).run(100)
    w = only(records[-1], "nonfinite")
    assert str(records[-1].nonfinite) in w.message
    assert "loss_rising" not in kinds(records[-1])
    assert all("nonfinite" not in kinds(r) for r in records[:-1])


def test_a_step_whose_loss_exploded_says_so_with_its_numbers():
    trainer = Trainer(load_scenario(DATA / "explodes_1_1.toml"))
    records = trainer.run(100)
    last = records[-1]
    assert last.diverged and last.nonfinite is None and np.isfinite(last.train_loss)
    w = only(last, "loss_exploded")
    initial = trainer.initial_train_loss  # 0.625: the rule measures against 1
    assert initial < 1 and last.train_loss > 1e8 and all(r.train_loss <= 1e8 for r in records[:-1])
    assert w.layer is None and w.nodes == ()
    assert f"{last.train_loss:.3g}" in w.message and f"{initial:.3g}" in w.message
    assert w.message.endswith("the run diverged.")
    assert kinds(last) == ["loss_exploded"]  # not loss_rising as well: this one says more
    assert all("loss_exploded" not in kinds(r) for r in records[:-1])


def test_a_loss_that_falls_and_wobbles_a_little_is_not_rising():
    # one sample a step: the training loss goes up now and then, never ten-fold
    records = Trainer(load_scenario("proportional_2_3_1")).run(300)
    assert any(b.train_loss > a.train_loss for a, b in zip(records, records[1:], strict=False))
    assert all("loss_rising" not in kinds(r) for r in records)


@pytest.mark.parametrize("history", [10_000, 1])  # 1: the second undo replays from the start
def test_undo_restores_the_best_loss_so_far(history):
    trainer = Trainer(load_scenario(DATA / "explodes_1_1.toml"), history=history)
    trainer.run(10)
    best = trainer.best_train_loss
    first, second = trainer.step(), trainer.step()
    assert "loss_rising" in kinds(first) and "loss_rising" in kinds(second)
    trainer.undo()
    trainer.undo()
    assert trainer.best_train_loss == best
    assert (trainer.step().warnings, trainer.step().warnings) == (first.warnings, second.warnings)


# -- the fast path and the trace ---------------------------------------------------------------


def test_the_fast_path_builds_no_warnings_and_ends_in_the_same_state():
    s = load_scenario("xor_identity_worked")
    fast, slow = Trainer(s), Trainer(s)
    fast.run(40, record=False)
    slow.run(40)
    assert fast.best_train_loss == slow.best_train_loss
    for a, b in zip(fast.W, slow.W, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "scenario",
    [str(DATA / name) for name in ("proportional_saturates.toml", "diverges_1_1.toml", "explodes_1_1.toml")],
)
def test_trace_writes_warnings_only_on_steps_that_have_some(tmp_path, scenario):
    trainer = Trainer(load_scenario(scenario))
    records = trainer.run(100)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    validate_trace(doc)
    for rec, step in zip(records, doc["steps"], strict=True):
        if rec.warnings:
            expected = [
                {"kind": w.kind, "layer": w.layer, "nodes": list(w.nodes), "message": w.message}
                for w in rec.warnings
            ]
            assert step["warnings"] == expected
        else:
            assert "warnings" not in step
    if scenario.endswith("proportional_saturates.toml"):  # its hidden units saturate from step 54
        assert "warnings" not in doc["steps"][0] and "warnings" in doc["steps"][-1]


def test_trace_of_the_copies_example_validates_and_names_the_nodes(tmp_path):
    trainer = Trainer(load_scenario("xor_identity_worked"))
    trainer.run(3)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    validate_trace(doc)
    (w,) = doc["steps"][0]["warnings"]
    assert (w["kind"], w["layer"], w["nodes"]) == ("identical_units", 1, [0, 1, 2])


def test_schema_refuses_a_warning_of_an_unknown_kind(tmp_path):
    trainer = Trainer(load_scenario("xor_identity_worked"))
    trainer.run(1)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    doc["steps"][0]["warnings"][0]["kind"] = "gremlins"
    assert not trace_is_valid(doc)
    doc["steps"][0]["warnings"] = []  # written only when there is something to say
    assert not trace_is_valid(doc)
