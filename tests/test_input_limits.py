"""Every input of any size or shape gets a clear error, in bounded time and memory.

Each test writes a big or hostile input into tmp_path (none is committed), runs the real command
in-process (``main([...])``) and asserts: exit code 2, one ``error: FILE: [table] key: ...`` line
per problem naming the key, no traceback, and a run far inside a deadline that only a hang or a
quadratic algorithm would reach: each input is made big enough for that (a header of 200,000
columns takes minutes when every name is compared with every other), while the test itself
takes well under a second or two. Python's allocations (numpy's arrays among them) are traced,
and the peak asserted: a 200 KB file that once made a 6 GB array now stays within a few MB.

The limits (docs/scenarios.md, "Limits"): a scenario file of 4 MB, at most 64 layers, 100,000 nodes a
layer, 100,000 cells a CSV row, 500,000 lines a CSV file, 1,000 classes a one-hot column,
1,000,000 samples, 10,000,000 generated or CSV numbers, generator scales up to 1e6; a trace parsed
at once makes at most 250 MB of Python objects (estimated from its text), and holds at most 200,000
steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import pytest

from tui_backprop.cli import main
from tui_backprop.scenario import csv_source as csvdata
from tui_backprop.trace import reader as replay

DEADLINE = 20.0  # seconds: only a hang (or a quadratic algorithm on these inputs) comes near it
MB = 2**20


def scenario(data: str, layers: str = "[2, 3, 1]", activation: str = "sigmoid", extra: str = "") -> str:
    return f"""\
[scenario]
name = "limits"

[network]
layers = {layers}
activation = "{activation}"

[data]
{data}

[training]
loss = "mse"
learning_rate = 0.1
{extra}"""


def write(tmp_path: Path, text: str | bytes, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def refused(argv: list[str], capsys, memory: float | None = 100 * MB) -> str:
    """Run the command; assert exit code 2 with error lines only, within DEADLINE and ``memory``
    bytes of traced allocations at the peak (None: not traced, where tracing the interpreter's
    many small objects would make a test of time slow). Returns stderr."""
    if memory is not None:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        code = main(argv)
    finally:
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if memory is not None else 0
        tracemalloc.stop()
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert out == "" and "Traceback" not in err and "Warning" not in err, err
    lines = err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert took < DEADLINE, f"took {took:.1f} s: a hang or a quadratic algorithm ({err[:200]})"
    assert memory is None or peak < memory, (
        f"{peak / MB:.0f} MB at the peak, more than {memory / MB:.0f} MB ({err[:200]})"
    )
    return err


# -- CSV files -----------------------------------------------------------------------------------


def csv_scenario(tmp_path: Path, csv_text: str, layers: str = "[2, 3, 1]", one_hot: str = "") -> Path:
    write(tmp_path, csv_text, "d.csv")
    data = 'csv = "d.csv"\ntarget_columns = ["t"]' + (f"\none_hot = {one_hot}" if one_hot else "")
    return write(tmp_path, scenario(data, layers))


def test_a_header_of_200000_columns_is_refused_at_once(tmp_path, capsys):
    header = ",".join(f"c{i}" for i in range(200_000)) + ",t\n"
    path = csv_scenario(tmp_path, header + "0," * 200_000 + "1\n")
    err = refused(["--check", str(path)], capsys, memory=60 * MB)
    assert f"error: {path}: [data] csv: d.csv: line 1 has more than 100,000 cells" in err


def test_a_duplicate_among_99999_column_names_is_found_in_linear_time(tmp_path, capsys):
    names = [f"c{i}" for i in range(99_998)] + ["c5", "t"]  # c5 again, near the end
    path = csv_scenario(tmp_path, ",".join(names) + "\n" + "0," * 99_999 + "1\n")
    err = refused(["--check", str(path)], capsys, memory=80 * MB)
    assert "[data] csv: d.csv: header (line 1): column 'c5' appears twice" in err


def test_a_wide_row_after_a_narrow_header_is_refused_before_it_becomes_a_list(tmp_path, capsys):
    path = csv_scenario(tmp_path, "a,b,t\n" + "1," * 300_000 + "1\n")
    err = refused(["--check", str(path)], capsys, memory=30 * MB)
    assert "[data] csv: d.csv: line 2 has more than 100,000 cells" in err


@pytest.mark.parametrize("end", ["\n", "\r", "\r\n"])
def test_more_than_500000_lines_are_refused_before_one_is_read(end, tmp_path, capsys):
    path = csv_scenario(tmp_path, "a,b,t" + end + ("1,2,3" + end) * 500_000)
    err = refused(["--check", str(path)], capsys, memory=20 * MB)  # the file's bytes, once
    assert "[data] csv: d.csv has more than 500,000 lines" in err


def test_a_one_hot_column_of_20000_labels_stops_at_the_layer_s_width(tmp_path, capsys):
    """A 200 KB file once made a 20,000 x 20,000 identity matrix (6 GB) and then listed every
    label: it is refused at the first class the output layer has no node for."""
    rows = "".join(f"{i % 7},{i % 3},L{i}\n" for i in range(20_000))
    path = csv_scenario(tmp_path, "a,b,t\n" + rows, layers="[2, 3, 2]", one_hot='["t"]')
    assert path.with_name("d.csv").stat().st_size > 150_000
    err = refused(["--check", str(path)], capsys, memory=20 * MB)
    assert (
        "[data] one_hot: d.csv: column 't' has more than 2 classes by line 4 ('L0', 'L1', 'L2'), "
        "but the output layer has 2 nodes" in err
    )
    assert len(err) < 400


def test_a_one_hot_column_has_at_most_1000_classes(tmp_path, capsys):
    rows = "".join(f"{i % 7},{i % 3},L{i}\n" for i in range(20_000))
    path = csv_scenario(tmp_path, "a,b,t\n" + rows, layers="[2, 3, 5000]", one_hot='["t"]')
    err = refused(["--check", str(path)], capsys, memory=20 * MB)
    assert "[data] one_hot: d.csv: column 't' has more than 1,000 classes by line 1002" in err
    assert "one_hot makes a node of each, at most 1,000" in err


def test_numbers_past_the_limit_are_refused_as_they_are_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(csvdata, "MAX_VALUES", 3_000)  # the logic of the 10,000,000 limit, quickly
    path = csv_scenario(tmp_path, "a,b,t\n" + "1,2,3\n" * 2_000)
    err = refused(["--check", str(path)], capsys)
    assert "[data] csv: d.csv: more than 3,000 numbers (line 1002)" in err


def test_a_csv_path_to_some_other_file_is_refused_without_a_line_of_it(tmp_path, capsys):
    secret = write(tmp_path, "zqroot:x:0:0:QQSECRETQQ\nsecond: QQSECRETQQ\n", "passwd")
    path = write(tmp_path, scenario(f'csv = "{secret}"\ntarget_columns = ["t"]'))
    err = refused(["--check", str(path)], capsys)
    assert "QQSECRETQQ" not in err and "zqroot" not in err
    assert f"[data] target_columns: {secret} has no column 't'; none of the 1 column of its header" in err
    assert "is it the right file?" in err


def test_a_nul_in_the_csv_path_is_an_error_not_a_traceback(tmp_path, capsys):
    path = write(tmp_path, scenario('csv = "a\\u0000b.csv"\ntarget_columns = ["t"]'))
    err = refused(["--check", str(path)], capsys)
    assert f"error: {path}: [data] csv: 'a\\x00b.csv' is not a file name: it holds a NUL character" in err


# -- the network and the generators -------------------------------------------------------------


def test_layers_of_100000_entries_are_refused_at_once(tmp_path, capsys):
    inline = "inputs = [[0]]\ntargets = [[1]]"
    path = write(tmp_path, scenario(inline, layers=str([1] * 100_000)))
    err = refused(["--check", str(path)], capsys, memory=None)
    assert "[network] layers: 100,000 layers is more than 64, the most this simulator steps" in err


def test_a_list_of_100000_activations_is_refused_at_once(tmp_path, capsys):
    text = scenario("inputs = [[0, 0]]\ntargets = [[1]]").replace(
        'activation = "sigmoid"', f"activations = {json.dumps(['nope'] * 100_000)}"
    )
    err = refused(["--check", str(write(tmp_path, text))], capsys, memory=None)
    assert err.count("\n") == 1 and "[network] activations: expected 2 names" in err


@pytest.mark.parametrize("key", ["spread", "noise", "centers"])
def test_a_generator_scale_that_could_overflow_is_refused(key, tmp_path, capsys):
    data = f'generator = "blobs"\nsamples = 30\n{key} = 1e308'
    path = write(tmp_path, scenario(data, layers="[4, 5, 3]"))
    err = refused(["--check", str(path)], capsys)
    assert f"[data] {key}: must be at most 1e+06 (the plane is about [-6, 6]), got 1e+308" in err


def test_the_largest_scales_allowed_draw_without_a_warning(tmp_path):
    from tui_backprop.scenario.reader import load_scenario

    data = 'generator = "blobs"\nsamples = 1000\nspread = 1e6\nnoise = 1e6\ncenters = 1e6\nstandardize = true'
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in numpy would raise here
        s = load_scenario(write(tmp_path, scenario(data, layers="[4, 5, 3]")))
    assert s.inputs.shape == (1000, 4)


def test_a_run_that_overflows_writes_no_numpy_warning(tmp_path, capsys):
    text = scenario(
        "inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]", activation="identity", extra="max_steps = 3\n"
    )
    text = text.replace("[data]", '[init]\nmethod = "normal"\nstd = 1e300\n\n[data]')
    assert main([str(write(tmp_path, text)), "--headless"]) == 3  # diverged
    out, err = capsys.readouterr()
    assert "Warning" not in err and "overflow" not in err and "diverged" in out


@pytest.mark.parametrize(
    ("data", "layers", "message"),
    [
        (
            'generator = "xor"\nsamples = 2000000',
            "[2, 3, 1]",
            "samples: must be from 1 to 1,000,000, got 2,000,000",
        ),
        (
            'generator = "blobs"\nsamples = 20000',
            "[784, 3, 10]",
            "samples: 20,000 samples of 784 inputs and 10 targets is more than 10,000,000 numbers",
        ),
    ],
    ids=["samples", "numbers"],
)
def test_generated_data_is_bounded_before_it_is_drawn(data, layers, message, tmp_path, capsys):
    path = write(tmp_path, scenario(data, layers=layers))
    err = refused(["--check", str(path)], capsys, memory=10 * MB)  # nothing drawn
    assert f"error: {path}: [data] {message}" in err


# -- TOML ------------------------------------------------------------------------------------------


def test_a_utf8_byte_order_mark_is_accepted(tmp_path, capsys):
    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]")
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert main(["--check", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path}: limits (2-3-1")


def test_a_utf16_file_is_named_as_such(tmp_path, capsys):
    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]")
    path = write(tmp_path, text.encode("utf-16"))  # with its byte-order mark
    err = refused(["--check", str(path)], capsys)
    assert err == f"error: {path}: UTF-16 text (it begins with a UTF-16 byte-order mark): save it as UTF-8\n"


def test_an_invalid_statement_points_at_its_line(tmp_path, capsys):
    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]").replace(
        "[training]", "learning rate 0.1\n[training]"
    )
    err = refused(["--check", str(write(tmp_path, text))], capsys)
    assert "not valid TOML: " in err and "(at line 12, column 10): the line reads 'learning rate 0.1'" in err


def test_integers_beyond_what_toml_and_python_read(tmp_path, capsys):
    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]", extra="seed = 99999999999999999999999\n")
    err = refused(["--check", str(write(tmp_path, text))], capsys)
    assert "[training] seed: must be an integer of 64 bits, as in TOML, got an integer of 23 digits" in err
    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]", extra=f"seed = {'9' * 5000}\n")
    err = refused(["--check", str(write(tmp_path, text))], capsys)
    assert (
        "not valid TOML for a scenario: Exceeds the limit (4300 digits) for integer string conversion" in err
    )


def test_ten_thousand_unknown_keys_are_named_five_then_counted(tmp_path, capsys):
    keys = "".join(f"k{i} = 1\n" for i in range(10_000))
    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]", extra=keys)
    err = refused(["--check", str(write(tmp_path, text))], capsys, memory=None)
    lines = err.splitlines()
    assert len(lines) == 6
    assert lines[-1].endswith("[training] k5: unknown key, and 9,994 more unknown keys after it")


# -- traces --------------------------------------------------------------------------------------


def test_a_trace_of_two_million_data_rows_is_refused_before_it_is_parsed(tmp_path, capsys):
    trace = tmp_path / "t.json"
    assert main(["xor", "--headless", "--steps", "1", "--export", str(trace)]) == 0
    capsys.readouterr()
    doc = json.loads(trace.read_text())
    doc["data"]["inputs"], doc["data"]["targets"] = "INPUTS", "TARGETS"
    n = 2_000_000
    rows = {'"INPUTS"': "[" + "[0, 1], " * (n - 1) + "[0, 1]]", '"TARGETS"': "[" + "[1], " * (n - 1) + "[1]]"}
    text = json.dumps(doc)
    for placeholder, rows_text in rows.items():
        text = text.replace(placeholder, rows_text)
    trace.write_text(text)
    assert trace.stat().st_size > 20 * MB
    err = refused(["--check", str(trace)], capsys, memory=150 * MB)  # the file's bytes, and its text
    assert f"error: {trace}: too large to read back: parsed at once, it would take about " in err
    assert " MB of memory, more than 250 MB (a trace as backprop-tui writes it, a step a line" in err


def test_a_trace_of_more_steps_than_the_limit_is_refused_before_any_is_checked(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(replay, "MAX_STEPS", 20_000)  # the rule, on a file of 7 MB (200,000: 68 MB)
    trace = tmp_path / "t.json"
    assert main(["linear_neuron_sgd", "--headless", "--steps", "1", "--export", str(trace)]) == 0
    capsys.readouterr()
    doc = json.loads(trace.read_text())
    doc["steps"] = "STEPS"
    step = json.dumps(json.loads(trace.read_text())["steps"][0])
    trace.write_text(json.dumps(doc).replace('"STEPS"', "[" + ", ".join([step] * 20_001) + "]"))
    err = refused(["--check", str(trace)], capsys, memory=None)
    assert err == (
        f"error: {trace}: steps: 20,001 steps is more than 20,000, the most a trace is read back with "
        "(--every K keeps a long run's trace small)\n"
    )


def test_a_trace_scenario_deeper_than_64_layers_is_refused(tmp_path, capsys):
    trace = tmp_path / "t.json"
    assert main(["xor", "--headless", "--steps", "1", "--export", str(trace)]) == 0
    capsys.readouterr()
    doc = json.loads(trace.read_text())
    doc["scenario"]["network"]["layers"] = [2] * 65 + [1]
    trace.write_text(json.dumps(doc))
    err = refused(["--check", str(trace)], capsys)
    assert "scenario.network.layers: 66 layers is more than 64" in err


# -- --vary ----------------------------------------------------------------------------------------


def test_vary_takes_at_most_16_values_and_counts_them_before_parsing(capsys):
    values = ",".join(str(i / 10**6) for i in range(1, 200_001))
    err = refused(["xor", "--vary", f"training.learning_rate={values}", "--headless"], capsys, memory=None)
    assert err == "error: --vary: training.learning_rate: 200,000 values is more than 16 to compare\n"


# -- closed standard streams (a real process: the descriptors are the point) ----------------------


def _run(*args: str, close: tuple[int, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("backprop-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_backprop.cli"]

    def closed() -> None:
        for fd in close:
            os.close(fd)

    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        preexec_fn=closed,  # only closes descriptors, before exec
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptors")
def test_closed_stdout_and_stderr_end_without_a_traceback(tmp_path):
    bad = write(tmp_path, "[scenario]\n")
    # stdout closed: the summary is lost, the run and its trace are not (exit code of the run)
    done = _run("xor", "--headless", "--steps", "3", "--export", "t.json", close=(1,), cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads((tmp_path / "t.json").read_text())["summary"]["steps"] == 3
    # stderr closed: the error is lost, never written to stdout; exit code 2
    done = _run("--check", str(bad), close=(2,), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    # both closed, and the app, which needs a terminal
    assert _run("--list", close=(1, 2), cwd=tmp_path).returncode == 0
    done = _run("xor", close=(1,), cwd=tmp_path)
    assert (
        done.returncode == 2 and done.stderr == "error: standard output is closed: the app needs a terminal\n"
    )


def test_a_megabyte_long_name_makes_a_short_default_trace_name(tmp_path, capsys):
    from tui_backprop.scenario.reader import loads_scenario
    from tui_backprop.trace.paths import default_name

    text = scenario("inputs = [[0, 0], [1, 1]]\ntargets = [0, 1]").replace(
        '"limits"', '"' + "N" * 2**20 + '"'
    )
    assert default_name(loads_scenario(text)) == "n" * 60 + "-trace.json"


def test_a_scenario_file_over_4_mb_is_refused_before_it_is_parsed(tmp_path, capsys):
    from tui_backprop.scenario.reader import ScenarioError, loads_scenario

    path = write(tmp_path, "# " + "x" * 4 * MB + "\n")
    err = refused(["--check", str(path)], capsys, memory=40 * MB)
    assert err == f"error: {path}: is larger than 4 MB, the limit for a scenario file\n"
    with pytest.raises(ScenarioError, match="is larger than 4 MB"):  # text given, not read from a file
        loads_scenario("# " + "x" * 4 * MB + "\n", "big.toml")


def test_a_negative_zero_scale_is_zero(tmp_path, capsys):
    """-0.0 passes every check of >= 0, and numpy refused it as a negative scale (a traceback)."""
    data = 'generator = "blobs"\nsamples = 10\ncenters = -0.0\nspread = -0.0\nnoise = -0.0'
    text = scenario(data, layers="[4, 3, 3]", extra="max_steps = 2\n")
    text = text.replace("[data]", '[init]\nmethod = "normal"\nstd = -0.0\n\n[data]')
    assert main([str(write(tmp_path, text)), "--headless"]) == 0
    out, err = capsys.readouterr()
    assert "2 steps" in out and "Traceback" not in err
