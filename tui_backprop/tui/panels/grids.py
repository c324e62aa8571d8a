"""The four number panels: forward (z, a), backward (delta), gradients (grad_w, grad_b), weights.

Each draws the StepRecord it is given and the selection; the numbers are only formatted.
Rows of z, a and delta are the samples of the batch (labelled with their index in the
data set), the selected sample marked ▸; the selected weight or node marks the entries
that belong to it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
from rich.text import Text

from ...common.words import count
from ...engine import LayerRecord, StepRecord
from ...engine.explain import record_split
from ...scenario.notation import vocabulary
from ..netinfo import BIG
from ..widgets.lines import Lines
from ..widgets.numbers import Block, fit, fmt, grid, heatmap, style, summary
from ..widgets.stats import changes
from .base import Panel
from .probed import NO_TARGET, NOT_A_STEP, batch_size, probe_banner, probe_of, sample_name
from .weight_rows import WeightRow, write_rows

HINT = "space: take the first step"


def _hint(then: str, width: int) -> Text:
    """What a panel shows before the first step, wrapped to ``width`` (the panels never wrap)."""
    return Text("\n".join(textwrap.wrap(f"{HINT}. {then}", max(width, 20))), style("dim"))


def _section(out: Lines, width: int, heading: str, note: str = "", fresh: bool = False) -> None:
    """A bold heading, its note beside it or, when it would not fit ``width``, under it;
    ``fresh``: the phase just taken computed it (highlighted)."""
    if not out.empty:
        out.append("\n" if out.ends_line else "\n\n")
    out.append(heading, style("selected" if fresh else "bold"))
    if fresh:
        out.append(" ◂ this phase", style("marked"))
    if note:
        out.append(f"   {note}" if len(heading) + 3 + len(note) <= width else f"\n{note}", style("dim"))
    out.append("\n")


def _pending(out: Lines, what: str, width: int) -> None:
    """The place of a part of the step that a later phase computes, wrapped to ``width``."""
    if not out.empty:
        out.append("\n" if out.ends_line else "\n\n")
    text = f"{what}: a later phase (s: the next phase, space: the whole step)"
    out.append("\n".join(textwrap.wrap(text, max(width, 20))), style("dim"))
    out.append("\n")


def _lines(out: Lines) -> int:
    """Lines in ``out`` so far: where the next section starts (a panel's focus_line)."""
    return out.count + (0 if out.empty else 1)


def _bad_at(record: StepRecord, quantity: str, layer: int) -> tuple[int, ...] | None:
    nf = record.nonfinite
    if nf is not None and nf.quantity == quantity and nf.layer == layer:
        return nf.index
    return None


def _node_click(layer: int, row: int, col: int) -> tuple:
    return ("node", layer, col)


def _weight_click(layer: int, row: int, col: int) -> tuple:
    return ("weight", layer, row, col)


def _bias_click(layer: int, bias_column: int, row: int, col: int) -> tuple:
    return ("weight", layer, row, bias_column)


def _cell(index: tuple[int, ...] | None) -> tuple[int, int] | None:
    """A 1-D index (of b, grad_b) as the cell of its column vector; a 2-D index as it is."""
    if index is None:
        return None
    return (index[0], 0) if len(index) == 1 else (index[0], index[1])


class _BatchPanel(Panel):
    """Rows are the samples of the batch; click a row label to select that sample."""

    def batch_grid(self, blocks: list[Block], width: int) -> Lines:
        rec = self.record
        assert rec is not None
        labels = [sample_name(rec, k) for k in range(batch_size(rec))]
        k = min(self.selection.sample, batch_size(rec) - 1)
        return grid(blocks, labels, width, marked_row=k, row_click=lambda r: ("sample", r))

    def focus_columns(self, layer: int) -> set[int]:
        """Columns of layer ``layer`` that the selection is about."""
        sel = self.selection
        if sel.mode == "weight":
            if layer == sel.layer - 1 and sel.i < self.net.layers[layer]:
                return {sel.i}  # a[l-1][:, i] is what the weight multiplies
            return {sel.j} if layer == sel.layer else set()
        if sel.mode == "node" and layer == sel.node_layer:
            return {sel.node}
        return set()


class ForwardPanel(_BatchPanel):
    TITLE = "forward: z = a·Wᵀ + b, a = f(z)"
    IN_VIEW_FIRST = True

    def build(self, width: int) -> Text | Lines:
        rec = self.record
        if rec is None:
            return _hint("Then z and a of every layer appear here, one row a sample.", width)
        net, out, probe = self.net, Lines(), probe_of(rec)
        if probe is not None:
            out.append_text(probe_banner(probe, width, NOT_A_STEP))
        x = Block("x", rec.x, net.names[0], related_cols=self.focus_columns(0), click=partial(_node_click, 0))
        _section(out, width, "layer 0 · input", "a[0] = x")
        out.extend(self.batch_grid([x], width))
        reveal, fresh = self.reveal, self.reveal.fresh
        for l, lr in enumerate(rec.layers, start=1):
            if self.enough(out):
                return out
            if l > reveal.forward:
                _pending(out, f"z[{l}] and a[{l}]" + (" and the loss" if l == net.depth else ""), width)
                return out
            cols, names, hit = self.focus_columns(l), net.names[l], partial(_node_click, l)
            blocks = [
                Block(
                    f"{q}[{l}]",
                    v,
                    names,
                    related_cols=cols,
                    first_bad=_cell(_bad_at(rec, q, l)),
                    click=hit,
                    answered=self.answered(rec, q, l),
                )
                for q, v in (("z", lr.z), ("a", lr.a))
            ]
            if l == net.depth and reveal.loss:
                blocks.append(Block("t", rec.t, names))
                loss_bad = (0, 0) if rec.nonfinite is not None and rec.nonfinite.quantity == "loss" else None
                blocks.append(Block("ℓ", rec.sample_losses[:, None], [net.loss], first_bad=loss_bad))
            kind = "output" if l == net.depth else "hidden"
            now = fresh is not None and fresh.kind == "forward" and fresh.layer == l
            if now:
                self.focus_line = _lines(out)
            _section(out, width, f"layer {l} · {kind} · {lr.activation}", fresh=now)
            out.extend(self.batch_grid(blocks, width))
        if not reveal.loss:
            if probe is not None:
                _section(out, width, "no loss")
                out.append("\n".join(textwrap.wrap(NO_TARGET, max(width, 20))), style("dim"))
            else:
                _pending(out, "the loss", width)
            return out
        if probe is not None:
            _section(out, width, f"probe loss {fmt(rec.loss)}", "ℓ at the probe's target: nothing is trained")
            return out
        if fresh is not None and fresh.kind == "loss":
            self.focus_line = _lines(out)
        _section(
            out,
            width,
            f"batch loss {fmt(rec.loss)}",
            f"mean of ℓ over {count(len(rec.batch), 'sample')}, before the update",
            fresh=fresh is not None and fresh.kind == "loss",
        )
        return out


class BackwardPanel(_BatchPanel):
    """delta of every layer and, beside it, the proportional split's error e of that layer: what
    the run trains with under error_split = "proportional", the picture beside the gradient
    otherwise (engine/split.py; record_split computes it from the record)."""

    TITLE = "backward: delta = ∂ℓ/∂z"
    IN_VIEW_FIRST = True
    _split: tuple[StepRecord, list] | None = None

    def _errors(self, rec: StepRecord) -> list:
        """e of every layer for ``rec``, worked out once a record: a selection move redraws the
        panel, and the same arrays keep their display statistics (stats.py caches by array)."""
        if self._split is None or self._split[0] is not rec:
            self._split = (rec, record_split(rec))
        return self._split[1]

    def build(self, width: int) -> Text | Lines:
        rec = self.record
        if rec is None:
            return _hint("Then the error signal delta of every layer appears here.", width)
        net, out, probe = self.net, Lines(), probe_of(rec)
        if probe is not None:
            out.append_text(probe_banner(probe, width, "" if probe.has_target else NO_TARGET))
            if not probe.has_target:
                return out
        fresh = self.reveal.fresh
        errors = self._errors(rec) if self.reveal.has_delta(net.depth) else None
        for l in range(net.depth, 0, -1):
            if self.enough(out):
                return out
            lr = rec.layers[l - 1]
            if not self.reveal.has_delta(l):
                _pending(out, f"delta[{l}]" if l == net.depth else f"delta[{l}] .. delta[1]", width)
                break
            if l == net.depth:
                rule = "y − t" if lr.activation == "softmax" else f"∂ℓ/∂y ⊙ {lr.activation}′(z[{l}])"
            else:
                rule = f"(delta[{l + 1}] · W[{l + 1}]) ⊙ {lr.activation}′(z[{l}])"
            now = fresh is not None and fresh.kind == "delta" and fresh.layer == l
            if now:
                self.focus_line = _lines(out)
            _section(out, width, f"delta[{l}]", f"= {rule}", fresh=now)
            blocks = [
                Block(
                    f"{title}[{l}]",
                    v,
                    net.names[l],
                    related_cols=self.focus_columns(l),
                    first_bad=_cell(_bad_at(rec, quantity, l)),
                    click=partial(_node_click, l),
                    answered=self.answered(rec, quantity, l),
                )
                for title, quantity, v in (
                    ("delta", "delta", lr.delta),
                    ("e", "error", errors[l - 1] if errors is not None else None),
                )
                if v is not None
            ]
            out.extend(self.batch_grid(blocks, width))
        if errors is not None:
            how = "what this run trains with" if net.split else "beside delta, not a gradient"
            note = (
                f"e: the proportional error split, {how}: e[{net.depth}] = t − y, handed back to each "
                "layer in proportion to the weights (select a hidden node: the explain panel adds it up)"
            )
            out.append("\n\n" + "\n".join(textwrap.wrap(note, max(width, 20))), style("dim"))
        return out


class GradientsPanel(Panel):
    TITLE = "gradients: grad_w = deltaᵀ·a / B"
    IN_VIEW_FIRST = True

    def build(self, width: int) -> Text | Lines:
        rec = self.record
        if rec is None:
            return _hint("Then grad_w and grad_b, the batch means, appear here.", width)
        sel, out, probe = self.selection, Lines(), probe_of(rec)
        if probe is not None:
            note = "what a step on this point alone would descend; the probe applies none"
            out.append_text(probe_banner(probe, width, note if probe.has_target else NO_TARGET))
            if not probe.has_target:
                return out
        if not self.reveal.gradients:
            _pending(out, "grad_w and grad_b", width)
            return out
        now = self.reveal.fresh is not None and self.reveal.fresh.kind == "gradients"
        for l, lr in enumerate(rec.layers, start=1):
            if self.enough(out):
                return out
            here = sel.mode == "weight" and sel.layer == l
            _section(out, width, f"layer {l}", f"grad_w[{l}] = delta[{l}]ᵀ · a[{l - 1}] / B", fresh=now)
            if here:
                self.focus_line = out.count + 2 + sel.j
            out.append(self._layer(l, lr, rec, width, (sel.j, sel.i) if here else None))
        return out

    def _layer(
        self, l: int, lr: LayerRecord, rec: StepRecord, width: int, sel: tuple[int, int] | None
    ) -> Text | Lines:
        """grad_w[l] beside grad_b[l] (rows: nodes of layer l), or their heatmap and summary."""
        net = self.net
        m = net.layers[l - 1]
        if net.big(l) or net.big(l - 1):
            text = heatmap(f"grad_w[{l}]", lr.grad_w, width, selected=sel if sel and sel[1] < m else None)
            if net.bias:
                text.append("\n")
                text.append_text(fit(f"grad_b[{l}]:", summary(lr.grad_b), width))
            if sel:
                value = lr.grad_b[sel[0]] if sel[1] == m else lr.grad_w[sel]
                text.append("\n")
                text.append_text(
                    fit(f"selected {net.weight_label(l, *sel)}:", f"grad {fmt(value)}", width, "marked")
                )
            return text
        blocks = [
            Block(
                f"grad_w[{l}]",
                lr.grad_w,
                net.names[l - 1],
                selected=sel if sel and sel[1] < m else None,
                first_bad=_cell(_bad_at(rec, "grad_w", l)),
                click=partial(_weight_click, l),
                answered=self.answered(rec, "grad_w", l),
            )
        ]
        if net.bias:
            blocks.append(
                Block(
                    f"grad_b[{l}]",
                    lr.grad_b[:, None],
                    [net.bias_label],
                    selected=(sel[0], 0) if sel and sel[1] == m else None,
                    first_bad=_cell(_bad_at(rec, "grad_b", l)),
                    click=partial(_bias_click, l, m),
                    answered=self.answered(rec, "grad_b", l),
                )
            )
        return grid(blocks, net.names[l], width, marked_row=sel[0] if sel else None)


@dataclass(frozen=True)
class _LayerWeights:
    """A layer's weights (n_l, n_{l-1}) and biases (n_l,) before and after a step; ``record``:
    its LayerRecord (None before the first step)."""

    record: LayerRecord | None
    before: np.ndarray
    after: np.ndarray
    b_before: np.ndarray
    b_after: np.ndarray


class WeightsPanel(Panel):
    TITLE = "weights: before → after (Δ = −lr·grad)"
    IN_VIEW_FIRST = True

    def set_notation(self, notation: str) -> None:
        """The title gives the rule the run applies (momentum, adam, the proportional split)."""
        self.notation = notation
        rule = vocabulary(notation, self.net.depth).update_rule(self.net.optimizer, self.net.split)
        self.border_title = f"{self.key} weights: {rule}".strip()

    def build(self, width: int) -> Text | Lines:
        net, rec, sel, out = self.net, self.record, self.selection, Lines()
        probe = probe_of(rec)
        if rec is None:
            out.append_text(_hint("These are the initial weights.", width))
        elif probe is not None:
            out.append_text(probe_banner(probe, width, "the weights the probe used: a probe changes none"))
        elif not self.reveal.update:
            _pending(out, "the update (these are the weights the step started from)", width)
        now = rec is not None and self.reveal.fresh is not None and self.reveal.fresh.kind == "update"
        for l in range(1, net.depth + 1):
            if self.enough(out):
                return out
            w = self._weights(l)
            here = (sel.j, sel.i) if sel.mode == "weight" and sel.layer == l else None
            n, m = w.before.shape
            title = f"W[{l}]" + (f" and b[{l}]" if net.bias else "")
            _section(out, width, title, f"{n}×{m}, into layer {l}", fresh=now)
            if net.big(l) or net.big(l - 1) or n * (m + 1) > 4 * BIG:
                shown = w.record if self.reveal.update else None
                out.append(self._heat(l, shown, w.after, w.b_after, width, here))
                continue
            top = out.count
            chosen_at = write_rows(out, self._rows(l, w, here), width)
            if chosen_at is not None:
                self.focus_line = top + chosen_at
        return out

    def _weights(self, l: int) -> _LayerWeights:
        """Layer l's weights and biases before and after the step on screen (the initial ones
        before the first step; the same before and after until the phases reach the update)."""
        net, rec = self.net, self.record
        lr = rec.layers[l - 1] if rec else None
        if lr is not None and not self.reveal.update:
            lr = replace(lr, w=lr.w_before, b=lr.b_before)  # before the update: nothing changed yet
        before = lr.w_before if lr else net.initial_W[l - 1]
        b_before = lr.b_before if lr else net.initial_b[l - 1]
        return _LayerWeights(lr, before, lr.w if lr else before, b_before, lr.b if lr else b_before)

    def _rows(self, l: int, w: _LayerWeights, here: tuple[int, int] | None) -> list[WeightRow]:
        """A row for each weight into layer l and then its bias, node by node: before, after,
        the change once the update is shown, ``here`` the selected one, and the first number
        that stopped being finite marked."""
        net, rec = self.net, self.record
        n, m = w.before.shape
        bad = rec.nonfinite if rec and rec.nonfinite and rec.nonfinite.layer == l else None
        lr = w.record
        dw, db = (lr.dw, lr.db) if lr and self.reveal.update else (None, None)
        rows = []
        mine_w, mine_b = self.answered(rec, "w", l), self.answered(rec, "b", l)
        for j in range(n):
            for i in range(m + (1 if net.bias else 0)):
                is_b = i == m
                first = (
                    bad is not None
                    and bad.quantity == ("b" if is_b else "w")
                    and bad.index == ((j,) if is_b else (j, i))
                )
                rows.append(
                    WeightRow(
                        label=f"{net.bias_label if is_b else net.names[l - 1][i]}→{net.names[l][j]}",
                        meta=("weight", l, j, i),
                        before=float(w.b_before[j] if is_b else w.before[j, i]),
                        after=float(w.b_after[j] if is_b else w.after[j, i]),
                        change=None if dw is None or db is None else float(db[j] if is_b else dw[j, i]),
                        chosen=here == (j, i),
                        first=first,
                        answered=mine_b.get((j, 0)) if is_b else mine_w.get((j, i)),
                    )
                )
        return rows

    def _heat(self, l: int, lr: LayerRecord | None, after, b_after, width: int, here) -> Lines:
        net = self.net
        m = net.layers[l - 1]
        wsel = here if here and here[1] < m else None
        out = heatmap(f"W[{l}] after" if lr else f"W[{l}]", after, width, selected=wsel)
        dW, db = changes(lr) if lr is not None else (None, None)
        if dW is not None:
            out.append("\n")
            out.append(heatmap(f"ΔW[{l}]", dW, width, selected=wsel))
        if net.bias:
            out.append("\n")
            out.append_text(fit(f"b[{l}]:", summary(b_after), width))
            if db is not None:
                out.append("\n")
                out.append_text(fit(f"Δb[{l}]:", summary(db), width))
        if here:
            j, i = here
            w1 = b_after[j] if i == m else after[j, i]
            if lr is not None and dW is not None and db is not None:
                w0 = lr.b_before[j] if i == m else lr.w_before[j, i]
                dw = db[j] if i == m else dW[j, i]
                value = f"{fmt(w0)} → {fmt(w1)} Δ {fmt(dw)}"
            else:
                value = fmt(w1)
            out.append("\n")
            out.append_text(fit(f"selected {net.weight_label(l, j, i)}:", value, width, "marked"))
        out.append("\n")
        return out
