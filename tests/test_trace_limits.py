"""A trace of any size or shape is answered in bounded time and memory (trace/text.py, trace/reader.py).

What json.loads would make of a text parsed at once is estimated from its characters before it
is parsed and refused over 250 MB; a trace laid out as the writer lays it out is parsed a chunk
of steps at a time, and holds at most 200,000 steps. Each file here is written into tmp_path and
refused by the real command (in-process), with the memory traced: the file's bytes and its text,
never what parsing it would have made.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from tui_backprop.cli import main
from tui_backprop.trace import reader as replay
from tui_backprop.trace import verify

MB = 2**20
DEADLINE = 20.0  # seconds: only a hang or a quadratic algorithm comes near it


def refused(path: Path, capsys, memory: float) -> str:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = main(["--check", str(path)])
    finally:
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert all(line.startswith(f"error: {path}: ") for line in err.splitlines()), err
    assert took < DEADLINE, f"took {took:.1f} s"
    assert peak < memory, f"{peak / MB:.0f} MB traced at the peak ({err[:200]})"
    return err


SHAPES = {  # 50 MB each
    "nested lists": lambda: "[" * (50 * MB),
    "zeros": lambda: "[" + "0," * (25 * MB) + "0]",
    "empty objects": lambda: "[" + "{}," * (16 * MB) + "{}]",
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_a_50_mb_file_of_one_shape_is_refused_before_it_is_parsed(tmp_path, capsys, name):
    text = SHAPES[name]()
    path = tmp_path / "t.json"
    path.write_text(text)
    err = refused(path, capsys, memory=110 * MB)  # its bytes and its text, 50 MB each
    assert "too large to read back: parsed at once, it would take about " in err
    assert "more than 250 MB" in err


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[str]:
    """The lines of a trace of two steps, as the writer lays them out."""
    path = tmp_path_factory.mktemp("t") / "t.json"
    assert main(["linear_neuron_sgd", "--headless", "--steps", "2", "--export", str(path)]) == 0
    return path.read_text().splitlines()


def test_a_trace_of_more_steps_than_200000_is_refused_before_one_is_parsed(tmp_path, capsys, written):
    first = written.index('"steps": [') + 1
    path = tmp_path / "t.json"
    path.write_text("\n".join([*written[:first], *["{},"] * 200_000, "{}", *written[first + 2 :]]))
    err = refused(path, capsys, memory=40 * MB)
    assert err == (
        f"error: {path}: steps: 200,001 steps is more than 200,000, the most a trace is read back with "
        "(--every K keeps a long run's trace small)\n"
    )
    assert replay.MAX_STEPS == 200_000


def test_one_step_too_large_is_refused_without_parsing_it(tmp_path, capsys, written):
    first = written.index('"steps": [') + 1
    step = json.loads(written[first].rstrip(","))
    step["layers"][0]["z"] = "HUGE"
    huge = json.dumps(step).replace('"HUGE"', "[" + "[]," * (10 * MB) + "[]]")
    path = tmp_path / "t.json"
    path.write_text("\n".join([*written[:first], huge + ",", *written[first + 1 :]]))
    err = refused(path, capsys, memory=80 * MB)  # 30 MB of text, twice, and a line of it
    assert "too large to read back: a step of it would take about " in err
    assert "(--fields keeps a big network's trace small)" in err


def test_a_trace_of_2000000_data_rows_in_lines_is_refused_before_its_data_is_parsed(
    tmp_path, capsys, written
):
    data = next(i for i, line in enumerate(written) if line.startswith('"data": '))
    rows = "[" + "[0.5], " * 2_000_000 + "[0.5]]"
    lines = [*written]
    lines[data] = '"data": {"inputs": ' + rows + ', "targets": ' + rows + "},"
    path = tmp_path / "t.json"
    path.write_text("\n".join(lines))
    err = refused(path, capsys, memory=100 * MB)
    assert "too large to read back: its scenario, data and initial weights would take about " in err


# the traces the program writes for a file under 50 MB, and whether --check recomputes them:
# (steps recomputed, of them compared, multiply-adds a step (B + N) x weights)
WRITTEN = {
    "xor, 10,000 steps (19 MB)": (10_000, 10_000, 8 * 9, True),
    "xor, 26,000 steps (50 MB)": (26_000, 26_000, 8 * 9, True),
    "xor, 100,000 steps with --every 10 (19 MB)": (100_000, 10_000, 8 * 9, True),
    "a 1-1 network, 146,000 steps (50 MB)": (146_000, 146_000, 21, False),
    "blobs_784, 10,000 steps with --every 100": (10_000, 100, 1064 * 203_264, False),
}


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_what_check_recomputes_is_within_the_bound_of_time(name):
    """A trace whose recomputation would take more than MAX_SECONDS (6 s when idle) is refused
    before any work (--no-verify reads it): with reading it, --check answers within 10 s."""
    steps, compared, work, verified = WRITTEN[name]
    assert (verify.cost(steps, compared, steps * work) <= verify.MAX_SECONDS) == verified
