"""BLAS threads on blobs_784: one thread against OpenBLAS's default (one per core), in one run.

    python benchmarks/threads.py [--steps N] [--repeats R]

Trainer.run(N, record=False) on the bundled blobs_784 scenario (784-256-10, batches of 64,
the training-set loss once an epoch), timed R times under each setting, interleaved, scored
by the median time a step. threadpoolctl sets the limit for the timed block only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time

from threadpoolctl import threadpool_info, threadpool_limits

from tui_backprop import Trainer, load_scenario


def timed(s, steps: int, threads: int | None) -> float:
    t = Trainer(s, history=1)
    with threadpool_limits(limits=threads, user_api="blas"):
        start = time.perf_counter()
        t.run(steps, record=False)
        return (time.perf_counter() - start) / steps * 1000


def measure(steps: int, repeats: int) -> tuple[str, dict[str, list[float]]]:
    """The BLAS library's name, and the ms a blobs_784 step takes with each setting, by name."""
    s = dataclasses.replace(load_scenario("blobs_784"), max_steps=10**9)
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    default = blas[0]["num_threads"] if blas else None
    names = ", ".join(f"{i['internal_api']} {i['version']}" for i in blas)
    settings = {"1 thread": 1, f"default ({default} threads)": None}
    times: dict[str, list[float]] = {name: [] for name in settings}
    for threads in settings.values():
        timed(s, 4, threads)  # warm up
    for _ in range(repeats):
        for name, threads in settings.items():
            times[name].append(timed(s, steps, threads))
    return names, times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=48)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    names, times = measure(args.steps, args.repeats)
    print(f"{os.cpu_count()} cores; BLAS: {names}")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    one = statistics.median(times["1 thread"])
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:<22} {m:8.2f} ms a step (min {min(ts):.2f})   {m / one:.2f}x one thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
