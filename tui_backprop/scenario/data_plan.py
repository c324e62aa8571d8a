"""[data] read and checked, before its arrays: where the numbers come from, what is done to them.

scenario/tables.py makes a DataPlan while it checks the table, without numpy; scenario/arrays.py
makes the Scenario's arrays from it (numpy), and cannot fail: every rule about the numbers was
checked on the file's own numbers (scenario/targets.py), or is deferred to the arrays when only
the drawn numbers can tell (Reader.defer, scenario/problems.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.terms import Terms
from .problems import Rows
from .sources import Drawn


@dataclass(frozen=True, eq=False)  # eq=False: each plan is its own key (scenario/arrays.py's cache)
class DataPlan:
    """The training set's numbers, as the file gives them (``inputs`` and ``targets``: inline rows
    or a CSV file's) or as a generator will draw them (``drawn``); then, in this order, the test
    set held out (``n_test`` rows drawn from ``seed``), the inputs standardised, and the network's
    inputs made from the raw ones by ``terms`` ([data] features)."""

    inputs: Rows | None = None
    targets: Rows | None = None
    drawn: Drawn | None = None
    n_test: int = 0
    seed: int = 0
    standardize: bool = False
    terms: Terms | None = None

    @property
    def samples(self) -> int:
        """N, the samples of both sets."""
        return self.drawn.samples if self.drawn is not None else self.inputs.n if self.inputs else 0
