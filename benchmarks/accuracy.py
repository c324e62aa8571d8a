"""What a classifier's accuracy costs a step: the counting alone, and the fast path with it
against the same Trainer without it.

    python benchmarks/accuracy.py [--scenarios xor,iris,circle,blobs_784] [--steps N] [--rounds R]

For each scenario, in one process:

    without  Trainer.run(record=False) told the run is no classifier (``trainer.classifier =
             None``): the engine before accuracy existed
    with     the Trainer as it is: the training-set accuracy counted from the forward pass it
             makes for train_loss, the test-set accuracy from the test-loss pass
             (engine/accuracy.py), a float appended to each series
    count    the counting alone, timed on its own: the scorers of the training and the test set
             (``Classifier.scorer``) on outputs of their shapes, best of many calls

``with`` and ``without`` take turns of a few steps, R turns each (their order swapped every round),
so that both meet the same load from the other work of a shared machine, and each is scored by
its total time over its total steps; both are checked to end at the same weights first. On a
busy machine that ratio still moves by some 10% from run to run, more than the microseconds it
measures, so the target is on ``count`` against ``without``, which load barely moves: the
counting is at most 10% of a step on xor (whose step is a few tens of microseconds, the counting
a handful of numpy calls on four outputs) and 5% on the others. The exit code is 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit

import numpy as np

from tui_backprop import Trainer, load_scenario

TARGETS = {"xor": 0.10}  # count / without at most; every other scenario: DEFAULT_TARGET
DEFAULT_TARGET = 0.05
STEPS = {"blobs_784": 1}  # steps a turn; DEFAULT_STEPS for the others
DEFAULT_STEPS = 20
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


def in_turns(scenario, steps: int, rounds: int) -> tuple[float, float]:
    """Seconds a step (with, without), the two trainers taking turns of ``steps`` steps."""
    trainers = {True: trainer(scenario, True), False: trainer(scenario, False)}
    seconds = {True: 0.0, False: 0.0}
    taken = {True: 0, False: 0}
    for r in range(rounds):
        for accuracy in (False, True) if r % 2 else (True, False):
            elapsed, n = chunk_seconds(trainers[accuracy], steps)
            seconds[accuracy] += elapsed
            taken[accuracy] += n
    return seconds[True] / taken[True], seconds[False] / taken[False]


def counting_seconds(scenario) -> float:
    """The best time of one step's counting: each set's scorer on outputs of that set's shape."""
    t = trainer(scenario, True)
    assert t.classifier is not None, "not a classifier"
    sets = [t.T, *(() if t.T_test is None else (t.T_test,))]
    rng = np.random.default_rng(0)
    work = [(t.classifier.scorer(T), rng.random(T.shape)) for T in sets]

    def count() -> None:
        for score, y in work:
            score(y)

    number = 2000
    return min(timeit.repeat(count, number=number, repeat=7)) / number


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenarios", default="xor,iris,circle,blobs_784")
    p.add_argument("--steps", type=int, help="steps a turn (default: by scenario)")
    p.add_argument("--rounds", type=int, help="turns of each (default: by scenario)")
    args = p.parse_args(argv)
    missed = 0
    print(
        f"{'scenario':<10} {'without':>12} {'with':>12} {'ratio':>7} {'count':>10} {'share':>7} {'target':>7}"
    )
    for name in args.scenarios.split(","):
        scenario = load_scenario(name)
        if not same_weights(scenario, 50):
            raise SystemExit(f"{name}: with and without accuracy end at different weights")
        steps = args.steps or STEPS.get(name, DEFAULT_STEPS)
        with_, without = in_turns(scenario, steps, args.rounds or ROUNDS.get(name, DEFAULT_ROUNDS))
        count = counting_seconds(scenario)
        share, target = count / without, TARGETS.get(name, DEFAULT_TARGET)
        missed += share > target
        mark = "" if share <= target else "  missed"
        times = f"{without * 1e6:>9.1f} us {with_ * 1e6:>9.1f} us {with_ / without:>6.3f}x"
        print(f"{name:<10} {times} {count * 1e6:>7.2f} us {share:>6.1%} {target:>6.0%}{mark}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
