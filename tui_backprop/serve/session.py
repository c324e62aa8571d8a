"""One browser session of ``--serve``: the app in a process group of its own, ended with it.

textual-serve's AppService runs its command through ``sh -c`` and, when the browser goes,
asks the app to quit and waits for it: the shell could die and leave the app running
(re-parented to PID 1), and a busy app could keep the session waiting for ever. Here the
command is an argv list run without a shell, in a new session (its own process group); when
the browser goes the app is asked to quit, given ``QUIT_SECONDS``, and then its whole group
is killed, whatever state it is in. The terminal size a browser asks for is clamped, so
that no page can make an app draw a screen of 5000 x 5000 cells. What the app writes to
stderr, which textual-serve keeps in memory for as long as the session lasts to print it when
the app ends, is passed on up to STDERR_BYTES and read and dropped after that: an app that
writes there without end cannot fill the server's memory, nor block on a full pipe.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

QUIT_SECONDS = 5.0  # for a served app to exit once asked to, before its group is killed
COLUMNS = (20, 500)  # the terminal sizes a browser may ask for, in cells
ROWS = (10, 200)
STDERR_BYTES = 64 * 1024  # of a served app's stderr kept for textual-serve to print; the rest is dropped


def _clamp(value: object, default: int, bounds: tuple[int, int]) -> int:
    try:
        n = int(value)  # type: ignore[call-overload]  # a query string, or a number from JSON
    except (TypeError, ValueError, OverflowError):
        n = default
    return max(bounds[0], min(bounds[1], n))


def clamp_size(width: object, height: object) -> tuple[int, int]:
    """A terminal size as asked for (text from a URL, or JSON), within COLUMNS x ROWS."""
    return _clamp(width, 80, COLUMNS), _clamp(height, 24, ROWS)


def end_group(pid: int) -> None:
    """Kill the process group that ``pid`` leads (started with start_new_session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # gone already
        pass


class BoundedReader:
    """The ``read`` of a stream that gives its first ``limit`` bytes, then reads the rest to
    its end and drops it, so that the writer never blocks on a full pipe."""

    def __init__(self, stream: asyncio.StreamReader, limit: int) -> None:
        self.stream, self.left = stream, limit

    async def read(self, n: int = -1) -> bytes:
        while True:
            data = await self.stream.read(n if n > 0 else 65536)
            if not data:
                return b""  # the end
            if self.left > 0:
                kept = data[: self.left]
                self.left -= len(kept)
                return kept
            # past the limit: dropped, and read on until the writer closes its end


class Session(AppService):
    """The app of one websocket: started by ``start``, ended by ``stop`` (at most once)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        write_bytes: Callable[[bytes], Awaitable[Any]],
        write_str: Callable[[str], Awaitable[Any]],
        close: Callable[[], Awaitable[Any]],
        download_manager: DownloadManager,
    ) -> None:
        super().__init__(
            shlex.join(argv),  # what textual-serve logs; the process is started from argv itself
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=download_manager,
        )
        self.argv = list(argv)
        self._ending: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,  # a group of its own, which stop() ends as a whole
        )
        self._stdin = process.stdin
        assert process.stderr is not None
        process.stderr = BoundedReader(process.stderr, STDERR_BYTES)  # type: ignore[assignment]
        return process

    async def start(self, width: object, height: object) -> None:
        """Start the app at the size asked for (text from the URL), clamped."""
        if self._ending is None:  # the server may have stopped it before it started
            await super().start(*clamp_size(width, height))

    async def set_terminal_size(self, width: object, height: object) -> None:
        """Resize the app (numbers from the page, or anything a client sent), clamped."""
        await super().set_terminal_size(*clamp_size(width, height))

    async def run(self) -> None:
        """Relay the app's screen until it exits, then close the browser's websocket."""
        await super().run()
        await self.remote_close()

    async def stop(self) -> None:
        """End the app and every process of its group; a second call waits for the first."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)  # a cancelled handler does not cut the ending short

    async def _end(self) -> None:
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            await self.send_meta({"type": "quit"})
            try:
                await asyncio.wait_for(process.wait(), QUIT_SECONDS)
            except TimeoutError:
                pass
        end_group(process.pid)  # what it left behind, or itself when it did not quit
        await process.wait()
        if self._task is not None:
            await self._task  # the app's output is at its end now that no process holds it
            self._task = None
        await self._close_stdin(process)

    @staticmethod
    async def _close_stdin(process: asyncio.subprocess.Process) -> None:
        """Close the pipe to the app while the event loop runs: with its last pipe closed, asyncio
        closes the process's transport, which would otherwise try to when it is collected, maybe
        after the loop has closed ("Exception ignored ... Event loop is closed")."""
        if process.stdin is not None:
            process.stdin.close()
            try:
                await process.stdin.wait_closed()
            except OSError:  # the pipe was broken: closed all the same
                pass
