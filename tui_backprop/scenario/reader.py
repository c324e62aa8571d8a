"""Scenario files (TOML, format 1) -> a frozen, validated Scenario.

Every problem in a file is collected before anything is raised, so that one run of
``backprop-tui --check`` lists them all; each names the file, the table and the key,
what was expected and what was found.

Reading is two steps. ``check_scenario`` reads and checks the whole file without numpy, and
gives a Checked: every field but the arrays, and a DataPlan of how to make them; a rule that only
drawn numbers can answer is run on them, with numpy, for the few scenarios that need one
(scenario/arrays.py; docs/cli.md names them). ``load_scenario`` is that check, then the arrays
(scenario/arrays.py), which cannot fail: ``backprop-tui --check`` says ok exactly when loading
would succeed, with the same messages, because both are the one check.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.errors import BackpropError
from ..common.escape import quoted
from ..common.escape import shown as escaped
from ..common.files import SCENARIO_LIMIT, Unreadable, not_utf8, read_resource, size_text
from ..engine.names import OPTIMIZER_PARAMS
from ..engine.schedule import SCHEDULE_PARAMS
from .data_plan import DataPlan
from .declare import read_table
from .format_v1 import DATA, DISPLAY, INIT, KEYS, MAX_PASS, NETWORK, SCENARIO, TRAINING
from .listing import bundled_names, bundled_root
from .notation import DEFAULT as DEFAULT_NOTATION
from .problems import MAX_UNKNOWN, Reader, shown
from .tables import check_target_accuracy, data_fields, display, init_fields, network, training_fields

if TYPE_CHECKING:
    import numpy as np

    from ..engine.features import Features
    from .overrides import Override


class ScenarioError(BackpropError):
    """A scenario file that cannot be used; ``problems`` holds one line per defect."""


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


def titled(name: str, overrides: Sequence[str]) -> str:
    """``name (--set a.b=1 --vary c.d=2)``: a scenario's name with the flags that changed it."""
    return f"{name} ({' '.join(overrides)})" if overrides else name


def summary(title: str, layers: Sequence[int], loss: str, learning_rate: float, batch: str | int) -> str:
    """``XOR, 2-3-1 sigmoid (2-3-1, mse, lr=0.5, batch=full)``: a scenario in one line."""
    arch = "-".join(str(n) for n in layers)
    return f"{escaped(title)} ({arch}, {loss}, lr={learning_rate:g}, batch={batch})"


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


@dataclass(frozen=True)
class Checked:
    """A scenario file read and checked, before its arrays: the Scenario's other fields, and the
    plan of its data (scenario/data_plan.py). ``str`` is the Scenario's."""

    fields: dict[str, Any]
    plan: DataPlan

    def __str__(self) -> str:
        f = self.fields
        title = titled(f["name"], f["overrides"])
        return summary(title, f["layers"], f["loss"], f["learning_rate"], f["batch"])

    def overridden(self, flags: tuple[str, ...]) -> Checked:
        return replace(self, fields={**self.fields, "overrides": flags})

    def scenario(self) -> Scenario:
        """The Scenario, its arrays made (numpy: scenario/arrays.py)."""
        from .arrays import data_arrays

        return Scenario(**self.fields, **data_arrays(self.plan))


def check_document(doc: dict[str, Any], source: str | None = None, base: Any = None) -> Checked:
    """A parsed TOML document checked, every key and every number; ScenarioError lists every
    problem. numpy is loaded only when one of them needs drawn numbers (Reader.defer).

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

    meta = read_table(r, r.table("scenario", required=True), SCENARIO)
    name: str | None = meta["name"]
    if name is not None and not name.strip():
        r.problem("scenario", "name", "must not be empty")
    description = meta["description"] or ""

    layers, activations, bias = network(r)
    init = InitSpec(**init_fields(r, layers, bias))
    training = training_fields(r, activations)
    data = data_fields(r, layers, activations, training.get("loss"), base)
    plan = data.pop("plan")
    check_target_accuracy(r, training, activations, plan)
    if layers and plan is not None:
        n_train = plan.samples - plan.n_test
        if n_train * sum(layers) > MAX_PASS:
            too_many = f"{n_train:,} samples x {sum(layers):,} nodes is more than {MAX_PASS:,} numbers"
            r.problems.append(f"[data]: {too_many} in one pass over the training set")
    display_fields = display(r)

    problems = r.every_problem()
    if problems or name is None or plan is None:
        raise ScenarioError(source or "<scenario>", problems)
    fields = {
        "name": name,
        "description": description,
        "layers": layers,
        "activations": activations,
        "bias": bias,
        "init": init,
        "source": source,
        "overrides": (),
        **data,
        **display_fields,
        **training,
    }
    return Checked(fields, plan)


def parse_scenario(doc: dict[str, Any], source: str | None = None, base: Any = None) -> Scenario:
    """A validated Scenario from a parsed TOML document; ScenarioError lists every problem.

    ``base``: the folder that a [data] csv path is relative to (None: the current directory).
    """
    return check_document(doc, source, base).scenario()


# -- files and bundled scenarios -------------------------------------------------------------


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
    return checks_scenario(data, source, overrides, base).scenario()


def checks_scenario(
    data: bytes | str, source: str = "<scenario>", overrides: Sequence[Override] = (), base: Any = None
) -> Checked:
    """Scenario text checked (loads_scenario without the arrays: numpy only where Reader.defer)."""
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
            raise ScenarioError(source, f"{not_utf8(data, e)}: a scenario file is TOML") from e
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
        return _checked_overridden(doc, source, overrides, base)
    return check_document(doc, source, base)


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


def _checked_overridden(
    doc: dict[str, Any], source: str, overrides: Sequence[Override], base: Any = None
) -> Checked:
    from .overrides import apply_overrides, blame

    doc, problems = apply_overrides(doc, overrides, KEYS)
    if problems:
        raise ScenarioError(source, problems)
    try:
        checked = check_document(doc, source, base)
    except ScenarioError as e:
        raise ScenarioError(source, blame(e.problems, overrides)) from e
    last = {o.name: o for o in overrides if o.table != "scenario"}  # the name's own table aside
    flags = tuple(str(o) for o in last.values())  # one a key: the last given, which is applied
    return checked.overridden(flags) if flags else checked


def load_scenario(path_or_name: str | Path, overrides: Sequence[Override] = ()) -> Scenario:
    """A scenario from a file path, or from the name of a bundled scenario (``"xor"``),
    with ``overrides`` (``--set``) applied before validation."""
    return check_scenario(path_or_name, overrides).scenario()


def check_scenario(path_or_name: str | Path, overrides: Sequence[Override] = ()) -> Checked:
    """load_scenario's check, without making the arrays: ``backprop-tui --check``. It raises the
    same ScenarioError, and numpy is loaded only for a rule that drawn numbers answer."""
    path = Path(path_or_name)
    label = str(path_or_name)
    if not path.exists() and isinstance(path_or_name, str) and path.suffix == "" and "/" not in label:
        names = bundled_names()
        if label in names:
            root = bundled_root()
            data = _read(root.joinpath(f"{label}.toml"), f"{label}.toml")
            return checks_scenario(data, f"{label}.toml", overrides, root)
        raise ScenarioError(label, f"no such file or bundled scenario (bundled: {', '.join(names)})")
    return checks_scenario(_read(path, label), label, overrides, path.parent)
