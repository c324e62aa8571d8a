"""Where a scenario's data comes from: inline rows, a generator, or (see csv_source) a CSV file.

The [data] table gives exactly one source: ``inputs``/``targets``, ``generator`` or ``csv``.
Each source checks its own keys against the network and reports problems through the
scenario reader, so that one ``--check`` lists them all. Nothing here imports numpy: a
generator is checked and described (``Drawn``); its points are drawn when the arrays are made
(scenario/arrays.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..engine.names import ALIASES, REGRESSION
from .declare import read_key
from .format_v1 import DATA, MAX_SAMPLES, MAX_SCALE

if TYPE_CHECKING:
    from .problems import Reader

SOURCES = ("inputs", "generator", "csv")  # "inputs" stands for inputs + targets
# keys that belong to one source only: given with another, they are errors
SOURCE_KEYS = {
    "inputs": ("inputs", "targets"),
    # the key that names the source, then those declared only with it (scenario/format_v1.py)
    **{src: (src, *(k.name for k in DATA if k.only and k.only[0] == src)) for src in ("generator", "csv")},
}
DRAWN_BOUND = 1e8  # a generated coordinate is smaller than this (Drawn), whatever its keys
MAX_VALUES = 10_000_000  # samples x (input + output nodes) of a generated set: 80 MB of float64
__all__ = ["MAX_SAMPLES", "MAX_SCALE", "MAX_VALUES"]  # the limits of the data's keys: scenario/format_v1.py


def source_of(r: Reader, t: dict[str, Any]) -> str | None:
    """Which source the table uses; a problem (and None) when it names none or several."""
    given = [s for s in SOURCES if s in t or (s == "inputs" and "targets" in t)]
    if len(given) > 1:
        a, b = given[0], given[1]
        keys = {"inputs": "inputs/targets", "generator": "generator", "csv": "csv"}
        r.problem("data", b, f"give one data source: {keys[a]} or {keys[b]}, not both")
        return None
    source = given[0] if given else "inputs"
    for other in ("generator", "csv"):
        for key in SOURCE_KEYS[other][1:]:
            if other != source and key in t:
                r.problem("data", key, f"only used with {other} = ..., and this file has no {other}")
    return source


class Drawn(NamedTuple):
    """A generated set as the file describes it: engine/datasets.generate's arguments. Its
    points are drawn from ``seed`` by scenario/arrays.py, X (samples, n_in), T (samples, n_out);
    every coordinate is below DRAWN_BOUND in size (the plane's 6 and centers, spread and noise of
    at most MAX_SCALE times a normal draw, which numpy's sampler keeps below 40)."""

    name: str
    samples: int
    noise: float
    seed: int
    n_in: int
    n_out: int
    negative: float  # the target of class 0 with one output node: -1 for a tanh output, else 0
    spread: float
    centers: float

    @property
    def classes(self) -> bool:
        """Whether the targets are classes (0/1 or one-hot rows; -1/1 with ``negative``)."""
        return self.name not in REGRESSION


def generated(
    r: Reader,
    t: dict[str, Any],
    layers: tuple[int, ...],
    activations: tuple[str, ...],
    loss: str | None,
    seed: int | None,
) -> tuple[Drawn, dict[str, Any]] | None:
    """The set of [data] generator = "..." to draw from ``seed`` (the [data] seed, None after a
    problem with it), and the keys to record."""
    name = read_key(r, t, "data", DATA["generator"])
    samples = read_key(r, t, "data", DATA["samples"])
    noise, spread, centers = (_scale(r, t, key) for key in ("noise", "spread", "centers"))
    for key in ("spread", "centers"):
        if key in t and name is not None and name != "blobs":
            r.problem("data", key, f'only used with generator = "blobs", got {name!r}')
    if name is None or not layers or not activations:
        return None
    n_in, n_out = layers[0], layers[-1]
    out_act = ALIASES.get(activations[-1], activations[-1])
    fits = _fits(name, n_in, n_out, out_act, loss)
    if fits:
        r.problem("data", "generator", fits)
        return None
    if samples is not None and samples * (n_in + n_out) > MAX_VALUES:
        numbers = f"{n_in} input{'s' if n_in > 1 else ''} and {n_out} target{'s' if n_out > 1 else ''}"
        too_many = f"{samples:,} samples of {numbers} is more than {MAX_VALUES:,} numbers"
        r.problem("data", "samples", too_many)
        return None
    if samples is None or noise is None or seed is None or spread is None or centers is None:
        return None
    negative = -1.0 if out_act == "tanh" and n_out == 1 else 0.0
    drawn = Drawn(name, samples, noise, seed, n_in, n_out, negative, spread, centers)
    keys: dict[str, Any] = {"generator": name, "samples": samples, "noise": noise, "seed": seed}
    if name == "blobs":
        keys |= {"spread": spread, "centers": centers}
    return drawn, keys


def _scale(r: Reader, t: dict[str, Any], key: str) -> float | None:
    """[data] noise, spread or centers: a standard deviation or a range, from 0 to MAX_SCALE
    (so that no point drawn from it can overflow, nor its square); None after a problem."""
    v = read_key(r, t, "data", DATA[key])
    return None if v is None else v + 0.0  # -0.0 as 0.0: numpy's uniform(0.0, -0.0) refuses


def _fits(name: str, n_in: int, n_out: int, out_act: str, loss: str | None) -> str | None:
    """Why generator ``name`` does not fit the network, or None when it does."""
    if name == "blobs":
        if n_out < 2:
            return f"blobs makes one cluster per output node and needs at least 2, the network has {n_out}"
        return None
    if n_in != 2:
        return f"{name} makes points in a plane: the network needs 2 input nodes, it has {n_in}"
    if name in REGRESSION:
        if n_out != 1:
            return f"{name} makes one target per point: the network needs 1 output node, it has {n_out}"
        if loss in ("bce", "cross_entropy"):
            return f"{name} is regression, with targets in [-1, 1]: use mse, sse or half_sse, not {loss}"
        return None
    if n_out > 2:
        return f"{name} has 2 classes: the network needs 1 output node (or 2, one-hot), it has {n_out}"
    if n_out == 1 and out_act == "softmax":
        return f"{name} with a softmax output needs 2 output nodes (one-hot), the network has 1"
    return None
