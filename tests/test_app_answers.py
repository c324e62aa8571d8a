"""Check my work in the app: an answers file's numbers marked in their panels with the diagnosis
in the explain panel (--answers without --headless), and the quiz key a. Each key has its comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app_harness import drive
from test_slips import NET, as_answers, by_hand
from textual.widgets import Input

from tui_backprop.engine import StepRecord, Trainer
from tui_backprop.engine.phases import FULL, Reveal, reveal
from tui_backprop.scenario.reader import Scenario, loads_scenario
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.quiz import Checked, Quiz
from tui_backprop.tui.control.selection import Selection
from tui_backprop.tui.netinfo import NetInfo
from tui_backprop.tui.panels.explain import ExplainPanel
from tui_backprop.tui.panels.grids import BackwardPanel, ForwardPanel
from tui_backprop.tui.screens.answer import AnswerScreen
from tui_backprop.tui.widgets.numbers import style
from tui_backprop.tutor.answers import loads_answers
from tui_backprop.tutor.check import check_loaded
from tui_backprop.tutor.slips import CATALOGUE


def styled(panel, name: str) -> list[str]:
    """The pieces of ``panel``'s text drawn in the style ``name``."""
    want = style(name)
    return [
        line.plain[s.start : s.end]
        for line in panel.build_lines(120)
        for s in line.spans
        if not isinstance(s.style, str) and (s.style.color, s.style.bgcolor) == (want.color, want.bgcolor)
    ]


async def typed(s, app: BackpropApp, text: str) -> None:
    """The prompt of a filled in with ``text`` (as typing it would), then enter."""
    assert isinstance(app.screen, AnswerScreen)
    app.screen.query_one(Input).value = text
    await s.press("enter")


async def test_an_answers_file_is_marked_in_its_panels_and_diagnosed():
    scenario = loads_scenario(NET, "net.toml")
    numbers = by_hand("error-sign")
    mine = {k: numbers[k] for k in ("a[1]", "delta[2]")}
    result = check_loaded(scenario, loads_answers(as_answers(mine, 4), "mine.toml"))
    app = BackpropApp(scenario)
    app.show_answers(result)
    async with drive(app) as s:
        await s.press("space")  # space: step 1, whose numbers were answered
        forward, backward = app.query_one(ForwardPanel), app.query_one(BackwardPanel)
        assert len(styled(forward, "right")) == 4  # a[1]: 2 samples x 2 nodes, all right
        assert styled(forward, "wrong") == []
        assert len(styled(backward, "wrong")) == 2  # delta[2] of both samples, the sign turned
        explain = app.query_one(ExplainPanel).text
        assert "your answers" in explain
        assert "diagnosis: error-sign" in explain
        await s.press("space")  # space: step 2, of which nothing was answered
        assert styled(app.query_one(ForwardPanel), "right") == []


async def test_the_quiz_key_asks_checks_marks_and_shows_the_phase():
    scenario = loads_scenario(NET, "net.toml")
    rec = Trainer(scenario).step()
    app = BackpropApp(scenario)
    async with drive(app) as s:
        await s.press("a")  # a at step 0: it needs a step taken by phases
        assert s.noted("take a step by phases with s first")
        await s.press("s")  # s: phase 1, forward layer 1; the next phase computes a[2]
        await s.press("a")  # a: asks for a[2][0, 0] (the selected weight goes into node 0)
        await typed(s, app, f"{rec.layers[1].a[0, 0]:.4f}")  # the true value, 4 decimals, enter
        assert app.reveal.index == 2  # the phase it asked about is shown
        assert app.checked.cells(app.record, "a", 2) == {(0, 0): True}
        assert s.noted("✓ step 1  a[2][0, 0]")
        assert "✓ step 1  a[2][0, 0]" in app.query_one(ExplainPanel).text


# -- the quiz's logic, without the app ---------------------------------------------------------


@dataclass
class Host:
    """What the quiz uses of the app, with the typed answers given in advance."""

    scenario: Scenario
    record: StepRecord | None = None
    reveal: Reveal = FULL
    selection: Selection = field(default_factory=Selection)
    checked: Checked = field(default_factory=Checked)
    answers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = Trainer(self.scenario)
        self.net = NetInfo.build(self.scenario, t.initial_W, t.initial_b)

    def show_record(self, record, reveal=FULL) -> None:
        self.record, self.reveal = record, reveal

    def notify(self, message: str, *, title: str = "", severity: str = "information") -> None:
        self.notes.append(message)

    def ask(self, prompt: str, then) -> None:
        self.prompts.append(prompt)
        then(self.answers.pop(0))


def test_the_quiz_asks_each_phase_s_number_and_diagnoses_a_wrong_one() -> None:
    scenario = loads_scenario(NET, "net.toml")
    rec = Trainer(scenario).step()
    d = rec.layers[1].delta[0, 0]
    host = Host(scenario, answers=[f"{rec.layers[1].a[0, 0]:.4f}", f"{rec.loss:.5f}", f"{-d:.4f}", "x"])
    host.show_record(rec, reveal(2, 1))  # phase 1 of step 1 on screen
    quiz = Quiz(host)
    for _ in range(4):
        quiz.ask()
    assert host.prompts == [
        "step 1: your value of a[2][0, 0]",
        "step 1: your value of loss",
        "step 1: your value of delta[2][0, 0]",
        "step 1: your value of delta[1][0, 0]",
    ]
    assert host.reveal.index == 4  # three answers checked, three phases shown; "x" is no number
    assert host.notes[-1] == "not a number: 'x'"
    assert host.checked.cells(rec, "delta", 2) == {(0, 0): False}
    lines = host.checked.lines(rec)
    assert lines[0] == "your answers"
    assert [line[:1] for line in lines[1:4]] == ["✓", "✓", "✗"]
    assert "diagnosis: error-sign: " + CATALOGUE[0].sentence in lines


def test_the_quiz_asks_for_the_selected_weight_s_gradient_and_update() -> None:
    scenario = loads_scenario(NET, "net.toml")
    rec = Trainer(scenario).step()
    host = Host(scenario, selection=Selection().with_weight(1, 1, 2))  # b[1][1]: column 2 is the bias
    host.show_record(rec, reveal(2, 5))  # the deltas are shown: the gradients come next
    host.answers = [f"{rec.layers[0].grad_b[1]:.6e}", f"{rec.layers[0].b[1]:.6e}"]
    quiz = Quiz(host)
    quiz.ask()
    quiz.ask()
    assert host.prompts == ["step 1: your value of grad_b[1][1]", "step 1: your value of b[1][1]"]
    assert host.checked.cells(rec, "b", 1) == {(1, 0): True}
    quiz.ask()  # the update is shown: nothing is left to ask
    assert len(host.prompts) == 2
