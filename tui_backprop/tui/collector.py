"""Python's cyclic garbage collector, run less often while the app is open.

The app allocates many short-lived objects a frame (Rich segments, strips, styles), and with
the default threshold (a collection of the youngest generation every 700 allocations) the
collector ran many times a frame, each pass walking every object Textual keeps alive.
Once the app has started, everything it loaded is moved out of the collector's view
(``gc.freeze``), and the youngest generation is collected every 50,000 allocations.
Nothing here changes what is freed: reference counting frees almost everything at once, and
the cycles that remain are still collected, later. benchmarks/app.py measures the effect.
"""

from __future__ import annotations

import gc

THRESHOLD = (50_000, 50, 100)


def settle() -> None:
    """After start-up: what is alive now is kept out of every collection, and collections are rarer."""
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
