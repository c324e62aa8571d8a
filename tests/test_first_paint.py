"""The app's first frame is its first screen (issue 15, first paint): every panel, the chart's
title, the boundary at its own width and the footer's keys are drawn in the first frame the app
writes to the terminal, not in frames that follow their resize events. The only later change
allowed is a scrollbar, which Textual places in a second layout once a panel's content height
is known. benchmarks/app.py measures the time; here, that the first frame is already right."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from textual.screen import Screen

from tui_backprop import load_scenario
from tui_backprop.cli import main
from tui_backprop.tui import collector
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.boundary import BoundaryPanel, ChartCell

BLOCKS = {chr(c) for c in range(0x2580, 0x25A0)}  # block elements: a scrollbar's thumb and track


def scrollbar_only(before: str, after: str) -> bool:
    """Whether two lines of the screen differ only in cells that a scrollbar draws."""
    return len(before) == len(after) and all(
        a == b or {a, b} <= BLOCKS | {" "} for a, b in zip(before, after, strict=True)
    )


async def frames_of(app: BackpropApp, size: tuple[int, int], monkeypatch) -> list[list[str]]:
    """The text of every frame the app's main screen draws until it has been idle a while."""
    frames: list[list[str]] = []
    refresh = Screen._compositor_refresh

    def recorded(screen: Screen) -> None:
        refresh(screen)
        if screen is screen.app.screen:
            frames.append([strip.text for strip in screen._compositor.render_strips()])

    monkeypatch.setattr(Screen, "_compositor_refresh", recorded)
    async with app.run_test(size=size):
        deadline = time.monotonic() + 10
        count = -1
        while count != len(frames):  # no new frame for 0.3 s: the screen has settled
            assert time.monotonic() < deadline, "the screen never settled"
            count = len(frames)
            await asyncio.sleep(0.3)
    return frames


@pytest.mark.parametrize("size", [(160, 45), (120, 40), (90, 30), (80, 24)])
@pytest.mark.parametrize("name", ["xor", "iris"])
async def test_the_first_frame_is_the_settled_screen_but_for_scrollbars(name, size, monkeypatch):
    frames = await frames_of(BackpropApp(load_scenario(name)), size, monkeypatch)
    first, settled = frames[0], frames[-1]
    assert "step 0" in first[0]
    assert "Step" in first[-1]  # the footer's keys, composed with the footer
    changed = [(a, b) for a, b in zip(first, settled, strict=True) if a != b]
    assert all(scrollbar_only(a, b) for a, b in changed), "\n".join(f"{a}\n{b}" for a, b in changed)


@pytest.mark.parametrize("size", [(160, 45), (120, 40), (100, 60)])
async def test_the_boundary_column_is_set_by_the_first_layout(size):
    """The chart cell's second column, as wide as the plane's rows need (two pixels a row, and
    the border, padding and gutter's 5 columns) and at most 45% of the cell, computed here from
    the cell's size on screen."""
    app = BackpropApp(load_scenario("xor"))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        cell = app.query_one(ChartCell)
        boundary = app.query_one(BoundaryPanel)
        width, height = cell.size
        assert boundary.outer_size.width == max(12, min(2 * (height - 2) + 5, int(width * 0.45)))


@pytest.fixture
def collector_restored() -> Iterator[None]:
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.enable() if enabled else gc.disable()


def test_the_command_opens_the_app_with_the_collector_off(monkeypatch, collector_restored):
    """From the app's imports to its first screen the collector does not run (tui/collector.py)."""
    gc.enable()
    running: list[bool] = []
    monkeypatch.setattr(BackpropApp, "run", lambda app: running.append(gc.isenabled()))
    assert main(["xor"]) == 0
    assert running == [False]


async def test_the_collector_runs_again_once_the_first_screen_is_drawn(collector_restored):
    collector.start_up()
    assert not gc.isenabled()
    app = BackpropApp(load_scenario("xor"))
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 10
        while not gc.isenabled():
            assert time.monotonic() < deadline, "the collector was never turned on again"
            await pilot.pause(0.05)
        assert gc.get_threshold() == collector.THRESHOLD


# what a key needs and the first screen does not: imported when the key is first pressed
ON_FIRST_USE = (
    "tui_backprop.trace.writer",  # e
    "tui_backprop.trace.folder",
    "tui_backprop.tutor.check",  # a, --answers
    "tui_backprop.tutor.answers",
    "tui_backprop.tui.screens.help",  # ?
    "tui_backprop.tui.screens.goto",  # g
    "tui_backprop.tui.screens.neuron",  # w
    "tui_backprop.tui.screens.answer",
    "tui_backprop.tui.screens.value",  # =, W, D
    "tui_backprop.tui.screens.probe",  # P
    "tui_backprop.tui.control.probe_input",
)

OPEN_HEADLESS = """
import asyncio, json, sys
from tui_backprop import load_scenario
from tui_backprop.tui.app import BackpropApp

async def main():
    app = BackpropApp(load_scenario("xor"))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.3)
        assert "step 0" in app.screen.query_one("#header").render().plain
asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
"""


def test_the_first_screen_loads_no_module_that_only_a_key_needs():
    out = subprocess.run([sys.executable, "-c", OPEN_HEADLESS], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "tui_backprop.tui.panels.chart" in loaded
    assert not [m for m in ON_FIRST_USE if m in loaded], [m for m in ON_FIRST_USE if m in loaded]
