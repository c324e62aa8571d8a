"""The scenario loader: good files load with every default filled in, bad files are refused
with one message per problem that names the file, the table and the key.

The bad files live in tests/bad_scenarios/, one defect each. The first lines of each file say
what its message must contain:

    # expect: [training] learning_rate       the problem line holds "[training] learning_rate:"
    # expect: [training]                     ... holds "[training]:" (a table-level problem)
    # expect-text: not valid TOML            ... holds this text (a file that is not TOML at all)
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tui_backprop import BackpropError, Scenario, ScenarioError, Trainer, load_scenario, loads_scenario
from tui_backprop.cli import main
from tui_backprop.scenario.reader import bundled_names

HERE = Path(__file__).parent
BAD_DIR = HERE / "bad_scenarios"
BAD_FILES = sorted(BAD_DIR.glob("*.toml"))
DATA = HERE / "data"
GOOD_FILES = sorted(DATA.glob("*.toml"))

# one problem line: error: FILE: [table] key: message   (key may carry indices: targets[2][0])
PROBLEM_LINE = re.compile(r"^error: (?P<file>.+?): \[(?P<table>\w+)\](?: (?P<key>[\w\[\]]+))?: (?P<msg>.+)$")

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


def expectations(path: Path) -> list[str]:
    """The substrings that the problem reported for ``path`` must contain."""
    out = []
    for raw in path.read_bytes().splitlines():
        line = raw.decode("ascii")  # the expectation lines come first and are plain ASCII
        if line.startswith("# expect: "):
            out.append(line.removeprefix("# expect: ").strip() + ":")
        elif line.startswith("# expect-text: "):
            out.append(line.removeprefix("# expect-text: ").strip())
        else:
            break
    return out


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the corpus of bad files -----------------------------------------------------------------


def test_corpus_covers_many_defects_each_with_an_expectation():
    assert len(BAD_FILES) >= 30
    for path in BAD_FILES:
        assert expectations(path), f"{path.name} says nothing about its expected message"


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_raises_one_problem_naming_the_key(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    err = info.value
    assert err.title == str(path)
    assert len(err.problems) == 1, f"one defect, one problem; got {err.problems}"
    for text in expectations(path):
        assert text in err.problems[0]
    assert str(err) == f"error: {path}: {err.problems[0]}"


@pytest.mark.parametrize("mode", ["check", "headless"])
@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_on_the_command_line(path, mode, capsys):
    argv = ["--check", str(path)] if mode == "check" else [str(path), "--headless"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: ")
    for text in expectations(path):
        assert text in lines[0]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("backprop-tui")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_whole_corpus_through_the_real_command():
    proc = _run("--check", *map(str, BAD_FILES))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == len(BAD_FILES)  # one defect each, one line each, in order
    for path, line in zip(BAD_FILES, lines, strict=True):
        assert line.startswith(f"error: {path}: ")
        for text in expectations(path):
            assert text in line, line


@pytest.mark.parametrize(
    "name", ["toml_syntax_error", "not_utf8", "learning_rate_negative", "softmax_hidden"]
)
def test_bad_file_headless_through_the_real_command(name):
    path = BAD_DIR / f"{name}.toml"
    proc = _run(str(path), "--headless")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}: ")
    for text in expectations(path):
        assert text in proc.stderr


def test_problem_lines_have_the_documented_shape():
    for path in BAD_FILES:
        if any(not e.endswith(":") for e in expectations(path)):
            continue  # not TOML at all: there is no table to name
        with pytest.raises(ScenarioError) as info:
            load_scenario(str(path))
        for line in str(info.value).splitlines():
            m = PROBLEM_LINE.match(line)
            assert m, line
            assert m["file"] == str(path)


# -- good files ------------------------------------------------------------------------------


def test_minimal_file_has_every_default_filled_in(tmp_path):
    s = load_scenario(write(tmp_path, MINIMAL))
    assert s.to_dict() == {
        "scenario": {"name": "minimal", "description": ""},
        "network": {"layers": [2, 3, 1], "activations": ["tanh", "tanh"], "bias": True},
        "init": {"method": "uniform", "seed": 0, "low": -1.0, "high": 1.0, "bias_value": 0.0},
        "data": {"input_names": [], "output_names": []},
        "training": {
            "loss": "mse",
            "learning_rate": 0.25,
            "batch": "full",
            "shuffle": False,
            "seed": 0,
            "update_biases": True,
            "max_steps": 1000,
        },
    }
    assert s.target_loss is None
    assert s.source == str(tmp_path / "s.toml")
    assert s.inputs.shape == (4, 2) and s.targets.shape == (4, 1)
    assert s.inputs.dtype == np.float64


def test_every_optional_key_is_carried_into_to_dict(tmp_path):
    text = (
        MINIMAL.replace('name = "minimal"', 'name = "minimal"\ndescription = "all keys"')
        .replace(
            "[data]",
            '[init]\nmethod = "normal"\nmean = 0.5\nstd = 0.2\nbias_value = -1.0\nseed = 9\n\n[data]',
        )
        .replace(
            "targets = [[0], [1], [1], [0]]",
            'targets = [[0], [1], [1], [0]]\ninput_names = ["p", "q"]\noutput_names = ["r"]',
        )
        .replace(
            "learning_rate = 0.25",
            "learning_rate = 0.25\nbatch = 2\nshuffle = true\nseed = 5\n"
            "update_biases = false\nmax_steps = 7\ntarget_loss = 0.125",
        )
    )
    d = load_scenario(write(tmp_path, text)).to_dict()
    assert d["scenario"]["description"] == "all keys"
    assert d["init"] == {"method": "normal", "seed": 9, "mean": 0.5, "std": 0.2, "bias_value": -1.0}
    assert d["data"] == {"input_names": ["p", "q"], "output_names": ["r"]}
    assert d["training"] == {
        "loss": "mse",
        "learning_rate": 0.25,
        "batch": 2,
        "shuffle": True,
        "seed": 5,
        "update_biases": False,
        "max_steps": 7,
        "target_loss": 0.125,
    }


def test_explicit_init_round_trips_through_to_dict():
    s = load_scenario(DATA / "explicit_bce.toml")
    assert s.to_dict()["init"] == {
        "method": "explicit",
        "seed": 0,
        "weights": [[[0.5, -0.25], [0.75, 1.0]], [[1.5, -2.0]]],
        "biases": [[0.1, -0.1], [0.0]],
    }
    W, b = Trainer(s).initial_W, Trainer(s).initial_b
    assert W[0].tolist() == [[0.5, -0.25], [0.75, 1.0]] and W[1].tolist() == [[1.5, -2.0]]
    assert b[0].tolist() == [0.1, -0.1] and b[1].tolist() == [0.0]


def test_flat_targets_for_one_output_equal_rows_of_one(tmp_path):
    flat = load_scenario(write(tmp_path, MINIMAL.replace("[[0], [1], [1], [0]]", "[0, 1, 1, 0.5]"), "a.toml"))
    rows = load_scenario(
        write(tmp_path, MINIMAL.replace("[[0], [1], [1], [0]]", "[[0], [1], [1], [0.5]]"), "b.toml")
    )
    assert flat.targets.shape == (4, 1)
    np.testing.assert_array_equal(flat.targets, rows.targets)
    np.testing.assert_array_equal(flat.targets[:, 0], [0, 1, 1, 0.5])


def test_flat_targets_are_refused_for_two_outputs(tmp_path):
    text = MINIMAL.replace("layers = [2, 3, 1]", "layers = [2, 3, 2]").replace(
        "[[0], [1], [1], [0]]", "[0, 1, 1, 0]"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert info.value.problems == ["[data] targets[0]: expected a list of 2 numbers, got an integer (0)"]


def test_row_of_the_wrong_width_counts_numbers_in_the_singular(tmp_path):
    text = MINIMAL.replace("[[0], [1], [1], [0]]", "[[0], [1, 0], [1], [0]]")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert info.value.problems == ["[data] targets[1]: expected 1 number, got 2"]


def test_linear_is_an_alias_of_identity(tmp_path):
    s = load_scenario(write(tmp_path, MINIMAL.replace('"tanh"', '"linear"')))
    assert s.activations == ("linear", "linear")
    rec = Trainer(s).step()
    for layer in rec.layers:
        assert layer.activation == "identity"
        np.testing.assert_array_equal(layer.a, layer.z)


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    text = (
        MINIMAL.replace("learning_rate = 0.25", "learning_rate = -1.0")
        .replace('activation = "tanh"', 'activation = "tanhh"')
        .replace("[1, 0], [1, 1]]", "[1, 0], [1, nan]]")
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    keys = {(m["table"], m["key"]) for m in map(PROBLEM_LINE.match, lines)}
    assert keys == {("network", "activation"), ("training", "learning_rate"), ("data", "inputs[3][1]")}
    assert f"error: {path}: [training] learning_rate: must be > 0, got -1" in lines


def test_check_prints_every_problem_of_every_file(tmp_path, capsys):
    one = write(tmp_path, MINIMAL.replace("learning_rate = 0.25", "learning_rate = 0.0"), "one.toml")
    two = write(tmp_path, MINIMAL.replace('loss = "mse"', 'loss = "mse"\nbatch = 0\nshuffle = 1'), "two.toml")
    assert main(["--check", str(one), str(two)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"error: {one}: [training] learning_rate: must be > 0, got 0",
        f'error: {two}: [training] batch: expected "full", "sample" or a positive integer, '
        "got an integer (0)",
        f"error: {two}: [training] shuffle: expected true or false, got an integer (1)",
    ]


def test_typo_of_a_required_key_gives_a_hint_and_the_missing_key(tmp_path):
    text = MINIMAL.replace("learning_rate = 0.25", "learning_rat = 0.25")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert info.value.problems == [
        "[training] learning_rat: unknown key (did you mean 'learning_rate'?)",
        "[training] learning_rate: required key is missing",
    ]


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ('activation = "tanh"', 'activation = "sigmod"', "(did you mean 'sigmoid'?)"),
        ('loss = "mse"', 'loss = "half-sse"', "(did you mean 'half_sse'?)"),
        ("[training]", "[trainng]", "(did you mean [training]?)"),
        ("layers =", "bias = true\nlayer =", "(did you mean 'layers'?)"),
    ],
)
def test_did_you_mean_hints(tmp_path, old, new, hint):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, MINIMAL.replace(old, new)))
    assert any(hint in p for p in info.value.problems), info.value.problems


def test_unknown_key_far_from_any_lists_the_known_keys(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, MINIMAL.replace('loss = "mse"', 'loss = "mse"\nzzz = 1')))
    (problem,) = info.value.problems
    assert problem.startswith("[training] zzz: unknown key (known keys: loss, learning_rate, batch,")


# -- where scenarios come from ---------------------------------------------------------------


def test_bundled_scenario_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_scenario("xor")
    assert isinstance(s, Scenario)
    assert s.layers[0] == 2 and s.layers[-1] == 1
    assert s.source == "xor.toml"
    assert "xor" in bundled_names()


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_scenario_loads(name):
    s = load_scenario(name)
    assert s.name.strip()
    assert s.inputs.shape[1] == s.layers[0]


def test_unknown_name_lists_the_bundled_ones():
    with pytest.raises(ScenarioError) as info:
        load_scenario("no-such-scenario")
    assert info.value.title == "no-such-scenario"
    (problem,) = info.value.problems
    assert "no such file or bundled scenario" in problem
    assert "xor" in problem


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"error: {path}: no such file"
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_directory_instead_of_a_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    assert str(info.value) == f"error: {tmp_path}: is a directory, not a scenario file"


def test_unreadable_file(tmp_path, monkeypatch):
    """A file the process may not read (chmod 000 for a user; root reads anything, so the
    refusal the kernel gives is made here, where the reader opens the file)."""
    path = write(tmp_path, MINIMAL)
    real_open = os.open

    def refused(file, flags, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"error: {path}: cannot read: ")
    assert "ermission denied" in str(info.value)


def test_errors_are_chained_to_their_cause():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD_DIR / "toml_syntax_error.toml")
    assert isinstance(info.value.__cause__, tomllib.TOMLDecodeError)
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD_DIR / "not_utf8.toml")
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    assert isinstance(info.value, BackpropError)


def test_text_and_bytes_load_alike():
    a = loads_scenario(MINIMAL, "x.toml")
    b = loads_scenario(MINIMAL.encode(), "x.toml")
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.inputs, b.inputs)
    with pytest.raises(ScenarioError) as info:
        loads_scenario(MINIMAL.replace("0.25", "-0.25"), "named.toml")
    assert str(info.value).startswith("error: named.toml: [training] learning_rate:")


# -- a loaded Scenario cannot change ---------------------------------------------------------


def test_scenario_is_frozen_and_its_arrays_read_only(tmp_path):
    s = load_scenario(write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.learning_rate = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.init.seed = 3  # type: ignore[misc]
    for arr in (s.inputs, s.targets):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0, 0] = 5.0
    assert isinstance(s.layers, tuple) and isinstance(s.activations, tuple)


def test_good_data_files_load():
    assert GOOD_FILES
    for path in GOOD_FILES:
        assert load_scenario(path).source == str(path)
