"""The app's controllers (tui/control/stepping.py, tui/control/export.py) and the headless loop
(runs/headless.py), each driven through its own interface without an app: a host that records
what it is asked to do, and a real Trainer.

The whole behaviour with an app is pinned by the app tests (test_app.py, test_export_*.py,
test_replay_app.py); these check that each controller does its job knowing the app only
through its Protocol, fast.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.common.files import not_utf8
from tui_backprop.engine import StepRecord
from tui_backprop.engine.phases import FULL, Reveal
from tui_backprop.runs import headless
from tui_backprop.runs.headless import run_in_chunks
from tui_backprop.tui.control.export import Exported, Exporter
from tui_backprop.tui.control.step_queue import Outcome
from tui_backprop.tui.control.stepping import RATES, Applied, Stepping, rate_text


class FirstPhaseWhole:
    def first_phase(self, record: StepRecord | None) -> Reveal:
        return FULL


class Host:
    """What a controller may use of the app, and a log of what it was asked to do."""

    def __init__(self, trainer: Trainer, background: bool = False) -> None:
        self.trainer = trainer
        self.trainer_lock = threading.Lock()
        self.background_steps = background
        self.phases = FirstPhaseWhole()
        self.shown: list[StepRecord | None] = []
        self.notes: list[str] = []
        self.headers = 0
        self.workers: list[Any] = []
        self.posted: list[Any] = []
        self.scenario = trainer.scenario
        self.export_path: Path | None = None
        self.force_export = False
        self.last_export_path: Path | None = None

    def show_record(self, record: StepRecord | None, reveal: Reveal = FULL) -> None:
        self.shown.append(record)

    def draw_header(self) -> None:
        self.headers += 1

    def say_if_stopped(self) -> bool:
        return self.trainer.done

    def announce(self, record: StepRecord | None) -> None:
        pass

    def pause(self) -> None:
        pass

    def notify(self, message: str, **kwargs: Any) -> None:
        self.notes.append(message)

    def run_worker(self, work: Any, **kwargs: Any) -> Any:
        self.workers.append((work, kwargs))  # not run: the test runs it, or not
        return _Worker()

    def call_from_thread(self, callback: Any, *args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    def post_message(self, message: Any) -> bool:
        self.posted.append(message)
        return True


class _Worker:
    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def test_a_small_network_steps_on_the_ui_thread_and_shows_the_trainers_record():
    host = Host(Trainer(load_scenario("xor")))
    stepping = Stepping(host)
    stepping.single("step")
    stepping.single("step")
    assert host.trainer.step_count == 2 and not host.workers
    assert host.shown[-1] is not None and host.shown[-1].step == 2
    stepping.single("back")
    assert host.trainer.step_count == 1 and host.shown[-1] is not None and host.shown[-1].step == 1
    stepping.single("reset")
    stepping.single("back")
    assert host.trainer.step_count == 0 and host.shown[-1] is None
    assert host.notes == ["already at step 0"]


def test_a_big_network_steps_in_a_worker_and_queues_keys_meanwhile():
    host = Host(Trainer(load_scenario("xor")), background=True)
    stepping = Stepping(host)
    stepping.single("step")  # a worker is asked for; the trainer has not moved yet
    assert stepping.busy and len(host.workers) == 1 and host.trainer.step_count == 0
    work, options = host.workers[0]
    assert options["group"] == "trainer" and options["thread"] and options["exclusive"]
    stepping.single("step")
    stepping.single("step")  # queued while the first is applied
    assert stepping.pending.runs == [["step", 2]]

    message = _applied_in_a_worker(host, work)
    assert isinstance(message, Applied) and message.outcome.record is not None
    stepping.applied(message)  # the first step is shown, and the queued two go to a new worker
    assert host.shown[-1] is not None and host.shown[-1].step == 1
    assert len(host.workers) == 2 and stepping.busy and not stepping.pending.runs
    stepping.applied(_applied_in_a_worker(host, host.workers[1][0]))
    assert host.trainer.step_count == 3 and not stepping.busy
    assert host.shown[-1] is not None and host.shown[-1].step == 3


def _applied_in_a_worker(host: Host, work: Any) -> Applied:
    """Run a worker's function as Textual would, in a thread of its own; what it posted."""
    _run_in_thread(work)
    applied = [m for m in host.posted if isinstance(m, Applied)]
    assert len(applied) == 1, f"the worker posted {host.posted}"
    host.posted.clear()
    return applied[0]


def test_a_message_from_a_worker_the_screen_stopped_following_is_dropped():
    host = Host(Trainer(load_scenario("xor")), background=True)
    stepping = Stepping(host)
    stepping.single("step")
    old = stepping.generation
    stepping.pause()  # as any key that changes the trainer does
    shown = len(host.shown)
    stepping.applied(Applied(old, Outcome(None)))
    assert len(host.shown) == shown and not stepping.busy


def test_the_rate_stays_among_the_rates():
    stepping = Stepping(Host(Trainer(load_scenario("xor"))))
    for _ in range(len(RATES) + 2):
        stepping.set_rate(stepping.rate_index + 1)
    assert stepping.rate == RATES[-1] and rate_text(stepping.rate) == "at max speed"
    for _ in range(len(RATES) + 2):
        stepping.set_rate(stepping.rate_index - 1)
    assert stepping.rate == RATES[0] and rate_text(stepping.rate) == "1/s"


def test_the_exporter_writes_in_a_worker_and_remembers_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = Trainer(load_scenario("xor"))
    trainer.run(3, record=False)
    host = Host(trainer)
    written: list[tuple[Path, int, bool]] = []

    def write(path: Path, snapshot: Any, replace: bool, cancelled: Any, progress: Any = None) -> Path:
        written.append((path, snapshot.step_count, replace))
        progress(snapshot.step_count, snapshot.step_count)
        return path

    host.write = write  # type: ignore[attr-defined]
    host.export_command = lambda steps, path: None  # type: ignore[attr-defined]
    exporter = Exporter(host)  # type: ignore[arg-type]
    exporter.start()
    assert exporter.exporting and exporter.header_progress == (0, 3)
    trainer.step()  # a key pressed meanwhile: the export keeps the step count of the key press
    work, options = host.workers[0]
    assert options["group"] == "export" and options["thread"]
    _run_in_thread(work)
    (done,) = [m for m in host.posted if isinstance(m, Exported)]
    exporter.finish(done)
    path = tmp_path / "xor-trace.json"
    assert written == [(path, 3, False)] and exporter.progress == (3, 3)
    assert not exporter.exporting and exporter.header_progress is None
    assert host.last_export_path == path and path.resolve() in exporter.written
    assert host.notes[-1] == f"trace written to {path} (3 steps)"
    exporter.start()  # the same file again: this session wrote it, so it is replaced
    _run_in_thread(host.workers[1][0])
    assert written[-1] == (path, 4, True)


def test_a_second_export_while_one_runs_is_refused():
    host = Host(Trainer(load_scenario("xor")))
    exporter = Exporter(host)  # type: ignore[arg-type]
    exporter.exporting = True
    exporter.start()
    assert host.notes == ["an export is already running"] and not host.workers


def _run_in_thread(work: Any) -> None:
    from textual import worker as textual_worker

    class NotCancelled:
        is_cancelled = False

    def run() -> None:
        textual_worker.active_worker.set(NotCancelled())  # what get_current_worker() returns
        work()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the worker did not finish within 10 s"


def test_the_headless_loop_takes_the_steps_asked_in_growing_chunks(monkeypatch):
    trainer = Trainer(load_scenario("xor", []), history=1)
    monkeypatch.setattr(headless, "CHUNK_SECONDS", float("inf"))  # every chunk is quick
    seen: list[int] = []
    run_in_chunks(trainer, 50, progress=lambda t: seen.append(t.step_count))
    assert trainer.step_count == min(50, trainer.scenario.max_steps) or trainer.done
    steps = np.diff([0, *seen])
    assert list(steps[:4]) == [1, 2, 4, 8]  # doubled while quick
    assert seen[-1] == trainer.step_count


def test_the_headless_loop_stops_when_cancelled():
    trainer = Trainer(load_scenario("xor"), history=1)
    calls = []

    def cancelled() -> bool:
        calls.append(trainer.step_count)
        return len(calls) > 3

    run_in_chunks(trainer, 10_000, cancelled=cancelled)
    assert len(calls) == 4 and trainer.step_count == calls[-1] < 10_000


@pytest.mark.parametrize(
    "data, byte, expected",
    [
        (b"a = 1\n\xff", True, "not UTF-8 text (line 2, byte 6)"),
        (b"\xc3(", True, "not UTF-8 text (line 1, byte 0)"),
        (b"x\ny\nz\xe2\x82", False, "not UTF-8 text (line 3)"),
    ],
)
def test_not_utf8_names_the_line_and_the_byte(data, byte, expected):
    with pytest.raises(UnicodeDecodeError) as e:
        data.decode("utf-8")
    assert not_utf8(data, e.value, byte) == expected
