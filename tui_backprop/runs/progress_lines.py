"""Plain progress lines (see progress.py), and what any progress display reads of a run."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Protocol, TextIO

INTERVAL = 2.0  # seconds between plain lines


class Tracked(Protocol):
    """What a bar reads: a Trainer."""

    @property
    def step_count(self) -> int: ...
    @property
    def epoch(self) -> int: ...
    @property
    def train_losses(self) -> Sequence[float]: ...
    @property
    def initial_train_loss(self) -> float: ...


def current_loss(trainer: Tracked) -> float:
    """The training-set loss after the last step (before the first: the initial one); a Trainer
    between evaluations ([training] evaluate_every) computes it for its current weights."""
    final = getattr(trainer, "final_train_loss", None)
    if final is not None:
        return float(final)
    return trainer.train_losses[-1] if trainer.train_losses else trainer.initial_train_loss


class Lines:
    """Plain progress lines, one every ``interval`` seconds a run and its last."""

    def __init__(self, stream: TextIO, interval: float = INTERVAL) -> None:
        self.stream = stream
        self.interval = interval

    def bar(self, label: str, total: int) -> LineBar:
        return LineBar(self, total)

    def close(self) -> None:
        pass


class LineBar:
    def __init__(self, lines: Lines, total: int) -> None:
        self.lines = lines
        self.total = total
        self.last = -math.inf  # the first update prints, however long the machine has been up
        self.shown = -1  # the step of the last line printed

    def update(self, trainer: Tracked, force: bool = False) -> None:
        now = time.monotonic()
        if trainer.step_count == self.shown or (not force and now - self.last < self.lines.interval):
            return  # nothing new to show (a final forced update must not repeat the last line)
        self.last, self.shown = now, trainer.step_count
        loss = current_loss(trainer)
        line = f"step {trainer.step_count}/{self.total}  epoch {trainer.epoch}  loss {loss:.6g}"
        print(line, file=self.lines.stream, flush=True)
