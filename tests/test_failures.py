"""Failure handling end to end: each failure is caused here, and the test asserts that nothing
was lost (DESIGN's "no traceback, no half-written file", issue 6).

- divergence at any learning rate up to 1e6: the run stops with "diverged", the app shows why,
  the trace says so in strict JSON (nulls, or a training-set loss over 1e8 x max(initial, 1)),
  exit code 3, nothing on stderr but progress;
- a disk that fills up in the middle of an export: the temporary file goes, an older file at
  the target keeps its bytes, exit code 2 or a notification, and the app's run goes on.

A full disk is a real 64 KiB tmpfs where this process may mount one (root), and otherwise, and
always as well, a file whose writes fail with ENOSPC once 64 KiB have gone through it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from app_harness import drive, fresh, same_state
from hypothesis import example, given, settings
from hypothesis import strategies as st
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp

PROGRESS = re.compile(r"^step \d+/\d+  epoch \d+  loss \S+$")

# two hidden layers of ACTIVATION: at a large step leaky_relu overflows within a few steps, while
# relu's units all die (the output goes constant and the run goes on, every number finite)
DEEP_TOML = """\
[scenario]
name = "deep 2-8-8-1"
[network]
layers = [2, 8, 8, 1]
activation = "ACTIVATION"
[init]
method = "he"
seed = 4
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 0]
[training]
loss = "mse"
learning_rate = 1.0
max_steps = 2000
"""
DEEP = ("relu", "leaky_relu")


def scenario_arg(name: str, folder: Path) -> str:
    """A bundled name, or the deep network of that activation written to ``folder``."""
    if name not in DEEP:
        return name
    path = folder / f"{name}.toml"
    path.write_text(DEEP_TOML.replace("ACTIVATION", name))
    return str(path)


def strict_json(text: str):
    """JSON as RFC 8259 has it: NaN and Infinity are refused."""

    def refuse(name: str):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def has_null(obj) -> bool:
    """Whether a number of the trace is null (not finite); a diagnostic's layer may be null."""
    if obj is None:
        return True
    if isinstance(obj, list):
        return any(has_null(x) for x in obj)
    if isinstance(obj, dict):
        return any(has_null(x) for k, x in obj.items() if k != "warnings")
    return False


def run_headless(argv: list[str]) -> tuple[int, str, str]:
    """main() in this process, its stdout and stderr captured, every warning an error."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_run(code: int, out: str, err: str, trace: Path) -> dict:
    """What any run at any learning rate must give; returns the trace."""
    assert code in (0, 3), err
    assert all(PROGRESS.match(line) for line in err.splitlines()), f"not only progress on stderr:\n{err}"
    doc = strict_json(trace.read_text(encoding="utf-8"))
    validate_trace(doc)
    diverged = doc["summary"]["stop_reason"] == "diverged"
    assert (code == 3) == diverged and ("stopped: diverged" in out) == diverged
    assert doc["summary"]["steps"] == len(doc["steps"])
    if diverged:
        check_diverged_trace(doc, read_trace(trace).initial_train_loss, out)
    else:  # every number of a run that did not diverge is finite
        assert not has_null(doc["steps"])
    return doc


def check_diverged_trace(doc: dict, initial: float, summary: str | None = None) -> None:
    """The step that diverged holds the numbers that are not finite, as nulls; or, with every
    number finite, it is the first whose training-set loss is over 1e8 x max(initial, 1). The
    headless ``summary`` line, when given, says which."""
    last, limit = doc["steps"][-1], 1e8 * max(initial, 1.0)
    kinds = [w["kind"] for w in last.get("warnings", [])]
    assert all(step["train_loss"] <= limit for step in doc["steps"][:-1])
    if has_null(last):
        assert "nonfinite" in kinds and "loss_exploded" not in kinds
        why = "the first non-finite value is "
    else:
        assert last["train_loss"] > limit and "loss_exploded" in kinds and "nonfinite" not in kinds
        why = f"the training-set loss {last['train_loss']:.3g} is over 1e+08"
    assert summary is None or f"stopped: diverged ({why}" in summary


# -- divergence --------------------------------------------------------------------------------

LEARNING_RATES = st.floats(0.0, 6.0).map(lambda e: 10.0**e)  # 1 to 1e6, every decade alike


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(["xor", "linear_neuron_sgd", "mlp_error_signal", *DEEP]), lr=LEARNING_RATES)
@example(name="linear_neuron_sgd", lr=1e6)
@example(name="leaky_relu", lr=1e6)
@example(name="relu", lr=1e6)
@example(name="xor", lr=1e6)
def test_any_learning_rate_up_to_1e6_ends_cleanly_headless(name, lr):
    with tempfile.TemporaryDirectory() as tmp:
        scenario = scenario_arg(name, Path(tmp))
        trace = Path(tmp) / "trace.json"
        argv = [scenario, "--headless", "--steps", "200", "--export", str(trace)]
        code, out, err = run_headless([*argv, "--set", f"training.learning_rate={lr!r}"])
        check_run(code, out, err, trace)
        assert [p.name for p in Path(tmp).iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    "scenario, lr",
    [("linear_neuron_sgd", 30.0), ("linear_neuron_sgd", 1e3), ("linear_neuron_sgd", 1e6)]
    + [("leaky_relu", 1e6)],
)
def test_a_run_that_diverges_stops_with_diverged_exit_3_and_says_why(tmp_path, scenario, lr):
    scenario = scenario_arg(scenario, tmp_path)
    trace = tmp_path / "trace.json"
    argv = [scenario, "--headless", "--export", str(trace), "--set", f"training.learning_rate={lr!r}"]
    code, out, err = run_headless(argv)
    doc = check_run(code, out, err, trace)
    assert code == 3 and doc["summary"]["stop_reason"] == "diverged"
    assert doc["summary"]["steps"] < 1000  # it stopped there, long before max_steps
    # the run to that step, taken again apart from the command line, is where it diverged
    reference = load_scenario(scenario)
    t = Trainer(replace(reference, learning_rate=lr))
    t.run(10_000, record=False)
    assert t.stop_reason == "diverged" and t.step_count == doc["summary"]["steps"]


def test_a_diverging_run_through_the_real_command_prints_no_warning(tmp_path):
    trace = tmp_path / "t.json"
    proc = subprocess.run(
        [sys.executable, "-W", "default", "-m", "tui_backprop.cli", "linear_neuron_sgd", "--headless"]
        + ["--set", "training.learning_rate=1e6", "--export", str(trace)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    check_run(proc.returncode, proc.stdout, proc.stderr, trace)
    assert proc.returncode == 3


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("lr", [30.0, 1e3, 1e6])
async def test_the_app_stops_a_diverging_run_shows_why_and_exports_it(tmp_path, lr):
    scenario = replace(load_scenario("linear_neuron_sgd"), learning_rate=lr)
    reference = fresh_diverged(scenario)
    why = reference.current_record().divergence  # the loss that blew up, or the first inf or nan
    target = tmp_path / "diverged.json"
    app = BackpropApp(scenario, export_path=target)
    async with drive(app) as s:
        await s.press("F")  # F: 1000 steps at most; the run stops where it diverges
        await s.until(lambda: not app.playing, what="the run to stop")
        assert app.trainer.stop_reason == "diverged" and app.record.diverged
        assert app.trainer.step_count == reference.step_count
        header = s.header()
        assert "stopped: diverged" in header
        assert f"✖ diverged at step {reference.step_count}: {why}" in header  # the banner, with the reason
        assert s.noted(f"diverged at step {reference.step_count}: {why}", "error")
        await s.press("space")  # space: no step past a divergence, a warning says why
        assert app.trainer.step_count == reference.step_count and s.noted("the run has stopped (diverged)")
        await s.press("e")  # e: export the diverged run
        await s.until(lambda: not app.exporting and target.exists(), what="the export")
        doc = strict_json(target.read_text(encoding="utf-8"))
        validate_trace(doc)
        assert doc["summary"]["stop_reason"] == "diverged"
        assert doc["summary"]["steps"] == reference.step_count
        check_diverged_trace(doc, reference.initial_train_loss)


def fresh_diverged(scenario) -> Trainer:
    t = Trainer(scenario)
    t.run(1000, record=False)
    assert t.stop_reason == "diverged"
    return t


# -- a disk that fills up mid-export -----------------------------------------------------------

DISK_BYTES = 64 * 1024


class _FillingFile(io.FileIO):
    """A file on a disk with ``room`` bytes left: a write beyond it is partial, then ENOSPC."""

    room = DISK_BYTES

    def write(self, b) -> int:  # type: ignore[override]
        data = bytes(b)
        if type(self).room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = super().write(data[: type(self).room]) or 0
        type(self).room -= n
        return n


class FullDisk:
    """A directory whose disk fills up once ``fill()`` is called and 64 KiB more are written."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch | None) -> None:
        self.path, self._monkeypatch = path, monkeypatch

    def fill(self) -> None:
        if self._monkeypatch is None:
            return  # a real tmpfs of 64 KiB: it fills by itself
        real_fdopen = os.fdopen

        class Filling(_FillingFile):
            room = DISK_BYTES

        def fdopen(fd, mode="r", *args, encoding=None, newline=None, **kwargs):
            if mode != "w":
                return real_fdopen(fd, mode, *args, encoding=encoding, newline=newline, **kwargs)
            raw = Filling(fd, "w")
            return io.TextIOWrapper(io.BufferedWriter(raw), encoding=encoding, newline=newline)

        self._monkeypatch.setattr(os, "fdopen", fdopen)

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.path.iterdir())


@pytest.fixture(params=["tmpfs", "ENOSPC after 64 KiB"])
def full_disk(request, tmp_path, monkeypatch):
    path = tmp_path / "disk"
    path.mkdir()
    if request.param == "ENOSPC after 64 KiB":
        yield FullDisk(path, monkeypatch)
        return
    if sys.platform != "linux":
        pytest.skip("tmpfs is Linux")
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(path)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode(errors='replace').strip()}")
    try:
        yield FullDisk(path, None)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


OLD = b'{"an older trace": "its bytes must survive"}\n'


def test_a_disk_that_fills_up_mid_export_leaves_the_old_file_and_no_temporary(full_disk):
    target = full_disk.path / "xor-trace.json"
    target.write_bytes(OLD)
    full_disk.fill()
    argv = ["xor", "--headless", "--steps", "3000", "--export", str(target), "--force"]
    code, out, err = run_headless(argv)  # --force: a complete trace would replace the old file
    assert code == 2 and out == ""
    errors = [line for line in err.splitlines() if not PROGRESS.match(line)]
    assert errors == [f"error: {target}: cannot write: No space left on device"]
    assert target.read_bytes() == OLD
    assert full_disk.leftovers() == ["xor-trace.json"]  # the temporary file is gone


async def test_a_disk_that_fills_up_mid_export_in_the_app_is_a_notification(full_disk):
    target = full_disk.path / "run.json"
    scenario = replace(load_scenario("xor"), target_loss=None)  # so that it runs 1000 steps
    app = BackpropApp(scenario, export_path=target)
    async with drive(app) as s:
        await s.press("space", "e")  # space, e: a first export, small enough to fit
        await s.until(lambda: not app.exporting and target.exists(), what="the first export")
        first = target.read_bytes()
        assert strict_json(first.decode())["summary"]["steps"] == 1
        full_disk.fill()
        await s.press("F")  # F: 1000 steps, a trace far larger than the disk
        await s.until(lambda: not app.playing, what="1000 steps")
        await s.press("e")  # e: export again, over the file this app wrote: the disk fills up
        await s.until(lambda: s.noted("export failed", "error"), what="the failure notification")
        assert s.noted(f"{target}: cannot write: No space left on device", "error")
        assert not app.exporting and app.is_running
        assert target.read_bytes() == first  # the older export is untouched
        assert full_disk.leftovers() == ["run.json"]
        assert same_state(app, fresh(scenario, 1001))  # the run is intact
        await s.press("space")  # space: and it goes on
        assert app.trainer.step_count == 1002


def test_the_filling_file_really_fails_after_its_room(tmp_path, monkeypatch):
    """The simulated disk is honest: short writes, then ENOSPC, through Python's buffers."""
    disk = FullDisk(tmp_path, monkeypatch)
    disk.fill()
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
    with pytest.raises(OSError) as e:
        for _ in range(1000):
            f.write("x" * 1000)
        f.flush()
    assert e.value.errno == errno.ENOSPC
    with contextlib.suppress(OSError):
        f.close()
    assert (tmp_path / "f").stat().st_size == DISK_BYTES


def test_an_exported_trace_gets_the_mode_of_any_new_file(tmp_path):
    """Written through a temporary file (mode 0600), the trace ends with the umask's mode, so a
    class can read the trace that a teacher exported."""
    old = os.umask(0o022)
    try:
        code, _, _ = run_headless(["xor", "--headless", "--steps", "2", "--export", str(tmp_path / "t.json")])
        plain = tmp_path / "plain"
        plain.write_text("")
    finally:
        os.umask(old)
    assert code == 0
    assert (tmp_path / "t.json").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644
