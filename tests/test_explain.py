"""The explain panel's text (tui/panels/explain_text.py): every number it prints is checked against the
StepRecord's arrays, each product and sum recomputed here, in every notation; and each printed
line of arithmetic must add up when redone from its printed operands.
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.explain import record_split
from tui_backprop.scenario.notation import NOTATIONS, next_notation, vocabulary
from tui_backprop.scenario.reader import loads_scenario
from tui_backprop.tui.control.selection import Selection
from tui_backprop.tui.netinfo import NetInfo
from tui_backprop.tui.panels.explain_text import explain, plain

N = r"\(?(-?[\d.]+(?:e[+-]\d+)?)\)?"  # a printed number, negative ones in parentheses
PRODUCT = re.compile(rf"{N} × {N} = {N}")


def run(name: str, steps: int):
    s = load_scenario(name)
    t = Trainer(s)
    rec = t.run(steps)[-1]
    return s, NetInfo.build(s, t.initial_W, t.initial_b), rec


def shows(text: str, value: float) -> bool:
    """Whether ``text`` is ``value`` printed to 4 or more significant digits (as the panel prints
    numbers: ``g`` format, so 1.000 prints as 1)."""
    return any(f"{float(value) + 0.0:.{d}g}" == text for d in range(4, 18))


def adds_up(a: str, b: str, c: str) -> bool:
    """a × b, redone from the printed a and b, prints as c at c's significant digits."""
    digits = len(c.lstrip("-0.").replace(".", "").split("e")[0]) or 1
    return f"{float(a) * float(b) + 0.0:.{digits}g}" == f"{float(c):.{digits}g}"


def products(text: str) -> list[tuple[str, str, str]]:
    return [m.groups() for line in text.splitlines() if (m := PRODUCT.search(line))]


# what each notation calls the gradient of an output weight and its two factors
WEIGHT_NAMES = {
    "symbols": ("∂L/∂w_ji", "δ_j · a_i", "η"),
    "signals": ("gradient_HtoO", "S_ERROR · S_postA,H", "LR"),
    "delta": ("∂E/∂w_1", "delta_1 · a_0", "α"),
}


@pytest.mark.parametrize("notation", NOTATIONS)
def test_a_weight_is_explained_with_the_records_numbers_in_every_notation(notation):
    scenario, net, rec = run("proportional_2_3_1", 2)  # one sample a step
    l, j, i = 2, 0, 1  # h2 → y
    text = plain(explain(net, rec, Selection(layer=l, j=j, i=i), vocabulary(notation, 2)))
    grad_name, factors, lr_name = WEIGHT_NAMES[notation]
    assert f"{grad_name} = " in text and f"= {factors}" in text and f"{lr_name}·{grad_name}" in text

    delta = rec.layers[l - 1].delta[0, j]
    a = rec.layers[l - 2].a[0, i]
    d, x, g = products(text)[0]
    assert shows(d, delta) and shows(x, a) and shows(g, delta * a) and adds_up(d, x, g)

    w0 = rec.layers[l - 1].w_before[j, i]
    w1 = w0 - scenario.learning_rate * (delta * a)
    assert repr(float(w0)) in text and repr(float(rec.layers[l - 1].w[j, i])) in text  # full precision
    m = re.search(rf"= {N} − {N} × {N} = {N}", text)
    assert m, text
    before, rate, grad, after = m.groups()
    assert shows(before, w0) and float(rate) == scenario.learning_rate and shows(grad, delta * a)
    assert shows(after, w1)
    digits = len(after.lstrip("-0.").replace(".", ""))
    assert f"{float(before) - float(rate) * float(grad):.{digits}g}" == after  # adds up as printed


# the names of z, a, the hidden delta and f′ of hidden node j in each notation
NODE_NAMES = {
    "symbols": ("z_j = Σ_i w_ji · a_i", "a_j = sigmoid(z_j)", "δ_j = (Σ_m w_mj · δ_m) · f′"),
    "signals": ("S_preA,H = Σ_i weight_ItoH · input", "S_postA,H = sigmoid(S_preA,H)", "S_ERROR,H = (Σ_m"),
    "delta": ("z_0 = Σ_i w_0 · x", "a_0 = sigmoid(z_0)", "delta_0 = (Σ_m w_1 · delta_1) · f′(z_0)"),
}


@pytest.mark.parametrize("notation", NOTATIONS)
def test_a_hidden_node_is_explained_term_by_term_in_every_notation(notation):
    _, net, rec = run("xor", 3)  # biases, 4 samples a batch
    l, j, k = 1, 2, 1  # h3, the second sample
    sel = Selection(mode="node", node_layer=l, node=j, sample=k)
    text = plain(explain(net, rec, sel, vocabulary(notation, 2)))
    for name in NODE_NAMES[notation]:
        assert name in text, (name, text)

    lr, nxt = rec.layers[0], rec.layers[1]
    x = rec.x[k]
    W, b = lr.w_before[j], lr.b_before[j]
    terms = products(text)
    for i in range(2):  # w_ji × x_i = their product, for each input
        w, a, p = terms[i]
        assert shows(w, W[i]) and shows(a, x[i]) and shows(p, W[i] * x[i]) and adds_up(w, a, p)
    z = W @ x + b
    assert np.isclose(z, lr.z[k, j])
    assert re.search(rf"\+ {N}\s+\(bias\)", text)[1] and shows(re.search(rf"\+ {N}\s+\(bias\)", text)[1], b)
    shown_z = re.search(rf"= {N}\n", text)[1]
    assert shows(shown_z, lr.z[k, j])
    a_line = re.search(rf"sigmoid\({N}\) = {N}", text)
    assert shows(a_line[1], z) and shows(a_line[2], 1 / (1 + np.exp(-z)))

    # the hidden delta: w_mj × δ_m for the one output m, their sum, f′ = a(1 − a)
    w, dm, p = terms[2]
    assert shows(w, nxt.w_before[0, j]) and shows(dm, nxt.delta[k, 0]) and adds_up(w, dm, p)
    a = lr.a[k, j]
    assert shows(re.search(rf"f′\(.*?\) = {N}", text)[1], a * (1 - a))
    total, fprime, delta = products(text)[3]
    expected = nxt.w_before[0, j] * nxt.delta[k, 0] * a * (1 - a)
    assert shows(delta, expected) and shows(delta, lr.delta[k, j]) and adds_up(total, fprime, delta)


def test_an_output_node_shows_dl_dy_times_the_slope():
    _, net, rec = run("mlp_error_signal", 1)  # half_sse: dl/dy = y − t; a sigmoid output
    text = plain(explain(net, rec, Selection(mode="node", node_layer=2, node=0), vocabulary("signals", 2)))
    y, t = rec.layers[1].a[0, 0], rec.t[0, 0]
    assert "S_ERROR = ∂loss/∂S_postA,O · f′(S_preA,O)" in text and "FE = S_postA,O − T" in text
    dl_dy, fprime, delta = products(text)[-1]
    assert shows(dl_dy, y - t) and shows(fprime, y * (1 - y)) and shows(delta, (y - t) * y * (1 - y))
    assert shows(delta, rec.layers[1].delta[0, 0]) and adds_up(dl_dy, fprime, delta)


def test_a_batch_weight_lists_each_samples_contribution_then_their_mean():
    scenario, net, rec = run("xor", 2)  # full batch of 4
    l, j, i = 1, 1, 0  # x1 → h2
    text = plain(explain(net, rec, Selection(layer=l, j=j, i=i), vocabulary("symbols", 2)))
    delta, a = rec.layers[0].delta[:, j], rec.x[:, i]
    lines = [line for line in text.splitlines() if re.match(r"\s+k=\d #\d:", line)]
    assert len(lines) == 4
    for k, line in enumerate(lines):
        assert line.strip().startswith(f"k={k} #{rec.batch[k]}:")
        d, x, p = PRODUCT.search(line).groups()
        assert shows(d, delta[k]) and shows(x, a[k]) and shows(p, delta[k] * a[k]) and adds_up(d, x, p)
    total = float(np.sum(delta * a))
    sum_line = re.search(r"Σ_k = (.*) = (\S+)\n", text)
    printed_terms = [float(v.strip("()")) for v in sum_line[1].split(" + ")]
    assert len(printed_terms) == 4 and shows(sum_line[2], total)
    digits = len(sum_line[2].lstrip("-0.").replace(".", ""))
    assert f"{sum(printed_terms):.{digits}g}" == sum_line[2]  # the printed terms add up
    mean = re.search(rf"mean: ∂L/∂w_ji = {N} / 4 = {N}", text)
    assert shows(mean[1], total) and shows(mean[2], total / 4) and shows(mean[2], rec.layers[0].grad_w[j, i])


def test_a_sample_shows_its_loss_and_the_batch_mean():
    _, net, rec = run("xor", 1)
    text = plain(explain(net, rec, Selection(mode="sample", sample=2), vocabulary("delta", 2)))
    y, t = rec.layers[1].a[2, 0], rec.t[2, 0]
    m = re.search(rf"\({N} − {N}\)² = {N}", text)
    assert shows(m[1], y) and shows(m[2], t) and shows(m[3], (y - t) ** 2)
    mean = re.search(r"= \((.*)\) / 4 = (\S+)", text)
    assert [float(v) for v in mean[1].split(" + ")] == pytest.approx(rec.sample_losses, abs=1e-3)
    assert shows(mean[2], np.mean((rec.layers[1].a - rec.t) ** 2))


def test_before_the_first_step_the_initial_weight_shows_in_full():
    s = load_scenario("proportional_2_3_1")
    t = Trainer(s)
    net = NetInfo.build(s, t.initial_W, t.initial_b)
    text = plain(explain(net, None, Selection(layer=2, j=0, i=2), vocabulary("symbols", 2)))
    assert "w_ji = 0.36  (initial)" in text


def test_the_notations_cycle_in_order():
    assert [next_notation(n) for n in NOTATIONS] == ["signals", "delta", "symbols"]
    deep = vocabulary("signals", 3)
    assert [deep.w(l) for l in (1, 2, 3)] == ["weight_ItoH1", "weight_H1toH2", "weight_H2toO"]
    assert vocabulary("delta", 3).delta(3) == "delta_2" and vocabulary("symbols", 3).delta(2) == "δ[2]"


@pytest.mark.parametrize("name", ["proportional_2_3_1", "proportional_2_3_1_split"])
def test_a_hidden_node_shows_the_proportional_split_beside_its_delta(name):
    _, net, rec = run(name, 1)  # sample #0; the second scenario trains with the split
    j = 1  # h2
    text = plain(
        explain(
            net,
            rec,
            Selection(mode="node", node_layer=1, node=j),
            vocabulary("symbols", 2),
            split=record_split(rec),
        )
    )
    W2 = rec.layers[1].w_before[0]  # the weights into the one output
    e_out = rec.t[0, 0] - rec.layers[1].a[0, 0]
    share = W2[j] / W2.sum()
    # as a learner writes it: e_m × w_mj / Σ_i w_mi, the weight and the row's sum as they are
    e, w, total, p = re.search(rf"{N} × {N} / {N} = {N}", text.split("proportional split")[1]).groups()
    assert shows(e, e_out) and shows(w, W2[j]) and shows(total, W2.sum()) and shows(p, e_out * share)
    digits = len(p.lstrip("-0.").replace(".", "").split("e")[0]) or 1
    assert f"{float(e) * float(w) / float(total):.{digits}g}" == f"{float(p):.{digits}g}"  # adds up
    m = re.search(rf"e_j = {N}   beside δ_j = {N}", text)
    assert shows(m[1], e_out * share) and shows(m[2], rec.layers[0].delta[0, j])
    assert "ignores the slope f′(z)" in text


def test_a_weight_trained_by_the_split_shows_the_change_applied():
    scenario, net, rec = run("proportional_2_3_1_split", 1)
    l, j, i = 1, 0, 1  # x2 → h1
    text = plain(explain(net, rec, Selection(layer=l, j=j, i=i), vocabulary("symbols", 2)))
    lr = rec.layers[0]
    e = (rec.t[0, 0] - rec.layers[1].a[0, 0]) * rec.layers[1].w_before[0, j] / rec.layers[1].w_before[0].sum()
    a = lr.a[0, j]
    expected = scenario.learning_rate * e * a * (1 - a) * rec.x[0, i]  # Δ = η e f′(z) a_i
    m = re.search(rf"= {N} × {N} = {N}\n", text.split("Δ = ")[1])
    assert float(m[1]) == scenario.learning_rate and shows(m[2], expected / scenario.learning_rate)
    assert shows(m[3], expected) and np.isclose(lr.w[j, i] - lr.w_before[j, i], expected)
    assert "not −η·∂L/∂w_ji" in text and repr(float(lr.w[j, i])) in text


def _with(name: str, training: str, steps: int):
    text = resources.files("tui_backprop.scenarios").joinpath(f"{name}.toml").read_text("utf-8")
    s = loads_scenario(text.replace("[training]\n", "[training]\n" + training))
    t = Trainer(s)
    rec = t.run(steps)[-1]
    return s, NetInfo.build(s, t.initial_W, t.initial_b), rec


def test_with_l1_and_l2_the_penalty_gradient_is_added_to_the_mean():
    s, net, rec = _with("xor", "l1 = 0.001\nl2 = 0.01\n", 3)
    l, j, i = 2, 0, 1
    text = plain(explain(net, rec, Selection(layer=l, j=j, i=i), vocabulary("symbols", 2)))
    lr = rec.layers[l - 1]
    mean = float(np.mean(lr.delta[:, j] * rec.layers[0].a[:, i]))
    w = lr.w_before[j, i]
    penalty = s.l1 * np.sign(w) + s.l2 * w  # dP/dw of l1 |w| + l2 w² / 2
    m = re.search(rf"mean: ∂L/∂w_ji = {N} / 4 = {N}\n  \+ ∂P/∂w = {N} .*\n  = {N}\n", text)
    assert m, text
    assert shows(m[2], mean) and shows(m[3], penalty) and shows(m[4], mean + penalty)
    assert shows(m[4], lr.grad_w[j, i])
    update = re.search(rf"= {N} − {N} × {N} = {N}", text)
    assert shows(update[3], mean + penalty) and shows(update[4], w - s.learning_rate * (mean + penalty))


def test_under_momentum_the_update_uses_the_recorded_velocity():
    s, net, rec = _with("xor", 'optimizer = "momentum"\nmomentum = 0.9\n', 1)
    l, j, i = 1, 1, 2  # the bias b[1][1]
    lr = rec.layers[l - 1]
    first = float(lr.grad_b[j])  # the first step: velocity = 0.9 · 0 + g
    text = plain(explain(net, rec, Selection(layer=l, j=j, i=i), vocabulary("delta", 2)))
    assert "b_0 ← b_0 − α·velocity" in text
    m = re.search(rf"= {N} − {N} × {N} = {N}", text)
    assert shows(m[3], first) and shows(m[4], lr.b_before[j] - s.learning_rate * first)
    assert shows(re.search(rf"velocity = {N}", text)[1], lr.state["velocity_b"][j])
