"""Diagnostics: what is going wrong in a step, read off the numbers the step computed.

``step_warnings`` looks at one step's LayerRecords (plus what only the Trainer knows: the
training set's pre-activations after the update, the best training loss before this step,
which layers started with every weight 0) and returns one Diagnostic per finding:

    saturated           sigmoid/tanh units whose slope f'(z) is below SATURATION x its
                        maximum (1/4 for sigmoid, 1 for tanh) for every sample of the batch
                        (not a sigmoid output under bce, whose delta y - t has no slope)
    dead_relu           relu units with z <= 0 for every sample of the training set, with
                        the weights after this step's update: they pass no gradient back
    identical_units     hidden units that are exact copies: the same incoming weights and
                        bias and the same outgoing weights (after the update); gradient
                        descent gives copies the same update, so they stay copies forever
    zero_init           a layer whose weights started all 0 and are still all 0 before
                        this step, in a network with hidden layers (one layer starting
                        at 0, such as a linear neuron, is ordinary regression)
    vanishing_gradient  |delta[1]| / |delta[L]| below VANISHING_RATIO (Frobenius norms over
    exploding_gradient  the batch), or above EXPLODING_RATIO
    loss_rising         the training loss after the update above LOSS_RISE_FACTOR x the
                        best one before this step, and above LOSS_RISE_FLOOR
    nonfinite           the step diverged: an inf or nan appeared
    loss_exploded       the step diverged with every number finite: the training loss after
                        the update is over the Trainer's DIVERGENCE_FACTOR x max(initial, 1)

Layers in a Diagnostic count from 1 (layer l is W[l]); ``nodes`` are 0-based indices into
the layer, as in the arrays, while the message counts nodes from 1 as the app's names do
(h1, h2, ...). The Trainer only calls this for steps it records, so run(record=False)
pays nothing for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .record import Diagnostic, LayerRecord, LossBlowUp, NonFinite

__all__ = ["KINDS", "Diagnostic", "step_warnings"]

Array = np.ndarray

KINDS = (
    "saturated",
    "dead_relu",
    "identical_units",
    "zero_init",
    "vanishing_gradient",
    "exploding_gradient",
    "loss_rising",
    "nonfinite",
    "loss_exploded",
)

SATURATION = 0.01  # a unit is saturated when f'(z) < 1% of f's largest slope, for every sample
MAX_SLOPE = {"sigmoid": 0.25, "tanh": 1.0}  # sigma'(0) = 1/4, tanh'(0) = 1
# sigma'(z) = 1 / (4 cosh^2(z/2)) and tanh'(z) = 1 / cosh^2(z) fall to SATURATION x their
# maximum at |z| = 2 acosh(10) = 5.99 and acosh(10) = 2.99: while every |z| of a layer is below
# (a little under) that, none of its units can be saturated and the slopes are not computed
_CALM_Z = {
    "sigmoid": 0.999 * 2 * math.acosh(SATURATION**-0.5),
    "tanh": 0.999 * math.acosh(SATURATION**-0.5),
}
# |delta[1]| / |delta[L]|: 1e-4 is the shrinkage of about seven sigmoid layers with unit
# weights (each multiplies by at most 1/4); 1e4 the growth of the mirror case. Deltas, not
# grad_w = delta.T a / B: a first-layer gradient is also 0 when the input is (sample (0, 0)
# of XOR), which says nothing about depth.
VANISHING_RATIO = 1e-4
EXPLODING_RATIO = 1e4
_VANISHING_SQ, _EXPLODING_SQ = VANISHING_RATIO**2, EXPLODING_RATIO**2  # for squared norms
LOSS_RISE_FACTOR = 10.0  # training loss this many times its best so far ...
LOSS_RISE_FLOOR = 1e-3  # ... and above this: a rise from 1e-9 to 1e-7 is not a problem

_max = np.maximum.reduce  # ndarray.max without its Python wrapper


def step_warnings(
    layers: Sequence[LayerRecord],
    train_loss: float,
    nonfinite: NonFinite | None,
    *,
    train_zs: Sequence[Array],
    best_train_loss: float,
    zero_init: Sequence[bool],
    output_slope: bool = True,
    blowup: LossBlowUp | None = None,
) -> tuple[Diagnostic, ...]:
    """Every warning of one step: the per-unit kinds layer by layer, then the others.

    layers: the step's LayerRecords, l = 1..L. train_zs: z[l] over the training set with
    the updated weights, (N, n_l) each; empty on a step that did not evaluate the training set
    ([training] evaluate_every), which then reports no dead_relu. best_train_loss: the lowest
    training loss before this step (the initial one included). zero_init: per layer, whether
    W[l] started all 0.
    output_slope: whether the output delta carries f'(z[L]); with bce it is y - t, and a
    saturated sigmoid output learns as fast as any, so it is not reported. nonfinite, blowup:
    why the step diverged, when it did (at most one of them is given).
    """
    # This runs on every recorded step, so each kind starts with a cheap test, done here, that
    # rules out the usual case; the function named after the kind finds the units.
    found: list[Diagnostic] = []
    L = len(layers)
    for l, layer in enumerate(layers, start=1):
        act = layer.activation
        if act in _CALM_Z:
            # a saturated unit has |z| beyond calm on every sample, the first one included:
            # one look at the first sample (a short list, no reduction) clears most layers
            if max(map(abs, layer.z[0].tolist())) > _CALM_Z[act] and (l < L or output_slope):
                found += saturated(l, layer)
        elif act == "relu" and train_zs:  # none on a step without the training-set loss
            found += dead_relu(l, train_zs[l - 1])
        # copies share their first incoming weight: exact, and no arithmetic
        if l < L and len(set(layer.w[:, 0].tolist())) < len(layer.w):
            found += identical_units(l, layer, layers[l])
    if L > 1:  # one layer starting at 0 is plain regression; with one layer, no ratio
        if True in zero_init:
            found += [
                _zero_init(l)
                for l in range(1, L + 1)
                if zero_init[l - 1] and not layers[l - 1].w_before.any()
            ]
        first, last = layers[0].delta, layers[-1].delta
        sq_first, sq_last = np.vdot(first, first).item(), np.vdot(last, last).item()  # squared norms
        if not _VANISHING_SQ * sq_last <= sq_first <= _EXPLODING_SQ * sq_last:
            found += gradient_ratio(layers)
    if nonfinite is not None:
        message = f"A number became inf or nan at {nonfinite}: the run diverged."
        found.append(Diagnostic("nonfinite", None, (), message))
    elif blowup is not None:  # loss_rising taken to the end: the run stops here
        why = str(blowup)
        message = f"{why[0].upper()}{why[1:]}: the run diverged."
        found.append(Diagnostic("loss_exploded", None, (), message))
    elif train_loss > LOSS_RISE_FACTOR * best_train_loss and train_loss > LOSS_RISE_FLOOR:
        message = (
            f"The training loss rose to {train_loss:.4g}, over {LOSS_RISE_FACTOR:g} times its best "
            f"({best_train_loss:.4g}): the learning rate may be too large."
        )
        found.append(Diagnostic("loss_rising", None, (), message))
    return tuple(found)


def saturated(l: int, layer: LayerRecord) -> list[Diagnostic]:
    """Sigmoid or tanh units whose slope is below SATURATION x its maximum on every sample."""
    slope = _max(_slope(layer), 0)  # (n,) the largest slope of each unit over the batch
    (nodes,) = (slope < SATURATION * MAX_SLOPE[layer.activation]).nonzero()
    if not nodes.size:
        return []
    message = (
        f"Layer {l}: {_units(nodes)} saturated ({layer.activation} slope below "
        f"{SATURATION:.0%} of its maximum on every sample): {_barely(nodes)}."
    )
    return [Diagnostic("saturated", l, _ints(nodes), message)]


def _slope(layer: LayerRecord) -> Array:
    a = layer.a
    return a * (1.0 - a) if layer.activation == "sigmoid" else 1.0 - a * a  # sigma', tanh'


def dead_relu(l: int, train_z: Array) -> list[Diagnostic]:
    """ReLU units with z <= 0 for every training sample (train_z: (N, n), after the update)."""
    (nodes,) = (_max(train_z, 0) <= 0.0).nonzero()
    if not nodes.size:
        return []
    message = (
        f"Layer {l}: ReLU {_units(nodes)} dead (z <= 0 for every training sample), "
        f"so no gradient passes through and {'its' if len(nodes) == 1 else 'their'} incoming "
        "weights no longer change."
    )
    return [Diagnostic("dead_relu", l, _ints(nodes), message)]


def identical_units(l: int, layer: LayerRecord, above: LayerRecord) -> list[Diagnostic]:
    """Groups of units of hidden layer l that are exact copies, after the update.

    Unit j is row j of W[l] with b[l][j] (what it computes) and column j of W[l+1] (where
    its value goes). Two units equal in all three get equal deltas and equal updates.
    """
    W = layer.w
    groups: dict[tuple[float, ...], list[int]] = {}
    b, W_next = layer.b, above.w
    for j in range(len(W)):
        key = tuple(W[j].tolist()) + tuple(b[j : j + 1].tolist()) + tuple(W_next[:, j].tolist())
        groups.setdefault(key, []).append(j)
    found = []
    for nodes in groups.values():
        if len(nodes) > 1:
            message = (
                f"Layer {l}: {_units(nodes)} exact copies (same weights in and out): they get "
                f"the same updates and will stay copies, doing the work of one unit."
            )
            found.append(Diagnostic("identical_units", l, tuple(nodes), message))
    return found


def _zero_init(l: int) -> Diagnostic:
    message = f"Layer {l}: every weight is still 0, as initialised, so its units ignore their inputs"
    if l > 1:
        message += f" and pass no error back to layer {l - 1}"
    return Diagnostic("zero_init", l, (), message + ".")


def gradient_ratio(layers: Sequence[LayerRecord]) -> list[Diagnostic]:
    """The first layer's delta against the last one's: vanishing or exploding across layers."""
    L = len(layers)
    if L < 2:
        return []
    first, last = layers[0].delta, layers[-1].delta
    sq_first, sq_last = float(np.vdot(first, first)), float(np.vdot(last, last))  # squared norms
    if not (sq_last > 0.0 and math.isfinite(sq_first) and math.isfinite(sq_last)):
        return []  # no error to pass back (a perfect fit), or a diverged step
    n_first, n_last = math.sqrt(sq_first), math.sqrt(sq_last)
    ratio = n_first / n_last
    if ratio < VANISHING_RATIO:
        kind, verb, effect = "vanishing_gradient", "shrinks", "layer 1 barely learns"
    elif ratio > EXPLODING_RATIO:
        kind, verb, effect = "exploding_gradient", "grows", "layer 1 takes huge steps"
    else:
        return []
    message = (
        f"The error signal {verb} from |delta| = {n_last:.3g} at layer {L} to {n_first:.3g} at "
        f"layer 1 (ratio {ratio:.2g}): {effect}."
    )
    return [Diagnostic(kind, 1, (), message)]


def _ints(nodes) -> tuple[int, ...]:
    return tuple(int(j) for j in nodes)


def _units(nodes) -> str:
    """'unit 2 is' or 'units 1, 2 and 3 are': 0-based indices named from 1."""
    names = [str(int(j) + 1) for j in nodes]
    if len(names) == 1:
        return f"unit {names[0]} is"
    return f"units {', '.join(names[:-1])} and {names[-1]} are"


def _barely(nodes) -> str:
    return "it barely learns" if len(nodes) == 1 else "they barely learn"
