"""How many threads the BLAS library (OpenBLAS under numpy's wheels) may use.

One, unless BACKPROP_TUI_BLAS_THREADS says otherwise (a number, or ``default`` for the
library's own choice of one thread per core). The matrices here are small (784 x 256 at most,
times a batch of 64): splitting one product across cores gains little, and on a shared or
busy machine OpenBLAS's threads spin waiting for each other. benchmarks/threads.py measured
blobs_784 steps 10 times slower with two threads than with one on a loaded 2-core machine
(docs/performance.md). threadpoolctl sets the limit at run time, whichever BLAS numpy uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .errors import BackpropError

ENV = "BACKPROP_TUI_BLAS_THREADS"
DEFAULT = 1


class ThreadsError(BackpropError):
    """The environment variable holds something other than a positive integer or ``default``."""


def blas_threads(environ: Mapping[str, str] = os.environ) -> int | None:
    """The limit asked for: a positive number of threads, or None for the library's default."""
    value = environ.get(ENV, "").strip()
    if not value:
        return DEFAULT
    if value == "default":
        return None
    if not value.isdigit() or int(value) < 1:
        raise ThreadsError(ENV, f'expected a positive integer or "default", got {value[:40]!r}')
    return int(value)


def limit_blas_threads(threads: int | None) -> None:
    """Limit the BLAS library to ``threads`` threads for the rest of the process (None: leave it)."""
    if threads is None:
        return
    import numpy  # noqa: F401  (threadpoolctl limits the libraries loaded by then: numpy's BLAS first)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
