"""Instructions a step, counted by callgrind: the engine against the lean numpy loop, in one run.

    python benchmarks/instructions.py [--network xor|784] [--steps N] [--variants loop,fast,records]

benchmarks/engine.py times the same three variants; on a machine shared with other work its
ratios move by 5% to 10% between runs, which is the size of what is left between the engine and
the loop on xor. An instruction count does not move with the load: each variant runs under
``valgrind --tool=callgrind`` twice, for a few steps and for N more, in a child process of its
own, and the difference of the two totals over N is what a step costs, start-up and warm-up
left out. The count is not the time (a cache miss or a page fault costs many instructions' worth,
and callgrind does not count the kernel), so it shows where Python and numpy overhead goes, and
engine.py stays the measure of time. Needs valgrind (Debian: apt install valgrind); a run of xor
takes about two minutes.

The child runs ``python benchmarks/instructions.py --child VARIANT STEPS``: one BLAS thread, the
bundled scenario as benchmarks/engine.py builds it, the variant's steps and nothing else. The
instructions of OpenBLAS's idle server threads (``blas_thread_server``), which callgrind counts
while they wait and which vary with the scheduling, are left out of the totals.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM = 50  # steps of the shorter run: the start, the imports and the first steps cancel out
IDLE = "blas_thread_server"


def child(variant: str, network: str, steps: int) -> None:
    """Take ``steps`` steps of ``variant`` (run under callgrind by the parent)."""
    sys.path.insert(0, str(HERE))
    import engine as bench  # benchmarks/engine.py: the same scenarios and the same loops

    from tui_backprop.common.threads import limit_blas_threads

    limit_blas_threads(1)
    make, loop = bench.NETWORKS[network]
    s = make()
    if variant == "loop":
        bench.run_loop(s, loop, steps)
    else:
        bench.run_engine(s, steps, record=variant == "records")


def counted(variant: str, network: str, steps: int, out: Path) -> int:
    """The instructions callgrind counts for a child taking ``steps`` steps, idle BLAS threads left out."""
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        variant,
        "--network",
        network,
        "--steps",
        str(steps),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"callgrind failed for {variant}: {done.stderr.strip().splitlines()[-1:]}")
    return busy(out)


def busy(out: Path) -> int:
    """The instructions of a callgrind output file, OpenBLAS's idle server threads left out."""
    annotated = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out)], capture_output=True, text=True, check=True
    ).stdout
    total = idle = 0
    for line in annotated.splitlines():
        m = re.match(r"\s*([\d,]+) \(.*?\)\s+(.*)", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in m.group(2):
            total = n
        elif IDLE in m.group(2):
            idle += n
    return total - idle


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", choices=["xor", "784"], default="xor")
    p.add_argument("--steps", type=int, help="steps counted (default 2000 for xor, 20 for 784)")
    p.add_argument("--variants", default="loop,fast,records", help="comma-separated, loop first")
    p.add_argument("--child", metavar="VARIANT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    steps = args.steps or {"xor": 2000, "784": 20}[args.network]
    if args.child:
        child(args.child, args.network, steps)
        return 0
    if not (shutil.which("valgrind") and shutil.which("callgrind_annotate")):
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    variants = args.variants.split(",")
    warm = min(WARM, max(steps // 10, 2))
    print(f"{args.network}: instructions a step, callgrind, {steps} steps less {warm}")
    print("load average (no effect on a count): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    per_step: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            short = counted(variant, args.network, warm, Path(tmp) / f"{variant}.short")
            long = counted(variant, args.network, warm + steps, Path(tmp) / f"{variant}.long")
            per_step[variant] = (long - short) / steps
    base = per_step.get("loop")
    for variant, n in per_step.items():
        ratio = f"   {n / base:.3f}x the loop" if base and variant != "loop" else ""
        print(f"{variant:<8} {n:12,.0f}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
