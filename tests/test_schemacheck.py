"""A trace checked against its schema (tui_backprop/trace/schema_check.py): jsonschema-rs decides what is
valid; each kind of error it raises becomes a message that names the place in the trace's own
notation; numbers that strict JSON refuses are refused where they stand; and a document wrong in
a million places is answered with the first 20 problems without jsonschema-rs ever being asked
for more than a few errors at once.

The fixtures of tests/bad_traces (tests/test_replay.py) give the same messages as the checker
this replaced; here each kind of error is made once in a good trace, so that every branch of
the translation is proved.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tui_backprop.common.values import NOT_STRICT, BadNumber, describe
from tui_backprop.trace import schema_check as schemacheck
from tui_backprop.trace.reader import loads_trace
from tui_backprop.trace.schema_check import UNFOLLOWED, check
from tui_backprop.trace.writer import TraceError, schema

HERE = Path(__file__).parent
NAN = f"NaN ({NOT_STRICT})"


@pytest.fixture(scope="module")
def good() -> dict:
    """A good trace of two xor steps (the one defect of this fixture taken out)."""
    doc = json.loads((HERE / "bad_traces" / "unknown_field.json").read_text())
    del doc["steps"][1]["layers"][0]["foo"]
    assert check(copy.deepcopy(doc)) == []
    return doc


def _set(doc: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for key in parents:
        doc = doc[int(key)] if key.isdigit() else doc[key]
    if value is _DELETE:
        del doc[last]
    else:
        doc[int(last) if last.isdigit() else last] = value


class _Delete:
    def __repr__(self) -> str:  # a test id the same in every process (xdist compares them)
        return "deleted"


_DELETE = _Delete()

# (what is changed, to what, the problem it must give): one for each kind of error
KINDS = [
    ("steps.0.loss", "0.25", 'steps[0].loss: expected a number or null, got the string "0.25"'),
    ("steps.0.layers.0.z", "x", 'steps[0].layers[0].z: expected a list, got the string "x"'),
    ("steps.0.batch.2", True, "steps[0].batch[2]: expected an integer, got true"),
    ("scenario.data.standardize", False, "scenario.data.standardize: expected true, got false"),
    (
        "summary.stop_reason",
        "x",
        'summary.stop_reason: expected one of "max_steps", "target_loss", "target_accuracy", "diverged", '
        '"steps", "user", got the string "x"',
    ),
    (
        "scenario.training.batch",
        0,
        'scenario.training.batch: expected one of "full", "sample"; or an integer >= 1, got the number 0',
    ),
    (
        "steps.0.warnings",
        [{"kind": "saturated", "layer": 0, "nodes": [], "message": "m"}],
        "steps[0].warnings[0].layer: expected an integer >= 1; or null, got the number 0",
    ),
    ("scenario.init.seed", -1, "scenario.init.seed: must be >= 0, got -1"),
    ("scenario.training.learning_rate", 0, "scenario.training.learning_rate: must be > 0, got 0"),
    ("scenario.data.test_fraction", 1.0, "scenario.data.test_fraction: must be < 1, got 1.0"),
    ("every", 1.5, "every: expected an integer, got the number 1.5"),  # not "must be >= 2" too
    ("scenario.scenario.name", "", "scenario.scenario.name: must have at least 1 character"),
    ("scenario.network.layers", [2], "scenario.network.layers: expected at least 2 items, got 1"),
    ("fields", ["loss"], 'fields: expected "step" among the items'),
    ("fields", ["step", "loss", "loss"], 'fields[2]: the string "loss" appears twice in the list'),
    ("steps.0.loss", _DELETE, 'steps[0]: missing field "loss"'),
    ("steps.0.layers.0.update_w", [[0.0, 0.0]] * 3,
     'steps[0].layers[0]: missing field "error" (it goes with "update_w")'),
    ("steps.1.layers.0.foo", 1, 'steps[1].layers[0]: unknown field "foo"'),
    ("comment", 1, 'top level: unknown field "comment"'),
    ("k" * 100, 1, f'top level: unknown field "{"k" * 60}..."'),
    ("steps.0.loss", BadNumber("NaN"), f"steps[0].loss: expected a number or null, got {NAN}"),
    ("steps.0.train_loss", float("inf"),
     "steps[0].train_loss: expected a number or null, got a number too large for a float"),
    (
        "initial.w.0.0.0",
        10**400,
        "initial.w[0][0][0]: expected a number or null, got an integer of 401 digits, too large for a float",
    ),
    ("scenario.training.learning_rate", float("-inf"),
     "scenario.training.learning_rate: expected a number, got a number too large for a float"),
    ("scenario.scenario.name", BadNumber("Infinity"),
     "scenario.scenario.name: expected a string, got Infinity (not strict"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "message"), KINDS, ids=[f"{p}={v!r}"[:40] for p, v, _ in KINDS])
def test_each_kind_of_error_names_its_place_and_what_was_found(good, path, value, message):
    doc = copy.deepcopy(good)
    _set(doc, path, value)
    problems = check(doc, strict=True)
    assert problems[0].startswith(message), problems
    assert len(problems) == (2 if path.endswith("update_w") else 1), problems  # and update_b


def test_a_number_strict_json_refuses_inside_an_unknown_field_is_not_named_twice(good):
    doc = copy.deepcopy(good)
    doc["steps"][0]["foo"] = {"bar": [BadNumber("NaN")]}
    assert check(doc, strict=True) == ['steps[0]: unknown field "foo"']


@pytest.mark.parametrize(
    ("literal", "refused"),
    [("1e400", True), ("-1E+400", True), ("1" + "0" * 400, True), ("1" + "0" * 250 + "e99", True),
     ("1.5e+300", False), ("-2.5e-320", False), ("1" + "0" * 200, False), ("0.1" + "0" * 300, False)],
)  # fmt: skip
def test_only_a_number_too_large_for_a_float_is_refused_when_read(good, literal, refused):
    """A number is looked for only when the text may hold one (an exponent of three digits, or 209
    digits in a row): then every number is checked, and only one over 1.8e308 is refused."""
    doc = copy.deepcopy(good)
    doc["steps"][0]["loss"] = "LITERAL"
    text = json.dumps(doc).replace('"LITERAL"', literal)
    if refused:
        with pytest.raises(TraceError) as info:
            loads_trace(text, "t.json")
        got = "a number" if "e" in literal.lower() else "an integer of 401 digits,"
        expected = f"steps[0].loss: expected a number or null, got {got} too large for a float"
        assert info.value.problems == [expected]
    else:
        assert loads_trace(text, "t.json").kept[0].values["loss"] == float(literal)


def test_problems_come_in_the_order_of_the_file(good):
    doc = copy.deepcopy(good)
    del doc["steps"][1]["layers"][1]["delta"]  # found first by the whole-step rule of the schema
    doc["steps"][0]["layers"][0]["z"][0][0] = "x"
    doc["steps"][1]["layers"][1]["a"] = "y"
    doc["scenario"]["scenario"]["name"] = BadNumber("NaN")  # found in a second look: a string's place
    assert check(doc, strict=True) == [
        f"scenario.scenario.name: expected a string, got {NAN}",
        'steps[0].layers[0].z[0][0]: expected a number or null, got the string "x"',
        'steps[1].layers[1]: missing field "delta"',
        'steps[1].layers[1].a: expected a list, got the string "y"',
    ]


class _Counting:
    """A jsonschema-rs validator that counts the errors it is asked for."""

    errors = 0

    def __init__(self, validator) -> None:
        self.validator = validator

    def is_valid(self, v) -> bool:
        return self.validator.is_valid(v)

    def iter_errors(self, v):
        found = list(self.validator.iter_errors(v))
        _Counting.errors += len(found)
        return iter(found)


@pytest.mark.parametrize("where", ["rows", "one row", "valid first", "unknown fields", "steps", "nan"])
def test_a_document_wrong_in_many_places_costs_a_few_errors(good, where, monkeypatch):
    """jsonschema-rs lists every error at once (minutes for millions): the search never asks it
    for those of a part with many errors inside, and stops after 20 problems."""
    doc = copy.deepcopy(good)
    if where == "rows":
        doc["data"]["inputs"] = [["x"] * 500] * 200
    elif where == "one row":
        doc["data"]["inputs"] = [["x"] * 100_000]
    elif where == "valid first":  # a long valid run, then the wrong values (chunks of 1000 are skipped)
        doc["data"]["inputs"] = [[0.5, 0.5]] * 100_000 + [["x", "y"]] * 50
    elif where == "unknown fields":
        doc["scenario"]["training"].update({f"k{i}": 1 for i in range(100_000)})
    elif where == "steps":
        doc["steps"] = [{k: v for k, v in doc["steps"][0].items() if k != "loss"}] * 20_000
    else:
        doc["data"]["inputs"] = [[BadNumber("NaN")] * 500 for _ in range(200)]
    shipped = schemacheck._Schema(schema())
    compile_ = shipped._compile
    monkeypatch.setattr(shipped, "_compile", lambda s: _Counting(compile_(s)))
    monkeypatch.setattr(schemacheck._Schema, "shipped", staticmethod(lambda: shipped))
    _Counting.errors = 0
    problems = check(doc, strict=where == "nan")
    assert len(problems) == 21 and problems[-1] == "... (stopped after 20 problems)", problems
    assert _Counting.errors <= 30, _Counting.errors  # some 20: each problem once, and a few more


def _keywords(s):
    if isinstance(s, dict):
        for key, value in s.items():
            if key not in ("properties", "$defs"):
                yield key
            subs = value.values() if key in ("properties", "$defs", "dependentRequired") else [value]
            for sub in subs:
                yield from _keywords(sub)
    elif isinstance(s, list):
        for sub in s:
            yield from _keywords(sub)


def test_the_search_follows_every_keyword_of_the_shipped_schema():
    """A keyword with subschemas for children that the search does not follow (prefixItems, ...)
    would be checked whole where it stands: correct, but no longer bounded."""
    keywords = set(_keywords(schema()))
    assert keywords.isdisjoint(UNFOLLOWED), keywords & UNFOLLOWED
    refs = [v for k, v in _pairs(schema()) if k == "$ref"]
    assert refs and all(r.startswith("#/") for r in refs), refs


def _pairs(s):
    if isinstance(s, dict):
        for k, v in s.items():
            yield k, v
            yield from _pairs(v)
    elif isinstance(s, list):
        for v in s:
            yield from _pairs(v)


@pytest.mark.parametrize(
    ("value", "json_words", "toml_words"),
    [
        ("0.25", 'the string "0.25"', "a string ('0.25')"),
        ("\x1b[31m", 'the string "\\u001b[31m"', "a string ('\\x1b[31m')"),
        (True, "true", "a boolean (true)"),
        (None, "null", "null"),
        (3, "the number 3", "an integer (3)"),
        (2**70, "the number 1180591620717411303424", "an integer of 22 digits"),
        (10**400, "an integer of 401 digits, too large for a float", "an integer of 401 digits"),
        (float("inf"), "a number too large for a float", "a float (inf)"),
        ([1, 2], "a list of 2", "a list of 2"),
        ({}, "an object", "a table"),
        (BadNumber("NaN"), NAN, NAN),
    ],
)
def test_one_function_describes_a_value_in_the_words_of_its_file(value, json_words, toml_words):
    assert describe(value) == json_words
    assert describe(value, toml=True) == toml_words


def test_a_value_nested_hundreds_deep_is_named_where_the_schema_expects_something_else(good):
    """jsonschema-rs reads at most 255 levels; what is deeper is cut away unseen, as it is wrong
    further up already."""

    def deep() -> list:
        v: list = [0]
        for _ in range(600):
            v = [v]
        return v

    doc = copy.deepcopy(good)
    doc["scenario"] = deep()
    doc["steps"][0]["layers"][0]["z"][0][0] = deep()
    assert check(doc) == [
        "scenario: expected an object, got a list of 1",
        "steps[0].layers[0].z[0][0]: expected a number or null, got a list of 1",
    ]
