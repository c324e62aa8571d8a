"""widgets/numbers.py's grid, which makes its lines from their pieces joined once (widgets/
lines.py), against the grid written with Text.append a piece and cut at its newlines (as the
panels drew it before, kept here as the reference): the same lines, each with the same string
and the same spans, for blocks of every kind a panel draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from rich.text import Text

from tui_backprop.tui.widgets.lines import split_lines
from tui_backprop.tui.widgets.numbers import (
    CELL,
    Block,
    _heat_lines,
    fit,
    fmt,
    sign_name,
    style,
    summary,
    window,
)
from tui_backprop.tui.widgets.numbers import (
    grid as grid_of_pieces,
)


def reference_grid(
    blocks: Sequence[Block],
    row_labels: Sequence[str],
    width: int,
    marked_row: int | None = None,
    row_click: Callable[[int], tuple] | None = None,
) -> Text:
    """The blocks side by side (stacked when they do not fit ``width``), one line a row."""
    n = blocks[0].values.shape[0]
    rows = window(n, marked_row)
    label_w = max((len(row_labels[r]) for r in rows), default=0) + 3
    heat_w = max(8, width - label_w - 3)
    rendered = [_reference_block_lines(b, rows, heat_w) for b in blocks]
    labels = _reference_label_lines(row_labels, rows, label_w, marked_row, row_click)
    total = label_w + sum(w for w, _ in rendered) + 3 * (len(rendered) - 1)
    groups = [rendered] if total <= width else [[r] for r in rendered]
    out = Text(no_wrap=True, overflow="ellipsis")
    for g, group in enumerate(groups):
        if g:
            out.append("\n")
        for line_no, label in enumerate(labels):
            if line_no:
                out.append("\n")
            out.append_text(label)
            for k, (w, lines) in enumerate(group):
                if k:
                    out.append(" │ ", style("dim"))
                out.append_text(lines[line_no] if line_no < len(lines) else Text(" " * w))
    for b in blocks:
        if b.heat:
            out.append("\n")
            out.append_text(fit(f"{b.title}:", summary(b.values), width))
    if len(rows) < n:
        out.append(f"\nrows {rows.start}–{rows.stop - 1} of {n}", style("dim"))
    return out


def _reference_label_lines(
    labels: Sequence[str], rows: range, width: int, marked: int | None, click: Callable[[int], tuple] | None
) -> list[Text]:
    lines = [Text(" " * width), Text(" " * width)]
    for r in rows:
        mark = r == marked
        meta = click(r) if click else None
        lines.append(
            Text.assemble(
                ("▸ " if mark else "  ", style("marked")),
                (labels[r].ljust(width - 2), style("marked" if mark else "dim", meta)),
            )
        )
    return lines


def _reference_block_lines(b: Block, rows: range, heat_width: int) -> tuple[int, list[Text]]:
    """(width, lines): the title line, the column header line, one line a row."""
    if b.heat:
        return _heat_lines(b, rows, heat_width)
    cols = b.values.shape[1]
    texts = [[fmt(float(b.values[r, c])) for c in range(cols)] for r in rows]
    # a column is as wide as its widest number or label, and one space more: never run together
    cw = [max(CELL, len(b.cols[c]) + 1, *(len(t[c]) + 1 for t in texts)) for c in range(cols)]
    if sum(cw) < len(b.title) + 1:
        cw[-1] += len(b.title) + 1 - sum(cw)
    width = sum(cw)
    title = Text(b.title[:width].ljust(width), style("bold"))
    header = Text()
    for c in range(cols):  # the padding stays plain: an underline marks the name, not the gap
        header.append(" " * (cw[c] - len(b.cols[c])))
        header.append(b.cols[c], style("related" if c in b.related_cols else "dim"))
    lines = [title, header]
    for r, shown in zip(rows, texts, strict=True):
        line = Text()
        for c in range(cols):
            x = float(b.values[r, c])
            meta = b.click(r, c) if b.click else None
            if (r, c) == b.first_bad:
                name = "first_bad"
            elif (r, c) == b.selected:
                name = "selected"
            elif (r, c) in b.answered:
                name = "right" if b.answered[r, c] else "wrong"
            elif not math.isfinite(x):
                name = "bad"
            else:
                name = sign_name(x)
            s = style(name, meta)
            if c in b.related_cols and name not in ("selected", "first_bad"):
                line.append(" " * (cw[c] - len(shown[c])))
                line.append(shown[c], s + style("related"))
            else:
                line.append(shown[c].rjust(cw[c]), s)
        lines.append(line)
    return width, lines


def _random_block(rng: np.random.Generator, title: str, rows: int, cols: int) -> Block:
    values = rng.normal(0, 1, (rows, cols)) * 10.0 ** rng.integers(-6, 6, (rows, cols))
    values[rng.random((rows, cols)) < 0.15] = 0.0
    if rng.random() < 0.4:
        values[rng.integers(rows), rng.integers(cols)] = rng.choice([np.nan, np.inf, -np.inf])
    names = [f"n{c}" if rng.random() < 0.8 else f"a\x07long name {c}\r" for c in range(cols)]
    pick = lambda: (int(rng.integers(rows)), int(rng.integers(cols)))  # noqa: E731
    return Block(
        title,
        values,
        names,
        selected=pick() if rng.random() < 0.5 else None,
        related_cols={int(c) for c in rng.integers(0, cols, rng.integers(0, 3))},
        first_bad=pick() if rng.random() < 0.3 else None,
        click=(lambda r, c: ("cell", r, c)) if rng.random() < 0.7 else None,
        answered={pick(): bool(rng.random() < 0.5) for _ in range(rng.integers(0, 3))},
    )


@pytest.mark.parametrize("seed", range(60))
def test_a_grid_made_of_pieces_is_the_grid_made_with_text_append(seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 14))  # more than MAX_ROWS: a window of rows
    blocks = [
        _random_block(rng, f"q{k}[1]", rows, int(rng.choice([1, 2, 3, 5, 16])))  # 16: a heat block
        for k in range(int(rng.integers(1, 4)))
    ]
    labels = [f"#{r}" if rng.random() < 0.9 else f"row\x0b{r}" for r in range(rows)]
    width = int(rng.choice([20, 40, 60, 100, 160]))  # narrow: the blocks are stacked
    marked = int(rng.integers(rows)) if rng.random() < 0.8 else None
    click = (lambda r: ("sample", r)) if rng.random() < 0.8 else None
    made = grid_of_pieces(blocks, labels, width, marked, click).texts()
    reference = split_lines(reference_grid(blocks, labels, width, marked, click))
    assert [line.plain for line in made] == [line.plain for line in reference]
    assert [line.spans for line in made] == [line.spans for line in reference]
