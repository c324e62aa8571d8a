"""--vary --jobs 2 against --jobs 1: four variants of blobs_784 on this machine's cores, one run.

    python benchmarks/vary.py [--steps N] [--repeats R]

Each command is a fresh `backprop-tui blobs_784 --headless --vary
training.learning_rate=0.005,0.01,0.02,0.04 --steps N [--jobs 2]` (no trace), timed R times,
interleaved, scored by its median wall time. Prints the speed-up (jobs 1 / jobs 2) and checks
that both print the same table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

VARY = ["blobs_784", "--headless", "--vary", "training.learning_rate=0.005,0.01,0.02,0.04"]


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=320)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    base = [sys.executable, "-m", "tui_backprop", *VARY, "--steps", str(args.steps)]
    runs = {"--jobs 1": base, f"--jobs {args.jobs}": [*base, "--jobs", str(args.jobs)]}
    print(f"{os.cpu_count()} cores; load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    times: dict[str, list[float]] = {name: [] for name in runs}
    tables: dict[str, str] = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            took, tables[name] = timed(run)
            times[name].append(took)
    same = len(set(tables.values())) == 1
    for name, ts in times.items():
        median = statistics.median(ts)
        print(f"{name:<9} {median:6.2f} s (min {min(ts):.2f}), 4 variants x {args.steps} steps")
    one, many = (statistics.median(ts) for ts in times.values())
    print(f"speed-up: {one / many:.2f}x   tables identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
