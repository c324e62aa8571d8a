"""The files a user names: read only when they are regular files, and within a limit.

Reading (scenarios, their CSV data, traces): a path is read only when it is a regular file (a
symbolic link to one is followed). It is checked with stat before it is opened, so that a device
is never even opened; opened with O_NONBLOCK, so that opening a FIFO never waits for a writer; and
checked again on the open descriptor, so that a file swapped in between is caught. It is then read
with a bounded read, at most ``limit + 1`` bytes: a file over its limit is refused, naming the
limit, before more than that is held in memory.

    SCENARIO_LIMIT    16 MB   a scenario file (.toml)
    CSV_LIMIT        256 MB   a [data] csv file
    TRACE_LIMIT        1 GB   a trace (.json); parsing one takes about 5 times its size in memory
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from .errors import BackpropError

MB = 2**20
SCENARIO_LIMIT = 16 * MB
CSV_LIMIT = 256 * MB
TRACE_LIMIT = 1024 * MB
CHUNK = MB  # what a file that grows while it is read is read on by
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a FIFO does not wait for a writer


class Unreadable(BackpropError):
    """A file that is not read: ``reason`` says why, without the file's name (``no such file``,
    ``is a FIFO, not a scenario file``); ``missing``: there is no such file."""

    def __init__(self, label: str, reason: str, missing: bool = False) -> None:
        self.reason = reason
        self.missing = missing
        super().__init__(label, reason)


def size_text(n: int) -> str:
    """``16 MB``, ``1 GB``."""
    return f"{n // 1024 // MB} GB" if n >= 1024 * MB and n % (1024 * MB) == 0 else f"{n // MB} MB"


def kind(mode: int) -> str:
    """What a file that is not a regular file is: ``a FIFO``, ``a character device``, ..."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(mode: int, what: str) -> str:
    return f"is {kind(mode)}, not {_article(what)}"


def _article(what: str) -> str:
    return f"an {what}" if what[:1].lower() in "aeiou" else f"a {what}"


def _cannot(e: OSError) -> str:
    return f"cannot read: {e.strerror or e}"


def read_regular(path: str | Path, limit: int, what: str, label: str | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit``; ``what`` names the kind of
    file in a refusal (``scenario file``), ``label`` the file (default: ``path``). Raises
    Unreadable: missing, not a regular file, over the limit, or unreadable."""
    label = str(path) if label is None else label
    try:
        st = os.stat(path)  # a device, a FIFO or a socket is refused before it is opened
    except FileNotFoundError as e:
        raise Unreadable(label, "no such file", missing=True) from e
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise Unreadable(label, _cannot(e) if isinstance(e, OSError) else f"cannot read: {e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(label, _not_regular(st.st_mode, what))
    flags = os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as e:  # gone since the stat
        raise Unreadable(label, "no such file", missing=True) from e
    except OSError as e:
        raise Unreadable(label, _cannot(e)) from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)  # what was opened, which may not be what was checked
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(label, _not_regular(st.st_mode, what))
        too_big = f"is larger than {size_text(limit)}, the limit for {_article(what)}"
        if st.st_size > limit:
            raise Unreadable(label, too_big)
        try:
            data = _read_bounded(f, st.st_size, limit)
        except OSError as e:
            raise Unreadable(label, _cannot(e)) from e
    if len(data) > limit:  # it grew while it was read
        raise Unreadable(label, too_big)
    return data


def _read_bounded(f: Any, size: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``f``, whose size was ``size`` when it was opened: all of it
    in one read, then more only while it grows (a file in /proc says 0)."""
    data = f.read(min(size, limit) + 1)
    if len(data) <= size:
        return data
    parts, total = [data], len(data)
    while total <= limit:
        chunk = f.read(min(CHUNK, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def read_resource(resource: Any, limit: int, what: str, label: str) -> bytes:
    """``read_regular`` for a file of the package (a Path, or a Traversable inside a zip)."""
    if isinstance(resource, Path):
        return read_regular(resource, limit, what, label)
    try:
        with resource.open("rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError as e:
        raise Unreadable(label, "no such file", missing=True) from e
    except OSError as e:
        raise Unreadable(label, _cannot(e)) from e
    if len(data) > limit:
        raise Unreadable(label, f"is larger than {size_text(limit)}, the limit for {_article(what)}")
    return data


def peek(path: str | Path, n: int) -> bytes | None:
    """The first ``n`` bytes of ``path`` when it is a regular file that can be read, else None."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read(n) if stat.S_ISREG(os.fstat(fd).st_mode) else None
        except OSError:
            return None
