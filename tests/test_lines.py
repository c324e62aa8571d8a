"""widgets/lines.py: a Lines written as a Text is written (append, append_text, and extend for
another Lines) gives the lines that the Text, cut at its newlines (panels/base.py split_lines),
gives: the same strings and the same spans, line by line. What the number panels ask of their
text as they write it (is it empty, does it end a line, how many lines) is the Text's answer too.
"""

from __future__ import annotations

import numpy as np
import pytest
from rich.style import Style
from rich.text import Span, Text

from tui_backprop.tui.widgets.lines import Lines, split_lines

STYLES = [None, Style(bold=True), Style(color="red"), Style(meta={"select": ("sample", 1)}), Style()]
PIECES = ["", "a", "12.5", " ", "\n", "x\ny", "\n\n", "ab\n", "\ncd", "na\x07me", "t\rab", "é→▸"]


def _text(rng: np.random.Generator) -> Text:
    """A Text of one or more lines, with a style of its own or not, and spans of its pieces."""
    out = Text(style=STYLES[rng.integers(len(STYLES))] or "")
    for _ in range(rng.integers(0, 5)):
        out.append(PIECES[rng.integers(len(PIECES))], STYLES[rng.integers(len(STYLES))])
    return out


def _write(rng: np.random.Generator, text: Text, lines: Lines, depth: int = 0) -> None:
    for _ in range(rng.integers(1, 12)):
        op = rng.integers(4 if depth < 2 else 3)
        if op == 0:
            piece, style = PIECES[rng.integers(len(PIECES))], STYLES[rng.integers(len(STYLES))]
            text.append(piece, style)
            lines.append(piece, style)
        elif op == 1:
            other = _text(rng)
            text.append_text(other)
            lines.append_text(other.copy())
        elif op == 2:  # a Text appended whole, as Text.append(Text) takes it
            other = _text(rng)
            text.append(other)
            lines.append(other.copy())
        else:  # another Lines, written the same way (a grid in a panel)
            inner_text, inner = Text(), Lines()
            _write(rng, inner_text, inner, depth + 1)
            text.append_text(inner_text)
            lines.extend(inner)
        plain = text.plain
        assert lines.empty == (not plain)
        assert lines.ends_line == plain.endswith("\n")
        assert lines.newlines == plain.count("\n")
        assert lines.count == len(plain.splitlines())


@pytest.mark.parametrize("seed", range(200))
def test_lines_written_as_a_text_are_the_texts_lines(seed):
    rng = np.random.default_rng(seed)
    text, lines = Text(), Lines()
    _write(rng, text, lines)
    made, cut = lines.texts(), split_lines(text)
    assert [line.plain for line in made] == [line.plain for line in cut]
    assert [line.spans for line in made] == [line.spans for line in cut]
    whole = lines.text()
    assert whole.plain == text.plain and all(isinstance(s, Span) for s in whole.spans)
