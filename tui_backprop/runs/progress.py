"""The progress of long headless work on stderr: a bar on a terminal, plain lines elsewhere.

On a terminal (stderr a tty) each run gets a rich progress bar (progress_bar.py): the steps done of
the total, steps a second, the time left, the epoch and the current training-set loss; ``--vary``
draws one bar a variant, one under the other. Anywhere else (a CI log, a pipe, a file) a plain line
is printed every INTERVAL seconds, and one at the end of each run:

    step 30/30  epoch 2  loss 0.397705

``progress()`` chooses; each run asks it for a ``bar(label, total)`` and calls ``update(trainer)``
as it goes (cheap: it draws at most ten times a second), then ``update(trainer, force=True)`` once
it ends; ``close()`` ends the display, whatever happened (a Ctrl+C too). rich is imported only on a
terminal, so that a run in a pipe, --help and --version never load it.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from .progress_lines import Lines, Tracked


class Bar(Protocol):
    def update(self, trainer: Tracked, force: bool = False) -> None: ...


class Progress(Protocol):
    def bar(self, label: str, total: int) -> Bar: ...
    def close(self) -> None: ...


def progress(stream: TextIO | None = None) -> Progress:
    """Bars on ``stream`` (default stderr) when it is a terminal, plain lines otherwise."""
    stream = sys.stderr if stream is None else stream
    if _is_terminal(stream):
        from .progress_bar import Bars

        return Bars(stream)
    return Lines(stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # a closed or a bare stream
        return False
