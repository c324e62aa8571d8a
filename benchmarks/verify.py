"""What verifying a trace costs (``--check``), against reading it without (``--check --no-verify``).

    python benchmarks/verify.py [--steps N] [--repeats R] [--every-steps M] [--every K]

1. A whole trace: the bundled xor scenario without its target_loss, exported for N steps
   (10,000 by default, about 19 MB) by the real command. Then, R times each, interleaved in
   this process: reading it (``read_trace(path, whole=False)``: JSON, the schema, the shapes;
   all that ``--no-verify`` leaves) and verifying the recording read (``verify``: every step
   recomputed from the one before and every number compared). It prints the median of each,
   their ratio, and what ``--check`` takes in all. Target: verifying takes at most as long as
   reading (ratio <= 1), so that the recomputation at most doubles ``--check``.
2. A trace of --every K (M steps, 100,000 and 1,000 by default): reading it is nothing, and
   verifying it means running the M steps again, so its baseline is the headless run that
   wrote it, timed the same way (``backprop-tui ... --headless --export``, in this process).
   For information: no target.

It exits with 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tui_backprop.cli import main
from tui_backprop.replay import read_trace
from tui_backprop.verify import verify

ENDLESS = ["--set", "training.target_loss=0", "--set", "training.max_steps=100000000"]


def export(path: Path, steps: int, *flags: str) -> float:
    """Seconds the real command takes to write the trace of ``steps`` xor steps to ``path``."""
    path.unlink(missing_ok=True)
    argv = ["xor", "--headless", "--steps", str(steps), "--export", str(path), *ENDLESS, *flags]
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


def whole(directory: Path, steps: int, repeats: int) -> bool:
    path = directory / "whole.json"
    export(path, steps)
    size = path.stat().st_size / 1e6
    reads, checks = [], []
    for _ in range(repeats):  # interleaved, so that a change in the machine's load hits both
        reads.append(timed(lambda: read_trace(path, whole=False)))
        recording = read_trace(path, whole=False)
        checks.append(timed(partial(verify, recording)))
        del recording  # not alive while the next one is read, as in --check
    read, check = statistics.median(reads), statistics.median(checks)
    ratio = check / read
    print(f"xor, a whole trace of {steps:,} steps ({size:.1f} MB), median of {repeats}:")
    print(f"  reading (--no-verify)     {read:7.2f} s")
    print(f"  verifying the recording   {check:7.2f} s   {ratio:.2f}x the reading (target <= 1)")
    print(
        f"  --check in all            {read + check:7.2f} s   ({check / steps * 1e6:.0f} µs a step verified)"
    )
    return ratio <= 1.0


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


def run() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10_000, help="steps of the whole trace")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--every-steps", type=int, default=100_000, help="steps of the --every trace (0: skip)")
    p.add_argument("--every", type=int, default=1000, metavar="K")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ok = whole(Path(tmp), args.steps, args.repeats)
        if args.every_steps:
            every(Path(tmp), args.every_steps, args.every, args.repeats)
    if not ok:
        print("target missed: verifying takes longer than reading")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
