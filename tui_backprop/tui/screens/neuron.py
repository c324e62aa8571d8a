"""The neuron view (key w): every incoming weight of one neuron, W[l][j, :] and b[l][j].

A layer of 784 inputs is far too wide for the weights panel, which pools it into a heatmap.
This screen shows the one row of the selected neuron in full: as a grid heatmap (a square
when the count is a square number, 28 x 28 for 784 inputs, so an image's weights look like
the image), its gradient row beside it, their summary figures, then one line an input with
the weight after the step at full precision, its gradient and its change. Left and right
step to the neighbouring neuron of the layer; the arrows and page keys scroll.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from ...engine import StepRecord
from ..control.selection import Selection
from ..netinfo import NetInfo
from ..panels.base import Panel
from ..widgets.numbers import exact, fit, fmt, largest, shade_line, style, summary
from ..widgets.plain import plain

Array = np.ndarray


def grid_shape(m: int) -> tuple[int, int]:
    """(rows, columns) to lay ``m`` values out in reading order: a square when m is a square
    number, otherwise about as many columns as rows, the last row shorter."""
    side = math.isqrt(m)
    if side * side == m:
        return side, side
    cols = math.ceil(math.sqrt(m))
    return math.ceil(m / cols), cols


def row_heatmap(title: str, row: Array, selected: int | None, cell: int) -> list[Text]:
    """``row`` (m,) as grid_shape(m) lines of shade characters, under its title."""
    rows, cols = grid_shape(len(row))
    scale = largest(row)
    lines = [Text(f"{title}  {rows}×{cols}", style("bold"))]
    for r in range(rows):
        part = row[r * cols : (r + 1) * cols]
        mark = selected - r * cols if selected is not None and r * cols <= selected < (r + 1) * cols else None
        lines.append(shade_line(part, scale, mark, cell))
    return lines


class NeuronPanel(Panel, can_focus=True):
    """The incoming weights of node ``j`` of layer ``layer`` (1..L) for ``self.record``."""

    TITLE = "neuron"
    CROP = False

    def __init__(self, net: NetInfo, layer: int, j: int, **kwargs) -> None:
        super().__init__(net, **kwargs)
        self.layer_no, self.j = layer, j

    def row(self) -> tuple[Array, Array | None, Array | None, float, float | None]:
        """(w after, grad_w, Δw) of row j, then b after and its grad (None without biases)."""
        l, j, rec = self.layer_no, self.j, self.record
        if rec is None:
            b = self.net.initial_b[l - 1]
            return self.net.initial_W[l - 1][j], None, None, float(b[j]) if self.net.bias else math.nan, None
        lr = rec.layers[l - 1]
        w = lr.w[j]
        grad_b = float(lr.grad_b[j]) if self.net.bias else None
        return w, lr.grad_w[j], w - lr.w_before[j], float(lr.b[j]) if self.net.bias else math.nan, grad_b

    def build(self, width: int) -> Text:
        net, l, j = self.net, self.layer_no, self.j
        self.border_title = plain(f"neuron {net.names[l][j]}: W[{l}][{j}, :]")  # a name from the file
        w, grad, dw, b, grad_b = self.row()
        sel = self.selection
        m = net.layers[l - 1]
        mark = sel.i if sel.mode == "weight" and (sel.layer, sel.j) == (l, j) and sel.i < m else None
        out = Text(no_wrap=True)
        self._heading(out)
        self._heatmaps(out, w, grad, mark, width)
        self._summaries(out, w, grad, dw, b, grad_b, width)
        self._table(out, w, grad, dw, mark)
        return out

    def _heading(self, out: Text) -> None:
        """Which neuron, of which kind, at which step, and the keys."""
        net, l, j, rec = self.net, self.layer_no, self.j, self.record
        kind = "output" if l == net.depth else "hidden"
        head = f"{net.names[l][j]}: {kind} node {j} of layer {l} ({net.activations[l - 1]}), "
        head += f"its {net.layers[l - 1]} incoming weights W[{l}][{j}, :]" + (" and bias" if net.bias else "")
        out.append(head, style("bold"))
        when = f"after step {rec.step}, with that step's gradient" if rec else "initial weights (step 0)"
        out.append(f"\n{when}   ←/→ neuron · ↑/↓ pgup/pgdn scroll · esc closes\n\n", style("dim"))

    def _heatmaps(self, out: Text, w: Array, grad: Array | None, mark: int | None, width: int) -> None:
        """The row w (and grad_w) as grid heatmaps: side by side when both fit ``width``."""
        rows, cols = grid_shape(len(w))
        cell = 2 if 2 * cols <= width else 1
        maps = [row_heatmap(f"w{' after' if self.record else ''}", w, mark, cell)]
        if grad is not None:
            maps.append(row_heatmap("grad_w", grad, mark, cell))
        side_by_side = len(maps) == 1 or 2 * cols * cell + 3 <= width
        groups = [maps] if side_by_side else [[m_] for m_ in maps]
        for group in groups:
            for line_no in range(rows + 1):
                for k, lines in enumerate(group):
                    if k:
                        out.append(" │ ", style("dim"))
                    line = lines[line_no].copy()
                    line.pad_right(cols * cell - line.cell_len)
                    out.append_text(line)
                out.append("\n")

    def _summaries(
        self,
        out: Text,
        w: Array,
        grad: Array | None,
        dw: Array | None,
        b: float,
        grad_b: float | None,
        width: int,
    ) -> None:
        """The summary figures of w, grad_w and Δw, and the bias with its gradient."""
        out.append_text(fit("w:", summary(w), width))
        if grad is not None and dw is not None:
            out.append("\n")
            out.append_text(fit("grad_w:", summary(grad), width))
            out.append("\n")
            out.append_text(fit("Δw:", summary(dw), width))
        if self.net.bias:
            value = exact(b, signed=True) + (f"   grad {fmt(grad_b)}" if grad_b is not None else "")
            out.append("\n")
            out.append_text(fit(f"b[{self.layer_no}][{self.j}]:", value, width))
        out.append("\n\n")

    def _table(self, out: Text, w: Array, grad: Array | None, dw: Array | None, mark: int | None) -> None:
        """One line an input: its index and name, w at full precision, grad_w and Δw."""
        out.append(f"{'i':>5}  {'from':<8} {'w' + (' after' if self.record else ''):<24}", style("bold"))
        out.append(f" {'grad_w':>9} {'Δw':>9}\n" if grad is not None else "\n", style("bold"))
        names = self.net.names[self.layer_no - 1]
        for i in range(len(w)):
            out.append(f"{i:>5}  ", style("marked" if i == mark else "dim"))
            out.append(f"{names[i]:<8} ", style("marked" if i == mark else "dim"))
            out.append(f"{exact(w[i], signed=True):<24}", style("selected" if i == mark else _sign(w[i])))
            if grad is not None and dw is not None:
                out.append(f" {fmt(grad[i]):>9}", style(_sign(grad[i])))
                out.append(f" {fmt(dw[i]):>9}", style(_sign(dw[i])))
            out.append("\n")


def _sign(x: float) -> str:
    x = float(x)
    return "bad" if not math.isfinite(x) else ("pos" if x > 0 else ("neg" if x < 0 else "zero"))


class NeuronScreen(ModalScreen[None]):
    """Opened over the main screen by ``w`` for the selection's neuron (Selection.focus_node)."""

    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("left", "neuron(-1)", "Previous neuron"),
        Binding("right", "neuron(1)", "Next neuron"),
    ]
    DEFAULT_CSS = """
    NeuronScreen { align: center middle; }
    NeuronScreen > NeuronPanel {
        width: 96%; height: 94%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, net: NetInfo, record: StepRecord | None, selection: Selection, layer: int, j: int):
        super().__init__()
        self.panel = NeuronPanel(net, layer, j, id="neuron")
        self._record, self._selection = record, selection

    def compose(self) -> ComposeResult:
        yield self.panel

    def on_mount(self) -> None:
        self.panel.show(self._record, self._selection)
        self.panel.focus()

    def action_neuron(self, step: int) -> None:
        p = self.panel
        p.j = max(0, min(p.j + step, p.net.layers[p.layer_no] - 1))
        p.scroll_to(y=0, animate=False)
        p.redraw()
