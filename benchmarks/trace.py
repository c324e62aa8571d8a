"""Trace writing against the training that computes the steps, in one run.

    python benchmarks/trace.py [--network xor|784|both] [--steps N] [--repeats R]

For each network, R times, interleaved:

    compute   Trainer.step() N times: the StepRecords a trace is written from
    write     TraceWriter.write_step of those N records into a file (trace/numbers.py:
              orjson for the float arrays, then the same bytes as json.dumps)
    json      the same steps written by json.dumps of nested lists: the encoder before orjson,
              for reference (it is not written to disk)

Each is scored by its median time a step. Targets (issue 15): write <= compute on xor, and
write <= 0.1 s a step on blobs_784.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui_backprop import Trainer, load_scenario
from tui_backprop.common.threads import blas_threads, limit_blas_threads
from tui_backprop.trace.writer import TraceWriter, step_dict


def scenario(name: str):
    return dataclasses.replace(load_scenario(name), target_loss=None, max_steps=10**9)


def compute(s, steps: int):
    t = Trainer(s)
    start = time.perf_counter()
    records = [t.step() for _ in range(steps)]
    return time.perf_counter() - start, t, records


def write(t, records, folder: Path) -> float:
    with TraceWriter(folder / "bench.json", t) as w:
        start = time.perf_counter()
        for rec in records:
            w.write_step(rec)
        took = time.perf_counter() - start
        w.close(t.final_train_loss, "steps")
    return took


def write_json(records) -> float:
    start = time.perf_counter()
    for rec in records:
        json.dumps(step_dict(rec), ensure_ascii=False, allow_nan=False)
    return time.perf_counter() - start


def bench(name: str, steps: int, repeats: int, folder: Path) -> bool:
    s = scenario({"xor": "xor", "784": "blobs_784"}[name])
    times: dict[str, list[float]] = {"compute": [], "write": [], "json": []}
    compute(s, 2)  # warm up
    for _ in range(repeats):
        took, t, records = compute(s, steps)
        times["compute"].append(took / steps)
        times["write"].append(write(t, records, folder) / steps)
        times["json"].append(write_json(records) / steps)
    size = (folder / "bench.json").stat().st_size
    print(f"\n{s.name}: {steps} steps x {repeats} runs, trace {size / steps / 1e6:.3f} MB a step")
    print(f"{'variant':<8} {'median ms':>10} {'min ms':>9}")
    for variant, ts in times.items():
        print(f"{variant:<8} {statistics.median(ts) * 1e3:>10.3f} {min(ts) * 1e3:>9.3f}")
    c, w, j = (statistics.median(times[k]) for k in ("compute", "write", "json"))
    print(f"write / compute = {w / c:.2f}x   json / write = {j / w:.1f}x")
    if name == "xor":
        ok = w <= c
        print(f"target: write <= compute: {'PASS' if ok else 'FAIL'}")
    else:
        ok = w <= 0.1
        print(f"target: write <= 0.1 s a step ({w:.3f} s): {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", choices=["xor", "784", "both"], default="both")
    p.add_argument("--steps", type=int, help="steps a run (default 500 for xor, 5 for 784)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    limit_blas_threads(blas_threads())  # as the command line does: one BLAS thread unless asked
    print(f"{os.cpu_count()} cores; load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    ok = True
    with tempfile.TemporaryDirectory() as d:
        for name in ["xor", "784"] if args.network == "both" else [args.network]:
            steps = args.steps or {"xor": 500, "784": 5}[name]
            ok &= bench(name, steps, args.repeats, Path(d))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
