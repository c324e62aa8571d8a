"""Training with the proportional error split ([training] error_split = "proportional").

The rule, as the test implements it here one sample and one node at a time, sharing no
code with the engine: the output error is e = t - y; each hidden node i of layer l gets
e_i = sum_j e_j * w_ji / sum_k w_jk from layer l+1 (weights before the update); every
layer moves by dW = lr * mean_k (e_k * f'(z_k)) a_k[l-1]^T and db = lr * mean_k e_k * f'(z_k).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_scenario, reference, toml_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from trace_schema import trace_is_valid, validate_trace

from tui_backprop import Trainer, load_scenario, write_trace
from tui_backprop.scenario.reader import ScenarioError

DATA = Path(__file__).parent / "data"

# f'(z) written from z alone, apart from the engine's derivatives in terms of a
SLOPES = {
    "sigmoid": lambda z: np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))) ** 2,  # even: no overflow
    "tanh": lambda z: 1.0 / np.cosh(z) ** 2,
    "relu": lambda z: np.where(z > 0.0, 1.0, 0.0),
    "leaky_relu": lambda z: np.where(z > 0.0, 1.0, 0.01),
    "identity": lambda z: np.ones_like(z),
}


def proportional_step(W, b, activations, X, T, lr, update_biases):
    """One step of the rule on the batch (X, T): new W, new b and each layer's errors (B, n_l)."""
    L, B = len(W), len(X)
    dW = [np.zeros_like(w) for w in W]
    db = [np.zeros(len(w)) for w in W]
    errors = [np.zeros((B, len(w))) for w in W]
    for k in range(B):
        zs, acts = reference.forward_sample(W, b, activations, X[k])
        e = [None] * L
        e[L - 1] = T[k] - acts[L - 1]
        for l in range(L - 2, -1, -1):
            above = W[l + 1]  # row j: the weights into node j of layer l+1
            e[l] = np.array(
                [
                    sum(e[l + 1][j] * above[j][i] / sum(above[j]) for j in range(len(above)))
                    for i in range(len(above[0]))
                ]
            )
        for l in range(L):
            errors[l][k] = e[l]
            # softmax pairs with cross_entropy only, where e * f' collapses to e = t - y
            s = e[l] if activations[l] == "softmax" else e[l] * SLOPES[activations[l]](zs[l])
            a_prev = X[k] if l == 0 else acts[l - 1]
            for j in range(len(s)):
                for i in range(len(a_prev)):
                    dW[l][j][i] += lr * s[j] * a_prev[i] / B
                db[l][j] += lr * s[j] / B
    new_W = [w + d for w, d in zip(W, dW, strict=True)]
    if b is None or not update_biases:
        return new_W, b, errors
    return new_W, [bl + d for bl, d in zip(b, db, strict=True)], errors


@st.composite
def runs(draw):
    hidden = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    layers = [n_in, *hidden, n_out]
    softmax = n_out > 1 and draw(st.booleans())
    acts = [draw(st.sampled_from(sorted(SLOPES))) for _ in hidden]
    acts.append("softmax" if softmax else draw(st.sampled_from(sorted(SLOPES))))
    N = draw(st.integers(1, 6))
    batch = draw(st.sampled_from(["full", "sample", 2, 4]))
    bias = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # each row one sign: no node's incoming weights sum to near 0, where the split is undefined
    W = [
        rng.uniform(0.2, 1.5, size=(n, m)) * rng.choice([-1.0, 1.0], size=(n, 1))
        for m, n in zip(layers, layers[1:], strict=False)
    ]
    b = [rng.uniform(-0.5, 0.5, size=n) for n in layers[1:]] if bias else None
    X = rng.uniform(-1, 1, size=(N, n_in))
    if softmax:
        T = np.eye(n_out)[rng.integers(0, n_out, size=N)]
    else:
        T = rng.uniform(-1, 1, size=(N, n_out))
    return make_scenario(
        acts,
        W,
        b,
        inputs=X,
        targets=T,
        loss="cross_entropy" if softmax else draw(st.sampled_from(["mse", "half_sse"])),
        learning_rate=draw(st.sampled_from([0.05, 0.3])),
        batch=batch,
        shuffle=draw(st.booleans()),
        seed=draw(st.integers(0, 5)),
        update_biases=draw(st.booleans()),
        error_split="proportional",
    )


STEPS = 4


@settings(max_examples=60, deadline=None)
@given(runs())
def test_training_follows_the_rule_step_by_step(s):
    trainer = Trainer(s)
    W = [np.array(w, dtype=float) for w in s.init.weights]
    b = None if s.init.biases is None else [np.array(v, dtype=float) for v in s.init.biases]
    for _ in range(STEPS):
        rec = trainer.step()
        idx = list(rec.batch)
        W_next, b_next, errors = proportional_step(
            W, b, s.activations, s.inputs[idx], s.targets[idx], s.learning_rate, s.update_biases
        )
        for l, layer in enumerate(rec.layers):
            a_prev = s.inputs[idx] if l == 0 else rec.layers[l - 1].a
            # the engine takes f'(z) from a (a(1 - a), 1 - a²), exact to a few units in the last
            # place of 1; a split error e made huge by a row of weights that nearly cancels
            # scales that up, so the update is only as exact as lr · |e| · |a| · 1e-15
            slack = 1e-12 + 1e-15 * s.learning_rate * np.abs(errors[l]).max() * max(1.0, np.abs(a_prev).max())
            np.testing.assert_allclose(layer.w_before, W[l], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(layer.error, errors[l], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(layer.w, W_next[l], rtol=1e-9, atol=slack)
            np.testing.assert_allclose(layer.update_w, W_next[l] - W[l], rtol=1e-7, atol=slack)
            if b is None:
                assert layer.b.size == layer.update_b.size == 0
            else:
                np.testing.assert_allclose(layer.b, b_next[l], rtol=1e-9, atol=slack)
                np.testing.assert_allclose(layer.update_b, b_next[l] - b[l], rtol=1e-7, atol=slack)
            # the change recorded is the change made, to the last bit
            np.testing.assert_array_equal(layer.update_w, layer.w - layer.w_before)
            np.testing.assert_array_equal(layer.update_b, layer.b - layer.b_before)
        W, b = W_next, b_next
        if trainer.done:
            break


@settings(max_examples=25, deadline=None)
@given(runs())
def test_the_record_still_carries_the_true_gradient(s):
    # the first step of both modes starts from the same weights on the same batch
    split = Trainer(s).step()
    true = Trainer(dataclasses.replace(s, error_split="gradient")).step()
    assert true.layers[0].error is None and true.layers[0].update_w is None
    for p, g in zip(split.layers, true.layers, strict=True):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w_before"):
            np.testing.assert_array_equal(getattr(p, name), getattr(g, name))


def test_the_output_layer_learns_as_gradient_descent_on_half_sse():
    s = load_scenario("proportional_2_3_1_split")
    assert s.loss == "half_sse"
    split_trainer, true_trainer = Trainer(s), Trainer(dataclasses.replace(s, error_split="gradient"))
    for step in (1, 2):
        split, true = split_trainer.step(), true_trainer.step()
        np.testing.assert_array_equal(split.layers[0].w_before, true.layers[0].w_before)
        np.testing.assert_allclose(split.layers[-1].w, true.layers[-1].w, rtol=0, atol=1e-15)
        # ... and the hidden layer does not, because its error is the split, not the delta; at
        # step 1 the input is x = (0, 0), so neither rule moves the hidden weights
        moved = np.abs(split.layers[0].w - true.layers[0].w).max()
        if step == 1:
            np.testing.assert_array_equal(split.x, [[0.0, 0.0]])
            assert moved == 0.0
        else:
            assert moved > 1e-4


def test_undo_and_step_again_give_the_same_record():
    trainer = Trainer(load_scenario("proportional_2_3_1_split"))
    trainer.run(6)
    first = trainer.step()
    trainer.undo()
    again = trainer.step()
    for p, q in zip(first.layers, again.layers, strict=True):
        for name in ("error", "update_w", "update_b", "w", "b"):
            np.testing.assert_array_equal(getattr(p, name), getattr(q, name))


def test_fast_path_ends_where_the_recorded_path_ends():
    s = load_scenario("proportional_2_3_1_split")
    fast, slow = Trainer(s), Trainer(s)
    fast.run(50, record=False)
    slow.run(50, record=True)
    for a, c in zip(fast.W, slow.W, strict=True):
        np.testing.assert_array_equal(a, c)


# -- the bundled scenario --------------------------------------------------------------------


def test_bundled_split_scenario_is_proportional_2_3_1_trained_with_the_split():
    base, split = load_scenario("proportional_2_3_1"), load_scenario("proportional_2_3_1_split")
    assert (base.error_split, split.error_split) == ("gradient", "proportional")
    same = dataclasses.replace(split, name=base.name, description=base.description, source=base.source)
    assert dataclasses.replace(same, error_split="gradient", inputs=base.inputs, targets=base.targets) == base
    np.testing.assert_array_equal(split.inputs, base.inputs)
    np.testing.assert_array_equal(split.targets, base.targets)
    trainer = Trainer(split)
    trainer.run(split.max_steps, record=False)
    assert trainer.stop_reason == "target_loss"


def test_proportional_trace_has_the_split_fields_and_validates(tmp_path):
    trainer = Trainer(load_scenario("proportional_2_3_1_split"))
    records = trainer.run(3)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    validate_trace(doc)
    assert doc["scenario"]["training"]["error_split"] == "proportional"
    for rec, step in zip(records, doc["steps"], strict=True):
        for layer, out in zip(rec.layers, step["layers"], strict=True):
            assert out["error"] == layer.error.tolist()
            assert out["update_w"] == layer.update_w.tolist()
            assert out["update_b"] == layer.update_b.tolist() == []


def test_gradient_trace_has_the_split_error_beside_delta_but_no_split_update(tmp_path):
    # e is written in gradient mode too (tests/test_split_trace.py); update_w and update_b are not
    trainer = Trainer(load_scenario("proportional_2_3_1"))
    trainer.run(2)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    assert "error_split" not in doc["scenario"]["training"]
    for layer in doc["steps"][0]["layers"]:
        assert set(layer) == {"z", "a", "delta", "grad_w", "grad_b", "w", "b", "error"}


def test_schema_refuses_an_unknown_error_split_and_stray_layer_fields(tmp_path):
    trainer = Trainer(load_scenario("proportional_2_3_1_split"))
    trainer.run(1)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    bad = json.loads(json.dumps(doc))
    bad["scenario"]["training"]["error_split"] = "backprop"
    assert not trace_is_valid(bad)
    bad = json.loads(json.dumps(doc))
    del bad["steps"][0]["layers"][0]["update_w"]  # error and update_w/update_b come together
    assert not trace_is_valid(bad)


# -- the scenario key ------------------------------------------------------------------------

TINY = """
[scenario]
name = "tiny"
[network]
layers = [1, 1]
activation = "sigmoid"
[data]
inputs = [[1.0]]
targets = [[0.5]]
[training]
loss = "mse"
learning_rate = 0.5
"""


def test_error_split_defaults_to_gradient():
    assert toml_scenario(TINY).error_split == "gradient"


@pytest.mark.parametrize(("value", "message"), [('"Proportional"', "Proportional"), ("1", "an integer")])
def test_error_split_bad_values_name_the_key(value, message):
    with pytest.raises(ScenarioError) as info:
        toml_scenario(TINY + f"error_split = {value}\n")
    (problem,) = info.value.problems
    assert problem.startswith("[training] error_split: ")
    assert message in problem


def test_a_zero_weight_sum_diverges_at_the_split_error():
    # the output node's incoming weights 1 and -1 sum to 0: its error has no proportions
    s = make_scenario(
        "sigmoid",
        [[[0.5], [0.25]], [[1.0, -1.0]]],
        inputs=[[1.0]],
        targets=[[1.0]],
        error_split="proportional",
    )
    rec = Trainer(s).step()
    assert rec.diverged
    assert (rec.nonfinite.quantity, rec.nonfinite.layer) == ("error", 1)


def test_the_split_can_drive_hidden_nodes_into_saturation():
    # a sigmoid classifier at learning rate 1 (the earlier bundled example)
    s = load_scenario(DATA / "proportional_saturates.toml")
    assert s.error_split == "proportional"
    trainer = Trainer(s)
    records = trainer.run(2000)
    saturated = [[w.nodes for w in r.warnings if w.kind == "saturated" and w.layer == 1] for r in records]
    first = next(i for i, found in enumerate(saturated) if found)
    assert records[first].step == 54
    assert all(saturated[first:])
    assert saturated[-1] == [(0, 1)]
    assert trainer.stop_reason == "target_loss" and trainer.step_count == 913
    # the true gradient from the same start saturates nothing
    assert not any(r.warnings for r in Trainer(dataclasses.replace(s, error_split="gradient")).run(2000))


@settings(max_examples=20, deadline=None)
@given(runs())
def test_the_split_direction_goes_through_momentum(s):
    # momentum: v <- mu v + g, W <- W - lr v, with g = -dW / lr the direction the split asks for
    s = dataclasses.replace(s, optimizer="momentum", momentum=0.9)
    trainer = Trainer(s)
    W = [np.array(w, dtype=float) for w in s.init.weights]
    b = None if s.init.biases is None else [np.array(v, dtype=float) for v in s.init.biases]
    v = [np.zeros_like(w) for w in W]
    for _ in range(STEPS):
        rec = trainer.step()
        idx = list(rec.batch)
        W_split, _, _ = proportional_step(
            W, b, s.activations, s.inputs[idx], s.targets[idx], s.learning_rate, False
        )
        g = [-(ws - w) / s.learning_rate for ws, w in zip(W_split, W, strict=True)]
        v = [0.9 * vl + gl for vl, gl in zip(v, g, strict=True)]
        W = [w - s.learning_rate * vl for w, vl in zip(W, v, strict=True)]
        for layer, w in zip(rec.layers, W, strict=True):
            np.testing.assert_allclose(layer.w, w, rtol=1e-7, atol=1e-10)
        if b is not None:  # the biases' own momentum is engine5's to test; follow the record
            b = [np.array(layer.b) for layer in rec.layers]
        if trainer.done:
            break


def test_the_bundled_split_example_learns_more_slowly_than_the_gradient_and_warns_of_nothing():
    # what its description states: both fit, the split in more steps, no warning on the way
    steps = {}
    for name in ("proportional_2_3_1", "proportional_2_3_1_split"):
        trainer = Trainer(load_scenario(name))
        records = trainer.run(2000)
        assert trainer.stop_reason == "target_loss"
        assert not any(r.warnings for r in records)
        steps[name] = trainer.step_count
    assert steps["proportional_2_3_1"] < steps["proportional_2_3_1_split"]
    described = load_scenario("proportional_2_3_1_split").description
    assert f"{steps['proportional_2_3_1_split']} steps against {steps['proportional_2_3_1']}" in described
