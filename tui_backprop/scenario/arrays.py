"""A scenario's arrays, made with numpy from its checked [data] table (scenario/data_plan.py).

    fields = data_arrays(plan)   # inputs, targets, test_inputs, test_targets, raw_inputs, ...

Making them cannot fail: the reader checked every number the file gives before (scenario/targets.py).
The few rules that only drawn or computed numbers can answer (a generated set's targets under a
loss that does not fit it, a regression's targets under target_accuracy, the features of a test
set held out at random or of standardised numbers) are the deferred checks below, which the
reader runs only for the scenarios that need them (scenario/tables.py, docs/cli.md).
"""

from __future__ import annotations

import weakref
from array import array
from typing import Any

import numpy as np

from ..engine.accuracy import classifier_of
from ..engine.datasets import generate
from ..engine.features import Features
from .data_plan import DataPlan
from .problems import Reader, Rows
from .sources import Drawn
from .targets import accuracy_refusal_text, check_targets, infinite_feature_text

_MADE: weakref.WeakKeyDictionary[DataPlan, dict[str, Any]] = weakref.WeakKeyDictionary()


def array_of(rows: Rows) -> np.ndarray:
    """Rows as a (N, cols) float array over the same memory."""
    return np.frombuffer(rows.values, dtype=float).reshape(rows.n, rows.cols)


def drawn(d: Drawn) -> tuple[np.ndarray, np.ndarray]:
    """X (samples, n_in) and T (samples, n_out) of a generator, drawn from its seed."""
    return generate(d.name, d.samples, d.noise, d.seed, d.n_in, d.n_out, d.negative, d.spread, d.centers)


def data_arrays(plan: DataPlan) -> dict[str, Any]:
    """The Scenario's fields of arrays, read-only: the training set (and the test set held out),
    standardised, and made into features, as the plan says; made once a plan."""
    made = _MADE.get(plan)
    if made is None:
        made = _MADE[plan] = _made(plan)
    return made


def _made(plan: DataPlan) -> dict[str, Any]:
    if plan.drawn is not None:
        X, T = drawn(plan.drawn)
    else:
        assert plan.inputs is not None and plan.targets is not None  # a plan holds one source
        X, T = array_of(plan.inputs), array_of(plan.targets)
    X_test = T_test = None
    if plan.n_test:
        X, T, X_test, T_test = split(X, T, plan.n_test, plan.seed)
    if plan.standardize:
        X, X_test = standardized(X, X_test)
    features = raw = raw_test = None
    if plan.terms is not None:  # the network's inputs are the raw ones' features
        features = Features(plan.terms.terms)
        raw, raw_test = X, X_test
        X = features(X)
        X_test = None if X_test is None else features(X_test)
    for arr in (X, T, X_test, T_test, raw, raw_test):
        if arr is not None:
            arr.flags.writeable = False
    return {
        "inputs": X,
        "targets": T,
        "test_inputs": X_test,
        "test_targets": T_test,
        "features": features,
        "raw_inputs": raw,
        "raw_test_inputs": raw_test,
    }


def standardized(X: np.ndarray, X_test: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """X and X_test as (X - mean) / std, the mean and std per column of the training set X (N, n_0);
    a column that is constant in X is only shifted (divided by 1)."""
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    return (X - mean) / scale, None if X_test is None else (X_test - mean) / scale


def split(X: np.ndarray, T: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """Training and test rows: X, T, X_test, T_test, each set in the order of the data.

    The test rows are the first ``n_test`` of ``numpy.random.default_rng(seed).permutation(N)``.
    """
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return X[train], T[train], X[test], T[test]


# -- the deferred checks (Reader.defer): rules that only the arrays answer --------------------


def drawn_targets_problems(r: Reader, d: Drawn, loss: str | None, row_key: str) -> None:
    """check_targets on a generated set's targets, in the order they were drawn."""
    _, T = drawn(d)
    check_targets(r, Rows(_values(T), T.shape[1]), loss, row_key)


def drawn_accuracy_problems(r: Reader, d: Drawn, out_act: str, loss: str | None) -> None:
    """[training] target_accuracy on a generated regression's targets: refused unless they are
    classes after all (engine/accuracy.py's classifier_of)."""
    _, T = drawn(d)
    if loss is None or classifier_of(out_act, loss, T) is None:
        r.problem("training", "target_accuracy", accuracy_refusal_text(out_act, loss))


def feature_problems(r: Reader, plan: DataPlan) -> None:
    """Every feature of the training set, then of the test set, finite: the first that is not
    in each (a cube of a number past 1e102), after the draw of the test set and standardising."""
    made = data_arrays(plan)
    assert plan.terms is not None
    sets = (("", made["inputs"], made["raw_inputs"]), ("test ", made["test_inputs"], made["raw_test_inputs"]))
    for which, A, X in sets:
        if A is not None and not np.isfinite(A).all():
            i, k = np.argwhere(~np.isfinite(A))[0]
            r.problem("data", "features", infinite_feature_text(plan.terms, X[i].tolist(), i, k, which))


def _values(T: np.ndarray) -> array:
    return array("d", np.ascontiguousarray(T, dtype=float).tobytes())
