"""A run's edits in a trace: the top-level list "edits", written and read back.

Each edit is an object (docs/traces.md has the table):

    {"step": 5, "what": "weight", "layer": 1, "index": [0, 1], "old": -0.52, "new": 0.5}
    {"step": 5, "what": "bias", "layer": 2, "index": [0], "old": 0.1, "new": -1.0}
    {"step": 5, "what": "input", "index": [3, 0], "old": 1.0, "new": 0.25}
    {"step": 5, "what": "learning_rate", "old": 0.5, "new": 0.25}
    {"step": 5, "what": "add_point", "index": [4], "new": {"inputs": [0.5, 0.5], "targets": [1.0]}}
    {"step": 5, "what": "remove_point", "index": [2], "old": {"inputs": [1.0, 0.0], "targets": [1.0]}}

``step`` is the step after which it applied (0: before the first). A trace of a run without
edits has no "edits" (its bytes are those of a trace written before edits existed). Reading
checks each edit's fields and that its place exists in the run as edited so far (the data's
rows change with points added and removed); whether its ``old`` is the state's is for
trace/verify.py, which recomputes the state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine.batching import BatchSchedule
from ..engine.edits import WHAT, Edit, Era, Point, check_new, current, edited_era

Array = np.ndarray

# the fields each kind has besides step and what
FIELDS: dict[str, tuple[str, ...]] = {
    "weight": ("layer", "index", "old", "new"),
    "bias": ("layer", "index", "old", "new"),
    "input": ("index", "old", "new"),
    "learning_rate": ("old", "new"),
    "add_point": ("index", "new"),
    "remove_point": ("index", "old"),
}


def edit_dict(e: Edit) -> dict[str, Any]:
    """One edit as the trace writes it: only the fields of its kind."""
    d: dict[str, Any] = {"step": e.step, "what": e.what}
    values = {"layer": e.layer, "index": list(e.index), "old": _value(e.old), "new": _value(e.new)}
    d.update((name, values[name]) for name in FIELDS[e.what])
    return d


def _value(v: float | Point | None) -> Any:
    if isinstance(v, Point):
        return {"inputs": list(v.inputs), "targets": list(v.targets)}
    return v


def read_edits(
    items: Sequence[Any],
    last_step: int,
    W0: Sequence[Array],
    b0: Sequence[Array],
    scenario: Any,
) -> tuple[tuple[Edit, ...], list[str]]:
    """The edits of a trace's "edits" (as the JSON Schema allows them), and the problems found,
    each naming its place (``edits[2].index: ...``): a step out of order or after the last
    one (``last_step``), a field its kind does not have or lacks, a layer, index or point the
    run does not have at that step (W0, b0: the initial parameters, for their shapes;
    ``scenario``: its data before any edit, batch, shuffle, seed and learning rate), a value
    that is not finite (or a learning rate <= 0)."""
    edits: list[Edit] = []
    problems: list[str] = []
    s = scenario
    X, T = np.asarray(s.inputs, dtype=float), np.asarray(s.targets, dtype=float)
    era = Era(X, T, BatchSchedule(len(X), s.batch, s.shuffle, s.seed), s.learning_rate)
    before = 0
    for i, item in enumerate(items):
        path = f"edits[{i}]"
        what, step = item["what"], item["step"]
        if what not in WHAT:  # the schema's enum says so too
            problems.append(f"{path}.what: expected one of {', '.join(WHAT)}, got {what!r}")
            break
        wanted = FIELDS[what]
        extra = [k for k in item if k not in ("step", "what", *wanted)]
        missing = [k for k in wanted if k not in item]
        if extra or missing:
            said = f"has {', '.join(extra)}" if extra else f"lacks {', '.join(missing)}"
            problems.append(f"{path}: a {what} edit has {', '.join(wanted)}; this one {said}")
            break
        if not before <= step <= last_step:
            why = f"the edits are in the order made: the one before is after step {before}"
            if step > last_step:
                why = f"the trace ends at step {last_step}"
            problems.append(f"{path}.step: expected {before} to {last_step} ({why}), got {step}")
            break
        try:
            edit = _edit(item, era, W0, b0)
        except ValueError as e:
            problems.append(f"{path}: {e}")
            break
        if what not in ("weight", "bias"):
            era = edited_era(edit, era, scenario.batch, scenario.shuffle, scenario.seed)
        edits.append(edit)
        before = step
    return tuple(edits), problems


def _edit(item: dict[str, Any], era: Era, W0: Sequence[Array], b0: Sequence[Array]) -> Edit:
    """An Edit from its object; ValueError saying what is wrong (its place missing in the run as
    edited so far, a value not finite)."""
    what = item["what"]
    layer = item.get("layer")
    index = tuple(int(k) for k in item.get("index", ()))
    current(what, layer, index, W0, b0, era)  # ValueError when the place does not exist
    old, new = (_read_value(item.get(key)) for key in ("old", "new"))
    for name, value in (("old", old), ("new", new)):
        if name not in FIELDS[what]:
            continue
        try:  # what a new value must be, an old one is too (a removed point: an added one's)
            check_new("add_point" if isinstance(value, Point) else what, value, era)
        except ValueError as e:
            raise ValueError(f"{name}: {str(e).split(': ', 1)[-1]}") from e
    if what in ("add_point", "remove_point") and not isinstance(new if what == "add_point" else old, Point):
        raise ValueError(f"{'new' if what == 'add_point' else 'old'}: expected a point (inputs and targets)")
    if what not in ("add_point", "remove_point") and (isinstance(old, Point) or isinstance(new, Point)):
        raise ValueError(f"a {what} edit's old and new are numbers, not points")
    return Edit(int(item["step"]), what, layer, index, old, new)


def _read_value(v: Any) -> float | Point | None:
    if isinstance(v, dict):
        return Point(tuple(_number(x) for x in v["inputs"]), tuple(_number(x) for x in v["targets"]))
    return None if v is None else _number(v)


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)
