"""Engineered input features ([data] features, engine/features.py): the terms computed here
independently, the grammar and its refusals, a network trained on features (its records, its
gradients by finite differences), the trace and --check, the decision boundary over the raw plane,
and the bundled spiral_features against the same model without features."""

from __future__ import annotations

import json
import re
from importlib import resources

import numpy as np
import pytest

from tui_backprop import Trainer, loads_scenario
from tui_backprop.cli import main
from tui_backprop.engine.boundary import extent, grid_points, output_grid, plane_inputs
from tui_backprop.engine.features import FeatureError, parse_features, parse_term
from tui_backprop.scenario.reader import ScenarioError, load_scenario
from tui_backprop.trace.reader import read_trace

TERMS = ["x1", "x2", "x1^2", "x2^3", "x1*x2", "sin(x1)", "cos(x2)", "sin(2.5*x2)", "x2*x2"]


def by_hand(X: np.ndarray) -> np.ndarray:
    """TERMS of the rows of X (N, 2), each written out."""
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack(
        [x1, x2, x1 * x1, x2 * x2 * x2, x1 * x2, np.sin(x1), np.cos(x2), np.sin(2.5 * x2), x2 * x2]
    )


def test_each_term_is_the_function_its_text_names():
    X = np.random.default_rng(0).uniform(-3, 3, size=(50, 2))
    features = parse_features(TERMS)
    np.testing.assert_allclose(features(X), by_hand(X), rtol=1e-15, atol=0)
    assert features.names == tuple(TERMS)
    assert features.n_raw == 2 and features.raw_names == ("x1", "x2")


def test_spaces_are_ignored_and_the_term_is_shown_without_them():
    assert parse_term(" x1 * x2 ").text == "x1*x2"
    assert parse_term("sin( 2 * x3 )").text == "sin(2*x3)"
    assert parse_features(["x3"]).n_raw == 3  # the highest index names the raw inputs


@pytest.mark.parametrize(
    "term",
    [
        "x0",
        "x",
        "y1",
        "x1^4",
        "x1^",
        "x1**2",
        "x1+x2",
        "exp(x1)",
        "sin(x1)*x2",
        "sin(-1*x1)",
        "sin(0*x1)",
        "__import__('os')",
        "x1*x2*x3",
        "",
        "sin x1",
        "x01",
    ],
)
def test_a_term_outside_the_grammar_is_refused_naming_it(term):
    with pytest.raises(FeatureError) as info:
        parse_term(term)
    assert info.value.term == term
    assert repr(term) in str(info.value)


def test_the_message_says_what_the_grammar_allows():
    with pytest.raises(FeatureError) as info:
        parse_term("tanh(x1)")
    for allowed in ("xi^2", "xi^3", "xi*xj", "sin(xi)", "cos(xi)"):
        assert allowed in info.value.why


@pytest.mark.parametrize(("a", "b"), [("x1*x2", "x2*x1"), ("x1^2", "x1*x1"), ("sin(x1)", "sin(1*x1)")])
def test_the_same_feature_twice_is_refused(a, b):
    with pytest.raises(FeatureError, match="same feature"):
        parse_features([a, b])


# -- a scenario with features -----------------------------------------------------------------

INLINE = """\
[scenario]
name = "features"
[network]
layers = [4, 3, 1]
activation = "tanh"
[init]
seed = 2
[data]
inputs = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [2.0, 1.0], [-1.0, -0.5], [0.1, 0.9]]
targets = [0.2, -0.4, 0.6, 0.1, -0.3, 0.5]
features = ["x1", "x1*x2", "sin(x2)", "x2^2"]
[training]
loss = "mse"
learning_rate = 0.3
batch = 2
max_steps = 100
"""


def inline_features(X: np.ndarray) -> np.ndarray:
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([x1, x1 * x2, np.sin(x2), x2 * x2])


def test_the_network_trains_on_the_features_of_the_raw_inputs():
    s = loads_scenario(INLINE)
    raw = np.array(re.findall(r"\[(-?[\d.]+), (-?[\d.]+)\]", INLINE.split("targets")[0]), dtype=float)
    np.testing.assert_array_equal(s.raw_inputs, raw)
    np.testing.assert_allclose(s.inputs, inline_features(raw), rtol=1e-15)
    assert s.input_names == ("x1", "x1*x2", "sin(x2)", "x2^2")  # the input nodes, by their term
    t = Trainer(s)
    np.testing.assert_array_equal(t.X_raw, raw)
    for rec in t.run(5):  # each record's x: the features of its batch's raw rows
        np.testing.assert_allclose(rec.x, inline_features(raw[list(rec.batch)]), rtol=1e-15)


def test_the_gradient_with_features_is_the_finite_difference_of_the_loss(ref):
    s = loads_scenario(INLINE)
    t = Trainer(s)
    t.run(3)
    W, b = [np.array(w) for w in t.W], [np.array(v) for v in t.b]
    rec = t.step()
    x = inline_features(s.raw_inputs[list(rec.batch)])  # the network's inputs, made here
    tt = np.asarray(s.targets)[list(rec.batch)]
    for l, layer in enumerate(rec.layers):
        for idx in np.ndindex(W[l].shape):

            def loss(eps, l=l, idx=idx):
                nudged = [w.copy() for w in W]
                nudged[l][idx] += eps
                return ref.batch_loss(nudged, b, s.activations, s.loss, x, tt)

            assert layer.grad_w[idx] == pytest.approx(ref.five_point(loss, 1e-4), abs=1e-9)


def test_standardize_and_the_test_split_work_on_the_raw_inputs():
    text = INLINE.replace("[data]\n", "[data]\nstandardize = true\ntest_fraction = 0.34\nseed = 4\n")
    s = loads_scenario(text)
    assert s.raw_inputs.mean(axis=0) == pytest.approx([0, 0], abs=1e-12)  # standardised, raw
    np.testing.assert_allclose(s.inputs, inline_features(s.raw_inputs), rtol=1e-15)
    np.testing.assert_allclose(s.test_inputs, inline_features(s.raw_test_inputs), rtol=1e-15)
    assert len(s.test_inputs) == 2 and s.test_inputs.shape[1] == 4


def test_features_go_into_the_trace_scenario_and_its_data_holds_the_raw_rows(tmp_path, capsys):
    src = tmp_path / "f.toml"
    src.write_text(INLINE, encoding="utf-8")
    path = tmp_path / "f.json"
    assert main([str(src), "--headless", "--steps", "12", "--export", str(path)]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["scenario"]["data"]["features"] == ["x1", "x1*x2", "sin(x2)", "x2^2"]
    assert np.array(doc["data"]["inputs"]).shape == (6, 2)
    assert main(["--check", str(path)]) == 0
    recording = read_trace(path)
    assert recording.scenario.features.names == ("x1", "x1*x2", "sin(x2)", "x2^2")
    again = Trainer(loads_scenario(INLINE)).run(12)
    for replayed, live in zip(recording.records, again, strict=True):
        np.testing.assert_array_equal(replayed.x, live.x)
    capsys.readouterr()
    doc["scenario"]["data"]["features"][2] = "cos(x2)"  # a trace that lies about a feature
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["--check", str(forged)]) == 2
    assert "step 1, layer 1, z" in capsys.readouterr().err


def test_a_generated_set_with_features_and_a_test_set_is_checked_end_to_end(tmp_path, capsys):
    path = tmp_path / "spiral.json"
    assert main(["spiral_features", "--headless", "--steps", "30", "--export", str(path)]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert np.array(doc["test_data"]["inputs"]).shape == (75, 2)  # raw rows, as the data's
    assert main(["--check", str(path)]) == 0
    assert "every number recomputed" in capsys.readouterr().out


# -- the decision boundary over the raw plane ----------------------------------------------------


def test_the_boundary_of_a_features_network_is_the_network_on_the_features_of_the_raw_points():
    s = load_scenario("spiral_features")
    t = Trainer(s)
    t.run(50, record=False)
    ext = extent(t.X_raw)
    cols, rows = 9, 6
    points = grid_points(ext, cols, rows)  # raw (x1, x2) points
    assert points.shape == (rows * cols, 2)
    x1, x2 = points[:, 0], points[:, 1]
    features = [x1, x2] + [f(k * x) for k in (1, 1.5, 2, 2.5, 3) for f, x in ((np.sin, x1), (np.sin, x2))]
    A0 = np.column_stack(features)  # in the file's order: sin(k x1), sin(k x2) for each k
    order = list(s.features.names)
    mine = ["x1", "x2"] + [f"sin({k}x{i})" for k in ("", "1.5*", "2*", "2.5*", "3*") for i in (1, 2)]
    assert order == mine
    np.testing.assert_allclose(plane_inputs(ext, cols, rows, s.features), A0, rtol=1e-15)
    z = A0 @ t.W[0].T + t.b[0]
    y = np.exp(z - z.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    grid = output_grid(t.network, t.W, t.b, ext, cols, rows, s.features)
    np.testing.assert_allclose(grid, y.reshape(rows, cols, 2), rtol=1e-12)


async def test_the_app_draws_the_boundary_over_x1_and_x2_and_names_the_inputs_by_feature():
    from tui_backprop.tui.app import BackpropApp
    from tui_backprop.tui.panels.boundary import BoundaryPanel

    app = BackpropApp(load_scenario("spiral_features"))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("space")  # one step
        await pilot.pause()
        panel = app.query_one(BoundaryPanel)
        assert panel.display and panel.axes == ("x1", "x2")
        assert panel.X.shape == (225, 2)
        assert app.net.names[0][2:4] == ("sin(x1)", "sin(x2)")
        assert panel.grid is not None and panel.grid.shape[2] == 2


# -- the bundled variant of spiral ------------------------------------------------------------------


def _accuracy(t: Trainer, X: np.ndarray, T: np.ndarray) -> float:
    _, acts = t.network.forward(t.W, t.b, X)
    return float(np.mean(np.argmax(acts[-1], axis=1) == np.argmax(T, axis=1)))


def test_spiral_features_separates_the_spiral_far_better_than_the_same_layer_on_x1_x2():
    """The same softmax layer, data, init, rate, batches and 1,500 steps; only the inputs differ."""
    text = resources.files("tui_backprop.scenarios").joinpath("spiral_features.toml").read_text("utf-8")
    plain_text = re.sub(r"(?ms)^features = \[.*?\]\n", "", text).replace(
        "layers = [12, 2]", "layers = [2, 2]"
    )
    assert "features" not in plain_text.split("[data]")[1].split("[training]")[0]
    runs = {}
    for name, scenario in (("features", loads_scenario(text)), ("plain", loads_scenario(plain_text))):
        t = Trainer(scenario)
        t.run(1500, record=False)
        runs[name] = (_accuracy(t, t.X, t.T), _accuracy(t, t.X_test, t.T_test), t.final_train_loss)
    (f_train, f_test, f_loss), (p_train, p_test, p_loss) = runs["features"], runs["plain"]
    assert p_test < 0.7 and p_train < 0.7  # a straight line through two spirals: near chance
    assert f_test > 0.85 and f_train > 0.85
    assert f_loss < 0.5 * p_loss


def test_a_bad_features_key_on_the_command_line_names_the_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(INLINE.replace('"sin(x2)"', '"log(x2)"'), encoding="utf-8")
    assert main(["--check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: [data] features[2]: 'log(x2)' is not a feature")
    with pytest.raises(ScenarioError):
        loads_scenario(INLINE.replace("layers = [4, 3, 1]", "layers = [3, 3, 1]"))


def test_input_names_with_features_name_the_feature_nodes(tmp_path, capsys):
    named = loads_scenario(INLINE.replace("[data]\n", '[data]\ninput_names = ["a", "b", "c", "d"]\n'))
    assert named.input_names == ("a", "b", "c", "d")
    path = tmp_path / "two.toml"
    path.write_text(INLINE.replace("[data]\n", '[data]\ninput_names = ["u", "v"]\n'), encoding="utf-8")
    assert main(["--check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[data] input_names: expected 4 names" in err and "one name a feature" in err


def test_a_script_export_is_refused_with_features_rather_than_wrong(capsys):
    assert main(["spiral_features", "--export-code", "numpy"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--export-code: [data] features:" in err
