"""The scenario format declared once (scenario/format_v1.py): the reader, the defaults, the reference
page docs/scenario-keys.md and the JSON Schema all come from it, and the schema agrees with the reader
on every bundled scenario and every bad file that it can judge."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from tui_backprop.scenario import keys_doc
from tui_backprop.scenario.declare import REQUIRED
from tui_backprop.scenario.format_v1 import FORMAT, KEYS, TRAINING
from tui_backprop.scenario.reader import ScenarioError, load_scenario, loads_scenario

HERE = Path(__file__).parent
ROOT = HERE.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.toml"))
GOOD = BUNDLED + sorted((HERE / "data").glob("*.toml"))
BAD = sorted((HERE / "bad_scenarios").glob("*.toml"))
# the checkout's files (CI tests an installed package, whose keys_doc.ROOT is site-packages)
PAGE_FILE = ROOT / keys_doc.PAGE.relative_to(keys_doc.ROOT)
SCHEMA_FILE = ROOT / keys_doc.SCHEMA.relative_to(keys_doc.ROOT)
SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))

MINIMAL = """\
[scenario]
name = "minimal"
[network]
layers = [2, 3, 1]
activation = "tanh"
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [[0], [1], [1], [0]]
[training]
loss = "mse"
learning_rate = 0.25
"""

# bad files the reader refuses for a reason a JSON Schema cannot state, each with that reason
BEYOND_THE_SCHEMA = {
    # not TOML, or not a document the schema sees
    "not_utf8": "not UTF-8",
    "nested_too_deeply": "not TOML the reader parses",
    "toml_duplicate_key": "not TOML",
    "toml_invalid_statement": "not TOML",
    "toml_syntax_error": "not TOML",
    "integer_too_many_digits": "not TOML the reader parses",
    # a number that is not finite: JSON has none, and a schema's "number" lets nan and inf through
    "init_low_nan": "nan",
    "inputs_nan": "nan",
    "l2_inf": "inf",
    "learning_rate_inf": "inf",
    "targets_inf": "inf",
    # against [network] layers: shapes, counts and names
    "activations_length": "one name per layer",
    "explicit_biases_shape": "shapes",
    "explicit_weights_layer_count": "shapes",
    "explicit_weights_shape": "shapes",
    "inputs_row_length": "shapes",
    "targets_row_count": "rows of inputs",
    "targets_width": "shapes",
    "input_names_length": "one name a node",
    "input_names_blank": "a name the screen can show",
    "input_names_twice": "names used once across layers",
    "output_names_hidden": "names used once across layers",
    "output_names_input": "names used once across layers",
    "layers_too_many_weights": "a product of the layers",
    "softmax_hidden": "the position of softmax",
    "softmax_hidden_by_activation": "softmax on every layer",
    "explicit_biases_without_bias": "[network] bias, another table",
    "explicit_without_biases": "[network] bias, another table",
    # between tables: the loss against the output layer, the targets against the loss
    "bce_without_sigmoid": "another table",
    "cross_entropy_without_softmax": "another table",
    "softmax_with_mse": "another table",
    "bce_target_out_of_range": "the targets against the loss",
    "cross_entropy_negative_target": "the targets against the loss",
    "cross_entropy_row_sum": "a sum",
    "generator_blobs_one_output": "the generator against the layers",
    "generator_plane_bce": "the generator against the loss",
    "generator_softmax_one_output": "the generator against the layers",
    "generator_three_inputs": "the generator against the layers",
    "generator_three_outputs": "the generator against the layers",
    "samples_too_many": "samples x nodes",
    "test_fraction_leaves_no_test_sample": "round(fraction x samples)",
    "uniform_low_not_below_high": "one key against another's value",
    "init_uniform_range_overflow": "high - low overflows",
    "name_empty": "blank, not only empty",
    # the CSV file's contents
    **{p.stem: "the CSV file" for p in BAD if p.stem.startswith("csv_") and p.stem != "csv_and_inputs"},
    "input_columns_overlap": "the CSV file's columns",
    "one_hot_unknown_column": "the CSV file's columns",
    # [data] features: its grammar, the count against [network] layers, the data through it
    "features_unknown_term": "the features' grammar",
    "features_escape_code": "the features' grammar",
    "features_duplicate": "the same feature spelt two ways",
    "features_count": "one feature an input node",
    "features_past_the_data": "the raw inputs the features name",
    "features_not_finite": "the features of the data",
    "min_learning_rate_above_rate": "one key against another's value",
    # names in a message that the schema sees as well-formed
    "key_control_character": "kept as an unknown key: refused",
}


def schema_errors(path: Path) -> list[str]:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return [e.message for e in jsonschema.Draft4Validator(SCHEMA).iter_errors(doc)]


def test_committed_page_and_schema_are_what_the_declaration_generates(monkeypatch):
    assert PAGE_FILE.read_text(encoding="utf-8") == keys_doc.page_text(), "run keys_doc"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == keys_doc.schema_text(), "run keys_doc"
    monkeypatch.setattr(keys_doc, "ROOT", ROOT)  # the checkout, also when the package is installed
    monkeypatch.setattr(keys_doc, "PAGE", PAGE_FILE)
    monkeypatch.setattr(keys_doc, "SCHEMA", SCHEMA_FILE)
    assert keys_doc.main(["--check"]) == 0
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_every_declared_key_is_on_the_page_and_in_the_schema():
    page = PAGE_FILE.read_text(encoding="utf-8")
    for table in FORMAT:
        assert f"## [{table.name}]" in page
        assert list(SCHEMA["properties"][table.name]["properties"]) == list(KEYS[table.name])
        for key in table:
            assert f"| `{key.name}` |" in page, key.name


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_good_scenario_validates_against_the_schema(path):
    load_scenario(str(path))  # the reader accepts it
    assert schema_errors(path) == []


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_the_schema_refuses_every_bad_file_it_can_judge(path):
    with pytest.raises(ScenarioError):
        load_scenario(str(path))
    if path.stem in BEYOND_THE_SCHEMA:
        try:
            errors = schema_errors(path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, ValueError):
            return  # not a document at all
        # the list is exact: a file the schema starts to refuse moves out of it
        assert errors == [] or path.stem == "key_control_character", errors
    else:
        assert schema_errors(path), f"{path.name}: the reader refuses it, the schema lets it through"


def test_the_defaults_of_a_minimal_scenario_are_the_declared_ones():
    s = loads_scenario(MINIMAL)
    checked = 0
    for table, obj in (("training", s), ("display", s), ("init", s.init), ("network", s)):
        for key in next(t for t in FORMAT if t.name == table):
            if key.kind != "custom" and key.default not in (REQUIRED, None) and hasattr(obj, key.name):
                assert getattr(obj, key.name) == key.default, (table, key.name)
                checked += 1
    assert checked >= 20


def _with(table: str, key: str, value: str) -> str:
    only = next(t for t in FORMAT if t.name == table)[key].only  # the key its use depends on
    lines = f'{only[0]} = "{only[1][0]}"\n' if only else ""
    text = re.sub(rf"(?m)^{key} = .*\n", "", MINIMAL) + ("" if f"[{table}]" in MINIMAL else f"[{table}]\n")
    if key == "target_accuracy":  # a classifier's key: a sigmoid output on the 0/1 targets
        text = text.replace('activation = "tanh"', 'activation = "sigmoid"')
    return text.replace(f"[{table}]\n", f"[{table}]\n{lines}{key} = {value}\n", 1)


RANGED = [(t.name, k) for t in FORMAT for k in t if k.range is not None and k.kind in ("int", "number")]


@pytest.mark.parametrize(("table", "key"), [(t, k.name) for t, k in RANGED if t in ("training", "init")])
def test_each_declared_range_decides_what_the_reader_accepts(table, key):
    """Just outside the declared range is refused with the key's name; its edge inside is accepted."""
    k = next(t for t in FORMAT if t.name == table)[key]
    r = k.range
    assert r is not None and r.low is not None
    inside = r.low + (1 if k.kind == "int" else 0.5) if r.low_open else r.low
    outside = r.low if r.low_open else r.low - 1
    as_text = str if k.kind == "int" else lambda v: repr(float(v))
    loads_scenario(_with(table, key, as_text(inside)))
    with pytest.raises(ScenarioError) as info:
        loads_scenario(_with(table, key, as_text(outside)))
    assert f"[{table}] {key}: must be {r.words(outside)}" in str(info.value)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenarios_name_the_schema_and_load_the_same_without_the_line(path):
    text = path.read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    assert first == keys_doc.SCHEMA_LINE
    target = (path.parent / first.removeprefix("#:schema ").strip()).resolve()
    assert target == SCHEMA_FILE.resolve()
    if path.stem == "blobs_784":
        return  # 1,000 samples of 784 inputs: the comment is the same comment in every file
    with_line = loads_scenario(text, str(path), base=path.parent)
    without = loads_scenario(rest, str(path), base=path.parent)
    assert json.dumps(with_line.to_dict()) == json.dumps(without.to_dict())
    assert (with_line.inputs == without.inputs).all()


def test_the_training_keys_are_declared_in_todays_order():
    """The 'known keys' of a message and a trace's keys keep their order (format 1)."""
    assert TRAINING.names()[:3] == ("loss", "learning_rate", "batch")


def test_check_names_a_stale_page_and_writes_nothing(tmp_path, monkeypatch, capsys):
    page, schema = tmp_path / "docs" / "scenario-keys.md", tmp_path / "scenario-v1.schema.json"
    page.parent.mkdir()
    page.write_text("an old page\n", encoding="utf-8")
    schema.write_text(keys_doc.schema_text(), encoding="utf-8")
    monkeypatch.setattr(keys_doc, "ROOT", tmp_path)
    monkeypatch.setattr(keys_doc, "PAGE", page)
    monkeypatch.setattr(keys_doc, "SCHEMA", schema)
    assert keys_doc.main(["--check"]) == 1
    assert "docs/scenario-keys.md differs from the declaration" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8") == "an old page\n"
    assert keys_doc.main([]) == 0  # writes it
    assert page.read_text(encoding="utf-8") == keys_doc.page_text()
    assert keys_doc.main(["--check"]) == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "docs",
        "scenario-keys.md",
        "scenario-v1.schema.json",
    ]
