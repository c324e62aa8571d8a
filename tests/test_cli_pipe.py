"""Output into a pipe whose reader has gone (``backprop-tui --list | head -1``) ends quietly.

Each test runs the real command with stdout the write end of a pipe whose read end was closed
before it started, so that its first write to stdout fails, whatever the pipe's buffer size.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_backprop.cli import EXIT_BROKEN_PIPE

TINY = Path(__file__).parent / "data" / "tiny.toml"


def run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("backprop-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_backprop.cli"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    try:
        return subprocess.run([*cmd, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--list",), EXIT_BROKEN_PIPE),
        ((str(TINY), "--headless", "--steps", "3"), EXIT_BROKEN_PIPE),  # the summary line
        (
            (str(TINY), "--headless", "--steps", "3", "--vary", "training.learning_rate=0.1,0.5"),
            EXIT_BROKEN_PIPE,
        ),
        (("--check", str(TINY)), EXIT_BROKEN_PIPE),
        (("--help",), 0),  # argparse drops a message it cannot write and exits 0 itself
        (("--version",), 0),
    ],
    ids=["list", "headless", "vary-table", "check", "help", "version"],
)
def test_output_into_a_closed_pipe_ends_without_a_traceback(args, code):
    result = run_into_closed_pipe(*args)

    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert result.returncode == code, result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_a_closed_pipe_does_not_hide_a_usage_error():
    """The error goes to stderr, which is still open: it is still shown, with exit code 2."""
    result = run_into_closed_pipe("--steps", "0")

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
