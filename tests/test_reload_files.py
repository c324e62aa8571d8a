"""R reads the scenario file off the UI thread, and only a regular file within its limit.

A scenario file replaced by a FIFO, by a link to /dev/zero or by a file over 4 MB is a
notification at once; a read that takes long (held here by the test) leaves every key working,
q included.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path

import pytest
from app_harness import drive, fresh, same_state
from file_kinds import fifo, sparse

from tui_backprop import load_scenario
from tui_backprop.common.files import SCENARIO_LIMIT
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.reload import ScenarioSource

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture
def xor_file(tmp_path):
    path = tmp_path / "net.toml"
    path.write_bytes((SCENARIOS / "xor.toml").read_bytes())
    return path


async def test_r_on_a_file_that_became_something_else_is_a_notification(xor_file):
    xor = load_scenario(str(xor_file))
    app = BackpropApp(xor)
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: a run to keep
        for into, says in [
            ("fifo", "is a FIFO, not a scenario file"),
            ("/dev/zero", "is a character device, not a scenario file"),
            ("too big", "is larger than 4 MB, the limit for a scenario file"),
        ]:
            xor_file.unlink()
            if into == "/dev/zero":
                xor_file.symlink_to("/dev/zero")
            elif into == "too big":
                sparse(xor_file, SCENARIO_LIMIT + 1)
            with fifo(xor_file) if into == "fifo" else nullcontext():
                await s.press("R")  # R: read the file again
                await s.until(lambda: not app.reloading, what="the reload")
            assert s.noted(f"error: {xor_file}: {says}", "error"), into
            assert same_state(app, fresh(xor, 2))  # the run goes on untouched
        await s.press("space")  # space: and steps
        assert app.trainer.step_count == 3


async def test_a_slow_read_leaves_the_keys_working_and_q_quits(xor_file, monkeypatch):
    """The read is held by the test: meanwhile space steps, R says it is still reading, and q
    quits the app at once."""
    release, started = threading.Event(), threading.Event()
    real_load = ScenarioSource.load

    def slow_load(self):
        started.set()
        assert release.wait(30), "the test never let the read finish"
        return real_load(self)

    monkeypatch.setattr(ScenarioSource, "load", slow_load)
    app = BackpropApp(load_scenario(str(xor_file)))
    try:
        async with drive(app) as s:
            await s.press("R")  # R: the read starts in a worker, and is held there
            await s.until(started.is_set, what="the read to start")
            assert app.reloading
            await s.press("space", "space")  # space x2: the app steps all the same
            assert app.trainer.step_count == 2 and app.record is not None and app.record.step == 2
            await s.press("R")  # R again: one read at a time
            assert s.noted(f"still reading {xor_file}", "warning")
            await s.press("q")  # q: quits while the read is still held
            assert not app.is_running
    finally:
        release.set()
