"""Scenario files (TOML, format 1) -> a frozen, validated Scenario.

Reading is two steps. scenario/check.py reads and checks the whole file, every key and every
number, without numpy (``check_scenario``, which is ``backprop-tui --check``), and gives a Checked:
every field but the arrays, and a DataPlan of how to make them. ``load_scenario`` is that check,
then the arrays (scenario/arrays.py), which cannot fail: --check says ok exactly when loading
would succeed, with the same messages, because both are the one check. Every problem in a file is
collected before anything is raised; each names the file, the table and the key, what was
expected and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.names import OPTIMIZER_PARAMS
from ..engine.schedule import SCHEDULE_PARAMS
from .check import Checked, check_document, check_scenario, checks_scenario, summary, titled
from .check import ScenarioError as ScenarioError  # the readers of scenarios catch it from here
from .format_v1 import DATA, DISPLAY, INIT, NETWORK, SCENARIO, TRAINING
from .format_v1 import KEYS as KEYS
from .listing import bundled_names as bundled_names
from .notation import DEFAULT as DEFAULT_NOTATION
from .problems import shown as shown  # a name of a file's key as messages show it (serve/command.py)

if TYPE_CHECKING:
    import numpy as np

    from ..engine.features import Features
    from .overrides import Override


@dataclass(frozen=True)
class InitSpec:
    """[init] as read: the method and its parameters (defaults from scenario/format_v1.py)."""

    method: str = INIT.default("method")
    low: float = INIT.default("low")
    high: float = INIT.default("high")
    mean: float = INIT.default("mean")
    std: float = INIT.default("std")
    value: float | None = INIT.default("value")
    bias_value: float = INIT.default("bias_value")
    seed: int = INIT.default("seed")
    weights: tuple | None = None  # explicit: one (n_l, n_{l-1}) nested tuple per layer
    biases: tuple | None = None  # explicit: one (n_l,) tuple per layer
    decimals: int | None = INIT.default("decimals")  # drawn weights rounded (hand arithmetic)


@dataclass(frozen=True)
class Scenario:
    """A scenario file read and checked: the network, its data, its training and its display.

    Made by ``load_scenario`` (a path or a bundled name) or ``loads_scenario`` (TOML text);
    frozen, with read-only arrays. Every field has been validated: a Trainer (engine/spec.py)
    and the app take it as it is. ``to_dict`` gives it back as the trace's header writes it.
    """

    name: str
    layers: tuple[int, ...]
    activations: tuple[str, ...]  # one per non-input layer
    inputs: np.ndarray = field(repr=False)  # (N, n_0), read-only: the training set
    targets: np.ndarray = field(repr=False)  # (N, n_L), read-only
    loss: str
    learning_rate: float
    description: str = SCENARIO.default("description")
    bias: bool = NETWORK.default("bias")
    init: InitSpec = InitSpec()
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    batch: str | int = TRAINING.default("batch")
    shuffle: bool = TRAINING.default("shuffle")
    seed: int = TRAINING.default("seed")
    update_biases: bool = TRAINING.default("update_biases")
    max_steps: int = TRAINING.default("max_steps")
    target_loss: float | None = TRAINING.default("target_loss")
    # a classifier's (engine/accuracy.py) training-set accuracy that stops the run
    target_accuracy: float | None = TRAINING.default("target_accuracy")
    evaluate_every: int = TRAINING.default("evaluate_every")  # the losses every K steps (issue 15)
    error_split: str = TRAINING.default("error_split")  # proportional: hidden layers learn by engine/split.py
    notation: str = DISPLAY.default("notation")  # the app's vocabulary (scenario/notation.py)
    digits: int | None = DISPLAY.default("digits")  # hand precision beside the step (tutor/rounding.py)
    palette: str = DISPLAY.default("palette")  # the app's colours (tui/widgets/palette.py)
    l1: float = TRAINING.default("l1")  # penalty l1 * sum |w| on every weight (not the biases)
    l2: float = TRAINING.default("l2")  # penalty (l2 / 2) * sum w^2 on every weight (not the biases)
    optimizer: str = TRAINING.default("optimizer")  # "gd", "momentum" or "adam" (engine/optimizers.py)
    momentum: float = TRAINING.default("momentum")  # momentum only: v <- momentum v + g
    beta1: float = TRAINING.default("beta1")  # adam only: decay of the running mean of g
    beta2: float = TRAINING.default("beta2")  # adam only: decay of the running mean of g^2
    epsilon: float = TRAINING.default("epsilon")  # adam only: added to sqrt(v^)
    # the learning rate of each step (engine/schedule.py) and each schedule's own parameters
    schedule: str = TRAINING.default("schedule")
    step_factor: float = TRAINING.default("step_factor")  # step only: the rate x this ...
    step_every: int = TRAINING.default("step_every")  # ... every this many steps
    gamma: float = TRAINING.default("gamma")  # exponential only: the rate x gamma every step
    cosine_period: int | None = TRAINING.default("cosine_period")  # cosine only (read: max_steps if unset)
    min_learning_rate: float = TRAINING.default("min_learning_rate")  # cosine only: the lowest rate
    source: str | None = None  # the file it came from
    # where generated data came from ([data] generator, samples, ...), as (key, value) pairs
    # in the order the trace writes them; () for inline data
    data_source: tuple[tuple[str, Any], ...] = ()
    # the held-out test set ([data] test_fraction > 0), (N_test, n_0) and (N_test, n_L), read-only
    test_inputs: np.ndarray | None = field(default=None, repr=False)
    test_targets: np.ndarray | None = field(default=None, repr=False)
    test_fraction: float = DATA.default("test_fraction")
    # [data] features: inputs and test_inputs are then the features (the network's inputs a[0])
    # of raw_inputs (N, n_raw) and raw_test_inputs, the data as the file gives it (read-only)
    features: Features | None = None
    raw_inputs: np.ndarray | None = field(default=None, repr=False)
    raw_test_inputs: np.ndarray | None = field(default=None, repr=False)
    # the --set and --vary flags that changed the file's keys for this run, as typed
    # ("--set network.layers=[2,5,1]"); those of [scenario] itself are left out
    overrides: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The name as shown and traced: the file's, with the flags that changed the run after it
        (``XOR, 2-3-1 sigmoid (--set network.layers=[2,5,1])``), so that it never names a
        network the run is not."""
        return titled(self.name, self.overrides)

    def __str__(self) -> str:
        return summary(self.title, self.layers, self.loss, self.learning_rate, self.batch)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as loaded, every default filled in (the trace's "scenario" object)."""
        init: dict[str, Any] = {"method": self.init.method, "seed": self.init.seed}
        if self.init.method == "explicit":
            init["weights"] = [[list(map(float, row)) for row in w] for w in self.init.weights or ()]
            init["biases"] = [list(map(float, b)) for b in self.init.biases or ()]
        else:
            params: dict[str, dict[str, Any]] = {
                "uniform": {"low": self.init.low, "high": self.init.high},
                "normal": {"mean": self.init.mean, "std": self.init.std},
                "constant": {"value": self.init.value},
            }
            init.update(params.get(self.init.method, {}))
            init["bias_value"] = self.init.bias_value
            if self.init.decimals is not None:  # only when set: format-1 traces keep their bytes
                init["decimals"] = self.init.decimals
        training: dict[str, Any] = {
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "batch": self.batch,
            "shuffle": self.shuffle,
            "seed": self.seed,
            "update_biases": self.update_biases,
            "max_steps": self.max_steps,
        }
        if self.target_loss is not None:
            training["target_loss"] = self.target_loss
        if self.target_accuracy is not None:
            training["target_accuracy"] = self.target_accuracy
        if self.evaluate_every != 1:  # only when set, so that format-1 traces keep their bytes
            training["evaluate_every"] = self.evaluate_every
        if self.error_split != "gradient":  # only when in use: format-1 traces keep their bytes
            training["error_split"] = self.error_split
        for key in ("l1", "l2"):  # written only when set, so that format-1 traces keep their bytes
            if getattr(self, key):
                training[key] = getattr(self, key)
        if self.optimizer != "gd":  # likewise; then with each of its parameters
            training["optimizer"] = self.optimizer
            for key in OPTIMIZER_PARAMS[self.optimizer]:
                training[key] = getattr(self, key)
        if self.schedule != "constant":  # likewise: a constant rate keeps a trace's bytes
            training["schedule"] = self.schedule
            for key in SCHEDULE_PARAMS[self.schedule]:
                training[key] = getattr(self, key)
        out: dict[str, Any] = {
            "scenario": {"name": self.title, "description": self.description},
            "network": {
                "layers": list(self.layers),
                "activations": list(self.activations),
                "bias": self.bias,
            },
            "init": init,
            "data": {
                "input_names": list(self.input_names),
                "output_names": list(self.output_names),
                **{k: list(v) if isinstance(v, tuple) else v for k, v in self.data_source},
                **({"features": list(self.features.names)} if self.features else {}),
            },
            "training": training,
        }
        if self.notation != DEFAULT_NOTATION:  # format-1 traces keep their bytes
            out["display"] = {"notation": self.notation}
        if self.digits is not None:  # likewise
            out.setdefault("display", {})["digits"] = self.digits
        if self.palette != DISPLAY.default("palette"):  # likewise
            out.setdefault("display", {})["palette"] = self.palette
        return out


# -- the format ----------------------------------------------------------------------------


def scenario_of(checked: Checked) -> Scenario:
    """The Scenario of a checked file: its arrays made (numpy: scenario/arrays.py), which
    cannot fail."""
    from .arrays import data_arrays

    fields = {**checked.fields, "init": InitSpec(**checked.fields["init"])}
    return Scenario(**fields, **data_arrays(checked.plan))


def parse_scenario(doc: dict[str, Any], source: str | None = None, base: Any = None) -> Scenario:
    """A validated Scenario from a parsed TOML document; ScenarioError lists every problem.

    ``base``: the folder that a [data] csv path is relative to (None: the current directory).
    """
    return scenario_of(check_document(doc, source, base))


def loads_scenario(
    data: bytes | str, source: str = "<scenario>", overrides: Sequence[Override] = (), base: Any = None
) -> Scenario:
    """Parse scenario text; errors are titled with ``source``. ``overrides`` (``--set``)
    change keys of the parsed document before it is validated (see scenario/overrides.py); a [data]
    csv path is relative to ``base`` (None: the current directory)."""
    return scenario_of(checks_scenario(data, source, overrides, base))


def load_scenario(path_or_name: str | Path, overrides: Sequence[Override] = ()) -> Scenario:
    """A scenario from a file path, or from the name of a bundled scenario (``"xor"``),
    with ``overrides`` (``--set``) applied before validation."""
    return scenario_of(check_scenario(path_or_name, overrides))
