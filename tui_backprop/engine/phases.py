"""The phases of one step, in the order the maths computes them (DESIGN section 3).

    forward 1 .. forward L    z[l] = a[l-1] @ W[l].T + b[l], a[l] = f(z[l])
    loss                      l_k = loss(y_k, t_k) and their mean
    delta L                   the output delta dl/dy * f'(z[L])
    delta L-1 .. delta 1      each hidden layer's delta (delta[l+1] @ W[l+1]) * f'(z[l])
    gradients                 grad_w[l] = delta[l].T @ a[l-1] / B and grad_b[l], every layer
    update                    W[l] - lr grad_w[l] and b[l] - lr grad_b[l], every layer

A step is computed whole by the Trainer (one StepRecord); the phases say which parts of that
record exist after each phase, so that the app can reveal a record phase by phase. ``Reveal``
is what is visible after a phase; ``FULL`` is the whole step.
"""

from __future__ import annotations

from dataclasses import dataclass

from .record import StepRecord


@dataclass(frozen=True, slots=True)
class Phase:
    kind: str  # "forward", "loss", "delta", "gradients" or "update"
    layer: int | None  # forward and delta: the layer computed (1-based); else None
    name: str  # "forward, layer 1"
    computes: str  # "z[1] and a[1]"


def phases(record_or_layers: StepRecord | int) -> tuple[Phase, ...]:
    """The phases of a step of a network with L layers after the input (or of ``record``)."""
    L = record_or_layers if isinstance(record_or_layers, int) else len(record_or_layers.layers)
    out = [Phase("forward", l, f"forward, layer {l}", f"z[{l}] and a[{l}]") for l in range(1, L + 1)]
    out.append(Phase("loss", None, "loss", "the loss of each sample and the batch loss"))
    out.append(Phase("delta", L, f"output delta, layer {L}", f"delta[{L}]"))
    out += [Phase("delta", l, f"hidden delta, layer {l}", f"delta[{l}]") for l in range(L - 1, 0, -1)]
    out.append(Phase("gradients", None, "gradients", "grad_w and grad_b of every layer"))
    out.append(Phase("update", None, "update", "the new weights and biases of every layer"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Reveal:
    """What of a record is computed after some phase: forward layers 1..forward, the loss,
    deltas of layers >= delta_from, gradients, update; ``fresh`` names the phase just done."""

    forward: int
    loss: bool
    delta_from: int  # the lowest layer whose delta is known (L + 1: none yet)
    gradients: bool
    update: bool
    fresh: Phase | None = None  # the phase that just computed its part (None: the whole step)
    index: int = 0  # 1-based number of that phase
    count: int = 0  # phases in the step

    @property
    def whole(self) -> bool:
        return self.fresh is None

    def has_delta(self, l: int) -> bool:
        return l >= self.delta_from


FULL = Reveal(forward=10**9, loss=True, delta_from=0, gradients=True, update=True)


def reveal(L: int, done: int) -> Reveal:
    """What is known after the first ``done`` phases (1 <= done <= 2L + 3) of a step."""
    steps = phases(L)
    if not 1 <= done <= len(steps):
        layers = f"{L} layer" + ("" if L == 1 else "s")
        raise ValueError(f"a step of {layers} has phases 1..{len(steps)}, got {done}")
    seen = steps[:done]
    deltas = [p.layer for p in seen if p.kind == "delta" and p.layer is not None]
    return Reveal(
        forward=sum(p.kind == "forward" for p in seen),
        loss=any(p.kind == "loss" for p in seen),
        delta_from=min(deltas) if deltas else L + 1,
        gradients=any(p.kind == "gradients" for p in seen),
        update=any(p.kind == "update" for p in seen),
        fresh=seen[-1],
        index=done,
        count=len(steps),
    )
