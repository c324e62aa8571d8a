"""The heatmap's pooling and shading, made for a whole matrix at once (tui/widgets/numbers.py
pool and shade_lines), against a cell-by-cell reference written out here: each group's entry
of largest magnitude, and each cell's shade and colour from its value alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_backprop.tui.widgets.numbers import SHADES, _starts, heatmap, pool, shade_line, shade_lines, style


def reference_pool(v: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Each group's entry of largest magnitude (the larger one on a tie of +x and -x), nan when
    the group holds a value that is not finite, by a Python loop over the groups."""
    row_ends = [*rows[1:], v.shape[0]]
    col_ends = [*cols[1:], v.shape[1]]
    out = np.empty((len(rows), len(cols)))
    for g, (r0, r1) in enumerate(zip(rows, row_ends, strict=True)):
        for h, (c0, c1) in enumerate(zip(cols, col_ends, strict=True)):
            group = [float(x) for x in v[r0:r1, c0:c1].ravel()]
            if not all(math.isfinite(x) for x in group):
                out[g, h] = math.nan
                continue
            hi, lo = max(group), min(group)
            out[g, h] = hi if abs(hi) >= abs(lo) else lo
    return out


def matrix(seed: int, shape: tuple[int, int], holes: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 3)
    v[rng.random(shape) < 0.15] = 0.0
    if holes:
        v[rng.random(shape) < 0.05] = np.nan
        v[rng.random(shape) < 0.03] = -np.inf
    return v


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("holes", [False, True])
def test_pool_shows_each_groups_entry_of_largest_magnitude(seed, holes):
    rng = np.random.default_rng(100 + seed)
    shape = (int(rng.integers(1, 300)), int(rng.integers(1, 800)))
    v = matrix(seed, shape, holes)
    pooled, rows, cols = pool(v, 16, 52)
    assert len(rows) == min(shape[0], 16) and len(cols) == min(shape[1], 52)
    assert rows[0] == 0 and cols[0] == 0 and np.all(np.diff(rows) > 0) and np.all(np.diff(cols) > 0)
    np.testing.assert_array_equal(pooled, reference_pool(v, rows, cols))


@pytest.mark.parametrize("holes", [False, True])
@pytest.mark.parametrize(
    "shape, rows, cols",
    [
        ((256, 784), 16, 52),  # W[1] of blobs_784: 16 row groups of one size, as one reduction
        ((8, 256), 8, 52),  # a grid's window of rows, its columns pooled: the rows left whole
        ((48, 100), 16, 30),  # groups of 3 rows
        ((50, 100), 16, 30),  # groups of 3 and 4 rows: a slice a group
        ((5, 3), 16, 52),  # nothing pooled
    ],
)
def test_pool_of_rows_left_whole_in_equal_groups_and_in_unequal_ones(shape, rows, cols, holes):
    v = matrix(7, shape, holes)
    pooled, row_starts, col_starts = pool(v, rows, cols)
    np.testing.assert_array_equal(pooled, reference_pool(v, row_starts, col_starts))


def test_group_starts_are_the_rounded_linspace():
    for n in range(1, 1500):
        for k in (1, 2, 3, 7, 10, 16, 52, 64, 113, 256):
            want = np.unique(np.linspace(0, n, min(n, k) + 1)[:-1].round().astype(int))
            np.testing.assert_array_equal(_starts(n, k), want)


def cell_shade(x: float, scale: float) -> tuple[str, str]:
    """The character and the colour name of one cell, from its value alone."""
    if not math.isfinite(x):
        return "✖", "bad"
    if x == 0:
        return SHADES[0], "zero"
    level = min(max(math.ceil(abs(x) / scale * 4), 1), 4) if scale > 0 else 0
    return SHADES[level], "pos" if x > 0 else "neg"


def per_cell(line) -> list[tuple[str, object]]:
    """(character, style) of every cell of a Text: its spans spread over its characters."""
    styles: list[object] = [None] * len(line.plain)
    for span in line.spans:
        for k in range(span.start, span.end):
            styles[k] = span.style
    return list(zip(line.plain, styles, strict=True))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("cell", [1, 2])
def test_shade_lines_give_each_cell_its_shade_and_colour(seed, cell, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    v = matrix(seed, (7, 23), holes=seed % 2 == 1)
    scale = float(np.nanmax(np.abs(np.where(np.isfinite(v), v, np.nan))))
    selected = (seed % 7, (5 * seed) % 23)
    lines = shade_lines(v, scale, selected, cell)
    assert len(lines) == 7
    for r, line in enumerate(lines):
        expected = []
        for c, x in enumerate(v[r]):
            char, name = cell_shade(float(x), scale)
            if (r, c) == selected:
                char, name = "●", "selected"
            chosen = style(name)
            expected += [(char, chosen if chosen else None)] * cell
        assert per_cell(line) == expected
        # one span a run of one colour: no two neighbouring spans share a style
        pairs = zip(line.spans, line.spans[1:], strict=False)
        assert all(a.end == b.start and a.style != b.style for a, b in pairs)
        # a row alone is shaded as it is in the matrix
        alone = shade_line(v[r], scale, selected[1] if r == selected[0] else None, cell)
        assert alone == line and alone.spans == line.spans


def test_shade_lines_of_an_empty_row_and_of_an_all_zero_scale(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert [line.plain for line in shade_lines(np.zeros((3, 0)), 1.0)] == ["", "", ""]
    flat = shade_lines(np.zeros((1, 4)), 0.0)[0]
    assert flat.plain == SHADES[0] * 4


def test_a_heatmap_shows_the_pooled_rows_under_their_first_index_and_the_selection_in_its_group():
    v = matrix(3, (256, 784), holes=False)
    text = heatmap("W[1]", v, 60, selected=(40, 700)).text()
    lines = text.plain.split("\n")
    assert lines[0] == "W[1]  256×784  (pooled to 16×52)"
    pooled, rows, cols = pool(v, 16, 52)
    scale = float(np.abs(v).max())
    for g, line in enumerate(lines[1:17]):
        assert line.startswith(f"{rows[g]:>6} ")
        shades = line[7:]
        group_row = int(np.searchsorted(rows, 40, side="right") - 1)
        group_col = int(np.searchsorted(cols, 700, side="right") - 1)
        for h, x in enumerate(pooled[g]):
            want = "●" if (g, h) == (group_row, group_col) else cell_shade(float(x), scale)[0]
            assert shades[h] == want
