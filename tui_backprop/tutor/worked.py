"""A worked solution: every equation of the first steps of a scenario, with the numbers in.

The numbers are the StepRecords' (the Trainer computed them; nothing is computed here but
the layout), and the terms of every line come from engine/explain.py, as the explain panel's
do. Names come from the scenario's notation (scenario/notation.py). The result is a Document:
a list of blocks that sheets.py writes as Markdown or LaTeX.

An exercise sheet is the same document with some quantities blanked (``blanks``: names of the
answers file, z a delta grad_w grad_b w b loss): each blanked result becomes a gap, the same
number used later as an operand is written as its symbol, and the true value goes to the
answer key (``Document.key``: step, name, index, value).

Numbers are printed as the explain panel prints them: each result to 4 significant digits,
each line's operands to as many digits as it takes for the arithmetic on the printed operands
to give the printed result (explain.Equation.digits); the weights are tabled in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..engine.explain import Equation, loss_terms, node_terms, weight_terms
from ..engine.record import StepRecord
from ..scenario.names import node_names
from ..scenario.notation import Vocabulary, vocabulary
from . import mathtext as mt
from .rounding import HandStep

RESULT_DIGITS = 4
GAP = r"\underline{\hspace{3em}}"
MAX_LINES = 5000  # equations in one document: a bigger one is no worked solution anyone reads

ACTIVATION_TEX = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{relu}",
    "identity": r"\mathrm{id}",
    "linear": r"\mathrm{id}",
    "softmax": r"\mathrm{softmax}",
    "leaky_relu": r"\mathrm{leaky\_relu}",
    "elu": r"\mathrm{elu}",
    "softplus": r"\mathrm{softplus}",
    "gelu": r"\mathrm{gelu}",
    "swish": r"\mathrm{swish}",
    "sine": r"\sin",
}


@dataclass(frozen=True)
class Block:
    """One piece of a document: a heading, a paragraph of plain text, a line of math (LaTeX),
    or a table of plain cells (the first row heads the columns)."""

    kind: str  # "heading", "text", "math", "table"
    text: str = ""
    level: int = 2
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class KeyEntry:
    """One blanked number: an entry of the answers file (tutor's answers format)."""

    step: int
    name: str  # z[l], a[l], delta[l], grad_w[l], grad_b[l], w[l], b[l], loss
    index: tuple[int, ...] | None
    value: float


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)
    key: list[KeyEntry] = field(default_factory=list)

    def heading(self, s: str, level: int = 2) -> None:
        self.blocks.append(Block("heading", s, level))

    def text(self, s: str) -> None:
        self.blocks.append(Block("text", s))

    def math(self, s: str) -> None:
        self.blocks.append(Block("math", s))

    def table(self, rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(Block("table", rows=tuple(tuple(r) for r in rows)))


@dataclass(frozen=True)
class Setting:
    """What a worked solution shows of a scenario (a Scenario has these fields)."""

    title: str
    description: str
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    learning_rate: float
    batch: str | int
    notation: str
    update_biases: bool
    optimizer: str
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    schedule: str = ""  # a learning-rate schedule with its parameters, "cosine(period=10, minimum=0)"


def estimate_lines(layers: Sequence[int], batch: int, steps: int) -> int:
    """About how many equations ``steps`` steps take: z, a and delta of every node of every
    sample, a gradient and an update of every weight."""
    nodes = sum(layers[1:])
    weights = sum((layers[l - 1] + 1) * layers[l] for l in range(1, len(layers)))
    return steps * (3 * nodes * batch + 2 * weights + batch + 1)


def worked_document(
    setting: Setting,
    inputs: np.ndarray,
    targets: np.ndarray,
    initial: tuple[Sequence[np.ndarray], Sequence[np.ndarray]],
    records: Sequence[StepRecord],
    blanks: Sequence[str] = (),
    hand: Sequence[HandStep | str] = (),
) -> Document:
    """The worked solution of ``records`` (steps 1..n of a run from ``initial``, W and b);
    ``hand``: each step done by hand (rounding.py), shown beside it, or why it cannot be."""
    doc = Document(setting.title)
    v = vocabulary(setting.notation, len(setting.layers) - 1)
    names = node_names(setting.layers, setting.input_names, setting.output_names)
    _setting(doc, setting, names)
    _data(doc, inputs, targets, names)
    doc.heading("Initial weights")
    _weights(doc, v, *initial, blanked=False)
    for n, record in enumerate(records):
        _Step(doc, setting, v, record, frozenset(blanks)).write()
        if n < len(hand):
            _hand(doc, record, hand[n])
    return doc


HAND_NAMES = ("z", "a", "delta", "grad_w", "grad_b", "w", "b")


def _hand(doc: Document, record: StepRecord, hand: HandStep | str) -> None:
    """Step ``record`` beside the same step by hand: every number, exact and rounded, and how
    far rounding alone moved it."""
    if isinstance(hand, str):
        doc.heading(f"Step {record.step} by hand", 3)
        doc.text(hand)
        return
    K = hand.digits
    doc.heading(f"Step {record.step} by hand, to {K} significant digits", 3)
    doc.text(
        f"The same step with every number written down to {K} significant digits as it is computed "
        "(each product, each running sum, f(z), f'(z), each delta, each gradient, the update), "
        "beside the exact step; the last column is how far rounding alone moved the number."
    )
    rows = [("number", "exact", f"by hand ({K} digits)", "moved by")]
    rows.append(
        (
            "loss",
            mt.plain_number(record.loss, 10),
            mt.plain_number(hand.loss, K),
            _moved(hand.loss, record.loss),
        )
    )
    for l, (h, lr) in enumerate(zip(hand.layers, record.layers, strict=True), start=1):
        for name in HAND_NAMES:
            mine, exact = getattr(h, name), getattr(lr, name)
            for index in np.ndindex(*exact.shape):
                where = ", ".join(str(i) for i in index)
                rows.append(
                    (
                        f"{name}[{l}][{where}]",
                        mt.plain_number(float(exact[index]), 10),
                        mt.plain_number(float(mine[index]), K),
                        _moved(float(mine[index]), float(exact[index])),
                    )
                )
    doc.table(rows)


def _moved(hand: float, exact: float) -> str:
    return f"{hand - exact:+.2g}" if hand != exact else "0"


def _setting(doc: Document, s: Setting, names: Sequence[Sequence[str]]) -> None:
    if s.description:
        doc.text(s.description)
    doc.heading("The network")
    arch = "-".join(str(n) for n in s.layers)
    acts = ", ".join(f"layer {l}: {a}" for l, a in enumerate(s.activations, start=1))
    batch = {"full": "the full batch", "sample": "one sample a step"}.get(
        str(s.batch), f"batches of {s.batch}"
    )
    doc.text(
        f"Layers {arch} ({acts}); loss {s.loss}; learning rate {s.learning_rate:g}"
        + (f" on the schedule {s.schedule}, each step's rate in its update" if s.schedule else "")
        + f"; {batch}; "
        f"optimiser {s.optimizer}" + ("" if s.update_biases else "; the biases are not updated") + "."
    )
    doc.text(
        "Indices count from 0, as in the trace and in an answers file: W[l][j, i] is the weight "
        "from node i of layer l-1 into node j of layer l; z[l][k, j] is node j for sample k of "
        "the batch. Nodes: "
        + "; ".join(f"layer {l}: {', '.join(n)}" for l, n in enumerate(names))
        + f". Notation: {s.notation}. Each result is shown to {RESULT_DIGITS} significant digits, and "
        "the numbers it is made from to as many digits as it takes for the arithmetic on them to "
        "give it; the weight tables hold every digit."
    )


def _data(doc: Document, inputs: np.ndarray, targets: np.ndarray, names: Sequence[Sequence[str]]) -> None:
    doc.heading("The data")
    rows = [("sample", *names[0], *(f"target {n}" for n in names[-1]))]
    for k, (x, t) in enumerate(zip(inputs, targets, strict=True)):
        rows.append(
            (f"#{k}", *(mt.plain_number(float(a)) for a in x), *(mt.plain_number(float(b)) for b in t))
        )
    doc.table(rows)


def _weights(
    doc: Document,
    v: Vocabulary,
    W: Sequence[np.ndarray],
    b: Sequence[np.ndarray],
    blanked: bool,
    w_gap: bool = False,
    b_gap: bool = False,
) -> None:
    for l, (Wl, bl) in enumerate(zip(W, b, strict=True), start=1):
        doc.math(f"{mt.name(v.w(l))} = {_matrix(Wl, w_gap and blanked)}")
        if bl.size:
            doc.math(f"{mt.name(v.b(l))} = {_matrix(bl[:, None], b_gap and blanked)}")


def _matrix(M: np.ndarray, gap: bool) -> str:
    rows = [" & ".join(GAP if gap else mt.exact(float(x)) for x in row) for row in M]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _fn(name: str) -> str:
    return ACTIVATION_TEX.get(name, rf"\mathrm{{{mt.text(name)}}}")


class _Step:
    """The equations of one step, in the order the maths computes them."""

    def __init__(self, doc: Document, s: Setting, v: Vocabulary, record: StepRecord, blanks: frozenset[str]):
        self.doc, self.s, self.v, self.r, self.blanks = doc, s, v, record, blanks
        self.B = len(record.batch)

    # -- names and numbers -----------------------------------------------------------------

    def idx(self, k: int, j: int | str) -> str:
        return f"{j}" if self.B == 1 else f"{k},{j}"

    def sym(self, quantity: str, l: int, index: str) -> str:
        """Entry ``index`` of a quantity of layer l: w^{[2]}_{0,1}, {S_{preA,H}}_{1},
        \\partial L/\\partial w^{[2]}_{0,1} (a gradient indexes what it differentiates by)."""
        full = getattr(self.v, quantity)(l)
        if self.v.notation == "symbols":  # W[l] is the matrix; its entries are w
            full = full.replace("W[", "w[")
        top, slash, bottom = full.partition("/∂")
        if slash:
            return f"{mt.name(top)}/\\partial {mt.element(bottom, index)}"
        return mt.element(full, index)

    def given(self, name: str, value: float, symbol: str, digits: int, paren: bool = True) -> str:
        """An operand: its number, or its symbol when ``name`` is blanked (it must not be given
        away). The weights of step 1 are the initial ones, always given."""
        before = name in ("w", "b") and self.r.step == 1
        if name in self.blanks and not before:
            return symbol
        return mt.operand(value, digits) if paren else mt.number(value, digits)

    def result(self, name: str, layer: int | None, index: tuple[int, ...] | None, value: float) -> str:
        if name not in self.blanks:
            return mt.number(value, RESULT_DIGITS)
        label = name if layer is None else f"{name}[{layer}]"
        self.doc.key.append(KeyEntry(self.r.step, label, index, float(value)))
        return GAP

    # -- the step ---------------------------------------------------------------------------

    def write(self) -> None:
        r, doc = self.r, self.doc
        doc.heading(f"Step {r.step}", 2)
        batch = ", ".join(f"#{k}" for k in r.batch)
        doc.text(f"The batch: sample{'s' if self.B > 1 else ''} {batch} (k = 0..{self.B - 1} in that order).")
        L = len(r.layers)
        doc.heading("Forward pass", 3)
        for l in range(1, L + 1):
            for k in range(self.B):
                for j in range(r.layers[l - 1].z.shape[1]):
                    self.forward(l, j, k)
        doc.heading("Loss", 3)
        self.loss()
        doc.heading("Backward pass: the deltas", 3)
        for l in range(L, 0, -1):
            for k in range(self.B):
                for j in range(r.layers[l - 1].z.shape[1]):
                    self.delta(l, j, k)
        doc.heading("Gradients", 3)
        for l in range(1, L + 1):
            self.gradients(l)
        doc.heading("Update", 3)
        for l in range(1, L + 1):
            self.updates(l)
        doc.heading(f"Weights after step {r.step}", 3)
        _weights(
            doc,
            self.v,
            [lr.w for lr in r.layers],
            [lr.b for lr in r.layers],
            blanked=True,
            w_gap="w" in self.blanks,
            b_gap="b" in self.blanks,
        )
        doc.text(f"The training-set loss after the update: {mt.plain_number(r.train_loss, 6)}.")

    def forward(self, l: int, j: int, k: int) -> None:
        nt = node_terms(self.r, self.s.loss, l, j, k)
        z_sym = self.sym("z", l, self.idx(k, j))
        a_sym = self.sym("a", l, self.idx(k, j))
        prev = (
            (lambda i: self.sym("a", l - 1, self.idx(k, i)))
            if l > 1
            else (lambda i: mt.element(self.v.a(0), self.idx(k, i)))
        )
        ops = (*nt.weights, *nt.inputs, *((nt.b,) if nt.b is not None else ()))
        n = len(nt.weights)

        def z_fn(*xs: float) -> float:
            return float(sum(xs[m] * xs[n + m] for m in range(n)) + (xs[2 * n] if len(xs) > 2 * n else 0.0))

        d = Equation(z_fn, ops, nt.z).digits(RESULT_DIGITS)
        terms = [
            f"{self.given('w', w, self.sym('w', l, f'{j},{i}'), d)} \\times "
            + (self.given("a", a, prev(i), d) if l > 1 else mt.operand(a, d))
            for i, (w, a) in enumerate(zip(nt.weights, nt.inputs, strict=True))
        ]
        if nt.b is not None:
            terms.append(self.given("b", nt.b, self.sym("b", l, str(j)), d))
        self.doc.math(f"{z_sym} = {' + '.join(terms)} = {self.result('z', l, (k, j), nt.z)}")
        if nt.a_eq is None:  # softmax: the whole row at once
            row = self.r.layers[l - 1].z[k]
            zs = ", ".join(
                self.given("z", float(z), self.sym("z", l, self.idx(k, m)), RESULT_DIGITS + 2)
                for m, z in enumerate(row)
            )
            self.doc.math(
                f"{a_sym} = e^{{{z_sym}}} / \\sum_m e^{{z_m}},\\ z = ({zs}) "
                f"\\Rightarrow {a_sym} = {self.result('a', l, (k, j), nt.a)}"
            )
            return
        da = nt.a_eq.digits(RESULT_DIGITS)
        z_in = self.given("z", nt.z, z_sym, da, paren=False)
        self.doc.math(f"{a_sym} = {_fn(nt.activation)}({z_in}) = {self.result('a', l, (k, j), nt.a)}")

    def loss(self) -> None:
        ell = mt.name(self.v.sample_loss)
        for k in range(self.B):
            lt = loss_terms(self.r, self.s.loss, k)
            d = lt.loss_eq.digits(RESULT_DIGITS) if lt.loss_eq is not None else RESULT_DIGITS + 2
            L = len(self.r.layers)
            ys = [self.given("a", y, self.sym("a", L, self.idx(k, j)), d) for j, y in enumerate(lt.y)]
            ts = [mt.operand(t, d) for t in lt.t]
            sub = f"{{{ell}}}_{{{k}}}" if self.B > 1 else ell
            if lt.loss_eq is not None:
                scale = {
                    "mse": rf"\frac{{1}}{{{len(ys)}}}" if len(ys) > 1 else "",
                    "sse": "",
                    "half_sse": r"\frac{1}{2}",
                }[self.s.loss]
                squares = " + ".join(f"({y} - {t})^2" for y, t in zip(ys, ts, strict=True))
                self.doc.math(f"{sub} = {scale}\\left({squares}\\right) = {self.sample_loss(lt.sample_loss)}")
            else:
                value = self.sample_loss(lt.sample_loss)
                self.doc.math(f"{sub} = \\mathrm{{{mt.text(self.s.loss)}}}(y, t) = {value}")
        lt = loss_terms(self.r, self.s.loss, 0)
        L_sym = mt.name(self.v.loss)
        if self.B > 1:
            d = lt.mean_eq.digits(RESULT_DIGITS) if lt.mean_eq is not None else RESULT_DIGITS
            mean = " + ".join(
                self.given("loss", x, f"{{{ell}}}_{{{k}}}", d) for k, x in enumerate(lt.sample_losses)
            )
            value = self.result("loss", None, None, lt.batch_loss)
            self.doc.math(f"{L_sym} = \\frac{{1}}{{{self.B}}}\\left({mean}\\right) = {value}")
        else:
            self.doc.math(f"{L_sym} = {ell} = {self.result('loss', None, None, lt.batch_loss)}")

    def sample_loss(self, value: float) -> str:
        """A sample's loss: a gap too when the batch loss is blanked (it is made of them)."""
        return GAP if "loss" in self.blanks else mt.number(value, RESULT_DIGITS)

    def delta(self, l: int, j: int, k: int) -> None:
        nt = node_terms(self.r, self.s.loss, l, j, k)
        d_sym = self.sym("delta", l, self.idx(k, j))
        z_sym = self.sym("z", l, self.idx(k, j))
        eq = nt.delta_eq
        assert eq is not None  # every node past the inputs has one
        d = eq.digits(RESULT_DIGITS)
        res = self.result("delta", l, (k, j), nt.delta)
        y, t = mt.name(self.v.output), mt.name(self.v.target)
        if nt.output and nt.dl_dy is None:  # softmax with cross_entropy, sigmoid with bce
            n = f"/{nt.outputs}" if nt.activation == "sigmoid" else ""
            y_in = self.given("a", nt.y, self.sym("a", l, self.idx(k, j)), d)
            self.doc.math(f"{d_sym} = ({y} - {t}){n} = ({y_in} - {mt.operand(nt.t, d)}){n} = {res}")
        elif nt.output:
            assert nt.dl_dy is not None and nt.fprime is not None
            self.doc.math(
                f"{d_sym} = {mt.name(self.v.dl_dy)} \\cdot f'({z_sym}) = "
                f"{mt.operand(nt.dl_dy, d)} \\times {mt.operand(nt.fprime, d)} = {res}"
            )
        else:
            assert nt.fprime is not None
            m_terms = " + ".join(
                f"{self.given('w', w, self.sym('w', l + 1, f'{m},{j}'), d + 1)} \\times "
                f"{self.given('delta', dm, self.sym('delta', l + 1, self.idx(k, m)), d + 1)}"
                for m, (w, dm) in enumerate(zip(nt.down_weights, nt.down_deltas, strict=True))
            )
            self.doc.math(
                f"{d_sym} = \\Big(\\sum_m {self.sym('w', l + 1, f'm,{j}')} "
                f"{self.sym('delta', l + 1, self.idx(k, 'm'))}\\Big) f'({z_sym}) = "
                f"({m_terms}) \\times {mt.operand(nt.fprime, d)} = {res}"
            )

    def gradients(self, l: int) -> None:
        lr = self.r.layers[l - 1]
        n_out, n_in = lr.w_before.shape
        for j in range(n_out):
            for i in range(n_in + (1 if lr.b_before.size else 0)):
                self.gradient(l, j, i)

    def gradient(self, l: int, j: int, i: int) -> None:
        wt = weight_terms(self.r, l, j, i)
        bias = wt.bias
        name = "grad_b" if bias else "grad_w"
        g_sym = self.sym("grad_b" if bias else "grad_w", l, str(j) if bias else f"{j},{i}")
        eq = wt.mean_eq if wt.mean_eq is not None else wt.sample_eqs[0]
        d = eq.digits(RESULT_DIGITS) + (1 if self.B > 1 else 0)
        prods = []
        for k, (dk, ak) in enumerate(zip(wt.delta, wt.a, strict=True)):
            dd = self.given("delta", dk, self.sym("delta", l, self.idx(k, j)), d)
            if bias:
                prods.append(f"{dd} \\times 1")
                continue
            a_sym = self.sym("a", l - 1, self.idx(k, i)) if l > 1 else mt.element(self.v.a(0), self.idx(k, i))
            aa = self.given("a", ak, a_sym, d) if l > 1 else mt.operand(ak, d)
            prods.append(f"{dd} \\times {aa}")
        body = " + ".join(prods)
        if self.B > 1:
            body = f"\\frac{{1}}{{{self.B}}}\\left({body}\\right)"
        if wt.penalty_grad != 0.0:
            body += f" + {mt.operand(wt.penalty_grad, RESULT_DIGITS)}"
        index = (j,) if bias else (j, i)
        self.doc.math(f"{g_sym} = {body} = {self.result(name, l, index, wt.grad)}")

    def updates(self, l: int) -> None:
        lr = self.r.layers[l - 1]
        n_out, n_in = lr.w_before.shape
        for j in range(n_out):
            for i in range(n_in + (1 if lr.b_before.size else 0)):
                self.update(l, j, i)

    def update(self, l: int, j: int, i: int) -> None:
        wt = weight_terms(self.r, l, j, i)
        bias = wt.bias
        name = "b" if bias else "w"
        index = (j,) if bias else (j, i)
        w_sym = self.sym(name, l, str(j) if bias else f"{j},{i}")
        g_sym = self.sym("grad_b" if bias else "grad_w", l, str(j) if bias else f"{j},{i}")
        res = self.result(name, l, index, wt.w_after)
        lr_sym = mt.name(self.v.lr)
        if bias and not self.s.update_biases:
            kept = self.given(name, wt.w_before, w_sym, RESULT_DIGITS + 2)
            self.doc.math(f"{w_sym} = {kept} \\text{{ (not updated)}}")
            return
        if wt.update_eq is not None:
            d = wt.update_eq.digits(RESULT_DIGITS)
            g_in = self.given("grad_b" if bias else "grad_w", wt.grad, g_sym, d)
            w_in = self.given(name, wt.w_before, w_sym, d)
            self.doc.math(
                f"{w_sym} \\leftarrow {w_sym} - {lr_sym} \\cdot {g_sym} = "
                f"{w_in} - {mt.operand(wt.learning_rate, d)} \\times {g_in} = {res}"
            )
            return
        d = RESULT_DIGITS + 2  # momentum, adam, the proportional split: the change applied
        what = {"momentum": "momentum", "adam": "adam"}.get(self.s.optimizer, "the proportional split")
        self.doc.math(
            f"{w_sym} \\leftarrow {w_sym} + \\Delta = {self.given(name, wt.w_before, w_sym, d)} + "
            f"{mt.operand(wt.change, d)} = {res} \\quad \\text{{(}}\\Delta\\text{{ from {what})}}"
        )
