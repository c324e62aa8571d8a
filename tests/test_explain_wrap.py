"""The explain panel's text (panels/explain_text.py to_text): a line that fits and ends in no
space is taken as it is, the others wrapped by textwrap, as Lines. Against the way it was made
before, every line through textwrap into one Text cut at its newlines: the same lines."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from rich.text import Text

from tui_backprop.tui.panels.explain_text import PROSE, to_text
from tui_backprop.tui.widgets.lines import split_lines
from tui_backprop.tui.widgets.numbers import style

WORDS = ["w_ji", "=", "-0.8300", "δ", "·", "Σ_k", "(the", "chain", "rule)", "∂L/∂w", "a\x07b", "x1→h1"]
SPACES = [" ", " ", " ", "  ", "\t", "\u2009", "\xa0", "\u3000"]
NAMES = [None, "dim", "bold", "marked", PROSE]


def reference(lines, width: int) -> list[Text]:
    out = Text(no_wrap=True)
    for n, (s, name) in enumerate(lines):
        indent = "" if name == PROSE else " " * min(len(s) - len(s.lstrip()) + 4, 12)
        parts = textwrap.wrap(s, max(width, 20), subsequent_indent=indent, break_on_hyphens=False) or [""]
        for m, part in enumerate(parts):
            if n or m:
                out.append("\n")
            out.append(part, style(name) if name and name != PROSE else "")
    return split_lines(out)


@pytest.mark.parametrize("seed", range(100))
def test_the_explain_text_is_the_text_textwrap_made(seed):
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(rng.integers(1, 12)):
        pieces = [SPACES[rng.integers(len(SPACES))] * int(rng.integers(0, 2))]  # an indent, or none
        for _ in range(rng.integers(0, 14)):
            pieces += [WORDS[rng.integers(len(WORDS))], SPACES[rng.integers(len(SPACES))]]
        if rng.random() < 0.5 and len(pieces) > 1:
            pieces.pop()  # most lines end in a word
        lines.append(("".join(pieces), NAMES[rng.integers(len(NAMES))]))
    width = int(rng.choice([10, 20, 30, 46, 80]))
    made, cut = to_text(lines, width).texts(), reference(lines, width)
    assert [line.plain for line in made] == [line.plain for line in cut]
    assert [line.spans for line in made] == [line.spans for line in cut]
