"""What a step key spares a panel (panels/base.py): a change in its number of lines lays the
screen out only when a scrollbar comes or goes (and a step at the same selection keeps a
scrollbar shown), and the number panels of a big network build
the lines in view first and the rest after the frame. Here, that what is drawn stays right:
the scrollbars, the lines below the view once scrolled to, and the text of the whole."""

from __future__ import annotations

import pytest
from app_harness import calls_of, drive, step_of
from rich.text import Text
from textual.app import App, ComposeResult

from tui_backprop import load_scenario
from tui_backprop.engine import Trainer
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.selection import Selection
from tui_backprop.tui.netinfo import NetInfo
from tui_backprop.tui.panels.base import Panel
from tui_backprop.tui.panels.grids import BackwardPanel, ForwardPanel, GradientsPanel, WeightsPanel


class Counting(Panel):
    """A panel of ``lines`` numbered lines."""

    lines = 30

    def build(self, width: int) -> Text:
        return Text("\n".join(f"line {k}" for k in range(self.lines)))


class _OnePanel(App[None]):
    CSS = "Counting { height: 12; padding: 0 1; scrollbar-size: 1 1; scrollbar-gutter: stable; }"

    def compose(self) -> ComposeResult:
        scenario = load_scenario("xor")
        trainer = Trainer(scenario)
        yield Counting(NetInfo.build(scenario, trainer.initial_W, trainer.initial_b), "1")


async def test_a_panel_whose_lines_change_in_number_lays_the_screen_out_only_for_its_scrollbar():
    app = _OnePanel()
    async with app.run_test(size=(40, 16)) as pilot:
        panel = app.query_one(Counting)
        panel.redraw()
        await pilot.pause()
        height = panel.scrollable_content_region.height
        assert panel.show_vertical_scrollbar and panel.virtual_size.height == 30
        layouts = calls_of(app.screen, "_refresh_layout")
        for lines in (31, 25, 40, 29):  # more lines than the view each time: the scrollbar stays
            panel.lines = lines
            panel.redraw()
            await pilot.pause()
            assert layouts == [], lines
            assert panel.virtual_size.height == lines
            assert panel.vertical_scrollbar.window_virtual_size == lines
            assert panel.max_scroll_y == lines - height
        panel.scroll_end(animate=False)
        await pilot.pause()
        assert round(panel.scroll_y) == 29 - height
        panel.lines = 20  # fewer lines, still more than the view: the view moves up with the end
        panel.redraw()
        await pilot.pause()
        assert layouts == [] and round(panel.scroll_y) == 20 - height
        assert panel.render_line(height - 1).text.strip() == "line 19"
        panel.lines = 5  # fewer lines than the view: the scrollbar goes, which the layout does
        panel.redraw()
        await pilot.pause()
        assert layouts and not panel.show_vertical_scrollbar and panel.scroll_y == 0
        panel.lines = 30  # and comes back
        panel.redraw()
        await pilot.pause()
        assert panel.show_vertical_scrollbar and panel.virtual_size.height == 30


async def test_a_scrollbar_stays_while_steps_at_one_selection_wrap_to_fewer_lines():
    # blobs_784's explain panel at 160x45 wraps its sums to 28, 26, 27, 29, 26 lines in a view of 26
    app = _OnePanel()
    async with app.run_test(size=(40, 16)) as pilot:
        panel = app.query_one(Counting)
        height = panel.scrollable_content_region.height
        selection = Selection()
        panel.lines = height + 2
        panel.show(object(), selection)  # the first record: there is no scrollbar to keep
        await pilot.pause()
        assert panel.show_vertical_scrollbar
        layouts = calls_of(app.screen, "_refresh_layout")
        for lines in (height - 3, height + 1, height, height - 4):
            panel.lines = lines
            panel.show(object(), selection)  # a step at the same selection: the bar stays
            await pilot.pause()
            assert layouts == [], lines
            assert panel.show_vertical_scrollbar and panel.max_scroll_y == max(lines - height, 1)
        panel.scroll_end(animate=False)  # by the blank line below the last
        await pilot.pause()
        shown = [panel.render_line(y).text.strip() for y in range(height)]
        assert shown == [f"line {k}" for k in range(1, height - 4)] + [""] * 5
        panel.show(object(), Selection(mode="node"))  # another selection: the bar goes
        await pilot.pause()
        assert not panel.show_vertical_scrollbar and panel.max_scroll_y == 0


PANELS = ("forward", "backward", "gradients", "weights")


def scroll_as_asked(panel: Panel, scroll: str) -> None:
    panel.scroll_to(y=panel.max_scroll_y if scroll == "end" else panel.max_scroll_y // 2, animate=False)


@pytest.mark.parametrize("scroll", ["end", "middle"])
async def test_the_number_panels_of_a_big_network_draw_the_same_whole_as_a_full_build(scroll, monkeypatch):
    built: dict[str, list[int]] = {name: [] for name in PANELS}
    build_lines = Panel.build_lines

    def counted(panel: Panel, width: int):
        lines = build_lines(panel, width)
        if panel.id in built:
            built[panel.id].append(len(lines))
        return lines

    monkeypatch.setattr(Panel, "build_lines", counted)
    lazy, whole = BackpropApp(load_scenario("blobs_784")), BackpropApp(load_scenario("blobs_784"))
    async with drive(lazy) as a:
        for _ in range(3):
            await a.press("space")  # space: a step, the lines in view first
            await a.until(lambda: not any(a.app.query_one(f"#{n}", Panel)._partial for n in PANELS))
        assert step_of(a.header()) == 3
        full = {name: a.app.query_one(f"#{name}", Panel) for name in PANELS}
        for name, panel in full.items():
            # a build stopped at the view, then the whole after the frame
            assert any(n < panel.virtual_size.height for n in built[name]), (name, built[name])
            assert panel.virtual_size.height == len(panel.text.split("\n"))
        for panel in full.values():
            scroll_as_asked(panel, scroll)
        await a.pilot.pause()
        lazy_screen, lazy_texts = a.screen(), a.panels()
    for kind in (ForwardPanel, BackwardPanel, GradientsPanel, WeightsPanel):
        monkeypatch.setattr(kind, "IN_VIEW_FIRST", False)
    async with drive(whole) as w:
        await w.press("space", "space", "space")  # the same steps, each panel built whole
        for panel in (whole.query_one(f"#{name}", Panel) for name in PANELS):
            scroll_as_asked(panel, scroll)
        await w.pilot.pause()
        assert step_of(w.header()) == 3
        assert w.panels() == lazy_texts
        assert w.screen() == lazy_screen


async def test_a_frames_lines_carry_no_selection_offsets_and_the_mouse_still_finds_its_character():
    """A frame's lines go without Textual's text-selection offsets (a style each segment); the
    line the selection asks for alone has them, so a drag in a panel selects from the
    character under the mouse as before."""
    app = _OnePanel()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(Counting)
        panel.scroll_to(y=4, animate=False)
        await pilot.pause()

        def offsets(strip) -> list:
            return [s.style.meta.get("offset") for s in strip if s.style is not None and s.style._meta]

        drawn = panel.render_lines(panel.size.region)
        assert drawn and not any(offsets(strip) for strip in drawn)
        alone = panel.render_line(2)  # line 6 of the content, in view at row 2
        assert "line 6" in alone.text and offsets(alone)[0] == (0, 6)
        widget, offset = app.screen.get_widget_and_offset_at(
            panel.content_region.x + 3, panel.content_region.y + 2
        )
        assert widget is panel and offset is not None and (offset.x, offset.y) == (3, 6)
