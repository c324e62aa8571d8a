"""The export key (e): write the run on screen as a JSON trace, off the UI thread.

    e pressed                  the path is chosen (trace/paths.py): a FIFO, a device or a link
                               there is refused with a notification, and nothing is written
    the trace would be big     a question says how big, and offers the command line that writes a
                               smaller one headless; "no" writes nothing
    otherwise, or "yes"        a copy of the trainer (its step count at the key press) is written by
                               a thread worker (group "export"); the header counts the steps written
    written                    a notification names the file; the header shows it until the next

Only a file this session wrote is replaced (or any regular file, with ``--force``); a served app
writes only into its export folder, within its caps (trace/folder.py). The worker checks for
cancellation before each step, so that quitting mid-export removes the temporary file.

The exporter knows the app only through ``ExportHost``, the public part of the app it needs. What
a trace holds and which command line writes it again are the app's (``write``, ``export_command``):
a replay writes its recording, and offers no command line.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from ...common.errors import BackpropError
from ...common.words import count
from ...scenario.reader import Scenario
from ..screens.export_question import CONFIRM_BYTES, ExportConfirmScreen, advice
from .export_notes import ExportNotes
from .play import Stepper

ExportProgress = Callable[[int, int], None]  # (steps written, steps to write)


def no_progress(done: int, total: int) -> None:
    pass


class Exported(Message):
    """From the export worker: the file written (None: it failed), and what to say."""

    def __init__(self, path: Path | None, detail: str) -> None:
        super().__init__()
        self.path, self.detail = path, detail


class ExportHost(Protocol):
    """What the exporter uses of the app that owns it."""

    scenario: Scenario
    trainer: Stepper
    export_path: Path | None  # --export, else a name made from the scenario's
    force_export: bool  # --force: an export overwrites a regular file at its path
    last_export_path: Path | None

    def pause(self) -> None: ...
    def draw_header(self) -> None: ...
    def write(
        self,
        path: Path,
        snapshot: Stepper,
        replace: bool,
        cancelled: Callable[[], bool],
        progress: ExportProgress = ...,
    ) -> Path: ...
    def export_command(self, steps: int, path: Path) -> list[str] | None: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...
    def push_screen(self, screen: Screen[Any], callback: Any = ...) -> Any: ...
    def run_worker(
        self, work: Any, *, thread: bool = ..., group: str = ..., exit_on_error: bool = ...
    ) -> Any: ...
    def call_from_thread(self, callback: Callable[..., Any], *args: Any) -> Any: ...
    def post_message(self, message: Message) -> bool: ...


class Exporter:
    """The export key of one app: choose the path, ask when big, write in a worker, report."""

    def __init__(self, app: ExportHost) -> None:
        self.app = app
        self.exporting = False  # a worker is writing a trace
        self.progress = (0, 0)  # steps written and to write, while exporting
        self.written: set[Path] = set()  # traces this session wrote: the only files it overwrites
        self.notes: ExportNotes | None = None  # a long export's progress notifications

    def start(self) -> None:
        """What e does (see the module docstring)."""
        # here, not at the top: the first screen needs no trace writer (benchmarks/app.py)
        from ...trace.paths import choose_export_path
        from ...trace.writer import trace_size

        app = self.app
        if self.exporting:
            app.notify("an export is already running", severity="warning")
            return
        app.pause()
        try:
            path = choose_export_path(
                app.scenario, app.export_path, Path.cwd(), self.written, app.force_export
            )
        except BackpropError as e:  # a FIFO, a device, a link at the path: refused
            detail = f"{e.title}: {'; '.join(e.problems)}"
            app.notify(f"export failed: {detail}", title="export", severity="error", timeout=8)
            return
        snapshot = copy.copy(app.trainer)  # the step count now: keys pressed meanwhile do not move it
        size = trace_size(snapshot, snapshot.step_count)
        if size.total > CONFIRM_BYTES:  # a big trace: say how big, and how to make it smaller
            text = advice(size, app.export_command(snapshot.step_count, path), CONFIRM_BYTES)
            app.push_screen(ExportConfirmScreen(text), partial(self._confirmed, snapshot, path))
            return
        self._begin(snapshot, path)

    def _confirmed(self, snapshot: Stepper, path: Path, yes: bool | None) -> None:
        if yes:
            self._begin(snapshot, path)
        else:
            self.app.notify("nothing exported", title="export")

    def _begin(self, snapshot: Stepper, path: Path) -> None:
        from ...trace.writer import trace_size

        app = self.app
        self.exporting, self.progress = True, (0, snapshot.step_count)
        app.notify(f"exporting {count(snapshot.step_count, 'step')} to {path} …", title="export")
        estimate = trace_size(snapshot, snapshot.step_count).total
        self.notes = ExportNotes(app.notify, path.absolute(), estimate)  # megabytes, as it goes
        app.draw_header()
        # a file this session wrote (or any, with --force) is replaced; else only a new one is made
        replace = app.force_export or path.resolve() in self.written
        app.run_worker(
            partial(self._write, snapshot, path, replace), thread=True, group="export", exit_on_error=False
        )

    def _write(self, snapshot: Stepper, path: Path, replace: bool) -> None:
        """In the worker: write the trace, posting ``Exported`` unless the app quit meanwhile."""
        from ...trace.writer import ExportCancelled

        app = self.app
        worker = get_current_worker()
        shown_at = 0.0

        def progress(done: int, total: int) -> None:  # to the header, ten times a second at most
            nonlocal shown_at
            if time.monotonic() - shown_at >= 0.1 or done == total:
                shown_at = time.monotonic()
                app.call_from_thread(self.step_written, done, total)

        try:
            written = app.write(path, snapshot, replace, lambda: worker.is_cancelled, progress)
        except ExportCancelled:
            return  # the app quit: the temporary file is removed and nothing is written
        except BackpropError as e:
            app.post_message(Exported(None, f"{path}: {'; '.join(e.problems)}"))
        except OSError as e:
            app.post_message(Exported(None, f"{path}: {e.strerror or e}"))
        else:
            app.post_message(Exported(written, count(snapshot.step_count, "step")))

    def step_written(self, done: int, total: int) -> None:
        """From the worker, through the UI thread: ``done`` of ``total`` steps are written."""
        if self.exporting:
            self.progress = (done, total)
            self.app.draw_header()
            if self.notes is not None:
                self.notes.update(done, total)

    def finish(self, message: Exported) -> None:
        """On the UI thread, from the app's handler of ``Exported``: say how it went."""
        app = self.app
        path, detail = message.path, message.detail
        self.exporting = False
        if path is None:
            app.notify(f"export failed: {detail}", title="export", severity="error", timeout=8)
            app.draw_header()
            return
        self.written.add(path.resolve())
        app.last_export_path = path
        app.notify(f"trace written to {path} ({detail})", title="export")
        app.draw_header()

    @property
    def header_progress(self) -> tuple[int, int] | None:
        """What the header shows: steps written and to write while exporting, else None."""
        return self.progress if self.exporting else None
