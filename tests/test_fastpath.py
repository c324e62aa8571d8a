"""The fast path (engine/fastpath.py) against the recording path and a reference step.

Trainer.run(n, record=False) takes its steps in place on its own buffers; Trainer.step() builds
a record a step. Both must give the same bits: weights, biases, optimiser state, every loss of
the chart, the stop reason, and the records undo rebuilds afterwards. The records themselves are
checked against a plain numpy step written here (forward, backward, update), which shares no
code with the engine.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.fastpath import CHECKPOINT_EVERY, FLUSH_EVERY, SMALL_CHECKPOINT_EVERY, FastLoop
from tui_backprop.engine.losses import get_loss
from tui_backprop.scenario.overrides import parse_set

DATA = Path(__file__).parent / "data"
BUNDLED = sorted(p.stem for p in (Path(__file__).parents[1] / "scenarios").glob("*.toml"))


def scenario(name: str, **changes):
    """A bundled scenario or a test file, blobs_784 cut to 200 samples (its evaluate_every kept)."""
    sets = [parse_set("data.samples=200")] if name == "blobs_784" else []
    s = load_scenario(str(DATA / f"{name}.toml") if (DATA / f"{name}.toml").exists() else name, sets)
    return dataclasses.replace(s, **changes)


def bits(x) -> bytes:
    """The exact bits of a float, an array or a sequence of floats (nan included)."""
    if isinstance(x, float):
        return struct.pack("<d", x)
    return np.ascontiguousarray(np.asarray(x, dtype=float)).tobytes()


def state(t: Trainer) -> dict:
    """Everything a run leaves behind that the chart, the trace and the next step read."""
    opt = t.opt_state
    return {
        "W": [bits(w) for w in t.W],
        "b": [bits(v) for v in t.b],
        "opt": (opt.t, {name: [bits(a) for a in arrays] for name, arrays in opt.arrays.items()}),
        "step": t.step_count,
        "position": tuple(t.position),
        "stop": t.stop_reason,
        "best": bits(t.best_train_loss),
        "losses": bits(t.losses),
        "train_losses": bits(t.train_losses),
        "test_losses": bits(t.test_losses),
        "train_accuracies": bits(t.train_accuracies),
        "test_accuracies": bits(t.test_accuracies),
    }


def record_bits(rec) -> tuple:
    """A record's numbers, exactly: what the trace writes of it."""
    if rec is None:
        return ()
    layers = tuple(
        (
            bits(lr.z),
            bits(lr.a),
            bits(lr.delta),
            bits(lr.grad_w),
            bits(lr.grad_b),
            bits(lr.w_before),
            bits(lr.w),
            bits(lr.b),
            tuple((k, bits(v)) for k, v in sorted(lr.state.items())),
        )
        for lr in rec.layers
    )
    return (
        rec.step,
        rec.epoch,
        rec.batch,
        bits(rec.loss),
        bits(rec.train_loss),
        rec.stop_reason,
        layers,
        tuple(w.kind for w in rec.warnings),
    )


def stepped(s, n: int) -> Trainer:
    t = Trainer(s)
    for _ in range(n):
        if t.done:
            break
        t.step()
    return t


CASES = [(name, opt) for name in BUNDLED for opt in ("gd", "momentum", "adam")] + [
    ("sgd_nobias", "gd"),
    ("sgd_nobias", "adam"),
    ("softmax_minibatch", "momentum"),
    ("explicit_bce", "gd"),
]


@pytest.mark.parametrize("name,optimizer", CASES)
def test_a_fast_run_ends_where_step_by_step_ends_bit_for_bit(name, optimizer):
    s = scenario(name, optimizer=optimizer, max_steps=10**6, target_loss=None)
    n = 45 if name == "blobs_784" else 150
    fast = Trainer(s)
    fast.run(n, record=False)
    assert state(fast) == state(stepped(s, n))


@pytest.mark.parametrize("name", ["xor", "iris", "linear_neuron_sgd", "sgd_nobias", "blobs_784"])
def test_undo_after_a_fast_run_rebuilds_the_records_of_the_step_by_step_run(name):
    """Back past several checkpoints: each undo lands on the same state and record."""
    s = scenario(name, optimizer="momentum", max_steps=10**6, target_loss=None)
    n = CHECKPOINT_EVERY * 2 + 7
    fast, slow = Trainer(s), Trainer(s)
    fast.run(n, record=False)
    records = [slow.step() for _ in range(n)]
    assert record_bits(fast.current_record()) == record_bits(records[-1])
    for k in range(n - 1, n - CHECKPOINT_EVERY - 12, -1):
        rec = fast.undo()
        assert fast.step_count == k
        assert record_bits(rec) == record_bits(records[k - 1]), k
        assert state(fast)["W"] == [bits(lr.w) for lr in records[k - 1].layers]
    fast.step()  # stepping again after undoing repeats the run
    assert record_bits(fast.last_record) == record_bits(records[n - CHECKPOINT_EVERY - 11])


def test_undo_replays_only_from_the_nearest_saved_state(monkeypatch):
    """A long fast run saves a state every SMALL_CHECKPOINT_EVERY steps (xor takes the loop
    written out): an undo steps on from the nearest one, never from the start."""
    s = scenario("xor", max_steps=10**6, target_loss=None)
    t = Trainer(s)
    t.run(10 * SMALL_CHECKPOINT_EVERY, record=False)
    assert t.undo_replays is False  # the last two steps' states were saved as usual
    taken = []
    real = FastLoop.run
    monkeypatch.setattr(FastLoop, "run", lambda self, tr, n, save: (taken.append(n), real(self, tr, n, save)))
    for _ in range(6):
        t.undo()
    assert taken and max(taken) < SMALL_CHECKPOINT_EVERY
    assert t.step_count == 10 * SMALL_CHECKPOINT_EVERY - 6


@pytest.mark.parametrize(
    "name,changes,reason",
    [
        ("diverges_1_1", {}, "diverged"),
        ("explodes_1_1", {}, "diverged"),
        ("linear_neuron_full", {"learning_rate": 1.0}, "diverged"),
        ("xor", {"max_steps": 37}, "max_steps"),
        ("linear_neuron_full", {"target_loss": 0.05}, "target_loss"),
        ("blobs_784", {"max_steps": 40}, "max_steps"),
        ("xor", {"target_loss": None, "target_accuracy": 1.0}, "target_accuracy"),
        ("circle", {"target_accuracy": 0.9}, "target_accuracy"),
    ],
)
def test_a_fast_run_stops_at_the_step_and_for_the_reason_step_by_step_does(name, changes, reason):
    s = scenario(name, **changes)
    fast = Trainer(s)
    fast.run(500, record=False)
    slow = stepped(s, 500)
    assert fast.stop_reason == slow.stop_reason == reason
    assert state(fast) == state(slow)
    assert record_bits(fast.current_record()) == record_bits(slow.last_record)


def test_a_fast_run_hands_back_read_only_parameters_and_leaves_old_records_alone():
    s = scenario("iris", optimizer="adam", max_steps=10**6, target_loss=None)
    t = Trainer(s)
    rec = t.step()
    before = record_bits(rec)
    t.run(100, record=False)
    assert record_bits(rec) == before
    arrays = [*t.W, *t.b, *(a for arrays in t.opt_state.arrays.values() for a in arrays)]
    assert arrays and not any(a.flags.writeable for a in arrays)
    with pytest.raises(ValueError):
        t.W[0][0, 0] = 1.0


def test_the_ordinary_path_is_kept_where_the_fast_loop_does_not_apply():
    assert FastLoop.of(Trainer(scenario("proportional_2_3_1_split"))) is None
    assert FastLoop.of(Trainer(scenario("adam_l2"))) is None  # a penalty
    assert FastLoop.of(Trainer(scenario("xor"))) is not None


# -- the records against a plain numpy step ------------------------------------------------

ACT = {
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a**2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0.0) * 1.0),
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
    "softmax": (
        lambda z: (
            np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
        ),
        None,
    ),
}


def reference_step(W, b, x, t, activations, loss, lr):
    """One full step of gradient descent in plain numpy: z, a, delta, grad_w, grad_b, the new W
    and b, and the batch loss (DESIGN section 3)."""
    zs, acts, a = [], [], x
    for Wl, bl, name in zip(W, b, activations, strict=True):
        z = a @ Wl.T + bl if bl.size else a @ Wl.T
        a = ACT[name][0](z)
        zs.append(z)
        acts.append(a)
    y, n = acts[-1], t.shape[1]
    if loss == "mse":
        batch_loss = float(np.mean(np.sum((y - t) ** 2, axis=1) / n))
        delta = 2.0 * (y - t) / n * ACT[activations[-1]][1](zs[-1], y)
    elif loss == "half_sse":
        batch_loss = float(np.mean(0.5 * np.sum((y - t) ** 2, axis=1)))
        delta = (y - t) * ACT[activations[-1]][1](zs[-1], y)
    elif loss == "bce":  # with a sigmoid output: dl/dz = (y - t) / n
        batch_loss = float(np.mean(-np.sum(t * np.log(y) + (1 - t) * np.log(1 - y), axis=1) / n))
        delta = (y - t) / n
    elif loss == "cross_entropy":  # with a softmax output: dl/dz = y - t
        batch_loss = float(np.mean(-np.sum(t * np.log(y), axis=1)))
        delta = y - t
    else:
        raise AssertionError(loss)
    deltas = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        deltas[l] = delta
        if l:
            delta = (delta @ W[l]) * ACT[activations[l - 1]][1](zs[l - 1], acts[l - 1])
    prev = [x, *acts[:-1]]
    grad_w = [d.T @ p / len(x) for d, p in zip(deltas, prev, strict=True)]
    grad_b = [d.mean(axis=0) if v.size else v for d, v in zip(deltas, b, strict=True)]
    new_W = [w - lr * g for w, g in zip(W, grad_w, strict=True)]
    new_b = [v - lr * g if v.size else v for v, g in zip(b, grad_b, strict=True)]
    return zs, acts, deltas, grad_w, grad_b, new_W, new_b, batch_loss


@pytest.mark.parametrize(
    "name", ["xor", "mlp_error_signal", "circle", "iris", "linear_neuron_minibatch", "spiral"]
)
def test_records_after_a_fast_run_match_a_plain_numpy_step(name):
    s = scenario(name, max_steps=10**6, target_loss=None)
    assert s.optimizer == "gd" and s.l1 == s.l2 == 0.0 and s.error_split == "gradient"
    t = Trainer(s)
    t.run(60, record=False)
    for _ in range(3):
        W, b = [w.copy() for w in t.W], [v.copy() for v in t.b]
        rec = t.step()
        x, tt = t.X[list(rec.batch)], t.T[list(rec.batch)]
        zs, acts, deltas, gw, gb, new_W, new_b, loss = reference_step(
            W, b, x, tt, s.activations, s.loss, s.learning_rate
        )
        assert math.isclose(rec.loss, loss, rel_tol=1e-12, abs_tol=1e-15)
        for l, lr in enumerate(rec.layers):
            for mine, theirs in [
                (lr.z, zs[l]),
                (lr.a, acts[l]),
                (lr.delta, deltas[l]),
                (lr.grad_w, gw[l]),
                (lr.grad_b, gb[l]),
                (lr.w_before, W[l]),
                (lr.w, new_W[l]),
                (lr.b, new_b[l]),
            ]:
                np.testing.assert_allclose(mine, theirs, rtol=1e-11, atol=1e-14)


# -- the recording path: warnings found on first access --------------------------------------


@pytest.mark.parametrize("name", ["xor", "spiral", "blobs_784", "diverges_1_1"])
def test_a_records_warnings_found_on_first_access_are_those_of_the_step(name):
    """The diagnostics of a record, found when first read, equal step_warnings called on the
    record's own numbers; reading them again gives the same tuple, and the record stays frozen."""
    from tui_backprop.engine.diagnostics import step_warnings
    from tui_backprop.engine.record import StepRecord

    s = scenario(name, target_loss=None)
    t = Trainer(s)
    best = t.best_train_loss
    for _ in range(12):
        if t.done:
            break
        rec = t.step()
        train_zs = t.network.forward(t.W, t.b, t.X)[0] if rec.evaluated else []
        want = step_warnings(
            rec.layers,
            rec.train_loss,
            rec.nonfinite,
            blowup=rec.blowup,
            train_zs=train_zs,
            best_train_loss=best,
            zero_init=tuple(not w.any() for w in t.initial_W),
            output_slope=s.loss != "bce",
        )
        got = rec.warnings
        assert got == want and rec.warnings is got
        assert isinstance(rec, StepRecord) and rec == rec
        best = min(best, rec.train_loss) if rec.evaluated and math.isfinite(rec.train_loss) else best
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.warnings = ()  # type: ignore[misc]


def test_a_big_network_saves_every_few_states_and_undo_stays_exact():
    """784-256-10 (1.6 MB a state) keeps a state every SPARSE_EVERY recorded steps; undoing
    recorded steps steps on from the nearest and rebuilds each record bit for bit."""
    from tui_backprop.engine.trainer import SPARSE_EVERY

    s = scenario("blobs_784", max_steps=10**6, target_loss=None)
    t = Trainer(s)
    records = [t.step() for _ in range(3 * SPARSE_EVERY + 3)]
    assert len(t._history) == 4  # the states before steps 1, 1 + S, 1 + 2 S and 1 + 3 S
    for k in range(len(records) - 1, 0, -1):
        assert record_bits(t.undo()) == record_bits(records[k - 1]), k
        assert t.step_count == k
    assert t.undo() is None and t.step_count == 0
    assert state(t)["W"] == [bits(w) for w in t.initial_W]


@pytest.mark.parametrize("interrupted_at", [70, FLUSH_EVERY + 44])
def test_a_fast_run_interrupted_leaves_the_trainer_at_a_state_it_reached(monkeypatch, interrupted_at):
    """Ctrl+C in the middle of a fast run (in the backward pass of a step, those before it
    kept): the trainer is at the last state handed to it (the checkpoint before), with the
    losses and accuracies of exactly those steps, some of them still waiting to be handed over
    (the second case after a hand-over of the series), and goes on as an uninterrupted run."""
    s = scenario("iris", max_steps=10**6, target_loss=None)  # a classifier with a test set
    t = Trainer(s)
    calls = [0]
    real = FastLoop.descend_of

    def descend_of(self, *args):
        descend = real(self, *args)

        def interrupted(*step):
            calls[0] += 1
            if calls[0] == interrupted_at:
                raise KeyboardInterrupt
            descend(*step)

        return interrupted

    monkeypatch.setattr(FastLoop, "descend_of", descend_of)
    with pytest.raises(KeyboardInterrupt):
        t.run(FLUSH_EVERY * 2, record=False)
    monkeypatch.undo()
    reached = (interrupted_at - 1) // CHECKPOINT_EVERY * CHECKPOINT_EVERY
    assert t.step_count == reached
    series = (t.losses, t.train_losses, t.test_losses, t.train_accuracies, t.test_accuracies)
    assert [len(x) for x in series] == [reached] * 5
    t.run(10, record=False)
    assert state(t) == state(stepped(s, reached + 10))


def test_a_hand_over_cut_short_by_ctrl_c_is_made_again_in_whole(monkeypatch):
    """Ctrl+C while the series are being extended (after the losses, before the accuracies):
    the handler hands the waiting steps over again, and every series holds each step once."""
    s = scenario("iris", max_steps=10**6, target_loss=None)
    t = Trainer(s)
    real, calls = t.train_accuracies.extend, [0]

    def extend(values):
        calls[0] += 1
        if calls[0] == 1:
            raise KeyboardInterrupt
        real(values)

    monkeypatch.setattr(t.train_accuracies, "extend", extend)
    with pytest.raises(KeyboardInterrupt):
        t.run(FLUSH_EVERY + 10, record=False)
    reached = FLUSH_EVERY - CHECKPOINT_EVERY  # the hand-over of the series comes before the state's
    assert t.step_count == reached
    assert state(t) == state(stepped(s, reached))


@pytest.mark.parametrize(
    "name,changes,n",
    [
        ("iris", {"evaluate_every": 5}, 2 * FLUSH_EVERY + 9),
        ("xor", {}, 2 * FLUSH_EVERY + 9),
        ("xor", {}, FLUSH_EVERY + 2),  # the fast loop's steps end with a hand-over: none left
        ("iris", {}, FLUSH_EVERY + 2),
        ("blobs_784", {}, FLUSH_EVERY + 3),
    ],
)
def test_a_run_longer_than_a_hand_over_keeps_every_steps_losses_and_accuracies(name, changes, n):
    """Several hand-overs of the series (classifiers: their accuracies counted at each)."""
    s = scenario(name, max_steps=10**6, target_loss=None, **changes)
    fast = Trainer(s)
    fast.run(n, record=False)
    assert fast.classifier is not None and len(fast.train_accuracies) == n
    assert state(fast) == state(stepped(s, n))


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("B", [1, 2, 4, 7, 8, 9, 16, 63, 64, 129, 1000])
def test_the_fast_mse_is_the_mean_of_the_per_sample_losses_bit_for_bit(B, n):
    """mse keeps y - t for the output delta and, with one output, takes its square as the
    per-sample loss: the same bits as losses._mse and the Trainer's mean of it."""
    rng = np.random.default_rng(B * 10 + n)
    y, t = rng.random((B, n)), rng.random((B, n))
    y[0, 0] = 1e-300 if B > 1 else y[0, 0]  # a square that underflows
    loss = FastLoop(Trainer(scenario("xor"))).mean_loss_of(n)
    got, e = loss(y, t, y)
    sample_losses = get_loss("mse").fn(y, t, y)
    assert bits(got) == bits(float(np.add.reduce(sample_losses) / sample_losses.size))
    assert bits(e) == bits(y - t)


def test_a_learning_rate_edit_between_fast_runs_is_the_rate_the_next_fast_run_takes():
    """The fast loop holds its optimiser's rate: an edit of the rate makes it again."""
    s = scenario("xor", target_loss=None)
    fast, slow = Trainer(s), Trainer(s)
    fast.run(40, record=False)
    for _ in range(40):
        slow.step()
    for t in (fast, slow):
        t.edit("learning_rate", 0.125)
    fast.run(40, record=False)
    for _ in range(40):
        slow.step()
    assert state(fast) == state(slow)
    assert fast.current_record().learning_rate == 0.125


@pytest.mark.parametrize(
    "name,optimizer,written_out",
    [
        ("xor", "gd", True),
        ("iris", "gd", True),
        ("xor", "momentum", False),
        ("spiral", "gd", False),
        ("mazur_2_2_2", "gd", False),
        ("mlp_error_signal", "gd", False),
    ],
)
def test_two_layers_with_gd_take_the_backward_pass_written_out(name, optimizer, written_out):
    """Which backward pass a run takes: the bit-for-bit tests above cover both (mazur_2_2_2's
    biases stay, mlp_error_signal has none)."""
    t = Trainer(scenario(name, optimizer=optimizer))
    loop = FastLoop(t)
    update, lr = loop.rule(t.base_learning_rate)
    descend = loop.descend_of([w.copy() for w in t.W], [v.copy() for v in t.b], {}, update, lr)
    assert ("_two_layer_gd" in descend.__qualname__) == written_out


def test_a_schedule_takes_the_ordinary_path():
    s = dataclasses.replace(scenario("xor"), schedule="exponential", gamma=0.99)
    assert FastLoop.of(Trainer(s)) is None


# -- the written-out loop of two-layer full-batch gd (FastLoop._full_batch_two_layer_gd) -----


def spy_written_out(monkeypatch) -> list[int]:
    """The step counts the written-out loop was asked for, one a run it took."""
    asked: list[int] = []
    real = FastLoop._full_batch_two_layer_gd

    def spy(self, tr, steps, *rest):
        asked.append(steps)
        return real(self, tr, steps, *rest)

    monkeypatch.setattr(FastLoop, "_full_batch_two_layer_gd", spy)
    return asked


@pytest.mark.parametrize(
    "name,changes,written_out",
    [
        ("xor", {}, True),
        ("xor", {"activations": ("tanh", "sigmoid"), "loss": "bce"}, True),
        ("xor", {"optimizer": "momentum"}, False),
        ("xor", {"evaluate_every": 3}, False),
        ("xor", {"target_accuracy": 1.0}, False),
        ("xor", {"batch": 2}, False),
        ("iris", {}, False),  # a test set and mini-batches
        ("mazur_2_2_2", {}, False),  # biases not updated
    ],
)
def test_the_commonest_small_run_takes_the_loop_written_out_and_the_others_do_not(
    monkeypatch, name, changes, written_out
):
    asked = spy_written_out(monkeypatch)
    s = scenario(name, max_steps=10**6, target_loss=None, **changes)
    fast = Trainer(s)
    n = 2 * (SMALL_CHECKPOINT_EVERY if written_out else CHECKPOINT_EVERY) + 5  # over two checkpoints
    fast.run(n, record=False)
    assert bool(asked) == written_out
    assert state(fast) == state(stepped(s, n))


def overflowing_sigmoid(monkeypatch, first: float, after: float) -> None:
    """Make the hidden sigmoid of xor (z of shape (4, 3)) write +inf into z[0, 0], the first
    sample's first unit, whenever that value is past the midpoint of ``first`` and ``after``
    on after's side: as a pre-activation that overflows once the run gets there. The fast loop
    and the ordinary step read the same function, and see the same z, bit for bit."""
    from tui_backprop.engine import activations

    real = activations.ACTIVATIONS["sigmoid"]
    mid, rising = (first + after) / 2, after > first

    def fn(z):
        if z.shape == (4, 3) and (z[0, 0] > mid if rising else z[0, 0] < mid):
            z[0, 0] = math.inf
        return real.fn(z)

    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", dataclasses.replace(real, fn=fn))


# (xor's first hidden bias falls for its first 156 steps, as the fault below needs)
@pytest.mark.parametrize("at", [1, 5, *(SMALL_CHECKPOINT_EVERY + k for k in (0, 1, 9))])
def test_a_pre_activation_that_overflows_stops_the_written_out_loop_at_its_step(monkeypatch, at):
    """The hidden units saturate at z = inf and every loss stays finite: only the check of z
    finds it, at the end of the chunk, which is taken again step by step from its start. The
    run stops where the ordinary path stops, with the same state and record."""
    s = scenario("xor", max_steps=10**6, target_loss=None)
    # xor's first hidden pre-activation of the first sample, (0, 0), is its bias b[0][0]: the
    # value it has after step at - 1 and after step at, from an ordinary run without the fault
    biases = [stepped(s, k).b[0][0] for k in (at - 1, at)] if at > 1 else None
    plain = Trainer(s)
    values = [plain.b[0][0]] + [plain.step().layers[0].b[0] for _ in range(at)]
    assert biases is None or biases == values[at - 1 :]
    # the fault must first show after step `at`: the bias moves one way over these steps
    steps = np.diff(values)
    assert (steps > 0).all() or (steps < 0).all()
    overflowing_sigmoid(monkeypatch, values[at - 1], values[at])
    asked = spy_written_out(monkeypatch)
    fast = Trainer(s)
    fast.run(4 * SMALL_CHECKPOINT_EVERY, record=False)
    slow = stepped(s, 4 * SMALL_CHECKPOINT_EVERY)
    assert asked and fast.stop_reason == slow.stop_reason == "diverged"
    assert fast.step_count == slow.step_count == at
    assert math.isfinite(fast.train_losses[-1])
    assert state(fast) == state(slow)
    assert record_bits(fast.current_record()) == record_bits(slow.last_record)


def test_a_target_loss_reached_in_a_chunk_stops_the_written_out_loop_at_its_step(monkeypatch):
    asked = spy_written_out(monkeypatch)
    s = scenario("xor", max_steps=10**6)  # stops by itself once the loss is below 0.01
    fast = Trainer(s)
    fast.run(10**5, record=False)
    slow = stepped(s, 10**5)
    assert asked and fast.stop_reason == slow.stop_reason == "target_loss"
    assert fast.step_count % SMALL_CHECKPOINT_EVERY  # in the middle of a chunk
    assert state(fast) == state(slow)


@pytest.mark.parametrize("interrupted_at", [40, SMALL_CHECKPOINT_EVERY + 3, FLUSH_EVERY + 3])
def test_ctrl_c_in_the_written_out_loop_leaves_the_trainer_at_a_state_it_reached(monkeypatch, interrupted_at):
    """Ctrl+C in a step's training-set pass: the trainer is at the last checkpoint, with the
    losses and accuracies of exactly its steps, and goes on as an uninterrupted run."""
    s = scenario("xor", max_steps=10**6, target_loss=None)
    t = Trainer(s)
    asked = spy_written_out(monkeypatch)
    hidden, calls = t._fast.fns[0], [0]

    def interrupted(z):
        calls[0] += 1
        if calls[0] == interrupted_at + 1:  # the first call is the pass before the first step
            raise KeyboardInterrupt
        return hidden(z)

    t._fast.fns = (interrupted, t._fast.fns[1])
    with pytest.raises(KeyboardInterrupt):
        t.run(FLUSH_EVERY * 2, record=False)
    t._fast.fns = (hidden, t._fast.fns[1])
    reached = (interrupted_at - 1) // SMALL_CHECKPOINT_EVERY * SMALL_CHECKPOINT_EVERY
    assert asked and t.step_count == reached
    series = (t.losses, t.train_losses, t.train_accuracies)
    assert [len(x) for x in series] == [reached] * 3
    t.run(10, record=False)
    assert state(t) == state(stepped(s, reached + 10))


def test_a_loss_not_finite_before_the_first_step_leaves_the_run_to_the_general_loop(monkeypatch):
    """An input that is not a number (put in by hand: the loader refuses one) makes the loss
    before the first step nan: the run stops at its first step as the ordinary path does."""
    s = scenario("xor", max_steps=10**6, target_loss=None)
    inputs = np.array(s.inputs)
    inputs[0, 0] = math.nan
    s = dataclasses.replace(s, inputs=inputs)
    asked = spy_written_out(monkeypatch)
    fast = Trainer(s)
    assert math.isnan(fast.initial_train_loss)
    fast.run(50, record=False)
    assert asked  # asked, and handed the run back
    slow = stepped(s, 50)
    assert fast.stop_reason == slow.stop_reason == "diverged"
    assert state(fast) == state(slow)
