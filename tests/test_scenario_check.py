"""``backprop-tui --check SCENARIO`` is load_scenario's own check, without numpy (issue 15).

The reader checks a file in one pass without numpy (scenario/check.py: check_scenario), then
makes the arrays (scenario/arrays.py), which must never fail. So --check and load_scenario must
give the same verdict and the same message on every document: the bundled scenarios, every bad
file of the test suite (tests/bad_scenarios, tests/data), every TOML document written out in a
test module, and the bundled scenarios mutated by hypothesis as tests/test_fuzz.py mutates them.
Then: --check of a bundled scenario loads no numpy, and a check deferred to drawn numbers
(Reader.defer) finds what the numbers say, computed here independently with plain numpy.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import scenario_text
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import BUDGET, SCENARIOS, mutate, toml_document

from tui_backprop.cli import main
from tui_backprop.common.errors import BackpropError
from tui_backprop.scenario.check import check_scenario, checks_scenario
from tui_backprop.scenario.listing import bundled_root
from tui_backprop.scenario.reader import ScenarioError, bundled_names, load_scenario, loads_scenario

TESTS = Path(__file__).resolve().parent
BAD_FILES = sorted((TESTS / "bad_scenarios").glob("*.toml")) + sorted((TESTS / "data").glob("*.toml"))
TABLES = {"scenario", "network", "init", "data", "training", "display"}


def outcome(run, *args) -> tuple[str, str]:
    """("ok", the one-line summary) or ("error", the message), as --check prints them."""
    try:
        return "ok", str(run(*args))
    except BackpropError as e:
        return "error", str(e)


def same_verdict(load, check, *args) -> tuple[str, str]:
    loaded, checked = outcome(load, *args), outcome(check, *args)
    assert checked == loaded
    return checked


# the suite's helpers that write a scenario (tests/scenario_text.py)
HELPERS = {"bundled_text": scenario_text.bundled_text, "with_line": scenario_text.with_line}


def _text(node: ast.expr, names: dict[str, str]) -> str | None:
    """The string an expression of a test module makes from constants alone: a literal, a module
    constant, ``a + b``, ``a.replace(b, c)`` (chained), the helpers' ``bundled_text(name)`` and
    ``with_line(text, table, key, line)``; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _text(node.left, names), _text(node.right, names)
        return None if a is None or b is None else a + b
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in HELPERS:
        args = [_text(a, names) for a in node.args]
        if None in args or node.keywords:
            return None
        try:
            return HELPERS[node.func.id](*args)
        except (AssertionError, TypeError, FileNotFoundError):  # not a case the helper makes
            return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace":
        base = _text(node.func.value, names)
        args = [_text(a, names) for a in node.args]
        if base is None or len(args) != 2 or None in args or node.keywords:
            return None
        return base.replace(args[0], args[1])  # type: ignore[arg-type]
    return None


@functools.cache
def written_in(module: str) -> dict[str, str]:
    """Every scenario document test module ``module`` writes from constants: string literals,
    and module constants changed by ``.replace`` and ``+`` (f-strings and values of parameters
    aside), by where it is written. Parsed when a test asks, not when the tests are collected:
    every test process collects them, and the 124 modules take 1.5 s to parse and walk."""
    out: dict[str, str] = {}
    path = TESTS / module
    tree = ast.parse(path.read_text("utf-8"))
    names: dict[str, str] = {}
    for stmt in tree.body:  # the module's constants, in order
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            if (value := _text(stmt.value, names)) is not None:
                names[stmt.targets[0].id] = value
    scopes = [(tree, names)] + [
        (f, {**names, **bound})
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef)
        for bound in _cases(f)
    ]
    for scope, known in scopes:
        for node in ast.walk(scope):
            if not isinstance(node, ast.expr) or (text := _text(node, known)) is None or "[" not in text:
                continue
            try:
                doc = tomllib.loads(text)
            except (tomllib.TOMLDecodeError, RecursionError, ValueError):
                continue
            if len(set(doc) & TABLES) >= 2 and text not in out.values():
                out[f"{path.stem}:{node.lineno}:{len(out)}"] = text
    return out


def _cases(f: ast.FunctionDef) -> list[dict[str, str]]:
    """The string parameters of each case of a test's ``pytest.mark.parametrize("a, b", [...])``."""
    out: list[dict[str, str]] = []
    for d in f.decorator_list:
        if not (isinstance(d, ast.Call) and ast.unparse(d.func).endswith("parametrize") and len(d.args) >= 2):
            continue
        if not isinstance(d.args[0], ast.Constant) or not isinstance(d.args[1], (ast.List, ast.Tuple)):
            continue
        keys = [k.strip() for k in str(d.args[0].value).split(",")]
        for case in d.args[1].elts:
            values = case.elts if isinstance(case, ast.Tuple) else [case]
            texts = [_text(v, {}) for v in values]
            out.append({k: t for k, t in zip(keys, texts, strict=False) if t is not None})
    return out


MODULES = sorted(path.name for path in TESTS.glob("test_*.py"))


def test_the_corpora_are_there():
    assert len(BAD_FILES) > 150
    written = {text for module in MODULES for text in written_in(module).values()}
    assert len(written) >= 60  # the scenarios written out in the test modules


@pytest.mark.parametrize("name", bundled_names())
def test_a_bundled_scenario_is_ok_as_it_loads(name):
    verdict, text = same_verdict(load_scenario, check_scenario, name)
    assert verdict == "ok" and text == str(load_scenario(name))


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_bad_file_gets_the_same_message_from_the_check_as_from_loading(path):
    verdict, _ = same_verdict(load_scenario, check_scenario, str(path))
    assert verdict == ("ok" if path.parent.name == "data" else "error")


@pytest.mark.parametrize("module", MODULES)
def test_the_scenarios_written_in_a_test_module_get_the_same_verdict(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a csv path of the document is looked for here: found or not, alike
    for where, text in written_in(module).items():
        try:
            same_verdict(loads_scenario, checks_scenario, text)
        except AssertionError as e:
            raise AssertionError(f"the scenario written at {where}: {e}") from e


@pytest.mark.parametrize("path", BAD_FILES[:40], ids=lambda p: p.stem)
def test_the_command_prints_what_loading_raises(path, capsys):
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    assert main(["--check", str(path)]) == 2
    assert capsys.readouterr().err == str(info.value) + "\n"


@settings(BUDGET)
@given(name=st.sampled_from(sorted(SCENARIOS)), data=st.data(), count=st.integers(1, 4))
def test_mutated_bundled_scenarios_get_the_same_verdict(name, data, count):
    text = toml_document(mutate(SCENARIOS[name], data, count))
    same_verdict(
        lambda t: loads_scenario(t, base=bundled_root()),
        lambda t: checks_scenario(t, base=bundled_root()),
        text,
    )


# -- no numpy ----------------------------------------------------------------------------------


def modules_after_check(*names: str) -> set[str]:
    code = (
        "import json, sys\nfrom tui_backprop.__main__ import main\n"
        f"code = main(['--check', *{list(names)!r}])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    code, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert code == 0, out.stderr
    return set(modules)


def test_checking_every_bundled_scenario_loads_no_numpy():
    loaded = modules_after_check(*bundled_names())
    assert "tui_backprop.scenario.check" in loaded  # the check did read them
    assert not [m for m in loaded if m.split(".")[0] == "numpy"]
    assert "tui_backprop.scenario.arrays" not in loaded
    assert "tui_backprop.scenario.reader" not in loaded  # the Scenario, costly to define, is not made


def test_a_check_that_needs_drawn_numbers_loads_numpy(tmp_path):
    text = (bundled_root() / "circle.toml").read_text("utf-8")
    path = tmp_path / "features.toml"  # a test set standardised by the training set: numpy decides
    path.write_text(
        text.replace("[network]\nlayers = [2,", "[network]\nlayers = [3,")
        .replace(
            "test_fraction = 0.25",
            'test_fraction = 0.25\nstandardize = true\nfeatures = ["x1", "x2", "x1^3"]',
        )
        .replace('input_names = ["x1", "x2"]\n', ""),
        encoding="utf-8",
    )
    assert "numpy" in modules_after_check(str(path))


# -- the deferred checks, against numbers drawn here ----------------------------------------


XOR_TANH = """
[scenario]
name = "xor drawn, tanh"
[network]
layers = [2, 3, 1]
activation = "tanh"
[data]
generator = "xor"
samples = 40
seed = 3
[training]
loss = "LOSS"
learning_rate = 0.1
"""


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_a_generated_set_whose_targets_the_loss_refuses_names_the_first_bad_row(loss):
    text = XOR_TANH.replace("LOSS", loss)
    verdict, message = same_verdict(loads_scenario, checks_scenario, text)
    assert verdict == "error"
    from tui_backprop.engine.datasets import generate

    _, T = generate("xor", 40, 0.0, 3, 2, 1, -1.0)  # tanh output, one node: class 0 is -1
    bad = [i for i, t in enumerate(T[:, 0]) if (t < 0 or t > 1) if loss == "bce"] or [
        i for i, t in enumerate(T[:, 0]) if abs(t - 1) > 1e-9
    ]
    assert f"(data row {bad[0] + 1})" in message
    assert f"[data] generator: {loss}" in message


def test_target_accuracy_on_a_generated_regression_is_refused_after_its_numbers():
    text = XOR_TANH.replace('"xor"', '"plane"').replace('"tanh"', '"sigmoid"').replace("LOSS", "mse")
    text += "target_accuracy = 0.9\n"
    verdict, message = same_verdict(loads_scenario, checks_scenario, text)
    assert verdict == "error" and "[training] target_accuracy: needs a classifier" in message


FEATURES = """
[scenario]
name = "features of big numbers"
[network]
layers = [2, 1]
activation = "identity"
[data]
inputs = [[1.0], [2.0], [1e103], [3.0], [1e200]]
targets = [[0.0], [1.0], [0.0], [1.0], [0.0]]
features = ["x1", "x1^3"]
[training]
loss = "mse"
learning_rate = 0.1
"""


def first_infinite(X: np.ndarray) -> int | None:
    """The first row whose cube is not finite, computed in the test (x * x * x in numpy)."""
    with np.errstate(over="ignore"):
        bad = np.flatnonzero(~np.isfinite(X[:, 0] * X[:, 0] * X[:, 0]))
    return int(bad[0]) if bad.size else None


def test_a_feature_that_is_not_finite_is_found_without_numpy_when_nothing_is_drawn():
    verdict, message = same_verdict(loads_scenario, checks_scenario, FEATURES)
    row = first_infinite(np.array([[1.0], [2.0], [1e103], [3.0], [1e200]]))
    assert verdict == "error" and f"x1^3 of data row {row + 1} is not a finite number" in message


def test_a_feature_that_is_not_finite_in_a_held_out_set_is_found_after_the_draw():
    text = FEATURES.replace("[training]", "test_fraction = 0.4\nseed = 2\n[training]")
    verdict, message = same_verdict(loads_scenario, checks_scenario, text)
    X = np.array([[1.0], [2.0], [1e103], [3.0], [1e200]])
    order = np.random.default_rng(2).permutation(5)  # the split as docs/scenarios.md states it
    test, train = np.sort(order[:2]), np.sort(order[2:])
    expected = [
        f"x1^3 of {which}data row {row + 1}"
        for which, rows in (("", train), ("test ", test))
        if (row := first_infinite(X[rows])) is not None
    ]
    assert verdict == "error" and expected
    assert all(e in message for e in expected)


def test_standardised_features_are_finite_and_need_no_numpy_to_say_so():
    text = (
        FEATURES.replace("1e103", "1e90")
        .replace("1e200", "-1e95")
        .replace("[training]", "standardize = true\n[training]")
    )
    assert same_verdict(loads_scenario, checks_scenario, text)[0] == "ok"


# -- the numpy-free rules agree with the engine ------------------------------------------------


def test_the_engine_names_are_the_engine_tables():
    from tui_backprop.engine import names
    from tui_backprop.engine.activations import ACTIVATIONS
    from tui_backprop.engine.datasets import PLANE_SETS
    from tui_backprop.engine.losses import LOSSES
    from tui_backprop.engine.optimizers import OPTIMIZERS

    assert tuple(ACTIVATIONS) == names.ACTIVATION_NAMES
    assert {k: v.needs_output for k, v in LOSSES.items()} == names.LOSS_OUTPUTS
    assert set(OPTIMIZERS) == set(names.OPTIMIZER_PARAMS)
    assert tuple(PLANE_SETS) == names.PLANE_SETS
    assert set(names.REGRESSION) <= set(names.PLANE_SETS)


@settings(BUDGET)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 4),
    data=st.data(),
)
def test_classes_read_as_the_engine_reads_them(rows, cols, data):
    from tui_backprop.engine.accuracy import classifier_of
    from tui_backprop.scenario.problems import float_rows
    from tui_backprop.scenario.targets import classes

    values = (
        st.sampled_from([0.0, 1.0, -0.0, 0.5, 2.0])
        if data.draw(st.booleans())
        else st.sampled_from([0.0, 1.0])
    )
    T = [[data.draw(values) for _ in range(cols)] for _ in range(rows)]
    kind = classes(float_rows(T, cols))
    binary = classifier_of("sigmoid", "bce", np.array(T)) is not None
    multiclass = classifier_of("softmax", "cross_entropy", np.array(T)) is not None
    assert (kind is not None) == binary
    assert (kind == "one-hot") == multiclass


@settings(BUDGET)
@given(
    v=st.lists(
        st.lists(
            st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False)),
            min_size=2,
            max_size=2,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_numbers_read_without_numpy_are_numpys_to_the_bit(v):
    from tui_backprop.scenario.arrays import array_of
    from tui_backprop.scenario.problems import float_rows

    rows = float_rows(v, 2)
    assert rows is not None
    assert array_of(rows).tobytes() == np.array(v, dtype=float).tobytes()


@settings(BUDGET)
@given(
    term=st.sampled_from(["x1", "x1^2", "x1^3", "x1*x2", "sin(x1)", "cos(999999*x2)", "sin(0.5*x1)"]),
    x=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2, max_size=2),
)
def test_a_feature_is_finite_without_numpy_exactly_when_it_is_with_it(term, x):
    from tui_backprop.engine.features import parse_features
    from tui_backprop.engine.terms import parse_term, value

    computed = parse_features([term])(np.array([x]))[0, 0]
    assert math.isfinite(value(parse_term(term), x)) == bool(np.isfinite(computed))


@settings(BUDGET)
@given(
    name=st.sampled_from(["xor", "circle", "gauss", "spiral", "moons", "plane", "blobs"]),
    scale=st.sampled_from([0.0, 1e-300, 1.0, 1e6]),
    seed=st.integers(0, 2**32),
)
def test_generated_points_stay_below_the_bound_that_keeps_features_finite(name, scale, seed):
    from tui_backprop.engine.datasets import generate
    from tui_backprop.scenario.format_v1 import MAX_SCALE
    from tui_backprop.scenario.sources import DRAWN_BOUND

    n_in, n_out = (3, 4) if name == "blobs" else (2, 1)
    X, _ = generate(name, 2000, max(scale, 0.0), seed, n_in, n_out, 0.0, MAX_SCALE, MAX_SCALE)
    assert np.abs(X).max() < DRAWN_BOUND
    with np.errstate(over="raise"):
        assert np.isfinite(X * X * X).all() and np.isfinite(999999.999999 * X).all()


@settings(BUDGET)
@given(
    T=st.lists(
        st.lists(
            st.sampled_from([0.0, 1.0, 0.5, 0.25, -0.0, 1e-10, 1 - 1e-10, 0.3, 0.7, -0.1]),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_cross_entropy_rule_finds_the_row_numpy_finds(T):
    """The first row that is not a distribution, as the reader finds it, against numpy's sums
    (the rule is to 1e-9; the rows drawn here are far from that edge or exactly on 1)."""
    from tui_backprop.scenario.problems import Reader, float_rows
    from tui_backprop.scenario.targets import check_targets

    r = Reader({}, {})
    check_targets(r, float_rows(T, 3), "cross_entropy", None)
    A = np.array(T)
    bad = np.flatnonzero((A < 0).any(axis=1) | (np.abs(A.sum(axis=1) - 1) > 1e-9))
    assert [p.split(":")[0] for p in r.problems] == ([f"[data] targets[{bad[0]}]"] if bad.size else [])


def test_target_accuracy_is_checked_on_the_targets_even_when_the_inputs_are_wrong():
    """Every problem of the file, as loading always listed them: a row of the inputs too short
    does not hide that targets of 0.5 make no classifier."""
    text = FEATURES.replace('features = ["x1", "x1^3"]\n', "").replace("[2, 1]", "[1, 1]")
    text = text.replace("[[1.0], [2.0]", "[[1.0, 5.0], [2.0]").replace('"identity"', '"sigmoid"')
    text = text.replace("[[0.0], [1.0], [0.0]", "[[0.5], [1.0], [0.0]") + "target_accuracy = 0.9\n"
    verdict, message = same_verdict(loads_scenario, checks_scenario, text)
    assert verdict == "error"
    assert "[data] inputs[0]: expected 1 number, got 2" in message
    assert "[training] target_accuracy: needs a classifier" in message
