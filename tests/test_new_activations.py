"""elu, softplus, gelu (tanh form), swish and sine (issue 14): each derivative against central
finite differences and against its formula written again here with the math module; networks using
them step with the gradients of finite differences of the loss; their traces verify (--check); and
every place that lists activations (the trace schema, the slips, hand precision, --export-code,
the explain panel, the help) knows them.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from app_harness import drive
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_code_export import run_scripts
from test_gradients import Problem, check_step, random_targets
from test_slips import random_scenario

from tui_backprop.cli import main
from tui_backprop.engine import Trainer
from tui_backprop.engine.activations import ACTIVATIONS, get_activation
from tui_backprop.scenario import format_v1
from tui_backprop.scenario.notation import vocabulary
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.scenario.reader import load_scenario, loads_scenario
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.selection import Selection
from tui_backprop.tui.netinfo import NetInfo
from tui_backprop.tui.panels.explain_text import explain, plain
from tui_backprop.tui.screens.help import help_text
from tui_backprop.tutor import slips
from tui_backprop.tutor.code_export import script
from tui_backprop.tutor.code_torch import torch_script
from tui_backprop.tutor.rounding import hand_step

NEW = ("elu", "softplus", "gelu", "swish", "sine")
SCHEMAS = Path(__file__).parent.parent / "tui_backprop" / "schemas"


# -- the formulas again, one float at a time, with the math module ------------------------------


def _sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _gelu_u(z: float) -> float:
    z3 = max(min(z, 60.0), -60.0) ** 3  # tanh u is +-1 long before; no overflow of z^3
    return math.sqrt(2.0 / math.pi) * (z + 0.044715 * z3)


def _gelu_tanh_form(z: float) -> float:
    return 0.5 * z * (1.0 + math.tanh(_gelu_u(z)))  # as published; 1 + tanh u cancels for u << 0


def _gelu(z: float) -> float:
    """The same, with 1 + tanh u = 2 / (1 + e^-2u) written so that the negative tail stays precise."""
    u = _gelu_u(z)
    return z / (1.0 + math.exp(-2.0 * u)) if u >= 0 else z * math.exp(2.0 * u) / (1.0 + math.exp(2.0 * u))


def _softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


REFERENCE = {
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "softplus": _softplus,
    "gelu": _gelu,
    "swish": lambda z: z * _sigma(z),
    "sine": math.sin,
}

# many points: a grid, both sides of 0 closely, and the tails
POINTS = np.unique(
    np.concatenate(
        [
            np.linspace(-8.0, 8.0, 161),
            [-1e-3, -1e-6, 0.0, 1e-6, 1e-3, 0.05, -0.05],
            [-40.0, -25.0, -15.0, -12.0, 12.0, 15.0, 25.0, 40.0],
        ]
    )
)


def five_point(f, z: float, h: float) -> float:
    """f'(z) by the fourth-order central difference."""
    return (f(z - 2 * h) - 8 * f(z - h) + 8 * f(z + h) - f(z + 2 * h)) / (12 * h)


def one_sided(f, z: float, h: float) -> float:
    """f'(z) by the fourth-order one-sided difference, to the right of z (to its left for h < 0)."""
    return (-25 * f(z) + 48 * f(z + h) - 36 * f(z + 2 * h) + 16 * f(z + 3 * h) - 3 * f(z + 4 * h)) / (12 * h)


@pytest.mark.parametrize("name", NEW)
def test_each_function_is_its_formula(name):
    act = ACTIVATIONS[name]
    a = act.fn(POINTS[None, :])[0]
    expected = np.array([REFERENCE[name](float(z)) for z in POINTS])
    np.testing.assert_allclose(a, expected, rtol=1e-13, atol=1e-15, err_msg=name)


def test_gelu_is_the_published_tanh_form_where_that_form_is_precise():
    z = np.linspace(-3.0, 8.0, 111)
    expected = [_gelu_tanh_form(float(v)) for v in z]
    np.testing.assert_allclose(ACTIVATIONS["gelu"].fn(z[None, :])[0], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NEW)
def test_each_derivative_matches_central_finite_differences(name):
    act = ACTIVATIONS[name]

    def f(z: float) -> float:
        return float(act.fn(np.array([[z]]))[0, 0])

    z = POINTS[None, :]
    grad = act.grad(z, act.fn(z))[0]
    h = 1e-3  # truncation ~ h^4/30 f^(5), rounding ~ 1e-16 |f| / h: both far below the tolerance
    for k, zk in enumerate(POINTS):
        zk = float(zk)
        if name == "elu" and abs(zk) < 2 * h:  # elu'' jumps at 0: stencils that stay on one side
            fds = (
                [one_sided(f, zk, h if zk > 0 else -h)]
                if zk
                else [one_sided(f, 0.0, h), one_sided(f, 0.0, -h)]
            )
        else:
            fds = [five_point(f, zk, h)]
        for fd in fds:
            assert abs(grad[k] - fd) <= 1e-8 * max(1.0, abs(fd)), f"{name}'({zk}) = {grad[k]}, fd {fd}"


@pytest.mark.parametrize("name", NEW)
def test_far_tails_stay_finite_and_quiet(name):
    z = np.array([[-1e300, -800.0, -710.0, 710.0, 800.0, 1e300]])
    act = ACTIVATIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # (underflow to 0 is fine)
        a = act.fn(z)
        g = act.grad(z, a)
    assert np.isfinite(a).all() and np.isfinite(g).all(), (a, g)
    if (
        name != "sine"
    ):  # the limits: a -> z above; the slope -> 1 above and 0 below (elu, gelu, swish, softplus)
        assert a[0, -1] == 1e300 and g[0, -1] == 1.0 and abs(g[0, 0]) < 1e-300


def test_elu_is_smooth_at_0_because_alpha_is_1():
    elu = ACTIVATIONS["elu"]
    z = np.array([[-1e-12, 0.0, 1e-12]])
    np.testing.assert_allclose(elu.grad(z, elu.fn(z)), 1.0, rtol=1e-11)
    assert "alpha = 1" in elu.formula


# -- networks: each step's gradients are those of finite differences of the loss -----------------


def _ref_activation(name):
    scalar = REFERENCE[name]
    return lambda z: np.array([scalar(float(v)) for v in z])


@pytest.fixture
def ref_new(ref, monkeypatch):
    """The reference maths of conftest.py, knowing the new activations (as written above)."""
    for name in NEW:
        monkeypatch.setitem(ref.activations, name, _ref_activation(name))
    return ref


def _problem(seed: int, acts: tuple[str, ...], loss: str) -> Problem:
    rng = np.random.default_rng(seed)
    W = [rng.uniform(-1.2, 1.2, (3, 2)), rng.uniform(-1.2, 1.2, (3, 3)), rng.uniform(-1.2, 1.2, (2, 3))]
    b = [rng.uniform(-1.0, 1.0, 3), rng.uniform(-1.0, 1.0, 3), rng.uniform(-1.0, 1.0, 2)]
    X = rng.uniform(-2.0, 2.0, (5, 2))
    return Problem(acts, W, b, X, random_targets(rng, loss, (5, 2)), loss)


CASES = [(name, (name, name, name), "mse") for name in NEW] + [
    (name, (name, "tanh", "sigmoid"), "bce") for name in NEW
]


@pytest.mark.parametrize(("name", "acts", "loss"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_network_trains_with_the_gradients_of_finite_differences(ref_new, name, acts, loss):
    p = _problem(sum(map(ord, name)), acts, loss)
    trainer = Trainer(p.scenario(ref_new, learning_rate=0.05, max_steps=1000))
    W, b = p.W, p.b
    losses = []
    for _ in range(3):  # three steps, each from the weights the last one left
        rec = trainer.step()
        check_step(ref_new, p.activations, loss, W, b, p.X, p.T, rec)
        W, b = [lr.w for lr in rec.layers], [lr.b for lr in rec.layers]
        losses.append(rec.loss)
    trainer.run(40, record=False)
    assert trainer.train_losses[-1] < losses[0], f"{name}: the loss did not go down"


@st.composite
def mixed_problems(draw):
    """1 or 2 hidden layers of width 1..3, each activation drawn from the new ones and a few old."""
    hidden = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    layers = [draw(st.integers(1, 3)), *hidden, draw(st.integers(1, 2))]
    pool = st.sampled_from((*NEW, "sigmoid", "tanh", "identity"))
    acts = tuple(draw(pool) for _ in layers[1:])
    loss = draw(st.sampled_from(("mse", "half_sse")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = [rng.uniform(-1.5, 1.5, (layers[l], layers[l - 1])) for l in range(1, len(layers))]
    b = [rng.uniform(-1.0, 1.0, n) for n in layers[1:]] if draw(st.booleans()) else None
    X = rng.uniform(-2.5, 2.5, (draw(st.integers(1, 4)), layers[0]))
    return Problem(acts, W, b, X, random_targets(rng, loss, (len(X), layers[-1])), loss)


ELU_MARGIN = 5e-3  # elu'' jumps at 0: a stencil across it is only O(h) accurate, so keep clear of it


# ref_new is function-scoped but the same for every example: it only adds the activations above
@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=mixed_problems())
def test_random_networks_mixing_them_step_with_the_gradients_of_finite_differences(ref_new, p):
    for x in p.X:
        zs, _ = ref_new.forward_sample(p.W, p.b, p.activations, x)
        elus = [z for z, act in zip(zs, p.activations, strict=True) if act == "elu"]
        assume(all(np.abs(z).min() >= ELU_MARGIN for z in elus))
    rec = Trainer(p.scenario(ref_new)).step()
    check_step(ref_new, p.activations, p.loss, p.W, p.b, p.X, p.T, rec)


# -- traces: valid, and they verify ---------------------------------------------------------------


@pytest.mark.parametrize("name", NEW)
def test_the_trace_of_a_run_is_valid_and_verifies(name, tmp_path, capsys):
    path = tmp_path / f"{name}.json"
    argv = [
        "xor",
        "--headless",
        "--steps",
        "15",
        "--set",
        f"network.activation={name}",
        "--export",
        str(path),
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) in (0, 3)
    capsys.readouterr()
    assert main(["--check", str(path)]) == 0, capsys.readouterr()
    recording = read_trace(str(path))
    assert tuple(recording.scenario.activations) == (name, name)
    assert len(recording.records) == 15


def test_the_trace_schema_lists_every_activation_the_scenario_format_takes():
    schema = json.loads((SCHEMAS / "trace-v1.schema.json").read_text("utf-8"))
    enum = schema["properties"]["scenario"]["properties"]["network"]["properties"]["activations"]["items"][
        "enum"
    ]
    assert sorted(enum) == sorted(format_v1.ACTIVATION_NAMES)
    scenario_schema = (SCHEMAS / "scenario-v1.schema.json").read_text("utf-8")
    assert all(f'"{name}"' in scenario_schema for name in NEW)


def test_a_scenario_names_them_in_activations():
    text = """
    [scenario]
    name = "five"
    [network]
    layers = [2, 3, 3, 3, 3, 1]
    activations = ["elu", "softplus", "gelu", "swish", "sine"]
    [data]
    inputs = [[0, 0], [1, 1]]
    targets = [[0], [1]]
    [training]
    loss = "mse"
    learning_rate = 0.1
    """
    s = loads_scenario("\n".join(line.strip() for line in text.splitlines()), "five.toml")
    assert s.activations == NEW


# -- the tutor: slips, hand precision, --export-code -----------------------------------------------


@pytest.mark.parametrize("name", NEW)
def test_the_slips_true_step_is_the_engines(name):
    scenario = loads_scenario(random_scenario(11, "mse", name, name), "r.toml")
    rec = Trainer(scenario).step()
    s = slips.Settings(tuple(scenario.activations), "mse", 0.3, True, True)
    W, b = [lr.w_before for lr in rec.layers], [lr.b_before for lr in rec.layers]
    got = slips.slipped_step(W, b, rec.x, rec.t, s, None)
    for q in ("z", "a", "delta", "grad_w", "grad_b", "w", "b"):
        for l in range(2):
            np.testing.assert_allclose(getattr(got, q)[l], getattr(rec.layers[l], q), rtol=1e-12, atol=1e-15)
    missing = slips.slipped_step(W, b, rec.x, rec.t, s, "missing-derivative")  # the slip still applies
    assert not np.allclose(missing.delta[1], rec.layers[1].delta)


def test_the_slips_refuse_an_activation_they_do_not_know():
    with pytest.raises(ValueError, match="no activation"):
        slips.slope("nonesuch", np.zeros((1, 1)))


@pytest.mark.parametrize("name", NEW)
def test_at_17_digits_the_hand_step_is_the_engines(name):
    scenario = loads_scenario(random_scenario(5, "mse", name, name), "r.toml")
    record = Trainer(scenario, history=1).step()
    hand = hand_step(record, "mse", 17)
    for h, lr in zip(hand.layers, record.layers, strict=True):
        for field in ("z", "a", "delta", "grad_w", "w"):
            np.testing.assert_allclose(getattr(h, field), getattr(lr, field), rtol=1e-12, atol=1e-15)


def test_the_numpy_scripts_print_the_engines_losses(tmp_path):
    cases = [("xor", (f"network.activation={name}",)) for name in NEW]
    for (_, sets), (_, mine, engine) in zip(cases, run_scripts(cases, tmp_path, script), strict=True):
        np.testing.assert_allclose(mine, engine, rtol=1e-10, atol=1e-14, err_msg=sets[0])


@pytest.mark.parametrize("name", NEW)
def test_the_torch_script_uses_an_activation_torch_knows(name):
    text = torch_script(loads_scenario(random_scenario(3, "mse", name, name), "r.toml"))
    ast.parse(text)
    line = next(line for line in text.splitlines() if line.startswith("ACTIVATIONS = ["))
    used = line.removeprefix("ACTIVATIONS = [").removesuffix("]").split(", ")
    for fn in used:  # each is a torch function or a helper the script defines
        assert fn.startswith("torch.") or f"def {fn}(z):" in text, fn


# -- what the app shows: the explain panel and the help ------------------------------------------


@pytest.mark.parametrize("name", NEW)
def test_the_explain_panel_gives_the_formula_and_the_slope_of_the_record(name):
    scenario = loads_scenario(random_scenario(2, "mse", name, name), "r.toml")
    trainer = Trainer(scenario)
    rec = trainer.step()
    net = NetInfo.build(scenario, trainer.initial_W, trainer.initial_b)
    text = plain(explain(net, rec, Selection(mode="node", node_layer=1, node=0), vocabulary("symbols", 2)))
    act = get_activation(name)
    assert f"{name}(z) = {act.formula}" in text and f"f′ of {name}: {act.grad_formula}" in text
    fprime = float(act.grad(rec.layers[0].z, rec.layers[0].a)[0, 0])  # the slope of the record's z
    shown = re.search(r"f′\(z_j\) = \(?(-?[\d.]+(?:e[+-]\d+)?)\)?", text)
    assert shown and math.isclose(float(shown[1]), fprime, rel_tol=1e-3), text


def test_the_help_lists_every_activation_with_both_formulas():
    text = help_text([("q", "quit")], width=200).plain
    for name, act in ACTIVATIONS.items():
        assert f"f(z) = {act.formula};  f′(z) = {act.grad_formula}" in text, name


async def test_the_app_explains_a_gelu_node_with_its_formulas():
    app = BackpropApp(load_scenario("xor", [parse_set("network.activation=gelu")]))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space")  # space: step 1
        await s.press("tab")  # tab: select a node (input x1)
        await s.press("right")  # right: the hidden layer, h1
        assert (app.selection.mode, app.selection.node_layer) == ("node", 1)
        screen = s.screen()
        assert "gelu(z) = z/2 (1 + tanh u)" in screen and "f′ of gelu: (1 + tanh u)/2" in screen, screen
