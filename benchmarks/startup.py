"""Start-up time of the command against a bare interpreter, in one run.

    python benchmarks/startup.py [--repeats R] [--clock wall|cpu]

Each command is a fresh process, started R times, interleaved with the baseline
``python -c pass`` (the same interpreter), and scored by its median wall time, or with
``--clock cpu`` by the median CPU time the process used (user + system, from os.wait4): on a
machine that others load, the wall time of a 30 ms process swings by half, its CPU time less.

    --version          answered by tui_backprop/__main__.py before anything else is imported
    --help, --list     the command line's parser (no numpy: the heavy modules are imported where
                       they are used), and --list reads two keys of each bundled file
    --check xor        reads and checks a bundled scenario without numpy: the scenario reader, and
                       the engine's names of activations, losses and datasets (engine/names.py)

The package is byte-compiled first, as installing it does: an editable checkout run with
PYTHONDONTWRITEBYTECODE set (as on the machines this was measured on) would otherwise compile
every module it imports on every start, which no installed copy pays.

Target (issue 15): each within 3 x the bare interpreter.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 3.0
BASE = "python -c pass"
COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "--list": ["--list"],
    "--check xor": ["--check", "xor"],
}


def command() -> list[str]:
    """The installed backprop-tui script, run by this interpreter."""
    here = os.path.dirname(sys.executable)
    script = shutil.which("backprop-tui", path=here) or shutil.which("backprop-tui")
    if script is None:
        sys.exit("backprop-tui is not installed in this environment")
    return [sys.executable, script]


def timed(argv: list[str], clock: str = "wall") -> float:
    """Seconds the command took: its wall time, or (``clock="cpu"``) the CPU time it used."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, argv)
    return wall if clock == "wall" else usage.ru_utime + usage.ru_stime


def byte_compile() -> None:
    """Compile the package's modules to bytecode (into the __pycache__ folders git ignores)."""
    import tui_backprop

    compileall.compile_dir(Path(tui_backprop.__file__).parent, quiet=1)


def measure(repeats: int, clock: str = "wall") -> dict[str, float]:
    """The median time (ms, by ``clock``) of each command and of ``python -c pass``, runs
    interleaved, the package byte-compiled first."""
    byte_compile()
    base_argv = [sys.executable, "-c", "pass"]
    cmd = command()
    runs = {BASE: base_argv} | {name: cmd + extra for name, extra in COMMANDS.items()}
    for run in runs.values():  # warm the file cache
        timed(run)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(timed(run, clock) * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="what is timed (default: wall)")
    args = p.parse_args(argv)
    medians = measure(args.repeats, args.clock)
    runs = f"{args.repeats} runs each, interleaved, {args.clock} time"
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {runs}")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    base = medians[BASE]
    failed = False
    print(f"{'command':<16} {'median ms':>10} {'ratio':>7}")  # ms of the clock chosen
    for name, median in medians.items():
        ratio = median / base
        verdict = "" if name == BASE else ("PASS" if ratio <= TARGET else "FAIL")
        failed |= verdict == "FAIL"
        print(f"{name:<16} {median:>10.1f} {ratio:>6.2f}x  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
