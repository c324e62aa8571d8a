"""RecordedRun: a recorded run played back through the Trainer's interface, computing nothing.

The app steps whatever it is given the way it steps a Trainer (tui/control/play.py's Stepper):
``step()`` moves to the next recorded step and returns its StepRecord, ``undo()`` to the one
before, ``reset()`` to step 0, ``run(n)`` n steps on; ``losses`` and ``train_losses`` grow
and shrink with the position as a Trainer's do. Every record is the one read from the trace.

``continue_from(record, scenario)`` is the way out of a recording: a live Trainer that
carries on from a recorded step (see Trainer.start_from), and ``write_trace`` exports a
recording, or a live continuation of one, without recomputing the recorded steps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..engine import Edit, Network, StepRecord, Trainer, TrainingStopped, get_activation, get_loss
from ..engine.accuracy import classifier_of
from ..engine.regularization import Penalty
from .reader import Recording
from .writer import ExportCancelled, TraceWriter, never, replay_edits, summary_stop_reason

END = "end of the recording"  # the stop reason at the last step of a recording that did not stop by itself


class RecordedRun:
    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.scenario = recording.scenario
        self.initial_W, self.initial_b = recording.initial_W, recording.initial_b
        self.X, self.T = recording.scenario.inputs, recording.scenario.targets
        raw = getattr(recording.scenario, "raw_inputs", None)  # [data] features: the raw points
        self.X_raw = self.X if raw is None else raw
        self.X_test, self.T_test = recording.scenario.test_inputs, recording.scenario.test_targets
        s = recording.scenario
        self.network = Network(tuple(get_activation(a) for a in s.activations), get_loss(s.loss), s.bias)
        self.classifier = classifier_of(s.activations[-1], s.loss, self.T, self.T_test)
        self.penalty = Penalty(s.l1, s.l2)
        self.initial_train_loss = recording.initial_train_loss
        self.initial_test_loss = recording.initial_test_loss
        self._records = recording.records
        self._losses = [r.loss for r in self._records]
        self._train_losses = [r.train_loss for r in self._records]
        has_test = self.X_test is not None
        self._test_losses = [_nan(r.test_loss) for r in self._records] if has_test else []
        # a classifier's accuracies (engine/accuracy.py), as recorded; none for another run
        self.initial_train_accuracy = recording.initial_train_accuracy
        self.initial_test_accuracy = recording.initial_test_accuracy
        classifier = self.initial_train_accuracy is not None
        self._train_accuracies = [_nan(r.train_accuracy) for r in self._records] if classifier else []
        test_accuracies = classifier and self.initial_test_accuracy is not None
        self._test_accuracies = [_nan(r.test_accuracy) for r in self._records] if test_accuracies else []
        self.reset()

    def reset(self) -> None:
        """Back to step 0 (new loss lists, as a Trainer's reset makes)."""
        self.step_count = 0
        self.last_record: StepRecord | None = None
        self.losses: list[float] = []
        self.train_losses: list[float] = []
        self.test_losses: list[float] = []  # empty without a test set
        self.train_accuracies: list[float] = []  # empty for a run that is not a classifier
        self.test_accuracies: list[float] = []  # ... or without a test set

    @property
    def edits(self) -> tuple[Edit, ...]:
        """The recorded edits made up to the step the playback is at (those after it included)."""
        return tuple(e for e in self.recording.edits if e.step <= self.step_count)

    @property
    def steps(self) -> int:
        """The number of recorded steps."""
        return len(self._records)

    @property
    def done(self) -> bool:
        return self.step_count == len(self._records)

    @property
    def stop_reason(self) -> str | None:
        """At the last recorded step: why the run stopped there (``END`` when it did not stop by itself)."""
        if not self.done:
            return None
        last = self._records[-1] if self._records else None
        return (last.stop_reason if last else None) or END

    @property
    def epoch(self) -> int:
        return self.last_record.epoch if self.last_record else 1

    @property
    def undo_replays(self) -> bool:
        return False  # every record is in memory

    def _go(self, step: int) -> StepRecord | None:
        lists = [(self.losses, self._losses), (self.train_losses, self._train_losses)]
        if self._test_losses:
            lists.append((self.test_losses, self._test_losses))
        if self._train_accuracies:
            lists.append((self.train_accuracies, self._train_accuracies))
        if self._test_accuracies:
            lists.append((self.test_accuracies, self._test_accuracies))
        for shown, recorded in lists:
            if step < self.step_count:
                del shown[step:]
            else:
                shown.extend(recorded[self.step_count : step])
        self.step_count = step
        self.last_record = self._records[step - 1] if step else None
        return self.last_record

    def step(self) -> StepRecord:
        """The next recorded step; TrainingStopped after the last one."""
        if self.done:
            raise TrainingStopped(f"the recording ends at step {self.step_count}")
        record = self._go(self.step_count + 1)
        assert record is not None
        return record

    def run(self, steps: int, record: bool = True) -> list[StepRecord]:
        """Up to ``steps`` recorded steps on; their records (none with ``record=False``)."""
        start = self.step_count
        self._go(min(start + max(steps, 0), len(self._records)))
        return list(self._records[start : self.step_count]) if record else []

    def undo(self) -> StepRecord | None:
        """The recorded step before; its record (None at step 0)."""
        return self._go(max(self.step_count - 1, 0))

    def seek(self, step: int) -> StepRecord | None:
        """Straight to recorded step ``step`` (0 to the last)."""
        return self._go(max(0, min(step, len(self._records))))


def _nan(x: float | None) -> float:
    return float("nan") if x is None else x


def continue_from(run: RecordedRun, history: int) -> Trainer:
    """A live Trainer that carries on from the step ``run`` is at, as the original run did.

    The recorded edits made up to that step (those after it included) are in effect.

    ValueError for a step where the run stopped by itself or whose weights are not finite (no
    step can follow), or at step 0 for
    a trace whose initial weights are not those its scenario makes (only a hand-made one)."""
    trainer = Trainer(run.scenario, history=history)
    record = run.last_record
    if record is None:
        record_W, record_b = run.initial_W, run.initial_b
    else:
        record_W = tuple(lr.w for lr in record.layers)
        record_b = tuple(lr.b for lr in record.layers)
    if record is not None and record.stop_reason:
        raise ValueError(f"the run stopped by itself here ({record.stop_reason}): step back to continue")
    if not all(np.isfinite(a).all() for a in record_W + record_b):
        raise ValueError(f"the weights after step {run.step_count} are not finite: no step can follow")
    if record is not None:
        trainer.start_from(
            record,
            run.losses,
            run.train_losses,
            run.test_losses,
            run.train_accuracies,
            run.test_accuracies,
            edits=run.edits,
        )
    elif not all(
        np.array_equal(a, b) for a, b in zip(trainer.W + trainer.b, record_W + record_b, strict=True)
    ):
        raise ValueError(
            "the trace's initial weights are not those its [init] makes: continue from step 1 on"
        )
    else:
        replay_edits(trainer, run.edits, 0)
    return trainer


def write_trace(
    path: str | Path,
    run: RecordedRun,
    live: Trainer | None = None,
    origin: int = 0,
    replace: bool = True,
    cancelled: Callable[[], bool] = never,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Path:
    """Export the recorded steps up to ``run``'s position, or, with ``live`` (a Trainer that
    continued from recorded step ``origin``), the recorded steps 1..origin then the live ones
    replayed from there. The same bytes as the export of the original run at that step.
    ``replace`` and ``cancelled``: as for trace.write_trace; ``progress(done, total)`` is called
    after each step written."""
    records = run.recording.records
    total = run.step_count if live is None else live.step_count

    def check() -> None:
        if cancelled():
            raise ExportCancelled(str(path))

    # the header: the recording's scenario, data and initial weights
    with TraceWriter(path, run, replace=replace) as writer:
        for done, rec in enumerate(records[: run.step_count if live is None else origin], start=1):
            check()
            writer.write_step(rec)
            progress(done, total)
        if live is None:
            last = records[run.step_count - 1] if run.step_count else None
            final = last.train_loss if last else run.initial_train_loss
            reason = (last.stop_reason if last else None) or "steps"
            if run.step_count == len(records):  # the whole run: its edits after its last step too
                return writer.close(run.recording.final_loss, reason, run.recording.edits)
            # the run as it was at that step: its edits after the step before
            return writer.close(final, reason, [e for e in run.recording.edits if e.step < run.step_count])
        again = Trainer(run.scenario, history=1)
        made = 0
        if origin:
            kept = tuple(e for e in run.recording.edits if e.step <= origin)  # continue_from's
            again.start_from(records[origin - 1], edits=kept)
            made = len(kept)
        made = replay_edits(again, live.edits, made)
        final = again.final_train_loss if origin or made else run.initial_train_loss
        for done in range(origin + 1, live.step_count + 1):
            check()
            writer.write_step(again.step())
            made = replay_edits(again, live.edits, made)
            final = again.final_train_loss
            progress(done, total)
        return writer.close(final, summary_stop_reason(again, "steps"), live.edits)
