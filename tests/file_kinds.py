"""Files that are not regular files, for the tests of what is read and written (common/files.py)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WATCHDOG_SECONDS = 5.0


@contextmanager
def fifo(path: Path) -> Iterator[Path]:
    """A FIFO at ``path``; if anything is still blocked opening it for reading after
    WATCHDOG_SECONDS, its writing end is opened (so the test ends) and the test fails."""
    os.mkfifo(path)
    done = threading.Event()
    rescued: list[bool] = []

    def watchdog() -> None:
        if not done.wait(WATCHDOG_SECONDS):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only if a reader waits
            except OSError:
                return
            rescued.append(True)
            os.close(fd)

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        thread.join()
    assert not rescued, f"something waited on the FIFO {path} for a writer"


@contextmanager
def unix_socket(path: Path) -> Iterator[Path]:
    """A listening Unix socket at ``path`` (bound from its folder: the name length limit)."""
    cwd = os.getcwd()
    os.chdir(path.parent)
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(path.name)
        yield path
    finally:
        s.close()
        os.chdir(cwd)


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no room on disk."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path
