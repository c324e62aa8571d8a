"""The progress of a headless run: rich bars on a terminal (a real pseudo-terminal here), plain
``step N/M  epoch E  loss X`` lines anywhere else."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.runs.progress import progress
from tui_backprop.runs.progress_lines import Lines

TINY = Path(__file__).parent / "data" / "tiny.toml"  # max_steps = 50
DEADLINE = 30.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(*args: str, columns: int = 100) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal of ``columns`` columns and stdout in a
    pipe; (exit code, what the terminal showed without its escape codes, stdout)."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    env.update(TERM="xterm-256color", COLUMNS=str(columns))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_backprop", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + DEADLINE
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"the run did not end within {DEADLINE} s; it showed {bytes(shown)!r}"
            ready, _, _ = select.select([master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
        out = proc.stdout.read().decode() if proc.stdout else ""
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, ANSI.sub("", shown.decode("utf-8", "replace")), out


def test_a_headless_run_on_a_terminal_draws_a_bar():
    code, screen, out = on_a_terminal(str(TINY), "--headless")
    assert code == 0, screen
    last = [line for line in screen.replace("\r", "\n").splitlines() if line.strip()][-1]
    # the name, the bar, the steps done of the total, the rate, the time taken, the loss
    assert last.startswith("tiny 2-2-1 ") and "━" in last, last
    assert re.search(r" 50/50 +[\d,]+ steps/s +\d:\d\d:\d\d taken +loss \S+", last), last
    assert "step 50/50" not in screen  # no plain line besides the bar
    assert out.startswith("tiny 2-2-1: 50 steps")  # the summary on stdout, as without a terminal
    loss = re.search(r"training loss (\S+),", out)
    assert loss and last.rstrip().endswith(f"loss {float(loss[1]):.4g}"), (last, out)


def test_vary_on_a_terminal_draws_a_bar_a_variant():
    code, screen, out = on_a_terminal(
        str(TINY), "--headless", "--steps", "20", "--vary", "training.learning_rate=0.5,2", columns=90
    )
    assert code == 0, screen
    lines = [line for line in screen.replace("\r", "\n").splitlines() if line.strip()]
    assert any(line.startswith("learning_rate=0.5 ") and " 20/20 " in line for line in lines), lines
    assert any(line.startswith("learning_rate=2 ") and " 20/20 " in line for line in lines), lines
    assert all(len(line) <= 90 for line in lines)
    assert out.splitlines()[0].startswith("training.learning_rate")


def test_without_a_terminal_the_lines_stay_plain(capsys):
    assert main([str(TINY), "--headless"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(re.fullmatch(r"step \d+/50  epoch \d+  loss \S+", line) for line in err), err
    assert err[-1].startswith("step 50/50  epoch 50  loss ")
    assert "━" not in "".join(err)


def test_plain_lines_come_every_interval_and_the_last_once():
    stream = io.StringIO()
    display = progress(stream)
    assert isinstance(display, Lines)  # a StringIO is no terminal
    trainer = Trainer(load_scenario(str(TINY)))
    bar = Lines(stream, interval=3600.0).bar("tiny", 5)
    for _ in range(5):
        trainer.step()
        bar.update(trainer)  # the first one prints; the rest fall within the interval
    bar.update(trainer, force=True)
    bar.update(trainer, force=True)  # the same step again: not printed twice
    lines = stream.getvalue().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["step 1/5", "step 5/5"], lines


def test_with_no_interval_every_update_is_a_line():
    stream = io.StringIO()
    trainer = Trainer(load_scenario(str(TINY)))
    bar = Lines(stream, interval=0.0).bar("tiny", 3)
    for _ in range(3):
        trainer.step()
        bar.update(trainer)
    assert [line.split("  ")[0] for line in stream.getvalue().splitlines()] == [
        "step 1/3",
        "step 2/3",
        "step 3/3",
    ]
