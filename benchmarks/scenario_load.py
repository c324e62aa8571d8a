"""Loading a scenario: the import of the reader and the load of iris and blobs_784, each as a ratio
against its floor in the same run (a bare interpreter; tomllib parsing the same file).

    python benchmarks/scenario_load.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from tui_backprop.scenario.reader import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def best(f, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def started(code: str) -> float:
    return statistics.median(
        best(lambda: subprocess.run([sys.executable, "-c", code], check=True), 1) for _ in range(7)
    )


def main() -> None:
    bare = started("pass")
    reader = started("import tui_backprop.scenario.reader")
    print(
        f"import tui_backprop.scenario.reader: {reader * 1e3:.0f} ms, bare interpreter {bare * 1e3:.0f} ms, "
        f"ratio {reader / bare:.2f}"
    )
    for name, n in (("iris", 20), ("blobs_784", 5)):
        text = (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8")
        parse = best(lambda text=text: tomllib.loads(text), n)
        load = best(lambda name=name: load_scenario(name), n)
        print(
            f"load {name}: {load * 1e3:.2f} ms, tomllib alone {parse * 1e3:.3f} ms, ratio {load / parse:.1f}"
        )


if __name__ == "__main__":
    main()
