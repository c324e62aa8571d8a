"""LossSeries: a loss a step in bounded memory, the last steps exact, older ones as ranges
(engine/loss_series.py). Checked against a plain list and a brute-force min and max."""

from __future__ import annotations

from array import array
from dataclasses import replace

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.loss_series import WINDOW, Forgotten, LossSeries
from tui_backprop.engine.trainer import HISTORY_STEPS


def test_it_reads_as_an_array_of_floats_while_short():
    rng = np.random.default_rng(0)
    s, ref = LossSeries(window=50), array("d")
    for _ in range(80):  # fewer than 2 x 50 kept: nothing folded
        x = float(rng.normal())
        s.append(x)
        ref.append(x)
        if rng.uniform() < 0.2:
            k = int(rng.integers(max(0, len(ref) - 5), len(ref) + 1))
            del s[k:]
            del ref[k:]
        assert len(s) == len(ref) and s == list(ref)
        if ref:
            assert s[-1] == ref[-1] and s[0] == ref[0] and list(s[1:3]) == list(ref[1:3])


@pytest.mark.parametrize("n", [10, 999, 10_007, 123_457])
def test_groups_hold_the_exact_lowest_and_highest_of_their_steps(n):
    rng = np.random.default_rng(n)
    v = rng.uniform(0, 1, n)
    v[n // 3] = 50.0  # a spike stays visible however long the run
    v[n // 2] = np.nan  # a step between evaluations
    s = LossSeries(v.tolist(), window=1000, buckets=64)
    assert len(s) == n and s[-1] == v[-1]
    starts, lo, hi = s.envelope(n, 30)
    assert len(starts) <= 30 + 1 and starts[0] == 0
    ends = [*starts[1:], n]
    for a, b, low, high in zip(starts, ends, lo, hi, strict=True):
        group = v[a:b][~np.isnan(v[a:b])]
        if not len(group):  # a group of steps with no number: no range either
            assert np.isnan(low) and np.isnan(high)
            continue
        assert low == group.min() and high == group.max(), (a, b)
    assert np.nanmax(hi) == 50.0


def test_memory_is_bounded_whatever_the_length():
    s = LossSeries(window=1000, buckets=64)
    sizes = []
    for k in range(1_000_000):
        s.append(k % 97 / 97)
        if k in (10_000, 100_000, 999_999):
            sizes.append(s.stored)
    assert len(s) == 1_000_000
    assert all(size <= 2 * 1000 + 2 * 64 for size in sizes), sizes
    assert s[-1] == 999_999 % 97 / 97 and list(s[-1000:]) == [k % 97 / 97 for k in range(999_000, 1_000_000)]
    with pytest.raises(Forgotten):
        s[0]
    with pytest.raises(Forgotten):
        del s[5:]  # undo never goes back this far: the trainer replays from the start instead


def test_the_trainer_keeps_its_losses_bounded_and_undoes_within_them():
    assert WINDOW > HISTORY_STEPS  # undo from memory never reaches a grouped step
    endless = replace(load_scenario("xor"), target_loss=None, max_steps=10**9)
    trainer = Trainer(endless, history=100)
    trainer.run(2 * WINDOW + 1000, record=False)
    assert trainer.losses.offset > 0  # folded: older steps are ranges now
    assert trainer.losses.stored <= 2 * WINDOW + 2 * 4096
    last = trainer.train_losses[-2]
    trainer.undo()
    assert len(trainer.train_losses) == 2 * WINDOW + 999 and trainer.train_losses[-1] == last


def test_a_value_kept_exactly_can_be_replaced_and_a_grouped_one_cannot():
    """An edit recomputes the last step's loss in place: s[-1] = v changes that value only."""
    s = LossSeries(range(10), window=4, buckets=4)
    s[-1] = 0.5
    assert s[-1] == 0.5 and s[-2] == 8.0 and len(s) == 10
    with pytest.raises(Forgotten):
        s[0] = 1.0
    with pytest.raises(IndexError):
        s[10] = 1.0


@pytest.mark.parametrize("chunk", [1, 3, 7, 40])
def test_extend_is_append_of_each_value_in_turn(chunk):
    """extend, in chunks of any size, folds the old values into the same groups as appends."""
    rng = np.random.default_rng(chunk)
    values = rng.normal(size=300).tolist()
    values[17] = float("nan")  # a step between evaluations
    appended, extended = LossSeries(window=8, buckets=4), LossSeries(window=8, buckets=4)
    for v in values:
        appended.append(v)
    for k in range(0, len(values), chunk):
        extended.extend(values[k : k + chunk])
    assert extended == appended and extended.offset > 0
    assert extended[len(values) - 8 :].tolist() == values[-8:]
