"""Ctrl+C during a headless run: the run ends at a step boundary and the trace is complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jsonschema
import pytest

from tui_backprop import cli
from tui_backprop.trace import schema

# wide enough that every step takes a noticeable time to record and write
SLOW = """
[scenario]
name = "slow"
[network]
layers = [30, 300, 300, 4]
activation = "tanh"
[data]
inputs = [[{row}]]
targets = [[0, 0, 0, 1]]
[training]
loss = "mse"
learning_rate = 0.01
max_steps = 100000000
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_completes_the_trace_written_so_far(tmp_path):
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SLOW.format(row=", ".join(["0.1"] * 30)))
    trace = tmp_path / "slow-trace.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_backprop.cli", str(scenario), "--headless", "--export", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    # wait until the run has written a step: the header alone (the initial weights) is 2 MB
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tmp_files = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        if tmp_files and b'{"step": 1,' in (tmp_path / tmp_files[0]).read_bytes():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "stopped: user" in out
    data = json.loads(trace.read_text())
    jsonschema.validate(data, schema())
    assert data["summary"]["stop_reason"] == "user"
    assert data["summary"]["steps"] == len(data["steps"]) >= 1
    assert data["summary"]["final_loss"] == data["steps"][-1]["train_loss"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_vary_completes_the_trace_and_prints_the_rows_so_far(tmp_path):
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SLOW.format(row=", ".join(["0.1"] * 30)))
    args = [str(scenario), "--headless", "--vary", "init.seed=1,2", "--export", "out.json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_backprop.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the first variant's trace is being written
        tmp_files = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        if tmp_files and os.path.getsize(tmp_path / tmp_files[0]) > 200_000:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert "Traceback" not in err
    header, *rows = out.strip().splitlines()
    assert len(rows) == 1 and rows[0].split()[0] == "1"  # the second variant never started
    data = json.loads((tmp_path / "out-seed=1.json").read_text())
    jsonschema.validate(data, schema())
    assert data["summary"]["stop_reason"] == "user" and "user" in rows[0].split()
    assert data["summary"]["steps"] == len(data["steps"]) == int(rows[0].split()[1])
    assert sorted(os.listdir(tmp_path)) == ["out-seed=1.json", "slow.toml"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_the_header_is_written_gives_a_complete_trace_of_no_steps(tmp_path):
    """The trace's header is written once Ctrl+C is caught: it ends the run cleanly too."""
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SLOW.format(row=", ".join(["0.1"] * 30)))
    trace = tmp_path / "slow-trace.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_backprop.cli", str(scenario), "--headless", "--export", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.endswith(".tmp") for p in os.listdir(tmp_path)):
        time.sleep(0.001)  # the temporary file exists: the header is being written
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopped: user" in out
    data = json.loads(trace.read_text())
    jsonschema.validate(data, schema())
    assert data["summary"]["stop_reason"] == "user"


# past the header (the initial weights, about 2 MB) the steps are being written, megabytes each
HEADER_BYTES = 4_000_000


def _start(tmp_path):
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SLOW.format(row=", ".join(["0.1"] * 30)))
    trace = tmp_path / "slow-trace.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_backprop.cli", str(scenario), "--headless", "--export", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    return proc, trace


def _temporary_file(tmp_path, min_size: int = 0, timeout: float = 60):
    """Wait until the trace's temporary file exists and holds ``min_size`` bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tmp_files = [tmp_path / p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        try:
            if tmp_files and os.path.getsize(tmp_files[0]) >= min_size:
                return tmp_files[0]
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise AssertionError("the export never started")


def _complete_or_absent(proc, trace, tmp_path) -> dict | None:
    out, err = proc.communicate(timeout=60)
    # -SIGINT: the second Ctrl+C came as Python was exiting, after main() had returned 130 (a
    # shell shows both as 130)
    assert proc.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")], "a temporary file was left"
    if not trace.exists():
        assert "interrupted: stopped at once; a trace in progress was not written" in err
        return None
    data = json.loads(trace.read_text())  # complete: it parses, and it is valid
    jsonschema.validate(data, schema())
    assert data["summary"]["stop_reason"] == "user"
    assert data["summary"]["steps"] == len(data["steps"])
    assert "stopped: user" in out
    return data


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("gap", [0.0, 0.01, 0.05])
def test_a_second_ctrl_c_mid_write_leaves_a_complete_trace_or_none(tmp_path, gap):
    """The first Ctrl+C asks for a stop at the next step boundary, the second lands while the
    steps (megabytes each) are still being written: it stops at once and writes nothing."""
    proc, trace = _start(tmp_path)
    _temporary_file(tmp_path, min_size=HEADER_BYTES)
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    proc.send_signal(signal.SIGINT)
    _complete_or_absent(proc, trace, tmp_path)


def test_a_ctrl_c_in_the_final_flush_exits_130_without_a_traceback(monkeypatch, capsys):
    """The run is over and its output is being flushed when a (second) Ctrl+C lands: the command
    ends with 130, as for any interrupt, and raises nothing (a random timing found this)."""

    def interrupted() -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:  # undone before pytest flushes stdout itself
        patched.setattr(sys.stdout, "flush", interrupted)
        code = cli.main(["--list"])
    assert code == cli.EXIT_INTERRUPTED
