"""How the panels mark a probe (key P, engine/probe.py): a point the user gave, not a step.

A ProbeRecord reaches the panels as a StepRecord of one sample; these helpers give each panel
the words that say it is a probe, and what a probe without a target lacks.
"""

from __future__ import annotations

import textwrap

import numpy as np
from rich.text import Text

from ...engine import StepRecord
from ...engine.probe import ProbeRecord
from ..widgets.numbers import style

NO_TARGET = "no target: forward only (P with x -> t adds the loss, the deltas and the gradients)"
NOT_A_STEP = "a probe trains nothing and is not recorded; a step key, b, r or escape leaves it"


def probe_of(record: StepRecord | None) -> ProbeRecord | None:
    """``record`` when it is a probe, else None."""
    return record if isinstance(record, ProbeRecord) else None


def sample_name(record: StepRecord, k: int) -> str:
    """Row k of the record as its panels name it: ``#7`` (its index in the data set), or ``probe``."""
    return "probe" if isinstance(record, ProbeRecord) else f"#{record.batch[k]}"


def batch_size(record: StepRecord) -> int:
    """B, the rows of the record (a probe has one and no sample index)."""
    return len(record.x)


def _values(v: np.ndarray, n: int) -> str:
    return ", ".join(f"{float(x):.6g}" for x in v[:n]) + (", …" if len(v) > n else "")


def probe_title(probe: ProbeRecord, width: int = 10**6) -> str:
    """``probe at x = (0.3, -1.2) → t = (1), weights of step 4``, in the longest form that fits."""
    t = probe.target
    options = []
    for n in (8, 4, 2):
        x = f"x = ({_values(probe.point, n)})"
        target = f"t = ({_values(t, n)})" if t is not None else "no target"
        options += [f"probe at {x} → {target}, weights of step {probe.step}", f"probe at {x} → {target}"]
    options.append(f"probe at x = ({_values(probe.point, 1)})")
    return next((s for s in options if len(s) <= width), options[-1])


def probe_banner(probe: ProbeRecord, width: int, what: str = "") -> Text:
    """The lines a panel starts with while a probe is on screen: the probe, and ``what`` (the
    panel's own note) dimmed under it."""
    out = Text(no_wrap=True)
    out.append(probe_title(probe, width), style("selected"))
    if what:
        out.append("\n")
        out.append("\n".join(textwrap.wrap(what, max(width, 20))), style("dim"))
    out.append("\n")
    return out
