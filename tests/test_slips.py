"""The slip catalogue (tutor/slips.py) and the diagnosis (tutor/diagnosis.py).

For each slip, a learner's answers are built by hand in this file, for a 2-2-1 sigmoid network
on a batch of two samples (half_sse, learning rate 0.5), with the slip made; the diagnosis must
name that slip and no other, at the first number the slip changes. The slipped computations of
the package are held against the engine with no slip, on random networks of every activation and
loss, and a slip made on a random network is found again from the numbers it gives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_backprop.engine import Trainer
from tui_backprop.scenario.reader import loads_scenario
from tui_backprop.tutor import slips
from tui_backprop.tutor.answers import loads_answers
from tui_backprop.tutor.check import check_loaded
from tui_backprop.tutor.slips import SLIP_IDS

NET = """
[scenario]
name = "2-2-1 by hand"
[network]
layers = [2, 2, 1]
activation = "sigmoid"
[init]
method = "explicit"
weights = [ [[0.15, -0.20], [0.25, 0.30]], [[0.40, -0.45]] ]
biases = [ [0.35, -0.10], [0.60] ]
[data]
inputs = [[0.05, 0.10], [0.90, -0.40]]
targets = [[0.01], [0.99]]
[training]
loss = "half_sse"
learning_rate = 0.5
"""
X = np.array([[0.05, 0.10], [0.90, -0.40]])
T = np.array([[0.01], [0.99]])
W1 = np.array([[0.15, -0.20], [0.25, 0.30]])
B1 = np.array([0.35, -0.10])
W2 = np.array([[0.40, -0.45]])
B2 = np.array([0.60])
LR = 0.5


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def by_hand(slip: str | None) -> dict[str, np.ndarray]:
    """One step of the 2-2-1 network as a learner with ``slip`` computes it, written out layer by
    layer (``bias-forgotten-z`` and ``bias-forgotten-grad`` are the two forms of bias-forgotten)."""
    w1 = W1.T if slip == "transposed-weights" else W1  # W2 (1 x 2) has no transpose to mistake
    with_b = slip != "bias-forgotten-z"
    z1 = X @ w1.T + (B1 if with_b else 0)
    a1 = sigmoid(z1)
    z2 = a1 @ W2.T + (B2 if with_b else 0)
    y = sigmoid(z2)
    loss = np.mean(0.5 * ((y - T) ** 2).sum(axis=1))
    dy = y - T
    if slip == "loss-factor":  # the 1/2 of half_sse dropped
        loss, dy = 2 * loss, 2 * dy
    if slip == "error-sign":
        dy = T - y

    def slope(z: np.ndarray, a: np.ndarray) -> np.ndarray:
        if slip == "missing-derivative":
            return np.ones_like(z)
        if slip == "derivative-at-activation":
            return sigmoid(a) * (1 - sigmoid(a))
        return a * (1 - a)

    mean = (lambda v: v.sum(axis=0)) if slip == "no-batch-mean" else (lambda v: v.mean(axis=0))
    sign = 1 if slip == "update-sign" else -1
    d2 = dy * slope(z2, y)
    gw2 = mean(d2[:, :, None] * a1[:, None, :])
    gb2 = mean(d2) * (0 if slip == "bias-forgotten-grad" else 1)
    w2_new, b2_new = W2 + sign * LR * gw2, B2 + sign * LR * gb2
    back = w2_new if slip == "updated-weights" else W2
    if slip == "proportional-split":
        e1 = ((T - y) / W2.sum(axis=1)) @ W2
        d1 = -e1 * slope(z1, a1)
    else:
        d1 = (d2 @ back) * slope(z1, a1)
    gw1 = mean(d1[:, :, None] * X[:, None, :])
    gb1 = mean(d1) * (0 if slip == "bias-forgotten-grad" else 1)
    w1_new, b1_new = w1 + sign * LR * gw1, B1 + sign * LR * gb1
    return {
        "z[1]": z1, "a[1]": a1, "z[2]": z2, "a[2]": y, "loss": np.array(loss),
        "delta[2]": d2, "delta[1]": d1, "grad_w[1]": gw1, "grad_b[1]": gb1,
        "grad_w[2]": gw2, "grad_b[2]": gb2, "w[1]": w1_new, "b[1]": b1_new, "w[2]": w2_new, "b[2]": b2_new,
    }  # fmt: skip


def as_answers(numbers: dict[str, np.ndarray], digits: int = 6) -> str:
    """An answers file with every number of the step, each to ``digits`` significant digits."""
    out = []
    for name, arr in numbers.items():
        value = np.vectorize(lambda v: f"{v:.{digits - 1}e}")(arr)
        text = str(value.tolist()).replace("'", "") if arr.ndim else str(value)
        out.append(f'[[answer]]\nstep = 1\nname = "{name}"\nvalue = {text}\n')
    return "\n".join(out)


def diagnosis_of(text: str, scenario_text: str = NET):
    scenario = loads_scenario(scenario_text, "net.toml")
    return check_loaded(scenario, loads_answers(text, "mine.toml"))


def test_by_hand_without_a_slip_is_the_engine_s_step() -> None:
    result = diagnosis_of(as_answers(by_hand(None), digits=12))
    assert result.all_right and len(result.graded) == 37  # every number of the step


FIRST = {  # the slip, and the first number it changes in the order a step computes them
    "error-sign": "delta[2][0, 0]",
    "update-sign": "w[1][0, 0]",
    "missing-derivative": "delta[2][0, 0]",
    "derivative-at-activation": "delta[2][0, 0]",
    "updated-weights": "delta[1][0, 0]",
    "no-batch-mean": "grad_w[1][0, 0]",
    "loss-factor": "loss",
    "bias-forgotten-z": "z[1][0, 0]",
    "bias-forgotten-grad": "grad_b[1][0]",
    "transposed-weights": "z[1][0, 0]",
    "proportional-split": "delta[1][0, 0]",
}


def test_every_slip_of_the_catalogue_is_tested() -> None:
    assert {s.split("-grad")[0].split("-z")[0] for s in FIRST} == set(SLIP_IDS)


@pytest.mark.parametrize("slip", sorted(FIRST))
def test_a_slip_made_by_hand_is_named_and_no_other(slip: str) -> None:
    result = diagnosis_of(as_answers(by_hand(slip)))
    d = result.diagnosis
    assert d is not None
    assert d.first.number.name == FIRST[slip]
    assert [s.id for s in d.slips] == [slip.removesuffix("-z").removesuffix("-grad")]
    assert not d.other, [g.number.name for g in d.other]  # every later wrong number follows from it
    lines = result.lines()
    assert f"diagnosis: {d.slips[0].id}: {d.slips[0].sentence}" in lines
    assert any(line.startswith("  correct: ") for line in lines)


def test_a_wrong_number_no_slip_gives_points_at_its_inputs() -> None:
    numbers = by_hand(None)
    numbers["delta[1]"] = numbers["delta[1]"] + np.array([[0.0, 0.01], [0.0, 0.0]])
    result = diagnosis_of(as_answers(numbers))
    lines = result.lines()
    assert "diagnosis: no slip of the catalogue gives delta[1][0, 1] = " in "\n".join(lines)
    assert "  it is made from delta[2][0, :]: you gave it, right" in lines
    assert "  it is made from z[1][0, 1]: you gave it, right" in lines
    assert any(line.startswith("  it is made from W[2][:, 1], the initial weights") for line in lines)


def test_a_slip_follows_into_the_next_step(tmp_path: Path) -> None:
    """update-sign made at steps 1 and 2: the step-2 numbers follow from it. The delta given
    right tells it from error-sign, which gives the same weights."""
    scenario = loads_scenario(NET, "net.toml")
    rec = Trainer(scenario).run(2)
    W = [lr.w_before for lr in rec[0].layers]
    b = [lr.b_before for lr in rec[0].layers]
    s = slips.Settings(("sigmoid", "sigmoid"), "half_sse", LR, True, True)
    one = slips.slipped_step(W, b, X, T, s, "update-sign")
    two = slips.slipped_step(list(one.w), list(one.b), X, T, s, "update-sign")
    d2 = rec[0].layers[1].delta
    text = (
        f'[[answer]]\nstep = 1\nname = "delta[2]"\nvalue = [[{d2[0, 0]:.6e}], [{d2[1, 0]:.6e}]]\n'
        f'[[answer]]\nstep = 1\nname = "w[2]"\nvalue = [[{one.w[1][0, 0]:.6e}, {one.w[1][0, 1]:.6e}]]\n'
        f'[[answer]]\nstep = 2\nname = "loss"\nvalue = {two.loss:.6e}\n'
        # the full batch: the training-set loss after step 1 is the batch loss of step 2
        f'[[answer]]\nstep = 1\nname = "train_loss"\nvalue = {two.loss:.6e}\n'
    )
    result = check_loaded(scenario, loads_answers(text, "mine.toml"))
    d = result.diagnosis
    assert d is not None and [s.id for s in d.slips] == ["update-sign"]
    assert [g.number.name for g in d.follows] == ["w[2][0, 1]", "train_loss", "loss"]


# -- the package's slipped step against the engine, and slips found on random networks -----------

LOSS_OUTPUTS = [("half_sse", "sigmoid"), ("mse", "tanh"), ("sse", "identity"), ("bce", "sigmoid")]


def random_scenario(seed: int, loss: str, out: str, hidden: str = "tanh") -> str:
    rng = np.random.default_rng(seed)
    w = [np.round(rng.uniform(-1, 1, (3, 3)), 2), np.round(rng.uniform(-1, 1, (2, 3)), 2)]
    b = [np.round(rng.uniform(-0.5, 0.5, 3), 2), np.round(rng.uniform(-0.5, 0.5, 2), 2)]
    x = np.round(rng.uniform(-1, 1, (3, 3)), 2)
    t = rng.integers(0, 2, (3, 2)) if loss == "bce" else np.round(rng.uniform(-1, 1, (3, 2)), 2)
    return f"""
[scenario]
name = "random {seed}"
[network]
layers = [3, 3, 2]
activations = ["{hidden}", "{out}"]
[init]
method = "explicit"
weights = {[m.tolist() for m in w]}
biases = {[v.tolist() for v in b]}
[data]
inputs = {x.tolist()}
targets = {t.tolist()}
[training]
loss = "{loss}"
learning_rate = 0.3
"""


@pytest.mark.parametrize(("loss", "out"), LOSS_OUTPUTS)
@pytest.mark.parametrize("hidden", ["tanh", "relu", "sigmoid"])
def test_the_slipped_step_without_a_slip_is_the_engine_s(loss: str, out: str, hidden: str) -> None:
    scenario = loads_scenario(random_scenario(7, loss, out, hidden), "r.toml")
    rec = Trainer(scenario).step()
    s = slips.Settings(tuple(scenario.activations), loss, 0.3, True, True)
    got = slips.slipped_step(
        [lr.w_before for lr in rec.layers], [lr.b_before for lr in rec.layers], rec.x, rec.t, s, None
    )
    for q in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
        for l in range(2):
            np.testing.assert_allclose(getattr(got, q)[l], getattr(rec.layers[l], q), rtol=1e-12, atol=1e-15)
    assert got.loss == pytest.approx(rec.loss, rel=1e-12)


FIRST_ARRAY = {  # the array of the first number each slip changes (its entry depends on the weights)
    "error-sign": "delta[2]",
    "update-sign": "w[1]",
    "missing-derivative": "delta[2]",
    "derivative-at-activation": "delta[2]",
    "updated-weights": "delta[1]",
    "no-batch-mean": "grad_w[1]",
    "loss-factor": "loss",
    "bias-forgotten": "z[1]",
    "transposed-weights": "z[1]",
    "proportional-split": "delta[1]",
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("slip", SLIP_IDS)
def test_a_slip_on_a_random_network_is_found_again(seed: int, slip: str) -> None:
    """The slip's numbers (from the package's slipped step, 6 significant digits), every number
    of step 1 of a random 3-3-2 tanh/sigmoid network: the diagnosis names the slip."""
    text = random_scenario(seed, "half_sse", "sigmoid")
    scenario = loads_scenario(text, "r.toml")
    rec = Trainer(scenario).step()
    s = slips.Settings(tuple(scenario.activations), "half_sse", 0.3, True, True)
    W = slips.learner_layout([lr.w_before for lr in rec.layers], slip)  # W[1] is 3 x 3
    got = slips.slipped_step(W, [lr.b_before for lr in rec.layers], rec.x, rec.t, s, slip)
    numbers = {"loss": np.array(got.loss)}
    for q in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
        for l in range(2):
            numbers[f"{q}[{l + 1}]"] = getattr(got, q)[l]
    d = check_loaded(scenario, loads_answers(as_answers(numbers), "mine.toml")).diagnosis
    assert d is not None and slip in [x.id for x in d.slips], (slip, [x.id for x in d.slips] if d else None)
    assert len(d.slips) == 1, [x.id for x in d.slips]
    assert d.first.number.name.startswith(FIRST_ARRAY[slip]), (slip, d.first.number.name)


@pytest.mark.parametrize(("loss", "out"), LOSS_OUTPUTS)
@pytest.mark.parametrize("slip", ["loss-factor", "error-sign", "no-batch-mean"])
def test_slips_of_the_loss_are_found_for_every_loss(loss: str, out: str, slip: str) -> None:
    scenario = loads_scenario(random_scenario(4, loss, out), "r.toml")
    rec = Trainer(scenario).step()
    s = slips.Settings(tuple(scenario.activations), loss, 0.3, True, True)
    got = slips.slipped_step(
        [lr.w_before for lr in rec.layers], [lr.b_before for lr in rec.layers], rec.x, rec.t, s, slip
    )
    numbers = {"loss": np.array(got.loss), "delta[2]": got.delta[1], "w[1]": got.w[0]}
    d = check_loaded(scenario, loads_answers(as_answers(numbers), "mine.toml")).diagnosis
    if (loss, slip) == ("mse", "loss-factor"):  # 2/n with n = 2 outputs is 1: dropping it changes nothing
        assert d is None
        return
    assert d is not None and [x.id for x in d.slips] == [slip]
