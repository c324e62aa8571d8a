"""Single steps (space, n, b, r) of a big network, off the UI thread, with a bounded queue.

No Textual here. A small network steps on the UI thread, as fast as a key (a step of xor
costs microseconds, and the screen shows it in the same frame). A step of a big one costs
milliseconds to tenths of a second (784-256-10 on 1,000 samples: a forward and a backward
pass over a mini-batch, then the training-set forward pass for the loss after the update),
so the app applies it in a thread worker and the keys, the footer and the command palette
keep working meanwhile.

Keys that arrive while a step runs join ``Pending``: runs of one kind (step x5, back x2),
a reset dropping everything before it. The next worker applies them all at once and the
screen draws only the state they lead to, so steps keep pace with a held-down key instead
of queueing a frame each. The queue holds at most about QUEUE_SECONDS of work, judged by
how long operations take, so holding space on a slow network never builds a backlog: when
the key is released, at most that much stepping follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ...engine import StepRecord, Trainer
from .play import Stepper, advance, current_record

BACKGROUND_COST = 2_000_000  # multiply-adds a step above which single steps leave the UI thread
QUEUE_SECONDS = 0.5  # the most work that keys may queue up while a step runs
KINDS = ("step", "back", "reset")


def step_cost(trainer: Trainer) -> int:
    """Multiply-adds of one step, roughly: forward and backward over the batch (about three
    products a weight a sample) and the forward pass over the training set after the update."""
    weights = sum(w.size for w in trainer.initial_W)
    return (len(trainer.X) + 3 * trainer.schedule.size) * weights


def in_background(trainer: Trainer) -> bool:
    return step_cost(trainer) > BACKGROUND_COST


class Pending:
    """Operations asked for while a worker applies others: [kind, count] runs, in order."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.runs: list[list] = []
        self.clock = clock
        self.seconds_per_op = 0.0  # moving average over finished workers (0: none yet)
        self._started: float | None = None  # when the running worker started
        self._running = 0  # operations it applies

    @property
    def count(self) -> int:
        return sum(n for _, n in self.runs)

    def limit(self) -> int:
        """How many operations may wait: QUEUE_SECONDS of them, judged by the average so far
        and by how long the running worker has taken (a first, slow step counts at once)."""
        per_op = self.seconds_per_op
        if self._started is not None and self._running:
            per_op = max(per_op, (self.clock() - self._started) / self._running)
        return max(1, int(QUEUE_SECONDS / per_op)) if per_op > 0 else 64

    def push(self, kind: str) -> bool:
        """Queue one operation; False when the queue is full and it was dropped. A reset
        replaces whatever was queued (it makes it moot) and is never dropped."""
        assert kind in KINDS
        if kind == "reset":
            self.runs = [["reset", 1]]
            return True
        if self.count >= self.limit():
            return False
        if self.runs and self.runs[-1][0] == kind:
            self.runs[-1][1] += 1
        else:
            self.runs.append([kind, 1])
        return True

    def take(self) -> list[tuple[str, int]]:
        runs, self.runs = [(k, n) for k, n in self.runs], []
        return runs

    def clear(self) -> None:
        self.runs = []
        self._started, self._running = None, 0

    def began(self, ops: list[tuple[str, int]]) -> None:
        self._started, self._running = self.clock(), sum(n for _, n in ops)

    def ended(self) -> None:
        if self._started is not None and self._running:
            per_op = (self.clock() - self._started) / self._running
            old = self.seconds_per_op
            self.seconds_per_op = per_op if old == 0 else 0.7 * old + 0.3 * per_op
        self._started, self._running = None, 0


@dataclass(frozen=True)
class Outcome:
    """What applying some operations did: the record to draw and what to tell the user."""

    record: StepRecord | None  # of the step that led to the trainer's state (None at step 0)
    stopped: str | None = None  # a step was asked for after the run had stopped: its reason
    at_zero: bool = False  # a step back was asked for at step 0
    ended: bool = False  # a step of these ended the run by itself (record.stop_reason says why)


def apply(
    trainer: Stepper, ops: list[tuple[str, int]], cancelled: Callable[[], bool] = lambda: False
) -> Outcome:
    """Apply ``ops`` in order; the caller holds the trainer (its lock, or the UI thread)."""
    stopped, at_zero, ended = None, False, False
    for kind, count in ops:
        if cancelled():
            break
        if kind == "reset":
            trainer.reset()
            ended = False
        elif kind == "step":
            if trainer.done:
                stopped = trainer.stop_reason
                continue
            advance(trainer, count)
            ended = trainer.done
        else:
            if not can_undo(trainer):
                at_zero = True
                continue
            for _ in range(count):  # each takes back a step, or an edit made after the last one
                if not can_undo(trainer):
                    break
                trainer.undo()
            ended = False
    return Outcome(current_record(trainer), stopped, at_zero, ended)


def can_undo(trainer: Stepper) -> bool:
    """Whether b has something to take back: a step, or a live run's edit made at step 0 (a
    replay's recorded edits are not taken back, only passed)."""
    return trainer.step_count > 0 or (isinstance(trainer, Trainer) and bool(trainer.edits))


def busy_text(pending: Pending) -> str:
    """The header's activity while the worker of single steps runs."""
    n = pending.count
    return "stepping" + (f", {n} more queued" if n else "")
