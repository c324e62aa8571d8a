"""--set TABLE.KEY=VALUE: a scenario key overridden for one run, before validation.

Each good override is checked against a scenario file written with that value: the run
and its trace must be the same, byte for byte. Each bad one must exit with code 2 and a
message that names the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenario_text import bundled_text, with_line

from tui_backprop import load_scenario
from tui_backprop.cli import main
from tui_backprop.scenario.overrides import OverrideError, parse_set, parse_value, parse_vary, split_values
from tui_backprop.scenario.reader import ScenarioError


def headless_trace(tmp_path: Path, name: str, *args: str) -> tuple[int, bytes]:
    out = tmp_path / f"{name}.json"
    code = main([*args, "--headless", "--steps", "30", "--export", str(out)])
    return code, out.read_bytes()


# -- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.1", 0.1),
        ("4", 4),
        ("-2.5e-3", -2.5e-3),
        ("true", True),
        ('"sample"', "sample"),
        ("sample", "sample"),  # a bare word that is not TOML: a string
        ("leaky_relu", "leaky_relu"),
        ("[2, 4, 1]", [2, 4, 1]),
        ("[[[0.5]]]", [[[0.5]]]),
        ("'it, is'", "it, is"),
    ],
)
def test_parse_value(text, value):
    got = parse_value(text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("text", ["[1,", "0.1.2", "1 2", '"open', "{", ".5"])
def test_parse_value_refuses_what_is_neither_toml_nor_a_word(text):
    with pytest.raises(ValueError, match="not a TOML value"):
        parse_value(text)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("full,sample,4", ["full", "sample", "4"]),
        ("[1,1],[1,3,1]", ["[1,1]", "[1,3,1]"]),
        ('"a,b",c', ['"a,b"', "c"]),
        ("[[1, 2], [3]], 4", ["[[1, 2], [3]]", "4"]),
        ("0.01, 0.1", ["0.01", "0.1"]),
    ],
)
def test_split_values_on_top_level_commas(text, parts):
    assert split_values(text) == parts


def test_parse_vary_keeps_the_order_and_the_text():
    vs = parse_vary("init.seed=3,1,2")
    assert [(v.table, v.key, v.value, v.text) for v in vs] == [("init", "seed", n, str(n)) for n in (3, 1, 2)]


# -- good overrides reach the trainer --------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, table, key, value, line",
    [
        ("xor", "training", "learning_rate", "0.1", "learning_rate = 0.1"),
        ("xor", "training", "batch", "4", "batch = 4"),
        ("xor", "training", "batch", "sample", 'batch = "sample"'),
        ("xor", "training", "batch", '"sample"', 'batch = "sample"'),
        ("xor", "init", "seed", "11", "seed = 11"),
        ("xor", "network", "layers", "[2, 5, 1]", "layers = [2, 5, 1]"),
        ("xor", "training", "shuffle", "true", "shuffle = true"),
        ("linear_neuron_full", "init", "weights", "[[[1.5]]]", "weights = [[[1.5]]]"),
        ("linear_neuron_full", "training", "target_loss", "0.5", "target_loss = 0.5"),
    ],
)
def test_set_runs_as_a_file_with_that_value(tmp_path, capsys, scenario, table, key, value, line):
    written = tmp_path / f"{scenario}.toml"
    # the run's name says the flag (the name shown and traced never names another network)
    name = f"{load_scenario(scenario).name} (--set {table}.{key}={value})"
    text = with_line(bundled_text(scenario), table, key, line)
    written.write_text(with_line(text, "scenario", "name", f"name = {json.dumps(name)}"))
    code_set, trace_set = headless_trace(tmp_path, "set", scenario, "--set", f"{table}.{key}={value}")
    code_file, trace_file = headless_trace(tmp_path, "file", str(written))
    assert code_set == code_file == 0
    doc = json.loads(trace_set)
    assert doc["scenario"] == load_scenario(written).to_dict()
    expected = parse_value(value)
    if key != "weights":  # explicit weights are in "init" as floats
        shown = doc["scenario"][table].get(key, doc["scenario"][table].get("activations"))
        assert shown == expected
    assert trace_set == trace_file
    # and the override changed something: the bundled scenario's own run differs
    _, trace_plain = headless_trace(tmp_path, "plain", scenario)
    assert trace_plain != trace_set


def test_set_is_repeatable_and_adds_an_optional_table(tmp_path):
    text = bundled_text("linear_neuron_full")
    written = tmp_path / "s.toml"
    written.write_text(
        with_line(with_line(text, "training", "batch", "batch = 3"), "training", "seed", "seed = 5")
    )
    args = ["--set", "training.batch=3", "--set", "training.seed=5", "--set", "training.shuffle=true"]
    written.write_text(with_line(written.read_text(), "training", "shuffle", "shuffle = true"))
    flags = "--set training.batch=3 --set training.seed=5 --set training.shuffle=true"
    name = f"{load_scenario('linear_neuron_full').name} ({flags})"  # the name says the flags
    written.write_text(with_line(written.read_text(), "scenario", "name", f"name = {json.dumps(name)}"))
    assert (
        headless_trace(tmp_path, "a", "linear_neuron_full", *args)[1]
        == headless_trace(tmp_path, "b", str(written))[1]
    )
    # [init] is optional: a file without it gets one from --set
    bare = tmp_path / "bare.toml"
    bare.write_text(
        '[scenario]\nname = "n"\n[network]\nlayers = [1, 1]\nactivation = "identity"\n'
        '[data]\ninputs = [[1]]\ntargets = [2]\n[training]\nloss = "mse"\nlearning_rate = 0.1\n'
    )
    assert load_scenario(bare).init.seed == 0
    assert load_scenario(bare, [parse_set("init.seed=9")]).init.seed == 9


def test_later_set_wins(capsys):
    s = load_scenario(
        "xor", [parse_set("training.learning_rate=0.3"), parse_set("training.learning_rate=0.7")]
    )
    assert s.learning_rate == 0.7


def test_check_applies_set(capsys):
    assert main(["--check", "xor", "--set", "training.learning_rate=-1"]) == 2
    assert "[training] learning_rate: must be > 0" in capsys.readouterr().err


# -- bad overrides: exit code 2, the key named, nothing written -------------------------------


BAD_SETS = [
    ("trainin.batch=4", "xor.toml: --set trainin.batch: unknown table 'trainin' (did you mean 'training'?)"),
    (
        "training.learnin_rate=0.1",
        "xor.toml: --set training.learnin_rate: unknown key (did you mean 'learning_rate'?)",
    ),
    ("network.colour=1", "xor.toml: --set network.colour: unknown key (known keys: layers,"),
    (
        "training.learning_rate=fast",
        "xor.toml: [training] learning_rate: expected a number, got a string ('fast') "
        "(from --set training.learning_rate=fast)",
    ),
    (
        "training.learning_rate=-0.5",
        "xor.toml: [training] learning_rate: must be > 0, got -0.5 (from --set training.learning_rate=-0.5)",
    ),
    ("training.batch=0", 'xor.toml: [training] batch: expected "full", "sample" or a positive integer'),
    (
        "training.batch=fullish",
        'xor.toml: [training] batch: expected "full", "sample" or a positive integer, got \'fullish\'',
    ),
    ("training.shuffle=1", "xor.toml: [training] shuffle: expected true or false, got an integer (1)"),
    ("network.layers=[2, 0, 1]", "xor.toml: [network] layers: every node count must be an integer from 1"),
    ("init.seed=inf", "xor.toml: [init] seed: expected an integer, got a float (inf)"),
    ("training.learning_rate=nan", "xor.toml: [training] learning_rate: must be a finite number"),
    ("training.learning_rate=[1,", "--set: training.learning_rate: not a TOML value: '[1,'"),
    (
        "training.learning_rate",
        "--set: expected TABLE.KEY=VALUE (training.learning_rate=0.1), got 'training.learning_rate'",
    ),
    ("learning_rate=0.1", "--set: expected TABLE.KEY=VALUE"),
    ("training.batch.size=4", "--set: expected TABLE.KEY=VALUE"),
    ("training.batch=", "--set: training.batch: no value after '='"),
]


@pytest.mark.parametrize("arg, message", BAD_SETS, ids=[a for a, _ in BAD_SETS])
def test_bad_set(tmp_path, capsys, arg, message):
    out = tmp_path / "out.json"
    assert main(["xor", "--headless", "--set", arg, "--export", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert f"error: {message}" in captured.err
    assert list(tmp_path.iterdir()) == []  # no trace, not even a temporary file


def test_errors_are_scenario_errors_for_the_api():
    with pytest.raises(ScenarioError) as info:
        load_scenario("xor", [parse_set("training.lerning_rate=1")])
    assert info.value.title == "xor.toml"
    with pytest.raises(OverrideError):
        parse_set("nothing")


def test_the_rules_of_the_format_apply_to_the_result():
    # activation and activations together are refused as in a file
    with pytest.raises(
        ScenarioError, match=r"\[network\] activations: give either activation or activations"
    ):
        load_scenario("xor", [parse_set('network.activations=["tanh", "sigmoid"]')])
    # explicit weights must match the layers, also when both come from --set
    with pytest.raises(ScenarioError, match=r"\[init\] weights"):
        load_scenario("linear_neuron_full", [parse_set("network.layers=[1, 2, 1]")])


def test_set_reaches_the_app(monkeypatch):
    opened = {}
    monkeypatch.setattr(
        "tui_backprop.tui.app.BackpropApp.run", lambda self: opened.setdefault("s", self.scenario)
    )
    assert main(["xor", "--set", "training.learning_rate=0.3", "--set", "training.batch=sample"]) == 0
    s = opened["s"]
    assert (s.learning_rate, s.batch) == (0.3, "sample")
    assert (
        s.to_dict()
        == load_scenario(
            "xor", [parse_set("training.learning_rate=0.3"), parse_set("training.batch=sample")]
        ).to_dict()
    )
