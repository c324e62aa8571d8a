"""Reading the files a user names (common/files.py): only regular files, never waiting, within a limit.

A FIFO, a device, a socket or a directory given as a scenario, a CSV file or a trace is refused
with a message naming the file and what it is, at once: a FIFO's open does not wait for a writer
(each FIFO here has a watchdog that would open its other end after a few seconds, and the test
fails if it had to), /dev/zero is never read. A file over its limit is refused before it is read
(a sparse file of limit + 1 bytes costs no disk), and a file whose size says 0 is still read only
up to the limit.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
from file_kinds import WATCHDOG_SECONDS, fifo, sparse, unix_socket

from tui_backprop import load_scenario
from tui_backprop.cli import is_trace, main
from tui_backprop.common import files
from tui_backprop.common.files import CSV_LIMIT, SCENARIO_LIMIT, TRACE_LIMIT, Unreadable, read_regular
from tui_backprop.scenario.reader import ScenarioError
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.writer import TraceError

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"


# -- the module --------------------------------------------------------------------------------


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes(b"x" * 1000)
    assert read_regular(path, 1000, "scenario file") == b"x" * 1000
    link = tmp_path / "link.toml"
    link.symlink_to(path)  # a link to a regular file is followed
    assert read_regular(link, 1000, "scenario file") == b"x" * 1000


def test_each_kind_of_file_that_is_not_regular_is_named(tmp_path):
    with fifo(tmp_path / "f") as f, unix_socket(tmp_path / "s") as s:
        for path, says in [
            (f, "is a FIFO, not a scenario file"),
            (Path("/dev/zero"), "is a character device, not a scenario file"),
            (s, "is a socket, not a scenario file"),
            (tmp_path, "is a directory, not a scenario file"),
            (tmp_path / "missing", "no such file"),
        ]:
            with pytest.raises(Unreadable) as info:
                read_regular(path, SCENARIO_LIMIT, "scenario file")
            assert info.value.reason == says
            assert str(info.value) == f"error: {path}: {says}"


def test_over_the_limit_is_refused_naming_the_limit(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"y" * 101)
    with pytest.raises(Unreadable, match="is larger than 0 MB, the limit for a CSV file"):
        read_regular(path, 100, "CSV file")
    assert read_regular(path, 101, "CSV file") == b"y" * 101  # exactly the limit is fine


def test_a_file_that_says_it_is_empty_is_read_only_up_to_the_limit():
    """Files in /proc have a size of 0 and content all the same: the read goes on past the size
    the file gave, but never past the limit."""
    maps = Path("/proc/self/maps")
    assert os.stat(maps).st_size == 0
    assert b"\n" in read_regular(maps, 2**20, "scenario file")
    with pytest.raises(Unreadable, match="is larger than"):
        read_regular(maps, 10, "scenario file")


def test_the_file_opened_is_checked_again(tmp_path, monkeypatch):
    """A regular file swapped for a FIFO between the check and the open: the descriptor's own
    type is checked, and the open did not wait."""
    path = tmp_path / "swapped.toml"
    path.write_text("x")
    real_open = os.open

    def swap_then_open(p, flags, *args):
        if Path(p) == path:
            path.unlink()
            os.mkfifo(path)
            assert flags & os.O_NONBLOCK
        return real_open(p, flags, *args)

    monkeypatch.setattr(files.os, "open", swap_then_open)
    with pytest.raises(Unreadable, match="is a FIFO, not a scenario file"):
        read_regular(path, SCENARIO_LIMIT, "scenario file")


def test_the_limits_are_the_documented_ones():
    """The table of docs/cli.md, "Files that are read", says what the code enforces."""
    readme = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    for row, limit in [
        ("| scenario (`.toml`) | ", SCENARIO_LIMIT),
        ("| `[data] csv` | ", CSV_LIMIT),
        ("| trace (`.json`, for `--check` and replay) | ", TRACE_LIMIT),
    ]:
        line = next(line for line in readme.splitlines() if line.startswith(row))
        assert line[len(row) :].startswith(files.size_text(limit) + " "), line
    sizes = [files.size_text(n) for n in (SCENARIO_LIMIT, CSV_LIMIT, TRACE_LIMIT)]
    assert sizes == ["4 MB", "256 MB", "1 GB"]


# -- every reader uses it ------------------------------------------------------------------------


def test_a_scenario_that_is_a_fifo_a_device_or_too_big(tmp_path):
    with fifo(tmp_path / "net.toml") as f:
        with pytest.raises(ScenarioError) as info:
            load_scenario(str(f))
        assert str(info.value) == f"error: {f}: is a FIFO, not a scenario file"
    with pytest.raises(ScenarioError, match="is a character device, not a scenario file"):
        load_scenario("/dev/zero")
    big = sparse(tmp_path / "big.toml", SCENARIO_LIMIT + 1)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(big))
    assert str(info.value) == f"error: {big}: is larger than 4 MB, the limit for a scenario file"


CSV_SCENARIO = """\
[scenario]
name = "csv"
[network]
layers = [1, 1]
activation = "identity"
[data]
csv = "{name}"
target_columns = ["t"]
[training]
loss = "mse"
learning_rate = 0.1
"""


@pytest.mark.parametrize("kind", ["fifo", "device", "too big"])
def test_a_csv_that_is_a_fifo_a_device_or_too_big(tmp_path, kind):
    if kind == "device":
        name, says = "/dev/zero", "/dev/zero: is a character device, not a CSV file"
    elif kind == "too big":
        sparse(tmp_path / "d.csv", CSV_LIMIT + 1)
        name, says = "d.csv", "d.csv: is larger than 256 MB, the limit for a CSV file"
    else:
        name, says = "d.csv", "d.csv: is a FIFO, not a CSV file"
    scenario = tmp_path / "net.toml"
    scenario.write_text(CSV_SCENARIO.format(name=name))
    with fifo(tmp_path / "d.csv") if kind == "fifo" else nullcontext():
        with pytest.raises(ScenarioError) as info:
            load_scenario(str(scenario))
    assert info.value.problems == [f"[data] csv: {says}"]


def test_a_trace_that_is_a_fifo_a_device_or_too_big(tmp_path):
    with fifo(tmp_path / "run.json") as f:
        with pytest.raises(TraceError) as info:
            read_trace(f)
        assert str(info.value) == f"error: {f}: is a FIFO, not a trace file"
        assert is_trace(str(f))  # by its name
        plain = tmp_path / "run"
        os.mkfifo(plain)
        assert not is_trace(str(plain))  # not peeked into: it is no regular file
    with pytest.raises(TraceError, match="is a character device, not a trace file"):
        read_trace("/dev/zero")
    big = sparse(tmp_path / "big.json", TRACE_LIMIT + 1)
    with pytest.raises(TraceError, match="is larger than 1 GB, the limit for a trace file"):
        read_trace(big)


def test_the_command_line_refuses_them_at_once(tmp_path, capsys):
    """--check, a headless run and a replay, each on a FIFO or /dev/zero: exit 2, one line."""
    with fifo(tmp_path / "net.toml") as f, fifo(tmp_path / "run.json") as t:
        started = time.monotonic()
        for argv, says in [
            (["--check", str(f)], f"error: {f}: is a FIFO, not a scenario file"),
            ([str(f), "--headless"], f"error: {f}: is a FIFO, not a scenario file"),
            ([str(t)], f"error: {t}: is a FIFO, not a trace file"),
            (["/dev/zero", "--headless"], "error: /dev/zero: is a character device, not a scenario file"),
            (["--check", "/dev/zero"], "error: /dev/zero: is a character device, not a scenario file"),
        ]:
            assert main(argv) == 2, argv
            out, err = capsys.readouterr()
            assert err.splitlines() == [says] and "Traceback" not in err
        assert time.monotonic() - started < WATCHDOG_SECONDS
