"""Fuzzing the loaders: scenario files and traces drawn by hypothesis, through the loaders and
through the real command (``cli.main`` with --check and --headless --steps 2).

Every outcome must be one of: a clear refusal (ScenarioError / TraceError, both BackpropError,
with problems; on the command line exit code 2 and only ``error: ...`` lines, no traceback),
or a valid run (exit code 0, or 3 when it diverged). Anything else, or an example that takes
longer than DEADLINE, fails the test.

The documents are random TOML, and the bundled scenarios mutated (keys deleted or renamed,
values replaced by other types, huge and tiny numbers, deep nesting, long strings), random and
non-UTF-8 bytes; traces are a good export mutated (cut short, values swapped for other types,
arrays made longer or shorter, keys deleted or renamed). Names, keys and values hold control
and bidi characters (ESC, BEL, NUL, U+202E), and whatever the command prints must show them
escaped: no character that a terminal acts on reaches stdout or stderr. Numbers go past what
TOML and Python read (64 bits, 4,300 digits) in every numeric key, generators' included;
structures are deep (nesting) and wide (layers, rows, CSV columns); CSV files are random too.

CI runs a bounded number of examples (see BUDGET); a long run is

    HYPOTHESIS_PROFILE=fuzz pytest tests/test_fuzz.py

with the "fuzz" profile of tests/conftest.py (many more examples, no deadline per example
beyond DEADLINE, which holds in every profile).
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_backprop.cli import main
from tui_backprop.common.errors import BackpropError
from tui_backprop.scenario.listing import bundled_root
from tui_backprop.scenario.reader import bundled_names, loads_scenario
from tui_backprop.trace.reader import loads_trace

DEADLINE = timedelta(seconds=10)  # an example that runs longer than this is a hang
FUZZING = settings.default.max_examples >= 1000  # HYPOTHESIS_PROFILE=fuzz
BUDGET = settings(
    max_examples=settings.default.max_examples if FUZZING else 40,
    deadline=DEADLINE,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
# for the few examples whose documents are large (a TOML parser reads a megabyte a second)
FEW = settings(BUDGET, max_examples=settings.default.max_examples if FUZZING else 8)

# small scenarios: the mutations of a big one (blobs_784's 1,000 generated points) spend the
# budget on generating data, not on the loader; a small blobs stands for it, so that its keys
# (spread, centers) are mutated too
SCENARIOS = {
    name: tomllib.loads(bundled_root().joinpath(f"{name}.toml").read_text("utf-8"))
    for name in bundled_names()
    if name != "blobs_784"
}
SCENARIOS["blobs_small"] = tomllib.loads(bundled_root().joinpath("blobs_784.toml").read_text("utf-8"))
SCENARIOS["blobs_small"]["network"]["layers"] = [4, 5, 3]
SCENARIOS["blobs_small"]["data"].update({"samples": 30, "spread": 1.0, "centers": 3.0, "noise": 0.1})

# -- values -------------------------------------------------------------------------------------


class Raw:
    """A value written into the document as it is: an integer of more digits than Python reads."""

    def __init__(self, text: str) -> None:
        self.text = text


EDGE_NUMBERS = [0, -0.0, 1, -1, 1e308, -1e308, 5e-324, -5e-324, 2**63, -(2**63), 10**30, 10**400,
                1.7976931348623157e308, math.inf, -math.inf, math.nan, 0.5, 1e-300, 100_000,
                2**63 - 1, -(2**63) - 1, 2**64, 1e6, 1e6 + 1, 1_000_000, 1_000_001,
                Raw("9" * 4301), Raw("-" + "1" * 5000)]  # fmt: skip

# characters a terminal acts on, and some that are merely unusual
CONTROL = "\x00\x07\x08\x1b\x7f\x9b\n\r\t\u200e\u202e\u2066\u2028\ufeff\U000e0001"
names = st.text(st.sampled_from(CONTROL) | st.characters(codec="utf-8"), max_size=30) | st.integers(
    50, 3000
).map(lambda n: "\x1b[31m" * n)

scalars = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=20),
    st.integers(1000, 5000).map(lambda n: "é" * n),
    st.sampled_from(
        ["full", "sample", "sigmoid", "softmax", "mse", "explicit", "uniform", "xor", "blobs", ""]
    ),
)


class Deep:
    """A number nested ``depth`` lists deep ([[[1]]]), written out as text: a Python list that
    deep would be too deep for the writers below, which recurse."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def text(self) -> str:
        return "[" * self.depth + "1" + "]" * self.depth


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    ),
    max_leaves=20,
) | st.integers(min_value=50, max_value=3000).map(Deep)


# -- TOML out of Python values ---------------------------------------------------------------


def toml_value(v: Any) -> str:
    if isinstance(v, Deep):
        return v.text()
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string is a JSON string
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def json_text(v: Any) -> str:
    """JSON, with NaN and Infinity where a value is not finite (not strict: the reader must say so)."""
    if isinstance(v, Deep):
        return v.text()
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, list):
        return "[" + ", ".join(json_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {json_text(x)}" for k, x in v.items()) + "}"
    return json.dumps(v, allow_nan=True)


def toml_document(doc: dict[str, Any]) -> str:
    """Tables of key = value lines; a top-level value that is no table becomes a key."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(name)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# -- mutations ---------------------------------------------------------------------------------


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a nested dict/list document, as a tuple of keys and indices."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:6]):  # the first rows of big arrays are enough
            out += paths(v, prefix + (i,))
    return out


def mutate(doc: Any, data: st.DataObject, count: int) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(count):
        places = paths(doc)
        if not places:
            break
        place = data.draw(st.sampled_from(places), label="place")
        *parents, last = place
        parent = doc
        for p in parents:
            parent = parent[p]
        how = data.draw(st.sampled_from(["replace", "delete", "rename", "grow", "shrink"]), label="how")
        if how == "replace":
            parent[last] = data.draw(values, label="value")
        elif how == "delete":
            del parent[last]
        elif how == "rename" and isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=10), label="name")] = parent.pop(last)
        elif how == "grow" and isinstance(parent[last], list):
            parent[last].append(data.draw(values, label="extra"))
        elif how == "shrink" and isinstance(parent[last], list) and parent[last]:
            parent[last].pop()
    return doc


# -- the outcome ---------------------------------------------------------------------------------


def load_or_refuse(text: str | bytes) -> None:
    """The loader either returns a scenario or raises a BackpropError with problems."""
    try:
        loads_scenario(text, "fuzz.toml")
    except BackpropError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)


def raw_controls(text: str) -> set[str]:
    """Characters of printed output that a terminal would act on (a newline ends a line)."""
    return {c for c in text if not c.isprintable() and c != "\n"}


def run_command(argv: list[str], capsys) -> None:
    """The real command ends in 0, 2 (with error lines only) or 3, and never in a traceback;
    what it prints holds no raw control or bidi character, and no warning."""
    try:
        code = main(argv)
    except SystemExit as e:  # argparse
        code = e.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert not raw_controls(out + err), (raw_controls(out + err), err[:300])
    assert "Warning" not in err, err[:300]
    assert code in (0, 2, 3), (code, err)
    if code == 2:
        lines = err.splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), err


def through_the_command(path: Path, text: str | bytes, capsys) -> None:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    run_command(["--check", str(path)], capsys)
    run_command([str(path), "--headless", "--steps", "2"], capsys)


# -- scenario files ----------------------------------------------------------------------------


@BUDGET
@given(doc=st.dictionaries(st.text(max_size=10), values, max_size=6))
def test_random_toml_documents_are_refused_clearly(doc):
    load_or_refuse(toml_document(doc))


@BUDGET
@given(name=st.sampled_from(sorted(SCENARIOS)), data=st.data(), count=st.integers(1, 4))
def test_mutated_bundled_scenarios_load_or_are_refused_clearly(name, data, count):
    load_or_refuse(toml_document(mutate(SCENARIOS[name], data, count)))


@BUDGET
@given(name=st.sampled_from(sorted(SCENARIOS)), data=st.data(), count=st.integers(1, 3))
def test_mutated_scenarios_through_the_command_run_or_exit_2(name, data, count, tmp_path, capsys):
    text = toml_document(mutate(SCENARIOS[name], data, count))
    through_the_command(tmp_path / "fuzz.toml", text, capsys)


@BUDGET
@given(name=st.sampled_from(sorted(SCENARIOS)), data=st.data())
def test_control_characters_in_names_keys_and_values_are_printed_escaped(name, data, tmp_path, capsys):
    """The scenario's name, an input name, a key and a table of control and bidi characters, and
    a value of them in a string key: --check and --headless print every one of them escaped."""
    doc = copy.deepcopy(SCENARIOS[name])
    doc["scenario"]["name"] = data.draw(names, label="name")
    if data.draw(st.booleans(), label="input names"):
        n = doc["network"]["layers"][0]
        doc["data"]["input_names"] = data.draw(st.lists(names, min_size=n, max_size=n), label="inputs")
    table = data.draw(st.sampled_from(sorted(doc)), label="table")
    doc[table][data.draw(names.filter(bool), label="key")] = 1
    string_keys = [(t, k) for t in doc for k, v in doc[t].items() if isinstance(v, str)]
    t, k = data.draw(st.sampled_from(string_keys), label="string key")
    doc[t][k] = data.draw(names, label="value")
    doc[data.draw(names.filter(bool), label="a table")] = {"x": 1}
    through_the_command(tmp_path / "fuzz.toml", toml_document(doc), capsys)


@FEW
@given(
    width=st.integers(1, 50_000),
    depth=st.integers(0, 50_000),
    rows=st.integers(1, 20_000),
    nodes=st.integers(1, 10**6),
)
def test_deep_and_wide_structures_are_refused_or_loaded_at_once(width, depth, rows, nodes):
    """Many layers, layers of many nodes, rows of many numbers and many rows: each loads or is
    refused within the deadline (a quadratic check of any of them would not be)."""
    for layers, inputs in (
        ([2] + [nodes % 200_000 + 1] * (depth % 70) + [1], [[0.5, 0.5]] * rows),
        ([width, 1], [[0.5] * width]),
        ([2, 1] * (depth // 2 + 1), [[0.5, 0.5]]),
    ):
        doc = copy.deepcopy(SCENARIOS["xor"])
        doc["network"]["layers"] = layers
        doc["data"] = {"inputs": inputs, "targets": [[0.0]] * len(inputs)}
        load_or_refuse(toml_document(doc))


@BUDGET
@given(
    text=st.text(st.sampled_from(',"\n\r ;.-e0123456789abt') | st.sampled_from(CONTROL), max_size=3000)
    | st.binary(max_size=3000).map(lambda b: b.decode("utf-8", "replace")),
    header=st.sampled_from(["a,b,t\n", "", "t\n", "a,a,t\n", '"a","b","t"\n', "\ufeffa,b,t\r\n"]),
    one_hot=st.booleans(),
)
def test_random_csv_files_load_or_are_refused_clearly(text, header, one_hot, tmp_path, capsys):
    (tmp_path / "d.csv").write_text(header + text, encoding="utf-8", errors="surrogatepass")
    doc = copy.deepcopy(SCENARIOS["xor"])
    doc["data"] = {"csv": "d.csv", "target_columns": ["t"], **({"one_hot": ["t"]} if one_hot else {})}
    doc["network"]["layers"] = [2, 3, 2] if one_hot else [2, 3, 1]
    if one_hot:
        doc["network"]["activation"] = "sigmoid"
    path = tmp_path / "fuzz.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    run_command(["--check", str(path)], capsys)


def number_places(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a document that holds a number (not in the data rows)."""
    if isinstance(doc, dict):
        return [
            p
            for k, v in doc.items()
            if k not in ("inputs", "targets")
            for p in number_places(v, prefix + (k,))
        ]
    return [prefix] if isinstance(doc, (int, float)) and not isinstance(doc, bool) else []


@BUDGET
@given(name=st.sampled_from(sorted(SCENARIOS)), data=st.data())
def test_extreme_numbers_in_every_numeric_key_run_or_are_refused(name, data, tmp_path, capsys):
    """Huge, tiny and non-finite numbers in several numeric keys at once (low and high, say)."""
    doc = copy.deepcopy(SCENARIOS[name])
    doc.setdefault("init", {}).update({"low": -1.0, "high": 1.0})  # numbers to change
    places = number_places(doc)
    for place in data.draw(st.lists(st.sampled_from(places), min_size=1, max_size=4, unique=True)):
        *parents, last = place
        target = doc
        for p in parents:
            target = target[p]
        target[last] = data.draw(st.sampled_from(EDGE_NUMBERS))
    text = toml_document(doc)
    load_or_refuse(text)
    through_the_command(tmp_path / "fuzz.toml", text, capsys)


@BUDGET
@given(raw=st.binary(max_size=2000), bom=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
def test_random_bytes_are_refused_clearly(raw, bom, tmp_path, capsys):
    load_or_refuse(bom + raw)
    through_the_command(tmp_path / "fuzz.toml", bom + raw, capsys)


@BUDGET
@given(
    name=st.sampled_from(sorted(n for n in SCENARIOS if n in bundled_names())),
    cut=st.integers(0, 10_000),
    junk=st.binary(min_size=1, max_size=8),
)
def test_scenario_bytes_cut_or_spliced_with_non_utf8_are_refused_clearly(name, cut, junk):
    raw = bundled_root().joinpath(f"{name}.toml").read_bytes()
    load_or_refuse(raw[: cut % (len(raw) + 1)] + junk + raw[cut % (len(raw) + 1) :])
    load_or_refuse(raw[: cut % (len(raw) + 1)])


@pytest.mark.parametrize(
    "layers",
    [[100_000, 100_000], [100_000, 100_000, 100_000], [2, 100_000, 100_000, 1], [100_000] * 2 + [1]],
)
def test_a_network_too_big_to_step_is_refused_at_once(layers, tmp_path, capsys):
    doc = copy.deepcopy(SCENARIOS["xor"])
    doc["network"]["layers"] = layers
    doc["data"] = {"inputs": [[0.0] * layers[0]], "targets": [[0.0] * layers[-1]]}
    text = toml_document(doc)
    with pytest.raises(BackpropError) as info:
        loads_scenario(text, "big.toml")
    assert any("[network] layers" in p for p in info.value.problems)


# -- traces ----------------------------------------------------------------------------------


def good_trace(scenario: str, steps: int) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.json"
        assert main([scenario, "--headless", "--steps", str(steps), "--export", str(path)]) == 0
        return path.read_text("utf-8")


TRACES = {name: good_trace(name, 3) for name in ("xor", "linear_neuron_sgd", "proportional_2_3_1_split")}


def read_or_refuse(data: str | bytes) -> None:
    try:
        loads_trace(data, "fuzz.json")
    except BackpropError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)


@BUDGET
@given(name=st.sampled_from(sorted(TRACES)), data=st.data(), count=st.integers(1, 4))
def test_mutated_traces_are_read_or_refused_clearly(name, data, count):
    doc = mutate(json.loads(TRACES[name]), data, count)
    read_or_refuse(json_text(doc))


@BUDGET
@given(name=st.sampled_from(sorted(TRACES)), cut=st.integers(0, 100_000), junk=st.binary(max_size=8))
def test_traces_cut_short_or_spliced_are_refused_clearly(name, cut, junk):
    raw = TRACES[name].encode("utf-8")
    at = cut % len(raw)
    read_or_refuse(raw[:at])
    read_or_refuse(raw[:at] + junk + raw[at:])


@BUDGET
@given(name=st.sampled_from(sorted(TRACES)), data=st.data())
def test_mutated_traces_through_the_command_exit_2_or_pass(name, data, tmp_path, capsys):
    doc = mutate(json.loads(TRACES[name]), data, data.draw(st.integers(1, 3)))
    path = tmp_path / "fuzz.json"
    path.write_text(json_text(doc))
    run_command(["--check", str(path)], capsys)


@BUDGET
@given(raw=st.binary(max_size=3000))
def test_random_bytes_as_a_trace_are_refused_clearly(raw):
    read_or_refuse(raw)
    read_or_refuse(b"{" + raw)
