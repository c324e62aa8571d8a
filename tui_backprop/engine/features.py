"""Engineered input features: the network's inputs as fixed functions of the raw inputs.

    features = parse_features(["x1", "x2", "x1^2", "x1*x2", "sin(x1)"])
    A0 = features(X)        # X (N, n_raw) -> the network's inputs a[0], (N, 5)

The raw inputs are named x1, x2, ..., xn (n = the highest index a term names), and each term is
one of a small fixed grammar (engine/terms.py), read by pattern and never evaluated as code:

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .terms import GRAMMAR as GRAMMAR  # the grammar and its parser, for the readers of features
from .terms import MAX_INDEX as MAX_INDEX
from .terms import FeatureError as FeatureError
from .terms import Term as Term
from .terms import Terms, parse_terms
from .terms import parse_term as parse_term

Array = np.ndarray

# each kind of term as a function of the raw columns it names, (N,) each, and its frequency k
_FUNCTIONS: dict[str, Callable[[Array, Array, float], Array]] = {
    "x": lambda u, _, k: u,
    "square": lambda u, _, k: u * u,
    "cube": lambda u, _, k: u * u * u,
    "product": lambda u, v, k: u * v,
    "sin": lambda u, _, k: np.sin(u if k == 1.0 else k * u),
    "cos": lambda u, _, k: np.cos(u if k == 1.0 else k * u),
}


@dataclass(frozen=True)
class Features(Terms):
    """The map from the raw inputs x1..xn to the network's inputs, one term a network input."""

    def __call__(self, X: Array) -> Array:
        """a[0] = features(X): X (N, n_raw) -> (N, n_features), a new float array."""
        X = np.asarray(X, dtype=float)
        out = np.empty((X.shape[0], len(self.terms)))
        with np.errstate(over="ignore", invalid="ignore"):  # a cube past 1e308: inf, as computed
            for k, term in enumerate(self.terms):
                out[:, k] = _FUNCTIONS[term.kind](X[:, term.i], X[:, term.j], term.k)
        return out


def parse_features(texts: Sequence[str]) -> Features:
    """The Features of a list of terms (engine/terms.py: parse_terms, and its FeatureError)."""
    return Features(parse_terms(texts).terms)
