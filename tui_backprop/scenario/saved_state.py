"""A run's state saved as a new scenario that starts where the run is (the app's W), and its
training data as a CSV table (the app's D).

    state = RunState(step, W, b, learning_rate, X, T, X_test, T_test, offset)
    text = scenario_text(scenario, state)              # the data inline
    text = scenario_text(scenario, state, "data.csv")  # the data in data.csv beside it
    table = data_csv(scenario, state.X, state.T)       # what csv = "data.csv" reads back

The saved scenario is the scenario as loaded (``Scenario.to_dict``: every default filled in,
``--set`` flags applied) with three things changed:

    [init]      method = "explicit", the weights W and biases b of the state, every float
                written by repr, so that it reads back to the same bits
    [data]      the training set the run trains on (edits, standardization and the split
                applied), inline or in a CSV file; with a test set, the rows are laid out so
                that ``test_fraction`` and ``seed`` draw exactly the same test rows again
    [training]  learning_rate: the rate of the state (changed by < and > in the app)

Without shuffling, the training rows are rotated so that the next batch of the run comes first.
With gd and no shuffling the saved run's first step is then the live run's next step, bit for
bit (its training-set loss, a mean over rows rotated, may differ in the last bit). What a
scenario file cannot hold is said by ``caveats``: the optimiser's state (momentum's velocity,
adam's moments) starts afresh, and a shuffled order is drawn anew from epoch 1.
"""

from __future__ import annotations

import csv
import io
from typing import Any, NamedTuple

import numpy as np

from .names import node_names
from .reader import Scenario
from .toml_text import toml_text

Array = np.ndarray

# [data] keys of a data source, replaced by the saved rows (the other keys are kept)
SOURCE_KEYS = frozenset(
    {"generator", "samples", "noise", "seed", "spread", "centers", "csv", "target_columns",
     "input_columns", "one_hot", "standardize", "test_fraction", "inputs", "targets"}
)  # fmt: skip


class RunState(NamedTuple):
    """What a saved scenario starts from: a run at step ``step``."""

    step: int
    W: tuple[Array, ...]  # W[l] (n_l, n_{l-1})
    b: tuple[Array, ...]  # b[l] (n_l,)
    learning_rate: float  # the rate of the next step
    X: Array  # (N, n_0) the training set as the run trains on it
    T: Array  # (N, n_L)
    X_test: Array | None  # (N_test, n_0) or None
    T_test: Array | None
    offset: int = 0  # where in the epoch's order the next batch begins (Position.offset)


def columns(scenario: Scenario) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The input and output column names of the data table: the nodes' names."""
    names = node_names(scenario.layers, scenario.input_names, scenario.output_names)
    return names[0], names[-1]


def data_csv(scenario: Scenario, X: Array, T: Array) -> str:
    """The rows X (N, n_0) and T (N, n_L) as a CSV table: a header of the input then the output
    nodes' names, one row a sample, each number by repr (it reads back to the same float)."""
    inputs, outputs = columns(scenario)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*inputs, *outputs])
    for x, t in zip(X.tolist(), T.tolist(), strict=True):
        writer.writerow([repr(v) for v in x] + [repr(v) for v in t])
    return out.getvalue()


def rows(scenario: Scenario, state: RunState) -> tuple[Array, Array, float, int]:
    """X, T, test_fraction and seed of the saved [data]: the training rows rotated so that the
    next batch comes first (without shuffling), and the test rows, if any, placed where the
    reader's split (arrays.split) draws them from."""
    X, T = state.X, state.T
    if not scenario.shuffle and 0 < state.offset < len(X):
        X = np.concatenate([X[state.offset :], X[: state.offset]])
        T = np.concatenate([T[state.offset :], T[: state.offset]])
    if state.X_test is None or state.T_test is None or not len(state.X_test):
        return X, T, 0.0, 0
    n_test, n = len(state.X_test), len(X) + len(state.X_test)
    seed = 0
    order = np.random.default_rng(seed).permutation(n)  # as arrays.split draws it
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    all_X = np.empty((n, X.shape[1]))
    all_T = np.empty((n, T.shape[1]))
    all_X[train], all_T[train] = X, T
    all_X[test], all_T[test] = state.X_test, state.T_test
    return all_X, all_T, n_test / n, seed


def scenario_document(scenario: Scenario, state: RunState, csv_name: str | None = None) -> dict[str, Any]:
    """The saved scenario as tables of keys (see the module docstring); ``csv_name``: the data
    is in that CSV file (``data_csv`` of ``rows``), else inline."""
    doc = scenario.to_dict()
    doc["scenario"] = {
        "name": f"{scenario.title}, from step {state.step}",
        "description": scenario.description,
    }
    init: dict[str, Any] = {"method": "explicit", "weights": [w.tolist() for w in state.W]}
    if scenario.bias:
        init["biases"] = [b.tolist() for b in state.b]
    doc["init"] = init
    X, T, fraction, seed = rows(scenario, state)
    data = {k: v for k, v in doc["data"].items() if k not in SOURCE_KEYS and v != []}
    if csv_name is None:
        targets = T[:, 0].tolist() if T.shape[1] == 1 else T.tolist()
        data = {"inputs": X.tolist(), "targets": targets, **data}
    else:
        inputs, outputs = columns(scenario)
        data = {"csv": csv_name, "input_columns": list(inputs), "target_columns": list(outputs), **data}
    if fraction:
        data.update(test_fraction=fraction, seed=seed)
    doc["data"] = data
    doc["training"] = {**doc["training"], "learning_rate": float(state.learning_rate)}
    return doc


def caveats(scenario: Scenario, state: RunState) -> list[str]:
    """What the saved scenario cannot carry over from the run, in words (none: it goes on
    exactly as the run would)."""
    out = []
    if scenario.optimizer != "gd" and state.step > 0:
        out.append(f"the {scenario.optimizer} optimiser's state is not a scenario key: it starts afresh")
    if scenario.shuffle:
        out.append("the shuffled order of the samples is drawn anew from epoch 1")
    return out


def scenario_text(scenario: Scenario, state: RunState, csv_name: str | None = None) -> str:
    """The saved scenario as TOML, headed by comments that say where it comes from."""
    head = [f"Saved by backprop-tui from {scenario.source or scenario.title} at step {state.step}:"]
    head.append("the weights and biases of that step, its learning rate and its training data.")
    if "standardize" in dict(scenario.data_source):
        head.append("The inputs are written standardized, as the run trains on them.")
    head += [f"Not carried over: {c}." for c in caveats(scenario, state)]
    return toml_text(scenario_document(scenario, state, csv_name), "\n".join(head))
