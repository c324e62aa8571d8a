"""The rules about a data set's numbers, checked on Rows (scenario/problems.py) without numpy.

    check_targets(r, targets, "bce", None)   # '[data] targets[3][0]: bce needs targets between 0 and 1'
    classes(targets)                          # "one-hot", "0/1" or None: what target_accuracy needs
    first_infinite_feature(terms, inputs)     # (row, feature) of the first one that is not finite

Each is the one statement of its rule: the scenario reader applies it to the numbers of the
file (inline rows, a CSV file) before any array is made, so that ``backprop-tui --check`` and
loading the scenario give the same verdict. The numbers of a generated set are drawn later
(scenario/arrays.py), which applies the same functions to their rows when a rule could fail there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..engine.names import classifier_targets
from ..engine.terms import Terms, value
from .problems import Reader, Rows

# a cross_entropy target row sums to 1 within this
SUM_TOLERANCE = 1e-9


def check_targets(r: Reader, targets: Rows, loss: str | None, row_key: str | None) -> None:
    """Targets that the loss can use; a bad one is targets[i][j] in the file, or data row i + 1 of a
    generated or CSV set (``row_key`` names that source's key)."""
    values, cols = targets.values, targets.cols
    if loss == "bce" and not (min(values) >= 0 and max(values) <= 1):
        at = next(k for k, x in enumerate(values) if not 0 <= x <= 1)
        i, j = divmod(at, cols)
        key, where = (row_key, f" (data row {i + 1})") if row_key else (f"targets[{i}][{j}]", "")
        r.problem("data", key, f"bce needs targets between 0 and 1, got {values[at]:g}{where}")
    if loss == "cross_entropy" and not _all_distributions(targets):
        bad = next((i for i, row in enumerate(targets.rows()) if not distribution(row)), None)
        if bad is not None:
            key, where = (row_key, f" (data row {bad + 1})") if row_key else (f"targets[{bad}]", "")
            r.problem(
                "data",
                key,
                f"cross_entropy needs each target row to be a probability distribution "
                f"(non-negative, summing to 1), got {row_text(targets.row(bad))}{where}",
            )


def distribution(row: Sequence[float]) -> bool:
    """Whether a target row is a probability distribution: none negative, the sum 1 (to 1e-9;
    math.fsum: the sum correctly rounded, whatever the order)."""
    return min(row) >= 0 and abs(math.fsum(row) - 1) <= SUM_TOLERANCE


def _all_distributions(targets: Rows) -> bool:
    """Whether every row is a distribution, in C loops: the smallest number and the row sums
    farthest below and above 1 (|s - 1| is largest at one of them)."""
    sums = list(map(math.fsum, targets.rows()))
    return min(targets.values) >= 0 and distribution((min(sums),)) and distribution((max(sums),))


def classes(targets: Rows) -> str | None:
    """What classes the targets are: "one-hot" (every row 0 but for a single 1), "0/1" (every
    target 0 or 1, rows of any number of ones), or None. engine/accuracy.py's classifier_of reads
    a run's targets the same way (tests/test_scenario_check.py holds them together)."""
    if not set(targets.values) <= {0.0, 1.0}:
        return None
    one_hot = all(s == 1.0 for s in map(sum, targets.rows()))
    return "one-hot" if one_hot else "0/1"


def row_text(values: Sequence[float], limit: int = 8) -> str:
    """``[0.5, 0.25, ...]``: the first ``limit`` numbers of a row, and how many there are."""
    head = ", ".join(repr(float(x)) for x in values[:limit])
    return f"[{head}]" if len(values) <= limit else f"[{head}, ... ({len(values):,} numbers)]"


def accuracy_refusal_text(out_act: str, loss: str | None) -> str:
    """Why [training] target_accuracy is refused for this output and loss."""
    return (
        f"needs a classifier (a sigmoid output with bce or mse and every target 0 or 1, or "
        f"softmax with cross_entropy and one-hot targets); this is {out_act} with {loss}"
        + _why_not_classes(out_act, loss)
    )


def _why_not_classes(out_act: str, loss: str | None) -> str:
    """The end of target_accuracy's refusal: why the targets spoil a classifier that the output
    and loss would make."""
    if classifier_targets(out_act, loss) is not None:
        return ", but its targets are not classes (0 or 1; one-hot rows)"
    return ""


# inputs of at most this size make every feature finite: a cube of 1e300 at most, a frequency
# (below 1e6) times one of 1e106; standardised inputs too (their mean, squares and sums stay finite)
SAFE_INPUT = 1e100


def largest(rows: Rows) -> float:
    """The largest size of a number of ``rows``."""
    return max(max(rows.values), -min(rows.values))


def first_infinite_feature(terms: Terms, inputs: Rows) -> tuple[int, int] | None:
    """(i, k): the first row i (then feature k) of the raw ``inputs`` whose feature is not finite
    (a cube of a number past 1e102), as engine/features.py would compute it; None when all are."""
    if largest(inputs) <= SAFE_INPUT:
        return None
    for i, row in enumerate(inputs.rows()):
        for k, term in enumerate(terms.terms):
            if not math.isfinite(value(term, row)):
                return i, k
    return None


def infinite_feature_text(terms: Terms, raw: Sequence[float], i: int, k: int, which: str) -> str:
    """The problem of feature k of row i (of the ``which`` set: "" or "test "), raw row ``raw``."""
    return f"{terms.names[k]} of {which}data row {i + 1} is not a finite number (raw row: {row_text(raw)})"
