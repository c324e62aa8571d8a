"""Edits in the engine (engine/edits.py, Trainer.edit): each kind changes what it says from the
next step on, undo takes edits back exactly, replays make them again, and the sample order
after a point is added or removed follows the documented rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import make_scenario, toml_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_backprop.engine import Edit, Point, Trainer
from tui_backprop.engine.batching import Position
from tui_backprop.engine.edits import timeline_position

W1 = [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]]
B1 = [0.1, -0.2, 0.05]
W2 = [[0.6, -0.8, 0.3]]
B2 = [0.2]
XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_T = [0, 1, 1, 0]


def xor(**training) -> object:
    training.setdefault("learning_rate", 0.5)
    return make_scenario("sigmoid", [W1, W2], [B1, B2], inputs=XOR_X, targets=XOR_T, **training)


def same_record(a, b) -> None:
    """Two StepRecords equal to the bit in every number they hold."""
    assert (a.step, a.epoch, a.batch) == (b.step, b.epoch, b.batch)
    assert a.loss == b.loss or (np.isnan(a.loss) and np.isnan(b.loss))
    assert a.train_loss == b.train_loss or (np.isnan(a.train_loss) and np.isnan(b.train_loss))
    assert a.learning_rate == b.learning_rate
    assert np.array_equal(a.x, b.x) and np.array_equal(a.t, b.t)
    for la, lb in zip(a.layers, b.layers, strict=True):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w_before", "b_before", "w", "b"):
            assert np.array_equal(getattr(la, name), getattr(lb, name)), name


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_gradients(W, b, X, T):
    """grad_w and grad_b of the mse of a sigmoid-sigmoid network over the batch (X, T), written
    out from DESIGN section 3 in plain numpy: the oracle for a step after an edit."""
    a1 = sigmoid(X @ W[0].T + b[0])
    y = sigmoid(a1 @ W[1].T + b[1])
    d2 = 2.0 * (y - T) / T.shape[1] * y * (1 - y)
    d1 = (d2 @ W[1]) * a1 * (1 - a1)
    B = len(X)
    return [d1.T @ X / B, d2.T @ a1 / B], [d1.mean(axis=0), d2.mean(axis=0)]


# -- each kind of edit -----------------------------------------------------------------------


def test_weight_edit_changes_the_next_step_whose_gradients_are_those_of_the_edited_weights() -> None:
    t = Trainer(xor())
    t.run(5)
    before = t.W[0].copy()
    e = t.edit("weight", 1.5, layer=1, index=(2, 0))
    assert (e.step, e.what, e.layer, e.index, e.old, e.new) == (5, "weight", 1, (2, 0), before[2, 0], 1.5)
    assert t.W[0][2, 0] == 1.5 and not t.W[0].flags.writeable
    W = [np.array(w) for w in t.W]
    b = [np.array(v) for v in t.b]
    rec = t.step()
    assert rec.layers[0].w_before[2, 0] == 1.5
    gw, gb = hand_gradients(W, b, np.array(XOR_X, float), np.array(XOR_T, float).reshape(-1, 1))
    for l in range(2):
        np.testing.assert_allclose(rec.layers[l].grad_w, gw[l], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(rec.layers[l].grad_b, gb[l], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(rec.layers[l].w, W[l] - 0.5 * gw[l], rtol=1e-12, atol=1e-15)


def test_bias_edit() -> None:
    t = Trainer(xor())
    t.run(2)
    t.edit("bias", -2.0, layer=2, index=(0,))
    rec = t.step()
    assert rec.layers[1].b_before[0] == -2.0
    gw, gb = hand_gradients(
        [lr.w_before for lr in rec.layers],
        [lr.b_before for lr in rec.layers],
        np.array(XOR_X, float),
        np.array(XOR_T, float).reshape(-1, 1),
    )
    np.testing.assert_allclose(rec.layers[1].grad_b, gb[1], rtol=1e-12)


def test_input_edit_changes_the_data_from_the_next_step() -> None:
    t = Trainer(xor())
    t.run(3)
    e = t.edit("input", 0.25, index=(3, 1))
    assert e.old == 1.0 and t.X[3, 1] == 0.25 and not t.X.flags.writeable
    rec = t.step()
    assert rec.x[3, 1] == 0.25
    X = np.array(XOR_X, float)
    X[3, 1] = 0.25
    T = np.array(XOR_T, float)[:, None]
    gw, gb = hand_gradients([lr.w_before for lr in rec.layers], [lr.b_before for lr in rec.layers], X, T)
    np.testing.assert_allclose(rec.layers[0].grad_w, gw[0], rtol=1e-12)


def test_learning_rate_edit_is_the_base_rate_from_the_next_step() -> None:
    t = Trainer(xor())
    rec1 = t.step()
    assert rec1.learning_rate == 0.5
    e = t.edit("learning_rate", 0.125)
    assert (e.old, e.new) == (0.5, 0.125) and t.base_learning_rate == 0.125
    rec2 = t.step()
    assert rec2.learning_rate == 0.125
    for lr in rec2.layers:
        np.testing.assert_allclose(lr.w, lr.w_before - 0.125 * lr.grad_w, rtol=1e-12, atol=1e-15)
    t.undo()  # the step
    t.undo()  # the edit
    assert t.base_learning_rate == 0.5 and t.edits == ()
    assert t.step().learning_rate == 0.5


def test_add_and_remove_points() -> None:
    t = Trainer(xor())
    t.run(1)
    added = t.edit("add_point", Point((0.5, 0.5), (1.0,)))
    assert added.index == (4,) and added.new == Point((0.5, 0.5), (1.0,))
    assert t.X.shape == (5, 2) and t.T[4, 0] == 1.0
    rec = t.step()
    assert rec.batch == (0, 1, 2, 3, 4) and rec.x.shape == (5, 2)
    removed = t.edit("remove_point", index=(1,))
    assert removed.old == Point((0.0, 1.0), (1.0,)) and removed.new is None
    rec = t.step()
    assert rec.batch == (0, 1, 2, 3)
    np.testing.assert_array_equal(rec.x, [[0, 0], [1, 0], [1, 1], [0.5, 0.5]])


def test_the_training_set_loss_is_recomputed_after_an_edit() -> None:
    t = Trainer(xor())
    t.run(3)
    recorded = t.train_losses[-1]
    t.edit("weight", 3.0, layer=2, index=(0, 1))
    W = [np.array(w) for w in t.W]
    a1 = sigmoid(np.array(XOR_X, float) @ W[0].T + t.b[0])
    y = sigmoid(a1 @ W[1].T + t.b[1])
    expected = float(np.mean((y[:, 0] - np.array(XOR_T)) ** 2))
    assert t.train_losses[-1] == pytest.approx(expected, rel=1e-12)
    assert t.current_record().train_loss == recorded  # the step's own record is what it was
    t.undo()
    assert t.train_losses[-1] == recorded


def test_an_edit_at_step_0_changes_the_initial_loss_and_reset_drops_it() -> None:
    t = Trainer(xor())
    initial = t.initial_train_loss
    t.edit("weight", 2.0, layer=1, index=(0, 0))
    assert t.initial_train_loss != initial
    t.step()
    t.reset()
    assert t.edits == () and t.initial_train_loss == initial and t.W[0][0, 0] == W1[0][0]


@pytest.mark.parametrize(
    "what, new, layer, index, words",
    [
        ("weight", 1.0, 3, (0, 0), "layer must be 1 to 2"),
        ("weight", 1.0, 1, (3, 0), "outside"),
        ("bias", float("nan"), 1, (0,), "finite"),
        ("input", 1.0, None, (4, 0), "outside"),
        ("input", "1", None, (0, 0), "expected a number"),
        ("learning_rate", 0.0, None, (), "must be > 0"),
        ("learning_rate", 0.1, 1, (), "takes no layer"),
        ("add_point", Point((1.0,), (1.0,)), None, (), "expected 2 inputs"),
        ("remove_point", None, None, (9,), "outside"),
        ("momentum", 1.0, None, (), "unknown edit"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(what, new, layer, index, words) -> None:
    t = Trainer(xor())
    t.step()
    W = t.W
    with pytest.raises(ValueError, match=words):
        t.edit(what, new, layer=layer, index=index)
    assert t.edits == () and t.W is W


def test_a_network_without_biases_has_no_bias_to_edit() -> None:
    t = Trainer(make_scenario("sigmoid", [W1, W2], inputs=XOR_X, targets=XOR_T))
    with pytest.raises(ValueError, match="no biases"):
        t.edit("bias", 1.0, layer=1, index=(0,))


def test_the_last_sample_cannot_be_removed_and_a_stopped_run_cannot_be_edited() -> None:
    t = Trainer(make_scenario("sigmoid", [W1, W2], [B1, B2], inputs=[[0, 0]], targets=[1], max_steps=2))
    with pytest.raises(ValueError, match="only training sample"):
        t.edit("remove_point", index=(0,))
    t.run(2)
    with pytest.raises(ValueError, match="stopped"):
        t.edit("weight", 0.0, layer=1, index=(0, 0))


def test_apply_edit_refuses_an_edit_whose_old_value_is_not_the_state() -> None:
    t = Trainer(xor())
    t.run(2)
    e = Edit(2, "weight", 1, (0, 0), old=123.0, new=1.0)
    with pytest.raises(ValueError, match="says it was 123"):
        t.apply_edit(e)
    with pytest.raises(ValueError, match="for step 3"):
        t.apply_edit(replace(e, step=3))


# -- the sample order after N changes --------------------------------------------------------


def test_a_point_added_mid_epoch_ends_the_epoch_and_shuffles_the_new_data_by_seed_and_epoch() -> None:
    s = xor(batch=2, shuffle=True, seed=7)
    t = Trainer(s)
    first = t.step()  # epoch 1, batch 1 of 2
    assert t.position == Position(1, 2)
    t.edit("add_point", Point((0.5, 0.5), (1.0,)))
    assert t.position == Position(2, 0)  # epoch 1 is over; epoch 2 goes over 5 samples
    rest = t.run(3)
    order = np.random.default_rng([7, 2]).permutation(5)  # how every epoch is shuffled
    assert [r.batch for r in rest] == [tuple(order[0:2]), tuple(order[2:4]), tuple(order[4:5])]
    assert [r.epoch for r in [first, *rest]] == [1, 2, 2, 2]
    assert t.position == Position(3, 0)


def test_an_edit_at_the_start_of_an_epoch_keeps_that_epoch() -> None:
    t = Trainer(xor(batch=2))
    t.run(2)  # epoch 1 done: the next step starts epoch 2
    t.edit("remove_point", index=(0,))
    assert t.position == Position(2, 0)
    recs = t.run(2)
    assert [r.batch for r in recs] == [(0, 1), (2,)] and [r.epoch for r in recs] == [2, 2]


def test_timeline_position_agrees_with_the_trainer() -> None:
    t = Trainer(xor(batch=3))
    edits = []
    for k in range(12):
        if k in (1, 4, 5):
            edits.append(t.edit("add_point", Point((0.1 * k, 0.2), (0.0,))))
        if k == 7:
            edits.append(t.edit("remove_point", index=(2,)))
        assert timeline_position(t.step_count, 4, 3, edits) == t.position
        t.step()
    assert timeline_position(t.step_count, 4, 3, edits) == t.position


# -- undo, replay, fork, start_from ------------------------------------------------------------

EDITS = {
    2: [("weight", 0.9, 1, (1, 1)), ("input", 0.5, None, (2, 0))],
    4: [("add_point", Point((0.25, 0.75), (1.0,)), None, ())],
    5: [("learning_rate", 1.5, None, ()), ("bias", 0.3, 1, (2,))],
    7: [("remove_point", None, None, (0,))],
}


def straight_run(scenario, steps: int) -> tuple[Trainer, list]:
    t = Trainer(scenario)
    records = []
    for k in range(steps):
        for what, new, layer, index in EDITS.get(k, ()):
            t.edit(what, new, layer=layer, index=index)
        records.append(t.step())
    return t, records


@pytest.mark.parametrize("history", [10_000, 2, 1])
@pytest.mark.parametrize("training", [{}, {"batch": 2, "shuffle": True, "seed": 3}, {"optimizer": "adam"}])
def test_undo_across_edits_is_exact_and_stepping_again_gives_the_same_records(history, training) -> None:
    s = xor(**training)
    _, expected = straight_run(s, 10)
    t = Trainer(s, history=history)
    for k in range(10):
        for what, new, layer, index in EDITS.get(k, ()):
            t.edit(what, new, layer=layer, index=index)
        t.step()
    # all the way back, one action at a time, checking the record of each step passed
    while t.step_count > 0 or t.edits:
        in_effect = sum(len(EDITS.get(k, ())) for k in range(t.step_count + 1))
        rec = t.undo()
        if rec is not None:
            same_record(rec, expected[rec.step - 1])
        assert len(t.edits) <= in_effect
    assert t.edits == () and t.X.shape == (4, 2) and t.base_learning_rate == 0.5
    # and forward again: the same records bit for bit
    again = []
    for k in range(10):
        for what, new, layer, index in EDITS.get(k, ()):
            t.edit(what, new, layer=layer, index=index)
        again.append(t.step())
    for a, b in zip(again, expected, strict=True):
        same_record(a, b)


def test_undo_right_after_an_edit_takes_back_only_that_edit() -> None:
    t = Trainer(xor())
    t.run(4)
    rec4 = t.current_record()
    W, X = t.W, t.X
    t.edit("input", 0.5, index=(0, 0))
    t.edit("weight", 0.5, layer=1, index=(0, 0))
    assert t.undo() is rec4 and len(t.edits) == 1 and t.W is W
    assert t.undo() is rec4 and t.edits == () and t.X is X
    assert t.undo().step == 3


def test_undo_replaying_from_the_start_makes_the_edits_again() -> None:
    s = xor()
    _, expected = straight_run(s, 9)
    t = Trainer(s, history=1)
    for k in range(9):
        for what, new, layer, index in EDITS.get(k, ()):
            t.edit(what, new, layer=layer, index=index)
        t.run(1, record=False)
    assert t.undo_replays
    rec = t.undo()  # the history holds one state: undo replays from step 0
    same_record(rec, expected[7])
    assert t.step_count == 8 and len(t.edits) == 6 and t.edits[-1].what == "remove_point"
    assert t.X.shape == (4, 2) and t.base_learning_rate == 1.5


def test_current_record_after_run_without_records_and_an_edit_is_the_steps_own() -> None:
    s = xor()
    _, expected = straight_run(s, 6)
    t = Trainer(s, history=1)
    for k in range(6):
        for what, new, layer, index in EDITS.get(k, ()):
            t.edit(what, new, layer=layer, index=index)
        t.run(1, record=False)
    t.edit("weight", 4.0, layer=2, index=(0, 0))
    W = np.array(t.W[1])
    same_record(t.current_record(), expected[5])
    assert t.W[1][0, 0] == 4.0 and np.array_equal(t.W[1], W) and len(t.edits) == 6


def test_fork_keeps_edits_apart() -> None:
    t = Trainer(xor())
    t.run(2)
    t.edit("learning_rate", 0.1)
    other = t.fork()
    other.edit("learning_rate", 2.0)
    assert t.base_learning_rate == 0.1 and other.base_learning_rate == 2.0
    assert t.step().learning_rate == 0.1 and other.step().learning_rate == 2.0
    assert len(t.edits) == 1 and len(other.edits) == 2


def test_start_from_a_step_with_edits_goes_on_as_the_run_did() -> None:
    s = xor(batch=3)
    _, expected = straight_run(s, 10)
    all_edits = straight_run(s, 10)[0].edits
    for k in (3, 5, 8):
        t = Trainer(s)
        t.start_from(expected[k - 1], edits=all_edits)
        assert t.edits == tuple(e for e in all_edits if e.step <= k)
        for e in (e for e in all_edits if e.step > k):  # the later ones, made again at their steps
            for rec in t.run(e.step - t.step_count):
                same_record(rec, expected[rec.step - 1])
            t.apply_edit(e)
        for rec in t.run(10 - t.step_count):
            same_record(rec, expected[rec.step - 1])
        t.reset()
        assert t.step_count == k and t.edits == tuple(e for e in all_edits if e.step <= k)
        t.undo()  # no further back than the step it started from, its edits kept
        assert t.step_count == k and t.edits == tuple(e for e in all_edits if e.step <= k)


def test_evaluate_every_step_between_evaluations_keeps_nan_after_an_edit() -> None:
    t = Trainer(xor(evaluate_every=3))
    t.run(4)
    t.edit("weight", 1.0, layer=1, index=(0, 0))
    assert np.isnan(t.train_losses[-1])
    t.run(2)
    assert not np.isnan(t.train_losses[-1])


def test_the_edited_scenario_in_toml_runs_as_well() -> None:
    s = toml_scenario(
        """
        [scenario]
        name = "t"
        [network]
        layers = [1, 1]
        activation = "identity"
        [init]
        method = "constant"
        value = 1.0
        [data]
        inputs = [[1.0], [2.0]]
        targets = [[2.0], [4.0]]
        [training]
        loss = "mse"
        learning_rate = 0.1
        batch = "sample"
        """
    )
    t = Trainer(s)
    t.edit("input", 3.0, index=(0, 0))
    rec = t.step()  # sample 0, now x = 3: z = w x + b = 3, delta = 2 (3 - 2), grad_w = 2 * 3
    assert rec.layers[0].grad_w[0, 0] == pytest.approx(6.0) and rec.layers[0].grad_b[0] == pytest.approx(2.0)


# -- property: any sequence of steps, edits and undos equals a straight run of what was kept ---

ACTIONS = st.lists(
    st.one_of(
        st.just(("step",)),
        st.just(("undo",)),
        st.tuples(st.just("weight"), st.integers(0, 2), st.integers(0, 1), st.floats(-2, 2)),
        st.tuples(st.just("bias"), st.integers(1, 2), st.floats(-2, 2)),
        st.tuples(st.just("input"), st.integers(0, 3), st.integers(0, 1), st.floats(-1, 1)),
        st.tuples(st.just("learning_rate"), st.floats(0.05, 2.0)),
        st.tuples(st.just("add_point"), st.floats(-1, 1), st.floats(-1, 1), st.sampled_from([0.0, 1.0])),
        st.tuples(st.just("remove_point"), st.integers(0, 3)),
    ),
    max_size=30,
)


def act(t: Trainer, action: tuple) -> None:
    kind = action[0]
    if kind == "step":
        t.step()
    elif kind == "undo":
        t.undo()
    elif kind == "weight":
        t.edit("weight", action[3], layer=1, index=(action[1], action[2]))
    elif kind == "bias":
        t.edit("bias", action[2], layer=action[1], index=(0,))
    elif kind == "input":
        t.edit("input", action[3], index=(min(action[1], len(t.X) - 1), action[2]))
    elif kind == "learning_rate":
        t.edit("learning_rate", action[1])
    elif kind == "add_point":
        t.edit("add_point", Point((action[1], action[2]), (action[3],)))
    elif len(t.X) > 1:
        t.edit("remove_point", index=(min(action[1], len(t.X) - 1),))


@settings(max_examples=40, deadline=None)
@given(ACTIONS, st.sampled_from([1, 3, 10_000]), st.sampled_from(["full", 2, "sample"]), st.booleans())
def test_steps_edits_and_undos_equal_a_straight_run_of_what_was_kept(actions, history, batch, shuffle):
    s = xor(batch=batch, shuffle=shuffle, seed=1, max_steps=1000)
    t = Trainer(s, history=history)
    for action in actions:
        act(t, action)
    # the straight run: the steps up to where t is, with the edits t kept, at their steps
    straight = Trainer(s)
    records = []
    for e in t.edits:
        records += straight.run(e.step - straight.step_count)
        straight.apply_edit(e)
    records += straight.run(t.step_count - straight.step_count)
    assert straight.step_count == t.step_count and straight.edits == t.edits
    assert straight.position == t.position
    for a, b in zip(straight.W + straight.b, t.W + t.b, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(straight.X, t.X) and np.array_equal(straight.T, t.T)
    assert np.array_equal(straight.train_losses, t.train_losses, equal_nan=True)
    if t.step_count:
        same_record(t.current_record(), records[-1])
