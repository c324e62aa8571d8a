"""Diagnosis: which slip of the catalogue gives the learner's first wrong number.

From the step of the first wrong number on, the run is computed again with each slip of
tutor/slips.py applied, one at a time, from the true weights before that step. A slip matches when
its numbers give the first wrong number to the digits the learner wrote (grading's rule) and keep
every number the learner got right before it in that step. Of the slips that match, those that give
the most of the learner's numbers from there on are named (two when the numbers given cannot tell
them apart); the later wrong numbers are then reported as following from it, or not. When no slip
matches, the diagnosis says so and names the numbers the first wrong one is made from, with
whether the learner gave them and got them right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine.record import StepRecord
from .answers import Number
from .grading import Graded, agrees, shown_true
from .rounding import GRADING_DIGITS, rounding_digits, written_digits
from .slips import CATALOGUE, Settings, Slip, Step, learner_layout, slipped_step, training_loss

ROUNDING_DIGITS = f"{GRADING_DIGITS[0]} to {GRADING_DIGITS[-1]}"


@dataclass(frozen=True)
class Run:
    """What the diagnosis needs of the true run: its settings, the records of the answered steps,
    and the batch (sample indices) of every step from the first answered one to the last."""

    settings: Settings | None  # None: not plain gradient descent, which the catalogue is about
    why_not: str  # when settings is None: why the catalogue does not apply
    records: dict[int, StepRecord]
    batches: dict[int, tuple[int, ...]]
    inputs: np.ndarray
    targets: np.ndarray


@dataclass(frozen=True)
class Diagnosis:
    first: Graded
    slips: tuple[Slip, ...]  # the slips named: () when none matches
    follows: tuple[Graded, ...]  # later wrong numbers the slip gives
    other: tuple[Graded, ...]  # later wrong numbers it does not give
    why_not: str = ""  # why no slip was tried (the run is not plain gradient descent)
    rounding: str = ""  # whether the same step done by hand, rounded to k digits, gives the number

    def lines(self, source: str, inputs: Sequence[str]) -> list[str]:
        f = self.first.number
        out = [
            f"first wrong: step {f.step} {f.name}: you wrote {f.written.text}, the true value is "
            f"{shown_true(self.first.true)} ({source}: {f.key})"
        ]
        if self.why_not:
            out.append(f"diagnosis: not made: {self.why_not}")
        elif not self.slips:
            out.append(f"diagnosis: no slip of the catalogue gives {f.name} = {f.written.text}")
            out += [f"  it is made from {i}" for i in inputs]
        else:
            if len(self.slips) > 1:
                ids = " or ".join(s.id for s in self.slips)
                out.append(
                    f"diagnosis: {ids}: the numbers you gave fit either"
                    " (give more numbers to tell them apart)"
                )
            for s in self.slips:
                out.append(f"diagnosis: {s.id}: {s.sentence}")
                out.append(f"  correct: {s.formula}")
            for g in self.follows:
                out.append(
                    f"  step {g.number.step} {g.number.name} = {g.number.written.text} follows from it"
                )
            for g in self.other:
                out.append(
                    f"  step {g.number.step} {g.number.name} = {g.number.written.text}"
                    " does not follow from it"
                )
        if self.rounding:
            out.append(self.rounding)
        return out


def diagnose(graded: Sequence[Graded], run: Run) -> Diagnosis | None:
    """The diagnosis of the first wrong number of ``graded`` (in the order the steps compute
    them), or None when every number is right."""
    wrong = [g for g in graded if not g.right]
    if not wrong:
        return None
    first = wrong[0]
    if run.settings is None:
        return Diagnosis(first, (), (), tuple(wrong[1:]), run.why_not, rounding=_rounding(first, run))
    start = first.number.step
    at = next(i for i, g in enumerate(graded) if g is first)
    before = [g for g in graded[:at] if g.number.step == start]
    later = list(graded[at:])
    best: list[tuple[int, Slip, list[bool]]] = []
    seen = 0
    train = any(g.number.quantity == "train_loss" for g in later)
    for variant_of, slip in _variants():
        values = _slipped_run(run, slip.id, variant_of, start, {g.number.step for g in later}, train)
        if not _gives(values, first.number) or not all(_gives(values, g.number) for g in before):
            continue
        given = [_gives(values, g.number) for g in later]
        score = sum(given)
        if score > seen:
            best, seen = [(score, slip, given)], score
        elif score == seen:
            best.append((score, slip, given))
    if not best:
        return Diagnosis(first, (), (), tuple(wrong[1:]), rounding=_rounding(first, run))
    slips = tuple(s for _, s, _ in best)
    given = best[0][2]
    rest = [(g, ok) for g, ok in zip(later, given, strict=True) if not g.right and g is not first]
    return Diagnosis(
        first,
        slips,
        tuple(g for g, ok in rest if ok),
        tuple(g for g, ok in rest if not ok),
        rounding=_rounding(first, run),
    )


def _rounding(first: Graded, run: Run) -> str:
    """``rounding``, not a slip: whether the first wrong number is what the same step gives when
    done by hand with every intermediate rounded to k significant digits (tutor/rounding.py)."""
    n = first.number
    if run.settings is None:
        return "rounding: not checked: hand precision models plain gradient descent only"
    if n.written.place is None:
        return "rounding: not checked: a number at full precision is not a hand calculation"
    if n.quantity == "train_loss":
        return "rounding: not checked: the training-set loss is not part of a step done by hand"
    name = n.quantity if n.layer is None else f"{n.quantity}[{n.layer}]"
    digits = rounding_digits(
        run.records[n.step],
        run.settings.loss,
        name,
        n.index or None,
        n.written.value,
        written_digits(n.written.text),
        run.settings.update_biases,
    )
    if digits is None:
        return (
            f"rounding: no: the step done by hand with every intermediate rounded to {ROUNDING_DIGITS}"
            f" significant digits does not give {n.written.text} either"
        )
    return (
        f"rounding: not a slip: the step done by hand with every intermediate rounded to {digits}"
        f" significant digits gives {n.written.text}: round less along the way"
    )


def _variants() -> list[tuple[int, Slip]]:
    out: list[tuple[int, Slip]] = []
    count: dict[str, int] = {}
    for s in CATALOGUE:
        out.append((count.get(s.id, 0), s))
        count[s.id] = count.get(s.id, 0) + 1
    return out


def _slipped_run(
    run: Run, slip: str, variant: int, start: int, wanted: set[int], train: bool
) -> dict[int, tuple[Step, float | None]]:
    """The slipped steps from ``start`` to the last wanted step, from the true weights before
    ``start``, with the training-set loss after each wanted one when ``train``."""
    s = run.settings
    assert s is not None
    first = run.records[start]
    W = learner_layout([lr.w_before for lr in first.layers], slip)
    b = [lr.b_before.copy() for lr in first.layers]
    out: dict[int, tuple[Step, float | None]] = {}
    with np.errstate(all="ignore"):
        for step in range(start, max(wanted) + 1):
            idx = list(run.batches[step])
            lr = run.records[step].learning_rate if step in run.records else s.learning_rate
            settings = Settings(s.activations, s.loss, lr, s.bias, s.update_biases)
            got = slipped_step(W, b, run.inputs[idx], run.targets[idx], settings, slip, variant)
            W, b = list(got.w), list(got.b)
            if step in wanted:
                loss = training_loss(W, b, run.inputs, run.targets, s, slip, variant) if train else None
                out[step] = (got, loss)
    return out


def _gives(values: dict[int, tuple[Step, float | None]], n: Number) -> bool:
    """Whether the slipped run gives the learner's number to the digits written."""
    step, train = values[n.step]
    if n.quantity == "loss":
        v = step.loss
    elif n.quantity == "train_loss":
        v = train if train is not None else float("nan")
    else:
        arr = getattr(step, n.quantity)[n.layer - 1]  # type: ignore[operator]
        if arr.shape == (0,) or len(n.index) != arr.ndim:
            return False
        v = float(arr[n.index])
    return agrees(n.written, float(v))


# -- what a number is made from ------------------------------------------------------------------


def made_from(n: Number, L: int) -> list[tuple[str, int, str | None, int | None, tuple[int | None, ...]]]:
    """The numbers ``n`` is computed from: (words, step, quantity, layer, index with None for
    "every"); quantity None: the scenario's own numbers (the inputs, the initial weights)."""
    k = n.index[0] if n.index else None
    j = n.index[1] if len(n.index) > 1 else None
    l = n.layer or L
    prev = n.step - 1
    out: list[tuple[str, int, str | None, int | None, tuple[int | None, ...]]] = []

    def weights(layer: int, index: tuple[int | None, ...], what: str) -> None:
        if prev >= 1:
            out.append((f"w[{layer}]{_idx(index)} of step {prev} ({what})", prev, "w", layer, index))
        else:
            out.append((f"W[{layer}]{_idx(index)}, the initial weights ({what})", 0, None, layer, index))

    q = n.quantity
    if q == "z":
        if l > 1:
            out.append((f"a[{l - 1}][{k}, :]", n.step, "a", l - 1, (k, None)))
        else:
            out.append((f"the inputs of sample {k} of the batch", 0, None, None, ()))
        weights(l, (j, None), "the weights into the node, and its bias")
    elif q == "a":
        out.append((f"z[{l}][{k}, {j}]", n.step, "z", l, (k, j)))
    elif q == "loss":
        out.append((f"a[{L}] (the outputs)", n.step, "a", L, (None, None)))
    elif q in ("delta", "error") and l == L:
        out.append((f"a[{L}][{k}, {j}]", n.step, "a", L, (k, j)))
        if q == "delta":
            out.append((f"z[{L}][{k}, {j}]", n.step, "z", L, (k, j)))
    elif q in ("delta", "error"):
        out.append((f"{q}[{l + 1}][{k}, :]", n.step, q, l + 1, (k, None)))
        weights(l + 1, (None, j), "the weights out of the node, before this step's update")
        if q == "delta":
            out.append((f"z[{l}][{k}, {j}]", n.step, "z", l, (k, j)))
    elif q == "grad_w":
        i = n.index[1]
        out.append((f"delta[{l}][:, {n.index[0]}]", n.step, "delta", l, (None, n.index[0])))
        if l > 1:
            out.append((f"a[{l - 1}][:, {i}]", n.step, "a", l - 1, (None, i)))
        else:
            out.append(("the inputs of the batch", 0, None, None, ()))
    elif q == "grad_b":
        out.append((f"delta[{l}][:, {n.index[0]}]", n.step, "delta", l, (None, n.index[0])))
    elif q in ("w", "b"):
        grad = "grad_w" if q == "w" else "grad_b"
        out.append((f"{grad}[{l}]{_idx(n.index)}", n.step, grad, l, n.index))
        if prev >= 1:
            out.append((f"{q}[{l}]{_idx(n.index)} of step {prev}", prev, q, l, n.index))
        else:
            out.append((f"{q}[{l}]{_idx(n.index)} before the first step (the scenario's)", 0, None, l, ()))
    else:  # train_loss
        out.append(("the updated weights w[l] and biases b[l] of every layer", n.step, "w", None, ()))
    return out


def _idx(index: tuple[int | None, ...]) -> str:
    return "[" + ", ".join(":" if i is None else str(i) for i in index) + "]" if index else ""


def inputs_said(first: Graded, graded: Sequence[Graded], L: int) -> list[str]:
    """Each number the first wrong one is made from, and whether the learner gave it, right."""
    out = []
    for words, step, q, layer, index in made_from(first.number, L):
        if q is None:
            out.append(f"{words}: given by the scenario")
            continue
        mine = [
            g
            for g in graded
            if g.number.step == step
            and g.number.quantity == q
            and (layer is None or g.number.layer == layer)
            and all(want is None or got == want for want, got in zip(index, g.number.index, strict=False))
        ]
        if not mine:
            out.append(f"{words}: you did not give it")
        elif all(g.right for g in mine):
            out.append(f"{words}: you gave it, right")
        else:
            bad = next(g for g in mine if not g.right)
            out.append(f"{words}: you gave it, wrong ({bad.number.name} = {bad.number.written.text})")
    return out
