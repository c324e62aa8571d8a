"""The Trainer's records are made when first read (engine/record.py's LazyStepRecord): a record
read long after its step, after more steps, undo, edits and a reset, is the one read at once,
every array read-only; and it is the step a plain numpy reference computes, written out here."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest

from tui_backprop import StepRecord, Trainer
from tui_backprop.engine import trainer as trainer_module

MODES = [("full", False), (2, True), ("sample", False), (3, False)]
OPTIMIZERS = {
    "gd": {},
    "momentum": {"optimizer": "momentum", "momentum": 0.8},
    "adam": {"optimizer": "adam", "learning_rate": 0.05},
}


def scenario(ref, batch="full", shuffle=False, **training):
    """A 2-3-2 tanh/sigmoid network on 5 samples, mse, with a test set of 3."""
    rng = np.random.default_rng(5)
    W = [rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2, 3))]
    b = [rng.uniform(-0.5, 0.5, 3), rng.uniform(-0.5, 0.5, 2)]
    X, T = rng.uniform(-2, 2, (5, 2)), rng.uniform(0, 1, (5, 2))
    training.setdefault("learning_rate", 0.7)
    training.setdefault("test_inputs", rng.uniform(-2, 2, (3, 2)))
    training.setdefault("test_targets", rng.uniform(0, 1, (3, 2)))
    return ref.make_scenario(
        ("tanh", "sigmoid"), W, b, inputs=X, targets=T, batch=batch, shuffle=shuffle, seed=4, **training
    )


def fields_of(value):
    """A record's (or any field's) value as plain data: arrays as their bytes, shape and flag."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            {f.name: fields_of(getattr(value, f.name)) for f in dataclasses.fields(value)},
        )
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.tobytes(), value.flags.writeable)
    if isinstance(value, (tuple, list)):
        return tuple(fields_of(v) for v in value)
    if hasattr(value, "items"):
        return {k: fields_of(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def arrays_of(rec: StepRecord):
    yield rec.x
    yield rec.t
    yield rec.sample_losses
    for layer in rec.layers:
        for f in dataclasses.fields(layer):
            if isinstance(getattr(layer, f.name), np.ndarray):
                yield getattr(layer, f.name)
        yield from layer.state.values()


@pytest.mark.parametrize("batch,shuffle", MODES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_record_read_late_is_the_record_read_at_once(ref, batch, shuffle, optimizer):
    s = scenario(ref, batch, shuffle, **OPTIMIZERS[optimizer])
    at_once = Trainer(s)
    read = [fields_of(at_once.step()) for _ in range(7)]
    late = Trainer(s)
    unread = [late.step() for _ in range(7)]
    # the trainer goes on, back, is edited and starts over before any record is read
    late.run(5)
    late.undo()
    late.undo()
    late.edit("learning_rate", 0.01)
    late.edit("weight", 9.0, layer=1, index=(0, 0))
    late.run(3)
    late.reset()
    late.run(4, record=False)
    for k, rec in enumerate(unread):
        assert fields_of(rec) == read[k], f"step {k + 1}"
        for arr in arrays_of(rec):
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr[(0,) * arr.ndim] = 7.0


def test_the_record_of_an_undone_step_read_late_is_the_step_made_again(ref):
    trainer = Trainer(scenario(ref, 2, True, **OPTIMIZERS["momentum"]))
    trainer.run(3)
    first = trainer.step()
    trainer.undo()
    again = trainer.step()
    assert fields_of(first) == fields_of(again)


def test_an_unread_record_copies_prints_and_replaces_as_a_read_one(ref):
    s = scenario(ref, 2, True, **OPTIMIZERS["adam"])
    a = Trainer(s).step()
    assert fields_of(copy.copy(Trainer(s).step())) == fields_of(a)
    replaced = dataclasses.replace(Trainer(s).step(), loss=1.5)
    assert replaced.loss == 1.5 and fields_of(replaced.layers) == fields_of(a.layers)
    assert repr(Trainer(s).step()) == repr(a)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Trainer(s).step().loss = 0.0  # type: ignore[misc]


def test_warnings_read_first_make_the_record_and_match_one_read_fields_first(ref):
    # a network that starts with all weights 0 into the output is warned about (zero_init)
    rng = np.random.default_rng(1)
    W = [rng.uniform(-1, 1, (3, 2)), np.zeros((1, 3))]
    s = ref.make_scenario(
        ("sigmoid", "sigmoid"), W, [np.zeros(3), np.zeros(1)], inputs=rng.uniform(-1, 1, (4, 2)),
        targets=[[0.0], [1.0], [1.0], [0.0]], learning_rate=0.5,
    )  # fmt: skip
    warned = Trainer(s).step().warnings
    rec = Trainer(s).step()
    assert rec.loss > 0  # the fields first, then the warnings
    assert warned and rec.warnings == warned


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_steps(W, b, X, T, batches, rule):
    """Plain numpy, one step a batch of a 2-layer tanh/sigmoid mse network: the values a record
    holds. ``rule(p, g, slots)`` returns the new p and slots."""
    W, b = [w.copy() for w in W], [v.copy() for v in b]
    slots = [[None] * 2 for _ in range(2)]  # per layer, for W and for b
    out = []
    for idx in batches:
        x, t = X[idx], T[idx]
        z1 = x @ W[0].T + b[0]
        a1 = np.tanh(z1)
        z2 = a1 @ W[1].T + b[1]
        y = sigmoid(z2)
        sample_losses = ((y - t) ** 2).mean(axis=1)
        d2 = 2.0 * (y - t) / t.shape[1] * y * (1.0 - y)
        d1 = (d2 @ W[1]) * (1.0 - a1**2)
        grads = [(d1.T @ x / len(x), d1.mean(axis=0)), (d2.T @ a1 / len(x), d2.mean(axis=0))]
        before = [(W[l].copy(), b[l].copy()) for l in range(2)]
        for l, (gw, gb) in enumerate(grads):
            W[l], slots[l][0] = rule(W[l], gw, slots[l][0])
            b[l], slots[l][1] = rule(b[l], gb, slots[l][1])
        y_all = sigmoid(np.tanh(X @ W[0].T + b[0]) @ W[1].T + b[1])
        out.append(
            {
                "x": x,
                "t": t,
                "z": [z1, z2],
                "a": [a1, y],
                "delta": [d1, d2],
                "sample_losses": sample_losses,
                "loss": sample_losses.mean(),
                "grads": grads,
                "before": before,
                "after": [(W[l].copy(), b[l].copy()) for l in range(2)],
                "train_loss": ((y_all - T) ** 2).mean(),
            }
        )
    return out


def gd_rule(lr):
    return lambda p, g, s: (p - lr * g, None)


def momentum_rule(lr, mu):
    def rule(p, g, v):
        v = g if v is None else mu * v + g
        return p - lr * v, v

    return rule


@pytest.mark.parametrize("batch,shuffle", MODES)
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "gd, gradients spent"])
def test_records_read_late_are_the_steps_of_a_plain_numpy_reference(
    ref, monkeypatch, batch, shuffle, optimizer
):
    if optimizer.endswith("spent"):  # every layer's new W written into its grad_w, made again when read
        monkeypatch.setattr(trainer_module, "SPENT_GRADIENT_BYTES", 0)
        optimizer = "gd"
    s = scenario(ref, batch, shuffle, **OPTIMIZERS[optimizer])
    trainer = Trainer(s)
    records = [trainer.step() for _ in range(6)]
    trainer.run(4)  # the records are read after the trainer has gone on
    trainer.undo()
    rule = gd_rule(0.7) if optimizer == "gd" else momentum_rule(0.7, 0.8)
    W = [np.array(w) for w in s.init.weights]
    b = [np.array(v) for v in s.init.biases]
    expected = reference_steps(
        W, b, np.asarray(s.inputs), np.asarray(s.targets), [list(r.batch) for r in records], rule
    )
    close = dict(rtol=1e-12, atol=1e-14)
    for rec, want in zip(records, expected, strict=True):
        np.testing.assert_allclose(rec.x, want["x"], **close)
        np.testing.assert_allclose(rec.t, want["t"], **close)
        np.testing.assert_allclose(rec.sample_losses, want["sample_losses"], **close)
        assert rec.loss == pytest.approx(want["loss"], rel=1e-12)
        assert rec.train_loss == pytest.approx(want["train_loss"], rel=1e-12)
        for l, layer in enumerate(rec.layers):
            np.testing.assert_allclose(layer.z, want["z"][l], **close)
            np.testing.assert_allclose(layer.a, want["a"][l], **close)
            np.testing.assert_allclose(layer.delta, want["delta"][l], **close)
            np.testing.assert_allclose(layer.grad_w, want["grads"][l][0], **close)
            np.testing.assert_allclose(layer.grad_b, want["grads"][l][1], **close)
            np.testing.assert_allclose(layer.w_before, want["before"][l][0], **close)
            np.testing.assert_allclose(layer.b_before, want["before"][l][1], **close)
            np.testing.assert_allclose(layer.w, want["after"][l][0], **close)
            np.testing.assert_allclose(layer.b, want["after"][l][1], **close)


SPENT_CASES = {
    "gd": {},
    "gd with l2": {"l2": 0.01},
    "gd, proportional split": {"error_split": "proportional"},
    "gd on a schedule": {"schedule": "step", "step_every": 2, "step_factor": 0.5},
    "momentum": OPTIMIZERS["momentum"],
    "adam": OPTIMIZERS["adam"],
}


@pytest.mark.parametrize("batch,shuffle", MODES)
@pytest.mark.parametrize("case", SPENT_CASES)
def test_a_gradient_spent_by_the_update_is_made_again_bit_for_bit(ref, monkeypatch, batch, shuffle, case):
    """A big layer's grad_w under plain gd holds the new W after the update, and its record
    makes it again from delta and a[l-1] (trainer.SPENT_GRADIENT_BYTES; here every layer is
    "big"): the records, read late, and the weights are those of a trainer that keeps it."""
    s = scenario(ref, batch, shuffle, **SPENT_CASES[case])
    kept = Trainer(s)
    read = [fields_of(kept.step()) for _ in range(6)]
    kept.undo()
    read_again = fields_of(kept.step())
    monkeypatch.setattr(trainer_module, "SPENT_GRADIENT_BYTES", 0)
    spent = Trainer(s)
    unread = [spent.step() for _ in range(6)]
    spent.undo()  # the undone step's record made again, read after the trainer moved on
    again = spent.step()
    spent.run(3)
    for k, rec in enumerate(unread):
        assert fields_of(rec) == read[k], f"step {k + 1}"
    assert fields_of(again) == read_again
    for mine, theirs in zip((*spent.W, *spent.b), (*kept.W, *kept.b), strict=True):
        assert not mine.flags.writeable and mine.shape == theirs.shape
    # and each grad_w is delta.T @ a[l-1] / B, written out here (plus dP/dW under l2)
    for rec in unread if "l2" not in case else ():
        for l, layer in enumerate(rec.layers):
            below = rec.x if l == 0 else rec.layers[l - 1].a
            np.testing.assert_allclose(
                layer.grad_w, layer.delta.T @ below / len(rec.x), rtol=1e-13, atol=1e-15
            )


def test_a_record_read_whole_lets_go_of_what_it_was_made_from(ref):
    """Once its fields and warnings are read, a record holds them only: the step's training-set
    z (which only the warnings need) is freed when the record is the last thing holding it."""
    import gc
    import weakref

    from tui_backprop.engine import network

    made = []
    forward = network.Network.forward

    def watched(self, W, b, x):
        zs, acts = forward(self, W, b, x)
        made.extend(weakref.ref(z) for z in zs if len(z) == 5)  # the training set's 5 samples
        return zs, acts

    t = Trainer(scenario(ref, batch=2, shuffle=True))
    network.Network.forward = watched
    try:
        rec = t.step()
    finally:
        network.Network.forward = forward
    assert rec.layers and rec.warnings is not None  # every field read, and the warnings
    t.step()  # the trainer moves on: only rec could hold the first step's training-set z now
    gc.collect()
    assert made and all(z() is None for z in made)
    assert fields_of(rec) == fields_of(copy.copy(rec))
