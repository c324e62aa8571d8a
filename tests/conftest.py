"""Shared test helpers: building scenarios, and reference maths written apart from the engine.

``reference`` is the oracle the engine is tested against: a per-sample forward pass and
per-sample losses written from DESIGN section 3, sharing no code with tui_backprop.engine.
"""

from __future__ import annotations

import gc
import os
import sys
import textwrap
from types import SimpleNamespace

# Cache the compiled test modules (pytest's assertion rewriting) and the package in __pycache__
# even where PYTHONDONTWRITEBYTECODE is set, as it is in many container images: without the
# cache every xdist worker parses and rewrites every test module on every run, 7.5 s of CPU a
# worker where 3.2 s is left with it (pytest --collect-only -n 0, twice). .gitignore has them.
sys.dont_write_bytecode = False

# One BLAS thread per test process: pytest-xdist already runs a process per core, and OpenBLAS's
# default of a thread per core makes the processes fight over the cores (a 784-256-10 step was
# 4x slower under load). Set before numpy is imported; subprocesses of the tests inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from tui_backprop.scenario.reader import InitSpec, Scenario, loads_scenario  # noqa: E402
from tui_backprop.tui.widgets import numbers as matrices  # noqa: E402

# The tests allocate as the app does, a great many short-lived objects a frame; Python's cyclic
# garbage collector, at its default threshold of 700 allocations, took a quarter of the CPU of
# ten app sessions of five steps (7.4 s against 9.4 s to 11 s, process time, three runs each).
# The modules loaded so far are never garbage: frozen, they are not traversed again.
gc.freeze()
gc.set_threshold(50_000, 50, 100)


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto`` (pyproject's addopts): three test processes a core, at most 16. Most app
    tests spend their time waiting for the app to settle, not computing: on 2 cores, 4 processes
    ran the suite in 160 s where 2 took 278 s; on a slower day, 6 took 160 s to 196 s (median
    177 s of 7 runs) where 4 took 190 s to 200 s (median 195 s of 6), at the same CPU time."""
    return min(3 * (os.cpu_count() or 1), 16)


# CI draws the same examples every run, so that a submission never fails on a draw that no
# one has seen; a developer's run explores new ones (HYPOTHESIS_PROFILE=ci to reproduce CI)
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
# a long fuzzing run (tests/test_fuzz.py): HYPOTHESIS_PROFILE=fuzz pytest tests/test_fuzz.py
settings.register_profile("fuzz", max_examples=3000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def toml_scenario(text: str):
    """A Scenario from TOML text (dedented), through the real loader."""
    return loads_scenario(textwrap.dedent(text), "<test>")


def make_scenario(
    activations,
    W,
    b=None,
    *,
    inputs,
    targets,
    loss="mse",
    learning_rate=0.1,
    **training,
) -> Scenario:
    """A Scenario with explicit weights, built directly (no TOML round trip).

    W: one (n_l, n_{l-1}) array per layer; b: one (n_l,) array per layer, or None for a
    network without biases. ``training`` holds any other Scenario field (batch, shuffle, ...).
    """
    W = [np.asarray(w, dtype=float) for w in W]
    layers = (W[0].shape[1],) + tuple(w.shape[0] for w in W)
    if isinstance(activations, str):
        activations = (activations,) * len(W)
    assert len(activations) == len(W), "one activation per non-input layer"
    x = np.array(inputs, dtype=float).reshape(-1, layers[0])
    t = np.array(targets, dtype=float).reshape(len(x), layers[-1])
    x.flags.writeable = t.flags.writeable = False
    init = InitSpec(
        method="explicit",
        weights=tuple(tuple(map(tuple, w.tolist())) for w in W),
        biases=None if b is None else tuple(tuple(float(v) for v in np.ravel(bl)) for bl in b),
    )
    return Scenario(
        name="test",
        layers=layers,
        activations=tuple(activations),
        inputs=x,
        targets=t,
        loss=loss,
        learning_rate=float(learning_rate),
        bias=b is not None,
        init=init,
        **training,
    )


# -- reference maths (DESIGN section 3), one sample at a time --------------------------------

REF_ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0.0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0.0, z, 0.01 * z),
    "identity": lambda z: z + 0.0,
    "linear": lambda z: z + 0.0,
    "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
}


def _log_softmax(z):
    m = z.max()
    return z - (m + np.log(np.exp(z - m).sum()))


# per-sample loss from the output y, its pre-activation z and the target t (all shape (n,))
REF_LOSSES = {
    "mse": lambda y, z, t: ((y - t) ** 2).sum() / len(t),
    "sse": lambda y, z, t: ((y - t) ** 2).sum(),
    "half_sse": lambda y, z, t: 0.5 * ((y - t) ** 2).sum(),
    # -[t ln s(z) + (1 - t) ln(1 - s(z))] = softplus(z) - t z, averaged over the n outputs
    "bce": lambda y, z, t: (np.logaddexp(0.0, z) - t * z).sum() / len(t),
    "cross_entropy": lambda y, z, t: -(t * _log_softmax(z)).sum(),
}


def ref_forward_sample(W, b, activations, x, nudge=None):
    """z and a of every layer for one sample x (n_0,); ``nudge=(l, j, h)`` adds h to z[l][j]."""
    zs, acts = [], []
    a = np.asarray(x, dtype=float)
    for l, (Wl, act) in enumerate(zip(W, activations, strict=True)):
        z = np.array([np.dot(row, a) for row in Wl], dtype=float)
        if b is not None and len(b[l]):
            z = z + b[l]
        if nudge is not None and nudge[0] == l:
            z[nudge[1]] += nudge[2]
        a = REF_ACTIVATIONS[act](z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def ref_sample_loss(W, b, activations, loss, x, t, nudge=None) -> float:
    zs, acts = ref_forward_sample(W, b, activations, x, nudge)
    return float(REF_LOSSES[loss](acts[-1], zs[-1], np.asarray(t, dtype=float)))


def ref_batch_loss(W, b, activations, loss, X, T) -> float:
    """Mean over the samples of the per-sample loss."""
    return float(np.mean([ref_sample_loss(W, b, activations, loss, x, t) for x, t in zip(X, T, strict=True)]))


def ref_penalty(W, l1: float, l2: float) -> float:
    """l1 * sum |w| + (l2 / 2) * sum w^2 over every weight of every layer (biases excluded)."""
    return float(sum(l1 * abs(w) + 0.5 * l2 * w * w for Wl in W for w in np.ravel(Wl)))


def ref_total_loss(W, b, activations, loss, X, T, l1: float = 0.0, l2: float = 0.0) -> float:
    """The regularised batch loss: the mean per-sample loss plus the weights' penalty."""
    return ref_batch_loss(W, b, activations, loss, X, T) + ref_penalty(W, l1, l2)


def five_point(f, h: float) -> float:
    """df/dh at 0 by the fourth-order central difference of f(eps)."""
    return (f(-2 * h) - 8 * f(-h) + 8 * f(h) - f(2 * h)) / (12 * h)


reference = SimpleNamespace(
    activations=REF_ACTIVATIONS,
    losses=REF_LOSSES,
    forward_sample=ref_forward_sample,
    sample_loss=ref_sample_loss,
    batch_loss=ref_batch_loss,
    penalty=ref_penalty,
    total_loss=ref_total_loss,
    five_point=five_point,
    make_scenario=make_scenario,
    toml_scenario=toml_scenario,
)


@pytest.fixture(scope="session")
def ref():
    """The reference maths and scenario builders above, for tests that prefer a fixture."""
    return reference


# -- snapshots that hold on any machine ---------------------------------------------------------

SNAPSHOT_EXACT_DIGITS = 10


@pytest.fixture
def snap_compare(snap_compare, monkeypatch):
    """pytest-textual-snapshot's snap_compare, with what a picture may show made stable.

    Colours on (NO_COLOR unset), and the numbers the app shows "exactly" (every digit of a
    float64) drawn to SNAPSHOT_EXACT_DIGITS significant digits: numpy picks its SIMD loops and
    BLAS kernels per processor, so the last bits of a computed number differ between machines,
    and a picture of them would match on one machine only. Everything else on screen is printed
    to 4 significant digits or drawn from them. The real formatting, every digit, is checked
    against the records' own values by test_app_scale.py (the neuron view) and test_explain.py.
    """
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(matrices, "EXACT_DIGITS", SNAPSHOT_EXACT_DIGITS)
    return snap_compare
