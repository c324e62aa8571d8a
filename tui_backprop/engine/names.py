"""The engine's names, without its maths: what a scenario file may call an activation, a loss, an
optimiser or a generated data set.

The scenario reader checks a file against these names before any array exists, so that
``backprop-tui --check`` needs no numpy (docs/cli.md); this module imports nothing. The engine's
tables are built on them (activations.py, losses.py, optimizers.py, datasets.py), and
tests/test_scenario_check.py checks that each table has exactly the names given here.
"""

from __future__ import annotations

# engine/activations.py: ACTIVATIONS, in that order; ALIASES are other names for them
ACTIVATION_NAMES = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "identity",
    "elu",
    "softplus",
    "gelu",
    "swish",
    "sine",
    "softmax",
)
ALIASES = {"linear": "identity"}

# engine/losses.py: LOSSES, in that order, and the output activation a loss requires (None: any)
LOSS_OUTPUTS: dict[str, str | None] = {
    "mse": None,
    "sse": None,
    "half_sse": None,
    "bce": "sigmoid",
    "cross_entropy": "softmax",
}

# engine/accuracy.py: the outputs and losses that make a classifier, and the targets they need:
# "0/1" (every target 0 or 1) or "one-hot" (every row 0 but for a single 1)
CLASSIFIER_TARGETS: dict[tuple[str, str], str] = {
    ("sigmoid", "bce"): "0/1",
    ("sigmoid", "mse"): "0/1",
    ("softmax", "cross_entropy"): "one-hot",
}


def classifier_targets(output_activation: str, loss: str | None) -> str | None:
    """The targets that make a classifier of this output activation and loss: "0/1",
    "one-hot", or None (no targets do)."""
    return None if loss is None else CLASSIFIER_TARGETS.get((output_activation, loss))


# engine/optimizers.py: each optimiser's own parameters, the [training] keys that only it accepts
OPTIMIZER_PARAMS: dict[str, tuple[str, ...]] = {
    "gd": (),
    "momentum": ("momentum",),
    "adam": ("beta1", "beta2", "epsilon"),
}

# engine/datasets.py: the sets of points in the plane (two inputs), then blobs (any dimension)
PLANE_SETS = ("xor", "circle", "gauss", "spiral", "moons", "plane")
REGRESSION = ("plane",)  # a target per point, (x1 + x2) / 12; the others are two classes
GENERATORS = (*PLANE_SETS, "blobs")
