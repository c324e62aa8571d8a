"""One node's activation over the input plane (engine/planes.py) as character cells.

In colour a cell is the upper half block ``▀``, its top pixel in front and its bottom pixel
behind, so it holds two pixels, as in the decision boundary; a value runs from the low end of
its layer's scale in the palette's first class colour (orange by default) through dark at the
middle to the high end in the second (blue), as the boundary draws one output. The colour-blind
palette's two class colours (orange and blue) stay apart for every eye.

Under NO_COLOR, where the app is drawn in greys that cannot tell the two ends apart, a cell holds
one pixel, drawn as a shade character by where its value lies on the scale: LEVELS, from ``·``
at the low end to ``█`` at the high end (``✖`` a value that is not finite).

    rows_of(cells)              # pixel rows a map of ``cells`` character rows needs
    map_cells(values, scale)    # values (pixel rows, cols) -> rows of (character, style)
    map_text(cells)             # those rows as Text lines
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text

from ..widgets.palette import no_colour
from .boundary import BASE, cell_style, class_colours

Array = np.ndarray
Cell = tuple[str, Style | None]

LEVELS = "·░▒▓█"  # NO_COLOR: the low end of the scale to the high end
BAD = "✖"  # NO_COLOR: a value that is not finite
DEPTH = 0.8  # how far from the dark middle the ends of the scale are drawn (1: the full class colour)
STEPS = 8  # shades between the middle of the scale and each end: neighbouring cells of one shade
# share a span (the cost of drawing a line grows with its spans), and the eye sees no finer step


def rows_of(cells: int) -> int:
    """Pixel rows of a map ``cells`` characters tall: two a cell in colour, one under NO_COLOR."""
    return cells if no_colour() else 2 * cells


def position(values: Array, scale: tuple[float, float]) -> Array:
    """Where each value lies on ``scale``: -1 at its low end, 0 at the middle, +1 at its high
    end (clipped to that range; nan stays nan)."""
    lo, hi = scale
    with np.errstate(all="ignore"):  # a diverged network's values: inf and nan, or near the float limit
        return np.clip(2 * (values - lo) / (hi - lo) - 1, -1.0, 1.0)


def colours(values: Array, scale: tuple[float, float]) -> Array:
    """(rows, cols, 3) colours of ``values`` (rows, cols): the first class colour below the
    middle of the scale, the second above it, deeper towards the ends in STEPS shades (the
    nearest); a value that is not finite is the dark middle."""
    s = np.rint(np.nan_to_num(position(values, scale)) * STEPS)[..., None] / STEPS
    classes = class_colours()
    hue = np.where(s > 0, classes[1], classes[0])
    rgb = BASE + (hue - BASE) * DEPTH * np.abs(s)
    return np.clip(np.rint(rgb / 4) * 4, 0, 255).astype(int)


def map_cells(values: Array, scale: tuple[float, float], meta: tuple | None = None) -> list[list[Cell]]:
    """``values`` (pixel rows, cols) as rows of cells: two pixel rows a cell in colour, one a
    cell under NO_COLOR; ``meta``: the selection a click on the map makes."""
    extra = Style(meta={"select": meta}) if meta is not None else None
    if no_colour():
        with np.errstate(invalid="ignore"):
            level = np.floor((position(values, scale) + 1) / 2 * len(LEVELS)).clip(0, len(LEVELS) - 1)
        chars = np.where(np.isfinite(values), np.array(list(LEVELS))[np.nan_to_num(level).astype(int)], BAD)
        return [[(ch, extra) for ch in row] for row in chars.tolist()]
    rgb = colours(values, scale)
    rows = len(rgb) // 2
    # each cell's two colours as one number, and a style made once for each pair that occurs
    packed = (rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).astype(np.int64)
    pairs = packed[0 : 2 * rows : 2] << 24 | packed[1 : 2 * rows : 2]
    kinds, which = np.unique(pairs, return_inverse=True)
    styles: list[Cell] = []
    for pair in kinds.tolist():
        top, bottom = _rgb_of(pair >> 24), _rgb_of(pair & 0xFFFFFF)
        st = cell_style(top, bottom)
        styles.append(("▀", st + extra if extra is not None else st))
    return [[styles[k] for k in row] for row in which.reshape(rows, -1).tolist()]


def _rgb_of(code: int) -> tuple[int, int, int]:
    return code >> 16, (code >> 8) & 0xFF, code & 0xFF


def map_text(cells: list[list[Cell]]) -> list[Text]:
    """Rows of cells as Text lines, neighbouring cells of one style in one span."""
    lines = []
    for row in cells:
        line = Text(no_wrap=True)
        run: list[str] = []
        style: Style | None = None
        for ch, st in row:
            if run and st is not style:
                line.append("".join(run), style)
                run = []
            run.append(ch)
            style = st
        if run:
            line.append("".join(run), style)
        lines.append(line)
    return lines
