"""Text built as its lines, from pieces joined once: what the number panels draw on every step.

A panel used to make one Rich Text with Text.append a piece (a type check, a scan for control
codes and a span each), join the Texts of its grids into it, each span moved along once more,
and cut the whole at its newlines again for the line API, every span made anew once more
(``split_lines``, below). ``Lines`` keeps each line's strings and spans as they come and
makes each line's Text once: the same strings and the same spans (tests/test_lines.py writes
random texts both ways, tests/test_grid_pieces.py a grid).
"""

from __future__ import annotations

from bisect import bisect_right

from rich.control import strip_control_codes
from rich.style import Style
from rich.text import Span, Text


class Line:
    """One line as its pieces: the strings in a list and each styled one's span beside them.
    ``add`` takes a string with no control codes in it (a number, spaces, a fixed label);
    ``name`` a string from a file, whose control codes go as Text.append drops them."""

    __slots__ = ("length", "parts", "spans")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0

    def add(self, text: str, style: Style | str | None = None) -> None:
        """Text.append(text, style), ``text`` clean."""
        if text:
            n = len(text)
            if style:
                self.spans.append(Span(self.length, self.length + n, style))
            self.parts.append(text)
            self.length += n

    def name(self, text: str, style: Style | str | None = None) -> None:
        """Text.append(text, style)."""
        self.add(strip_control_codes(text), style)

    def place(self, text: Text) -> None:
        """``text`` after this line, its spans already where they end up (made to start at
        this line's length): Text.append_text without moving each span along."""
        self.parts.append(text.plain)
        self.spans.extend(text.spans)
        self.length += len(text.plain)

    def whole(self, text: str, style: Style | str) -> None:
        """Text.append_text(Text(text, style=style)): the style spans the whole, even empty."""
        text = strip_control_codes(text)
        if style:
            self.spans.append(Span(self.length, self.length + len(text), style))
        self.parts.append(text)
        self.length += len(text)

    @classmethod
    def of(cls, text: Text) -> Line:
        """A Text of one line as a Line: its style over the whole (when it has any), then its
        spans, as Text.append_text puts them."""
        line = cls()
        line.parts.append(text.plain)
        line.length = len(line.parts[0])
        if text.style and line.length:
            line.spans.append(Span(0, line.length, text.style))
        line.spans.extend(text.spans)
        return line

    def extend(self, other: Line) -> None:
        """``other`` after this line, its spans moved along (Text.append_text)."""
        at = self.length
        if at:
            self.spans.extend([Span(a + at, b + at, style) for a, b, style in other.spans])
        else:
            self.spans.extend(other.spans)
        self.parts.extend(other.parts)
        self.length += other.length

    def text(self, **kwargs) -> Text:
        out = Text("".join(self.parts), **kwargs)
        out.spans = self.spans
        return out


class Lines:
    """A panel's text as its lines: ``append`` and ``append_text`` as a Text has them (a
    newline starts a line), ``extend`` for another Lines, ``texts`` the lines as Texts, which
    is what ``split_lines(text)`` gives of the Text those calls make."""

    __slots__ = ("done", "line")

    def __init__(self) -> None:
        self.done: list[Line] = []
        self.line = Line()  # the line being written

    @property
    def newlines(self) -> int:
        """``plain.count("\\n")`` of the Text."""
        return len(self.done)

    @property
    def empty(self) -> bool:
        return not self.done and not self.line.length

    @property
    def ends_line(self) -> bool:
        """Whether the text ends with a newline."""
        return bool(self.done) and not self.line.length

    @property
    def count(self) -> int:
        """``len(plain.splitlines())`` of the Text: its lines, a last empty one not counted."""
        return len(self.done) + (1 if self.line.length else 0)

    def newline(self) -> None:
        self.done.append(self.line)
        self.line = Line()

    def append(self, text: str | Text | Lines, style: Style | str | None = None) -> None:
        """Text.append: a string in ``style`` (each line's piece its own span), or a Text; or
        another Lines (``extend``)."""
        if isinstance(text, Text):
            self.append_text(text)
            return
        if isinstance(text, Lines):
            self.extend(text)
            return
        if "\n" not in text:
            self.line.name(text, style)
            return
        for k, piece in enumerate(text.split("\n")):
            if k:
                self.newline()
            self.line.name(piece, style)

    def append_text(self, text: Text) -> None:
        """Text.append_text: the lines of ``text``, the first continuing the line being written."""
        if "\n" not in text.plain:
            self.line.extend(Line.of(text))
            return
        for k, line in enumerate(split_lines(text)):
            if k:
                self.newline()
            self.line.extend(Line.of(line))

    def extend(self, other: Lines) -> None:
        """``other`` after this text: its first line continues the line being written."""
        first, *rest = [*other.done, other.line]
        self.line.extend(first)
        for line in rest:
            self.newline()
            self.line = line

    def texts(self) -> list[Text]:
        return [line.text() for line in (*self.done, self.line)]

    def text(self, **kwargs) -> Text:
        """The whole as one Text (its lines joined by newlines)."""
        out = Line()
        for k, line in enumerate((*self.done, self.line)):
            if k:
                out.add("\n")
            out.extend(line)
        return out.text(**kwargs)


def split_lines(text: Text) -> list[Text]:
    """``text.split("\\n", allow_blank=True)``, made directly: the same lines, each span cut
    to the lines it covers (none on a newline, none empty). Rich's general division costs as
    much as making a text of thousands of spans (a heatmap's cells); this, half as much."""
    plain = text.plain
    starts = [0]
    newline = plain.find("\n")
    while newline >= 0:
        starts.append(newline + 1)
        newline = plain.find("\n", newline + 1)
    if len(starts) == 1:
        return [text.copy()]
    ends = [start - 1 for start in starts[1:]] + [len(plain)]
    spans: list[list[Span]] = [[] for _ in starts]
    last = len(starts)
    for span in text.spans:
        k = max(bisect_right(starts, span.start) - 1, 0)
        while k < last and starts[k] < span.end:
            a, b = max(span.start, starts[k]), min(span.end, ends[k])
            if a < b:
                spans[k].append(Span(a - starts[k], b - starts[k], span.style))
            k += 1
    lines = []
    for start, end, line_spans in zip(starts, ends, spans, strict=True):
        line = Text(plain[start:end], style=text.style, justify=text.justify, overflow=text.overflow)
        line.spans = line_spans
        lines.append(line)
    return lines
