"""What the data-out formats and the light commands cost, each as a ratio to a baseline timed in
the same run (medians of R repeats, interleaved):

    python benchmarks/data_out.py [--steps N] [--repeats R]

1. A headless run of the bundled xor scenario without its target_loss, N steps (20,000 by
   default), in this process: without an export (the baseline), then with --export to a .csv, a
   .npz and a .json trace. The CSV takes a record a step (its row), as the trace does; the npz
   only the last weights.
2. Start-up, each in a fresh process: ``python -c pass`` (the baseline: a bare interpreter), then
   ``python -m tui_backprop`` with --version, --help and --completion bash.

For information: no target (the issue asks for the formats and for --help and --version to load
no terminal library, which tests/test_help_groups.py checks).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tui_backprop.cli import main

ENDLESS = ["--set", "training.target_loss=0", "--set", "training.max_steps=100000000"]


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def medians(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):  # interleaved: a slow moment of the machine touches every case
        for name, fn in cases.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def report(title: str, result: dict[str, float], baseline: str) -> None:
    print(title)
    base = result[baseline]
    for name, t in result.items():
        print(f"  {name:<34} {t * 1000:9.1f} ms  {t / base:6.2f}x")


def headless(folder: Path, steps: int, export: str | None) -> Callable[[], object]:
    argv = ["xor", "--headless", "--steps", str(steps), *ENDLESS]
    if export:
        argv += ["--export", str(folder / export), "--force"]

    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(argv) == 0

    return run


def process(*args: str) -> Callable[[], object]:
    return lambda: subprocess.run([sys.executable, *args], check=True, capture_output=True)


def main_benchmark() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = {
            "no export (baseline)": headless(folder, args.steps, None),
            "--export run.csv": headless(folder, args.steps, "run.csv"),
            "--export weights.npz": headless(folder, args.steps, "weights.npz"),
            "--export trace.json": headless(folder, args.steps, "trace.json"),
        }
        report(f"xor, {args.steps:,} steps headless", medians(runs, args.repeats), "no export (baseline)")
    starts = {
        "python -c pass (baseline)": process("-c", "pass"),
        "python -m tui_backprop --version": process("-m", "tui_backprop", "--version"),
        "python -m tui_backprop --help": process("-m", "tui_backprop", "--help"),
        "python -m tui_backprop --completion": process("-m", "tui_backprop", "--completion", "bash"),
    }
    report("start-up, a fresh process each", medians(starts, args.repeats), "python -c pass (baseline)")


if __name__ == "__main__":
    main_benchmark()
