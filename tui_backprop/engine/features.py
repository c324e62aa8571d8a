"""Engineered input features: the network's inputs as fixed functions of the raw inputs.

    features = parse_features(["x1", "x2", "x1^2", "x1*x2", "sin(x1)"])
    A0 = features(X)        # X (N, n_raw) -> the network's inputs a[0], (N, 5)

The raw inputs are named x1, x2, ..., xn (n = the highest index a term names), and each term is
one of a small fixed grammar, read by pattern and never evaluated as code:

    xi          the raw input itself
    xi^2, xi^3  its square, its cube
    xi*xj       the product of two raw inputs (i and j may be equal)
    sin(xi)     its sine (radians), and sin(k*xi) the sine of k times it (k a positive
                decimal number such as 2 or 0.5: a frequency)
    cos(xi)     its cosine, and cos(k*xi)

Spaces inside a term are ignored; a term is shown and traced without them (``x1 * x2`` is
``x1*x2``). The map is not trained: the network learns on a[0] = features(X) as it would on
data with those columns, and the decision boundary over the raw plane maps each point of the
plane through the same function (engine/boundary.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray

GRAMMAR = (
    "xi, xi^2, xi^3, xi*xj, sin(xi), cos(xi), sin(k*xi) or cos(k*xi), where x1, x2, ... are the raw inputs"
)
MAX_INDEX = 100_000  # the highest raw input a term may name: [network]'s most nodes a layer

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
# each kind of term as a function of the raw columns it names, (N,) each, and its frequency k
_FUNCTIONS: dict[str, Callable[[Array, Array, float], Array]] = {
    "x": lambda u, _, k: u,
    "square": lambda u, _, k: u * u,
    "cube": lambda u, _, k: u * u * u,
    "product": lambda u, v, k: u * v,
    "sin": lambda u, _, k: np.sin(u if k == 1.0 else k * u),
    "cos": lambda u, _, k: np.cos(u if k == 1.0 else k * u),
}


class FeatureError(ValueError):
    """A term outside the grammar, or a list of terms that cannot be used: ``term`` is the term
    as given (None for the list as a whole), ``why`` what is wrong with it."""

    def __init__(self, term: str | None, why: str) -> None:
        super().__init__(why if term is None else f"{term!r} {why}")
        self.term, self.why = term, why


@dataclass(frozen=True)
class Term:
    """One feature: its kind (a key of _FUNCTIONS) of the raw columns i and j (0-based; j is i
    but for a product), its frequency k (sin and cos; 1 otherwise), and its text as shown
    (``x1*x2``, ``sin(2*x1)``)."""

    text: str
    kind: str
    i: int
    j: int
    k: float = 1.0

    def __call__(self, X: Array) -> Array:
        """The feature of every row of X (N, n_raw): shape (N,)."""
        return _FUNCTIONS[self.kind](X[:, self.i], X[:, self.j], self.k)

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
class Features:
    """The map from the raw inputs x1..xn to the network's inputs, one term a network input."""

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

    def __call__(self, X: Array) -> Array:
        """a[0] = features(X): X (N, n_raw) -> (N, n_features), a new float array."""
        X = np.asarray(X, dtype=float)
        out = np.empty((X.shape[0], len(self.terms)))
        with np.errstate(over="ignore", invalid="ignore"):  # a cube past 1e308: inf, as computed
            for k, term in enumerate(self.terms):
                out[:, k] = term(X)
        return out

    def __str__(self) -> str:
        return f"features({', '.join(self.names)})"


def parse_features(texts: Sequence[str]) -> Features:
    """The Features of a list of terms; FeatureError for an empty list, a term outside the
    grammar or a term given twice (x1*x2 and x2*x1 are the same feature)."""
    if not texts:
        raise FeatureError(None, "expected at least one feature")
    terms = tuple(parse_term(text) for text in texts)
    seen: dict[tuple[str, int, int, float], str] = {}
    for term in terms:
        if term.key in seen:
            raise FeatureError(term.text, f"is the same feature as {seen[term.key]!r}: give each once")
        seen[term.key] = term.text
    return Features(terms)
