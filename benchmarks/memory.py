"""Peak memory of headless runs after N and after 10 N steps: flat, not growing.

    python benchmarks/memory.py [--short N] [--long M]    (default N = 10,000, M = 10 N)

Each figure comes from its own fresh process running the real command line,
``backprop-tui SCENARIO --headless --steps N [...]``, on the xor network (2-3-1 sigmoid, full
batch) made to run without stopping (no target_loss). Three ways:

    fast       no trace: Trainer.run(record=False)
    records    a streamed trace of every step, --fields loss,train_loss: a StepRecord is built
               for each of the N steps and written as it is taken
    every      a streamed trace with --every 1000: whole records of every 1,000th step (and
               the last); the steps between are trained without records

For each it prints the peak of Python's traced memory (tracemalloc, started before the command
runs) and the process's peak resident set size (ru_maxrss), after the short and after the long
run, and the ratios of the long run's figures to the short run's from the same benchmark run.
The loss series (Trainer.losses and train_losses) are bounded: 65,535 steps at most exactly,
older ones as the lowest and highest loss of 4,096 groups (engine/loss_series.py), so between
N and 10 N they grow by at most 1 MB and then stay. What else grows is numpy's cache of freed
small arrays, which fills over the first few thousand steps and then stays as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

# the batch loss, the training-set loss and (xor is a classifier) the training-set accuracy of
# every step: three float64 arrays

VARIANTS = {
    "fast": [],
    "records": ["--fields", "loss,train_loss"],
    "every": ["--every", "1000"],
}


def endless_xor(directory: Path) -> Path:
    """The bundled xor scenario without its target_loss and with room for any number of steps."""
    from tui_backprop.scenario.reader import _bundled_root

    text = _bundled_root().joinpath("xor.toml").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith(("target_loss", "max_steps"))]
    path = directory / "xor_endless.toml"
    path.write_text("\n".join(lines).replace("[training]", "[training]\nmax_steps = 10000000") + "\n")
    return path


def child(variant: str, steps: int, scenario: str, out: str) -> None:
    """One measured run, in this process: prints its figures as one JSON line."""
    from tui_backprop.cli import main

    argv = [scenario, "--headless", "--steps", str(steps)]
    if variant != "fast":
        argv += ["--export", out, *VARIANTS[variant]]
    tracemalloc.start()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    trace_bytes = os.path.getsize(out) if variant != "fast" else 0
    print(
        json.dumps(
            {"code": code, "peak": peak, "current": current, "rss": rss_kb * 1024, "trace": trace_bytes}
        )
    )


def measure(variant: str, steps: int, scenario: Path, directory: Path) -> dict:
    out = directory / f"{variant}-{steps}.json"
    cmd = [sys.executable, __file__, "--child", variant, str(steps), str(scenario), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        sys.exit(f"{variant} {steps}: exit code {result['code']}")
    out.unlink(missing_ok=True)
    return result


def mb(n: float) -> str:
    return f"{n / 2**20:.2f}M"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--short", type=int, default=10_000, help="steps of the short run, N (default 10000)")
    p.add_argument("--long", type=int, help="steps of the long run (default 10 N)")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        variant, steps, scenario, out = args.child
        child(variant, int(steps), scenario, out)
        return 0

    args.long = args.long or 10 * args.short
    print(f"xor 2-3-1 without target_loss, headless, one process a run: {args.short} and {args.long} steps")
    print("the loss series are bounded: 65,535 steps exactly at most, older ones as 4,096 ranges each\n")
    print(f"{'':<8} {'traced peak (tracemalloc)':^40}   {'peak RSS (ru_maxrss)':^30}")
    print(
        f"{'variant':<8} {args.short:>9} {args.long:>9} {'growth':>9} {'ratio':>7}   "
        f"{args.short:>9} {args.long:>9} {'ratio':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        scenario = endless_xor(Path(tmp))
        for variant in VARIANTS:
            short = measure(variant, args.short, scenario, Path(tmp))
            long = measure(variant, args.long, scenario, Path(tmp))
            growth = long["peak"] - short["peak"]
            print(
                f"{variant:<8} {mb(short['peak']):>9} {mb(long['peak']):>9} {mb(growth):>9} "
                f"{long['peak'] / short['peak']:>6.2f}x   {mb(short['rss']):>9} {mb(long['rss']):>9} "
                f"{long['rss'] / short['rss']:>6.2f}x"
                + (f"   trace {mb(long['trace'])}" if long["trace"] else "")
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
