"""Many steps off the UI thread: in chunks, at a rate, handing the screen only the newest record.

No Textual here: the stepping controller (stepping.py) runs ``Runner.run`` inside a thread
worker and passes it three callables (the rate, whether to stop, and where to publish a
record). The Trainer is not thread-safe; the runner holds ``lock`` while it steps, one chunk
at a time, and the app takes the same lock before it touches the trainer, so a key never
meets a half-done step.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from ...engine import Network, StepRecord
from ...engine.accuracy import Classifier
from ...scenario.reader import Scenario

Array = np.ndarray


class Stepper(Protocol):
    """What the app steps: a live Trainer, or a recorded run played back (playback.RecordedRun)."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def initial_W(self) -> tuple[Array, ...]: ...
    @property
    def initial_b(self) -> tuple[Array, ...]: ...
    @property
    def initial_train_loss(self) -> float: ...
    @property
    def step_count(self) -> int: ...
    @property
    def stop_reason(self) -> str | None: ...
    @property
    def last_record(self) -> StepRecord | None: ...
    @property
    def losses(self) -> Sequence[float]: ...
    @property
    def train_losses(self) -> Sequence[float]: ...
    @property
    def test_losses(self) -> Sequence[float]: ...
    @property
    def initial_test_loss(self) -> float | None: ...
    @property
    def train_accuracies(self) -> Sequence[float]: ...  # a classifier's; empty otherwise
    @property
    def test_accuracies(self) -> Sequence[float]: ...
    @property
    def initial_train_accuracy(self) -> float | None: ...  # None: not a classifier
    @property
    def initial_test_accuracy(self) -> float | None: ...
    @property
    def X_test(self) -> Array | None: ...
    @property
    def T_test(self) -> Array | None: ...
    @property
    def classifier(self) -> Classifier | None: ...  # engine/accuracy.py; None: not a classifier
    @property
    def X(self) -> Array: ...
    @property
    def X_raw(self) -> Array: ...  # the raw inputs X is made from ([data] features), else X
    @property
    def T(self) -> Array: ...
    @property
    def network(self) -> Network: ...
    @property
    def done(self) -> bool: ...
    @property
    def undo_replays(self) -> bool: ...
    def step(self) -> StepRecord: ...
    def run(self, steps: int, record: bool = True) -> list[StepRecord]: ...
    def undo(self) -> StepRecord | None: ...
    def reset(self) -> None: ...


FRAME = 1 / 30  # at most this many records a second reach the screen
CHUNK_TIME = 0.02  # seconds of stepping between two checks for cancellation


def advance(trainer: Stepper, k: int) -> StepRecord | None:
    """Up to ``k`` more steps (fewer when the run stops); the record of the last one.

    Only the last step builds a StepRecord: the ones before it take the fast path.
    """
    if k > 1:
        trainer.run(k - 1, record=False)
    if not trainer.done:
        return trainer.step()
    return current_record(trainer)


def current_record(trainer: Stepper) -> StepRecord | None:
    """The record of the step that led to the trainer's state (None at step 0)."""
    rec = trainer.last_record
    if trainer.step_count == 0:
        return None
    if rec is None or rec.step != trainer.step_count:
        # the last step ran on the fast path: take it again, this time with a record
        trainer.undo()
        rec = trainer.step()
    return rec


class Runner:
    def __init__(
        self, trainer: Stepper, lock: threading.Lock, frame: Callable[[], float] = lambda: FRAME
    ) -> None:
        """``frame()``: the least time between two published records (read at every chunk),
        so that a screen slow to draw is sent fewer records and the steps keep their share
        of the interpreter."""
        self.trainer, self.lock, self.frame = trainer, lock, frame

    def run(
        self,
        steps: int | None,
        rate: Callable[[], float],
        cancelled: Callable[[], bool],
        publish: Callable[[StepRecord | None, bool], None],
    ) -> str:
        """Step until ``steps`` more are done (None: until the run stops by itself), at
        ``rate()`` steps a second (math.inf: as fast as possible; read again every chunk).

        ``publish(record, final)`` gets the newest record at most once every ``frame()`` seconds,
        and once more with final=True when the run ends by itself or the steps are done.
        Returns "stopped" (the run stopped by itself), "steps" or "cancelled"; after
        "cancelled" nothing is published.
        """
        trainer, done, chunk = self.trainer, 0, 1
        current = rate()
        t0, base = time.monotonic() - (0 if math.isinf(current) else 1 / current), 0
        last_publish = 0.0
        while True:
            if cancelled():
                return "cancelled"
            now = time.monotonic()
            r = rate()
            if r != current:  # the rate changed: count from here
                current, t0, base = r, now - (0 if math.isinf(r) else 1 / r), done
            due = chunk
            if not math.isinf(r):
                due = min(int((now - t0) * r) - (done - base), chunk)
                if due <= 0:
                    wait = (done - base + 1) / r - (now - t0)
                    time.sleep(min(max(wait, 0.001), 0.05))
                    continue
            if steps is not None:
                due = min(due, steps - done)
            with self.lock:
                if cancelled():
                    return "cancelled"
                before, started = trainer.step_count, time.perf_counter()
                record = advance(trainer, due)
                elapsed = time.perf_counter() - started
                ran = trainer.step_count - before
                stopped = trainer.done
            done += ran
            chunk = max(1, int(CHUNK_TIME * max(ran, 1) / max(elapsed, 1e-6)))
            if stopped or (steps is not None and done >= steps):
                publish(record, True)
                return "stopped" if stopped else "steps"
            if now - last_publish >= max(FRAME, self.frame()):
                publish(record, False)
                last_publish = now
