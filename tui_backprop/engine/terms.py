"""The grammar of engineered features, without their maths: a term read and checked as text.

    terms = parse_terms(["x1", "x2", "x1^2", "x1*x2", "sin(x1)"])   # Terms: 5 terms of 2 raw inputs

A term names raw inputs x1, x2, ... and is one of a small fixed grammar (engine/features.py,
which maps the raw inputs through the terms with numpy). This module imports no numpy, so that
the scenario reader checks [data] features, and whether each feature of a file's numbers is
finite (``value``), before any array exists (``backprop-tui --check``, docs/cli.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

GRAMMAR = (
    "xi, xi^2, xi^3, xi*xj, sin(xi), cos(xi), sin(k*xi) or cos(k*xi), where x1, x2, ... are the raw inputs"
)
MAX_INDEX = 100_000  # the highest raw input a term may name: [network]'s most nodes a layer

KINDS = ("x", "square", "cube", "product", "sin", "cos")

_X = r"x([1-9][0-9]{0,5})"  # x1 .. x999999: the index is checked against MAX_INDEX after
_K = r"(?:([0-9]{1,6}(?:\.[0-9]{1,6})?)\*)?"  # an optional frequency k: 2*, 0.5*
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("x", re.compile(rf"{_X}")),
    ("square", re.compile(rf"{_X}\^2")),
    ("cube", re.compile(rf"{_X}\^3")),
    ("product", re.compile(rf"{_X}\*{_X}")),
    ("sin", re.compile(rf"sin\({_K}{_X}\)")),
    ("cos", re.compile(rf"cos\({_K}{_X}\)")),
)


class FeatureError(ValueError):
    """A term outside the grammar, or a list of terms that cannot be used: ``term`` is the term
    as given (None for the list as a whole), ``why`` what is wrong with it."""

    def __init__(self, term: str | None, why: str) -> None:
        super().__init__(why if term is None else f"{term!r} {why}")
        self.term, self.why = term, why


@dataclass(frozen=True)
class Term:
    """One feature: its kind (a name of KINDS) of the raw columns i and j (0-based; j is i
    but for a product), its frequency k (sin and cos; 1 otherwise), and its text as shown
    (``x1*x2``, ``sin(2*x1)``)."""

    text: str
    kind: str
    i: int
    j: int
    k: float = 1.0

    @property
    def key(self) -> tuple[str, int, int, float]:
        """What the term computes, whatever its spelling: x2*x1 is x1*x2, x1*x1 is x1^2, sin(1*x1)
        is sin(x1)."""
        kind = "square" if self.kind == "product" and self.i == self.j else self.kind
        return (kind, min(self.i, self.j), max(self.i, self.j), self.k)


def parse_term(text: str) -> Term:
    """A term of the grammar; FeatureError, naming the term and the grammar, for anything else."""
    compact = "".join(text.split())
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(compact)
        if m is None:
            continue
        k = 1.0
        if kind in ("sin", "cos"):
            k = 1.0 if m[1] is None else float(m[1])
            if k == 0:
                raise FeatureError(text, "has a frequency of 0: a constant, which the bias already is")
            i = j = int(m[2])
        else:
            i = int(m[1])
            j = int(m[2]) if kind == "product" else i
        if max(i, j) > MAX_INDEX:
            raise FeatureError(text, f"names x{max(i, j)}: the raw inputs go up to x{MAX_INDEX} at most")
        return Term(compact, kind, i - 1, j - 1, k)
    raise FeatureError(text, f"is not a feature; a feature is one of {GRAMMAR}")


@dataclass(frozen=True)
class Terms:
    """The terms of [data] features, one a network input, of the raw inputs x1..xn."""

    terms: tuple[Term, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Each term's text: the names of the network's input nodes."""
        return tuple(t.text for t in self.terms)

    @property
    def n_raw(self) -> int:
        """n, the number of raw inputs: the highest index a term names."""
        return 1 + max(max(t.i, t.j) for t in self.terms)

    @property
    def raw_names(self) -> tuple[str, ...]:
        """x1, ..., xn: the raw inputs, as the terms name them."""
        return tuple(f"x{i + 1}" for i in range(self.n_raw))

    def __len__(self) -> int:
        return len(self.terms)

    def __str__(self) -> str:
        return f"features({', '.join(self.names)})"


def parse_terms(texts: Sequence[str]) -> Terms:
    """The Terms of a list of texts; FeatureError for an empty list, a term outside the grammar
    or a term given twice (x1*x2 and x2*x1 are the same feature)."""
    if not texts:
        raise FeatureError(None, "expected at least one feature")
    terms = tuple(parse_term(text) for text in texts)
    seen: dict[tuple[str, int, int, float], str] = {}
    for term in terms:
        if term.key in seen:
            raise FeatureError(term.text, f"is the same feature as {seen[term.key]!r}: give each once")
        seen[term.key] = term.text
    return Terms(terms)


def value(term: Term, row: Sequence[float]) -> float:
    """The term of one raw row, in Python floats: the same IEEE operations as engine/features.py
    does on a column ((u * u) * u for a cube, k * u before a sine), so that it is finite exactly
    when numpy's is; nan where a sine or cosine of an infinite number has no value."""
    u, v = row[term.i], row[term.j]
    if term.kind == "x":
        return u
    if term.kind == "square":
        return u * u
    if term.kind == "cube":
        return u * u * u
    if term.kind == "product":
        return u * v
    angle = u if term.k == 1.0 else term.k * u
    if not math.isfinite(angle):
        return math.nan
    return math.sin(angle) if term.kind == "sin" else math.cos(angle)
