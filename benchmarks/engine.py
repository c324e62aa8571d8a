"""Engine speed against a minimal numpy loop: XOR 2-3-1, full batch (DESIGN section 8).

    python benchmarks/engine.py [--steps N] [--repeats R]

Three variants train the bundled xor scenario's network on its data, in one process:

    loop     a hand-written numpy loop doing the same maths: forward (sigmoid), mse loss,
             backward, update, and the training-set loss after the update. Like the engine on
             a full batch in file order, it reuses that forward pass for the next step.
    fast     Trainer.run(N, record=False)
    records  Trainer.run(N, record=True): a full StepRecord every step

The variants run interleaved, R times each, and each is scored by its median time per step.
Before timing, the loop and the engine are checked to end at the same weights, so the loop
does the same work. Targets: fast <= 1.3 x loop, records <= 2.5 x loop.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time

import numpy as np

from tui_backprop import Trainer, load_scenario

TARGETS = {"fast": 1.3, "records": 2.5}


def sigmoid(z):
    e = np.exp(-np.abs(z))  # the engine's form of 1 / (1 + e^-z), exact in both tails
    r = 1.0 / (1.0 + e)
    return np.where(z < 0.0, e * r, r)


def minimal_loop(W1, b1, W2, b2, X, T, lr, steps):
    """Full-batch gradient descent on a 2-layer sigmoid network with the mse loss."""
    B, n_out = T.shape
    losses, train_losses = [], []
    a1 = sigmoid(X @ W1.T + b1)
    a2 = sigmoid(a1 @ W2.T + b2)
    loss = float(((a2 - T) ** 2).mean())
    for _ in range(steps):
        d2 = (2.0 / n_out) * (a2 - T) * (a2 * (1.0 - a2))
        d1 = (d2 @ W2) * (a1 * (1.0 - a1))
        W2, b2 = W2 - lr * (d2.T @ a1 / B), b2 - lr * d2.mean(axis=0)
        W1, b1 = W1 - lr * (d1.T @ X / B), b1 - lr * d1.mean(axis=0)
        a1 = sigmoid(X @ W1.T + b1)
        a2 = sigmoid(a1 @ W2.T + b2)
        losses.append(loss)
        loss = float(((a2 - T) ** 2).mean())
        train_losses.append(loss)
    return (W1, b1, W2, b2), train_losses


def xor_scenario():
    """The bundled xor scenario, made to run any number of steps without stopping."""
    s = load_scenario("xor")
    assert s.layers == (2, 3, 1) and s.batch == "full" and s.loss == "mse" and not s.shuffle
    assert set(s.activations) == {"sigmoid"} and s.bias and s.update_biases
    return dataclasses.replace(s, target_loss=None, max_steps=10**9)


def run_loop(s, steps):
    t = Trainer(s, history=1)  # only for its initial weights and data, built outside the timing
    (W1, W2), (b1, b2) = t.initial_W, t.initial_b
    start = time.perf_counter()
    result = minimal_loop(W1, b1, W2, b2, t.X, t.T, s.learning_rate, steps)
    return time.perf_counter() - start, result


def run_engine(s, steps, record):
    t = Trainer(s)
    start = time.perf_counter()
    t.run(steps, record=record)
    return time.perf_counter() - start, t


def check_same_weights(s, steps):
    _, ((W1, b1, W2, b2), train_losses) = run_loop(s, steps)
    for record in (False, True):
        _, t = run_engine(s, steps, record)
        for mine, theirs in zip((W1, b1, W2, b2), (t.W[0], t.b[0], t.W[1], t.b[1]), strict=True):
            if not np.allclose(mine, theirs, rtol=1e-12, atol=1e-14):
                sys.exit(f"the loop and the engine disagree after {steps} steps: not a fair comparison")
        if not np.allclose(train_losses, t.train_losses, rtol=1e-12, atol=1e-14):
            sys.exit("the loop and the engine disagree on the training-set loss")
    bitwise = all(np.array_equal(m, e) for m, e in zip((W1, W2), t.W, strict=True))
    return bitwise


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000, help="steps per timed run (default 2000)")
    p.add_argument("--repeats", type=int, default=15, help="timed runs of each variant (default 15)")
    args = p.parse_args(argv)
    s = xor_scenario()

    bitwise = check_same_weights(s, args.steps)
    variants = {
        "loop": lambda: run_loop(s, args.steps)[0],
        "fast": lambda: run_engine(s, args.steps, record=False)[0],
        "records": lambda: run_engine(s, args.steps, record=True)[0],
    }
    for run in variants.values():  # warm up
        run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, run in variants.items():
            times[name].append(run() / args.steps * 1e6)

    print(f"XOR 2-3-1, full batch of 4, {args.steps} steps x {args.repeats} runs, interleaved")
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(f"the loop and the engine end at the same weights ({'bitwise' if bitwise else 'allclose'})")
    print(f"{'variant':<9} {'median':>10} {'min':>10}   (microseconds per step)")
    for name, ts in times.items():
        print(f"{name:<9} {statistics.median(ts):>10.2f} {min(ts):>10.2f}")
    loop = statistics.median(times["loop"])
    failed = False
    for name, target in TARGETS.items():
        ratio = statistics.median(times[name]) / loop
        verdict = "PASS" if ratio <= target else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{name} / loop = {ratio:.2f}x  (target <= {target}x)  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
