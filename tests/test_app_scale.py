"""A big network in the app: steps off the UI thread with a bounded queue of keys, heatmaps with
their norm, range and histogram, the neuron view of one row of W, and the typed go-to.

The network is 100-64-10 on 1,000 generated samples in mini-batches of 64: big enough that the
app steps it in a worker (tui/control/step_queue.py), small enough to keep the tests quick. A test holds
``app.trainer_lock`` to keep a step "running" for as long as it likes: that makes "while a step
runs" deterministic instead of a race against the clock.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
from app_harness import drive, fresh, same_state, shows, step_of

from tui_backprop import Trainer
from tui_backprop.scenario.reader import InitSpec, Scenario
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.selection import Selection
from tui_backprop.tui.control.step_queue import QUEUE_SECONDS, Pending, in_background
from tui_backprop.tui.screens.neuron import NeuronScreen
from tui_backprop.tui.widgets.stats import BINS, compute, sparkline

SIZE = (160, 45)


def blobs(layers=(100, 64, 10), samples=1000, batch=64, seed=3) -> Scenario:
    """Gaussian clusters, one a class, one-hot targets: a classifier the size the tests want."""
    rng = np.random.default_rng(seed)
    n_in, n_out = layers[0], layers[-1]
    labels = rng.integers(0, n_out, samples)
    x = rng.normal(size=(n_out, n_in))[labels] + rng.normal(size=(samples, n_in))
    t = np.eye(n_out)[labels]
    x.flags.writeable = t.flags.writeable = False
    return Scenario(
        name=f"blobs {'-'.join(map(str, layers))}",
        layers=tuple(layers),
        activations=("relu",) * (len(layers) - 2) + ("softmax",),
        inputs=x,
        targets=t,
        loss="cross_entropy",
        learning_rate=0.05,
        init=InitSpec(method="xavier", seed=1),
        batch=batch,
        shuffle=True,
        max_steps=100_000,
    )


async def until_idle(pilot, timeout: float = 60.0) -> None:
    """Let the app run until its stepping worker is done; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while pilot.app.busy:
        if time.monotonic() > deadline:
            pytest.fail(f"the worker's step took more than {timeout} s")
        await pilot.pause(0.01)


async def settled(s) -> None:
    await s.until(lambda: not s.app.busy and not s.app.pending.runs, what="the worker's steps")
    await s.pilot.pause()


# -- display statistics ------------------------------------------------------------------------


def reference_bars(values: np.ndarray) -> tuple[float, float, float, str]:
    """norm, min, max and the histogram bars of the finite entries, written out here."""
    v = [float(x) for x in np.ravel(values) if math.isfinite(x)]
    lo, hi = min(v), max(v)
    counts = [0] * BINS
    for x in v:
        k = BINS - 1 if x == hi else int((x - lo) / (hi - lo) * BINS) if hi > lo else 0
        counts[k] += 1
    top = max(counts)
    bars = "".join(" ▁▂▃▄▅▆▇█"[max(1, math.ceil(8 * c / top)) if c else 0] for c in counts)
    return math.sqrt(sum(x * x for x in v)), lo, hi, bars


def test_statistics_of_an_array_with_non_finite_entries():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 40))
    a[3, 4], a[7, 1], a[0, 0] = np.nan, np.inf, -np.inf
    st = compute(a)
    norm, lo, hi, bars = reference_bars(a)
    assert (st.size, st.finite, st.nonfinite) == (1200, 1197, 3)
    assert math.isclose(st.norm, norm, rel_tol=1e-12) and (st.min, st.max) == (lo, hi)
    assert sum(st.counts) == 1197 and sparkline(st.counts) == bars
    assert compute(np.full((3, 3), 2.0)).counts == (9,) + (0,) * (BINS - 1)  # min == max
    assert compute(np.array([np.nan])).finite == 0


# -- the queue of keys ---------------------------------------------------------------------------


def test_pending_merges_runs_a_reset_replaces_them_and_the_queue_holds_half_a_second():
    now = [0.0]
    p = Pending(clock=lambda: now[0])
    p.began([("step", 1)])
    for kind in ("step", "step", "back", "step"):
        assert p.push(kind)
    assert p.take() == [("step", 2), ("back", 1), ("step", 1)]
    p.push("step")
    p.push("reset")
    assert p.take() == [("reset", 1)]
    now[0] = 0.25  # the running step has taken 0.25 s so far: two of them fill half a second
    assert p.limit() == int(QUEUE_SECONDS / 0.25) == 2
    assert [p.push("step") for _ in range(5)] == [True, True, False, False, False]
    assert p.push("reset") and p.count == 1  # a reset is never dropped
    p.ended()
    assert p.seconds_per_op == 0.25


def test_a_big_network_steps_in_the_background_a_small_one_on_the_ui_thread():
    from tui_backprop import load_scenario

    assert in_background(Trainer(blobs())) and in_background(Trainer(blobs((784, 256, 10))))
    assert not in_background(Trainer(load_scenario("xor")))


# -- responsiveness --------------------------------------------------------------------------------


async def test_keys_work_while_a_step_runs_and_queued_steps_follow():
    app = BackpropApp(blobs())
    assert app.background_steps
    app.pending.clock = lambda: 0.0  # time stands still: the queue's limit does not bite here
    async with drive(app, size=SIZE) as s:
        app.trainer_lock.acquire()  # the worker's step now waits: "a step runs" until released
        try:
            await s.press("space")  # space: step 1, in the worker
            assert app.busy and app.trainer.step_count == 0
            assert "stepping" in s.header()
            await s.press("tab")  # tab: node mode, handled at once
            assert app.selection.mode == "node" and "node: input node x1" in s.header()
            await s.press("space", "space", "b", "space")  # queued: step 2, back, step
            assert app.pending.runs == [["step", 2], ["back", 1], ["step", 1]]
            assert "stepping, 4 more queued" in s.header()
            assert "Step" in s.screen().splitlines()[-1]  # the footer is drawn
        finally:
            app.trainer_lock.release()
        await settled(s)
        assert app.trainer.step_count == 3 and app.record is not None and app.record.step == 3
        assert same_state(app, fresh(app.scenario, 3)) and step_of(s.header()) == 3
        assert "stepping" not in s.header()


async def test_holding_space_queues_at_most_half_a_second_of_steps():
    app = BackpropApp(blobs())
    now = [0.0]
    app.pending.clock = lambda: now[0]  # the queue's clock, moved by hand
    async with drive(app, size=SIZE) as s:
        app.trainer_lock.acquire()
        try:
            await s.press("space")  # the first step, held up by the lock
            now[0] += 0.6  # it has now taken longer than QUEUE_SECONDS
            for _ in range(20):  # space held down: 20 repeats
                await s.pilot.press("space")
            assert app.pending.count == 1  # one step's worth of half a second
        finally:
            app.trainer_lock.release()
        await settled(s)
        assert app.trainer.step_count == 2


async def test_reset_and_step_back_in_the_background_and_play_takes_over():
    app = BackpropApp(blobs())
    async with drive(app, size=SIZE) as s:
        await s.press("space", "space")
        await settled(s)
        await s.press("b")  # b: back to step 1
        await settled(s)
        assert app.trainer.step_count == 1 and same_state(app, fresh(app.scenario, 1))
        await s.press("r")  # r: reset
        await settled(s)
        assert app.trainer.step_count == 0 and app.record is None
        await s.press("b")  # b at step 0: says so
        await settled(s)
        assert s.noted("already at step 0")
        app.trainer_lock.acquire()
        try:
            await s.press("space", "space")  # one running, one queued
        finally:
            app.trainer_lock.release()
        await s.press("p")  # p: play pauses the single steps (the queue is dropped) and plays
        assert app.playing and not app.busy and not app.pending.runs
        await s.press("p")
        await s.until(lambda: not app.playing, what="the pause")
        assert same_state(app, fresh(app.scenario, app.trainer.step_count))


# -- heatmaps: norm, range, histogram ------------------------------------------------------------

SUMMARY = re.compile(r"norm (\S+)\s+min (\S+) max (\S+)\s+hist ▕([^▏]*)▏")


def summaries(text: str) -> list[tuple[str, str, str, str]]:
    return SUMMARY.findall(text)


def has_summary(text: str, values: np.ndarray) -> bool:
    norm, lo, hi, bars = reference_bars(values)
    return any(
        shows(n, norm) and shows(a, lo) and shows(b, hi) and h == bars for n, a, b, h in summaries(text)
    )


async def test_big_matrices_show_norm_range_and_histogram_of_the_recorded_arrays():
    app = BackpropApp(blobs())
    async with drive(app, size=SIZE) as s:
        await s.press("space")
        await settled(s)
        rec = app.record
        assert rec is not None
        l1, l2 = rec.layers
        expected = {
            "forward": [rec.x, l1.z, l1.a],
            "backward": [l1.delta],
            "gradients": [l1.grad_w, l2.grad_w, l1.grad_b],
            "weights": [l1.w, l1.w - l1.w_before, l2.w, l2.w - l2.w_before, l1.b, l1.b - l1.b_before],
        }
        for panel, arrays in expected.items():
            text = s.panel(panel)
            for k, values in enumerate(arrays):
                assert has_summary(text, values), f"{panel}: array {k} has no summary of its values"
        weights = s.panel("weights")
        width = app.query_one("#weights").scrollable_content_region.width
        pooled = re.search(r"W\[1\] after  64×100  \(pooled to (\d+)×(\d+)\)", weights)
        assert pooled and int(pooled[1]) <= 16 and 7 + int(pooled[2]) <= width  # it fits the panel
        assert all(len(line) <= width for line in weights.splitlines())  # and so do the summaries


# -- the neuron view and go-to -------------------------------------------------------------------

NEURON_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+([+-]\S+)\s+(\S+)\s+(\S+)$")


def neuron_rows(text: str) -> dict[int, tuple[str, float, str, str]]:
    rows = {}
    for line in text.splitlines():
        m = NEURON_ROW.match(line)
        if m:
            rows[int(m[1])] = (m[2], float(m[3]), m[4], m[5])
    return rows


async def test_go_to_and_the_neuron_view_show_the_selected_row_exactly():
    app = BackpropApp(blobs())
    async with drive(app, size=SIZE) as s:
        await s.press("space")
        await settled(s)
        await s.press("g", *"1:7,42", "enter")  # g: go to W[1][7, 42]
        assert (app.selection.layer, app.selection.j, app.selection.i) == (1, 7, 42)
        assert "W[1][7,42] x43→h8" in s.header()
        await s.press("w")  # w: the neuron view of h8
        assert isinstance(app.screen, NeuronScreen)
        lr = app.record.layers[0]
        for j in (7, 8):
            text = app.screen.panel.text
            rows = neuron_rows(text)
            assert sorted(rows) == list(range(100))
            for i, (name, w, grad, dw) in rows.items():
                assert name == f"x{i + 1}" and w == lr.w[j, i]  # every digit
                assert shows(grad, lr.grad_w[j, i]) and shows(dw, lr.w[j, i] - lr.w_before[j, i])
            assert f"W[1][{j}, :]" in text and "w after  10×10" in text and "grad_w  10×10" in text
            assert has_summary(text, lr.w[j]) and has_summary(text, lr.grad_w[j])
            await s.press("right")  # right: the next neuron
        await s.press("escape")
        assert not isinstance(app.screen, NeuronScreen) and app.trainer.step_count == 1


def test_go_to_reads_each_mode_and_names_what_is_out_of_range():
    layers, sel = (100, 64, 10), Selection()
    assert sel.goto("7, 42", layers, True, 64) == Selection(layer=1, j=7, i=42)
    assert sel.goto("2:3,64", layers, True, 64) == Selection(layer=2, j=3, i=64)  # the bias
    assert Selection(i=99).goto("2:5", layers, True, 64) == Selection(layer=2, j=5, i=64)
    node = Selection(mode="node")
    assert node.goto("1:63", layers, True, 64) == Selection(mode="node", node_layer=1, node=63)
    assert Selection(mode="sample").goto("50", layers, True, 64).sample == 50
    for sel_, text, message in [
        (sel, "2:10,0", "j of W[2] = 10 is out of range 0..9"),
        (sel, "1:0,101", "i of W[1] = 101 is out of range 0..100 (100 is b)"),
        (sel, "3:0,0", "layer = 3 is out of range 1..2"),
        (node, "100", "k of layer 0 = 100 is out of range 0..99"),
        (node, "3:0", "layer = 3 is out of range 0..2"),
        (Selection(mode="sample"), "64", "sample k = 64 is out of range 0..63"),
        (sel, "h8", "expected j,i"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            sel_.goto(text, layers, True, 64)


async def test_a_bad_go_to_is_a_notification_and_the_neuron_view_needs_a_later_layer():
    app = BackpropApp(blobs())
    async with drive(app, size=SIZE) as s:
        await s.press("g", *"1:99,0", "enter")
        assert s.noted("j of W[1] = 99 is out of range 0..63", "warning") and app.selection == Selection()
        await s.press("tab", "w")  # node mode on input node x1: it has no incoming weights
        assert s.noted("no incoming weights", "warning") and not isinstance(app.screen, NeuronScreen)
        await s.press("g", "escape")  # escape: nothing changes, nothing said
        assert app.selection.mode == "node" and len(s.notes) == 2


# -- what it looks like ----------------------------------------------------------------------------


async def look_at_a_big_network(pilot, neuron: bool) -> None:
    await pilot.press("space")  # space: step 1, in the worker
    await until_idle(pilot)
    await pilot.press("space")  # space: step 2
    await until_idle(pilot)
    await pilot.press("g", *"1:5,300", "enter")  # g: go to W[1][5, 300]
    if neuron:
        await pilot.press("w")  # w: the neuron view of h6
    await pilot.pause()


@pytest.mark.parametrize("neuron", [False, True], ids=["panels", "neuron"])
def test_a_784_256_10_network_after_two_steps(snap_compare, monkeypatch, neuron):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(blobs((784, 256, 10)))

    screens = []

    async def run_before(pilot) -> None:
        await look_at_a_big_network(pilot, neuron)
        screens.append(type(app.screen))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    assert app._exception is None and app.return_code == 0
    assert app.trainer.step_count == 2 and app.record is not None and app.record.step == 2
    assert (app.selection.layer, app.selection.j, app.selection.i) == (1, 5, 300)
    assert (screens == [NeuronScreen]) == neuron
