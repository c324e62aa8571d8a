"""Check my work: an answers file graded against a scenario's run, and the first wrong number diagnosed.

    result = check_answers(scenario, "answers.toml")   # AnswersError on bad input
    print("\\n".join(result.lines()))                   # one line a number, then the diagnosis
    result.all_right

The true numbers are the StepRecords of a Trainer run on the scenario, from step 1 to the last step
answered (steps before the first answered one are run without records).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.escape import shown
from ..engine import Trainer
from ..engine.record import StepRecord
from ..scenario.reader import Scenario
from .answers import Answers, AnswersError, Number, check_against, read_answers
from .diagnosis import Diagnosis, Run, diagnose, inputs_said
from .grading import Graded, grade, shown_true
from .slips import Settings

MAX_SPAN = 100_000  # steps from the first answered to the last: their batches are kept


@dataclass(frozen=True)
class Result:
    answers: Answers
    graded: tuple[Graded, ...]
    diagnosis: Diagnosis | None
    layers: int  # L

    @property
    def all_right(self) -> bool:
        return all(g.right for g in self.graded)

    def lines(self) -> list[str]:
        out = [line_of(g) for g in self.graded]
        right = sum(g.right for g in self.graded)
        out.append(f"{right} of {len(self.graded)} right")
        if self.diagnosis is not None:
            said = inputs_said(self.diagnosis.first, self.graded, self.layers)
            out += self.diagnosis.lines(shown(self.answers.source), said)
        return out


def line_of(g: Graded) -> str:
    """``✓ step 1  delta[2][0, 1]  0.1385  (true 0.138498562)``."""
    mark = "✓" if g.right else "✗"
    n = g.number
    return f"{mark} step {n.step}  {n.name}  {shown(n.written.text)}  (true {shown_true(g.true)})"


def run_for(
    scenario: Scenario, answers: Answers
) -> tuple[dict[int, StepRecord], dict[int, tuple[int, ...]], str]:
    """The records of the answered steps, the batch of every step from the first answered one to
    the last, and why the run stopped if it stopped before the last answered step."""
    steps = sorted({n.step for n in answers.numbers})
    first, last = steps[0], steps[-1]
    if last - first >= MAX_SPAN:
        raise AnswersError(
            answers.source,
            f"step: the answers span steps {first} to {last}; at most {MAX_SPAN:,} steps apart",
        )
    wanted = set(steps)
    trainer = Trainer(scenario, history=1)
    records: dict[int, StepRecord] = {}
    batches: dict[int, tuple[int, ...]] = {}
    if first > 1:
        trainer.run(first - 1, record=False)
    stopped = f"it stops after step {trainer.step_count}"
    while trainer.step_count < last and not trainer.done:
        rec = trainer.step()
        batches[rec.step] = rec.batch
        if rec.step in wanted:
            records[rec.step] = rec
    if trainer.step_count < last:
        why = trainer.current_record()
        reason = why.stop_reason if why is not None and why.stop_reason else "max_steps"
        stopped = f"the run stops after step {trainer.step_count}: {reason}"
    return records, batches, stopped


def settings_of(scenario: Scenario) -> tuple[Settings | None, str]:
    """The settings of the slipped steps, or None and why the catalogue does not apply."""
    if scenario.optimizer != "gd":
        return None, f"the slips are those of plain gradient descent; this run uses {scenario.optimizer}"
    if scenario.l1 or scenario.l2:
        return None, "the slips are those of gradient descent without a penalty; this run has l1 or l2"
    if scenario.error_split != "gradient":
        return None, "this run learns from the proportional split, not the gradient"
    s = Settings(
        tuple(scenario.activations),
        scenario.loss,
        scenario.learning_rate,
        scenario.bias,
        scenario.update_biases,
    )
    return s, ""


def check_answers(scenario: Scenario, path: str | Path) -> Result:
    """Grade the answers file at ``path`` against ``scenario``; AnswersError on bad input."""
    return check_loaded(scenario, read_answers(path))


def check_loaded(scenario: Scenario, answers: Answers) -> Result:
    records, batches, stopped = run_for(scenario, answers)
    answers = check_against(answers, scenario.layers, records, stopped)
    graded = grade(answers.numbers, records)
    settings, why = settings_of(scenario)
    run = Run(
        settings,
        why,
        records,
        batches,
        np.asarray(scenario.inputs, float),
        np.asarray(scenario.targets, float),
    )
    return Result(answers, tuple(graded), diagnose(graded, run), len(scenario.layers) - 1)


def check_step(scenario: Scenario, record: StepRecord, numbers: tuple[Number, ...]) -> Result:
    """Numbers of one step (the app's quiz) graded against its record, the first wrong one
    diagnosed from the weights the record started from."""
    answers = Answers("your answers", numbers)
    graded = grade(numbers, {record.step: record})
    settings, why = settings_of(scenario)
    run = Run(
        settings,
        why,
        {record.step: record},
        {record.step: record.batch},
        np.asarray(scenario.inputs, float),
        np.asarray(scenario.targets, float),
    )
    return Result(answers, tuple(graded), diagnose(graded, run), len(scenario.layers) - 1)
