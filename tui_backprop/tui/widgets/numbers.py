"""Matrices as Rich Text: a grid of numbers with sign colours and highlights, or a heatmap.

Shared by every panel. Nothing here computes the maths of a step: the numbers come from
StepRecords and are only formatted, coloured and, for big matrices, pooled for display.

    grid     rows (e.g. the samples of a batch, a window of them when there are many) by
             columns of one or more blocks (z[1] | a[1]), side by side when they fit the
             width, stacked otherwise; a block with more than BIG columns is drawn as one
             shade character a column group; written as Lines (widgets/lines.py), a
             string and its spans a line, for the number panels to take as they are
    heatmap  a whole matrix pooled to the space available (each character is the entry of
             largest magnitude of its group), with its summary figures (norm, min, max)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rich.style import Style
from rich.text import Span, Text

from ..netinfo import BIG
from .lines import Line, Lines
from .palette import NEG_SHADES, Palette, current, no_colour
from .stats import sparkline, stats

Array = np.ndarray

MAX_ROWS = 8  # rows of a grid shown at once; a window follows the marked row
HEAT_ROWS = 16  # rows of a heatmap; more are pooled
CELL = 9  # characters a number takes in a grid, its separating space included

SHADES = "·░▒▓█"  # heatmap: magnitude relative to the largest |value| of the matrix


def style(name: str, meta: tuple | None = None) -> Style:
    """The style ``name`` of the palette in use (widgets/palette.py), or ``name`` parsed as a Rich
    style; ``meta``: the selection a click on it makes."""
    return _style(current(), name, meta)


@lru_cache(maxsize=256)
def _style(palette: Palette, name: str, meta: tuple | None) -> Style:
    s = Style.parse(palette.styles[name]) if name in palette.styles else Style.parse(name)
    return s + Style(meta={"select": meta}) if meta is not None else s


# significant digits of a number shown "exactly" (the neuron view's weights, the explain panel's
# before and after); None: every digit, the shortest repr that reads back to the same float64.
# The snapshot tests set 10: the last digits of a computed float differ between processors
# (numpy chooses its SIMD loops and BLAS kernels per CPU), so a picture of every digit would hold
# on one machine only.
EXACT_DIGITS: int | None = None


def exact(x: float, signed: bool = False) -> str:
    """Every digit of a float64 (its shortest repr), or EXACT_DIGITS of them; ``signed``: with
    a + before a positive number."""
    x = float(x)
    text = repr(x) if EXACT_DIGITS is None else f"{x:.{EXACT_DIGITS}g}"
    return ("+" + text) if signed and x >= 0 else text


def fmt(x: float) -> str:
    """A number in 8 characters (9 past e±99), 4 decimals where it matters: +0.1234, -12.345, +1.2e-05."""
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("+inf" if x > 0 else "-inf")
    a = abs(x)
    if a == 0:
        return "0"
    if 1e-3 <= a < 10:
        return f"{x:+.4f}"
    if 10 <= a < 100:
        return f"{x:+.3f}"
    if 100 <= a < 1e4:
        return f"{x:+.1f}"
    return f"{x:+.1e}"


def fmt_short(x: float) -> str:
    """At most 6 characters (7 for |x| < 1e-99), for the diagram: +0.531, -12.3, +1e05, +1e-05."""
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("+inf" if x > 0 else "-inf")
    a = abs(x)
    if a == 0:
        return "0"
    if 1e-3 <= a < 10:
        return f"{x:+.3f}"
    if 10 <= a < 1000:
        return f"{x:+.1f}"
    if 1000 <= a < 1e5:
        return f"{x:+.0f}"
    return f"{x:+.0e}".replace("e+", "e")  # +1e05, +3e170


def sign_name(x: float) -> str:
    if not math.isfinite(x):
        return "bad"
    return "pos" if x > 0 else ("neg" if x < 0 else "zero")


def summary(values: Array) -> str:
    """``norm 1.234  min -0.5 max +0.7  hist ▕▁▃█▅▂▏`` over the finite entries, and how many are
    not; the histogram has one bar a bin of equal width from min to max (tui/widgets/stats.py)."""
    st = stats(values)
    if st.finite == 0:
        text = "no finite values"
    else:
        text = f"norm {fmt(st.norm).lstrip('+')}  min {fmt(st.min)} max {fmt(st.max)}"
        text += f"  hist ▕{sparkline(st.counts)}▏"
    return text + (f"  {st.nonfinite} non-finite" if st.nonfinite else "")


def fit(label: str, text: str, width: int, text_style: str = "dim") -> Text:
    """``label text`` on one line, or on two when that is wider than ``width``; a text still
    too wide is broken where it has two spaces (between a summary's figures)."""
    out = Text()
    indent = 0
    if label:
        out.append(label, style("bold"))
        one_line = len(label) + 1 + len(text) <= width
        out.append(" " if one_line else "\n  ")
        indent = len(label) + 1 if one_line else 2
    lines: list[str] = []
    for group in text.split("  "):
        if lines and len(lines[-1]) + 2 + len(group) <= width - indent:
            lines[-1] += "  " + group
        else:
            lines.append(group)
    out.append("\n  ".join(lines), style(text_style))
    return out


@dataclass(frozen=True)
class Block:
    """One matrix of a grid, shape (rows, cols), with what to highlight in it."""

    title: str
    values: Array
    cols: Sequence[str]
    selected: tuple[int, int] | None = None
    related_cols: Collection[int] = ()
    first_bad: tuple[int, int] | None = None
    click: Callable[[int, int], tuple] | None = None  # the selection a click on a cell makes
    answered: Mapping[tuple[int, int], bool] = field(default_factory=dict)  # cells answered: right?

    @property
    def heat(self) -> bool:
        return self.values.shape[1] > BIG


def window(n: int, centre: int | None, size: int = MAX_ROWS) -> range:
    """At most ``size`` consecutive indices of range(n), around ``centre``."""
    if n <= size:
        return range(n)
    start = min(max((centre or 0) - size // 2, 0), n - size)
    return range(start, start + size)


def grid(
    blocks: Sequence[Block],
    row_labels: Sequence[str],
    width: int,
    marked_row: int | None = None,
    row_click: Callable[[int], tuple] | None = None,
) -> Lines:
    """The blocks side by side (stacked when they do not fit ``width``), one line a row."""
    n = blocks[0].values.shape[0]
    rows = window(n, marked_row)
    label_w = max((len(row_labels[r]) for r in rows), default=0) + 3
    heat_w = max(8, width - label_w - 3)
    rendered = [_block_lines(b, rows, heat_w) for b in blocks]
    labels = _label_lines(row_labels, rows, label_w, marked_row, row_click)
    total = label_w + sum(w for w, _ in rendered) + 3 * (len(rendered) - 1)
    groups = [rendered] if total <= width else [[r] for r in rendered]
    out, rule = Lines(), style("dim")
    for g, group in enumerate(groups):
        if g:
            out.newline()
        for line_no, label in enumerate(labels):
            if line_no:
                out.newline()
            line = out.line
            line.extend(label)
            for k, (w, lines) in enumerate(group):
                if k:
                    line.add(" │ ", rule)
                if line_no < len(lines):
                    line.extend(lines[line_no])
                else:
                    line.add(" " * w)
    for b in blocks:
        if b.heat:
            out.append("\n")
            out.append_text(fit(f"{b.title}:", summary(b.values), width))
    if len(rows) < n:
        out.append(f"\nrows {rows.start}–{rows.stop - 1} of {n}", style("dim"))
    return out


def _label_lines(
    labels: Sequence[str], rows: range, width: int, marked: int | None, click: Callable[[int], tuple] | None
) -> list[Line]:
    blank = Line()
    blank.add(" " * width)
    lines = [blank, blank]
    for r in rows:
        mark = r == marked
        meta = click(r) if click else None
        line = Line()
        line.add("▸ " if mark else "  ", style("marked"))
        line.name(labels[r].ljust(width - 2), style("marked" if mark else "dim", meta))
        lines.append(line)
    return lines


def _block_lines(b: Block, rows: range, heat_width: int) -> tuple[int, list[Line]]:
    """(width, lines): the title line, the column header line, one line a row."""
    if b.heat:
        width, heat = _heat_lines(b, rows, heat_width)
        return width, [Line.of(text) for text in heat]
    cols = b.values.shape[1]
    values = b.values[rows.start : rows.stop].tolist()  # Python floats, as float() of each
    texts = [[fmt(x) for x in row] for row in values]
    # a column is as wide as its widest number or label, and one space more: never run together
    cw = [max(CELL, len(b.cols[c]) + 1, *(len(t[c]) + 1 for t in texts)) for c in range(cols)]
    if sum(cw) < len(b.title) + 1:
        cw[-1] += len(b.title) + 1 - sum(cw)
    width = sum(cw)
    title = Line()
    title.whole(b.title[:width].ljust(width), style("bold"))
    header = Line()
    for c in range(cols):  # the padding stays plain: an underline marks the name, not the gap
        header.add(" " * (cw[c] - len(b.cols[c])))
        header.name(b.cols[c], style("related" if c in b.related_cols else "dim"))
    lines = [title, header]
    related = style("related")
    for r, shown, row in zip(rows, texts, values, strict=True):
        line = Line()
        for c in range(cols):
            x = row[c]
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
                line.add(" " * (cw[c] - len(shown[c])))
                line.add(shown[c], s + related)
            else:
                line.add(shown[c].rjust(cw[c]), s)
        lines.append(line)
    return width, lines


def _heat_lines(b: Block, rows: range, max_width: int) -> tuple[int, list[Text]]:
    values = b.values[rows.start : rows.stop]
    pooled, _, col_starts = pool(values, values.shape[0], max_width)
    width = max(pooled.shape[1], 8)
    scale = largest(b.values)
    sel = None
    if b.selected is not None and b.selected[0] in rows:
        sel = (b.selected[0] - rows.start, _group_of(col_starts, b.selected[1]))
    title = Text(b.title[:width].ljust(width), style("bold"))
    header = Text(f"0…{b.values.shape[1] - 1}"[:width].ljust(width), style("dim"))
    lines = [title, header]
    for line in shade_lines(pooled, scale, sel):
        line.pad_right(width - pooled.shape[1])
        lines.append(line)
    return width, lines


def heatmap(
    title: str, values: Array, width: int, max_rows: int = HEAT_ROWS, selected: tuple[int, int] | None = None
) -> Lines:
    """A whole matrix pooled to at most ``max_rows`` x ``width`` characters, then its summary.
    Two characters a column when they fit (closer to square cells). Made as its lines: each
    row's shades are placed after its index with their spans where they end up, not joined
    into one text that the panel cuts at its newlines again."""
    v = np.atleast_2d(values)
    room = max(8, width - 8)
    pooled, row_starts, col_starts = pool(v, max_rows, room)
    cell = 2 if 2 * pooled.shape[1] <= room else 1
    scale = largest(v)
    sel = (
        None if selected is None else (_group_of(row_starts, selected[0]), _group_of(col_starts, selected[1]))
    )
    out = Lines()
    out.line.add(f"{title}  {v.shape[0]}×{v.shape[1]}", style("bold"))
    if pooled.shape != v.shape:
        out.line.add(f"  (pooled to {pooled.shape[0]}×{pooled.shape[1]})", style("dim"))
    dim = style("dim")
    starts = row_starts.tolist()
    at = max(6, len(str(starts[-1]))) + 1  # the row indices, right-aligned in one column
    for start, line in zip(starts, shade_lines(pooled, scale, sel, cell, at), strict=True):
        out.newline()
        out.line.add(f"{start:>{at - 1}} ", dim)
        out.line.place(line)  # its spans made to start at ``at``
    out.newline()
    out.append_text(fit("", summary(v), width))
    return out


def pool(values: Array, rows: int, cols: int) -> tuple[Array, Array, Array]:
    """Group rows and columns into at most (rows, cols) groups; each group shows its entry of
    largest magnitude (nan when any entry of the group is non-finite). Returns the pooled
    matrix and the first row and column index of each group."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    rs = _starts(v.shape[0], rows)
    cs = _starts(v.shape[1], cols)
    if len(rs) == v.shape[0] and len(cs) == v.shape[1]:
        return v, rs, cs
    finite = np.isfinite(v)
    clean = bool(finite.all())
    safe = v if clean else np.where(finite, v, 0.0)
    hi = np.maximum.reduceat(_rows_reduced(np.max, safe, rs), cs, axis=1)
    lo = np.minimum.reduceat(_rows_reduced(np.min, safe, rs), cs, axis=1)
    out = np.where(np.abs(hi) >= np.abs(lo), hi, lo)
    if not clean:
        bad = np.logical_or.reduceat(_rows_reduced(np.any, ~finite, rs), cs, axis=1)
        out[bad] = np.nan
    return out, rs, cs


def _rows_reduced(reduce: Callable[..., Array], v: Array, starts: Array) -> Array:
    """``reduce`` over each group of rows that begins at ``starts``, shape (len(starts), cols):
    what ``ufunc.reduceat(v, starts, axis=0)`` gives, which numpy does ten times as slowly down
    the rows of a 256×784 matrix (a heatmap of W[1] is pooled on every step). Rows left whole
    (a grid's window of rows, its columns pooled) are ``v``; groups of one size (256 rows in 16)
    are one reduction of ``v`` seen as (groups, size, cols); others a slice a group."""
    n, k = v.shape[0], len(starts)
    if k == n:
        return v
    size = n // k
    if size * k == n and starts[-1] == n - size:  # starts are round(i * n / k): all i * size
        return reduce(v.reshape(k, size, v.shape[1]), axis=1)
    stops = [*starts[1:].tolist(), n]
    return np.stack([reduce(v[a:b], axis=0) for a, b in zip(starts.tolist(), stops, strict=True)])


def _starts(n: int, k: int) -> Array:
    """The first index of each of ``min(n, k)`` groups of about equal size of ``range(n)``: the
    rounded ``np.linspace(0, n, k + 1)[:-1]``, whose i-th entry is ``i * (n / k)`` in float64,
    worked out in Python (a few microseconds where numpy's linspace and unique took 30)."""
    k = max(1, min(n, k))
    step = n / k
    starts = [round(i * step) for i in range(k)]  # half to even, as numpy's round
    return np.array(sorted(set(starts)), dtype=int)


def _group_of(starts: Array, index: int) -> int:
    return int(np.searchsorted(starts, index, side="right") - 1)


def largest(values: Array) -> float:
    """The largest finite |value| (0 when there is none)."""
    st = stats(values)
    return max(abs(st.min), abs(st.max)) if st.finite else 0.0


_CHARS = np.array([*SHADES, "✖"])
_NEG_CHARS = np.array([*NEG_SHADES, "✖"])  # under NO_COLOR, where colour cannot tell the sign
_RUN_STYLES = ("neg", "zero", "pos", "bad", "selected")  # codes 0..4 of a heatmap cell


def shade_line(row: Array, scale: float, selected: int | None, cell: int = 1) -> Text:
    """``cell`` characters a value; runs of one colour share a span (fewer spans draw faster)."""
    return shade_lines(np.atleast_2d(row), scale, None if selected is None else (0, selected), cell)[0]


def shade_lines(
    matrix: Array, scale: float, selected: tuple[int, int] | None = None, cell: int = 1, at: int = 0
) -> list[Text]:
    """``shade_line`` of each row of ``matrix`` (``selected``: the (row, column) highlighted).
    The shades, the colour codes and where the runs of one colour end are worked out for the
    whole matrix at once, and each line is made from its string and its spans directly: a
    heatmap costs a few numpy calls, not a few a row, and no Text.append a run. ``at``: the
    spans start that many cells further on, for lines that go after a label of that width."""
    x = np.asarray(matrix, dtype=float)
    n_rows, n = x.shape
    if n == 0:
        return [Text() for _ in range(n_rows)]
    finite = np.isfinite(x)
    safe = np.where(finite, x, 0.0)
    if scale > 0:
        level = np.clip(np.ceil(np.abs(safe) / scale * 4), 1, 4).astype(int)
        level[safe == 0] = 0
    else:
        level = np.zeros(x.shape, dtype=int)
    level[~finite] = len(SHADES)  # ✖
    code = np.sign(safe).astype(int) + 1  # neg 0, zero 1, pos 2
    code[~finite] = 3
    sel_row, sel_col = selected if selected is not None else (-1, -1)
    if not (0 <= sel_row < n_rows and 0 <= sel_col < n):
        sel_row = -1
    else:
        code[sel_row, sel_col] = 4
    glyphs = np.where(code == 0, _NEG_CHARS[level], _CHARS[level]) if no_colour() else _CHARS[level]
    if cell > 1:
        glyphs = np.repeat(glyphs, cell, axis=1)
    rows_cut, cols_cut = np.nonzero(code[:, 1:] != code[:, :-1])  # a run ends after (row, col)
    cuts_per_row = np.bincount(rows_cut, minlength=n_rows).tolist()
    cuts = (cols_cut + 1).tolist()
    codes = code.tolist()
    styles = [style(name) for name in _RUN_STYLES]
    lines, k = [], 0
    for r in range(n_rows):
        chars = "".join(glyphs[r].tolist())
        if r == sel_row:  # a dot on the highlight: a full block hides it
            chars = chars[: sel_col * cell] + "●" * cell + chars[(sel_col + 1) * cell :]
        bounds = [0, *cuts[k : k + cuts_per_row[r]], n]
        k += cuts_per_row[r]
        line = Text(chars)
        line.spans = [
            Span(at + a * cell, at + b * cell, st)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            if (st := styles[codes[r][a]])
        ]
        lines.append(line)
    return lines
