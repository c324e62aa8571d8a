"""Temporary files of exports: removed on every way out that Python sees, and a stale one (left by
kill -9) removed by the next export to its folder, with nothing else ever removed.

SIGTERM is Ctrl+C's twin: a headless run or --vary stops at the next step boundary with a
complete trace (exit code 143), a second one stops at once and writes nothing. The tests that
need a real process send real signals to a real ``backprop-tui``, waiting for its temporary file
to appear (with a deadline), never sleeping.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tui_backprop.trace.writer as trace_module
from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.common import files
from tui_backprop.trace.writer import TraceWriter
from tui_backprop.tui.app import BackpropApp

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"

# every step takes a while to record and write (a few MB), so that a signal lands mid-run
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
""".format(row=", ".join(["0.1"] * 30))

TEMPORARY = re.compile(r"^\.(?P<name>.+)\.bptui-(?P<pid>\d+)-[a-z0-9_]+\.tmp$")
TRACE_HEAD = b'{\n"format": "backprop-tui-trace",\n"version": 1,\n'


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder / p for p in os.listdir(folder) if p.endswith(".tmp"))


def command(*args: str, cwd: Path) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("backprop-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_backprop.cli"]
    return subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def wait_for_temporary(folder: Path, proc: subprocess.Popen[str], holding: bytes = b"", timeout=60.0) -> Path:
    """The export's temporary file, once it holds ``holding``; fails at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in temporaries(folder):
            try:
                if holding in path.read_bytes():
                    return path
            except FileNotFoundError:
                pass
        if proc.poll() is not None:
            pytest.fail(f"the command ended before its export was under way: {proc.communicate()}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"no temporary file holding {holding!r} in {folder} after {timeout} s")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


# -- names, and what is stale -------------------------------------------------------------------


def test_a_temporary_file_is_named_after_its_trace_and_its_process(tmp_path):
    trainer = Trainer(load_scenario(str(TINY)))
    with TraceWriter(tmp_path / "t.json", trainer) as writer:
        (tmp,) = temporaries(tmp_path)
        m = TEMPORARY.match(tmp.name)
        assert m and m["name"] == "t.json" and int(m["pid"]) == os.getpid()
        assert tmp in files.TEMPORARY
        writer.close(trainer.initial_train_loss, "steps")
    assert temporaries(tmp_path) == [] and tmp not in files.TEMPORARY


def test_only_stale_temporary_files_of_ours_are_removed(tmp_path):
    dead = dead_pid()
    two_days_ago = time.time() - 2 * 24 * 3600
    ours_dead = tmp_path / f".old.json.bptui-{dead}-k3j4h2l1.tmp"
    ours_dead.write_bytes(TRACE_HEAD + b'"scenario": {')
    ours_empty = tmp_path / f".x.json.bptui-{dead}-abcdefgh.tmp"  # killed before its first flush
    ours_empty.write_bytes(b"")
    ours_old = tmp_path / ".y.json.bptui-1-abcdefgh.tmp"  # pid 1 runs, but not for two days on this
    ours_old.write_bytes(TRACE_HEAD)
    os.utime(ours_old, (two_days_ago, two_days_ago))
    kept = {
        f".live.json.bptui-{os.getpid()}-abcdefgh.tmp": TRACE_HEAD,  # this process is writing it
        ".init.json.bptui-1-abcdefgh.tmp": TRACE_HEAD,  # a running process's
        f".notes.json.bptui-{dead}-abcdefgh.tmp": b"somebody's notes",  # not a trace
        f".z.json.{dead}.abcdefgh.tmp": TRACE_HEAD,  # not our name
        "draft.tmp": b"",
    }
    for name, content in kept.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / f".d.json.bptui-{dead}-abcdefgh.tmp").mkdir()  # a folder
    (tmp_path / f".l.json.bptui-{dead}-abcdefgh.tmp").symlink_to(ours_dead)  # a link to one of ours
    kept_names = {*kept, f".d.json.bptui-{dead}-abcdefgh.tmp", f".l.json.bptui-{dead}-abcdefgh.tmp"}

    assert main([str(TINY), "--headless", "--steps", "2", "--export", str(tmp_path / "t.json")]) == 0
    assert set(os.listdir(tmp_path)) == {*kept_names, "t.json"}


def test_remove_stale_leaves_a_folder_it_cannot_list_alone(tmp_path):
    assert files.remove_stale(tmp_path / "missing") == []


# -- ways out that Python sees ------------------------------------------------------------------


@pytest.mark.parametrize("exit_by", [SystemExit(7), MemoryError()], ids=["SystemExit", "an error"])
def test_any_exception_mid_headless_export_removes_the_temporary_file(tmp_path, monkeypatch, exit_by):
    calls = []

    def failing(self, rec):
        calls.append(rec.step)
        if len(calls) == 3:
            raise exit_by
        real(self, rec)

    real = TraceWriter.write_step
    monkeypatch.setattr(TraceWriter, "write_step", failing)
    with pytest.raises(type(exit_by)):
        main([str(TINY), "--headless", "--steps", "10", "--export", str(tmp_path / "t.json")])
    assert os.listdir(tmp_path) == []


def test_a_writer_left_open_at_exit_has_its_temporary_file_removed(tmp_path):
    """A program that opens a TraceWriter and exits without closing it (no with block): the
    exit handler of common/files.py removes the temporary file."""
    code = (
        "import sys\n"
        "from tui_backprop import Trainer, load_scenario\n"
        "from tui_backprop.trace.writer import TraceWriter\n"
        f"t = Trainer(load_scenario({str(TINY)!r})); w = TraceWriter({str(tmp_path / 't.json')!r}, t)\n"
        "w.write_step(t.step()); w._out.file.flush(); print('open', flush=True); sys.exit(0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "open\n", done.stderr
    assert os.listdir(tmp_path) == []


def test_kill_9_leaves_a_temporary_file_that_the_next_export_there_removes(tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW)
    proc = command("slow.toml", "--headless", "--export", "slow.json", cwd=tmp_path)
    tmp = wait_for_temporary(tmp_path, proc, holding=b'{"step": 1,')
    proc.kill()  # SIGKILL: nothing runs in the process any more
    proc.communicate(timeout=60)
    assert temporaries(tmp_path) == [tmp] and not (tmp_path / "slow.json").exists()
    assert TEMPORARY.match(tmp.name)["pid"] == str(proc.pid)

    assert main([str(TINY), "--headless", "--steps", "2", "--export", str(tmp_path / "t.json")]) == 0
    assert temporaries(tmp_path) == []  # the next export to the folder cleaned it up
    assert sorted(os.listdir(tmp_path)) == ["slow.toml", "t.json"]


# -- SIGTERM -----------------------------------------------------------------------------------


def complete(trace: Path) -> dict:
    """The trace parses, and its summary says it ended at a step, stopped by the user. (Its
    structure is not validated here: tests/test_cli_interrupt.py does it for Ctrl+C.)"""
    data = json.loads(trace.read_text())
    assert data["summary"]["stop_reason"] == "user"
    assert data["summary"]["steps"] == len(data["steps"])
    return data


def test_sigterm_mid_export_ends_the_run_at_a_step_with_a_complete_trace(tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW)
    proc = command("slow.toml", "--headless", "--export", "slow.json", cwd=tmp_path)
    wait_for_temporary(tmp_path, proc, holding=b'{"step": 1,')
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopped: user" in out
    assert complete(tmp_path / "slow.json")["summary"]["steps"] >= 1
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize("old", [None, b"an older trace\n"], ids=["no file", "older file"])
def test_a_second_sigterm_stops_at_once_and_writes_nothing(tmp_path, monkeypatch, capsys, old):
    """In this process, so that both signals land where the test says: the first during step 3's
    write asks for a stop, the second one right after it stops at once. (A real process gets
    them in test_sigterm_mid_export_...; two sent together may arrive as one.)"""
    target = tmp_path / "t.json"
    if old is not None:
        target.write_bytes(old)
    real = TraceWriter.write_step

    def write_step(self, rec):
        if rec.step == 3:
            handler = signal.getsignal(signal.SIGTERM)
            assert callable(handler), "SIGTERM is not handled during the run"
            os.kill(os.getpid(), signal.SIGTERM)  # the first: stop at the next step boundary
            os.kill(os.getpid(), signal.SIGTERM)  # the second: stop now
        real(self, rec)

    monkeypatch.setattr(TraceWriter, "write_step", write_step)
    argv = [str(TINY), "--headless", "--steps", "10", "--export", str(target), "--force"]
    previous = signal.getsignal(signal.SIGTERM)
    assert main(argv) == 143
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == "interrupted: stopped at once; a trace in progress was not written"
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == ([] if old is None else ["t.json"])
    assert old is None or target.read_bytes() == old
    assert signal.getsignal(signal.SIGTERM) == previous  # put back as it was


def test_sigterm_during_vary_completes_the_trace_and_prints_the_rows_so_far(tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW)
    proc = command("slow.toml", "--headless", "--vary", "init.seed=1,2", "--export", "out.json", cwd=tmp_path)
    wait_for_temporary(tmp_path, proc, holding=b'{"step": 1,')
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    header, *rows = out.strip().splitlines()
    assert len(rows) == 1 and rows[0].split()[0] == "1" and "user" in rows[0].split()
    assert complete(tmp_path / "out-seed=1.json")["summary"]["steps"] == int(rows[0].split()[1])
    assert sorted(os.listdir(tmp_path)) == ["out-seed=1.json", "slow.toml"]


# -- the app ------------------------------------------------------------------------------------


class _Gate:
    """Holds the export's replay before its third step until opened."""

    def __init__(self, monkeypatch) -> None:
        self.event = threading.Event()
        gate = self.event

        class Held(Trainer):
            def step(self):
                if self.step_count == 2:
                    assert gate.wait(30), "the test never opened the gate"
                return super().step()

        monkeypatch.setattr(trace_module, "Trainer", Held)  # the export's replay only


async def until(pilot, predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await pilot.pause(0.01)


async def _quit_mid_export(tmp_path, monkeypatch, quit_how: str) -> None:
    gate = _Gate(monkeypatch)
    target = tmp_path / "t.json"
    app = BackpropApp(load_scenario(str(TINY)), export_path=target)
    app.quit_on_sigterm = True  # as the command line sets it
    async with app.run_test(size=(140, 40)) as pilot:  # not drive(): SIGTERM sets return code 143
        await pilot.press("space", "space", "space", "space", "e")  # 4 steps, export: held at step 3
        await until(pilot, lambda: temporaries(tmp_path) != [], "the export's temporary file")
        if quit_how == "q":
            await pilot.press("q")  # q: quit while the export is under way
        else:
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None), "no SIGTERM handler"
            os.kill(os.getpid(), signal.SIGTERM)
            await until(pilot, lambda: not app.is_running, "the app to quit on SIGTERM")
        assert not app.is_running
    gate.event.set()  # the export may go on: it finds itself cancelled at its next step
    deadline = time.monotonic() + 10
    while temporaries(tmp_path):
        assert time.monotonic() < deadline, "the temporary file is still there 10 s after the quit"
        await asyncio.sleep(0.01)
    assert os.listdir(tmp_path) == []  # and no trace either: the export was given up
    if quit_how == "SIGTERM":
        assert app.return_code == 143


async def test_quitting_the_app_mid_export_leaves_no_temporary_file(tmp_path, monkeypatch):
    await _quit_mid_export(tmp_path, monkeypatch, "q")


async def test_sigterm_quits_the_app_as_q_does_and_its_export_leaves_nothing(tmp_path, monkeypatch):
    previous = signal.getsignal(signal.SIGTERM)
    await _quit_mid_export(tmp_path, monkeypatch, "SIGTERM")
    assert signal.getsignal(signal.SIGTERM) == previous  # put back once the app is gone
