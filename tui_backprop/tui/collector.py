"""Python's cyclic garbage collector, run less often while the app is open.

The app allocates many short-lived objects a frame (Rich segments, strips, styles), and with
the default threshold (a collection of the youngest generation every 700 allocations) the
collector ran many times a frame, each pass walking every object Textual keeps alive.
Once the app has started, everything it loaded is moved out of the collector's view
(``gc.freeze``), and the youngest generation is collected every 50,000 allocations.
Nothing here changes what is freed: reference counting frees almost everything at once, and
the cycles that remain are still collected, later. benchmarks/app.py measures the effect.

Before that, from the moment the command line knows it opens the app until its first screen is
drawn, the collector does not run at all (``start_up``): importing Textual, plotext and the app
and building the first screen make some 43,000 objects that stay alive, and the collector
walked them about 110 times before the first frame (once all of them, with numpy's and the
scenario's), some 40 ms on this machine, to free next to nothing.
"""

from __future__ import annotations

import gc

THRESHOLD = (50_000, 50, 100)


def start_up() -> None:
    """No collection until ``settle``: called before the app's modules are imported."""
    gc.disable()


def settle() -> None:
    """After start-up: what is alive now is kept out of every collection, and collections are rarer."""
    gc.enable()
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
