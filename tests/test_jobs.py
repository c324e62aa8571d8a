"""--vary ... --jobs N: the variants in N processes, the same table and traces as --jobs 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_backprop.cli import main

VARY = ["xor", "--headless", "--vary", "training.learning_rate=0.5,2,4,8", "--steps", "60"]


def run(tmp_path: Path, name: str, jobs: int, capsys) -> tuple[str, dict[str, bytes]]:
    folder = tmp_path / name
    folder.mkdir()
    cwd = os.getcwd()
    os.chdir(folder)  # the table names the traces relative to the working folder
    try:
        code = main([*VARY, "--export", ".", "--jobs", str(jobs)])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out, {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def test_two_processes_write_what_one_does(tmp_path, capsys):
    table_1, traces_1 = run(tmp_path, "one", 1, capsys)
    table_2, traces_2 = run(tmp_path, "two", 2, capsys)
    assert len(traces_1) == 4 and len(set(traces_1.values())) == 4  # four different runs
    assert table_2 == table_1
    assert traces_2 == traces_1


@pytest.mark.parametrize(
    "flags", [["xor", "--headless", "--jobs", "2"], ["xor", "--vary", "training.seed=1,2", "--jobs", "2"]]
)
def test_jobs_goes_with_vary_and_headless(flags, capsys):
    with pytest.raises(SystemExit) as e:
        main(flags)
    assert e.value.code == 2
    assert "--jobs goes with --vary and --headless" in capsys.readouterr().err


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit) as e:
        main([*VARY, "--jobs", "0"])
    assert e.value.code == 2
    assert "--jobs" in capsys.readouterr().err
