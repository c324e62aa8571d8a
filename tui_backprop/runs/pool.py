"""--vary ... --jobs N: the variants of a comparison in N worker processes.

A standard-library process pool (concurrent.futures, forked workers): each worker runs whole
variants with runs/vary.py's run_variant, exactly as one process would, and writes its own
traces; the results come back in the variants' order, so the table and the traces are the same,
byte for byte, as with --jobs 1. Each worker uses one BLAS thread (common/threads.py) unless
the setting says otherwise: N workers on N cores do not fight over them.

Ctrl+C or SIGTERM reach the parent only (the workers ignore them): it sets a shared flag that
every worker checks between chunks of steps, so each running variant ends at a step boundary
with a complete trace, as a single run does; variants not yet started are not run.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from ..common.threads import limit_blas_threads
from ..engine import Trainer
from ..trace.sink import StepSink
from .vary import Result, Variant, run_variant

WriterFor = Callable[[Path | None, Trainer], StepSink | None]

_stop: Any = None  # the shared "stop now" flag, in a worker


def _start_worker(stop: Any, threads: int | None) -> None:
    global _stop
    _stop = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, through ``stop``
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_blas_threads(threads)


def _stopped() -> bool:
    return bool(_stop is not None and _stop.is_set())


Outcome = tuple[Result, Path | None] | None  # None: stopped before it started


def _run(variant: Variant, steps: int | None, writer_for: WriterFor, path: Path | None) -> Outcome:
    if _stopped():
        return None
    result, _, written = run_variant(variant, steps, lambda t: writer_for(path, t), _stopped)
    return result, written


def run_variants(
    variants: Sequence[Variant],
    steps: int | None,
    writer_for: WriterFor,
    paths: Sequence[Path | None],
    jobs: int,
    threads: int | None,
    stop_requested: Callable[[], bool],
    done: Callable[[int, Result], None] = lambda i, r: None,
) -> list[tuple[Result, Path | None]]:
    """Every variant's result and trace, in order, run ``jobs`` at a time (after a stop, those
    that had started: the others are left out, as a single process never reaches them). ``writer_for(path,
    trainer)`` opens a variant's trace (it must be picklable: a module-level function or a
    partial of one); ``threads``: BLAS threads a worker; ``stop_requested()`` is polled by the
    parent (its Ctrl+C); ``done(i, result)`` is called as variant i finishes."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    with ProcessPoolExecutor(jobs, context, initializer=_start_worker, initargs=(stop, threads)) as pool:
        futures: list[Future[Outcome]] = [
            pool.submit(_run, v, steps, writer_for, p) for v, p in zip(variants, paths, strict=True)
        ]
        pending = set(range(len(futures)))
        while pending:
            for i in sorted(pending):
                if futures[i].done():
                    pending.discard(i)
                    outcome = futures[i].result()
                    if outcome is not None:
                        done(i, outcome[0])
            if stop_requested() and not stop.is_set():
                stop.set()
            if pending:
                _wait_any([futures[i] for i in pending])
        return [outcome for f in futures if (outcome := f.result()) is not None]


def _wait_any(futures: list[Future[Any]]) -> None:
    """Until one of ``futures`` is done, or a tenth of a second (to look at the stop flag)."""
    wait(futures, timeout=0.1, return_when=FIRST_COMPLETED)
