"""Scenario format 1, declared once: every table, every key, its kind, default, range and meaning.

The names it offers (activations, losses, optimisers, generators, features) are the engine's,
from its modules that import no numpy (engine/names.py, engine/terms.py, engine/schedule.py).
scenario/reader.py reads a file through this declaration (scenario/declare.py), and the rules that
tie keys together (layers against activations, explicit weights against layers, one data source)
stay as code beside it there. The reference page docs/scenario-keys.md and the JSON Schema
tui_backprop/schemas/scenario-v1.schema.json are generated from it by
``python -m tui_backprop.scenario.keys_doc``; a test fails when either differs.
"""

from __future__ import annotations

from ..engine.names import ACTIVATION_NAMES as ACTIVATIONS
from ..engine.names import ALIASES, GENERATORS, LOSS_OUTPUTS, OPTIMIZER_PARAMS
from ..engine.schedule import SCHEDULES
from ..engine.terms import GRAMMAR as FEATURE_GRAMMAR
from .declare import REQUIRED, Key, Range, Table
from .notation import DEFAULT as DEFAULT_NOTATION
from .notation import NOTATIONS

MAX_LAYERS = 64  # entries of [network] layers, the input layer included: the depth
MAX_NODES = 100_000  # per layer: far beyond anything worth stepping, short of exhausting memory
MAX_WEIGHTS = 10_000_000  # in all: 80 MB of float64 a copy of W, of which a step makes several
MAX_DECIMALS = 15  # [init] decimals: a float64 holds about 15 decimal digits
MAX_DIGITS = 17  # [display] digits: significant digits, as many as a float64 can need
MAX_PASS = 50_000_000  # samples x nodes: the numbers of one forward pass over the training set
MAX_SAMPLES = 1_000_000  # samples of any data source: rows of inputs, generated points, CSV rows
MAX_SCALE = 1e6  # noise, spread and centers: far beyond the plane's [-6, 6], far from overflow

ACTIVATION_NAMES = (*ACTIVATIONS, *ALIASES)
INIT_METHODS = ("constant", "uniform", "normal", "xavier", "he", "explicit")
BATCH_WORDS = ("full", "sample")
ERROR_SPLITS = ("gradient", "proportional")  # backpropagated deltas, or the proportional split
PALETTES = ("default", "colorblind")  # [display] palette: the app's colours (tui/widgets/palette.py)

_SEED = Range(0)
_NOT_NEGATIVE = Range(0)
_DECAY = Range(0, 1, high_open=True, text="at least 0 and less than 1")
_SCALE = Range(0, MAX_SCALE, above=f"at most {MAX_SCALE:g} (the plane is about [-6, 6])")
_NUMBERS = {"type": "number"}
_ROWS = {"type": "array", "items": {"type": "array", "items": _NUMBERS}}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_COLUMNS = {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True}


def _only(key: str, *values: str) -> tuple[str, tuple[str, ...]]:
    return (key, values)


def _not_both(a: str, b: str) -> dict:
    return {"not": {"required": [a, b]}}


def _when(key: str, value: str, then: dict) -> dict:
    """JSON Schema (draft 4, which has no if/then): when ``key`` is ``value``, ``then`` holds."""
    return {"anyOf": [{"not": {"required": [key], "properties": {key: {"enum": [value]}}}}, then]}


_ADAM = _only("optimizer", "adam")
_POSITIVE = Range(0, low_open=True)

SCENARIO = Table(
    "scenario",
    "What the run is called.",
    (
        Key("name", "str", REQUIRED, "the name shown in the header and written in the trace; not blank"),
        Key("description", "str", "", "a few sentences the app shows about the scenario"),
    ),
)

NETWORK = Table(
    "network",
    "The layers and their activations. Give exactly one of activation and activations.",
    (
        Key(
            "layers",
            "custom",
            REQUIRED,
            f"node counts, the input layer first; at most {MAX_WEIGHTS:,} weights in all",
            shown_type="list of integers",
            range=Range(1, MAX_NODES, text=f"2 to {MAX_LAYERS} entries, each from 1 to {MAX_NODES:,}"),
            schema={
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_NODES},
                "minItems": 2,
                "maxItems": MAX_LAYERS,
            },
        ),
        Key(
            "activation",
            "str",
            None,
            "the activation of every non-input layer (softmax: the output layer only)",
            choices=ACTIVATION_NAMES,
        ),
        Key(
            "activations",
            "custom",
            None,
            "one activation per non-input layer, in order (softmax: the last only)",
            choices=ACTIVATION_NAMES,
            shown_type="list of strings",
            schema={
                "type": "array",
                "items": {"type": "string", "enum": list(ACTIVATION_NAMES)},
                "maxItems": MAX_LAYERS - 1,
            },
        ),
        Key("bias", "bool", True, "whether every non-input node has a bias"),
    ),
    rules=(
        "Exactly one of `activation` and `activations`; `activations` holds one name per non-input layer.",
        '`softmax` goes on the output layer only, and only with `loss = "cross_entropy"`.',
        f"`layers` makes at most {MAX_WEIGHTS:,} weights in all, and samples × nodes of the training set "
        f"is at most {MAX_PASS:,}.",
    ),
    schema={"oneOf": [{"required": ["activation"]}, {"required": ["activations"]}]},
)

INIT = Table(
    "init",
    "The starting weights. Each method reads its own keys; the others keep their defaults.",
    (
        Key("method", "str", "uniform", "how the weights are made", choices=INIT_METHODS, style="one of"),
        Key("low", "number", -1.0, "uniform: the lowest weight (below high)"),
        Key("high", "number", 1.0, "uniform: the highest weight (above low)"),
        Key("mean", "number", 0.0, "normal: the mean"),
        Key("std", "number", 1.0, "normal: the standard deviation, >= 0"),
        Key("value", "number", None, 'constant: every weight (required with method = "constant")'),
        Key("bias_value", "number", 0.0, "every bias, for every method but explicit"),
        Key("seed", "int", 0, "the seed of the random weights", range=_SEED),
        Key(
            "weights",
            "custom",
            None,
            "explicit: one matrix a non-input layer, n_l rows of n_{l-1} numbers (required)",
            only=_only("method", "explicit"),
            shown_type="list of matrices",
            schema={"type": "array", "items": _ROWS},
        ),
        Key(
            "biases",
            "custom",
            None,
            "explicit: one list of n_l numbers a non-input layer (required when [network] bias = true)",
            only=_only("method", "explicit"),
            shown_type="list of lists of numbers",
            schema=_ROWS,
        ),
        Key(
            "decimals",
            "int",
            None,
            "drawn weights rounded to this many decimals, for arithmetic by hand (not with explicit)",
            range=Range(0, MAX_DECIMALS, text=f"0 to {MAX_DECIMALS}"),
        ),
    ),
    required=False,
    rules=(
        "`uniform`: `low` < `high`. `normal`: `std` >= 0. `constant`: `value` is required.",
        "`xavier`: uniform(±√(6 / (n_in + n_out))); `he`: normal(0, √(2 / n_in)).",
        "`explicit`: `weights` is required, one matrix of n_l rows of n_{l-1} numbers a non-input layer; "
        "`biases` is required when `[network] bias = true` and refused when it is false; `bias_value` is "
        "refused, and so is `decimals`. Other methods refuse `weights` and `biases`.",
    ),
    schema={
        "allOf": [
            _when("method", "constant", {"required": ["value"]}),
            _when("method", "normal", {"properties": {"std": {"minimum": 0}}}),
            _when("method", "explicit", {"required": ["weights"]}),
            _when("method", "explicit", {"not": {"required": ["bias_value"]}}),
            _when("method", "explicit", {"not": {"required": ["decimals"]}}),
        ]
    },
)

DATA = Table(
    "data",
    "The training set, from one source: inputs and targets, a generator, or a CSV file.",
    (
        Key(
            "inputs",
            "custom",
            None,
            f"N rows of n_0 finite numbers (at most {MAX_SAMPLES:,} rows); with targets",
            shown_type="list of lists of numbers",
            schema={"type": "array", "items": {"type": "array", "items": _NUMBERS}, "minItems": 1},
        ),
        Key(
            "targets",
            "custom",
            None,
            "N rows of n_L finite numbers (a flat list when n_L = 1); with inputs",
            shown_type="list of lists of numbers",
            schema={"type": "array", "minItems": 1},
        ),
        Key(
            "input_names",
            "custom",
            None,
            "a name for each input node, shown on screen",
            shown_type="list of strings",
            schema=_STRINGS,
        ),
        Key(
            "output_names",
            "custom",
            None,
            "a name for each output node, shown on screen",
            shown_type="list of strings",
            schema=_STRINGS,
        ),
        Key("generator", "str", None, "draw the data from a generator", choices=GENERATORS, hint=False),
        Key(
            "samples",
            "int",
            200,
            "generator: how many points",
            range=Range(1, MAX_SAMPLES),
            only=_only("generator", *GENERATORS),
        ),
        Key(
            "noise",
            "number",
            0.0,
            "generator: the standard deviation of the noise",
            range=_SCALE,
            only=_only("generator", *GENERATORS),
        ),
        Key("seed", "int", 0, "the seed of generated points and of the test set's draw", range=_SEED),
        Key(
            "spread",
            "number",
            1.0,
            "blobs: the standard deviation of each cluster",
            range=_SCALE,
            only=_only("generator", "blobs"),
        ),
        Key(
            "centers",
            "number",
            3.0,
            "blobs: the cluster centres are drawn from [-centers, centers]",
            range=_SCALE,
            only=_only("generator", "blobs"),
        ),
        Key("csv", "str", None, "read the data from this CSV file (relative to the scenario file)"),
        Key(
            "target_columns",
            "custom",
            None,
            "csv: the columns that are targets (required with csv)",
            only=_only("csv"),
            shown_type="list of strings",
            schema=_COLUMNS,
        ),
        Key(
            "input_columns",
            "custom",
            None,
            "csv: the columns that are inputs (default: every other column)",
            only=_only("csv"),
            shown_type="list of strings",
            schema=_COLUMNS,
        ),
        Key(
            "one_hot",
            "custom",
            None,
            "csv: class-label columns, made one 0/1 column a class",
            only=_only("csv"),
            shown_type="list of strings",
            schema=_COLUMNS,
        ),
        Key("standardize", "bool", False, "scale every input column to mean 0, standard deviation 1"),
        Key(
            "test_fraction",
            "number",
            0.0,
            "the fraction of the samples held out as a test set",
            range=Range(0, 1, high_open=True, text=">= 0 and < 1"),
        ),
        Key(
            "features",
            "custom",
            None,
            "the network's inputs as functions of the raw inputs x1, x2, ...: one term an input node",
            shown_type="list of strings",
            schema={"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_NODES},
        ),
    ),
    rules=(
        "One source: `inputs` with `targets`, or `generator`, or `csv` with `target_columns`.",
        "`inputs`: N rows of n_0 numbers; `targets`: N rows of n_L numbers, all finite.",
        f"A generator must fit the network: {', '.join(g for g in GENERATORS if g != 'blobs')} make points "
        "of a plane (2 inputs); `blobs` makes one cluster an output node (2 or more).",
        "`bce` needs targets in [0, 1]; `cross_entropy` needs each target row to sum to 1, none negative.",
        "`input_names` and `output_names`: one name a node, each name used once.",
        "`test_fraction` must leave at least one sample for each of the two sets; `seed` draws them.",
        f"`features`: each term is one of {FEATURE_GRAMMAR}, each given once; there are as many as "
        "the first entry of `[network] layers`. The data then holds the raw inputs x1..xn (n: the highest "
        "index a term names), which `standardize` and `test_fraction` work on; `input_names` default to "
        "the terms.",
    ),
    schema={
        "anyOf": [{"required": ["inputs"]}, {"required": ["generator"]}, {"required": ["csv"]}],
        "allOf": [
            _not_both("inputs", "generator"),
            _not_both("inputs", "csv"),
            _not_both("generator", "csv"),
            _not_both("targets", "generator"),
            _not_both("targets", "csv"),
            {"anyOf": [{"not": {"required": ["inputs"]}}, {"required": ["targets"]}]},
            {"anyOf": [{"not": {"required": ["targets"]}}, {"required": ["inputs"]}]},
        ],
    },
)

TRAINING = Table(
    "training",
    "How the weights are updated, and when a run stops by itself.",
    (
        Key("loss", "str", REQUIRED, "the loss of one sample", choices=tuple(LOSS_OUTPUTS)),
        Key("learning_rate", "number", REQUIRED, "the step size η", range=Range(0, low_open=True)),
        Key(
            "batch",
            "custom",
            "full",
            '"full" (every sample a step), "sample" (one a step) or a batch size',
            choices=BATCH_WORDS,
            shown_type="string or integer",
            range=Range(1),
            schema={"oneOf": [{"enum": list(BATCH_WORDS)}, {"type": "integer", "minimum": 1}]},
        ),
        Key("shuffle", "bool", False, "draw the order of the samples anew each epoch"),
        Key("seed", "int", 0, "the seed of the shuffled order", range=_SEED),
        Key("update_biases", "bool", True, "false keeps the biases at their starting values"),
        Key("max_steps", "int", 1000, "where a run stops by itself", range=Range(1)),
        Key(
            "target_loss",
            "number",
            None,
            "a run also stops once the training-set loss is below it",
            range=_NOT_NEGATIVE,
        ),
        Key(
            "target_accuracy",
            "number",
            None,
            "a classifier's run also stops once the training-set accuracy reaches it (at or over)",
            range=Range(0, 1, low_open=True, text="> 0 and <= 1"),
        ),
        Key(
            "evaluate_every",
            "int",
            1,
            "the training- and test-set losses after every K-th step only (and the last one)",
            range=Range(1),
        ),
        Key(
            "error_split",
            "str",
            "gradient",
            "gradient: backpropagated deltas; proportional: the error split in proportion to the weights",
            choices=ERROR_SPLITS,
            style="or",
        ),
        Key("l1", "number", 0.0, "adds l1 · Σ|w| to the loss (weights, not biases)", range=_NOT_NEGATIVE),
        Key("l2", "number", 0.0, "adds l2/2 · Σw² to the loss (weights, not biases)", range=_NOT_NEGATIVE),
        Key("optimizer", "str", "gd", "gd, momentum or adam", choices=tuple(OPTIMIZER_PARAMS)),
        Key(
            "momentum",
            "number",
            0.9,
            "momentum: v ← momentum · v + ∂L/∂W",
            range=_DECAY,
            only=_only("optimizer", "momentum"),
        ),
        Key("beta1", "number", 0.9, "adam: the decay of the mean of g", range=_DECAY, only=_ADAM),
        Key("beta2", "number", 0.999, "adam: the decay of the mean of g²", range=_DECAY, only=_ADAM),
        Key(
            "epsilon",
            "number",
            1e-8,
            "adam: added to √v̂",
            range=Range(0, low_open=True),
            only=_ADAM,
        ),
        Key(
            "schedule",
            "str",
            "constant",
            "how the rate of each step follows from learning_rate (the formulas: docs/maths.md)",
            choices=SCHEDULES,
        ),
        Key(
            "step_factor",
            "number",
            0.5,
            "step: the rate is multiplied by this every step_every steps",
            range=_POSITIVE,
            only=_only("schedule", "step"),
        ),
        Key(
            "step_every",
            "int",
            100,
            "step: the steps between two multiplications by step_factor",
            range=Range(1),
            only=_only("schedule", "step"),
        ),
        Key(
            "gamma",
            "number",
            0.99,
            "exponential: the rate is multiplied by this every step",
            range=_POSITIVE,
            only=_only("schedule", "exponential"),
        ),
        Key(
            "cosine_period",
            "int",
            None,
            "cosine: the steps from learning_rate down to min_learning_rate, then again (default max_steps)",
            range=Range(1),
            only=_only("schedule", "cosine"),
        ),
        Key(
            "min_learning_rate",
            "number",
            0.0,
            "cosine: the lowest rate, at most learning_rate",
            range=_NOT_NEGATIVE,
            only=_only("schedule", "cosine"),
        ),
    ),
    rules=(
        '`loss = "bce"` needs a sigmoid output layer, `cross_entropy` a softmax one, and a softmax output '
        "layer needs `cross_entropy`.",
        '`momentum` goes with `optimizer = "momentum"` only; `beta1`, `beta2`, `epsilon` with '
        '`optimizer = "adam"` only.',
        '`step_factor` and `step_every` go with `schedule = "step"` only, `gamma` with `"exponential"`, '
        '`cosine_period` and `min_learning_rate` with `"cosine"`; `min_learning_rate` <= `learning_rate`.',
    ),
)

DISPLAY = Table(
    "display",
    "How the app shows the run.",
    (
        Key(
            "notation",
            "str",
            DEFAULT_NOTATION,
            "the names the app first uses for z, a, δ, W and η (v switches)",
            choices=NOTATIONS,
        ),
        Key(
            "digits",
            "int",
            None,
            "each step also done by hand to this many significant digits, shown beside the exact one",
            range=Range(1, MAX_DIGITS, text=f"1 to {MAX_DIGITS} (significant digits)"),
        ),
        Key(
            "palette",
            "str",
            PALETTES[0],
            "the app's colours: colorblind has no red/green pair, its signs blue and orange (C switches)",
            choices=PALETTES,
        ),
    ),
    required=False,
)

FORMAT: tuple[Table, ...] = (SCENARIO, NETWORK, INIT, DATA, TRAINING, DISPLAY)

# every table and key of format 1; anything else is a typo and is refused
KEYS: dict[str, tuple[str, ...]] = {table.name: table.names() for table in FORMAT}
