"""The rules between a scenario's keys: the code beside the declaration (scenario/format_v1.py).

Each table's keys are read through the declaration (scenario/declare.py); what ties one key to another
(layers and activations, explicit weights and the layers, one data source, targets and the loss, the
test set's size) is checked here, every problem collected by the Reader with the file's table and key.
scenario/reader.py puts the tables together into a Scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..common.escape import quoted
from ..engine.names import ALIASES, LOSS_OUTPUTS, classifier_targets
from ..engine.terms import FeatureError, Terms, parse_term, parse_terms
from .data_plan import DataPlan
from .declare import check_choice, read_key, read_table
from .format_v1 import BATCH_WORDS, DATA, DISPLAY, INIT, MAX_LAYERS, MAX_NODES, MAX_WEIGHTS, NETWORK, TRAINING
from .names import name_problems
from .notation import DEFAULT as DEFAULT_NOTATION
from .problems import MISSING, Reader, Rows, described, finite_number, is_int64, is_number
from .sources import MAX_SAMPLES, Drawn, generated, source_of
from .targets import (
    SAFE_INPUT,
    accuracy_refusal_text,
    check_targets,
    classes,
    first_infinite_feature,
    infinite_feature_text,
    largest,
)


def network(r: Reader) -> tuple[tuple[int, ...], tuple[str, ...], bool]:
    t = r.table("network", required=True)
    layers = _layers(r, t)
    bias = read_key(r, t, "network", NETWORK["bias"])
    activations = _activations(r, t, len(layers) - 1 if layers else None)
    _softmax_last(r, t, activations)
    return layers, activations, True if bias is None else bias


def _node_count(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_NODES


def _layers(r: Reader, t: dict[str, Any]) -> tuple[int, ...]:
    """[network] layers: 2 to MAX_LAYERS node counts, at most MAX_WEIGHTS weights; () after a problem."""
    v = t.get("layers", MISSING)
    if v is MISSING:
        if r.has("network"):
            r.problem("network", "layers", "required key is missing")
    elif not isinstance(v, list) or len(v) < 2:
        r.problem("network", "layers", f"expected a list of at least 2 node counts, got {described(v)}")
    elif len(v) > MAX_LAYERS:
        message = f"{len(v):,} layers is more than {MAX_LAYERS}, the most this simulator steps"
        r.problem("network", "layers", message)
    elif not all(map(_node_count, v)):
        bad = next(n for n in v if not _node_count(n))
        message = f"every node count must be an integer from 1 to {MAX_NODES}, got {described(bad)}"
        r.problem("network", "layers", message)
    else:
        weights = sum(m * n for m, n in zip(v, v[1:], strict=False))
        if weights <= MAX_WEIGHTS:
            return tuple(v)
        message = f"{weights:,} weights is more than {MAX_WEIGHTS:,}, the most this simulator steps"
        r.problem("network", "layers", message)
    return ()


def _activations(r: Reader, t: dict[str, Any], n_layers: int | None) -> tuple[str, ...]:
    """[network] activation (for every layer) or activations (one a layer); () after a problem."""
    known = NETWORK["activation"]
    if "activation" in t and "activations" in t:
        r.problem("network", "activations", "give either activation or activations, not both")
    elif "activation" in t:
        act = read_key(r, t, "network", known)
        if act is not None and n_layers:
            return (act,) * n_layers
    elif "activations" in t:
        acts = t["activations"]
        if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
            r.problem("network", "activations", f"expected a list of activation names, got {described(acts)}")
        elif len(acts) >= MAX_LAYERS or (n_layers is not None and len(acts) != n_layers):
            expected = f"expected {n_layers or f'at most {MAX_LAYERS - 1}'} names (one per non-input layer)"
            r.problem("network", "activations", f"{expected}, got {len(acts)}")
        elif all([check_choice(r, "network", f"activations[{i}]", known, a) for i, a in enumerate(acts)]):
            return tuple(acts)
    elif r.has("network"):
        r.problem("network", "activation", "required key is missing (or give activations, one per layer)")
    return ()


def _softmax_last(r: Reader, t: dict[str, Any], activations: tuple[str, ...]) -> None:
    if activations and "softmax" in activations[:-1]:
        i = activations.index("softmax")
        if "activation" in t:  # name the key the file used
            message = "softmax is for the output layer only; give activations, one per layer"
            r.problem("network", "activation", message)
        else:
            message = f"softmax is for the output layer only, got it on layer {i + 1}"
            r.problem("network", "activations", message)


def _unsigned(v: Any) -> Any:
    """-0.0 as 0.0: it passes a check of >= 0, and numpy's random draws refuse a negative scale."""
    return None if v is None else v + 0.0


def init_fields(r: Reader, layers: tuple[int, ...], bias: bool) -> dict[str, Any]:
    """The fields of the Scenario's InitSpec, from [init]."""
    t = r.table("init", required=False)
    spec = read_table(r, t, INIT)
    method = spec["method"] = spec["method"] or "uniform"
    spec["std"] = std = _unsigned(spec["std"])
    low, high = spec["low"], spec["high"]
    if method == "explicit" and _an_int(t.get("decimals")):  # out of range or not, it is not used
        r.problem("init", "decimals", 'rounds drawn weights: not used with method = "explicit"')
    if method == "uniform" and low is not None and high is not None and not low < high:
        r.problem("init", "high", f"must be greater than low ({low:g}), got {high:g}")
    elif method == "uniform" and low is not None and high is not None:
        if not math.isfinite(high - low):  # numpy cannot draw from a wider range
            r.problem("init", "high", f"high - low must be a finite number, got {high:g} - {low:g}")
    if method == "normal" and std is not None and std < 0:
        r.problem("init", "std", f"must be >= 0, got {std:g}")
    if method == "constant" and "value" not in t:
        r.problem("init", "value", 'required when method = "constant"')
    if method != "explicit":
        for key in ("weights", "biases"):
            if key in t:
                r.problem("init", key, f'only used with method = "explicit", but method is {quoted(method)}')
        return spec
    return _explicit_init(r, t, spec, layers, bias)


def _an_int(v: Any) -> bool:
    """An integer of 64 bits (a problem of range is reported apart)."""
    return isinstance(v, int) and not isinstance(v, bool) and is_int64(v)


def _explicit_init(
    r: Reader, t: dict[str, Any], spec: dict[str, Any], layers: tuple[int, ...], bias: bool
) -> dict[str, Any]:
    """[init] method = "explicit": weights, and biases when [network] bias = true."""
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
    return {**spec, "weights": weights, "biases": biases}


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
            out.append(tuple(m.rows()))
    return tuple(out)


def training_fields(r: Reader, activations: tuple[str, ...]) -> dict[str, Any]:
    t = r.table("training", required=True)
    v = read_table(r, t, TRAINING, {"batch": lambda: _batch(r, t)})
    loss = v["loss"]
    if loss is not None and activations:
        out_act = ALIASES.get(activations[-1], activations[-1])
        needs = LOSS_OUTPUTS[loss]
        if needs and out_act != needs:
            r.problem("training", "loss", f"{loss} needs a {needs} output layer, got {out_act}")
        if out_act == "softmax" and loss != "cross_entropy":
            r.problem("training", "loss", f"a softmax output layer needs cross_entropy, got {loss}")
    _schedule(r, v)
    return {**v, "error_split": v["error_split"] or "gradient", "schedule": v["schedule"] or "constant"}


def _schedule(r: Reader, v: dict[str, Any]) -> None:
    """The learning-rate schedule's keys that depend on others: a cosine's period is max_steps
    unless given, and its lowest rate is at most learning_rate."""
    if v.get("schedule") != "cosine":
        return
    if v.get("cosine_period") is None and v.get("max_steps") is not None:
        v["cosine_period"] = v["max_steps"]
    lowest, rate = v.get("min_learning_rate"), v.get("learning_rate")
    if lowest is not None and rate is not None and lowest > rate:
        message = f"must be at most learning_rate ({rate:g}), got {lowest:g}"
        r.problem("training", "min_learning_rate", message)


def check_target_accuracy(
    r: Reader,
    training: dict[str, Any],
    activations: tuple[str, ...],
    targets: Rows | None,
    drawn: Drawn | None,
) -> None:
    """[training] target_accuracy only for a classifier (engine/accuracy.py): a sigmoid output
    with bce or mse on 0/1 targets, or softmax with cross_entropy on one-hot targets. ``targets``:
    those the file gives (inline or CSV), or ``drawn``: those a generator will draw."""
    if training.get("target_accuracy") is None or not activations or (targets is None and drawn is None):
        return
    out_act, loss = ALIASES.get(activations[-1], activations[-1]), training.get("loss")
    needs = classifier_targets(out_act, loss)
    if drawn is not None and not drawn.classes and needs is not None:  # a regression's numbers decide
        r.defer(_on_arrays("drawn_accuracy_problems", drawn, out_act, loss))
        return
    if drawn is not None:  # classes: 1 and 0 in one column (-1 is a tanh output's), or one-hot rows
        kind = ("one-hot" if drawn.n_out > 1 else "0/1") if drawn.classes else None
    else:
        kind = None if targets is None else classes(targets)
    if needs is None or kind is None or needs == "one-hot" and kind != "one-hot":
        r.problem("training", "target_accuracy", accuracy_refusal_text(out_act, loss))


def _batch(r: Reader, t: dict[str, Any]) -> Any:
    """[training] batch: "full", "sample" or a positive integer (4.0 is not a batch size)."""
    batch = t.get("batch", TRAINING.default("batch"))
    expected = 'expected "full", "sample" or a positive integer'
    if isinstance(batch, str) and batch not in BATCH_WORDS:
        r.problem("training", "batch", f"{expected}, got {quoted(batch)}")
    elif not isinstance(batch, str) and not (is_number(batch) and isinstance(batch, int) and batch >= 1):
        r.problem("training", "batch", f"{expected}, got {described(batch)}")
    return batch


def display(r: Reader) -> dict[str, Any]:
    """The Scenario fields of [display]: notation, digits (None: no hand precision), palette."""
    shown = read_table(r, r.table("display", required=False), DISPLAY)
    palette = shown["palette"] or DISPLAY.default("palette")
    return {"notation": shown["notation"] or DEFAULT_NOTATION, "digits": shown["digits"], "palette": palette}


def data_fields(
    r: Reader, layers: tuple[int, ...], activations: tuple[str, ...], loss: str | None, base: Any
) -> dict[str, Any]:
    """The Scenario fields of the [data] table but its arrays (names, data source, test fraction),
    under "plan" the DataPlan that scenario/arrays.py makes them from (None after a problem), and
    under "read" the inputs, targets and generated set the source gave (each None after a problem)."""
    t = r.table("data", required=True)
    n_in, n_out = (layers[0], layers[-1]) if layers else (None, None)
    seed = read_key(r, t, "data", DATA["seed"])
    source = source_of(r, t)
    features = _features(r, t, n_in)
    raw_layers = layers if "features" not in t else () if features is None else (features.n_raw, *layers[1:])
    before = len(r.problems)
    inputs, targets, drawn, names, keys = _source(r, t, source, raw_layers, activations, loss, seed, base)
    if features is not None:  # the data's problems are about the raw inputs that the features name
        note = f" (the raw inputs x1..x{features.n_raw} that [data] features names)"
        r.problems[before:] = [p + note if "input" in p else p for p in r.problems[before:]]
    row_key = {"csv": "target_columns", "generator": "generator"}.get(source or "")
    if targets is not None:
        check_targets(r, targets, loss, row_key)
    elif drawn is not None and _drawn_targets_may_fail(drawn, loss):
        r.defer(_on_arrays("drawn_targets_problems", drawn, loss, row_key))
    before = len(r.problems)
    input_names = r.names(t, "data", "input_names", n_in) or (features.names if features else names[0])
    if features is not None and len(r.problems) > before:
        r.problems[-1] += " (with features, one name a feature: without input_names, each is its term)"
    output_names = r.names(t, "data", "output_names", n_out) or names[1]
    if layers:  # every node a name of its own (scenario/names.py)
        for key, problem in name_problems(layers, input_names, output_names):
            from_csv = key not in t and source == "csv"
            also = f" (a column name of the CSV file: give {key} to name the nodes)" if from_csv else ""
            r.problem("data", key, problem + also)
    fraction = read_key(r, t, "data", DATA["test_fraction"])
    given = inputs is not None and targets is not None or drawn is not None
    plan = DataPlan(inputs, targets, drawn) if given else None
    if fraction and plan is not None and seed is not None:
        n_test = _test_size(r, fraction, plan.samples)
        if n_test:
            plan = replace(plan, n_test=n_test, seed=seed)
            keys["test_fraction"] = fraction
            if source != "generator":
                keys["seed"] = seed  # it drew the test set
    if read_key(r, t, "data", DATA["standardize"]) and plan is not None:
        plan = replace(plan, standardize=True)
        keys["standardize"] = True
    if features is not None and plan is not None:  # the network's inputs are the raw ones' features
        plan = replace(plan, terms=features)
        _check_features(r, plan, features)
    return {
        "plan": plan,
        "read": (inputs, targets, drawn),  # what the source gave, even when the other part failed
        "input_names": input_names,
        "output_names": output_names,
        "data_source": tuple(keys.items()),
        "test_fraction": fraction or 0.0,
    }


def _on_arrays(check: str, *args: Any) -> Callable[[Reader], None]:
    """A deferred check (Reader.defer): the function ``check`` of scenario/arrays.py, which
    looks at the numbers drawn or made with numpy, loaded only for the scenarios that need it."""

    def run(sub: Reader) -> None:
        from . import arrays

        getattr(arrays, check)(sub, *args)

    return run


def _drawn_targets_may_fail(drawn: Drawn, loss: str | None) -> bool:
    """Whether a generated set's targets may break check_targets: they are 0/1 or one-hot rows,
    which every loss takes, but for one column of 1 and -1 (a tanh output) under bce, and one
    column under cross_entropy (a row of 0). Which row is bad, only the drawn set tells."""
    one_column = drawn.classes and drawn.n_out == 1
    return one_column and (loss == "cross_entropy" or (loss == "bce" and drawn.negative < 0))


def _check_features(r: Reader, plan: DataPlan, terms: Terms) -> None:
    """Whether each feature of every row is finite (a cube of a number past 1e102 is not): on the
    file's own numbers here when that tells; after the arrays are made (deferred) when the test
    set's draw or the standardised numbers decide it. A generated set's numbers are below
    DRAWN_BOUND (scenario/sources.py), whose cube and frequencies stay finite, standardised or
    not, but for a test set standardised by the training set's spread."""
    held_out = plan.n_test > 0
    if plan.inputs is None:  # generated
        if plan.standardize and held_out:
            r.defer(_on_arrays("feature_problems", plan))
        return
    if plan.standardize:
        if held_out or largest(plan.inputs) > SAFE_INPUT:
            r.defer(_on_arrays("feature_problems", plan))
        return
    found = first_infinite_feature(terms, plan.inputs)
    if found is not None and held_out:  # in the training set or the test set: the draw tells
        r.defer(_on_arrays("feature_problems", plan))
    elif found is not None:
        i, k = found
        r.problem("data", "features", infinite_feature_text(terms, plan.inputs.row(i), i, k, ""))


def _features(r: Reader, t: dict[str, Any], n_in: int | None) -> Terms | None:
    """[data] features: terms of the grammar (engine/terms.py), one a node of the input layer;
    None without the key, or after a problem."""
    if "features" not in t:
        return None
    v = t["features"]
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        r.problem("data", "features", f"expected a non-empty list of terms (strings), got {described(v)}")
        return None
    if len(v) > MAX_NODES:
        r.problem(
            "data", "features", f"{len(v):,} features is more than {MAX_NODES:,}, the most nodes a layer"
        )
        return None
    bad = 0
    for i, text in enumerate(v):
        try:
            parse_term(text)
        except FeatureError as e:
            bad += 1
            if bad <= 3:  # a few are enough to see the grammar's point
                r.problem("data", f"features[{i}]", f"{quoted(text)} {e.why}")
    if bad:
        return None
    try:
        features = parse_terms(v)
    except FeatureError as e:
        r.problem("data", "features", f"{quoted(e.term or '')} {e.why}")
        return None
    if n_in is not None and len(features) != n_in:
        message = (
            f"{len(features)} features, but [network] layers begins with {n_in} input nodes: "
            "the input layer has one node a feature"
        )
        r.problem("data", "features", message)
    return features


def _source(
    r: Reader,
    t: dict[str, Any],
    source: str | None,
    layers: tuple[int, ...],
    activations: tuple[str, ...],
    loss: str | None,
    seed: int | None,
    base: Any,
) -> tuple[Rows | None, Rows | None, Drawn | None, tuple[tuple[str, ...], tuple[str, ...]], dict[str, Any]]:
    """Inputs (N, n_0) and targets (N, n_L) given by the file, or the set a generator will draw,
    the node names a CSV header gives, and the keys to record, from the table's one source
    (None, None, None, ... after a problem)."""
    n_in, n_out = (layers[0], layers[-1]) if layers else (None, None)
    if source == "generator":
        made = generated(r, t, layers, activations, loss, seed)
        if made is not None:
            return None, None, made[0], ((), ()), made[1]
    elif source == "csv":
        from .csv_source import read_csv  # the csv module, for a scenario that reads a file

        read = read_csv(r, t, base, n_in, n_out)
        if read is not None:
            return read[0], read[1], None, (read[2], read[3]), read[4]
    elif source == "inputs":
        return (*_inline(r, t, n_in, n_out), None, ((), ()), {})
    return None, None, None, ((), ()), {}


def _test_size(r: Reader, fraction: float, n: int) -> int:
    """How many of ``n`` samples [data] test_fraction holds out; 0 after a problem."""
    n_test = round(fraction * n)
    if 1 <= n_test <= n - 1:
        return n_test
    got = f"{n_test} of the {n} samples" if n_test else f"no sample of {n}"
    r.problem("data", "test_fraction", f"{fraction:g} leaves {got} for the test set; need 1 to {n - 1}")
    return 0


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
        rows = inputs.n if inputs is not None else None
        targets = r.matrix(v, "data", "targets", rows, n_out)
    return inputs, targets
