"""What a classifier's accuracy costs a step: the fast path with it against the same without it.

    python benchmarks/accuracy.py [--scenarios xor,iris,circle,blobs_784] [--steps N] [--rounds R]

Each scenario trains twice over in one process, taking turns of a few steps, R turns each: ``with`` is the
Trainer as it is (the training-set accuracy from the forward pass it makes for train_loss, the
test-set accuracy from the test-loss pass: engine/accuracy.py), ``without`` the same Trainer told
it is no classifier (``trainer.classifier = None``), which is the engine before accuracy existed.
Each is scored by its total time over its total steps: turns this short (and their order
swapped every round) meet the same load from the other work of a shared machine, where runs
of whole seconds apart differ by more than the few microseconds measured. The ratio
with / without is the cost of accuracy. Both are checked to end at
the same weights first. Target: at most 1.10 on xor, whose step is a few
tens of microseconds (the counting is a handful of numpy calls), and 1.05 on the others.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tui_backprop import Trainer, load_scenario

TARGETS = {"xor": 1.10}  # every other scenario: DEFAULT_TARGET
DEFAULT_TARGET = 1.05
STEPS = {"xor": 20, "iris": 20, "circle": 20, "blobs_784": 1}  # steps a turn
ROUNDS = {"blobs_784": 200}  # turns of each; DEFAULT_ROUNDS for the others
DEFAULT_ROUNDS = 1000


def trainer(scenario, accuracy: bool) -> Trainer:
    t = Trainer(scenario, history=1)
    if not accuracy:
        t.classifier = None  # the engine as it was before accuracy: no counting at all
    return t


def chunk_seconds(t: Trainer, steps: int) -> tuple[float, int]:
    """The time of up to ``steps`` more steps of ``t`` (from the start again when it has
    stopped) and the steps taken."""
    if t.done:
        t.reset()
    before = t.step_count
    start = time.perf_counter()
    t.run(steps, record=False)
    return time.perf_counter() - start, t.step_count - before


def same_weights(scenario, steps: int) -> bool:
    a, b = trainer(scenario, True), trainer(scenario, False)
    a.run(steps, record=False)
    b.run(steps, record=False)
    return all(np.array_equal(x, y) for x, y in zip(a.W + a.b, b.W + b.b, strict=True))


def measure(name: str, steps: int, rounds: int) -> tuple[float, float, float]:
    """(ratio, seconds a step with, without): both trainers take turns, ``steps`` steps a
    turn, for ``rounds`` turns each, so that both meet the same load."""
    scenario = load_scenario(name)
    if not same_weights(scenario, 50):
        raise SystemExit(f"{name}: with and without accuracy end at different weights")
    trainers = {True: trainer(scenario, True), False: trainer(scenario, False)}
    seconds = {True: 0.0, False: 0.0}
    taken = {True: 0, False: 0}
    for r in range(rounds):
        for accuracy in (False, True) if r % 2 else (True, False):
            elapsed, n = chunk_seconds(trainers[accuracy], steps)
            seconds[accuracy] += elapsed
            taken[accuracy] += n
    with_, without = seconds[True] / taken[True], seconds[False] / taken[False]
    return with_ / without, with_, without


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenarios", default="xor,iris,circle,blobs_784")
    p.add_argument("--steps", type=int, help="steps a turn (default: by scenario)")
    p.add_argument("--rounds", type=int, help="turns of each (default: by scenario)")
    args = p.parse_args(argv)
    missed = 0
    print(f"{'scenario':<10} {'without':>12} {'with':>12} {'ratio':>7} {'target':>7}")
    for name in args.scenarios.split(","):
        steps, rounds = args.steps or STEPS.get(name, 20), args.rounds or ROUNDS.get(name, DEFAULT_ROUNDS)
        ratio, with_, without = measure(name, steps, rounds)
        target = TARGETS.get(name, DEFAULT_TARGET)
        missed += ratio > target
        mark = "" if ratio <= target else "  missed"
        times = f"{without * 1e6:>9.1f} us {with_ * 1e6:>9.1f} us"
        print(f"{name:<10} {times} {ratio:>6.3f}x {target:>6.2f}x{mark}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
