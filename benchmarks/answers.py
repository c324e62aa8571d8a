"""What grading an answers file and diagnosing its first wrong number cost, against the engine's
own steps.

    python benchmarks/answers.py [--repeats R] [--only xor,blobs_784]

For each scenario, an answers file of step 1 is made from the engine's record: the output delta
of every sample (its sign turned, the slip error-sign, so that the diagnosis runs every slip of
the catalogue), and a few weights after the update. Then, R times each, interleaved in this
process: the baseline, ``Trainer(scenario).step()`` (the least the grader needs: one step with its
record), and ``check_loaded`` (the same step, the grading, and the step again once per slip of
the catalogue in tutor/slips.py's plain numpy). It prints the median of each and their ratio.
For information: no target. A diagnosis computes the step again once per slip (eleven times, in
plain numpy without the engine's record-keeping), so a ratio well under eleven is what the design
costs; far over it would mean overhead in the grading.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tui_backprop.engine import Trainer
from tui_backprop.scenario.reader import load_scenario
from tui_backprop.tutor.answers import loads_answers
from tui_backprop.tutor.check import check_loaded


def answers_text(name: str) -> str:
    rec = Trainer(load_scenario(name)).step()
    delta = -rec.layers[-1].delta
    rows = ", ".join("[" + ", ".join(f"{v:.6e}" for v in row) + "]" for row in delta)
    w = rec.layers[0].w
    out = f'[[answer]]\nstep = 1\nname = "delta[{len(rec.layers)}]"\nvalue = [{rows}]\n'
    for j in range(min(3, w.shape[0])):
        out += f'[[answer]]\nstep = 1\nname = "w[1]"\nindex = [{j}, 0]\nvalue = {w[j, 0]:.6e}\n'
    return out


def timed(f) -> float:
    started = time.perf_counter()
    f()
    return time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--only", default="xor,mlp_error_signal,iris,blobs_784")
    args = p.parse_args()
    print(f"{'scenario':<20} {'step (baseline)':>16} {'grade + diagnose':>17} {'ratio':>7}  diagnosis")
    for name in args.only.split(","):
        scenario = load_scenario(name)
        answers = loads_answers(answers_text(name), "bench.toml")
        base, check = [], []
        result = None
        for _ in range(args.repeats):
            base.append(timed(lambda s=scenario: Trainer(s).step()))
            started = time.perf_counter()
            result = check_loaded(scenario, answers)
            check.append(time.perf_counter() - started)
        assert result is not None and result.diagnosis is not None
        named = ", ".join(s.id for s in result.diagnosis.slips) or "none"
        b, c = statistics.median(base), statistics.median(check)
        print(f"{name:<20} {b * 1e3:>13.2f} ms {c * 1e3:>14.2f} ms {c / b:>7.1f}  {named}")


if __name__ == "__main__":
    main()
