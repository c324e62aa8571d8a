"""A run without a screen: steps in chunks that grow while they are quick, so that Ctrl+C and
the progress line are looked at about every CHUNK_SECONDS, whatever a step costs.

One loop for ``--headless`` (cli.py) and for each variant of ``--vary --headless`` (vary.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..common.percent import percent
from ..engine import Trainer
from ..trace.sink import StepSink

CHUNK_SECONDS = 0.05  # at most about this long between two checks for Ctrl+C and progress
MAX_CHUNK = 4096


def run_in_chunks(
    trainer: Trainer,
    total: int,
    writer: StepSink | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[Trainer], None] = lambda t: None,
) -> None:
    """Step ``trainer`` until it has taken ``total`` steps, stops by itself or ``cancelled()``;
    each step goes through ``writer`` (a trace, a CSV or npz export) when one is given. ``progress(trainer)``
    after each chunk. A chunk starts at one step and doubles (up to MAX_CHUNK) while it takes
    less than CHUNK_SECONDS."""
    chunk = 1
    while trainer.step_count < total and not trainer.done and not cancelled():
        n = min(chunk, total - trainer.step_count)
        started = time.perf_counter()
        if writer:
            writer.run(trainer, n)
        else:
            trainer.run(n, record=False)
        if time.perf_counter() - started < CHUNK_SECONDS:
            chunk = min(2 * chunk, MAX_CHUNK)
        progress(trainer)


def accuracy_summary(trainer: Trainer) -> str:
    """A classifier's part of the headless summary: ``training accuracy 97.5%, test accuracy
    96.7%, `` of the weights the run ended with (engine/accuracy.py); "" for another run."""
    train, test = trainer.final_accuracies
    if train is None:
        return ""
    return f"training accuracy {percent(train)}, " + (
        f"test accuracy {percent(test)}, " if test is not None else ""
    )
