"""Check my work in the app: answered numbers marked in their panels, and the quiz key a.

``Checked`` holds what the tutor graded (tutor/check.py): an answers file given with
``--answers``, and the numbers typed with ``a``. The panels read ``marks`` for the step on screen
(a right number on the palette's right colour, green by default and blue under colorblind, a wrong
one on its wrong colour, red or orange); the explain panel reads ``lines``. The app computes
nothing here: the grading and the diagnosis are the tutor's.

The quiz (key a): while a step is taken phase by phase (s), ``a`` asks for the number the next
phase computes at the selection (a[l] of the selected node and sample for a forward phase, the
loss, delta[l], grad_w or grad_b of the selected weight, its value after the update), then checks
it, marks it, shows that phase, and diagnoses a wrong number. ``Quiz`` knows the app only through
``QuizHost``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from ...engine import StepRecord
from ...engine.phases import Reveal, phases, reveal
from ...scenario.reader import Scenario
from ..netinfo import NetInfo
from .selection import Selection

if TYPE_CHECKING:  # the tutor is imported when something is graded, not for the first screen
    from ...tutor.answers import Number
    from ...tutor.check import Result

Cell = tuple[int, int]


@dataclass
class Checked:
    """What the tutor graded: the marks by step and array, and what the explain panel says."""

    marks: dict[tuple[int, str, int | None], dict[Cell, bool]] = field(default_factory=dict)
    by_step: dict[int, list[str]] = field(default_factory=dict)  # the grading lines of each step
    diagnosis: list[str] = field(default_factory=list)  # of the file, or of the last quiz answer

    def add(self, result: Result) -> None:
        """Mark the numbers of ``result`` and take its diagnosis; the grading lines of a step it
        grades replace those it had (the quiz grades a step's typed numbers again each time)."""
        from ...tutor.check import line_of

        for step in {g.number.step for g in result.graded}:
            self.by_step[step] = []
        for g in result.graded:
            n = g.number
            cell = (n.index[0], 0) if len(n.index) == 1 else (n.index[0], n.index[1]) if n.index else (0, 0)
            self.marks.setdefault((n.step, n.quantity, n.layer), {})[cell] = g.right
            self.by_step[n.step].append(line_of(g))
        self.diagnosis = result.lines()[len(result.graded) + 1 :]

    def cells(self, record: StepRecord | None, quantity: str, layer: int | None) -> dict[Cell, bool]:
        """The marked cells of one array of the record's step: {(row, col): right}."""
        if record is None:
            return {}
        return self.marks.get((record.step, quantity, layer), {})

    def lines(self, record: StepRecord | None) -> list[str]:
        """The explain panel's part: the numbers of the step on screen, then the diagnosis."""
        mine = self.by_step.get(record.step, []) if record is not None else []
        if not mine and not self.diagnosis:
            return []
        return ["your answers", *mine, *self.diagnosis]


class QuizHost(Protocol):
    record: StepRecord | None
    reveal: Reveal
    selection: Selection
    net: NetInfo
    scenario: Scenario
    checked: Checked

    def show_record(self, record: StepRecord | None, reveal: Reveal = ...) -> None: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Literal["information", "warning", "error"] = ...
    ) -> None: ...
    def ask(self, prompt: str, then: Callable[[str | None], None]) -> None: ...


@dataclass(frozen=True)
class Question:
    """The number the next phase computes at the selection."""

    quantity: str
    layer: int | None
    index: tuple[int, ...]

    @property
    def name(self) -> str:
        if self.layer is None:
            return self.quantity
        return f"{self.quantity}[{self.layer}][{', '.join(map(str, self.index))}]"


def question(net: NetInfo, record: StepRecord, shown: Reveal, sel: Selection) -> Question | None:
    """What the phase after ``shown`` computes at the selection; None after the update."""
    steps = phases(net.depth)
    if shown.whole or shown.index >= len(steps):
        return None
    nxt = steps[shown.index]  # the phase after the one shown (index is 1-based)
    k = min(sel.sample, len(record.batch) - 1)
    focus_layer, focus_node = sel.focus_node()
    if nxt.kind in ("forward", "delta"):
        layer = nxt.layer or 1
        j = focus_node if focus_layer == layer else 0
        return Question("a" if nxt.kind == "forward" else "delta", layer, (k, j))
    if nxt.kind == "loss":
        return Question("loss", None, ())
    layer, j, i = sel.layer, sel.j, sel.i
    bias = net.bias and i == net.layers[layer - 1]
    if nxt.kind == "gradients":
        return Question("grad_b", layer, (j,)) if bias else Question("grad_w", layer, (j, i))
    return Question("b", layer, (j,)) if bias else Question("w", layer, (j, i))


class Quiz:
    """The key a of one app (``app.quiz``)."""

    def __init__(self, app: QuizHost) -> None:
        self.app = app
        self.typed: dict[int, list[Number]] = {}  # the numbers typed at each step, graded together

    def ask(self) -> None:
        app = self.app
        rec = app.record
        if rec is None or app.reveal.whole or app.reveal.update:
            app.notify("a asks for the number the next phase computes: take a step by phases with s first")
            return
        q = question(app.net, rec, app.reveal, app.selection)
        if q is None:
            return
        app.ask(f"step {rec.step}: your value of {q.name}", lambda text: self.answer(rec, q, text))

    def answer(self, record: StepRecord, q: Question, text: str | None) -> None:
        app = self.app
        if text is None or app.record is not record:
            return
        from ...tutor.answers import Number, parse_written
        from ...tutor.check import check_step, line_of

        written = parse_written(text)
        if written is None:
            app.notify(f"not a number: {text[:40]!r}", severity="warning")
            return
        number = Number(f"{q.name} (typed)", record.step, q.quantity, q.layer, q.index, written)
        typed = [n for n in self.typed.get(record.step, []) if n.name != number.name] + [number]
        self.typed = {record.step: typed}  # a new step starts a new quiz
        result = check_step(app.scenario, record, tuple(typed))
        app.checked.add(result)
        mine = next(g for g in result.graded if g.number is number)
        app.notify(line_of(mine), title="right" if mine.right else "wrong")
        app.show_record(record, reveal(app.net.depth, app.reveal.index + 1))
