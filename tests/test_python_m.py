"""``python -m tui_backprop`` is the ``backprop-tui`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TINY = Path(__file__).parent / "data" / "tiny.toml"


def test_python_m_runs_the_command_line(tmp_path):
    # one subprocess: a headless run with an export and the summary, the exit code of the command
    proc = subprocess.run(
        [sys.executable, "-m", "tui_backprop", str(TINY), "--headless", "--steps", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 steps" in proc.stdout and "stopped: steps" in proc.stdout
    assert "Traceback" not in proc.stderr
