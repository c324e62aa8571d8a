"""The real ``backprop-tui`` command in a real terminal (tmux): it paints, steps on a key and quits.

Pilot tests run the app in-process with a headless driver; this one runs the installed command
with Textual's real Linux driver, terminal size detection and key parsing. It uses a private
tmux server (``tmux -L <unique name>``, no config file), so it never touches anyone's sessions,
and kills that server whatever happens.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

COMMAND = Path(sys.executable).parent / "backprop-tui"  # the venv's command, next to its python


class Tmux:
    def __init__(self) -> None:
        self.socket = f"backprop-tui-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert TMUX is not None
        cmd = [TMUX, "-L", self.socket, "-f", os.devnull, *args]
        # os.environ, explicitly: under pytest the process environment that a child inherits by
        # default also holds COLUMNS=80 and LINES=24 (set behind os.environ's back), which the
        # new tmux server would pass on to the app, and Textual would believe them over the pty
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=check, env=env)

    def kill(self) -> None:
        """Stop the server (if it still runs) and remove its socket file, which tmux leaves behind."""
        self("kill-server", check=False)
        tmpdir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (tmpdir / self.socket).unlink(missing_ok=True)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app").stdout

    def alive(self) -> bool:
        return self("has-session", "-t", "app", check=False).returncode == 0

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                screen = self.screen() if self.alive() else "(the session has ended)"
                pytest.fail(f"timed out after {timeout} s waiting for {what}; the screen:\n{screen}")
            time.sleep(0.05)


def test_the_real_command_paints_steps_on_space_and_quits_on_q(tmp_path):
    assert COMMAND.exists(), f"no backprop-tui next to {sys.executable}"
    exit_file = tmp_path / "exit-code"
    # stderr is left alone: Textual draws on it
    shell = f"{shlex.quote(str(COMMAND))} xor; echo $? > {shlex.quote(str(exit_file))}"
    tmux = Tmux()
    try:
        tmux("new-session", "-d", "-s", "app", "-x", "140", "-y", "40", "-c", str(tmp_path), shell)
        tmux.wait(lambda: "step 0/5000" in tmux.screen() and "Quit" in tmux.screen(), "the first paint")
        first = tmux.screen()
        assert "XOR, 2-3-1 sigmoid" in first and "1 network" in first and "5 weights" in first

        for _ in range(3):
            tmux("send-keys", "-t", "app", "Space")  # space: one step
        tmux.wait(lambda: "step 3/5000" in tmux.screen(), "step 3 in the header")
        screen = tmux.screen()
        assert re.search(r"epoch 3\s+batch \[0 1 2 3\]", screen)
        assert re.search(r"\bloss \d\.\d{4}\s", screen)  # the header's batch loss
        assert re.search(r"x1→h1\s+[+-]\d\.\d{4} →\s+[+-]\d\.\d{4}", screen)  # weights: before → after
        assert len(re.findall(r"[+-]\d\.\d{4}\b", screen)) >= 30  # the panels are full of numbers

        tmux("send-keys", "-t", "app", "q")  # q: quit
        tmux.wait(lambda: not tmux.alive(), "the session to end")
        assert exit_file.read_text().strip() == "0"
    finally:
        tmux.kill()
