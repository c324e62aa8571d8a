"""The command line (DESIGN section 6): listing, checking, headless runs, exports and bad flags.

A few tests run the installed ``backprop-tui`` command; the rest call ``cli.main`` in-process,
which is the same code without the cost of starting Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from trace_schema import validate_trace

from tui_backprop import __version__, load_scenario
from tui_backprop.cli import main
from tui_backprop.scenario.reader import bundled_names

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"  # max_steps = 50, no target_loss
BAD = Path(__file__).parent / "bad_scenarios" / "learning_rate_negative.toml"

DIVERGING = (DATA / "diverges_1_1.toml").read_text()

SUMMARY = re.compile(
    r"^(?P<name>.+): (?P<steps>\d+) steps?, epoch \d+, training loss \S+, "
    r"(?:training accuracy \S+, )?stopped: (?P<reason>\w+)"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("backprop-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_backprop.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)


def usage_error(argv: list[str], capsys) -> str:
    """Run main() on a bad command line; the one stderr line it printed."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def trace_of(path: Path) -> dict:
    doc = json.loads(path.read_text("utf-8"))
    validate_trace(doc)
    return doc


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


# -- version, list, check --------------------------------------------------------------------


def test_version_through_the_real_command():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"backprop-tui {__version__}\n"
    assert proc.stderr == ""


def test_list_prints_one_line_per_bundled_scenario(capsys):
    assert main(["--list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    names = bundled_names()
    assert len(lines) == len(names) >= 1
    for name, line in zip(names, lines, strict=True):
        assert line.split()[0] == name
        assert load_scenario(name).name in line
    assert err == ""


def test_check_good_files(capsys):
    files = sorted(DATA.glob("*.toml"))
    assert main(["--check", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert [line.split(": ")[1] for line in out.splitlines()] == [str(f) for f in files]
    assert all(line.startswith("ok: ") for line in out.splitlines())


def test_check_bundled_names(capsys):
    assert main(["--check", *bundled_names()]) == 0
    assert capsys.readouterr().err == ""


def test_check_a_mix_of_good_and_bad_through_the_real_command():
    proc = run("--check", str(TINY), str(BAD), "xor")
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[0].startswith(f"ok: {TINY}: tiny 2-2-1")
    assert proc.stdout.splitlines()[1].startswith("ok: xor: ")
    assert proc.stderr == f"error: {BAD}: [training] learning_rate: must be > 0, got -0.5\n"


# -- headless runs ---------------------------------------------------------------------------


def test_headless_summary_on_stdout_progress_on_stderr_through_the_real_command():
    proc = run(str(TINY), "--headless", "--steps", "3")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    m = SUMMARY.match(lines[0])
    assert m and m["name"] == "tiny 2-2-1" and m["steps"] == "3" and m["reason"] == "steps"
    progress = proc.stderr.splitlines()
    assert progress and progress[-1].startswith("step 3/3  epoch 3  loss ")
    assert len(progress) == len(set(progress)), "a progress line is repeated"


@pytest.mark.parametrize("steps", [1, 7, 23])
def test_steps_runs_exactly_n_steps(tmp_path, capsys, steps):
    out_path = tmp_path / "t.json"
    assert main([str(TINY), "--headless", "--steps", str(steps), "--export", str(out_path)]) == 0
    doc = trace_of(out_path)
    assert doc["summary"]["steps"] == steps
    assert doc["summary"]["stop_reason"] == "steps"
    assert [s["step"] for s in doc["steps"]] == list(range(1, steps + 1))
    out = capsys.readouterr().out
    assert f": {steps} step{'' if steps == 1 else 's'}, " in out and f"trace: {out_path}" in out  # 1 step


def test_without_steps_the_run_goes_to_max_steps(tmp_path, capsys):
    out_path = tmp_path / "t.json"
    assert main([str(TINY), "--headless", "--export", str(out_path)]) == 0
    doc = trace_of(out_path)
    assert doc["summary"]["steps"] == 50 == len(doc["steps"])
    assert doc["summary"]["stop_reason"] == "max_steps"


def test_steps_beyond_max_steps_stop_at_max_steps(tmp_path, capsys):
    out_path = tmp_path / "t.json"
    assert main([str(TINY), "--headless", "--steps", "80", "--export", str(out_path)]) == 0
    assert trace_of(out_path)["summary"] == {
        "steps": 50,
        "final_loss": trace_of(out_path)["steps"][-1]["train_loss"],
        "stop_reason": "max_steps",
    }
    assert "stopped: max_steps" in capsys.readouterr().out


def test_reaching_the_target_loss_stops_the_run(tmp_path, capsys):
    text = TINY.read_text().replace("max_steps = 50", "max_steps = 5000\ntarget_loss = 0.2")
    text = text.replace("learning_rate = 0.5", "learning_rate = 3.0")
    scenario = tmp_path / "target.toml"
    scenario.write_text(text)
    out_path = tmp_path / "t.json"
    assert main([str(scenario), "--headless", "--export", str(out_path)]) == 0
    doc = trace_of(out_path)
    train = [s["train_loss"] for s in doc["steps"]]
    assert doc["summary"]["stop_reason"] == "target_loss"
    assert doc["summary"]["steps"] == len(train) < 5000
    assert train[-1] < 0.2 and all(x >= 0.2 for x in train[:-1])  # stopped at the first step below
    assert "stopped: target_loss" in capsys.readouterr().out


def test_diverging_run_exits_3_and_still_writes_a_valid_trace_through_the_real_command(tmp_path):
    scenario = tmp_path / "diverge.toml"
    scenario.write_text(DIVERGING)
    out_path = tmp_path / "diverge.json"
    proc = run(str(scenario), "--headless", "--export", str(out_path))
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "stopped: diverged" in proc.stdout
    text = out_path.read_text("utf-8")
    assert "NaN" not in text and "Infinity" not in text
    doc = trace_of(out_path)
    assert doc["summary"]["stop_reason"] == "diverged"
    assert doc["summary"]["final_loss"] is None
    assert doc["summary"]["steps"] == len(doc["steps"]) < 1000
    last = doc["steps"][-1]
    assert None in (last["loss"], last["train_loss"])
    assert all(s["loss"] is not None and s["train_loss"] is not None for s in doc["steps"][:-1])
    assert leftovers(tmp_path) == []


def test_export_keeps_an_existing_file_unless_forced(tmp_path, capsys):
    out_path = tmp_path / "t.json"
    out_path.write_text("old")
    assert main([str(TINY), "--headless", "--steps", "2", "--export", str(out_path)]) == 0
    assert out_path.read_text() == "old"  # never overwritten: the trace goes to t-1.json
    assert capsys.readouterr().out.rstrip().endswith(f"trace: {tmp_path / 't-1.json'}")
    assert trace_of(tmp_path / "t-1.json")["summary"]["steps"] == 2
    assert main([str(TINY), "--headless", "--steps", "2", "--export", str(out_path), "--force"]) == 0
    assert trace_of(out_path)["summary"]["steps"] == 2  # --force: replaced
    assert leftovers(tmp_path) == []


# -- paths that cannot be written ------------------------------------------------------------


def _export_error(scenario: Path, target: Path, capsys) -> str:
    assert main([str(scenario), "--headless", "--steps", "2", "--export", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {target}: "), err
    return lines[0]


def test_export_to_a_missing_directory(tmp_path, capsys):
    target = tmp_path / "missing" / "t.json"
    line = _export_error(TINY, target, capsys)
    assert "No such file or directory" in line
    assert not target.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_export_to_a_directory(tmp_path, capsys):
    target = tmp_path / "adir"
    target.mkdir()
    (target / "keep").write_text("x")
    line = _export_error(TINY, target, capsys)
    assert "is a directory" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]
    assert sorted(p.name for p in target.iterdir()) == ["keep"]


def test_export_below_a_file(tmp_path, capsys):
    target = tmp_path / "tiny.toml" / "t.json"
    shutil.copy(TINY, tmp_path / "tiny.toml")
    _export_error(TINY, target, capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def _unwritable_directory(tmp_path: Path) -> Path:
    """A directory that this process cannot create files in, even as root, or skip."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    for candidate in (ro, Path("/sys")):
        probe = candidate / ".probe-backprop-tui"
        try:
            probe.touch()
        except OSError:
            return candidate
        probe.unlink()
    pytest.skip("no directory here refuses writes (running as root, /sys writable)")


def test_export_to_a_read_only_directory(tmp_path, capsys):
    directory = _unwritable_directory(tmp_path)
    before = sorted(os.listdir(directory))
    try:
        target = directory / "t.json"
        line = _export_error(TINY, target, capsys)
        assert "cannot write here" in line
        assert sorted(os.listdir(directory)) == before
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_export_error_through_the_real_command(tmp_path):
    target = tmp_path / "missing" / "t.json"
    proc = run(str(TINY), "--headless", "--export", str(target))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"error: {target}: ") and proc.stderr.count("\n") == 1


def test_bad_scenario_headless_writes_no_trace(tmp_path, capsys):
    target = tmp_path / "t.json"
    assert main([str(BAD), "--headless", "--export", str(target)]) == 2
    assert list(tmp_path.iterdir()) == []


# -- bad command lines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([str(TINY), "--headless", "--steps", "0"], "--steps: expected a positive integer, got 0"),
        ([str(TINY), "--headless", "--steps", "-3"], "--steps: expected a positive integer, got -3"),
        ([str(TINY), "--headless", "--steps", "x"], "--steps: expected a positive integer, got 'x'"),
        ([str(TINY), "--headless", "--steps"], "--steps: expected one argument"),
        ([str(TINY), "--steps", "3"], "--steps goes with --headless"),
        ([str(TINY), "--frobnicate"], "unrecognized arguments: --frobnicate"),
        ([], "a SCENARIO is required"),
        (["--headless"], "a SCENARIO is required"),
        ([str(TINY), str(TINY), "--headless"], "give exactly one SCENARIO"),
        (["--check"], "--check needs at least one SCENARIO"),
    ],
)
def test_bad_flags(argv, says, capsys):
    assert says in usage_error(argv, capsys)


def test_bad_flag_through_the_real_command():
    proc = run(str(TINY), "--headless", "--steps", "0")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and "usage:" not in proc.stderr


@pytest.mark.parametrize("name", ["no-such-scenario", "missing.toml"])
def test_unknown_scenario(name, capsys):
    assert main([name, "--headless"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {name}: no such file")
