"""What reading and verifying a trace cost (``--check``), against json.loads of the same bytes.

    python benchmarks/verify.py [--steps N] [--repeats R] [--every-steps M] [--every K] [--big]

1. A whole trace: the bundled xor scenario without its target_loss, exported for N steps
   (10,000 by default, about 19 MB) by the real command. Then, R times each, interleaved in
   this process: json.loads of the file's bytes (the baseline: the least any reader of JSON
   does), reading it (``read_trace(path, whole=False)``: JSON, the schema, the shapes; all
   that ``--no-verify`` leaves) and verifying the recording read (``verify``: every step
   recomputed from the one before and every number compared). It prints the median of each
   and its ratio to json.loads. Then the real command, once each in a fresh process, beside a
   process that only imports json and parses the file: ``backprop-tui --check --no-verify``
   and ``backprop-tui --check``, their wall time and peak RSS (the child's rusage).
   Targets: reading at most 2.5x json.loads, verifying at most 3x.
2. A trace of --every K (M steps, 100,000 and 1,000 by default): reading it is nothing, and
   verifying it means running the M steps again, so its baseline is the headless run that
   wrote it, timed the same way (``backprop-tui ... --headless --export``, in this process).
   For information: no target.
3. With --big, the traces the program writes for about 50 MB, through the real command:
   xor for 26,000 steps and the 1-1 network linear_neuron_sgd for 146,000 steps, each with
   ``--check`` and ``--check --no-verify``: wall time and peak RSS (issue 11: within 10 s and
   500 MB). For information: no target.

It exits with 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from tui_backprop.cli import main
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.verify import verify

ENDLESS = ["--set", "training.target_loss=0", "--set", "training.max_steps=100000000"]
READ_TARGET = 2.5  # reading, against json.loads of the same bytes
VERIFY_TARGET = 3.0  # verifying what was read, against the same


def export(path: Path, steps: int, *flags: str, scenario: str = "xor") -> float:
    """Seconds the real command takes to write the trace of ``steps`` steps to ``path``."""
    path.unlink(missing_ok=True)
    argv = [scenario, "--headless", "--steps", str(steps), "--export", str(path), *ENDLESS, *flags]
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    took = time.perf_counter() - started
    if code != 0:
        sys.exit(f"the export failed with exit code {code}")
    return took


def timed(f: Callable[[], object]) -> float:
    started = time.perf_counter()
    f()
    return time.perf_counter() - started


TIME = Path("/usr/bin/time")  # GNU time: the peak RSS of a process exec'd from a small one


def child(argv: Sequence[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one run of ``argv`` in a fresh process. The
    RSS is measured by GNU time when it is there: a child forked from this process starts with
    this process's pages, which its own rusage then counts."""
    with tempfile.NamedTemporaryFile("r") as report:
        wrapper = [str(TIME), "-o", report.name, "-f", "%M"] if TIME.exists() else []
        started = time.perf_counter()
        process = subprocess.Popen([*wrapper, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        took = time.perf_counter() - started
        kb = float(report.read().split()[-1]) if wrapper else usage.ru_maxrss
    return took, kb / 1024, os.waitstatus_to_exitcode(status)


_INSTALLED = Path(sys.executable).with_name("backprop-tui")
COMMAND = [str(_INSTALLED)] if _INSTALLED.exists() else [sys.executable, "-m", "tui_backprop.cli"]
JSON_ONLY = [sys.executable, "-c", "import json, sys; json.loads(open(sys.argv[1], 'rb').read())"]


def whole(directory: Path, steps: int, repeats: int) -> bool:
    path = directory / "whole.json"
    export(path, steps)
    data = path.read_bytes()
    size = len(data) / 1e6
    loads, reads, checks = [], [], []
    for _ in range(repeats):  # interleaved, so that a change in the machine's load hits all three
        loads.append(timed(lambda: json.loads(data)))
        reads.append(timed(lambda: read_trace(path, whole=False)))
        recording = read_trace(path, whole=False)
        checks.append(timed(partial(verify, recording)))
        del recording  # not alive while the next one is read, as in --check
    base, read, check = statistics.median(loads), statistics.median(reads), statistics.median(checks)
    print(f"xor, a whole trace of {steps:,} steps ({size:.1f} MB), median of {repeats}, in this process:")
    print(f"  json.loads of its bytes   {base:7.2f} s")
    ratio = f"{read / base:.2f}x json.loads (target <= {READ_TARGET})"
    print(f"  reading (--no-verify)     {read:7.2f} s   {ratio}")
    print(
        f"  verifying the recording   {check:7.2f} s   {check / base:.2f}x json.loads (target <= "
        f"{VERIFY_TARGET}), {check / steps * 1e6:.0f} us a step"
    )
    print("  the real command, each in a fresh process (wall time, peak RSS):")
    for label, argv in (
        ("python: import json, json.loads", [*JSON_ONLY, str(path)]),
        ("backprop-tui --check --no-verify", [*COMMAND, "--check", "--no-verify", str(path)]),
        ("backprop-tui --check", [*COMMAND, "--check", str(path)]),
    ):
        took, rss, code = child(argv)
        print(f"    {label:34s} {took:6.2f} s  {rss:6.0f} MB" + (f"  exit code {code}" if code else ""))
    return read / base <= READ_TARGET and check / base <= VERIFY_TARGET


def every(directory: Path, steps: int, k: int, repeats: int) -> None:
    path = directory / "every.json"
    runs, checks = [], []
    for _ in range(repeats):
        runs.append(export(path, steps, "--every", str(k)))
        recording = read_trace(path, whole=False)
        checks.append(timed(partial(verify, recording)))
    run, check = statistics.median(runs), statistics.median(checks)
    print(f"xor, --every {k} over {steps:,} steps ({path.stat().st_size / 1e3:.0f} kB), median of {repeats}:")
    print(f"  the headless run that wrote it   {run:7.2f} s")
    print(f"  verifying it                     {check:7.2f} s   {check / run:.2f}x the run")


def big(directory: Path) -> None:
    print("traces of about 50 MB, the real command in a fresh process (wall time, peak RSS):")
    for scenario, steps in (("xor", 26_000), ("linear_neuron_sgd", 146_000)):
        path = directory / f"{scenario}.json"
        export(path, steps, scenario=scenario)
        print(f"  {scenario}, {steps:,} steps ({path.stat().st_size / 1e6:.1f} MB):")
        for flags in (["--no-verify"], []):
            took, rss, code = child([*COMMAND, "--check", *flags, str(path)])
            what = " ".join(["--check", *flags])
            print(f"    {what:22s} {took:6.2f} s  {rss:6.0f} MB  exit code {code}")
        path.unlink()


def run() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10_000, help="steps of the whole trace")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--every-steps", type=int, default=100_000, help="steps of the --every trace (0: skip)")
    p.add_argument("--every", type=int, default=1000, metavar="K")
    p.add_argument("--big", action="store_true", help="also the traces of about 50 MB (a minute)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ok = whole(Path(tmp), args.steps, args.repeats)
        if args.every_steps:
            every(Path(tmp), args.every_steps, args.every, args.repeats)
        if args.big:
            big(Path(tmp))
    if not ok:
        print("target missed: reading or verifying takes longer against json.loads than it should")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
