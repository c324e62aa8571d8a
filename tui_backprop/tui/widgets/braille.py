"""A character canvas for line drawings: every cell holds 2x4 braille dots, so a line can
run at any angle at twice the horizontal and four times the vertical resolution.

Cells may also hold plain text (labels), which wins over dots. ``lines()`` gives Rich Text.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from rich.style import Style
from rich.text import Text

from .lines import Line

# bit of the braille dot at (dy, dx) inside a cell, dy 0..3 top to bottom, dx 0..1
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BIT_OF = np.array(_BITS, dtype=np.int64)


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._bits = [[0] * width for _ in range(height)]
        self._dot_style: list[list[Style | None]] = [[None] * width for _ in range(height)]
        self._text: dict[tuple[int, int], tuple[str, Style | None]] = {}

    def dot(self, x: int, y: int, style: Style) -> None:
        """Set the dot at sub-cell position (x, y); the cell takes the last style drawn."""
        cx, cy = x >> 1, y >> 2
        if 0 <= cx < self.width and 0 <= cy < self.height:
            self._bits[cy][cx] |= _BITS[y & 3][x & 1]
            self._dot_style[cy][cx] = style

    def line(self, x0: int, y0: int, x1: int, y1: int, style: Style, thickness: int = 1) -> None:
        """A straight line in sub-cell coordinates, ``thickness`` dots high (1 to 3)."""
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        offsets = (0, 1, -1)[: max(1, min(3, thickness))]
        for t in range(n + 1):
            x = x0 + round((x1 - x0) * t / n)
            y = y0 + round((y1 - y0) * t / n)
            for dy in offsets:
                self.dot(x, y + dy, style)

    def lines_in_order(self, lines: Sequence[tuple[tuple[int, int, int, int], Style, int]]) -> None:
        """``line(*ends, style, thickness)`` for each of ``lines`` in turn, the dots of all of them
        worked out at once (a diagram of 784-256-10 has some 220 lines and 15,000 dots): the
        same dots, each cell in the style of the last line through it."""
        if not lines:
            return
        ends = np.array([e for e, _, _ in lines], dtype=np.int64).reshape(-1, 4)
        x0, y0, x1, y1 = ends.T
        n = np.maximum(np.maximum(np.abs(x1 - x0), np.abs(y1 - y0)), 1)
        line = np.repeat(np.arange(len(lines)), n + 1)  # the line of each point
        first = np.cumsum(n + 1) - (n + 1)
        t = np.arange(len(line)) - first[line]  # 0..n along each line
        # x0 + round((x1 - x0) * t / n), rounding half to even as Python's round does
        x = x0[line] + np.rint((x1 - x0)[line] * t / n[line]).astype(np.int64)
        y = y0[line] + np.rint((y1 - y0)[line] * t / n[line]).astype(np.int64)
        thick = np.clip(np.array([k for _, _, k in lines]), 1, 3)
        xs, ys, owners = [], [], []
        for k, dy in enumerate((0, 1, -1)):  # the offsets of line(): thickness 1, 2, 3
            on = thick[line] > k
            xs.append(x[on])
            ys.append(y[on] + dy)
            owners.append(line[on])
        px, py, owner = np.concatenate(xs), np.concatenate(ys), np.concatenate(owners)
        cx, cy = px >> 1, py >> 2
        inside = (cx >= 0) & (cx < self.width) & (cy >= 0) & (cy < self.height)
        px, py, cx, cy, owner = px[inside], py[inside], cx[inside], cy[inside], owner[inside]
        cell = cy * self.width + cx
        bits = np.zeros(self.width * self.height, dtype=np.int64)
        np.bitwise_or.at(bits, cell, _BIT_OF[py & 3, px & 1])
        last = np.full(self.width * self.height, -1, dtype=np.int64)
        np.maximum.at(last, cell, owner)
        styles = [st for _, st, _ in lines]
        for c in np.flatnonzero(last >= 0).tolist():
            row, col = divmod(c, self.width)
            self._bits[row][col] |= int(bits[c])
            self._dot_style[row][col] = styles[int(last[c])]

    def text(self, x: int, y: int, s: str, style: Style | None = None) -> None:
        """Write ``s`` at cell (x, y), over any dots."""
        for k, ch in enumerate(s):
            if 0 <= x + k < self.width and 0 <= y < self.height:
                self._text[(x + k, y)] = (ch, style)

    def copy(self) -> Canvas:
        """A canvas with the same dots and text, drawn on apart from this one."""
        out = copy.copy(self)
        out._bits = [row.copy() for row in self._bits]
        out._dot_style = [row.copy() for row in self._dot_style]
        out._text = self._text.copy()
        return out

    def pieces(self) -> list[Line]:
        """One Line a row (widgets/lines.py); neighbouring cells of the same style share one
        span (drawing cost grows with the number of spans)."""
        out = []
        text, bits, dot_style = self._text, self._bits, self._dot_style
        for cy in range(self.height):
            line = Line()
            run: list[str] = []
            run_style: Style | None = None
            row, row_style = bits[cy], dot_style[cy]
            for cx in range(self.width):
                cell = text.get((cx, cy))
                if cell is not None:
                    ch, st = cell
                elif row[cx]:
                    ch, st = chr(0x2800 + row[cx]), row_style[cx]
                else:
                    ch, st = " ", None
                if st is not run_style and run:
                    line.name("".join(run), run_style)
                    run = []
                run.append(ch)
                run_style = st
            if run:
                line.name("".join(run), run_style)
            out.append(line)
        return out

    def lines(self) -> list[Text]:
        """``pieces`` as Rich Text, one a row."""
        return [line.text() for line in self.pieces()]
