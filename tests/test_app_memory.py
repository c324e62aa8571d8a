"""The app's memory stays flat over many steps: what it keeps per step is bounded or compact.

tracemalloc follows every Python allocation that is still alive. It starts once the app has
drawn its first screen; the app then runs N = 1,000 steps and 4 N (key F, the worker that play
uses), and the memory still held at each point is compared. A step's record of the 2-2-1 network is
about 3 KB, so anything kept per step (records, chart points as Python objects, selection
history) grows by thousands of bytes a step. The
loss curves are the one thing that grows here: 8 bytes a step for each of the trainer's two
losses and each of the chart's two copies of them, until each holds its 65,535 exact steps
(engine/loss_series.py; tests/test_loss_series.py proves them bounded past that).
The trainer's undo history is bounded by its size (``history``; 100 here, so that it fills
before N).
"""

from __future__ import annotations

import gc
import tracemalloc

from app_harness import LONG_RUN, drive, scenario_file

from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.boundary import cell_style

# bytes a step that the app may keep: the loss and accuracy curves (96 B), with room to spare
PER_STEP = 144


OURS = [tracemalloc.Filter(True, "*/tui_backprop/*")]  # made by the app's or the engine's code


def traced() -> int:
    """Bytes still held that the app or the engine allocated (Textual's and Rich's own caches,
    bounded, fill for a while as new numbers are drawn: they are not what a step keeps). The
    boundary's cell styles are emptied first: a cache bounded by STYLES_KEPT whose filling
    depends on which frames the machine had time to draw (on a loaded machine, up to some 100 KB
    more over the 3,000 steps measured, 30 B a step that no step keeps)."""
    cell_style.cache_clear()
    gc.collect()
    return sum(s.size for s in tracemalloc.take_snapshot().filter_traces(OURS).statistics("filename"))


async def run(s, thousands: int) -> int:
    """Press F (+1000 steps, the worker that play uses) ``thousands`` times; the step count."""
    for _ in range(thousands):
        await s.press("F")  # F: 1000 more steps
        await s.until(lambda: not s.app.playing, timeout=120, what="1000 steps")
    return s.app.trainer.step_count


async def test_memory_is_flat_while_the_app_runs_steps(tmp_path):
    app = BackpropApp(scenario_file(tmp_path, LONG_RUN), history=100)
    async with drive(app) as s:
        await run(s, 1)  # caches and the undo history (100 steps here) fill up first
        tracemalloc.start()
        try:
            start = traced()
            n1 = await run(s, 1)
            m1 = traced()
            n4 = await run(s, 3)
            m4 = traced()
        finally:
            tracemalloc.stop()
    assert (n1, n4) == (2_000, 5_000)
    per_step = (m4 - m1) / (n4 - n1)
    print(f"traced: {m1 - start} B after 1000 steps, {m4 - start} B after 4,000: {per_step:.1f} B a step")
    assert per_step < PER_STEP
