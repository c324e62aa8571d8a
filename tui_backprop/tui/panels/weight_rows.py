"""The rows of the weights panel: each weight before → after, its direction and its change Δ.

    ▸ x1→h1  -5.4593 → -5.4614  ▼ -0.0020

The columns are as wide as what the rows of a layer show (the longest label, the widest
number of each column), never a fixed guess, so that Δ ends inside the panel whether it
prints as -0.0020 or -7.4e-04. Rows that would still be wider than the panel (long node
names, as iris's ``sepal_length→h1``) put the label on a line of its own and the numbers,
indented, under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..widgets.lines import Lines
from ..widgets.numbers import fmt, style

INDENT = "    "  # the numbers of a row whose label has a line of its own


@dataclass(frozen=True)
class WeightRow:
    label: str  # x1→h1, b→h1
    meta: tuple  # ("weight", l, j, i): what a click on the row selects
    before: float
    after: float
    change: float | None  # after − before; None while the update is not computed yet
    chosen: bool  # the selected weight
    first: bool  # where the first non-finite value appeared
    answered: bool | None = None  # the learner's value after the update: right, wrong, or not given

    def texts(self) -> tuple[str, str, str]:
        """before, after and Δ as printed (after and Δ empty while the update is not computed)."""
        if self.change is None:
            return fmt(self.before), "", ""
        return fmt(self.before), fmt(self.after), fmt(self.change) if self.change else ""


@dataclass(frozen=True)
class Columns:
    label: int
    before: int
    after: int
    change: int
    split: bool  # each label on a line of its own

    @classmethod
    def of(cls, rows: Sequence[WeightRow], texts: Sequence[tuple[str, str, str]], width: int) -> Columns:
        """The widths of ``rows`` (their numbers as printed: ``texts``), and whether a row of
        them fits in ``width`` columns."""
        label = max(len(r.label) for r in rows)
        before, after, change = (max(map(len, column)) for column in zip(*texts, strict=True))
        updated = any(r.change is not None for r in rows)
        numbers = before + (len(" → ") + after + len("  ▲ ") + change if updated else 0)
        return cls(label, before, after, change, split=len("▸ ") + label + 2 + numbers > width)


def write_rows(out: Lines, rows: Sequence[WeightRow], width: int) -> int | None:
    """Append ``rows`` to ``out``, one line each (two when they do not fit ``width``); return
    the number of lines written before the chosen row's first, if a row is chosen."""
    if not rows:
        return None
    texts = [row.texts() for row in rows]  # each number formatted once, for widths and lines
    cols, chosen_at, lines = Columns.of(rows, texts, width), None, 0
    for row, text in zip(rows, texts, strict=True):
        if row.chosen:
            chosen_at = lines
        lines += _row(out, row, text, cols)
    return chosen_at


def _row(out: Lines, row: WeightRow, text: tuple[str, str, str], cols: Columns) -> int:
    """One row, its numbers printed as ``text``; the number of lines it took."""
    before, after, delta = text
    row_style = "first_bad" if row.first else ("selected" if row.chosen else None)
    out.append("▸ " if row.chosen else "  ", style("marked"))
    if cols.split:
        out.append(row.label, style(row_style or "dim", row.meta))
        out.append("\n" + INDENT)
    else:
        out.append(row.label.ljust(cols.label) + "  ", style(row_style or "dim", row.meta))
    out.append(before.rjust(cols.before), style(row_style or "dim", row.meta))
    change = row.change
    if change is not None:
        name = "bad" if not math.isfinite(row.after) else ("changed" if change else "dim")
        if row.answered is not None:
            name = "right" if row.answered else "wrong"
        out.append(" → ", style("dim"))
        out.append(after.rjust(cols.after), style(row_style or name, row.meta))
        arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
        out.append(f"  {arrow} ", style("pos" if change > 0 else ("neg" if change < 0 else "dim")))
        out.append(delta.rjust(cols.change) if delta else "", style("pos" if change > 0 else "neg"))
    out.append("\n")
    return 2 if cols.split else 1
