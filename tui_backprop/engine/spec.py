"""What the engine reads of a run: the Protocols a scenario meets (scenario/reader.py's Scenario).

The engine never imports the scenario format: a Trainer takes any object with these fields, so
that the maths stays numpy only and a test can hand it a plain namespace. Shapes follow the
engine's conventions (samples are rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class InitLike(Protocol):
    """How the initial weights are drawn ([init]: network.initial_parameters)."""

    @property
    def method(self) -> str: ...  # uniform, normal, xavier, he, constant, zero, explicit
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def mean(self) -> float: ...
    @property
    def std(self) -> float: ...
    @property
    def value(self) -> float | None: ...
    @property
    def bias_value(self) -> float: ...
    @property
    def seed(self) -> int: ...
    @property
    def weights(self) -> tuple | None: ...  # explicit: one (n_l, n_{l-1}) nested tuple per layer
    @property
    def biases(self) -> tuple | None: ...  # explicit: one (n_l,) tuple per layer
    @property
    def decimals(self) -> int | None: ...  # the drawn weights and biases rounded to this many decimals


class RunSpec(Protocol):
    """A network, its data and how it trains: everything a Trainer needs."""

    @property
    def layers(self) -> Sequence[int]: ...  # n_0, n_1, ..., n_L
    @property
    def activations(self) -> Sequence[str]: ...  # one per layer after the input
    @property
    def loss(self) -> str: ...
    @property
    def bias(self) -> bool: ...
    @property
    def init(self) -> InitLike: ...
    @property
    def inputs(self) -> Any: ...  # (N, n_0)
    @property
    def targets(self) -> Any: ...  # (N, n_L)
    @property
    def test_inputs(self) -> Any: ...  # (N_test, n_0) or None
    @property
    def test_targets(self) -> Any: ...  # (N_test, n_L) or None
    @property
    def batch(self) -> Any: ...  # "full", "sample" or a batch size
    @property
    def shuffle(self) -> bool: ...
    @property
    def seed(self) -> int: ...
    @property
    def error_split(self) -> str: ...  # "gradient" or "proportional"
    @property
    def l1(self) -> float: ...
    @property
    def l2(self) -> float: ...
    @property
    def optimizer(
        self,
    ) -> str: ...  # gd, momentum, adam; its parameters by name (optimizers.OPTIMIZER_PARAMS)
    @property
    def learning_rate(self) -> float: ...
    @property
    def update_biases(self) -> bool: ...
    @property
    def target_loss(self) -> float | None: ...
    @property
    def max_steps(self) -> int: ...
    @property
    def evaluate_every(self) -> int: ...  # the training- and test-set losses every K steps

    # read with getattr, so that a plain namespace without them is a constant-rate run on its own
    # inputs: schedule ("constant", "step", ...) with its keys (schedule.SCHEDULE_PARAMS), and
    # features (a features.Features, or None) with raw_inputs, the rows that inputs are features of
