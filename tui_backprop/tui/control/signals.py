"""SIGTERM quits the app as q does, so that what quitting cleans up is cleaned up.

Without it, SIGTERM (a service manager, ``kill``, a served app's session ending) ends the Python
process at once: an export in progress would leave its temporary file, and the terminal its
application mode. With it, the app exits by its own path, with return code 143: its workers are
cancelled (an export removes its temporary file), and the terminal is restored. The handler runs
in the app's event loop (``loop.add_signal_handler``), never in the middle of a redraw.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from textual.app import App

EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports a command ended by SIGTERM


def quit_on_sigterm(app: App) -> Callable[[], None]:
    """From now on SIGTERM exits ``app``; returns what puts the previous handler back. Where the
    event loop cannot take a signal handler (not the main thread, not POSIX), nothing changes."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        loop.add_signal_handler(signal.SIGTERM, lambda: app.exit(return_code=EXIT_TERMINATED))
    except (NotImplementedError, RuntimeError, ValueError):
        return lambda: None

    def undo() -> None:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous)

    return undo
