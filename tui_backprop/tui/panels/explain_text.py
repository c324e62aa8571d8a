"""The explain panel's text: how the selected number came about, in the chosen notation.

No Textual here, so every function is testable on its own. The numbers come from the
StepRecord through ``engine.explain``, which forms every product and sum; this module only
lays them out. A result is printed to 4 significant digits, or to as many as a later line
uses it with; the operands of each line get as many digits as it takes for the arithmetic
on the printed operands to give the printed result (``Equation.digits``).

    explain(...) -> lines   the selection: a weight (chain rule, each sample's contribution,
                            the mean, the update), a node (z with every term, a = f(z), its
                            delta), a sample (its loss); or, in the middle of a step taken
                            phase by phase, what that phase computed; before the first step,
                            the scenario (its name and description), the first keys and the
                            selected weight's initial value
    to_text(lines, width)   the lines as Lines (widgets/lines.py), wrapped to ``width``
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from ...common.words import count
from ...engine import StepRecord
from ...engine.explain import (
    MIN_DIGITS,
    Equation,
    NodeTerms,
    WeightTerms,
    loss_terms,
    node_terms,
    split_step,
    split_terms,
    weight_terms,
)
from ...engine.phases import Phase
from ...engine.probe import ProbeRecord
from ...engine.schedule import Schedule
from ...scenario.notation import Vocabulary
from ..control.selection import Selection
from ..netinfo import NetInfo
from ..widgets.lines import Lines
from ..widgets.numbers import exact, style
from ..widgets.warning_text import warning_line
from .probed import NO_TARGET, NOT_A_STEP, batch_size, probe_title, sample_name

MAX_TERMS = 12  # terms of a sum listed one by one; beyond, the rest is counted
MAX_SAMPLES = 8  # samples of a batch listed one by one

Line = tuple[str, str | None]  # text, style name (widgets/palette.py MEANINGS), PROSE or None
PROSE = "prose"  # a paragraph of text: wrapped flush left, unstyled

FIRST_KEYS = "space step, s phase, tab select, ? help"  # the footer's labels of these keys


def num(x: float, digits: int = MIN_DIGITS) -> str:
    """``x`` to ``digits`` significant digits (0 for −0)."""
    x = float(x) + 0.0  # -0.0 + 0.0 is 0.0
    if not np.isfinite(x):
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def par(x: float, digits: int = MIN_DIGITS) -> str:
    """A number as an operand: a negative one in parentheses, so that − (−0.2) reads right."""
    s = num(x, digits)
    return f"({s})" if s.startswith("-") else s


def ops(eq: Equation | None, result_digits: int = MIN_DIGITS) -> int:
    """The digits for the operands of ``eq`` when its result is printed to ``result_digits``."""
    return result_digits if eq is None else eq.digits(result_digits)


class _Out:
    def __init__(self) -> None:
        self.lines: list[Line] = []

    def line(self, s: str = "", name: str | None = None) -> None:
        self.lines.append((s, name))

    def heading(self, s: str) -> None:
        if self.lines:
            self.lines.append(("", None))
        self.lines.append((s, "bold"))

    def note(self, s: str) -> None:
        self.lines.append((s, "dim"))

    def prose(self, s: str) -> None:
        self.lines.extend((paragraph, PROSE) for paragraph in s.splitlines())


def plain(lines: Sequence[Line]) -> str:
    return "\n".join(s for s, _ in lines)


def to_text(lines: Sequence[Line], width: int) -> Lines:
    """The lines, each wrapped to ``width`` (continuations indented by 4, but PROSE's)."""
    out, wide = Lines(), max(width, 20)
    for n, (s, name) in enumerate(lines):
        if len(s) <= wide and s.isprintable() and not s[-1:].isspace():
            parts = [s]  # what textwrap gives a line that fits and ends in no space, at a tenth of the cost
        else:
            indent = "" if name == PROSE else " " * min(len(s) - len(s.lstrip()) + 4, 12)
            parts = textwrap.wrap(s, wide, subsequent_indent=indent, break_on_hyphens=False) or [""]
        for m, part in enumerate(parts):
            if n or m:
                out.newline()
            out.line.name(part, style(name) if name and name != PROSE else "")
    return out


def explain(
    net: NetInfo,
    record: StepRecord | None,
    sel: Selection,
    vocab: Vocabulary,
    *,
    update_biases: bool = True,
    phase: Phase | None = None,
    split: Sequence[np.ndarray] | None = None,
    about: tuple[str, str] = ("", ""),
    schedule: tuple[Schedule, float] | None = None,
) -> list[Line]:
    """The explanation of the selection in ``record`` (None: before the first step) or, with
    ``phase``, of what that phase of the step computed. ``split``: the proportional errors e of
    every layer, (B, n_l) each (l = 1..L), shown beside a hidden node's delta. ``about``: the
    scenario's name and description, shown before the first step. ``schedule``: the run's
    learning-rate schedule and its base rate, whose formula follows a weight's update."""
    out = _Out()
    if record is None:
        _before_first_step(out, net, sel, vocab, about)
        return out.lines
    if isinstance(record, ProbeRecord):
        _probe(out, net, record, sel, vocab, split)
        return out.lines
    k = min(sel.sample, len(record.batch) - 1)
    if phase is not None:
        _phase(out, net, record, sel, vocab, phase, k, update_biases, split)
        if phase.kind == "update":
            _rate(out, record, vocab, schedule)
    elif sel.mode == "weight":
        _weight(out, net, record, sel.layer, sel.j, sel.i, vocab, update_biases, ("gradient", "update"))
        _rate(out, record, vocab, schedule)
    elif sel.mode == "node":
        _node(out, net, record, sel.node_layer, sel.node, k, vocab, split, ("z", "a", "delta"))
    else:
        _loss(out, net, record, k, vocab)
    if record.warnings:
        out.heading(f"warnings of step {record.step}")
        for d in record.warnings:
            out.line(f"⚠ {warning_line(d, net)}", "warn")
    return out.lines


def _before_first_step(
    out: _Out, net: NetInfo, sel: Selection, v: Vocabulary, about: tuple[str, str]
) -> None:
    """What the scenario is about and the first keys: nothing is computed yet. A selected
    weight also shows its initial value in full, where a hand calculation starts from."""
    name, description = about
    if name:
        out.line(name, "bold")
    if description:
        out.prose(description)
    if out.lines:
        out.line()
    out.note(FIRST_KEYS)
    if sel.mode == "weight":
        l, j, i = sel.layer, sel.j, sel.i
        bias = i == net.layers[l - 1]
        w = net.initial_b[l - 1][j] if bias else net.initial_W[l - 1][j, i]
        out.heading(net.weight_label(l, j, i))
        out.line(f"{v.el('b' if bias else 'w', l, 'j' if bias else 'ji')} = {exact(w)}  (initial)")


# -- a weight ----------------------------------------------------------------------------------


def _weight(
    out: _Out,
    net: NetInfo,
    record: StepRecord,
    l: int,
    j: int,
    i: int,
    v: Vocabulary,
    update_biases: bool,
    parts: Sequence[str],
) -> None:
    wt = weight_terms(record, l, j, i)
    B = batch_size(record)
    src = "the bias unit (+1)" if wt.bias else f"{net.names[l - 1][i]} (layer {l - 1})"
    w_el = v.el("b" if wt.bias else "w", l, "j" if wt.bias else "ji")
    g_el = v.el_grad(l, "j" if wt.bias else "ji", wt.bias)
    z_el, delta_el = v.el("z", l, "j"), v.el("delta", l, "j")
    a_el = "1" if wt.bias else v.el("a", l - 1, "i")
    out.heading(net.weight_label(l, j, i))
    out.note(f"into j = {net.names[l][j]} (layer {l}), from i = {src}")
    when = "the weights probed" if isinstance(record, ProbeRecord) else "before the step"
    out.line(f"{w_el} = {exact(wt.w_before)}  ({when})")
    if "gradient" in parts:
        out.heading("gradient: the chain rule")
        pen = wt.penalty_grad != 0.0
        if B == 1:
            d = ops(wt.sample_eqs[0])
            out.line(f"{g_el} = ∂{v.sample_loss}/∂{z_el} · ∂{z_el}/∂{w_el}" + (" + ∂P/∂w" if pen else ""))
            out.line(f"  = {delta_el} · {a_el}" + (" + ∂P/∂w" if pen else ""))
            result = num(wt.data_grad if pen else wt.grad)
            out.line(f"  = {par(wt.delta[0], d)} × {par(wt.a[0], d)} = {result}", None if pen else "marked")
        else:
            _batch_gradient(out, record, wt, g_el, delta_el, a_el)
        if pen:  # l1 / l2: the penalty P of the weights adds its gradient
            out.line(f"  + ∂P/∂w = {num(wt.penalty_grad)}   (the penalty: l1·sign(w) + l2·w)")
            out.line(f"  = {num(wt.grad)}", "marked")
    if "update" in parts:
        _update(out, record, wt, v, w_el, g_el, update_biases)


def _batch_gradient(
    out: _Out, record: StepRecord, wt: WeightTerms, g_el: str, delta_el: str, a_el: str
) -> None:
    B = len(wt.products)
    a_k = a_el if a_el == "1" else f"{a_el},k"
    out.line(f"{g_el} = 1/B Σ_k {delta_el},k · {a_k}   (the chain rule, sample by sample)")
    out.note(f"each sample's contribution {delta_el},k × {a_k}:")
    listed = B <= MAX_SAMPLES
    d_total = ops(wt.mean_eq)
    d_products = ops(wt.sum_eq, d_total) if listed else MIN_DIGITS
    for k, (dk, ak, pk) in enumerate(zip(wt.delta, wt.a, wt.products, strict=True)):
        if k == MAX_SAMPLES:
            out.note(f"  … {count(B - MAX_SAMPLES, 'more sample')}")
            break
        d = ops(wt.sample_eqs[k], d_products)
        out.line(f"  k={k} {sample_name(record, k)}: {par(dk, d)} × {par(ak, d)} = {num(pk, d_products)}")
    if listed:
        terms = " + ".join(par(p, d_products) for p in wt.products)
        out.line(f"Σ_k = {terms} = {num(wt.total, d_total)}")
    else:
        out.line(f"Σ_k over all {B} samples = {num(wt.total, d_total)}")
    pen = wt.penalty_grad != 0.0
    mean = num(wt.data_grad if pen else wt.grad)
    out.line(f"mean: {g_el} = {num(wt.total, d_total)} / {B} = {mean}", None if pen else "marked")


def _update(
    out: _Out, record: StepRecord, wt: WeightTerms, v: Vocabulary, w_el: str, g_el: str, update_biases: bool
) -> None:
    out.heading("update")
    if wt.bias and not update_biases:
        out.line(f"{w_el} stays {num(wt.w_before)}: update_biases = false")
        return
    if wt.update is not None:  # proportional mode: the split errors, not the gradient
        st = split_step(record, wt.layer, wt.j, wt.i)
        a_k = "1" if wt.bias else v.el("a", wt.layer - 1, "i") + ",k"
        d = ops(st.eq)
        out.line(f"{w_el} ← {w_el} + Δ, Δ from the proportional error split (not −{v.lr}·{g_el}):")
        out.line(f"  Δ = {v.lr} · 1/B Σ_k e_j,k · f′(z_j,k) · {a_k}")
        out.line(f"    = {num(wt.learning_rate, d)} × {par(st.mean, d)} = {num(st.update, 6)}")
        d = MIN_DIGITS + 2
        out.line(f"  {w_el} = {num(wt.w_before, d)} + {par(wt.change, d)} = {num(wt.w_after)}", "marked")
        out.note(f"the gradient step would have been −{v.lr}·{g_el} = {num(-wt.learning_rate * wt.grad)}")
    elif wt.update_eq is not None:
        d = ops(wt.update_eq)
        out.line(f"{w_el} ← {w_el} − {v.lr}·{g_el}")
        out.line(
            f"  = {num(wt.w_before, d)} − {num(wt.learning_rate, d)} × {par(wt.grad, d)} = {num(wt.w_after)}",
            "marked",
        )
    elif wt.velocity_eq is not None:  # momentum
        d = ops(wt.velocity_eq)
        out.line(f"{w_el} ← {w_el} − {v.lr}·velocity,  velocity ← momentum·velocity + {g_el}")
        velocity = wt.state["velocity"]
        out.line(
            f"  = {num(wt.w_before, d)} − {num(wt.learning_rate, d)} × {par(velocity, d)}"
            f" = {num(wt.w_after)}",
            "marked",
        )
    else:  # another optimiser (adam): its state decides the change
        d = MIN_DIGITS + 2
        if "m" in wt.state:
            out.line(
                f"{w_el} ← {w_el} − {v.lr}·m̂ / (√v̂ + ε)"
                f"   (adam; m, v: running means of {g_el} and its square)"
            )
        else:
            out.line(f"{w_el} ← {w_el} + Δ (the optimiser's step)")
        out.line(f"  = {num(wt.w_before, d)} + {par(wt.change, d)} = {num(wt.w_after)}", "marked")
    for name, value in wt.state.items():
        out.line(f"  {name} = {num(value)}  (optimiser state after the step)")
    out.line(f"{w_el} = {exact(wt.w_after)}  (after)")


def _rate(out: _Out, record: StepRecord, v: Vocabulary, schedule: tuple[Schedule, float] | None) -> None:
    """Where the step's learning rate came from: its schedule's formula at k = step - 1."""
    if schedule is None or schedule[0].name == "constant":
        return
    rule, base = schedule
    k = record.step - 1
    out.heading(f"{v.lr} of step {record.step}: the {rule.name} schedule")
    out.line(rule.formula().replace("η", v.lr))
    rate = num(record.learning_rate)
    out.line(f"  {v.lr} = {base:g}, k = {k} (the updates before this step): {v.lr}_k = {rate}", "marked")


# -- a node ------------------------------------------------------------------------------------


def _node(
    out: _Out,
    net: NetInfo,
    record: StepRecord,
    l: int,
    j: int,
    k: int,
    v: Vocabulary,
    split: Sequence[np.ndarray] | None,
    parts: Sequence[str],
) -> None:
    out.heading(net.node_label(l, j))
    out.note(f"sample k={k} ({sample_name(record, k)}); j = {net.names[l][j]}")
    nt = node_terms(record, net.loss, l, j, k)
    if l == 0:
        out.line(f"{v.a(0)} = {num(nt.a, 17)}: an input; it has no z and no delta")
        return
    z_el, a_el, delta_el = v.el("z", l, "j"), v.el("a", l, "j"), v.el("delta", l, "j")
    if "z" in parts:
        _z(out, net, nt, v, l, z_el, ops(nt.a_eq) if "a" in parts else MIN_DIGITS)
    if "a" in parts:
        d = ops(nt.a_eq)
        out.heading(f"{a_el} = {nt.activation}({z_el})")
        if nt.activation == "softmax":
            out.line(f"  = e^{z_el} / Σ_m e^z_m = {num(nt.a)}", "marked")
        else:
            out.note(f"  {nt.activation}(z) = {nt.formula}")
            out.line(f"  = {nt.activation}({num(nt.z, d)}) = {num(nt.a)}", "marked")
    if "delta" in parts:
        if nt.output:
            _output_delta(out, nt, v, l, delta_el)
        else:
            _hidden_delta(out, net, nt, v, l, delta_el)
            if split is not None:
                _split(out, net, record, nt, v, l, j, k, split)


def _z(out: _Out, net: NetInfo, nt: NodeTerms, v: Vocabulary, l: int, z_el: str, z_digits: int) -> None:
    bias_term = f" + {v.el('b', l, 'j')}" if nt.b is not None else ""
    out.heading(f"{z_el} = Σ_i {v.el('w', l, 'ji')} · {v.el('a', l - 1, 'i')}{bias_term}")
    listed = len(nt.products) <= MAX_TERMS
    d_terms = ops(nt.z_eq, z_digits) if listed else MIN_DIGITS
    names = net.names[l - 1]
    for i, (w, a, p) in enumerate(zip(nt.weights, nt.inputs, nt.products, strict=True)):
        if i == MAX_TERMS:
            out.note(f"  + … {count(len(nt.products) - MAX_TERMS, 'more term')}")
            break
        d = ops(nt.term_eqs[i], d_terms)
        out.line(f"  {'+' if i else ' '} {par(w, d)} × {par(a, d)} = {num(p, d_terms)}   ({names[i]})")
    if nt.b is not None:
        out.line(f"  + {par(nt.b, d_terms)}   (bias)")
    out.line(f"  = {num(nt.z, z_digits)}", "marked")


def _output_delta(out: _Out, nt: NodeTerms, v: Vocabulary, l: int, delta_el: str) -> None:
    y, t = v.output, v.target
    d = ops(nt.delta_eq)
    if nt.dl_dy is None:  # simplified: softmax with cross_entropy, sigmoid with bce
        n = f" / {nt.outputs}" if nt.activation == "sigmoid" else ""
        out.heading(f"{delta_el} = ({y} − {t}){n}   ({nt.activation} with {v.loss}: f′ cancels)")
        out.line(f"  = ({num(nt.y, d)} − {num(nt.t, d)}){n} = {num(nt.delta)}", "marked")
        return
    assert nt.fprime is not None
    fp = f"f′({v.el('z', l, 'j')})"
    out.heading(f"{delta_el} = {v.dl_dy} · {fp}")
    if v.notation == "signals":
        out.line(f"  FE = {y} − {t} = {num(nt.y)} − {num(nt.t)}")
    out.line(f"  {v.dl_dy} = {num(nt.dl_dy, d)}")
    out.note(f"  f′ of {nt.activation}: {nt.grad_formula}")
    out.line(f"  {fp} = {num(nt.fprime, d)}")
    out.line(f"  = {par(nt.dl_dy, d)} × {par(nt.fprime, d)} = {num(nt.delta)}", "marked")


def _hidden_delta(out: _Out, net: NetInfo, nt: NodeTerms, v: Vocabulary, l: int, delta_el: str) -> None:
    assert nt.fprime is not None
    fp = f"f′({v.el('z', l, 'j')})"
    w_down, delta_down = v.el("w", l + 1, "mj"), v.el("delta", l + 1, "m")
    out.heading(f"{delta_el} = (Σ_m {w_down} · {delta_down}) · {fp}")
    d = ops(nt.delta_eq)
    listed = len(nt.down_products) <= MAX_TERMS
    d_terms = ops(nt.down_sum_eq, d) if listed else MIN_DIGITS
    names = net.names[l + 1]
    for m, (w, dm, p) in enumerate(zip(nt.down_weights, nt.down_deltas, nt.down_products, strict=True)):
        if m == MAX_TERMS:
            out.note(f"  + … {count(len(nt.down_products) - MAX_TERMS, 'more term')}")
            break
        dd = ops(nt.down_eqs[m], d_terms)
        out.line(f"  {'+' if m else ' '} {par(w, dd)} × {par(dm, dd)} = {num(p, d_terms)}   ({names[m]})")
    out.line(f"  Σ = {num(nt.down_sum, d)}")
    out.note(f"  f′ of {nt.activation}: {nt.grad_formula}")
    out.line(f"  {fp} = {num(nt.fprime, d)}")
    out.line(f"  = {par(nt.down_sum, d)} × {par(nt.fprime, d)} = {num(nt.delta)}", "marked")


def _split(
    out: _Out,
    net: NetInfo,
    record: StepRecord,
    nt: NodeTerms,
    v: Vocabulary,
    l: int,
    j: int,
    k: int,
    split: Sequence[np.ndarray],
) -> None:
    st = split_terms(record, l, j, k, split)
    out.heading("beside it, the proportional split: e_j = Σ_m e_m · w_mj / Σ_i w_mi")
    out.note(f"e = {v.target} − {v.output} at the output, handed back in proportion to the weights")
    listed = len(st.products) <= MAX_TERMS
    d_terms = ops(st.e_eq) if listed else MIN_DIGITS
    names = net.names[l + 1]
    for m, (e, w, total, p) in enumerate(zip(st.errors, st.weights, st.sums, st.products, strict=True)):
        if m == MAX_TERMS:
            out.note(f"  + … {count(len(st.products) - MAX_TERMS, 'more term')}")
            break
        d = ops(st.term_eqs[m], d_terms)
        term = f"{par(e, d)} × {par(w, d)} / {par(total, d)}"  # e_m × w_mj / Σ_i w_mi
        out.line(f"  {'+' if m else ' '} {term} = {num(p, d_terms)}   ({names[m]})")
    out.line(f"  e_j = {num(st.e)}   beside {v.el('delta', l, 'j')} = {num(nt.delta)}", "marked")
    out.note(
        "The split hands e back by each weight's share of its row (w_mj / Σ_i w_mi) and ignores the "
        "slope f′(z); backpropagation multiplies by the weights themselves and by f′(z). And e = t − y "
        "has the opposite sign of ∂ℓ/∂y."
    )


# -- a sample's loss ---------------------------------------------------------------------------

LOSS_FORMULAS = {
    "mse": "(1/n) Σ_j (y_j − t_j)²",
    "sse": "Σ_j (y_j − t_j)²",
    "half_sse": "½ Σ_j (y_j − t_j)²",
    "bce": "−(1/n) Σ_j [t_j ln y_j + (1 − t_j) ln(1 − y_j)]",
    "cross_entropy": "−Σ_j t_j ln y_j",
}


def _loss(out: _Out, net: NetInfo, record: StepRecord, k: int, v: Vocabulary) -> None:
    lt = loss_terms(record, net.loss, k)
    out.heading(f"sample k={k} ({sample_name(record, k)}): its loss {v.sample_loss} ({net.loss})")
    out.line(f"{v.sample_loss} = {LOSS_FORMULAS[net.loss]}")
    d_terms = ops(lt.loss_eq)
    names = net.names[-1]
    for j, (y, t) in enumerate(zip(lt.y, lt.t, strict=True)):
        if j == MAX_TERMS:
            out.note(f"  … {count(len(lt.y) - MAX_TERMS, 'more output')}")
            break
        if lt.terms:
            d = ops(lt.term_eqs[j], d_terms)
            out.line(f"  {names[j]}: ({num(y, d)} − {num(t, d)})² = {num(lt.terms[j], d_terms)}")
        else:
            out.line(f"  {names[j]}: y = {num(y, 6)}, t = {num(t, 6)}")
    out.line(f"  {v.sample_loss} = {num(lt.sample_loss)}", "marked")
    B = len(lt.sample_losses)
    if B > 1:
        d = ops(lt.mean_eq)
        out.heading(f"batch loss {v.loss}: the mean over the {B} samples")
        shown = " + ".join(par(x, d) for x in lt.sample_losses[:MAX_SAMPLES])
        more = " + …" if B > MAX_SAMPLES else ""
        out.line(f"  = ({shown}{more}) / {B} = {num(lt.batch_loss)}", "marked")


# -- a probe (key P) ----------------------------------------------------------------------------


def _probe(
    out: _Out,
    net: NetInfo,
    probe: ProbeRecord,
    sel: Selection,
    v: Vocabulary,
    split: Sequence[np.ndarray] | None,
) -> None:
    """The selection at a probed point: the same terms as a step's, but no update; without a
    target, the forward pass alone."""
    out.line(probe_title(probe), "selected")
    out.note(NOT_A_STEP)
    full = probe.has_target
    if sel.mode == "weight":
        if full:
            _weight(out, net, probe, sel.layer, sel.j, sel.i, v, True, ("gradient",))
            out.note("no update: the probe only shows the gradient a step on this point would take")
            return
        l, j, i = sel.layer, sel.j, sel.i
        lr = probe.layers[l - 1]
        bias = i == net.layers[l - 1]
        out.heading(net.weight_label(l, j, i))
        w = lr.b_before[j] if bias else lr.w_before[j, i]
        out.line(f"{v.el('b' if bias else 'w', l, 'j' if bias else 'ji')} = {exact(w)}")
    elif sel.mode == "node":
        parts = ("z", "a", "delta") if full else ("z", "a")
        _node(out, net, probe, sel.node_layer, sel.node, 0, v, split if full else None, parts)
        if full:
            return
    elif full:
        _loss(out, net, probe, 0, v)
        return
    else:
        out.heading(f"the output {v.output} at the probe")
        for name, y in zip(net.names[-1], probe.layers[-1].a[0], strict=True):
            out.line(f"  {name}: {num(y, 6)}")
    out.note(NO_TARGET)


# -- one phase of a step -----------------------------------------------------------------------


def _phase(
    out: _Out,
    net: NetInfo,
    record: StepRecord,
    sel: Selection,
    v: Vocabulary,
    phase: Phase,
    k: int,
    update_biases: bool,
    split: Sequence[np.ndarray] | None,
) -> None:
    out.line(f"phase {phase.name}: {phase.computes}", "selected")
    focus_layer, focus_j = sel.focus_node()
    if phase.kind in ("forward", "delta") and phase.layer is not None:
        l = phase.layer
        j = focus_j if focus_layer == l else 0
        if focus_layer != l:
            out.note(f"(select a node of layer {l} to see it here)")
        parts = ("z", "a") if phase.kind == "forward" else ("delta",)
        _node(out, net, record, l, j, k, v, split if phase.kind == "delta" else None, parts)
    elif phase.kind == "loss":
        _loss(out, net, record, k, v)
    else:
        parts = ("gradient",) if phase.kind == "gradients" else ("update",)
        _weight(out, net, record, sel.layer, sel.j, sel.i, v, update_biases, parts)
