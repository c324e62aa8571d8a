"""The network diagram: layers as columns of nodes, weights as lines between them.

Each node shows its activation a for the selected sample of the batch (x for the input
layer). Each weight W[l][j, i] is a line from node i of layer l-1 to node j of layer l:
blue when positive, red when negative, one dot thick, or two when |w| is at least half the
largest |weight|. The lines are the weights this step's forward pass used (W before the
update). A layer with more than BIG nodes shows its first and last few, with ⋮ between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text

from .braille import Canvas
from .matrices import fmt, fmt_short, sign_name, style
from .model import BIG
from .panel import Panel

KEEP = 5  # nodes kept at each end of an elided layer
MIN_GAP = 4  # cells between two columns of labels


@dataclass(frozen=True)
class _Entry:
    label: str
    node: int | None  # index in the layer; None for the ⋮ row; -1 for the bias unit
    value: float | None = None


class NetworkView(Panel):
    TITLE = "network"
    CROP = True  # laid out to the panel's width

    def build(self, width: int) -> Text:
        net, rec, sel = self.net, self.record, self.selection
        k = min(sel.sample, len(rec.batch) - 1) if rec else 0
        W = [lr.w_before for lr in rec.layers] if rec else list(net.initial_W)
        b = [lr.b_before for lr in rec.layers] if rec else list(net.initial_b)
        values = [rec.x[k]] + [lr.a[k] for lr in rec.layers] if rec else None
        columns = [self._entries(l, values[l] if values is not None else None) for l in range(net.depth + 1)]

        out = Text(no_wrap=True)
        if rec is None:
            out.append("initial weights; node values appear after the first step (space)\n", style("dim"))
        else:
            xs = ", ".join(fmt_short(v) for v in rec.x[k][:6]) + (", …" if rec.x.shape[1] > 6 else "")
            ts = ", ".join(fmt_short(v) for v in rec.t[k][:6]) + (", …" if rec.t.shape[1] > 6 else "")
            out.append(f"sample #{rec.batch[k]} (k={k}): x = ({xs}) → target ({ts})\n", style("dim"))
        for line in self._draw(columns, W, b, width):
            out.append_text(line)
            out.append("\n")
        out.append_text(self._footer(W, b))
        return out

    def _entries(self, l: int, values: np.ndarray | None) -> list[_Entry]:
        net = self.net
        n = net.layers[l]
        shown = list(range(n)) if n <= BIG else list(range(KEEP)) + [-2] + list(range(n - KEEP, n))
        entries = []
        for j in shown:
            if j == -2:
                entries.append(_Entry(f"⋮ {n - 2 * KEEP} more", None))
            else:
                v = None if values is None else float(values[j])
                entries.append(_Entry(net.names[l][j], j, v))
        if net.bias and l < net.depth:
            entries.append(_Entry("+1 bias", -1, None))
        return entries

    def _label(self, e: _Entry, with_value: bool) -> str:
        if e.node is None or e.node == -1 or not with_value:
            return e.label
        return f"{e.label} {fmt_short(e.value) if e.value is not None else '·'}"

    def _draw(self, columns: list[list[_Entry]], W, b, width: int) -> list[Text]:
        L = len(columns) - 1
        for with_value in (True, False):
            widths = [max(len(self._label(e, with_value)) for e in col) for col in columns]
            gap = (width - sum(widths)) // max(L, 1)
            if gap >= MIN_GAP:
                break
        gap = max(gap, MIN_GAP)
        xs = [sum(widths[:l]) + gap * l for l in range(L + 1)]
        rows = max(len(col) for col in columns)
        room = self.scrollable_content_region.height - 3  # the sample line and the footer take 3
        space = next((s for s in (4, 3) if s * (rows - 1) + 1 <= room), 2)
        height = space * (rows - 1) + 1
        ys = [
            [(height - (space * (len(col) - 1) + 1)) // 2 + space * r for r in range(len(col))]
            for col in columns
        ]
        canvas = Canvas(xs[-1] + widths[-1], height)

        scale = max((float(np.abs(w[np.isfinite(w)]).max(initial=0)) for w in W), default=0.0)
        scale = max([scale] + [float(np.abs(v[np.isfinite(v)]).max(initial=0)) for v in b if v.size])
        sel, focus = self.selection, self.selection.focus_node()
        chosen = None
        for l in range(1, L + 1):
            lines = []
            srcs = [r for r, e in enumerate(columns[l - 1]) if e.node is not None]
            dsts = [r for r, e in enumerate(columns[l]) if e.node is not None and e.node >= 0]
            for d, r_dst in enumerate(dsts):
                dst = columns[l][r_dst]
                for s, r_src in enumerate(srcs):
                    src = columns[l - 1][r_src]
                    i = self.net.layers[l - 1] if src.node == -1 else src.node
                    w = float(b[l - 1][dst.node] if src.node == -1 else W[l - 1][dst.node, src.node])
                    # the lines of a node fan out over a few dots, so that they stay apart
                    y0 = ys[l - 1][r_src] * 4 + 1 + _spread(d, len(dsts), space)
                    y1 = ys[l][r_dst] * 4 + 1 + _spread(s, len(srcs), space)
                    ends = ((xs[l - 1] + widths[l - 1]) * 2, y0, xs[l] * 2 - 2, y1)
                    if sel.mode == "weight" and (sel.layer, sel.j, sel.i) == (l, dst.node, i):
                        chosen = (ends, w)
                    lines.append((abs(w) if np.isfinite(w) else np.inf, ends, w))
            for size, ends, w in sorted(lines, key=lambda t: t[0]):
                canvas.line(*ends, style(sign_name(w)), _thickness(size, scale))
        if chosen is not None:
            canvas.line(*chosen[0], style("marked"), _thickness(abs(chosen[1]), scale))

        for l, col in enumerate(columns):
            for r, e in enumerate(col):
                text = self._label(e, with_value).ljust(widths[l])
                meta = ("node", l, e.node) if e.node is not None and e.node >= 0 else None
                if e.node is not None and e.node >= 0 and sel.mode == "node" and (l, e.node) == focus:
                    name = "selected"
                elif e.node is not None and e.node >= 0 and self._touches(l, e.node):
                    name = "marked"
                elif e.node is None or e.node == -1:
                    name = "dim"
                elif e.value is not None and not np.isfinite(e.value):
                    name = "bad"
                else:
                    name = "bold"
                canvas.text(xs[l], ys[l][r], text, style(name, meta))
        return canvas.lines()

    def _touches(self, l: int, node: int) -> bool:
        """Is (l, node) an end of the selected weight?"""
        sel = self.selection
        if sel.mode != "weight":
            return False
        return (l, node) == (sel.layer, sel.j) or (l, node) == (sel.layer - 1, sel.i)

    def _footer(self, W, b) -> Text:
        sel, net = self.selection, self.net
        out = Text()
        if sel.mode == "weight":
            m = net.layers[sel.layer - 1]
            w = b[sel.layer - 1][sel.j] if sel.i == m else W[sel.layer - 1][sel.j, sel.i]
            out.append(f"selected {net.weight_label(sel.layer, sel.j, sel.i)} = {fmt(w)}", style("marked"))
        elif sel.mode == "node":
            out.append(f"selected {net.node_label(sel.node_layer, sel.node)}", style("marked"))
        else:
            out.append("selecting a sample of the batch: ↑/↓", style("marked"))
        out.append("\nline: blue +, red −, thicker = larger |w|", style("dim"))
        return out


def _spread(k: int, n: int, space: int) -> int:
    """Dot offset of the k-th of n lines at a node: spread over at most space + 1 dots each way."""
    if n <= 1:
        return 0
    reach = min(space + 1, n - 1)
    return round((k - (n - 1) / 2) * 2 * reach / (n - 1))


def _thickness(size: float, scale: float) -> int:
    if scale <= 0 or not np.isfinite(size):
        return 2 if not np.isfinite(size) else 1
    return 1 + int(size / scale >= 1 / 2)
