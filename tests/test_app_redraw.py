"""Drawing only what changed: a step redraws the lines of a panel that differ, a panel that is
not on screen is built when it comes back, and the collector is set once the app has started
(benchmarks/app.py measures what they save; here, that the screen is still right)."""

from __future__ import annotations

import gc

import pytest
from app_harness import calls_of, drive, step_of

from tui_backprop import load_scenario
from tui_backprop.tui import collector
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.base import Panel
from tui_backprop.tui.widgets.footer import AppFooter

PANELS = ("network", "forward", "explain", "backward", "gradients", "weights")


async def test_the_screen_after_steps_is_the_screen_a_full_redraw_gives():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        for _ in range(5):
            await s.press("space")  # space: a step, each redrawing only the lines that changed
        await s.press("down", "tab")  # a move of the selection: a few lines change
        stepped = s.screen()
        for panel in app.query(Panel):
            panel.redraw()  # every line built and drawn anew
            panel.refresh()
        await s.pilot.pause()
        assert step_of(s.header()) == 5
        assert s.screen() == stepped


async def test_lines_a_step_changed_out_of_view_are_drawn_new_when_scrolled_to():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(120, 30)) as s:  # small panels: most of their lines out of view
        await s.press("space")
        await s.pilot.pause(0.2)  # the rest of each panel built after the step's frame
        panels = [p for p in app.query(Panel) if p.max_scroll_y > 0]
        assert {"forward", "backward"} <= {p.id for p in panels}
        for end in (True, False):  # every line drawn once: the strips of the lines below are kept
            for panel in panels:
                panel.scroll_end(animate=False) if end else panel.scroll_home(animate=False)
            await s.pilot.pause()
        await s.press("space", "space")  # two steps: only the lines in view drawn again
        await s.pilot.pause(0.2)
        for panel in panels:
            panel.scroll_end(animate=False)  # to the lines the steps changed out of view
        await s.pilot.pause()
        scrolled = s.screen()
        for panel in panels:  # every line drawn anew from the step's lines (a redraw would
            panel._strips.clear()  # scroll back to the selected weight)
            panel.refresh()
        await s.pilot.pause()
        assert step_of(s.header()) == 3 and all(p.scroll_y == p.max_scroll_y for p in panels)
        assert s.screen() == scrolled


async def test_a_step_is_drawn_in_one_frame():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "space")
        await s.pilot.pause(0.2)
        frames = calls_of(app.screen, "_compositor_refresh")
        for step in (3, 4, 5):
            frames.clear()
            await s.press("space")
            await s.pilot.pause(0.2)  # time for a second frame, if one came
            assert step_of(s.header()) == step
            # the panels build the lines below their view after the frame: drawing none of
            # them, they ask for no second one
            assert len(frames) == 1, step


async def test_a_panel_hidden_by_a_zoom_is_drawn_at_the_current_step_when_shown_again():
    zoomed, plain = BackpropApp(load_scenario("xor")), BackpropApp(load_scenario("xor"))
    async with drive(zoomed) as z, drive(plain) as p:
        await z.press("2")  # 2: zoom the forward panel; the others leave the screen
        builds = []
        network = zoomed.query_one("#network", Panel)
        build = network.build
        network.build = lambda width: builds.append(width) or build(width)  # type: ignore[method-assign]
        await z.press("space", "space", "space")  # three steps, the network panel hidden
        assert builds == []  # not built while out of sight
        await z.press("2")  # 2: every panel again
        await z.until(lambda: bool(builds), what="the network panel drawn again")
        await p.press("space", "space", "space")  # the same steps, never zoomed
        assert step_of(z.header()) == step_of(p.header()) == 3
        for name in PANELS:
            assert z.panel(name) == p.panel(name), name
        assert z.screen() == p.screen()


async def test_a_hidden_panel_still_reads_as_the_current_step():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("2", "space")  # zoom forward, then a step
        zoomed = s.panel("network")
        await s.press("2")  # every panel again
        await s.until(lambda: "step" in s.header())
        # the step's values, not the initial weights' (the layout of the small node maps follows
        # the panel's height, which a panel out of sight does not have: compare the lines' words)
        assert (
            "initial weights" not in zoomed and zoomed.splitlines()[0] == s.panel("network").splitlines()[0]
        )
        values = sorted(w for w in s.panel("network").split() if w.startswith(("+", "-")))
        assert values and values == sorted(w for w in zoomed.split() if w.startswith(("+", "-")))


async def test_the_collector_runs_less_often_once_the_app_has_started():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's default (the test suite's conftest raises it)
    try:
        app = BackpropApp(load_scenario("xor"))
        async with drive(app) as s:
            await s.until(lambda: gc.get_threshold() == collector.THRESHOLD, what="the threshold set")
    finally:
        gc.set_threshold(*before)


async def test_a_step_lays_the_screen_out_no_more_once_the_panels_have_their_size():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # the first step: the panels' contents change shape from step 0
        layouts = calls_of(app.screen, "_refresh_layout")
        await s.press("space", "space")  # two more steps: numbers change, not the layout
        assert step_of(s.header()) == 3
        assert layouts == []  # a hidden line updated with the same (empty) text laid it all out


@pytest.mark.parametrize("size", [(160, 45), (120, 40), (90, 30)])
async def test_the_first_screen_builds_each_panel_once_at_its_own_width(size, monkeypatch):
    builds: list[tuple[str, int]] = []
    build_lines = Panel.build_lines

    def counted(panel: Panel, width: int):
        builds.append((panel.id or "", width))
        return build_lines(panel, width)

    monkeypatch.setattr(Panel, "build_lines", counted)
    recompose: list[bool] = []  # what each fit of the footer to the screen's width asked for
    fit = AppFooter.fit
    monkeypatch.setattr(
        AppFooter, "fit", lambda footer, width: recompose.append(fit(footer, width)) or recompose[-1]
    )
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=size) as s:
        await s.until(lambda: "step 0" in s.header(), what="the first screen")
        await s.pilot.pause(0.3)
        for name in ("network", "forward", "backward", "gradients", "weights"):
            panel = app.query_one(f"#{name}", Panel)
            # not first at a width guessed before the layout, nor for the grid of a smaller screen
            assert builds.count((name, panel.scrollable_content_region.width)) == 1, (name, builds)
            assert [b for b in builds if b[0] == name] == [(name, panel.scrollable_content_region.width)]
        # composed for the screen's width from the start: the first resize composes it no more
        assert len(recompose) >= 2 and not any(recompose[1:])
