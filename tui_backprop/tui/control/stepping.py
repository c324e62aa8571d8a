"""The stepping keys of the app (space, n, b, r, p, f, +, -) as a controller the app owns
(``app.stepping``): which thread takes a step, and which record reaches the screen.

    space, n, b, r    one step, step back or reset: on the UI thread for a small network; for a
                      big one (step_queue.py) in a thread worker (``busy``), keys pressed meanwhile
                      queueing up in ``pending`` (bounded) and applied together by the next worker
    p, f, +100 ...    a thread worker (group "trainer") steps under ``app.trainer_lock`` in chunks
                      (play.py's Runner) and posts ``Progress`` with the newest record; a Progress
                      may replace an older one still queued, so the screen draws the newest record,
                      never a backlog
    + and -           the play rate, one of RATES

Any key that changes the trainer first pauses the worker (``pause``). Each worker carries the
``generation`` it was started in: a message from a worker the screen stopped following (a
pause, a reset) is dropped. The controller knows the app only through ``SteppingHost``.
"""

from __future__ import annotations

import math
import threading
import time
from functools import partial
from typing import Any, Protocol

from textual.message import Message
from textual.worker import Worker, get_current_worker

from ...common.words import count
from ...engine import StepRecord
from ...engine.phases import FULL, Reveal
from ..widgets.stats import WARM_SIZE, warm
from .play import Runner, Stepper, current_record
from .step_queue import Outcome, Pending, apply, can_undo

RATES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 10000.0, math.inf)
DEFAULT_RATE = RATES.index(10.0)


def rate_text(rate: float) -> str:
    return "at max speed" if math.isinf(rate) else f"{rate:g}/s"


class Progress(Message):
    """From the stepping worker: the newest record; ``final`` when the worker has ended."""

    def __init__(self, generation: int, record: StepRecord | None, final: bool) -> None:
        super().__init__()
        self.generation, self.record, self.final = generation, record, final

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress)


class Applied(Message):
    """From the worker of single steps: what they did."""

    def __init__(self, generation: int, outcome: Outcome) -> None:
        super().__init__()
        self.generation, self.outcome = generation, outcome


class FirstPhase(Protocol):
    def first_phase(self, record: StepRecord | None) -> Reveal: ...


class SteppingHost(Protocol):
    """What the stepping controller uses of the app that owns it."""

    trainer: Stepper
    trainer_lock: threading.Lock
    background_steps: bool  # single steps in a worker (a big network)

    @property
    def phases(self) -> FirstPhase: ...

    def show_record(self, record: StepRecord | None, reveal: Reveal = FULL) -> None: ...
    def draw_header(self) -> None: ...
    def say_if_stopped(self) -> bool: ...
    def announce(self, record: StepRecord | None) -> None: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...
    def run_worker(
        self,
        work: Any,
        *,
        thread: bool = ...,
        exclusive: bool = ...,
        group: str = ...,
        exit_on_error: bool = ...,
    ) -> Any: ...
    def call_from_thread(self, callback: Any, *args: Any, **kwargs: Any) -> Any: ...
    def post_message(self, message: Message) -> bool: ...


class Stepping:
    """The stepping workers of one app and what the header says about them."""

    def __init__(self, app: SteppingHost) -> None:
        self.app = app
        self.playing = False  # the play worker runs (p, f, +100 ...)
        self.activity = "paused"  # what the header says while playing
        self.rate_index = DEFAULT_RATE
        self.pending = Pending()  # single-step keys pressed while the worker applies others
        self.busy = False  # the worker of single steps runs
        self.generation = 0  # bumped whenever the screen stops listening to a worker
        self.worker: Worker[None] | None = None
        self.draw_seconds = 0.0  # moving average of the time show_record takes during a run

    @property
    def rate(self) -> float:
        return RATES[self.rate_index]

    def set_rate(self, index: int) -> None:
        self.rate_index = max(0, min(index, len(RATES) - 1))
        self.app.draw_header()

    def pause(self) -> None:
        """Stop the stepping worker, if one runs, and draw the trainer's state."""
        if self.worker is None:
            return
        app = self.app
        self.worker.cancel()
        with app.trainer_lock:  # waits for the chunk (or the single step) in progress
            self.worker = None
            self.generation += 1
            self.playing = self.busy = False
            self.pending.clear()
            record = current_record(app.trainer)
        app.show_record(record)

    # -- single steps ----------------------------------------------------------------------

    def single(self, kind: str) -> None:
        """One step, step back or reset: at once, or queued while the worker applies others."""
        app = self.app
        if self.busy:
            if self.pending.push(kind):
                app.draw_header()
            return
        self.pause()
        if kind == "step" and app.say_if_stopped():
            return
        if kind == "back" and not can_undo(app.trainer):
            app.notify("already at step 0", severity="information")
            return
        if kind == "back" and app.trainer.undo_replays and not app.background_steps:
            # beyond the steps kept in memory, step back replays from the start: off the UI thread
            self.start(None, "stepping back (replaying)", undo=True)
        elif app.background_steps:
            self.apply_in_worker([(kind, 1)])
        else:
            self._applied(apply(app.trainer, [(kind, 1)]))

    def apply_in_worker(self, ops: list[tuple[str, int]]) -> None:
        self.generation += 1
        self.busy = True
        self.pending.began(ops)
        self.worker = self._run(partial(self._applying, self.generation, ops))
        self.app.draw_header()

    def _applying(self, generation: int, ops: list[tuple[str, int]]) -> None:
        """In the worker: apply ``ops`` to the trainer and post what they did."""
        app = self.app
        worker = get_current_worker()
        with app.trainer_lock:
            try:
                outcome = apply(app.trainer, ops, lambda: worker.is_cancelled)
            except Exception as e:  # as in _stepping: say it, never crash
                app.call_from_thread(app.notify, f"{type(e).__name__}: {e}", severity="error")
                outcome = Outcome(current_record(app.trainer))
        warm(outcome.record, WARM_SIZE)
        app.post_message(Applied(generation, outcome))

    def applied(self, message: Applied) -> None:
        """On the UI thread, from the app's handler of ``Applied``."""
        if message.generation != self.generation:
            return  # from a worker the screen no longer follows (pause)
        self.worker, self.busy = None, False
        self.pending.ended()
        self._applied(message.outcome)
        if self.pending.runs:
            self.apply_in_worker(self.pending.take())

    def _applied(self, outcome: Outcome) -> None:
        app = self.app
        if outcome.stopped:
            app.say_if_stopped()
        if outcome.at_zero:
            app.notify("already at step 0", severity="information")
        app.show_record(outcome.record, app.phases.first_phase(outcome.record))
        if outcome.ended:
            app.announce(outcome.record)

    # -- play, run, step back by replaying ----------------------------------------------------

    def play(self) -> None:
        """p: play, or pause when playing."""
        if self.playing:
            self.pause()
            return
        self.start(None, "playing")

    def run(self, steps: int) -> None:
        self.start(steps, f"running {count(steps, 'step')}")

    def start(self, steps: int | None, activity: str, undo: bool = False) -> None:
        """A worker that takes ``steps`` steps (None: until paused or stopped), or one step
        back (``undo``) by replaying."""
        self.pause()
        if not undo and self.app.say_if_stopped():
            return
        self.generation += 1
        self.playing, self.activity = True, activity
        self.worker = self._run(partial(self._stepping, self.generation, steps, undo))
        self.app.draw_header()

    def _run(self, work: partial[None]) -> Worker[None]:
        return self.app.run_worker(work, thread=True, exclusive=True, group="trainer", exit_on_error=False)  # type: ignore[no-any-return]

    def _stepping(self, generation: int, steps: int | None, undo: bool) -> None:
        """In the worker: step in chunks, posting the newest record (Runner.run)."""
        app = self.app
        worker = get_current_worker()

        def publish(record: StepRecord | None, final: bool) -> None:
            if app.background_steps:  # a big network: its display statistics, off the UI thread
                warm(record, WARM_SIZE)
            app.post_message(Progress(generation, record, final))

        try:
            if undo:
                with app.trainer_lock:
                    if not worker.is_cancelled:
                        publish(app.trainer.undo(), True)
                return
            rate = (lambda: self.rate) if steps is None else (lambda: math.inf)
            runner = Runner(app.trainer, app.trainer_lock, lambda: 5 * self.draw_seconds)
            runner.run(steps, rate, lambda: worker.is_cancelled, publish)
        except Exception as e:  # an app never crashes on a bug in a step: say it and stop
            app.call_from_thread(app.notify, f"{type(e).__name__}: {e}", title="error", severity="error")
            with app.trainer_lock:
                app.post_message(Progress(generation, current_record(app.trainer), True))

    def progress(self, message: Progress) -> None:
        """On the UI thread, from the app's handler of ``Progress``: draw the newest record."""
        if message.generation != self.generation:
            return  # from a worker the screen no longer follows
        if message.final:
            self.worker, self.playing = None, False
        started = time.perf_counter()
        self.app.show_record(message.record)
        # what a frame costs the UI thread (the compositor's share is about as much again):
        # the worker sends records no faster than the screen draws them with time to spare
        self.draw_seconds = 0.8 * self.draw_seconds + 0.2 * (time.perf_counter() - started)
        if message.final:
            self.app.announce(message.record)
