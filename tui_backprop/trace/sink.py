"""Where a headless run writes its steps, whatever the format: a JSON trace (writer.py), a CSV
table (csv_out.py) or numpy arrays (npz_out.py); export.py chooses one by the file's suffix."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..engine import StepRecord, Trainer


class StepSink(Protocol):
    """What a headless run hands its steps to (TraceWriter is one): ``run`` takes steps and
    writes those kept, ``write_last`` the last step if it was not kept, ``close`` puts the finished
    file in place, ``abort`` drops an unfinished one (a no-op once closed)."""

    def run(self, trainer: Trainer, steps: int) -> None: ...
    def write_last(self, trainer: Trainer) -> None: ...
    def close(self, final_loss: float, stop_reason: str) -> Path: ...
    def abort(self) -> None: ...


class KeptSteps:
    """Every ``every``-th step kept, and the last: the rule of a trace's --every, for the
    formats other than JSON. A subclass writes one record in ``write_step``."""

    def __init__(self, every: int) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every = every
        self.last_step = 0  # the number of the last step written
        self.steps = 0  # how many were written

    def write_step(self, rec: StepRecord) -> None:
        raise NotImplementedError

    def run(self, trainer: Trainer, steps: int) -> None:
        """Up to ``steps`` more steps of ``trainer``: one record at a time in memory, and none for
        the steps ``every`` skips."""
        end = trainer.step_count + steps
        while trainer.step_count < end and not trainer.done:
            due = (trainer.step_count // self.every + 1) * self.every  # the next step to keep
            if skipped := min(due - 1, end) - trainer.step_count:  # none at all when every is 1
                trainer.run(skipped, record=False)
            if trainer.step_count < end and not trainer.done:
                rec = trainer.step()
                if rec.step % self.every == 0:
                    self.write_step(rec)

    def write_last(self, trainer: Trainer) -> None:
        if trainer.step_count > self.last_step:
            rec = trainer.current_record()
            if rec is not None:
                self.write_step(rec)
