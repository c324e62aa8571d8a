"""Learning-rate schedules: the rate η_k of each step from a base rate η.

k counts the updates taken before the step (k = step - 1), so that step 1 always uses η:

    constant      η_k = η
    step          η_k = η · factor^⌊k / every⌋                     (multiplied by factor every K steps)
    exponential   η_k = η · γ^k
    cosine        η_k = η_min + (η − η_min) · (1 + cos(π · (k mod T) / T)) / 2    (from η down to
                  η_min over T steps, then again from η: warm restarts)

The base rate η is a parameter of ``rate``, not of the schedule: the Trainer keeps it as one
attribute (``base_learning_rate``) and asks for the rate of each step, so that a change of the
base rate during a run is scaled by the same schedule from the next step on. A schedule is
immutable and holds no state: the rate of step k depends on k alone, so undo, replay and the
verifier recompute it exactly.
"""

from __future__ import annotations

import math
from typing import Any


class Schedule:
    """The constant schedule, and the interface of every other one: ``rate(base, k)``."""

    name = "constant"

    def rate(self, base: float, k: int) -> float:
        """η_k, the rate of the step after k updates (k >= 0), from the base rate η = ``base``."""
        return base

    def formula(self) -> str:
        """η_k as text, in this schedule's own numbers (the explain panel shows it)."""
        return "η_k = η"

    def params(self) -> dict[str, float]:
        return {}

    def __str__(self) -> str:
        inside = ", ".join(f"{k}={v:g}" for k, v in self.params().items())
        return f"{self.name}({inside})" if inside else self.name


class StepDecay(Schedule):
    """η · factor^⌊k / every⌋: the rate multiplied by ``factor`` every ``every`` steps."""

    name = "step"

    def __init__(self, factor: float, every: int) -> None:
        self.factor, self.every = factor, every

    def rate(self, base: float, k: int) -> float:
        return base * _power(self.factor, k // self.every)

    def formula(self) -> str:
        return f"η_k = η · {self.factor:g}^⌊k / {self.every}⌋"

    def params(self) -> dict[str, float]:
        return {"factor": self.factor, "every": self.every}


class Exponential(Schedule):
    """η · γ^k: the rate multiplied by γ every step."""

    name = "exponential"

    def __init__(self, gamma: float) -> None:
        self.gamma = gamma

    def rate(self, base: float, k: int) -> float:
        return base * _power(self.gamma, k)

    def formula(self) -> str:
        return f"η_k = η · {self.gamma:g}^k"

    def params(self) -> dict[str, float]:
        return {"gamma": self.gamma}


class Cosine(Schedule):
    """η_min + (η − η_min)(1 + cos(π (k mod T) / T)) / 2: half a cosine from η down to η_min
    over T = ``period`` steps, then from η again."""

    name = "cosine"

    def __init__(self, period: int, minimum: float) -> None:
        self.period, self.minimum = period, minimum

    def rate(self, base: float, k: int) -> float:
        phase = (k % self.period) / self.period
        return self.minimum + (base - self.minimum) * (1.0 + math.cos(math.pi * phase)) / 2.0

    def formula(self) -> str:
        lo = f"{self.minimum:g}"
        return f"η_k = {lo} + (η − {lo}) · (1 + cos(π · (k mod {self.period}) / {self.period})) / 2"

    def params(self) -> dict[str, float]:
        return {"period": self.period, "minimum": self.minimum}


CONSTANT = Schedule()
SCHEDULES = ("constant", "step", "exponential", "cosine")
# each schedule's own parameters: the [training] keys that only it accepts
SCHEDULE_PARAMS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "step": ("step_factor", "step_every"),
    "exponential": ("gamma",),
    "cosine": ("cosine_period", "min_learning_rate"),
}


def make_schedule(name: str, **params: Any) -> Schedule:
    """The schedule called ``name`` with its [training] keys (SCHEDULE_PARAMS) by name."""
    if name == "step":
        return StepDecay(float(params["step_factor"]), int(params["step_every"]))
    if name == "exponential":
        return Exponential(float(params["gamma"]))
    if name == "cosine":
        return Cosine(int(params["cosine_period"]), float(params["min_learning_rate"]))
    if name == "constant":
        return CONSTANT
    raise ValueError(f"unknown schedule {name!r}; expected one of {', '.join(SCHEDULES)}")


def schedule_for(spec: Any) -> Schedule:
    """The schedule a run asks for ([training] schedule and its keys); constant when it names none."""
    name = getattr(spec, "schedule", "constant")
    return make_schedule(name, **{key: getattr(spec, key) for key in SCHEDULE_PARAMS[name]})


def _power(x: float, n: int) -> float:
    """x^n for n >= 0, inf where it overflows a float (a factor above 1 over many steps)."""
    try:
        return x**n
    except OverflowError:
        return math.inf
