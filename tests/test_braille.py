"""The braille canvas (tui/widgets/braille.py): many lines drawn at once are the dots, and the
styles, of the same lines drawn one by one, whatever their ends, thickness and overlaps."""

from __future__ import annotations

import numpy as np
import pytest
from rich.style import Style

from tui_backprop.tui.widgets.braille import Canvas

STYLES = [Style(color="red"), Style(color="blue"), Style(bold=True), Style(color="green", dim=True)]


def cells(canvas: Canvas) -> list[list[tuple[str, Style | None]]]:
    """Each cell's character and style, as the canvas's lines show them."""
    out = []
    for line in canvas.lines():
        styles: list[Style | None] = [None] * len(line.plain)
        for span in line.spans:
            styles[span.start : span.end] = [span.style] * (span.end - span.start)  # type: ignore[assignment]
        out.append(list(zip(line.plain, styles, strict=True)))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_lines_drawn_at_once_are_the_lines_drawn_one_by_one(seed):
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(1, 30)), int(rng.integers(1, 15))
    lines = []
    for _ in range(int(rng.integers(0, 40))):
        # ends inside, on and past the edges (the canvas leaves out what falls outside it)
        ends = tuple(int(v) for v in rng.integers(-6, [2 * width + 6, 4 * height + 6] * 2))
        lines.append((ends, STYLES[int(rng.integers(len(STYLES)))], int(rng.integers(0, 5))))
    one_by_one, at_once = Canvas(width, height), Canvas(width, height)
    for canvas in (one_by_one, at_once):
        canvas.dot(1, 1, STYLES[0])  # what was drawn before the lines stays under them
        canvas.text(0, height - 1, "ab")
    for ends, style, thickness in lines:
        one_by_one.line(*ends, style, thickness)
    at_once.lines_in_order(lines)
    assert cells(at_once) == cells(one_by_one)
    assert at_once._bits == one_by_one._bits and at_once._dot_style == one_by_one._dot_style


def test_a_line_covers_each_step_between_its_ends_rounding_halves_to_even():
    canvas = Canvas(10, 2)
    canvas.lines_in_order([((0, 0, 4, 1), STYLES[0], 1)])  # y = round(t / 4): 0 0 0 1 1 (0.5 to 0)
    # dots (x, y): (0, 0) (1, 0) (2, 0) in cells 0 and 1 of row 0, then (3, 1) (4, 1)
    bits = {(0, 0): 0x01 | 0x08, (1, 0): 0x01 | 0x10, (2, 0): 0x02}
    assert {(x, y): b for y, row in enumerate(canvas._bits) for x, b in enumerate(row) if b} == bits
