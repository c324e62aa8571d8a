"""Scenario files (TOML, format 1) -> a frozen, validated Scenario.

Every problem in a file is collected before anything is raised, so that one run of
``backprop-tui --check`` lists them all; each names the file, the table and the key,
what was expected and what was found.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..common.errors import BackpropError
from ..common.escape import quoted
from ..common.escape import shown as escaped
from ..common.files import SCENARIO_LIMIT, Unreadable, read_resource, size_text
from ..engine.activations import ACTIVATIONS, ALIASES
from ..engine.losses import LOSSES
from ..engine.optimizers import OPTIMIZER_PARAMS
from .csv_source import read_csv
from .names import name_problems
from .notation import DEFAULT as DEFAULT_NOTATION
from .notation import NOTATIONS
from .problems import (
    MAX_UNKNOWN,
    MISSING,
    Reader,
    described,
    finite_number,
    is_number,
    shown,
)
from .sources import MAX_SAMPLES, generated, source_of, split, standardized

if TYPE_CHECKING:
    from .overrides import Override

# each optimiser's own parameters, their defaults and the ranges they must lie in
OPTIMIZER_KEYS = tuple(key for keys in OPTIMIZER_PARAMS.values() for key in keys)
OPTIMIZER_DEFAULTS = {"momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
INIT_METHODS = ("constant", "uniform", "normal", "xavier", "he", "explicit")
BATCH_WORDS = ("full", "sample")
ERROR_SPLITS = ("gradient", "proportional")  # backpropagated deltas, or the proportional split
MAX_LAYERS = 64  # entries of [network] layers, the input layer included: the depth
MAX_NODES = 100_000  # per layer: far beyond anything worth stepping, short of exhausting memory
MAX_WEIGHTS = 10_000_000  # in all: 80 MB of float64 a copy of W, of which a step makes several
MAX_PASS = 50_000_000  # samples x nodes: the numbers of one forward pass over the training set

# every table and key of format 1; anything else is a typo and is refused
KEYS: dict[str, tuple[str, ...]] = {
    "scenario": ("name", "description"),
    "network": ("layers", "activation", "activations", "bias"),
    "init": ("method", "low", "high", "mean", "std", "value", "bias_value", "seed", "weights", "biases"),
    "data": (
        "inputs",
        "targets",
        "input_names",
        "output_names",
        "generator",
        "samples",
        "noise",
        "seed",
        "spread",
        "centers",
        "csv",
        "target_columns",
        "input_columns",
        "one_hot",
        "standardize",
        "test_fraction",
    ),
    "training": (
        "loss",
        "learning_rate",
        "batch",
        "shuffle",
        "seed",
        "update_biases",
        "max_steps",
        "target_loss",
        "evaluate_every",
        "error_split",
        "l1",
        "l2",
        "optimizer",
        *OPTIMIZER_KEYS,
    ),
    "display": ("notation",),
}


class ScenarioError(BackpropError):
    """A scenario file that cannot be used; ``problems`` holds one line per defect."""


@dataclass(frozen=True)
class InitSpec:
    method: str = "uniform"
    low: float = -1.0
    high: float = 1.0
    mean: float = 0.0
    std: float = 1.0
    value: float | None = None
    bias_value: float = 0.0
    seed: int = 0
    weights: tuple | None = None  # explicit: one (n_l, n_{l-1}) nested tuple per layer
    biases: tuple | None = None  # explicit: one (n_l,) tuple per layer


def titled(name: str, overrides: Sequence[str]) -> str:
    """``name (--set a.b=1 --vary c.d=2)``: a scenario's name with the flags that changed it."""
    return f"{name} ({' '.join(overrides)})" if overrides else name


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
    description: str = ""
    bias: bool = True
    init: InitSpec = InitSpec()
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    batch: str | int = "full"
    shuffle: bool = False
    seed: int = 0
    update_biases: bool = True
    max_steps: int = 1000
    target_loss: float | None = None
    evaluate_every: int = 1  # the training- and test-set losses every K steps only (issue 15)
    error_split: str = "gradient"  # or "proportional": hidden layers learn from engine/split.py
    notation: str = DEFAULT_NOTATION  # [display] notation: the app's vocabulary (scenario/notation.py)
    l1: float = 0.0  # penalty l1 * sum |w| on every weight (not the biases)
    l2: float = 0.0  # penalty (l2 / 2) * sum w^2 on every weight (not the biases)
    optimizer: str = "gd"  # "gd", "momentum" or "adam" (engine/optimizers.py)
    momentum: float = 0.9  # momentum only: v <- momentum v + g
    beta1: float = 0.9  # adam only: decay of the running mean of g
    beta2: float = 0.999  # adam only: decay of the running mean of g^2
    epsilon: float = 1e-8  # adam only: added to sqrt(v^)
    source: str | None = None  # the file it came from
    # where generated data came from ([data] generator, samples, ...), as (key, value) pairs
    # in the order the trace writes them; () for inline data
    data_source: tuple[tuple[str, Any], ...] = ()
    # the held-out test set ([data] test_fraction > 0), (N_test, n_0) and (N_test, n_L), read-only
    test_inputs: np.ndarray | None = field(default=None, repr=False)
    test_targets: np.ndarray | None = field(default=None, repr=False)
    test_fraction: float = 0.0
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
        arch = "-".join(str(n) for n in self.layers)
        return f"{escaped(self.title)} ({arch}, {self.loss}, lr={self.learning_rate:g}, batch={self.batch})"

    def to_dict(self) -> dict[str, Any]:
        """The scenario as loaded, every default filled in (the trace's "scenario" object)."""
        init: dict[str, Any] = {"method": self.init.method, "seed": self.init.seed}
        if self.init.method == "explicit":
            init["weights"] = [np.asarray(w, dtype=float).tolist() for w in self.init.weights or ()]
            init["biases"] = [list(map(float, b)) for b in self.init.biases or ()]
        else:
            params: dict[str, dict[str, Any]] = {
                "uniform": {"low": self.init.low, "high": self.init.high},
                "normal": {"mean": self.init.mean, "std": self.init.std},
                "constant": {"value": self.init.value},
            }
            init.update(params.get(self.init.method, {}))
            init["bias_value"] = self.init.bias_value
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
            },
            "training": training,
        }
        if self.notation != DEFAULT_NOTATION:  # format-1 traces keep their bytes
            out["display"] = {"notation": self.notation}
        return out


# -- the format ----------------------------------------------------------------------------


def parse_scenario(doc: dict[str, Any], source: str | None = None, base: Any = None) -> Scenario:
    """A validated Scenario from a parsed TOML document; ScenarioError lists every problem.

    ``base``: the folder that a [data] csv path is relative to (None: the current directory).
    """
    r = Reader(doc, KEYS)
    unknown = [table for table in doc if table not in KEYS]
    for table in unknown[:MAX_UNKNOWN]:
        hint = difflib.get_close_matches(table, KEYS, n=1)
        also = f" (did you mean [{hint[0]}]?)" if hint else f" (known tables: {', '.join(KEYS)})"
        r.problems.append(f"[{shown(table)}]: unknown table{also}")
    if len(unknown) > MAX_UNKNOWN:
        more = len(unknown) - MAX_UNKNOWN - 1
        r.problems.append(f"[{shown(unknown[MAX_UNKNOWN])}]: unknown table, and {more:,} more after it")

    meta = r.table("scenario", required=True)
    name: str | None = r.get(meta, "scenario", "name", "str") if r.has("scenario") else None
    if name is not None and not name.strip():
        r.problem("scenario", "name", "must not be empty")
    description = r.get(meta, "scenario", "description", "str", "") or ""

    layers, activations, bias = _network(r)
    init = _init(r, layers, bias)
    training = _training(r, activations)
    data = _data(r, layers, activations, training.get("loss"), base)
    inputs = data.get("inputs")
    if layers and inputs is not None and len(inputs) * sum(layers) > MAX_PASS:
        too_many = f"{len(inputs):,} samples x {sum(layers):,} nodes is more than {MAX_PASS:,} numbers"
        r.problems.append(f"[data]: {too_many} in one pass over the training set")
    notation = _display(r)

    if r.problems or name is None:
        raise ScenarioError(source or "<scenario>", r.problems)
    return Scenario(
        name=name,
        description=description,
        layers=layers,
        activations=activations,
        bias=bias,
        init=init,
        source=source,
        **data,
        notation=notation,
        **training,
    )


def _network(r: Reader) -> tuple[tuple[int, ...], tuple[str, ...], bool]:
    t = r.table("network", required=True)
    layers: tuple[int, ...] = ()
    v = t.get("layers", MISSING)
    if v is MISSING:
        if r.has("network"):
            r.problem("network", "layers", "required key is missing")
    elif not isinstance(v, list) or len(v) < 2:
        r.problem("network", "layers", f"expected a list of at least 2 node counts, got {described(v)}")
    elif len(v) > MAX_LAYERS:
        message = f"{len(v):,} layers is more than {MAX_LAYERS}, the most this simulator steps"
        r.problem("network", "layers", message)
    elif not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_NODES for n in v):
        bad = next(
            n for n in v if not (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_NODES)
        )
        r.problem(
            "network",
            "layers",
            f"every node count must be an integer from 1 to {MAX_NODES}, got {described(bad)}",
        )
    else:
        layers = tuple(v)
        weights = sum(m * n for m, n in zip(layers, layers[1:], strict=False))
        if weights > MAX_WEIGHTS:
            message = f"{weights:,} weights is more than {MAX_WEIGHTS:,}, the most this simulator steps"
            r.problem("network", "layers", message)
            layers = ()
    bias = r.get(t, "network", "bias", "bool", True)
    bias = True if bias is None else bias

    n_layers = len(layers) - 1 if layers else None
    activations: tuple[str, ...] = ()
    if "activation" in t and "activations" in t:
        r.problem("network", "activations", "give either activation or activations, not both")
    elif "activation" in t:
        act = r.get(t, "network", "activation", "str")
        if act is not None and _check_activation(r, "activation", act) and n_layers:
            activations = (act,) * n_layers
    elif "activations" in t:
        acts = t["activations"]
        if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
            r.problem("network", "activations", f"expected a list of activation names, got {described(acts)}")
        elif len(acts) >= MAX_LAYERS or (n_layers is not None and len(acts) != n_layers):
            r.problem(
                "network",
                "activations",
                f"expected {n_layers or f'at most {MAX_LAYERS - 1}'} names (one per non-input layer), "
                f"got {len(acts)}",
            )
        elif all([_check_activation(r, f"activations[{i}]", a) for i, a in enumerate(acts)]):
            activations = tuple(acts)
    elif r.has("network"):
        r.problem("network", "activation", "required key is missing (or give activations, one per layer)")
    if activations and "softmax" in activations[:-1]:
        i = activations.index("softmax")
        if "activation" in t:  # name the key the file used
            message = "softmax is for the output layer only; give activations, one per layer"
            r.problem("network", "activation", message)
        else:
            message = f"softmax is for the output layer only, got it on layer {i + 1}"
            r.problem("network", "activations", message)
    return layers, activations, bias


def _unsigned(v: Any) -> Any:
    """-0.0 as 0.0: it passes a check of >= 0, and numpy's random draws refuse a negative scale."""
    return None if v is None else v + 0.0


def _check_activation(r: Reader, key: str, name: str) -> bool:
    known = list(ACTIVATIONS) + list(ALIASES)
    if name in known:
        return True
    hint = difflib.get_close_matches(name, known, n=1)
    also = f" (did you mean {hint[0]!r}?)" if hint else ""
    r.problem("network", key, f"unknown activation {quoted(name)}{also}; expected one of {', '.join(known)}")
    return False


def _init(r: Reader, layers: tuple[int, ...], bias: bool) -> InitSpec:
    t = r.table("init", required=False)
    method = r.get(t, "init", "method", "str", "uniform")
    if method not in INIT_METHODS:
        if method is not None:
            r.problem("init", "method", f"expected one of {', '.join(INIT_METHODS)}, got {quoted(method)}")
        method = "uniform"
    spec = InitSpec(
        method=method,
        low=r.get(t, "init", "low", "number", -1.0),
        high=r.get(t, "init", "high", "number", 1.0),
        mean=r.get(t, "init", "mean", "number", 0.0),
        std=_unsigned(r.get(t, "init", "std", "number", 1.0)),
        value=r.get(t, "init", "value", "number", None),
        bias_value=r.get(t, "init", "bias_value", "number", 0.0),
        seed=r.get(t, "init", "seed", "int", 0),
    )
    if spec.seed is not None and spec.seed < 0:
        r.problem("init", "seed", f"must be >= 0, got {spec.seed}")
    if method == "uniform" and spec.low is not None and spec.high is not None and not spec.low < spec.high:
        r.problem("init", "high", f"must be greater than low ({spec.low:g}), got {spec.high:g}")
    elif method == "uniform" and spec.low is not None and spec.high is not None:
        if not math.isfinite(spec.high - spec.low):  # numpy cannot draw from a wider range
            r.problem("init", "high", f"high - low must be a finite number, got {spec.high:g} - {spec.low:g}")
    if method == "normal" and spec.std is not None and spec.std < 0:
        r.problem("init", "std", f"must be >= 0, got {spec.std:g}")
    if method == "constant" and "value" not in t:
        r.problem("init", "value", 'required when method = "constant"')
    if method != "explicit":
        for key in ("weights", "biases"):
            if key in t:
                r.problem("init", key, f'only used with method = "explicit", but method is {quoted(method)}')
        return spec
    if "bias_value" in t:
        r.problem("init", "bias_value", 'not used with method = "explicit"; give biases instead')
    weights = biases = None
    if "weights" not in t:
        r.problem("init", "weights", 'required when method = "explicit"')
    elif layers:
        weights = _explicit(
            r, t["weights"], "weights", [(layers[l], layers[l - 1]) for l in range(1, len(layers))]
        )
    if not bias:
        if "biases" in t:
            r.problem("init", "biases", "given, but [network] bias = false")
    elif "biases" not in t:
        r.problem("init", "biases", 'required when method = "explicit" and [network] bias = true')
    elif layers:
        biases = _explicit(r, t["biases"], "biases", [(layers[l],) for l in range(1, len(layers))])
    return replace(spec, weights=weights, biases=biases)


def _explicit(r: Reader, v: Any, key: str, shapes: list[tuple[int, ...]]) -> tuple | None:
    """One array per layer with the given shapes, as nested tuples of floats."""
    if not isinstance(v, list) or len(v) != len(shapes):
        expected = f"expected a list of {len(shapes)} (one per non-input layer)"
        r.problem("init", key, f"{expected}, got {described(v)}")
        return None
    out: list[tuple] = []
    for l, (arr, shape) in enumerate(zip(v, shapes, strict=True), start=1):
        where = f"{key}[{l - 1}]"
        if len(shape) == 1:
            if not isinstance(arr, list) or len(arr) != shape[0]:
                r.problem("init", where, f"layer {l} needs {shape[0]} biases, got {described(arr)}")
                return None
            if not all(finite_number(x) for x in arr):
                r.problem("init", where, "expected finite numbers")
                return None
            out.append(tuple(float(x) for x in arr))
        else:
            m = r.matrix(arr, "init", where, shape[0], shape[1])
            if m is None:
                r.problems[-1] += f" (layer {l}: W is {shape[0]} x {shape[1]}, a row per node of layer {l})"
                return None
            out.append(tuple(tuple(row) for row in m.tolist()))
    return tuple(out)


def _training(r: Reader, activations: tuple[str, ...]) -> dict[str, Any]:
    t = r.table("training", required=True)
    loss = r.get(t, "training", "loss", "str") if r.has("training") else None
    if loss is not None and loss not in LOSSES:
        hint = difflib.get_close_matches(loss, LOSSES, n=1)
        also = f" (did you mean {hint[0]!r}?)" if hint else ""
        known = ", ".join(LOSSES)
        r.problem("training", "loss", f"unknown loss {quoted(loss)}{also}; expected one of {known}")
        loss = None
    if loss is not None and activations:
        out_act = ALIASES.get(activations[-1], activations[-1])
        needs = LOSSES[loss].needs_output
        if needs and out_act != needs:
            r.problem("training", "loss", f"{loss} needs a {needs} output layer, got {out_act}")
        if out_act == "softmax" and loss != "cross_entropy":
            r.problem("training", "loss", f"a softmax output layer needs cross_entropy, got {loss}")
    lr = r.get(t, "training", "learning_rate", "number") if r.has("training") else None
    if lr is not None and not lr > 0:
        r.problem("training", "learning_rate", f"must be > 0, got {lr:g}")
    batch: Any = t.get("batch", "full")
    if isinstance(batch, str):
        if batch not in BATCH_WORDS:
            expected = 'expected "full", "sample" or a positive integer'
            r.problem("training", "batch", f"{expected}, got {quoted(batch)}")
    elif not (isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1):
        expected = 'expected "full", "sample" or a positive integer'
        r.problem("training", "batch", f"{expected}, got {described(batch)}")
    max_steps = r.get(t, "training", "max_steps", "int", 1000)
    if max_steps is not None and max_steps < 1:
        r.problem("training", "max_steps", f"must be >= 1, got {max_steps}")
    target_loss = r.get(t, "training", "target_loss", "number", None)
    if target_loss is not None and target_loss < 0:
        r.problem("training", "target_loss", f"must be >= 0, got {target_loss:g}")
    evaluate_every = r.get(t, "training", "evaluate_every", "int", 1)
    if evaluate_every is not None and evaluate_every < 1:
        r.problem("training", "evaluate_every", f"must be >= 1, got {evaluate_every}")
    seed = r.get(t, "training", "seed", "int", 0)
    if seed is not None and seed < 0:
        r.problem("training", "seed", f"must be >= 0, got {seed}")
    error_split = r.get(t, "training", "error_split", "str", "gradient")
    if error_split is not None and error_split not in ERROR_SPLITS:
        expected = " or ".join(f'"{w}"' for w in ERROR_SPLITS)
        r.problem("training", "error_split", f"expected {expected}, got {quoted(error_split)}")
    penalties = {key: r.get(t, "training", key, "number", 0.0) for key in ("l1", "l2")}
    for key, v in penalties.items():
        if v is not None and v < 0:
            r.problem("training", key, f"must be >= 0, got {v:g}")
    return {
        "loss": loss,
        "learning_rate": lr,
        **_optimizer(r, t),
        "batch": batch,
        "shuffle": r.get(t, "training", "shuffle", "bool", False),
        "seed": seed,
        "update_biases": r.get(t, "training", "update_biases", "bool", True),
        "max_steps": max_steps,
        "target_loss": target_loss,
        "evaluate_every": evaluate_every or 1,
        "error_split": error_split or "gradient",
        **penalties,
    }


def _display(r: Reader) -> str:
    t = r.table("display", required=False)
    notation = r.get(t, "display", "notation", "str", DEFAULT_NOTATION)
    if notation is not None and notation not in NOTATIONS:
        hint = difflib.get_close_matches(notation, NOTATIONS, n=1)
        also = f" (did you mean {hint[0]!r}?)" if hint else ""
        r.problem(
            "display",
            "notation",
            f"unknown notation {quoted(notation)}{also}; expected one of {', '.join(NOTATIONS)}",
        )
        notation = None
    return notation or DEFAULT_NOTATION


def _optimizer(r: Reader, t: dict[str, Any]) -> dict[str, Any]:
    """optimizer and its own parameters; another optimiser's parameter is an error."""
    name = r.get(t, "training", "optimizer", "str", "gd")
    if name not in OPTIMIZER_PARAMS:
        if name is not None:
            hint = difflib.get_close_matches(name, OPTIMIZER_PARAMS, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            known = ", ".join(OPTIMIZER_PARAMS)
            message = f"unknown optimizer {quoted(name)}{also}; expected one of {known}"
            r.problem("training", "optimizer", message)
        return {}
    out: dict[str, Any] = {"optimizer": name}
    for key in OPTIMIZER_KEYS:
        if key not in OPTIMIZER_PARAMS[name]:
            if key in t:
                owner = next(o for o, keys in OPTIMIZER_PARAMS.items() if key in keys)
                message = f'only used with optimizer = "{owner}", but optimizer is {quoted(name)}'
                r.problem("training", key, message)
            continue
        v = r.get(t, "training", key, "number", OPTIMIZER_DEFAULTS[key])
        if v is None:
            continue
        if key == "epsilon" and not v > 0:
            r.problem("training", key, f"must be > 0, got {v:g}")
        elif key != "epsilon" and not 0 <= v < 1:
            r.problem("training", key, f"must be at least 0 and less than 1, got {v:g}")
        out[key] = v
    return out


def _data(
    r: Reader, layers: tuple[int, ...], activations: tuple[str, ...], loss: str | None, base: Any
) -> dict[str, Any]:
    """The Scenario fields of the [data] table: the training (and test) set, names, data source."""
    t = r.table("data", required=True)
    n_in = layers[0] if layers else None
    n_out = layers[-1] if layers else None
    inputs = targets = None
    seed = r.get(t, "data", "seed", "int", 0)
    if seed is not None and seed < 0:
        r.problem("data", "seed", f"must be >= 0, got {seed}")
        seed = None
    source = source_of(r, t)
    keys: dict[str, Any] = {}
    names: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if source == "generator":
        made = generated(r, t, layers, activations, loss, seed)
        if made is not None:
            inputs, targets, keys = made
    elif source == "csv":
        read = read_csv(r, t, base, n_in, n_out)
        if read is not None:
            inputs, targets, *names, keys = read  # type: ignore[assignment]
    elif source == "inputs":
        inputs, targets = _inline(r, t, n_in, n_out)
    _check_targets(r, targets, loss, {"csv": "target_columns", "generator": "generator"}.get(source or ""))
    input_names = r.names(t, "data", "input_names", n_in) or names[0]
    output_names = r.names(t, "data", "output_names", n_out) or names[1]
    if layers:  # every node a name of its own (scenario/names.py)
        for key, problem in name_problems(layers, input_names, output_names):
            from_csv = key not in t and source == "csv"
            also = f" (a column name of the CSV file: give {key} to name the nodes)" if from_csv else ""
            r.problem("data", key, problem + also)

    fraction = r.get(t, "data", "test_fraction", "number", 0.0)
    if fraction is not None and not 0 <= fraction < 1:
        r.problem("data", "test_fraction", f"must be >= 0 and < 1, got {fraction:g}")
        fraction = None
    test_inputs = test_targets = None
    if fraction and inputs is not None and targets is not None and seed is not None:
        n = len(inputs)
        n_test = round(fraction * n)
        if not 1 <= n_test <= n - 1:
            got = f"{n_test} of the {n} samples" if n_test else f"no sample of {n}"
            r.problem(
                "data", "test_fraction", f"{fraction:g} leaves {got} for the test set; need 1 to {n - 1}"
            )
        else:
            inputs, targets, test_inputs, test_targets = split(inputs, targets, n_test, seed)
            keys["test_fraction"] = fraction
            if source != "generator":
                keys["seed"] = seed  # it drew the test set

    standardize = r.get(t, "data", "standardize", "bool", False)
    if standardize and inputs is not None:
        inputs, test_inputs = standardized(inputs, test_inputs)
        keys["standardize"] = True
    for arr in (inputs, targets, test_inputs, test_targets):
        if arr is not None:
            arr.flags.writeable = False
    return {
        "inputs": inputs,
        "targets": targets,
        "input_names": input_names,
        "output_names": output_names,
        "data_source": tuple(keys.items()),
        "test_inputs": test_inputs,
        "test_targets": test_targets,
        "test_fraction": fraction or 0.0,
    }


def _check_targets(r: Reader, targets: np.ndarray | None, loss: str | None, row_key: str | None) -> None:
    """Targets that the loss can use; a bad one is targets[i][j] in the file, or data row i + 1 of a
    generated or CSV set (``row_key`` names that source's key)."""
    if targets is None:
        return
    if loss == "bce" and not ((targets >= 0) & (targets <= 1)).all():
        i, j = np.argwhere((targets < 0) | (targets > 1))[0]
        key, at = (row_key, f" (data row {i + 1})") if row_key else (f"targets[{i}][{j}]", "")
        r.problem("data", key, f"bce needs targets between 0 and 1, got {targets[i, j]:g}{at}")
    if loss == "cross_entropy":
        bad_rows = np.flatnonzero((targets < 0).any(axis=1) | (np.abs(targets.sum(axis=1) - 1) > 1e-9))
        if bad_rows.size:
            i = int(bad_rows[0])
            key, at = (row_key, f" (data row {i + 1})") if row_key else (f"targets[{i}]", "")
            r.problem(
                "data",
                key,
                f"cross_entropy needs each target row to be a probability distribution "
                f"(non-negative, summing to 1), got {_row(targets[i])}{at}",
            )


def _row(values: np.ndarray, limit: int = 8) -> str:
    """``[0.5, 0.25, ...]``: the first ``limit`` numbers of a row, and how many there are."""
    head = ", ".join(repr(float(x)) for x in values[:limit])
    return f"[{head}]" if len(values) <= limit else f"[{head}, ... ({len(values):,} numbers)]"


def _inline(r: Reader, t: dict[str, Any], n_in: int | None, n_out: int | None) -> tuple[Any, Any]:
    """[data] inputs (N, n_0) and targets (N, n_L) written in the file; None after a problem."""
    inputs = targets = None
    if "inputs" not in t:
        if r.has("data"):
            r.problem("data", "inputs", "required key is missing")
    elif isinstance(t["inputs"], list) and len(t["inputs"]) > MAX_SAMPLES:
        r.problem("data", "inputs", f"{len(t['inputs']):,} rows is more than {MAX_SAMPLES:,} samples")
        return None, None
    elif n_in is not None:
        inputs = r.matrix(t["inputs"], "data", "inputs", None, n_in)
    if "targets" not in t:
        if r.has("data"):
            r.problem("data", "targets", "required key is missing")
    elif n_out is not None:
        v = t["targets"]
        if n_out == 1 and isinstance(v, list) and v and all(is_number(x) for x in v):
            v = [[x] for x in v]  # a flat list is allowed for one output node
        rows = len(inputs) if inputs is not None else None
        targets = r.matrix(v, "data", "targets", rows, n_out)
    return inputs, targets


# -- files and bundled scenarios -------------------------------------------------------------


def _bundled_root() -> Any:
    """Where the bundled scenarios are: the installed package, or a checkout's scenarios/."""
    try:
        return resources.files("tui_backprop.scenarios")
    except ModuleNotFoundError:  # running from a source tree that is not installed
        return Path(__file__).resolve().parents[2] / "scenarios"


def bundled_names() -> list[str]:
    """The scenarios that ship with the package, by name."""
    return sorted(p.name[: -len(".toml")] for p in _bundled_root().iterdir() if p.name.endswith(".toml"))


def _read(path: Any, label: str) -> bytes:
    """A scenario file's bytes: a regular file, at most SCENARIO_LIMIT (common/files.py)."""
    try:
        return read_resource(path, SCENARIO_LIMIT, "scenario file", label)
    except Unreadable as e:
        raise ScenarioError(label, e.reason) from e.__cause__ or e


def loads_scenario(
    data: bytes | str, source: str = "<scenario>", overrides: Sequence[Override] = (), base: Any = None
) -> Scenario:
    """Parse scenario text; errors are titled with ``source``. ``overrides`` (``--set``)
    change keys of the parsed document before it is validated (see scenario/overrides.py); a [data]
    csv path is relative to ``base`` (None: the current directory)."""
    if len(data) > SCENARIO_LIMIT:  # bytes that were not read from a file by _read (common/files.py)
        raise ScenarioError(
            source, f"is larger than {size_text(SCENARIO_LIMIT)}, the limit for a scenario file"
        )
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            message = "UTF-16 text (it begins with a UTF-16 byte-order mark): save it as UTF-8"
            raise ScenarioError(source, message)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            message = f"not UTF-8 text (line {line}, byte {e.start}): a scenario file is TOML"
            raise ScenarioError(source, message) from e
    else:
        text = data
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark, which some editors write
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(source, f"not valid TOML: {e}{_the_line(text, str(e))}") from e
    except RecursionError as e:  # tomllib parses nested arrays and inline tables recursively
        raise ScenarioError(source, "not valid TOML for a scenario: nested too deeply") from e
    except ValueError as e:  # an integer of more than 4300 digits, which Python will not read
        raise ScenarioError(source, f"not valid TOML for a scenario: {str(e).split(';')[0]}") from e
    if overrides:
        return _parse_overridden(doc, source, overrides, base)
    return parse_scenario(doc, source, base)


def _the_line(text: str, message: str) -> str:
    """``: the line reads 'foo bar'``: the line of ``text`` that a TOML error message points at
    (``... (at line 2, column 5)``), escaped and cut to a readable length; "" when it names none."""
    m = re.search(r"\(at line (\d+), column \d+\)$", message)
    if m is None:
        return ""
    n = int(m[1])
    start = 0
    for _ in range(n - 1):  # the n-th line, found without splitting a large file into lines
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    line = text[start : end if end >= 0 else len(text)].rstrip("\r")
    return f": the line reads {quoted(line)}" if line.strip() else ""


def _parse_overridden(
    doc: dict[str, Any], source: str, overrides: Sequence[Override], base: Any = None
) -> Scenario:
    from .overrides import apply_overrides, blame

    doc, problems = apply_overrides(doc, overrides, KEYS)
    if problems:
        raise ScenarioError(source, problems)
    try:
        scenario = parse_scenario(doc, source, base)
    except ScenarioError as e:
        raise ScenarioError(source, blame(e.problems, overrides)) from e
    last = {o.name: o for o in overrides if o.table != "scenario"}  # the name's own table aside
    flags = tuple(str(o) for o in last.values())  # one a key: the last given, which is applied
    return replace(scenario, overrides=flags) if flags else scenario


def load_scenario(path_or_name: str | Path, overrides: Sequence[Override] = ()) -> Scenario:
    """A scenario from a file path, or from the name of a bundled scenario (``"xor"``),
    with ``overrides`` (``--set``) applied before validation."""
    path = Path(path_or_name)
    label = str(path_or_name)
    if not path.exists() and isinstance(path_or_name, str) and path.suffix == "" and "/" not in label:
        names = bundled_names()
        if label in names:
            root = _bundled_root()
            data = _read(root.joinpath(f"{label}.toml"), f"{label}.toml")
            return loads_scenario(data, f"{label}.toml", overrides, root)
        raise ScenarioError(label, f"no such file or bundled scenario (bundled: {', '.join(names)})")
    return loads_scenario(_read(path, label), label, overrides, path.parent)
