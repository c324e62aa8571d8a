"""Instructions a step key costs the app, counted by callgrind, against the minimal Textual app.

    python benchmarks/app_instructions.py [--scenario xor] [--steps 20] [--size 160x45]

benchmarks/app.py times a step key in tmux and in-process; on this shared machine its medians
move by a third between runs of the same code, more than most single changes to the drawing
save. An instruction count does not move with the load. The app runs headless (``App.run_test``,
160x45 unless --size says) under ``valgrind --tool=callgrind`` twice, taking a few step keys and
then N more, each key handed to the driver as benchmarks/app.py's in-process figure does and
waited for until the frame that shows it; the difference of the two totals over N (OpenBLAS's
idle server threads left out, as benchmarks/instructions.py leaves them) is what a step key
costs: the binding, the step, every panel's build, the frame and its escape codes, start-up and
imports left out. The minimal Textual app of benchmarks/app.py (one Static that counts the keys)
is counted the same way in the same run. The count is not the time (a cache miss costs many
instructions' worth); benchmarks/app.py stays the measure of the targets. Needs valgrind
(Debian: apt install valgrind); a run of xor takes about a minute. A network as big as blobs_784
is too slow under callgrind for the 10 s that benchmarks/app.py waits for a step's frame."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import app as bench  # benchmarks/app.py, beside this file: the same key path and the same minimal app
from instructions import busy  # benchmarks/instructions.py, beside this file: idle BLAS threads left out

WARM = 4  # keys of the shorter run: start-up, imports and the first frames cancel out


def child(scenario: str, steps: int, size: tuple[int, int]) -> None:
    """Take ``steps`` step keys in ``scenario``'s app ("baseline": the minimal app), headless."""
    from tui_backprop import load_scenario
    from tui_backprop.tui.app import BackpropApp

    bench.watch_frames()
    make = bench.Baseline if scenario == "baseline" else (lambda: BackpropApp(load_scenario(scenario)))
    asyncio.run(bench.inprocess_steps(make, size, steps, 0.0, "", True))


def counted(scenario: str, steps: int, size: tuple[int, int], out: Path) -> int:
    """The instructions callgrind counts for a child taking ``steps`` step keys, less those of
    OpenBLAS's idle server threads (which callgrind counts while they wait)."""
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__]
    args = [*cmd, "--child", scenario, "--steps", str(steps), "--size", f"{size[0]}x{size[1]}"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:  # the child's own last words, not valgrind's summary lines
        said = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("==")]
        sys.exit(f"the app failed under callgrind for {scenario} (exit {done.returncode}): {said[-1:]}")
    return busy(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="xor", help="a bundled scenario (default xor)")
    p.add_argument("--steps", type=int, default=20, help="step keys counted (default 20)")
    size_help = "terminal size WxH (default 160x45)"
    p.add_argument("--size", type=bench.terminal_size, default="160x45", help=size_help)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    size = args.size
    if args.child:
        child(args.child, args.steps, size)
        return 0
    if not (shutil.which("valgrind") and shutil.which("callgrind_annotate")):
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    print(f"{args.scenario}: instructions a step key at {size[0]}x{size[1]}, callgrind, {args.steps} keys")
    print("load average (no effect on a count): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    subjects = {"baseline": "baseline", args.scenario: args.scenario}
    per_key: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        runs = {
            (name, n): pool.submit(counted, scenario, n, size, Path(tmp) / f"{name}.{n}")
            for name, scenario in subjects.items()
            for n in (WARM, WARM + args.steps)
        }
        for name in subjects:
            per_key[name] = (runs[name, WARM + args.steps].result() - runs[name, WARM].result()) / args.steps
    base = per_key["baseline"]
    for name, n in per_key.items():
        ratio = f"   {n / base:.1f}x the minimal app" if name != "baseline" else "   (the minimal app)"
        print(f"{name:<12} {n:14,.0f}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
