"""The confusion matrix as text: samples counted by true class (rows) and predicted class
(columns), counted by the engine (engine/accuracy.py confusion_matrix); this module lays it out.

    test set: 29 of 30 right (96.7%)
    true ↓  predicted →
                setos versi virgi
    setosa         10     0     0
    versicolor      0     9     1
    virginica       0     0    10

The diagonal (right) is bold, a count off it (a mistake) is in the warning style, a zero dim.
Names longer than their column are cut; the row names keep up to ROW_NAME characters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.text import Text

from ...common.percent import percent
from ...common.words import count
from ..widgets.numbers import style

ROW_NAME = 12  # at most this many characters of a class name before its row
MIN_COLUMN = 3  # a count's column is at least this wide, its name cut to fit


def confusion_lines(classes: int) -> int:
    """The lines one matrix takes: its heading, the axis line, the column names and a row a class."""
    return classes + 3


def confusion_width(counts: np.ndarray, names: Sequence[str]) -> int:
    """The columns the matrix of ``counts`` (K, K) takes at its widest (every name whole, up to
    ROW_NAME characters)."""
    row, col = _widths(counts, names)
    return row + len(names) * (col + 1)


def _widths(counts: np.ndarray, names: Sequence[str], width: int | None = None) -> tuple[int, int]:
    """The row names' width and each count column's width, within ``width`` columns if given."""
    digits = len(str(int(counts.max()))) if counts.size else 1
    row = min(max((len(n) for n in names), default=1), ROW_NAME)
    col = max(digits, MIN_COLUMN, min(max((len(n) for n in names), default=1), 6))
    if width is not None:  # narrow: the names give way first, the counts never
        k = len(names)
        col = max(digits, MIN_COLUMN, min(col, (width - min(row, 6)) // max(k, 1) - 1))
        row = max(min(row, width - k * (col + 1)), 1)
    return row, col


def confusion_text(counts: np.ndarray, names: Sequence[str], label: str, width: int) -> Text:
    """The matrix of ``counts`` (K, K), rows the true class, with ``label`` (``test set``) and
    its accuracy on the first line, laid out in ``width`` columns."""
    total, right = int(counts.sum()), int(np.trace(counts))
    row, col = _widths(counts, names, width)
    out = Text(no_wrap=True, overflow="crop")
    share = percent(right / total) if total else percent(None)
    said = f"{right} of {count(total, 'sample')} right ({share})"
    if len(label) + 2 + len(said) > width:  # narrow: test 27/30 90.0%
        label, said = label.split()[0], f"{right}/{total} {share}"
    out.append(f"{label}: ", style("dim"))
    out.append(said + "\n", style("bold"))
    out.append("true ↓  predicted →\n" if width >= 19 else "true↓ predicted→\n", style("dim"))
    out.append(" " * row)
    for name in names:
        out.append(" " + name[:col].rjust(col), style("dim"))
    for i, name in enumerate(names):
        out.append("\n" + name[:row].ljust(row), style("dim"))
        for j in range(len(names)):
            n = int(counts[i, j])
            look = "bold" if i == j else ("warn" if n else "dim")
            out.append(" ")
            out.append(str(n).rjust(col), style(look))
    return out
