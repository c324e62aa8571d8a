"""Progress notifications while a long export is written: every NOTE_SECONDS, how many megabytes
are on disk of about how many (trace_size's estimate), and how many steps:

    12.5 MB written of about 48.0 MB (26/100 steps)

An export that ends within NOTE_SECONDS shows none (the header's ``▶ exporting 3/5 steps`` and the
notifications before and after it are enough). ``update`` runs on the app's thread, from the
export worker's progress calls; the size is the file's own (common/files.temporary_size).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...common.files import MB, temporary_size

NOTE_SECONDS = 2.0
TITLE = "exporting"  # not "export": the notifications that start and end an export keep theirs


def megabytes(n: int) -> str:
    return f"{n / MB:,.1f} MB"


class ExportNotes:
    """``notify(message, title=..., timeout=...)``: the app's; ``estimate``: the bytes the whole
    trace will take, roughly; ``clock``: seconds, for the tests."""

    def __init__(
        self,
        notify: Callable[..., Any],
        path: Path,
        estimate: int,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notify = notify
        self.path = path
        self.estimate = estimate
        self.every = NOTE_SECONDS if every is None else every
        self.clock = clock
        self.last = clock()  # the first note comes one interval after the export starts
        self.shown: list[str] = []

    def update(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.last < self.every:
            return
        written = temporary_size(self.path)
        if written is None:  # not started, or already in place
            return
        self.last = now
        text = f"{megabytes(written)} written of about {megabytes(self.estimate)} ({done}/{total} steps)"
        self.shown.append(text)
        # each note lasts until the next one is due, so that about one is on screen at a time
        self.notify(text, title=TITLE, timeout=max(self.every, 1.0) + 0.5)
