"""[data] csv: good files load into the arrays their cells say, the bundled iris data is Fisher's,
the iris scenario learns, and a held-out test set is drawn as documented. The bad files are in
tests/bad_scenarios/ (csv_*.toml, with their CSV files in csv/) and run through the real command
with the rest of that corpus in test_scenario.py."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario, loads_scenario, write_trace
from tui_backprop.cli import main
from tui_backprop.scenario.reader import ScenarioError

ROOT = Path(__file__).parent.parent
IRIS = ROOT / "scenarios" / "iris.csv"


def scenario(
    tmp_path: Path, csv_text: str, data: str, layers="[2, 3, 2]", out="softmax", loss="cross_entropy"
):
    (tmp_path / "d.csv").write_text(csv_text, encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(
        f"""
[scenario]
name = "csv"

[network]
layers = {layers}
activations = ["tanh", "{out}"]

[data]
csv = "d.csv"
{data}

[training]
loss = "{loss}"
learning_rate = 0.1
""",
        encoding="utf-8",
    )
    return path


# -- the bundled iris data ---------------------------------------------------------------------


def iris_rows() -> list[dict[str, str]]:
    with IRIS.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_iris_file_is_fishers_data():
    rows = iris_rows()
    assert len(rows) == 150
    assert list(rows[0]) == ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    species = [r["species"] for r in rows]
    assert {s: species.count(s) for s in set(species)} == {"setosa": 50, "versicolor": 50, "virginica": 50}
    means = {c: np.mean([float(r[c]) for r in rows]) for c in list(rows[0])[:4]}
    # the column means of Fisher's table (as in R's iris): 5.843, 3.057, 3.758, 1.199
    assert means["sepal_length"] == pytest.approx(876.5 / 150)
    assert means["sepal_width"] == pytest.approx(458.6 / 150)
    assert means["petal_length"] == pytest.approx(563.7 / 150)
    assert means["petal_width"] == pytest.approx(179.9 / 150)
    # the two rows where a widely copied version differs from Fisher's paper (samples 35 and 38)
    assert [rows[34][c] for c in list(rows[0])[:4]] == ["4.9", "3.1", "1.5", "0.2"]
    assert [rows[37][c] for c in list(rows[0])[:4]] == ["4.9", "3.6", "1.4", "0.1"]


def test_iris_scenario_loads_the_file_as_documented():
    s = load_scenario("iris")
    rows = iris_rows()
    X = np.array([[float(r[c]) for c in list(rows[0])[:4]] for r in rows])
    labels = ["setosa", "versicolor", "virginica"]  # sorted class labels: one-hot column order
    T = np.array([[float(r["species"] == k) for k in labels] for r in rows])
    # the test set: 30 rows, the first 30 of default_rng(seed).permutation(150), each set in file order
    seed = tomllib.loads((ROOT / "scenarios" / "iris.toml").read_text())["data"]["seed"]
    order = np.random.default_rng(seed).permutation(150)
    test, train = np.sort(order[:30]), np.sort(order[30:])
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    np.testing.assert_allclose(s.inputs, (X[train] - mean) / std)
    np.testing.assert_allclose(s.test_inputs, (X[test] - mean) / std)
    np.testing.assert_array_equal(s.targets, T[train])
    np.testing.assert_array_equal(s.test_targets, T[test])
    assert s.test_targets.sum(axis=0).tolist() == [10, 10, 10]
    assert s.input_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert s.output_names == tuple(labels)
    assert s.layers == (4, 8, 3) and s.activations == ("tanh", "softmax") and s.test_fraction == 0.2


def accuracy(trainer: Trainer, X: np.ndarray, T: np.ndarray) -> float:
    _, acts = trainer.network.forward(trainer.W, trainer.b, X)
    return float((acts[-1].argmax(axis=1) == T.argmax(axis=1)).mean())


def test_iris_scenario_learns_the_species_of_flowers_it_never_saw():
    s = load_scenario("iris")
    trainer = Trainer(s)
    assert accuracy(trainer, s.test_inputs, s.test_targets) < 0.7
    trainer.run(300, record=False)  # 20 epochs of 15 batches
    assert accuracy(trainer, s.test_inputs, s.test_targets) > 0.9


def test_csv_is_package_data_for_a_non_editable_install():
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = doc["tool"]["setuptools"]["package-data"]["tui_backprop.scenarios"]
    for f in (ROOT / "scenarios").iterdir():
        if f.suffix != ".py" and f.is_file():
            assert any(f.match(g) for g in globs), f"{f.name} would not be installed"


# -- reading CSV files --------------------------------------------------------------------------


GOOD = "x,y,label\n1,2,b\n3,4,a\n5,6,b\n7,8,c\n"


def test_columns_classes_and_names(tmp_path):
    path = scenario(tmp_path, GOOD, 'target_columns = ["label"]\none_hot = ["label"]', layers="[2, 3, 3]")
    s = load_scenario(str(path))
    np.testing.assert_array_equal(s.inputs, [[1, 2], [3, 4], [5, 6], [7, 8]])
    # classes sorted: a, b, c, whatever order the rows give them
    np.testing.assert_array_equal(s.targets, [[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert s.input_names == ("x", "y") and s.output_names == ("a", "b", "c")
    assert s.to_dict()["data"] == {
        "input_names": ["x", "y"],
        "output_names": ["a", "b", "c"],
        "csv": "d.csv",
        "target_columns": ["label"],
        "input_columns": ["x", "y"],
        "one_hot": ["label"],
    }


def test_input_columns_choose_and_order_the_inputs(tmp_path):
    text = "a,b,c,t\n1,2,3,0.5\n4,5,6,0.25\n"
    data = 'target_columns = ["t"]\ninput_columns = ["c", "a"]'
    s = load_scenario(str(scenario(tmp_path, text, data, layers="[2, 3, 1]", out="identity", loss="mse")))
    np.testing.assert_array_equal(s.inputs, [[3, 1], [6, 4]])
    np.testing.assert_array_equal(s.targets, [[0.5], [0.25]])
    assert s.input_names == ("c", "a") and s.output_names == ("t",)


def test_one_hot_inputs_and_several_targets(tmp_path):
    text = "colour,size,t1,t2\nred,1,0.1,0.2\nblue,2,0.3,0.4\nred,3,0.5,0.6\n"
    data = 'target_columns = ["t1", "t2"]\none_hot = ["colour"]'
    s = load_scenario(str(scenario(tmp_path, text, data, layers="[3, 3, 2]", out="identity", loss="mse")))
    np.testing.assert_array_equal(s.inputs, [[0, 1, 1], [1, 0, 2], [0, 1, 3]])
    assert s.input_names == ("colour=blue", "colour=red", "size")
    np.testing.assert_array_equal(s.targets, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])


def test_quotes_spaces_blank_lines_and_a_byte_order_mark(tmp_path):
    text = '\ufeff"x", "y" ,label\n\n 1.5 ,"2e-1",yes\n\n-3,4,"no"\n'
    path = scenario(tmp_path, text, 'target_columns = ["label"]\none_hot = ["label"]')
    s = load_scenario(str(path))
    np.testing.assert_array_equal(s.inputs, [[1.5, 0.2], [-3, 4]])
    assert s.output_names == ("no", "yes")


def test_names_in_the_file_win_over_the_header(tmp_path):
    data = 'target_columns = ["label"]\none_hot = ["label"]\ninput_names = ["p", "q"]'
    s = load_scenario(str(scenario(tmp_path, GOOD, data, layers="[2, 3, 3]")))
    assert s.input_names == ("p", "q") and s.output_names == ("a", "b", "c")


def test_path_is_relative_to_the_scenario_file_not_the_cwd(tmp_path, monkeypatch):
    path = scenario(tmp_path, GOOD, 'target_columns = ["label"]\none_hot = ["label"]', layers="[2, 3, 3]")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_scenario(str(path)).inputs.shape == (4, 2)


def test_text_without_a_file_reads_csv_relative_to_the_given_base(tmp_path):
    path = scenario(tmp_path, GOOD, 'target_columns = ["label"]\none_hot = ["label"]', layers="[2, 3, 3]")
    s = loads_scenario(path.read_text(), "text", base=tmp_path)
    assert s.inputs.shape == (4, 2)
    with pytest.raises(ScenarioError, match=r"\[data\] csv: no such file: d.csv"):
        loads_scenario(path.read_text(), "text", base=tmp_path / "nowhere")


def test_standardize_and_a_constant_column(tmp_path):
    text = "x,k,t\n1,5,0\n2,5,1\n6,5,1\n"
    data = 'target_columns = ["t"]\nstandardize = true'
    s = load_scenario(str(scenario(tmp_path, text, data, layers="[2, 3, 1]", out="sigmoid", loss="bce")))
    x = np.array([1.0, 2.0, 6.0])
    np.testing.assert_allclose(s.inputs[:, 0], (x - x.mean()) / x.std())
    np.testing.assert_array_equal(s.inputs[:, 1], 0.0)  # constant: shifted, not divided by 0
    assert s.to_dict()["data"]["standardize"] is True


# -- test_fraction ------------------------------------------------------------------------------


INLINE = """
[scenario]
name = "split"

[network]
layers = [1, 1]
activation = "identity"

[data]
inputs = [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]]
targets = [[0], [10], [20], [30], [40], [50], [60], [70], [80], [90]]
{extra}

[training]
loss = "mse"
learning_rate = 0.01
"""


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_test_set_is_drawn_from_the_data_seed(seed):
    s = loads_scenario(INLINE.format(extra=f"test_fraction = 0.3\nseed = {seed}"))
    test = np.sort(np.random.default_rng(seed).permutation(10)[:3])
    np.testing.assert_array_equal(s.test_inputs[:, 0], test)
    np.testing.assert_array_equal(s.inputs[:, 0], np.setdiff1d(np.arange(10), test))
    np.testing.assert_array_equal(s.test_targets, 10 * s.test_inputs)
    assert s.test_fraction == 0.3
    assert s.to_dict()["data"] == {"input_names": [], "output_names": [], "test_fraction": 0.3, "seed": seed}
    assert not s.test_inputs.flags.writeable


def test_no_test_fraction_no_test_set_and_no_new_keys():
    s = loads_scenario(INLINE.format(extra=""))
    assert s.test_inputs is None and s.test_targets is None and s.test_fraction == 0.0
    assert s.inputs.shape == (10, 1)
    assert set(s.to_dict()["data"]) == {"input_names", "output_names"}


def test_standardize_uses_the_training_set_only():
    s = loads_scenario(INLINE.format(extra="test_fraction = 0.3\nstandardize = true"))
    test = np.sort(np.random.default_rng(0).permutation(10)[:3])
    train = np.setdiff1d(np.arange(10), test).astype(float)
    np.testing.assert_allclose(s.inputs[:, 0], (train - train.mean()) / train.std())
    np.testing.assert_allclose(s.test_inputs[:, 0], (test - train.mean()) / train.std())


def test_generated_data_splits_after_it_is_drawn():
    text = """
[scenario]
name = "g"
[network]
layers = [2, 2, 1]
activations = ["tanh", "sigmoid"]
[data]
generator = "gauss"
samples = 100
seed = 3
test_fraction = 0.25
[training]
loss = "bce"
learning_rate = 0.1
"""
    s = loads_scenario(text)
    whole = loads_scenario(text.replace("test_fraction = 0.25\n", ""))
    test = np.sort(np.random.default_rng(3).permutation(100)[:25])
    np.testing.assert_array_equal(s.test_inputs, whole.inputs[test])
    assert s.inputs.shape == (75, 2)
    assert s.to_dict()["data"]["test_fraction"] == 0.25 and s.to_dict()["data"]["seed"] == 3


def test_trace_of_iris_records_the_csv_keys_and_the_training_set(tmp_path):
    s = load_scenario("iris")
    trainer = Trainer(s)
    trainer.run(2)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    validate_trace(doc)
    data = doc["scenario"]["data"]
    assert data["csv"] == "iris.csv" and data["one_hot"] == ["species"] and data["standardize"] is True
    assert data["test_fraction"] == 0.2 and data["seed"] == 4
    np.testing.assert_array_equal(doc["data"]["inputs"], s.inputs)
    assert len(doc["data"]["targets"]) == 120


def test_set_overrides_a_bundled_csv_scenario_which_still_finds_its_file(capsys):
    assert main(["--check", "iris", "--set", "data.test_fraction=0.5"]) == 0
    assert main(["--check", "iris", "--set", 'data.csv="nope.csv"']) == 2
    assert "[data] csv: no such file: nope.csv" in capsys.readouterr().err
