"""A panel's text split into its lines (panels/base.py split_lines) is what Rich's own split
gives, spans and all, whatever the text: blank lines, a trailing newline, spans that cross a
newline or are empty (which split_lines leaves to Rich)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.style import Style
from rich.text import Span, Text

from tui_backprop.tui.widgets.lines import split_lines

STYLES = st.sampled_from(["bold", "red on blue", Style(italic=True), Style(color="green")])


@st.composite
def texts(draw) -> Text:
    plain = draw(st.text(alphabet="ab \n─", max_size=40))
    text = Text(
        plain, style=draw(st.sampled_from(["", "dim"])), justify=draw(st.sampled_from([None, "left"]))
    )
    if draw(st.booleans()):  # spans made the way Text.append makes them: in order, within a line
        pos = 0
        for part in plain.split("\n"):
            cut = draw(st.integers(0, len(part)))
            if cut:
                text.spans.append(Span(pos, pos + cut, draw(STYLES)))
            pos += len(part) + 1
    else:  # anything: across newlines, empty, out of order
        for _ in range(draw(st.integers(0, 6))):
            a, b = sorted(draw(st.integers(0, len(plain))) for _ in range(2))
            text.spans.append(Span(a, b, draw(STYLES)))
    return text


def _described(lines: list[Text]) -> list[tuple]:
    return [(line.plain, line.spans, str(line.style), line.justify, line.overflow) for line in lines]


@given(texts())
def test_split_lines_gives_the_lines_and_spans_of_richs_split(text):
    assert _described(split_lines(text)) == _described(list(text.split("\n", allow_blank=True)))


def test_a_heatmap_row_of_many_cells_keeps_each_cell_in_its_line():
    text = Text()
    for row in range(3):
        for col in range(50):
            text.append("▓", "red" if (row + col) % 2 else "blue")
        text.append("\n")
    lines = split_lines(text)
    assert [line.plain for line in lines] == ["▓" * 50] * 3 + [""]
    assert [len(line.spans) for line in lines] == [50, 50, 50, 0]
    assert lines[1].spans[0] == Span(0, 1, "red") and lines[2].spans[-1] == Span(49, 50, "red")
