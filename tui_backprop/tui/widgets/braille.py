"""A character canvas for line drawings: every cell holds 2x4 braille dots, so a line can
run at any angle at twice the horizontal and four times the vertical resolution.

Cells may also hold plain text (labels), which wins over dots. ``lines()`` gives Rich Text.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

# bit of the braille dot at (dy, dx) inside a cell, dy 0..3 top to bottom, dx 0..1
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


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

    def text(self, x: int, y: int, s: str, style: Style | None = None) -> None:
        """Write ``s`` at cell (x, y), over any dots."""
        for k, ch in enumerate(s):
            if 0 <= x + k < self.width and 0 <= y < self.height:
                self._text[(x + k, y)] = (ch, style)

    def lines(self) -> list[Text]:
        """One Text a row; neighbouring cells of the same style share one span (drawing
        cost grows with the number of spans)."""
        out = []
        for cy in range(self.height):
            line = Text()
            run: list[str] = []
            run_style: Style | None = None
            for cx in range(self.width):
                if (cx, cy) in self._text:
                    ch, st = self._text[(cx, cy)]
                elif self._bits[cy][cx]:
                    ch, st = chr(0x2800 + self._bits[cy][cx]), self._dot_style[cy][cx]
                else:
                    ch, st = " ", None
                if st is not run_style and run:
                    line.append("".join(run), run_style)
                    run = []
                run.append(ch)
                run_style = st
            if run:
                line.append("".join(run), run_style)
            out.append(line)
        return out
