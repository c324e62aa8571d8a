"""Trainer: immutable records, exact undo and reset, the fast path, stop reasons, divergence,
frozen and absent biases, the update rule and the training-set loss."""

from __future__ import annotations

import dataclasses
import math
import struct
import warnings
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tui_backprop import StepRecord, Trainer, TrainingStopped

MODES = [  # (batch, shuffle): every way of cutting an epoch of N = 5 samples
    ("full", False),
    ("full", True),
    ("sample", False),
    ("sample", True),
    (2, False),
    (2, True),
    (3, True),
    (9, True),
]
MODE_IDS = [f"{b}-{'shuffle' if s else 'ordered'}" for b, s in MODES]


OPTIMIZERS = {  # every optimiser, with a penalty so that both are part of the exact state
    "gd": {},
    "momentum": {"optimizer": "momentum", "momentum": 0.8, "l2": 0.01},
    "adam": {"optimizer": "adam", "learning_rate": 0.05, "l1": 0.001},
}


def small_scenario(ref, batch="full", shuffle=False, seed=3, bias=True, **training):
    """A 2-3-2 tanh/sigmoid network on 5 samples, mse."""
    rng = np.random.default_rng(21)
    W = [rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2, 3))]
    b = [rng.uniform(-0.5, 0.5, 3), rng.uniform(-0.5, 0.5, 2)] if bias else None
    X, T = rng.uniform(-2, 2, (5, 2)), rng.uniform(0, 1, (5, 2))
    training.setdefault("learning_rate", 0.7)
    return ref.make_scenario(
        ("tanh", "sigmoid"), W, b, inputs=X, targets=T, batch=batch, shuffle=shuffle, seed=seed, **training
    )


def assert_identical(a, b, where: str = "record") -> None:
    """Equal field by field, arrays and floats bit for bit (a NaN equals the same NaN)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_identical(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert a.tobytes() == b.tobytes(), f"{where} differs:\n{a}\n{b}"
    elif isinstance(a, Mapping):
        assert isinstance(b, Mapping) and a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert isinstance(b, float), where
        assert struct.pack("<d", a) == struct.pack("<d", b), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def state(trainer: Trainer) -> dict:
    """Everything that decides what the next step does, and what has been seen so far."""
    return {
        "W": tuple(trainer.W),
        "b": tuple(trainer.b),
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "position": (trainer.position.epoch, trainer.position.offset),
        "stop_reason": trainer.stop_reason,
        "optimizer_t": trainer.opt_state.t,
        "optimizer_state": dict(trainer.opt_state.arrays),
        "losses": list(trainer.losses),
        "train_losses": list(trainer.train_losses),
    }


def record_arrays(rec: StepRecord):
    yield "x", rec.x
    yield "t", rec.t
    yield "sample_losses", rec.sample_losses
    for l, lay in enumerate(rec.layers, start=1):
        for f in dataclasses.fields(lay):
            value = getattr(lay, f.name)
            if isinstance(value, np.ndarray):
                yield f"{f.name}[{l}]", value
        for name, value in lay.state.items():  # the optimiser's state after the update
            yield f"{name}[{l}]", value


# -- records ------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_step_returns_an_immutable_record(ref, batch, shuffle, optimizer):
    trainer = Trainer(small_scenario(ref, batch, shuffle, **OPTIMIZERS[optimizer]))
    rec = trainer.step()
    with pytest.raises(TypeError):
        rec.layers[0].state["velocity_w"] = rec.layers[0].w  # type: ignore[index]
    assert isinstance(rec, StepRecord) and isinstance(rec.batch, tuple) and isinstance(rec.layers, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.loss = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.layers[0].w = rec.layers[0].w_before
    kept = {}
    for name, arr in record_arrays(rec):
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = 123.0 if arr.size else arr[...]
        kept[name] = arr.copy()
    # later steps, an undo and a reset leave the record as it was
    trainer.run(6)
    trainer.undo()
    trainer.reset()
    trainer.run(3)
    for name, arr in record_arrays(rec):
        assert arr.tobytes() == kept[name].tobytes(), name


def test_shapes_follow_the_pytorch_layout(ref):
    """W[l] is (n_l, n_{l-1}), row j holding the weights into node j; z = a W^T + b."""
    W = [np.arange(12.0).reshape(4, 3) / 10 - 0.5, np.arange(8.0).reshape(2, 4) / 10 - 0.3]
    b = [np.array([0.1, -0.2, 0.3, -0.4]), np.array([0.05, -0.05])]
    X = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]])
    s = ref.make_scenario("identity", W, b, inputs=X, targets=np.zeros((2, 2)), loss="half_sse")
    trainer = Trainer(s)
    assert [w.shape for w in trainer.W] == [(4, 3), (2, 4)]
    assert [v.shape for v in trainer.b] == [(4,), (2,)]
    for got, given_w in zip(trainer.W, W, strict=True):
        np.testing.assert_array_equal(got, given_w)
    rec = trainer.step()
    z1 = rec.layers[0].z
    assert z1.shape == (2, 4) and rec.layers[1].z.shape == (2, 2)
    for k in range(2):
        for j in range(4):
            expected = sum(W[0][j][i] * X[k][i] for i in range(3)) + b[0][j]
            assert math.isclose(z1[k, j], expected, rel_tol=1e-14, abs_tol=1e-14)
    for lay, w in zip(rec.layers, W, strict=True):
        assert lay.grad_w.shape == lay.w.shape == lay.w_before.shape == w.shape
        assert lay.delta.shape == lay.z.shape == lay.a.shape


# -- undo and reset -----------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("history", [None, 3], ids=["history-default", "history-3"])
@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
def test_undo_restores_the_exact_state_and_stepping_again_repeats_the_record(
    ref, batch, shuffle, history, optimizer
):
    s = small_scenario(ref, batch, shuffle, **OPTIMIZERS[optimizer])
    trainer = Trainer(s) if history is None else Trainer(s, history=history)
    states = [state(trainer)]
    records = []
    for _ in range(13):  # across several epochs and shuffled orders
        records.append(trainer.step())
        states.append(state(trainer))

    for k in range(13, 3, -1):  # 10 undos: beyond a history of 3
        current = trainer.undo()
        assert_identical(state(trainer), states[k - 1], f"state after undo to step {k - 1}")
        assert_identical(current, records[k - 2], f"record of step {k - 1}")
        assert_identical(trainer.last_record, records[k - 2])
    for k in range(4, 14):  # the same steps again, the same records bit for bit
        assert_identical(trainer.step(), records[k - 1], f"record of step {k} again")
        assert_identical(state(trainer), states[k], f"state after step {k} again")


@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
def test_undo_with_states_saved_every_few_steps_steps_on_once(ref, monkeypatch, batch, shuffle):
    """A state saved every SPARSE_EVERY steps only (a big network's; here a small one made to
    count as big): each undo steps on once from the nearest saved state, SPARSE_EVERY steps at
    most, to the step before the one undone and takes that step again (``undo_replays`` says
    beforehand whether it steps on more than that one step), and every state and record is
    the one the run had, bit for bit, down to step 0 and over again."""
    from tui_backprop.engine import fastpath
    from tui_backprop.engine import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "SPARSE_STATE_BYTES", 0)
    every = trainer_module.SPARSE_EVERY
    trainer = Trainer(small_scenario(ref, batch, shuffle))
    states = [state(trainer)]
    records = []
    for _ in range(2 * every + 5):
        records.append(trainer.step())
        states.append(state(trainer))
    taken = [0]
    advance, fast_run = Trainer._advance, fastpath.FastLoop.run

    def counted_advance(self, record):
        taken[0] += 1
        return advance(self, record)

    def counted_run(self, tr, steps, save):
        before = tr.step_count
        fast_run(self, tr, steps, save)
        taken[0] += tr.step_count - before

    monkeypatch.setattr(Trainer, "_advance", counted_advance)
    monkeypatch.setattr(fastpath.FastLoop, "run", counted_run)
    for k in range(len(records), 1, -1):
        taken[0] = 0
        replays = trainer.undo_replays  # what the app reads to step back in a worker
        current = trainer.undo()
        assert 1 <= taken[0] <= every, f"undo to step {k - 1} took {taken[0]} steps"
        assert replays == (taken[0] > 1), f"undo to step {k - 1}: undo_replays {replays}, {taken[0]} steps"
        assert_identical(state(trainer), states[k - 1], f"state after undo to step {k - 1}")
        assert_identical(current, records[k - 2], f"record of step {k - 1}")
    assert trainer.undo() is None
    assert_identical(state(trainer), states[0])
    for k, rec in enumerate(records, start=1):
        assert_identical(trainer.step(), rec, f"record of step {k} again")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_undo_down_to_step_zero_and_beyond(ref, optimizer):
    trainer = Trainer(small_scenario(ref, 2, True, **OPTIMIZERS[optimizer]), history=3)
    start = state(trainer)
    first = [trainer.step() for _ in range(5)]
    for _ in range(4):
        trainer.undo()
    assert trainer.undo() is None  # now at step 0: the record of no step
    assert_identical(state(trainer), start)
    assert trainer.last_record is None
    assert trainer.undo() is None  # undo at step 0 changes nothing
    assert_identical(state(trainer), start)
    for rec in first:
        assert_identical(trainer.step(), rec)


def test_undo_after_the_run_stopped_lets_it_continue(ref):
    trainer = Trainer(small_scenario(ref, "sample", True, max_steps=4))
    records = trainer.run(10)
    assert len(records) == 4 and trainer.stop_reason == "max_steps"
    trainer.undo()
    assert trainer.stop_reason is None and trainer.step_count == 3 and not trainer.done
    assert_identical(trainer.step(), records[-1])
    assert trainer.stop_reason == "max_steps"


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
def test_reset_returns_to_the_start_and_replays_identically(ref, batch, shuffle, optimizer):
    s = small_scenario(ref, batch, shuffle, **OPTIMIZERS[optimizer])
    trainer = Trainer(s)
    start = state(trainer)
    records = trainer.run(8)
    trainer.reset()
    assert_identical(state(trainer), start)
    assert trainer.step_count == 0 and trainer.epoch == 1 and trainer.last_record is None
    for got, given_w in zip(trainer.W, s.init.weights, strict=True):
        np.testing.assert_array_equal(got, np.array(given_w))
    for rec in records:
        assert_identical(trainer.step(), rec)


# -- run ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("n", [1, 7, 23])
@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
def test_run_without_records_gives_the_same_weights_as_stepping(ref, batch, shuffle, n, optimizer):
    s = small_scenario(ref, batch, shuffle, **OPTIMIZERS[optimizer])
    fast, stepped, recorded = Trainer(s), Trainer(s), Trainer(s)
    assert fast.run(n, record=False) == []
    records = [stepped.step() for _ in range(n)]
    assert_identical(state(fast), state(stepped))
    for got, rec in zip(recorded.run(n), records, strict=True):
        assert_identical(got, rec)


def test_run_stops_at_max_steps(ref):
    trainer = Trainer(small_scenario(ref, 2, True, max_steps=6))
    first = trainer.run(4)
    assert [r.stop_reason for r in first] == [None] * 4 and not trainer.done
    rest = trainer.run(100)
    assert [r.step for r in rest] == [5, 6]
    assert rest[-1].stop_reason == "max_steps" and trainer.stop_reason == "max_steps" and trainer.done
    assert trainer.run(5) == [] and trainer.step_count == 6
    with pytest.raises(TrainingStopped):
        trainer.step()
    fast = Trainer(small_scenario(ref, 2, True, max_steps=6))
    fast.run(100, record=False)
    assert (fast.step_count, fast.stop_reason) == (6, "max_steps")


def linear_neuron(ref, **training):
    """One identity neuron learning y = 2 x - 1 by full-batch gradient descent on mse."""
    X = np.linspace(-1, 1, 6).reshape(-1, 1)
    training.setdefault("learning_rate", 0.2)
    return ref.make_scenario("identity", [[[0.3]]], [[0.0]], inputs=X, targets=2 * X - 1, **training)


def test_run_stops_at_the_first_step_whose_training_loss_is_below_target_loss(ref):
    losses = [r.train_loss for r in Trainer(linear_neuron(ref)).run(200)]
    target = 0.5 * (losses[29] + losses[30])
    k = next(i for i, v in enumerate(losses) if v < target)  # the first step below it, 0-based
    trainer = Trainer(linear_neuron(ref, target_loss=target))
    records = trainer.run(1000)
    assert len(records) == k + 1 and trainer.step_count == k + 1
    assert records[-1].stop_reason == "target_loss" and trainer.stop_reason == "target_loss"
    assert all(r.stop_reason is None for r in records[:-1])
    with pytest.raises(TrainingStopped):
        trainer.step()
    # target_loss outranks max_steps when both hold at the same step
    both = Trainer(linear_neuron(ref, target_loss=target, max_steps=k + 1))
    assert both.run(1000)[-1].stop_reason == "target_loss"
    earlier = Trainer(linear_neuron(ref, target_loss=target, max_steps=k))
    assert earlier.run(1000)[-1].stop_reason == "max_steps"


# -- divergence ---------------------------------------------------------------------------------


def first_nonfinite(ref, rec: StepRecord, X: np.ndarray, activations) -> set[tuple]:
    """Where a step's first non-finite values can be, in the order the step computes:
    the forward pass layer by layer (z then a), the batch loss, the deltas from the output
    layer back, then the gradients, the new weights, the training-set pre-activations with
    the new weights (computed here, layer by layer) and the training-set loss. Within the
    gradient and the weight stages any non-finite entry qualifies."""
    L = len(rec.layers)
    stages = [[q] for l in range(1, L + 1) for q in (("z", l), ("a", l))] + [[("loss", None)]]
    stages += [[("delta", l)] for l in range(L, 0, -1)]
    stages += [[(q, l) for l in range(1, L + 1) for q in ("grad_w", "grad_b")]]
    stages += [[(q, l) for l in range(1, L + 1) for q in ("w", "b")]]
    stages += [[("train_z", l)] for l in range(1, L + 1)] + [[("train_loss", None)]]
    # the training-set z as the batch product a @ W.T + b: near the overflow threshold a
    # per-sample sum in another order can land on the other side of it, and this check is
    # about where the engine looks, not about rounding
    train_z = []
    a = X
    with np.errstate(all="ignore"):
        for y, act in zip(rec.layers, activations, strict=True):
            z = a @ y.w.T + (y.b if y.b.size else 0.0)
            train_z.append(z)
            a = ref.activations[act](z)

    def value(q, l):
        if q == "train_z":
            return train_z[l - 1]
        if l is None:
            return np.array(rec.loss if q == "loss" else rec.train_loss)
        return getattr(rec.layers[l - 1], q)

    for stage in stages:
        hits = set()
        for q, l in stage:
            arr = value(q, l)
            for idx in np.argwhere(~np.isfinite(arr)):
                hits.add((q, l, tuple(int(i) for i in idx)))
        if hits:
            return hits
    return set()


def check_diverged_run(ref, records: list[StepRecord], trainer: Trainer) -> None:
    """The run stopped at its first step with a non-finite number, which the record names, or
    with every number finite at its first step whose training-set loss is over 1e8 x
    max(initial, 1): the initial loss is computed here."""
    last = records[-1]
    assert last.stop_reason == "diverged" and last.diverged and trainer.stop_reason == "diverged"
    s = trainer.scenario
    X, acts = trainer.X, s.activations
    initial = ref.total_loss(trainer.initial_W, trainer.initial_b, acts, s.loss, X, trainer.T)
    limit = 1e8 * max(initial, 1.0)
    for rec in records[:-1]:
        assert rec.stop_reason is None and rec.nonfinite is None and rec.blowup is None
        assert not first_nonfinite(ref, rec, X, acts)
        assert rec.train_loss <= limit
    where = first_nonfinite(ref, last, X, acts)
    if where:  # a number overflowed: the record names the first one
        nf = last.nonfinite
        assert nf is not None and last.blowup is None, "a diverged step must say where"
        assert (nf.quantity, nf.layer, tuple(nf.index)) in where, (str(nf), where)
        assert nf.quantity in str(nf)
    else:  # every number finite: the loss blew up
        assert last.nonfinite is None and last.blowup is not None, "a diverged step must say why"
        assert last.train_loss > limit and last.blowup.train_loss == last.train_loss
        assert last.divergence == str(last.blowup)


def linear_network(ref, lr, depth=2, bias=True, batch="full", seed=0):
    rng = np.random.default_rng(seed)
    sizes = [2] + [3] * (depth - 1) + [1]
    W = [rng.uniform(-1, 1, (sizes[l], sizes[l - 1])) for l in range(1, len(sizes))]
    b = [rng.uniform(-1, 1, n) for n in sizes[1:]] if bias else None
    X = rng.uniform(-1, 1, (4, 2))
    return ref.make_scenario(
        [("linear", "identity")[l % 2] for l in range(depth)],
        W,
        b,
        inputs=X,
        targets=rng.uniform(-1, 1, (4, 1)),
        learning_rate=lr,
        batch=batch,
        max_steps=100_000,
    )


@settings(max_examples=40, deadline=None)
@given(
    # up to 1e200, where the first update overflows before the loss rule can stop the run
    exponent=st.floats(6.0, 200.0),
    depth=st.integers(1, 3),
    bias=st.booleans(),
    batch=st.sampled_from(["full", "sample", 3]),
    seed=st.integers(0, 2**16),
)
@example(exponent=6.0, depth=2, bias=True, batch="full", seed=0)  # the loss blows up, finite
@example(exponent=200.0, depth=2, bias=True, batch="full", seed=0)  # z of the training set overflows
def test_a_huge_learning_rate_diverges_quietly(ref, exponent, depth, bias, batch, seed):
    s = linear_network(ref, 10.0**exponent, depth, bias, batch, seed)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")  # a RuntimeWarning escaping the engine fails the test
        trainer = Trainer(s)
        records = trainer.run(10_000)
        assert len(records) < 10_000
        check_diverged_run(ref, records, trainer)
        for rec in records:  # what the app shows of a record must not warn either
            for lay in rec.layers:
                assert lay.dw.shape == lay.w.shape and lay.db.shape == lay.b.shape
            str(rec.nonfinite), rec.divergence
        with pytest.raises(TrainingStopped):
            trainer.step()
        assert trainer.run(5) == []
        fast = Trainer(s)
        assert fast.run(10_000, record=False) == []
        assert (fast.stop_reason, fast.step_count) == ("diverged", len(records))
        # undo out of the divergence, and the same step diverges again, NaNs (or the loss) and all
        trainer.undo()
        assert trainer.stop_reason is None
        assert_identical(trainer.step(), records[-1])


def test_diverged_outranks_max_steps(ref):
    s = linear_network(ref, 1.0)
    k = len(Trainer(s).run(10_000))
    assert k > 1
    same_step = Trainer(dataclasses.replace(s, max_steps=k))
    assert same_step.run(10_000)[-1].stop_reason == "diverged"
    assert Trainer(dataclasses.replace(s, max_steps=k - 1)).run(10_000)[-1].stop_reason == "max_steps"


def _chain(ref, W, x, t, lr, loss="half_sse"):
    """An identity chain without biases, one sample, one input and one output."""
    W = [np.array([[w]]) for w in W]
    return ref.make_scenario("identity", W, None, inputs=[[x]], targets=[[t]], loss=loss, learning_rate=lr)


# each case overflows one quantity first; every value computed before it is finite
NONFINITE_CASES = {
    # z[1] = x W^T: node 2 of layer 1 overflows on sample 2 (0-based: [1, 1])
    "z": (
        lambda ref: ref.make_scenario(
            "identity",
            [[[1.0, 0.5], [1e308, 1e308]]],
            None,
            inputs=[[0.0, 0.0], [1.0, 1.0]],
            targets=np.zeros((2, 2)),
            learning_rate=0.1,
        ),
        ("z", 1, (1, 1)),
    ),
    # y = 1e200 is finite, y^2 / 2 is not
    "loss": (lambda ref: _chain(ref, [1e200], 1.0, 0.0, 0.1), ("loss", None, ())),
    # y = 1e8, delta[2] = 1e8, delta[1] = delta[2] W[2] = 1e8 * 1e308
    "delta": (lambda ref: _chain(ref, [1e-300, 1e308], 1.0, 0.0, 0.1), ("delta", 1, (0, 0))),
    # a[1] = 1e200, delta[2] = 1 - 1e154, grad_w[2] = delta[2] a[1]; delta[1] = -1e-46 stays finite
    "grad_w": (lambda ref: _chain(ref, [1.0, 1e-200], 1e200, 1e154, 0.1), ("grad_w", 2, (0, 0))),
    # grad_w = 2, lr grad_w = 2e308
    "w": (lambda ref: _chain(ref, [2.0], 1.0, 0.0, 1e308), ("w", 1, (0, 0))),
    # W[1] and W[2] become about -2.9e199, finite; with them z[2] of the training set is
    # 8e398: it overflows, while the sigmoid saturates it into a finite training-set loss
    "train_z": (
        lambda ref: ref.make_scenario(
            ("identity", "sigmoid"),
            [[[1.0]], [[1.0]]],
            None,
            inputs=[[1.0]],
            targets=[[0.0]],
            learning_rate=1e200,
        ),
        ("train_z", 2, (0, 0)),
    ),
    # W becomes -1e160, the training-set loss 1e320 / 2
    "train_loss": (lambda ref: _chain(ref, [1.0], 1.0, 0.0, 1e160), ("train_loss", None, ())),
}


@pytest.mark.parametrize("case", list(NONFINITE_CASES))
def test_nonfinite_names_the_first_non_finite_value(ref, case):
    build, expected = NONFINITE_CASES[case]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        trainer = Trainer(build(ref))
        rec = trainer.step()
        for lay in rec.layers:  # the change of each weight, as the app shows it, quietly
            assert lay.dw.shape == lay.w.shape and lay.db.shape == lay.b.shape
    assert rec.stop_reason == "diverged" and trainer.stop_reason == "diverged"
    nf = rec.nonfinite
    assert nf is not None, "a diverged step must say where"
    assert (nf.quantity, nf.layer, tuple(nf.index)) == expected
    # nothing else at that stage or before it is non-finite
    assert first_nonfinite(ref, rec, trainer.X, trainer.scenario.activations) == {expected}
    assert str(nf).startswith(case)


def test_huge_but_finite_numbers_are_not_divergence(ref):
    """Huge numbers alone are no divergence: a non-finite number is, or a training-set loss
    that blows up, and this sigmoid output keeps the loss below 1.

    W[1] and W[2] become about -1.03e154, so z[2] is about 1.07e308 for each of the two
    training samples: finite, though their sum overflows."""
    s = ref.make_scenario(
        ("identity", "sigmoid"),
        [[[1.0]], [[1.0]]],
        None,
        inputs=[[1.0], [1.0]],
        targets=[[0.0], [0.0]],
        learning_rate=3.6e154,
        max_steps=3,
    )
    trainer = Trainer(s)
    records = trainer.run(10)
    assert [r.stop_reason for r in records] == [None, None, "max_steps"]
    for rec in records:
        assert not first_nonfinite(ref, rec, trainer.X, s.activations)
        assert np.isfinite(rec.train_loss)


# -- the update ---------------------------------------------------------------------------------


def test_frozen_biases_stay_while_weights_move(ref):
    s = small_scenario(ref, 2, True, update_biases=False)
    trainer = Trainer(s)
    b0 = [np.array(v) for v in s.init.biases]
    W0 = [np.array(w) for w in s.init.weights]
    for rec in trainer.run(9):
        for lay, b_init in zip(rec.layers, b0, strict=True):
            np.testing.assert_array_equal(lay.b, b_init)
            np.testing.assert_array_equal(lay.b_before, b_init)
            assert np.abs(lay.grad_b).max() > 0  # there was a gradient to ignore
    for v, b_init in zip(trainer.b, b0, strict=True):
        np.testing.assert_array_equal(v, b_init)
    assert all(np.abs(w - w0).max() > 1e-3 for w, w0 in zip(trainer.W, W0, strict=True))


def test_a_network_without_biases_has_empty_b_and_grad_b(ref):
    s = small_scenario(ref, "full", bias=False)
    trainer = Trainer(s)
    assert [v.shape for v in trainer.b] == [(0,), (0,)]
    for rec in trainer.run(5):
        for lay in rec.layers:
            assert lay.b.shape == lay.b_before.shape == lay.grad_b.shape == (0,)
        for k, x in enumerate(rec.x):  # z = a W^T, nothing added
            zs, _ = ref.forward_sample([lay.w_before for lay in rec.layers], None, s.activations, x)
            for lay, z in zip(rec.layers, zs, strict=True):
                np.testing.assert_allclose(lay.z[k], z, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
def test_the_update_is_w_minus_lr_grad_w_and_chains_from_step_to_step(ref, batch, shuffle):
    s = small_scenario(ref, batch, shuffle)
    trainer = Trainer(s)
    lr = s.learning_rate
    W, b = [np.array(w) for w in s.init.weights], [np.array(v) for v in s.init.biases]
    for rec in trainer.run(12):
        assert rec.learning_rate == lr
        for l, lay in enumerate(rec.layers):
            np.testing.assert_array_equal(lay.w_before, W[l])  # the weights the last step left
            np.testing.assert_array_equal(lay.b_before, b[l])
            np.testing.assert_allclose(lay.w, W[l] - lr * lay.grad_w, rtol=1e-15, atol=1e-16)
            np.testing.assert_allclose(lay.b, b[l] - lr * lay.grad_b, rtol=1e-15, atol=1e-16)
            np.testing.assert_allclose(lay.dw, -lr * lay.grad_w, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(lay.db, -lr * lay.grad_b, rtol=1e-12, atol=1e-15)
            W[l], b[l] = np.array(lay.w), np.array(lay.b)
    for got, w in zip(trainer.W, W, strict=True):
        np.testing.assert_array_equal(got, w)


def test_hidden_deltas_use_the_weights_before_the_update(ref):
    s = small_scenario(ref, "full", learning_rate=5.0)
    rec = Trainer(s).step()
    hidden, out = rec.layers
    sech2 = 1.0 / np.cosh(hidden.z) ** 2  # tanh'(z), written here
    with_before = (out.delta @ out.w_before) * sech2
    with_after = (out.delta @ out.w) * sech2
    np.testing.assert_allclose(hidden.delta, with_before, rtol=1e-12, atol=1e-15)
    assert not np.allclose(hidden.delta, with_after, rtol=1e-3, atol=0)  # the test can tell them apart


@pytest.mark.parametrize("batch,shuffle", MODES, ids=MODE_IDS)
def test_losses_are_the_batch_loss_before_and_the_training_loss_after_the_update(ref, batch, shuffle):
    s = small_scenario(ref, batch, shuffle)
    trainer = Trainer(s)
    X, T, acts = np.array(s.inputs), np.array(s.targets), s.activations
    W0, b0 = [np.array(w) for w in s.init.weights], [np.array(v) for v in s.init.biases]
    assert math.isclose(trainer.initial_train_loss, ref.batch_loss(W0, b0, acts, "mse", X, T), rel_tol=1e-12)
    records = trainer.run(11)
    for rec in records:
        before = ([lay.w_before for lay in rec.layers], [lay.b_before for lay in rec.layers])
        after = ([lay.w for lay in rec.layers], [lay.b for lay in rec.layers])
        idx = list(rec.batch)
        assert math.isclose(rec.loss, ref.batch_loss(*before, acts, "mse", X[idx], T[idx]), rel_tol=1e-12)
        assert math.isclose(rec.train_loss, ref.batch_loss(*after, acts, "mse", X, T), rel_tol=1e-12)
    assert list(trainer.losses) == [r.loss for r in records]
    assert list(trainer.train_losses) == [r.train_loss for r in records]
