"""What each activation costs: f and f' against a textbook numpy one-liner, and a 784-256-10 step.

    python benchmarks/activations.py [--repeats R] [--steps N]

Two measures, each a ratio against a baseline timed in the same run, interleaved:

    f + f'   the engine's fn(z) then grad(z, a) on a (64, 256) array (a hidden layer of
             blobs_784 for one mini-batch), against the textbook one-liner of the same maths
             (for gelu 0.5 z (1 + tanh(c (z + k z^3))) and its derivative, for elu exp(z) - 1, ...),
             which is as lean as numpy gets and which overflows or loses precision in the tails
             the engine's forms protect. The one-liners are first checked to agree with the engine
             to 1e-9 on the same array, so both do the same maths.
    step     Trainer.run(N, record=False) on blobs_784 with the hidden layer's activation swapped,
             against the bundled relu: what choosing the activation costs a whole step (forward,
             backward, update and the training-set loss of 1,000 samples).

Each figure is the median over R timed runs. There is no target: the figures say what the
overflow-safe forms cost, and whether an activation makes a step noticeably slower.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time

import numpy as np

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.activations import ACTIVATIONS

C, K = np.sqrt(2.0 / np.pi), 0.044715


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _gelu_slope(z):
    th = np.tanh(C * (z + K * z * z * z))
    return 0.5 * (1.0 + th) + 0.5 * z * (1.0 - th * th) * C * (1.0 + 3.0 * K * z * z)


# the textbook forms: f and f' as most notebooks write them
TEXTBOOK = {
    "sigmoid": (_sig, lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0.0) * 1.0),
    "elu": (lambda z: np.where(z > 0.0, z, np.exp(z) - 1.0), lambda z, a: np.where(z > 0.0, 1.0, a + 1.0)),
    "softplus": (lambda z: np.log1p(np.exp(z)), lambda z, a: _sig(z)),
    "gelu": (lambda z: 0.5 * z * (1.0 + np.tanh(C * (z + K * z * z * z))), lambda z, a: _gelu_slope(z)),
    "swish": (lambda z: z * _sig(z), lambda z, a: a + _sig(z) * (1.0 - a)),
    "sine": (np.sin, lambda z, a: np.cos(z)),
}


def timed(fn, repeats: int) -> float:
    """The median seconds of fn() over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_functions(repeats: int) -> None:
    z = np.random.default_rng(0).normal(0.0, 2.0, (64, 256))
    print(f"\nf + f' on a (64, 256) array, median of {repeats} x 100 calls")
    print(f"{'activation':<11} {'engine':>10} {'textbook':>10} {'ratio':>7}")
    for name, (f, g) in TEXTBOOK.items():
        act = ACTIVATIONS[name]
        a = act.fn(z)
        np.testing.assert_allclose(f(z), a, rtol=1e-9, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(g(z, f(z)), act.grad(z, a), rtol=1e-9, atol=1e-12, err_msg=name)

        def engine(act=act):
            for _ in range(100):
                act.grad(z, act.fn(z))

        def textbook(f=f, g=g):
            for _ in range(100):
                g(z, f(z))

        engine(), textbook()  # warm up
        te, tb = [], []
        for _ in range(repeats):  # interleaved, so that a slow moment of the machine hits both
            te.append(timed(engine, 1))
            tb.append(timed(textbook, 1))
        e, b = statistics.median(te) / 100, statistics.median(tb) / 100
        print(f"{name:<11} {e * 1e6:>8.1f}µs {b * 1e6:>8.1f}µs {e / b:>6.2f}x")


def bench_steps(steps: int, repeats: int) -> None:
    base = load_scenario("blobs_784")
    assert base.layers == (784, 256, 10) and base.activations == ("relu", "softmax")
    names = ["relu", "sigmoid", "tanh", "elu", "softplus", "gelu", "swish", "sine"]
    trainers = {}
    for name in names:
        s = dataclasses.replace(base, activations=(name, "softmax"), target_loss=None, max_steps=10**9)
        trainers[name] = Trainer(s, history=1)
        trainers[name].run(2, record=False)  # warm up
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):  # interleaved
        for name in names:
            times[name].append(timed(lambda name=name: trainers[name].run(steps, record=False), 1) / steps)
    relu = statistics.median(times["relu"])
    print(f"\nblobs_784 (784-256-10, batches of 64), median time a step over {repeats} runs of {steps} steps")
    print(f"{'hidden':<11} {'a step':>10} {'vs relu':>8}")
    for name in names:
        t = statistics.median(times[name])
        print(f"{name:<11} {t * 1e3:>8.2f}ms {t / relu:>7.2f}x")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=9, help="timed runs of each variant (default 9)")
    p.add_argument("--steps", type=int, default=20, help="steps a timed run of blobs_784 (default 20)")
    args = p.parse_args(argv)
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}")
    bench_functions(args.repeats)
    bench_steps(args.steps, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
