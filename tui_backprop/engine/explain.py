"""The terms behind one number of a StepRecord, for the explain panel.

Every product or sum the explain panel prints is formed here from values the record holds,
so the app only formats. Indices follow DESIGN section 3: layer l = 1..L, W[l][j, i] is the
weight from node i of layer l-1 into node j of layer l, k a sample of the batch.

    weight_terms  dL/dw_ji = 1/B sum_k delta[l][k, j] * a[l-1][k, i]  and its update
    node_terms    z_j = sum_i w_ji a_i + b_j,  a_j = f(z_j),  delta_j (output or hidden)
    loss_terms    l_k = loss(y_k, t_k) and the batch mean

Each line of arithmetic is an ``Equation``; ``Equation.digits`` says how many significant
digits its operands need so that the arithmetic on the printed operands gives the printed
result (a result is printed to 4 digits, or to as many as a later line uses it with).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .activations import get_activation
from .losses import get_loss
from .record import StepRecord
from .split import proportional_errors

Array = np.ndarray

MIN_DIGITS = 4
MAX_DIGITS = 17  # repr precision: every float prints exactly


def rounded(x: float, digits: int) -> float:
    """``x`` to ``digits`` significant digits, as printed with ``{x:.{digits}g}``."""
    return float(f"{x:.{digits}g}")


@dataclass(frozen=True)
class Equation:
    """``result`` = ``fn(*operands)``, as the record computed it (fn restates the arithmetic)."""

    fn: Callable[..., float]
    operands: tuple[float, ...]
    result: float

    def holds(self, digits: int, result_digits: int) -> bool:
        """Whether fn of the operands printed to ``digits`` prints as the result does."""
        shown = [rounded(x, digits) for x in self.operands]
        try:
            value = float(self.fn(*shown))
        except (ArithmeticError, ValueError):
            return False
        return f"{value:.{result_digits}g}" == f"{self.result:.{result_digits}g}"

    def digits(self, result_digits: int = MIN_DIGITS) -> int:
        """The fewest significant digits (>= result_digits) to print the operands with, so that
        the arithmetic on them gives the result as printed to ``result_digits``."""
        if not np.isfinite([*self.operands, self.result]).all():
            return result_digits
        for d in range(result_digits, MAX_DIGITS + 1):
            if self.holds(d, result_digits):
                return d
        return MAX_DIGITS


def _product(*xs: float) -> float:
    out = 1.0
    for x in xs:
        out *= x
    return out


def _sum(*xs: float) -> float:
    return float(sum(xs))


def _mean(*xs: float) -> float:
    return float(sum(xs)) / len(xs)


def _step(w: float, lr: float, g: float) -> float:
    return w - lr * g


def _square_of_difference(y: float, t: float) -> float:
    return (y - t) * (y - t)


def _products(xs: Array, ys: Array, ps: Array) -> tuple[Equation, ...]:
    return tuple(
        Equation(_product, (float(x), float(y)), float(p)) for x, y, p in zip(xs, ys, ps, strict=True)
    )


def _floats(xs: Array) -> tuple[float, ...]:
    return tuple(float(x) for x in xs)


# -- a weight ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightTerms:
    """How grad_w[l][j, i] (grad_b[l][j] when ``bias``) and the update of that weight came about.

    Equations: ``sample_eqs`` delta_k * a_k = product_k for each sample; ``sum_eq`` the sum of
    the products; ``mean_eq`` sum / B = grad (None for one sample); ``update_eq``
    w - lr * grad = w_after (None when the change is not the plain gradient step)."""

    layer: int
    j: int
    i: int
    bias: bool
    delta: tuple[float, ...]  # delta[l][k, j] for each sample k of the batch
    a: tuple[float, ...]  # a[l-1][k, i] for each k (1.0 for a bias)
    products: tuple[float, ...]  # delta * a for each k: each sample's contribution
    total: float  # sum of the products
    grad: float  # the record's grad_w[l][j, i]: their mean
    w_before: float
    w_after: float
    change: float  # w_after - w_before, the change applied
    learning_rate: float
    sample_eqs: tuple[Equation, ...]
    sum_eq: Equation
    mean_eq: Equation | None
    update_eq: Equation | None
    state: Mapping[str, float] = field(default_factory=dict)  # optimiser state of this weight
    update: float | None = None  # proportional mode: the update the record applied
    data_grad: float = 0.0  # the mean of the products: the loss's own gradient
    penalty_grad: float = 0.0  # grad - data_grad: the l1/l2 penalty's gradient (weights only)
    velocity_eq: Equation | None = None  # momentum: w - lr * velocity = w_after

    @property
    def plain_step(self) -> bool:
        """Whether the change is exactly -lr * grad (plain gradient descent)."""
        return self.update_eq is not None


def weight_terms(record: StepRecord, layer: int, j: int, i: int) -> WeightTerms:
    """The terms of the weight W[layer][j, i]; i == n_{layer-1} is the bias b[layer][j]."""
    lr = record.layers[layer - 1]
    a_prev = record.x if layer == 1 else record.layers[layer - 2].a
    bias = i == a_prev.shape[1]
    delta = lr.delta[:, j]
    a = np.ones_like(delta) if bias else a_prev[:, i]
    products = delta * a
    grad = float(lr.grad_b[j] if bias else lr.grad_w[j, i])
    w0 = float(lr.b_before[j] if bias else lr.w_before[j, i])
    w1 = float(lr.b[j] if bias else lr.w[j, i])
    total = float(np.add.reduce(products))
    rate = float(record.learning_rate)
    B = len(products)
    end = "_b" if bias else "_w"
    state = {
        name.removesuffix(end): float(v[j] if bias else v[j, i])
        for name, v in lr.state.items()
        if name.endswith(end)
    }
    update = lr.update_b if bias else lr.update_w
    plain = update is None and not state and w1 == w0 - rate * grad  # gd: no optimiser state
    data_grad = total / B
    # grad_w holds the penalty's gradient too (l1, l2): what the mean of the products lacks
    penalised = not bias and record.penalty != 0.0
    penalty_grad = grad - data_grad if penalised else 0.0
    velocity = state.get("velocity")
    momentum = velocity is not None and update is None and w1 == w0 - rate * velocity
    return WeightTerms(
        layer=layer,
        j=j,
        i=i,
        bias=bias,
        delta=_floats(delta),
        a=_floats(a),
        products=_floats(products),
        total=total,
        grad=grad,
        w_before=w0,
        w_after=w1,
        change=w1 - w0,
        learning_rate=rate,
        sample_eqs=_products(delta, a, products),
        sum_eq=Equation(_sum, _floats(products), total),
        mean_eq=Equation(lambda s: s / B, (total,), data_grad if penalised else grad) if B > 1 else None,
        update_eq=Equation(_step, (w0, rate, grad), w1) if plain else None,
        velocity_eq=Equation(_step, (w0, rate, velocity), w1) if momentum and velocity is not None else None,
        data_grad=data_grad,
        penalty_grad=penalty_grad,
        state=state,
        update=None if update is None else float(update[j] if bias else update[j, i]),
    )


# -- a node ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeTerms:
    """How z, a and delta of node j of layer l came about for sample k (layer 0: an input).

    Equations: ``term_eqs`` w_ji * a_i; ``z_eq`` the sum of the terms and b_j = z; ``a_eq``
    f(z) = a (None for softmax); ``delta_eq`` dl/dy * f'(z) = delta at the output (or the
    simplified y - t), sum * f'(z) = delta in a hidden layer, whose ``down_eqs`` are the terms
    w_mj * delta_m and ``down_sum_eq`` their sum."""

    layer: int
    j: int
    k: int
    activation: str
    formula: str = ""  # f(z) and f'(z) as Activation writes them (e.g. "1 / (1 + e^-z)", "a (1 - a)")
    grad_formula: str = ""
    weights: tuple[float, ...] = ()  # w_ji, i over layer l-1 (W before the update)
    inputs: tuple[float, ...] = ()  # a[l-1][k, i]
    products: tuple[float, ...] = ()  # w_ji * a_i
    b: float | None = None  # b_j, None without biases
    z: float = 0.0
    a: float = 0.0
    delta: float = 0.0
    term_eqs: tuple[Equation, ...] = ()
    z_eq: Equation | None = None
    a_eq: Equation | None = None
    delta_eq: Equation | None = None
    # the output layer: y, t, dl/dy and f'(z) (dl_dy None where the delta is simplified:
    # softmax with cross_entropy, sigmoid with bce)
    output: bool = False
    y: float = 0.0
    t: float = 0.0
    dl_dy: float | None = None
    fprime: float | None = None
    outputs: int = 1  # n_L, for the simplified bce delta (y - t) / n
    # a hidden layer: w_mj of W[l+1] (before the update) and delta[l+1][k, m], m over layer l+1
    down_weights: tuple[float, ...] = ()
    down_deltas: tuple[float, ...] = ()
    down_products: tuple[float, ...] = ()
    down_sum: float = 0.0
    down_eqs: tuple[Equation, ...] = ()
    down_sum_eq: Equation | None = None


def node_terms(record: StepRecord, loss: str, layer: int, j: int, k: int) -> NodeTerms:
    """The terms of node j of ``layer`` for sample k of the batch (``loss``: the scenario's loss)."""
    if layer == 0:
        x = float(record.x[k, j])
        return NodeTerms(0, j, k, "input", z=x, a=x)
    lr = record.layers[layer - 1]
    a_prev = record.x[k] if layer == 1 else record.layers[layer - 2].a[k]
    w = lr.w_before[j]
    products = w * a_prev
    b = float(lr.b_before[j]) if lr.b_before.size else None
    z, a, delta = float(lr.z[k, j]), float(lr.a[k, j]), float(lr.delta[k, j])
    act = get_activation(lr.activation)

    def f(v: float) -> float:
        return float(act.fn(np.array([[v]]))[0, 0])

    node = NodeTerms(
        layer=layer,
        j=j,
        k=k,
        activation=lr.activation,
        formula=act.formula,
        grad_formula=act.grad_formula,
        weights=_floats(w),
        inputs=_floats(a_prev),
        products=_floats(products),
        b=b,
        z=z,
        a=a,
        delta=delta,
        term_eqs=_products(w, a_prev, products),
        z_eq=Equation(_sum, _floats(products) + ((b,) if b is not None else ()), z),
        a_eq=None if act.name == "softmax" else Equation(f, (z,), a),
    )
    zk, ak = lr.z[k : k + 1], lr.a[k : k + 1]
    if layer == len(record.layers):
        y, t, n = a, float(record.t[k, j]), lr.a.shape[1]
        out = replace(node, output=True, y=y, t=t, outputs=n)
        if (loss, act.name) == ("bce", "sigmoid"):
            return replace(out, delta_eq=Equation(lambda y, t: (y - t) / n, (y, t), delta))
        if (loss, act.name) == ("cross_entropy", "softmax"):
            return replace(out, delta_eq=Equation(lambda y, t: y - t, (y, t), delta))
        dl_dy = float(get_loss(loss).dy(ak, record.t[k : k + 1])[0, j])
        fprime = float(act.grad(zk, ak)[0, j])
        return replace(out, dl_dy=dl_dy, fprime=fprime, delta_eq=Equation(_product, (dl_dy, fprime), delta))
    nxt = record.layers[layer]
    down_w, down_d = nxt.w_before[:, j], nxt.delta[k]
    down_p = down_w * down_d
    down_sum = float(np.add.reduce(down_p))
    fprime = float(act.grad(zk, ak)[0, j])
    return replace(
        node,
        fprime=fprime,
        down_weights=_floats(down_w),
        down_deltas=_floats(down_d),
        down_products=_floats(down_p),
        down_sum=down_sum,
        down_eqs=_products(down_w, down_d, down_p),
        down_sum_eq=Equation(_sum, _floats(down_p), down_sum),
        delta_eq=Equation(_product, (down_sum, fprime), delta),
    )


# -- the loss ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossTerms:
    """The loss of sample k, l(y_k, t_k), its terms, and the batch loss (the mean over samples).

    Equations: ``term_eqs`` (y_j - t_j)^2 and ``loss_eq`` c * their sum = l (mse, sse,
    half_sse only); ``mean_eq`` the mean of the samples' losses = the batch loss."""

    loss: str
    k: int
    y: tuple[float, ...]
    t: tuple[float, ...]
    terms: tuple[float, ...]  # (y_j - t_j)^2 for mse, sse, half_sse; empty for bce, cross_entropy
    sample_loss: float
    sample_losses: tuple[float, ...]  # l of every sample of the batch
    batch_loss: float
    term_eqs: tuple[Equation, ...] = ()
    loss_eq: Equation | None = None
    mean_eq: Equation | None = None


_SCALE: dict[str, Callable[[int], float]] = {
    "mse": lambda n: 1.0 / n,
    "sse": lambda n: 1.0,
    "half_sse": lambda n: 0.5,
}


def loss_terms(record: StepRecord, loss: str, k: int) -> LossTerms:
    y, t = record.layers[-1].a[k], record.t[k]
    sample = float(record.sample_losses[k])
    losses = _floats(record.sample_losses)
    terms: tuple[float, ...] = ()
    term_eqs: tuple[Equation, ...] = ()
    loss_eq = None
    if loss in _SCALE:
        e = y - t
        terms = _floats(e * e)
        term_eqs = tuple(
            Equation(_square_of_difference, (float(p), float(q)), s)
            for p, q, s in zip(y, t, terms, strict=True)
        )
        c = _SCALE[loss](len(y))
        loss_eq = Equation(lambda *s: c * sum(s), terms, sample)
    return LossTerms(
        loss=loss,
        k=k,
        y=_floats(y),
        t=_floats(t),
        terms=terms,
        sample_loss=sample,
        sample_losses=losses,
        batch_loss=float(record.loss),
        term_eqs=term_eqs,
        loss_eq=loss_eq,
        mean_eq=Equation(_mean, losses, float(record.loss)) if len(losses) > 1 else None,
    )


# -- the proportional error split ----------------------------------------------------------------


def weight_shares(W: Array) -> Array:
    """w_mj / sum_i w_mi for W (n_l, n_{l-1}): each weight's share of its row (inf or nan for a
    row summing to 0)."""
    with np.errstate(all="ignore"):
        return W / W.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class SplitTerms:
    """The proportional split e_j of node j of a hidden layer for one sample: the errors e_m of
    the layer after it, the weights w_mj, their rows' sums sum_i w_mi, each term
    e_m * w_mj / sum_i w_mi (as a learner writes it) and e_j, their sum. ``shares``: w_mj / sum."""

    errors: tuple[float, ...]
    weights: tuple[float, ...]
    sums: tuple[float, ...]
    shares: tuple[float, ...]
    products: tuple[float, ...]
    e: float
    term_eqs: tuple[Equation, ...]  # e_m * w_mj / sum_i w_mi = product_m
    e_eq: Equation


def _share_of(e: float, w: float, total: float) -> float:
    return e * w / total


def split_terms(record: StepRecord, layer: int, j: int, k: int, errors: Sequence[Array]) -> SplitTerms:
    """The split of node j of hidden ``layer`` for sample k, from ``errors`` (one (B, n_l) array
    a layer, l = 1..L, as ``split.proportional_errors`` returns them)."""
    W = record.layers[layer].w_before
    shares = weight_shares(W)[:, j]
    with np.errstate(all="ignore"):
        sums = W.sum(axis=1)
    e_next = errors[layer][k]
    products = e_next * shares
    return SplitTerms(
        errors=_floats(e_next),
        weights=_floats(W[:, j]),
        sums=_floats(sums),
        shares=_floats(shares),
        products=_floats(products),
        e=float(errors[layer - 1][k, j]),
        term_eqs=tuple(
            Equation(_share_of, (float(e), float(w), float(t)), float(p))
            for e, w, t, p in zip(e_next, W[:, j], sums, products, strict=True)
        ),
        e_eq=Equation(_sum, _floats(products), float(errors[layer - 1][k, j])),
    )


def record_split(record: StepRecord) -> list[Array]:
    """The proportional errors e[1] .. e[L] of the record's batch, (B, n_l) each, e[L] = t - y:
    the ones the step trained with (error_split = "proportional"), or else the split of its
    weights before the update."""
    recorded = [lr.error for lr in record.layers]
    if all(e is not None for e in recorded):
        return recorded  # type: ignore[return-value]
    return proportional_errors([lr.w_before for lr in record.layers], record.t - record.layers[-1].a)


@dataclass(frozen=True)
class SplitStep:
    """The change error_split = "proportional" made to W[l][j, i] (b[l][j] when ``bias``):
    Δ = lr * 1/B sum_k s_k a_k with s = e * f'(z) (s = e for a softmax output), as applied."""

    mean: float  # 1/B sum_k s_k * a_k
    update: float  # the change the record applied
    eq: Equation  # lr * mean = update


def split_step(record: StepRecord, layer: int, j: int, i: int) -> SplitStep:
    lr = record.layers[layer - 1]
    if lr.error is None or lr.update_w is None or lr.update_b is None:
        raise ValueError("not a step of error_split = 'proportional'")
    a_prev = record.x if layer == 1 else record.layers[layer - 2].a
    bias = i == a_prev.shape[1]
    act = get_activation(lr.activation)
    e = lr.error[:, j]
    s = e if act.name == "softmax" else e * act.grad(lr.z, lr.a)[:, j]
    mean = float(np.mean(s if bias else s * a_prev[:, i]))
    update = float(lr.update_b[j] if bias else lr.update_w[j, i])
    return SplitStep(mean, update, Equation(_product, (float(record.learning_rate), mean), update))
