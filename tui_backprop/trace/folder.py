"""The folder that a served app exports into (``--serve --export-dir``), and its caps.

Every app that ``--serve`` starts writes its traces into the one folder chosen when serving,
never anywhere else, and all of them together keep within ``max_files`` files and
``max_bytes`` bytes. An export holds the folder's lock while it writes, so that two apps
exporting at once cannot both take the last of the room; the trace's size is counted as it
is written, and one that would go over is dropped (its temporary file removed) before it
does. Under the lock no other export is being written, so a temporary trace found there was
left by an app that was killed mid-export, and is removed.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..common.errors import BackpropError
from ..engine import Trainer
from .writer import TraceSource, TraceWriter, never, write_trace

LOCK_NAME = ".backprop-tui-exports.lock"


class ExportFolderError(BackpropError):
    """An export that the served folder's caps do not allow."""


def megabytes(n: int) -> str:
    return f"{n / 1e6:g} MB"


@dataclass(frozen=True)
class ExportFolder:
    path: Path
    max_files: int
    max_bytes: int

    def usage(self) -> tuple[int, int]:
        """The number of files in the folder (its lock aside) and their size in bytes."""
        files = size = 0
        with os.scandir(self.path) as entries:
            for entry in entries:
                if entry.name != LOCK_NAME:
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size if entry.is_file() else 0
        return files, size

    def write(
        self,
        path: Path,
        trainer: Trainer,
        replace: bool = True,
        cancelled: Callable[[], bool] = never,
        progress: Callable[[int, int], None] | None = None,
    ) -> Path:
        """Export ``trainer``'s run to ``path``, a file of this folder, within the caps
        (``replace``, ``cancelled`` and ``progress``: as for trace.write_trace)."""
        if path.parent.resolve() != self.path.resolve():
            raise ExportFolderError(str(path), f"a served app exports only into {self.path}")
        with self._locked():
            self._remove_stale()
            files, size = self.usage()
            replaced = path.stat().st_size if path.is_file() and not path.is_symlink() else None
            if replaced is None and files >= self.max_files:
                held = f"{files} file" + ("s" if files != 1 else "")
                cap = f"(--max-exports {self.max_files})"
                raise ExportFolderError(
                    str(path), f"the export folder holds {held}, the most this server allows {cap}"
                )
            budget = self.max_bytes - size + (replaced or 0)
            writer = partial(_CappedWriter, budget=budget, cap=self)
            return write_trace(
                path, trainer, writer_class=writer, replace=replace, cancelled=cancelled, progress=progress
            )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed, or the process ends
            yield
        finally:
            os.close(fd)

    def _remove_stale(self) -> None:
        """Temporary traces (trace/writer.py's ``.NAME.json.XXXX.tmp``) of exports that were killed."""
        for stale in self.path.glob(".*.json.*.tmp"):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink(missing_ok=True)


class _CappedWriter(TraceWriter):
    """A TraceWriter that refuses to write more than ``budget`` bytes in all."""

    def __init__(
        self, path: str | Path, trainer: TraceSource, *, budget: int, cap: ExportFolder, replace: bool = True
    ) -> None:
        self._budget, self._cap, self._size = budget, cap, 0
        super().__init__(path, trainer, replace=replace)

    def _write(self, text: str) -> None:
        self._size += len(text) if text.isascii() else len(text.encode("utf-8"))
        if self._size > self._budget:
            self.abort()
            raise ExportFolderError(
                str(self.path),
                f"the trace would take the export folder over {megabytes(self._cap.max_bytes)}, the most"
                f" this server allows (--max-export-mb); nothing was written",
            )
        super()._write(text)
