"""The explain panel's hand precision lines: the selected number as the step computed it and as
a hand calculation to K significant digits gives it ([display] digits, --digits), and how far
rounding alone moved it. The tutor computes the hand step (tutor/rounding.py); this only lays
it out, for the selection: a weight (its gradient and its value after the update), a node of
the selected sample (z, a, delta) or a sample (the batch loss)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...engine import StepRecord
from ..control.selection import Selection
from .explain_text import Line


def hand_lines(
    record: StepRecord, sel: Selection, digits: int, hand: Mapping[str, np.ndarray] | str
) -> list[Line]:
    """``hand``: tutor.rounding.hand_values of ``record`` to ``digits``, or why there are none."""
    out: list[Line] = [("", None), (f"by hand, every number rounded to {digits} significant digits", "bold")]
    if isinstance(hand, str):
        out.append((hand, "dim"))
        return out
    k = min(sel.sample, len(record.batch) - 1)
    wanted: list[tuple[str, tuple[int, ...]]] = []
    if sel.mode == "weight":
        bias = sel.i == record.layers[sel.layer - 1].w.shape[1]
        index: tuple[int, ...] = (sel.j,) if bias else (sel.j, sel.i)
        kind = "b" if bias else "w"
        wanted = [(f"grad_{kind}[{sel.layer}]", index), (f"{kind}[{sel.layer}]", index)]
    elif sel.mode == "node" and sel.node_layer > 0:
        wanted = [(f"{q}[{sel.node_layer}]", (k, sel.node)) for q in ("z", "a", "delta")]
    else:
        wanted = [("loss", ())]
    exact_of = _exact(record)
    for name, index in wanted:
        exact = float(exact_of[name][index])
        mine = float(hand[name][index])
        where = f"[{', '.join(map(str, index))}]" if index else ""
        moved = mine - exact
        said = f"{name}{where} = {mine:.{digits}g} by hand, {exact:.10g} exact"
        out.append((f"{said}: rounding moved it by {moved:+.2g}", "marked" if moved else None))
    return out


def _exact(record: StepRecord) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"loss": np.array(record.loss)}
    for l, lr in enumerate(record.layers, start=1):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
            out[f"{name}[{l}]"] = getattr(lr, name)
    return out
