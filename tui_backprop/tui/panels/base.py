"""Panel: a titled, scrollable box that draws one StepRecord and the selection as text.

Subclasses implement ``build(width) -> Text`` from ``self.record`` (None before the
first step), ``self.selection``, ``self.net``, ``self.reveal`` (what of the record is computed
when a step is taken phase by phase; engine.phases.FULL otherwise) and ``self.notation``
(the vocabulary of its title, notation.NOTATIONS). A panel never calls the Trainer: the
app hands it records with ``show()``. A click on a number posts ``Panel.Selected`` with
the selection that number stands for; the app decides what to do with it.

Panels use Textual's line API: ``build`` runs once per record, and only the lines in view
are turned into strips, so a long panel costs no more to draw than a short one. While another
widget is zoomed to the screen, a panel is not seen and builds nothing: it keeps the record and
is drawn when the zoom ends (``catch_up``). The number panels go further on a new step
(``IN_VIEW_FIRST``): their build stops once the lines in view are made, and the rest is built
after the frame, or as soon as a line of it is to be drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...engine import StepRecord
from ...engine.phases import FULL, Reveal
from ...scenario.notation import DEFAULT, vocabulary
from ..control.selection import Selection
from ..netinfo import NetInfo
from ..widgets.lines import Lines, split_lines


def no_answers(record: StepRecord | None, quantity: str, layer: int | None) -> Mapping[tuple[int, int], bool]:
    return {}


class Panel(ScrollView, can_focus=False):
    ALLOW_MAXIMIZE = True
    TITLE = ""
    CROP = False  # True: lines longer than the panel are cut, never scrolled to
    # True: on a new record, ``build`` may stop once ``enough`` says the view is full; the rest
    # is built after the frame (``_complete``), or at once when a line of it is to be drawn (a
    # scroll). Only panels whose build asks ``enough``.
    IN_VIEW_FIRST = False

    class Selected(Message):
        """A click asked to select ``target``: ("weight", l, j, i), ("node", l, j) or ("sample", k)."""

        def __init__(self, target: tuple) -> None:
            super().__init__()
            self.target = target

    def __init__(self, net: NetInfo, key: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.net = net
        self.record: StepRecord | None = None
        self.selection = Selection()
        self.reveal = FULL
        self.notation = DEFAULT
        self.key = key
        self.border_title = f"{key} {self.TITLE}".strip()
        self.focus_line: int | None = None  # a line of the content to keep in view
        self.stale = False  # a record was shown while the panel was zoomed out, and not drawn
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._drawn_size = (0, 0)
        self._hidden = False  # out of the layout (Textual's Hide): show() only records what to draw
        self._stale = False  # what was shown while hidden is not drawn yet
        self._base_style: Style | None = None
        self._limit: int | None = None  # lines a build in progress may stop after (None: all)
        self._partial = False  # self._lines holds the lines in view only: the rest comes after
        self._redraws = 0  # redraws so far: a completion scheduled by an older one is dropped
        self._view: tuple[int, int, int] | None = None  # (scroll x, scroll y, width) of a frame
        # the record on screen follows the last one at the same selection: a scrollbar shown
        # stays, so that a step whose text is a line or two shorter lays out no screen
        self._steady = False
        # the cells of an array of the record's step that the learner answered: {(row, col): right}
        # (the app sets it to its Checked's cells: tui/control/quiz.py)
        self.answered: Callable[[StepRecord | None, str, int | None], Mapping[tuple[int, int], bool]]
        self.answered = no_answers

    def show(self, record: StepRecord | None, selection: Selection, reveal: Reveal = FULL) -> None:
        new_step = record is not self.record
        self._steady = (
            new_step and None not in (record, self.record) and selection == self.selection and reveal is FULL
        )
        self.record, self.selection, self.reveal = record, selection, reveal
        if self.zoomed_out():
            self.stale = True  # drawn when the zoom ends
            return
        # a new step taken whole: the lines in view first, the rest after the frame (a phase or
        # a selection may move the view to a line further down: those are built whole at once)
        self.redraw(in_view_first=self.IN_VIEW_FIRST and new_step and reveal is FULL)

    def zoomed_out(self) -> bool:
        """Another widget fills the screen (a zoom, 1..9): this panel is not seen."""
        if not self.is_attached:
            return False
        maximized = self.screen.maximized
        return maximized is not None and maximized is not self

    def on_mount(self) -> None:
        self.watch(self.screen, "maximized", self.catch_up, init=False)

    def catch_up(self) -> None:
        """A zoom ended or moved: draw the record shown while the panel was out of sight, if
        there was one and the panel is now seen."""
        if self.stale and not self.zoomed_out():
            self.redraw()

    def set_notation(self, notation: str) -> None:
        """Title the panel in ``notation`` (a panel with no title there keeps TITLE)."""
        self.notation = notation
        title = vocabulary(notation, self.net.depth).titles().get(self.id or "", self.TITLE)
        self.border_title = f"{self.key} {title}".strip()

    def redraw(self, in_view_first: bool = False) -> None:
        """Build the lines and draw those that changed; ``in_view_first``: a build may stop once
        the lines in view are made (``enough``), and the rest are built after the frame."""
        self._redraws += 1
        if self._hidden or not self.size:  # another panel zoomed, not in this layout, or not laid
            self._stale = True  # out yet (the first screen): drawn when shown, at its own size
            return
        self.stale = False
        width = self.scrollable_content_region.width or self.size.width or 80
        same_size = self._drawn_size == (width, self.size.height) and not self._stale
        self._drawn_size = (width, self.size.height)
        old = self._lines
        if in_view_first:
            self._limit = round(self.scroll_y) + self.scrollable_content_region.height + 1
        try:
            self._build(width)
        finally:
            self._limit = None
        # content that fits needs no horizontal scrolling: its virtual width stays 1, so that
        # the screen's layout does not change from step to step
        content_width = 0 if self.CROP else max((line.cell_len for line in self._lines), default=0)
        virtual = Size(content_width if content_width > width else 1, len(self._lines))
        steady = self._steady and same_size and self.show_vertical_scrollbar
        if steady and virtual.height <= (view_height := self.scrollable_content_region.height):
            # the steps of a run wrap their sums to a line or two more or fewer: the scrollbar
            # coming and going would lay the whole screen out again (Textual's scrollbars are
            # laid out), and flicker; it stays over a blank line until the selection changes
            virtual = Size(virtual.width, view_height + 1)
        if self._partial:  # the size of the whole is known once the rest is built: the last till then
            last = self.virtual_size
            virtual = Size(max(virtual.width, last.width), max(virtual.height, last.height))
            self.call_after_refresh(self._complete, self._redraws)  # the step's frame first
        scrolled = False
        if self.focus_line is not None:
            top, height = round(self.scroll_y), self.scrollable_content_region.height
            if not top <= self.focus_line < top + height:
                self.scroll_to(y=max(0, self.focus_line - height // 2), animate=False)
                scrolled = True
        if virtual != self.virtual_size:
            self._resize_content(virtual)
        if same_size and not scrolled:
            self._refresh_changed(old)
        else:
            self._strips.clear()
            self.refresh()

    def _resize_content(self, virtual: Size) -> None:
        """Make ``virtual`` the size of the content without laying the screen out: a panel's
        own size never follows its content (app.tcss gives each its height and width), so only
        its scrollbars change, and they are laid out again only when one comes or goes. A step
        that adds or removes a line (the explain panel's wrapped sums) then arranges no widget
        of the screen again. A panel sized by its content is laid out as Textual does."""
        height, width = self.styles.height, self.styles.width
        if height is None or height.is_auto or width is None or width.is_auto:
            self.virtual_size = virtual
            return
        self.set_reactive(Panel.virtual_size, virtual)
        self._scroll_update(virtual)

    def _refresh_changed(self, old: list[Text]) -> None:
        """Only the lines that differ from ``old`` are drawn again: a step changes the numbers,
        not the labels, the blank lines or a layer that the phase has not reached."""
        changed = [i for i, line in enumerate(self._lines) if i >= len(old) or line != old[i]]
        changed += range(len(self._lines), len(old))  # lines that went (none when the size is the same)
        for i in changed:
            self._strips.pop(i, None)
        # only the lines in view are drawn again: a line out of view is drawn when it is
        # scrolled to (its strip is gone). Textual's refresh_lines does not clip to the view, and
        # the compositor draws every line of the box around what is dirty: lines built after
        # the frame (the rest of an in-view-first build) made a frame of their own
        top = int(self.scroll_y)
        bottom = math.ceil(self.scroll_y) + self.scrollable_content_region.height
        for start, stop in _runs(changed):
            start, stop = max(start, top), min(stop, bottom)
            if start < stop:
                self.refresh_lines(start, stop - start)

    def _complete(self, redraw: int) -> None:
        """After the frame of a build that stopped at the view, if no other came since: build
        the whole, which draws nothing new in view (the same record) but the lines below it and
        the scrollbars."""
        if redraw == self._redraws:  # (a scroll may have built the lines: not the scrollbars)
            self.redraw()

    def enough(self, out: Lines) -> bool:
        """Whether a build may stop at ``out``: it holds every line in view of a new step. The
        panel then shows ``out`` at once and builds the whole after the frame."""
        if self._limit is None or out.newlines < self._limit:
            return False
        self._partial = True
        return True

    def _build(self, width: int) -> None:
        self.focus_line = None
        self._partial = False
        self._lines = self.build_lines(width)
        self._stale = False

    def build(self, width: int) -> Text | Lines:
        raise NotImplementedError

    def build_lines(self, width: int) -> list[Text]:
        """The panel's lines: ``build``'s text split at its newlines, or its Lines as they are
        (widgets/lines.py). A panel that makes its lines one by one may return them as they
        are: splitting a text of thousands of spans costs as much as making it."""
        built = self.build(width)
        return built.texts() if isinstance(built, Lines) else split_lines(built)

    @property
    def text(self) -> str:
        """Everything the panel shows, as plain text (for tests and the curious); a hidden
        panel's, as it would be shown."""
        # hidden (fastapp's Hide), out of sight behind a zoom, or built as far as the view only
        if self._stale or self.stale or self._partial:
            self._build(self._drawn_size[0] or self.scrollable_content_region.width or self.size.width or 80)
        return "\n".join(line.plain for line in self._lines)

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale and not self._hidden:  # the first screen: built at the size it is drawn at
            self.redraw()
        # what each line asks for, once a frame: Textual works the size out on every look
        self._view = (*self.scroll_offset, self.size.width)
        try:
            return super().render_lines(crop)
        finally:
            self._view = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y, width = self._view or (*self.scroll_offset, self.size.width)
        index, base = scroll_y + y, self.rich_style
        if index >= len(self._lines) and self._partial:  # scrolled before the rest was built
            self._build(self._drawn_size[0])
        if index >= len(self._lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            line = self._lines[index]
            strip = self._strips[index] = Strip(line_segments(line, base), line.cell_len)
        shown = strip.crop_extend(scroll_x, scroll_x + width, base)
        if self._view is not None:  # a frame's line (render_lines): what is drawn
            return shown
        # asked for alone: Textual's text selection finds the character under the mouse by the
        # offsets in the line's styles. They cost a new style for each segment, and nothing a
        # frame draws reads them: only the lines asked for alone carry them
        return shown.apply_offsets(scroll_x, index)

    @property
    def rich_style(self) -> Style:
        # asked for on every line drawn and costly to work out: kept until the styles change
        if self._base_style is None:
            self._base_style = super().rich_style
        return self._base_style

    def notify_style_update(self) -> None:
        self._base_style = None
        self._strips.clear()
        super().notify_style_update()

    def on_hide(self) -> None:
        self._hidden = True

    def on_resize(self, event: events.Resize) -> None:
        self._hidden = False  # only a widget in the layout is resized (before it is told Show)
        if (
            self._stale
            or (self.scrollable_content_region.width or self.size.width, self.size.height) != self._drawn_size
        ):
            self.redraw()

    def on_click(self, event: events.Click) -> None:
        target = event.style.meta.get("select")
        if target:
            event.stop()
            self.post_message(self.Selected(tuple(target)))


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted line indices as runs ``[start, stop)`` of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def line_segments(line: Text, base: Style) -> list[Segment]:
    """The segments of a line whose spans follow one another (as ``Text.append`` makes them),
    on the panel's own style: a fast path past Rich's general renderer."""
    plain, pos, out = line.plain, 0, []
    if line.style:
        base = base + (Style.parse(line.style) if isinstance(line.style, str) else line.style)
    for span in line.spans:
        if span.start < pos:  # overlapping spans: let Rich work it out
            copy = line.copy()
            copy.stylize_before(base)
            return list(copy.render(_console()))
        if span.start > pos:
            out.append(Segment(plain[pos : span.start], base))
        st = Style.parse(span.style) if isinstance(span.style, str) else span.style
        out.append(Segment(plain[span.start : span.end], base + st))
        pos = span.end
    if pos < len(plain):
        out.append(Segment(plain[pos:], base))
    return out


def _console():
    from textual._context import active_app

    return active_app.get().console
