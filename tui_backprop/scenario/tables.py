"""The rules between a scenario's keys: the code beside the declaration (scenario/format_v1.py).

Each table's keys are read through the declaration (scenario/declare.py); what ties one key to another
(layers and activations, explicit weights and the layers, one data source, targets and the loss, the
test set's size) is checked here, every problem collected by the Reader with the file's table and key.
scenario/reader.py puts the tables together into a Scenario.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..common.escape import quoted
from ..engine.accuracy import classifier_of
from ..engine.activations import ALIASES
from ..engine.features import FeatureError, Features, parse_features, parse_term
from ..engine.losses import LOSSES
from .csv_source import read_csv
from .declare import check_choice, read_key, read_table
from .format_v1 import BATCH_WORDS, DATA, DISPLAY, INIT, MAX_LAYERS, MAX_NODES, MAX_WEIGHTS, NETWORK, TRAINING
from .names import name_problems
from .notation import DEFAULT as DEFAULT_NOTATION
from .problems import MISSING, Reader, described, finite_number, is_int64, is_number
from .sources import MAX_SAMPLES, generated, source_of, split, standardized


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
            out.append(tuple(tuple(row) for row in m.tolist()))
    return tuple(out)


def training_fields(r: Reader, activations: tuple[str, ...]) -> dict[str, Any]:
    t = r.table("training", required=True)
    v = read_table(r, t, TRAINING, {"batch": lambda: _batch(r, t)})
    loss = v["loss"]
    if loss is not None and activations:
        out_act = ALIASES.get(activations[-1], activations[-1])
        needs = LOSSES[loss].needs_output
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
    r: Reader, training: dict[str, Any], activations: tuple[str, ...], data: dict[str, Any]
) -> None:
    """[training] target_accuracy only for a classifier (engine/accuracy.py): a sigmoid output
    with bce or mse on 0/1 targets, or softmax with cross_entropy on one-hot targets."""
    if training.get("target_accuracy") is None or not activations or data.get("targets") is None:
        return
    out_act, loss = ALIASES.get(activations[-1], activations[-1]), training.get("loss")
    if loss is None or classifier_of(out_act, loss, data["targets"], data.get("test_targets")) is None:
        r.problem(
            "training",
            "target_accuracy",
            f"needs a classifier (a sigmoid output with bce or mse and every target 0 or 1, or "
            f"softmax with cross_entropy and one-hot targets); this is {out_act} with {loss}"
            + _why_not_classes(out_act, loss),
        )


def _why_not_classes(out_act: str, loss: str | None) -> str:
    """The end of target_accuracy's refusal: why the targets spoil a classifier that the output
    and loss would make."""
    sigmoid = out_act == "sigmoid" and loss in ("bce", "mse")
    if sigmoid or (out_act == "softmax" and loss == "cross_entropy"):
        return ", but its targets are not classes (0 or 1; one-hot rows)"
    return ""


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
    """The Scenario fields of the [data] table: the training (and test) set, names, data source."""
    t = r.table("data", required=True)
    n_in, n_out = (layers[0], layers[-1]) if layers else (None, None)
    seed = read_key(r, t, "data", DATA["seed"])
    source = source_of(r, t)
    features = _features(r, t, n_in)
    raw_layers = layers if "features" not in t else () if features is None else (features.n_raw, *layers[1:])
    before = len(r.problems)
    inputs, targets, names, keys = _source(r, t, source, raw_layers, activations, loss, seed, base)
    if features is not None:  # the data's problems are about the raw inputs that the features name
        note = f" (the raw inputs x1..x{features.n_raw} that [data] features names)"
        r.problems[before:] = [p + note if "input" in p else p for p in r.problems[before:]]
    _check_targets(r, targets, loss, {"csv": "target_columns", "generator": "generator"}.get(source or ""))
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
    test_inputs = test_targets = None
    if fraction and inputs is not None and targets is not None and seed is not None:
        n_test = _test_size(r, fraction, len(inputs))
        if n_test:
            inputs, targets, test_inputs, test_targets = split(inputs, targets, n_test, seed)
            keys["test_fraction"] = fraction
            if source != "generator":
                keys["seed"] = seed  # it drew the test set
    if read_key(r, t, "data", DATA["standardize"]) and inputs is not None:
        inputs, test_inputs = standardized(inputs, test_inputs)
        keys["standardize"] = True
    raw_inputs = raw_test_inputs = None
    if features is not None and inputs is not None:  # the network's inputs are the raw ones' features
        raw_inputs, raw_test_inputs = inputs, test_inputs
        inputs = _featured(r, features, inputs, "")
        test_inputs = None if test_inputs is None else _featured(r, features, test_inputs, "test ")
    for arr in (inputs, targets, test_inputs, test_targets, raw_inputs, raw_test_inputs):
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
        "features": features,
        "raw_inputs": raw_inputs,
        "raw_test_inputs": raw_test_inputs,
    }


def _features(r: Reader, t: dict[str, Any], n_in: int | None) -> Features | None:
    """[data] features: terms of the grammar (engine/features.py), one a node of the input layer;
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
        features = parse_features(v)
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


def _featured(r: Reader, features: Features, X: np.ndarray, which: str) -> np.ndarray | None:
    """The network's inputs, features(X) (N, n_features); None (and a problem) when one is not
    finite (a cube of a number past 1e102)."""
    A = features(X)
    if np.isfinite(A).all():
        return A
    i, k = np.argwhere(~np.isfinite(A))[0]
    message = f"{features.names[k]} of {which}data row {i + 1} is not a finite number (raw row: {_row(X[i])})"
    r.problem("data", "features", message)
    return None


def _source(
    r: Reader,
    t: dict[str, Any],
    source: str | None,
    layers: tuple[int, ...],
    activations: tuple[str, ...],
    loss: str | None,
    seed: int | None,
    base: Any,
) -> tuple[Any, Any, tuple[tuple[str, ...], tuple[str, ...]], dict[str, Any]]:
    """Inputs (N, n_0), targets (N, n_L), the node names a CSV header gives, and the keys to record,
    from the table's one source (None, None, ... after a problem)."""
    n_in, n_out = (layers[0], layers[-1]) if layers else (None, None)
    if source == "generator":
        made = generated(r, t, layers, activations, loss, seed)
        if made is not None:
            return made[0], made[1], ((), ()), made[2]
    elif source == "csv":
        read = read_csv(r, t, base, n_in, n_out)
        if read is not None:
            return read[0], read[1], (read[2], read[3]), read[4]
    elif source == "inputs":
        return (*_inline(r, t, n_in, n_out), ((), ()), {})
    return None, None, ((), ()), {}


def _test_size(r: Reader, fraction: float, n: int) -> int:
    """How many of ``n`` samples [data] test_fraction holds out; 0 after a problem."""
    n_test = round(fraction * n)
    if 1 <= n_test <= n - 1:
        return n_test
    got = f"{n_test} of the {n} samples" if n_test else f"no sample of {n}"
    r.problem("data", "test_fraction", f"{fraction:g} leaves {got} for the test set; need 1 to {n - 1}")
    return 0


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
