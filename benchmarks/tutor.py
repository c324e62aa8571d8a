"""What the tutor's documents cost against the engine's own step, in the same run.

    python benchmarks/tutor.py [--repeats R]

For a few bundled scenarios: the engine's step 1 (a Trainer built and stepped once, as a
worked solution starts: the baseline), the same step by
hand to 3 significant digits (tutor/rounding.hand_step: every product rounded in Python), and
the whole Markdown worked solution of step 1 (tutor/command.document + sheets.markdown).
Each figure is the median of R runs; the ratios are against the engine step. The hand step
is meant for small networks (MAX_PRODUCTS), where it stays within a frame of the app.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from tui_backprop.engine import Trainer
from tui_backprop.scenario.reader import load_scenario
from tui_backprop.tutor.command import document
from tui_backprop.tutor.rounding import hand_step
from tui_backprop.tutor.sheets import markdown

SCENARIOS = ("xor_identity_worked", "mlp_error_signal", "xor", "linear_neuron_minibatch")


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=50)
    repeats = p.parse_args().repeats
    print(f"{'scenario':<26} {'engine step':>12} {'hand step (3 digits)':>22} {'worked solution':>18}")
    for name in SCENARIOS:
        scenario = load_scenario(name)
        record = Trainer(scenario, history=1).step()
        engine = median_seconds(lambda s=scenario: Trainer(s, history=1).step(), repeats)
        hand = median_seconds(lambda s=scenario, r=record: hand_step(r, s.loss, 3, s.update_biases), repeats)
        worked = median_seconds(lambda s=scenario: markdown(document(s, 1)), max(repeats // 5, 3))
        print(
            f"{name:<26} {engine * 1e3:>9.3f} ms {hand * 1e3:>9.3f} ms x{hand / engine:>8.1f}"
            f" {worked * 1e3:>8.2f} ms x{worked / engine:>6.0f}"
        )


if __name__ == "__main__":
    main()
