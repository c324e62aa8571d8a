"""Every node has a name of its own, and the biases a label that no node has (scenario/names.py).

``input_names = ["a", "b", "c"]`` used to give two rows named ``b→h1`` in the weights panel (the
input b and the bias). Names given twice, or given to two nodes (an output named like an input
or like a hidden node), are refused at load, naming the key (the bad files
tests/bad_scenarios/*_names_*.toml check the messages); a node may be called b, and the biases
are then labelled +1.
"""

from __future__ import annotations

import pytest
from app_harness import drive, weight_rows

from tui_backprop import load_scenario
from tui_backprop.cli import main
from tui_backprop.scenario.names import bias_label, name_problems, node_names
from tui_backprop.scenario.reader import bundled_names
from tui_backprop.tui.app import BackpropApp

ABC = """\
[scenario]
name = "three inputs, one called b"

[network]
layers = [3, 2, 1]
activation = "sigmoid"

[data]
inputs = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
targets = [0, 1, 1, 0]
input_names = ["a", "b", "c"]

[training]
loss = "mse"
learning_rate = 0.5
"""


async def test_an_input_called_b_and_the_bias_get_rows_of_their_own(tmp_path):
    path = tmp_path / "abc.toml"
    path.write_text(ABC, encoding="utf-8")
    app = BackpropApp(load_scenario(str(path)))
    async with drive(app) as s:
        assert app.net.bias_label == "+1"
        await s.press("space")  # space: a step, so that the gradients panel has its grid
        rows = [f"{m['src']}→{m['dst']}" for m in weight_rows(s.panel("weights"))]
        assert len(rows) == len(set(rows)) == 3 * 2 + 2 + 2 * 1 + 1  # every weight and bias once
        assert "b→h1" in rows and "+1→h1" in rows and "+1→y" in rows
        assert "b→h1" in s.screen() and "+1→h1" in s.screen()
        header = next(line for line in s.panel("gradients").splitlines() if "  a  " in line)
        assert header.split() == ["a", "b", "c", "│", "+1"]  # grad_w's columns │ grad_b's


async def test_the_bias_is_b_when_no_node_is_called_b():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        assert app.net.bias_label == "b"
        assert "b→h1" in s.panel("weights")


@pytest.mark.parametrize(
    "layers, inputs, outputs, key, says",
    [
        ([3, 2, 1], ["a", "a", "c"], [], "input_names", "'a' is given twice"),
        ([2, 2, 1], ["a", "  "], [], "input_names", "'  ': a name must not be blank"),
        ([2, 2, 1], ["h1", "q"], [], "input_names", "'h1' is also the name of hidden node 1 of layer 1"),
        ([2, 2, 2, 1], ["x", "q"], ["h2.1"], "output_names", "'h2.1' is also the name of hidden node 1"),
        ([2, 2, 1], ["p", "q"], ["q"], "output_names", "'q' is also the name of an input"),
        ([2, 2, 1], ["y", "q"], [], "input_names", "'y' is also the name of an output"),
        ([2, 2, 2], [], ["x1", "z"], "output_names", "'x1' is also the name of an input"),
        ([2, 2, 2], [], ["z", "z"], "output_names", "'z' is given twice"),
    ],
)
def test_names_that_two_nodes_would_share_are_refused(layers, inputs, outputs, key, says):
    problems = name_problems(layers, inputs, outputs)
    assert len(problems) == 1 and problems[0][0] == key and says in problems[0][1]


def test_csv_names_that_collide_say_which_key_renames_them(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("x,y,label\n0,0,x\n0,1,y\n1,0,y\n1,1,x\n", encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        """\
[scenario]
name = "classes named like the inputs"

[network]
layers = [2, 3, 2]
activations = ["tanh", "softmax"]

[data]
csv = "d.csv"
target_columns = ["label"]
one_hot = ["label"]

[training]
loss = "cross_entropy"
learning_rate = 0.1
""",
        encoding="utf-8",
    )
    assert main(["--check", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert f"error: {scenario}: [data] output_names: 'x' is also the name of an input" in err
    assert "give output_names to name the nodes" in err
    named = scenario.read_text().replace(
        'one_hot = ["label"]', 'one_hot = ["label"]\noutput_names = ["X", "Y"]'
    )
    scenario.write_text(named, encoding="utf-8")  # output_names given: the classes renamed
    assert load_scenario(str(scenario)).output_names == ("X", "Y")


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_scenario_names_each_node_and_the_bias_apart(name):
    s = load_scenario(name)
    names = node_names(s.layers, s.input_names, s.output_names)
    every = [n for layer in names for n in layer]
    assert len(every) == len(set(every))
    assert bias_label(names) not in every


def test_bias_label_takes_the_first_label_no_node_has():
    assert bias_label([["x1", "x2"], ["y"]]) == "b"
    assert bias_label([["a", "b"], ["y"]]) == "+1"
    assert bias_label([["b", "+1"], ["bias"]]) == "b′"
