"""Text from a file is printed escaped and cut (tui_backprop/common/escape.py), wherever it is printed.

A scenario's name, its description, its table and key names, its input and output names, a CSV
header or cell, a trace's strings and the text of --set/--vary may hold NUL, ESC, BEL or a
right-to-left override (U+202E) that a terminal would act on: every one is shown as ``\\x00``,
``\\x1b``, ``\\x07``, ``\\u202e``, in errors, in --check's and --headless's lines, in the --vary
table and in the app. Each test writes such a file and reads what the command printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui_backprop.cli import main
from tui_backprop.common.errors import BackpropError
from tui_backprop.common.escape import MAX_SHOWN, listed, quoted, shown
from tui_backprop.runs.vary import Result, table_rows
from tui_backprop.scenario.reader import load_scenario, loads_scenario

# every kind of character that must not reach a terminal raw
EVIL = "a\x00b\x1b[31mc\x07d\u202ee\u2066f\u200eg\nh\ti\x7fj\x9bk\u2028l"
ESCAPED = "a\\x00b\\x1b[31mc\\x07d\\u202ee\\u2066f\\u200eg\\nh\\ti\\x7fj\\x9bk\\u2028l"


def raw_controls(text: str) -> list[str]:
    """The characters of printed output that a terminal would act on (a newline ends a line)."""
    return sorted({c for c in text if not c.isprintable() and c != "\n"})


def toml_string(s: str) -> str:
    return json.dumps(s)  # a TOML basic string is a JSON string: \u001b, \u202e, ...


def scenario_text(
    name: str = "tiny", *, description: str = "", names: tuple[str, str, str] = ("x1", "x2", "y")
) -> str:
    return f"""\
[scenario]
name = {toml_string(name)}
description = {toml_string(description)}

[network]
layers = [2, 2, 1]
activation = "sigmoid"

[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 0]
input_names = [{toml_string(names[0])}, {toml_string(names[1])}]
output_names = [{toml_string(names[2])}]

[training]
loss = "mse"
learning_rate = 0.5
max_steps = 3
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the one function ------------------------------------------------------------------------


def test_every_character_a_terminal_acts_on_is_escaped_and_nothing_else():
    assert shown(EVIL, None) == ESCAPED
    assert raw_controls(shown(EVIL, None)) == []
    for plain in ("x1", "sepal_length", "Fisher's iris", "ü ß 日本 ∂L/∂w", "a b", "back\\slash"):
        assert shown(plain) == plain


def test_long_text_is_cut_to_a_readable_length_reading_only_that_much():
    cut = shown("k" * 10**7)  # ten million characters: only the first MAX_SHOWN are looked at
    assert cut == "k" * MAX_SHOWN + "..."
    assert shown("k" * MAX_SHOWN) == "k" * MAX_SHOWN  # exactly the limit: nothing cut
    escaped = shown("\x1b" * 1000)
    assert escaped.endswith("...") and len(escaped) <= MAX_SHOWN + 3 and "\x1b" not in escaped
    assert shown("a\nb", keep_newlines=True) == "a\nb"  # prose in a widget keeps its lines


def test_quoted_and_listed():
    assert quoted("a\u202eb") == "'a\\u202eb'"
    assert listed(["a", "b", "c"], 2) == "'a', 'b', ... (3 in all)"
    assert listed([f"c{i}" for i in range(200_000)]).endswith("... (200,000 in all)")


def test_an_error_is_escaped_whatever_its_problem_says():
    """The root error escapes its title and every problem: a message that quotes a file cannot
    split into two lines or colour the terminal, even one written without shown()."""
    e = BackpropError("dir/f\x1b.toml", [f"[data] x: got {EVIL}", "k" * 10**6])
    assert raw_controls(str(e)) == []
    assert len(e.lines()) == 2
    assert e.lines()[0] == f"error: dir/f\\x1b.toml: [data] x: got {ESCAPED}"
    assert len(e.lines()[1]) < 1100  # cut, not a megabyte


# -- the command line --------------------------------------------------------------------------


def test_check_and_headless_print_the_scenario_name_escaped(tmp_path, capsys):
    path = write(tmp_path, scenario_text(EVIL))
    assert main(["--check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {path}: {ESCAPED} (2-2-1, mse, lr=0.5, batch=full)\n"
    assert main([str(path), "--headless"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{ESCAPED}: 3 steps")
    assert raw_controls(out + err) == []


def test_errors_quote_keys_tables_and_values_escaped_and_cut(tmp_path, capsys):
    text = (
        scenario_text()
        .replace('activation = "sigmoid"', f"activation = {toml_string('sig' + EVIL)}")
        .replace("[training]", f"[training]\n{toml_string('k' * 100_000 + EVIL)} = 1")
        .replace("[data]", f"[{toml_string('t' + EVIL)}]\nx = 1\n\n[data]")
    )
    path = write(tmp_path, text)
    assert main(["--check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and raw_controls(err) == []
    lines = err.splitlines()
    assert len(lines) == 3, err  # one line per problem: no newline of the file splits one
    assert any(f"[network] activation: unknown activation 'sig{ESCAPED[: MAX_SHOWN - 3]}" in x for x in lines)
    assert any(f'[training] "{"k" * MAX_SHOWN}...": unknown key' in x for x in lines)
    assert any(x.startswith(f'error: {path}: ["t{ESCAPED[:10]}') for x in lines)
    assert max(map(len, lines)) < 600  # cut: the 100,000-character key, not [training]'s known keys


def test_a_set_value_and_a_vary_table_are_escaped(tmp_path, capsys):
    path = write(tmp_path, scenario_text())
    assert main([str(path), "--set", f"scenario.name={toml_string(EVIL)}", "--headless"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(ESCAPED)
    # TOML strings hold no raw control character, but a raw U+202E, and a value that is no TOML
    # is quoted in the error
    assert main([str(path), "--vary", 'scenario.name="a\u202eb",other', "--headless"]) == 0
    out, err = capsys.readouterr()
    assert raw_controls(out + err) == []
    assert out.splitlines()[1].startswith('"a\\u202eb"')
    assert main([str(path), "--set", "scenario.name=\x1b[2J\x07", "--headless"]) == 2
    out, err = capsys.readouterr()
    assert raw_controls(out + err) == [] and "not a TOML value: '\\x1b[2J\\x07'" in err
    rows = table_rows("scenario.name", [Result(EVIL, 1, 0.5, None, False, "steps")])
    assert rows[1][0] == ESCAPED


def test_a_csv_header_and_cells_are_escaped_in_errors(tmp_path, capsys):
    (tmp_path / "d.csv").write_text(f'a,"b{EVIL}",t\n1,"2{EVIL}",0\n', encoding="utf-8")
    text = scenario_text().replace(
        "inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets = [0, 1, 1, 0]",
        'csv = "d.csv"\ntarget_columns = ["t"]',
    )
    path = write(tmp_path, text)
    assert main(["--check", str(path)]) == 2
    _, err = capsys.readouterr()
    assert raw_controls(err) == []
    # the cells hold a newline: the data row is on lines 3 and 4
    assert f"line 4, column 'b{ESCAPED[:20]}" in err and "expected a number, got '2" in err


def test_a_trace_s_strings_are_escaped_when_checked(tmp_path, capsys):
    path = write(tmp_path, scenario_text(EVIL, names=(EVIL, "b", "y")))
    trace = tmp_path / "t.json"
    assert main([str(path), "--headless", "--export", str(trace)]) == 0
    capsys.readouterr()
    assert main(["--check", str(trace)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"ok: {trace}: trace of {ESCAPED} (2-2-1")
    doc = json.loads(trace.read_text())
    doc["steps"][0]["layers"][0][EVIL + "k" * 500] = 1  # an unknown field
    trace.write_text(json.dumps(doc))
    assert main(["--check", str(trace)]) == 2
    _, err = capsys.readouterr()
    assert raw_controls(err) == [] and "unknown field" in err and len(err) < 400


# -- the app -----------------------------------------------------------------------------------


def test_the_app_s_names_are_escaped_before_any_widget_sees_them():
    from tui_backprop.engine import Trainer
    from tui_backprop.engine.diagnostics import Diagnostic
    from tui_backprop.tui.netinfo import NetInfo, about
    from tui_backprop.tui.widgets.header import Status, display_path
    from tui_backprop.tui.widgets.warning_text import warning_line

    s = loads_scenario(scenario_text(EVIL, description=f"line one\n{EVIL}", names=(EVIL, "b", "y\x07")))
    t = Trainer(s)
    net = NetInfo.build(s, t.initial_W, t.initial_b)
    assert net.names[0] == (ESCAPED, "b") and net.names[-1] == ("y\\x07",)
    name, description = about(s)
    assert name == ESCAPED
    assert description == "line one\n" + ESCAPED.replace("\\n", "\n")  # its own newlines kept
    assert Status.of(s, None, 1.0, "", "", "", None).name == ESCAPED
    assert display_path(Path(f"/tmp/{EVIL}.json")) == f"/tmp/{ESCAPED}.json"
    assert warning_line(Diagnostic("saturated", 1, (0,), EVIL), net) == f"saturated · layer 1 (h1): {ESCAPED}"


async def test_the_app_shows_no_raw_control_character(tmp_path):
    from app_harness import drive

    from tui_backprop.tui.app import BackpropApp

    s = load_scenario(write(tmp_path, scenario_text(EVIL, description=EVIL, names=(EVIL, "b\u202e", "y"))))
    app = BackpropApp(s)
    async with drive(app, size=(160, 45)) as session:
        await session.press("space")  # one step: every panel shows the names
        screen = session.screen()
        assert raw_controls(screen) == []
        assert "a\\x00b\\x1b[31mc" in screen  # the name, escaped, in the header
        assert "\\u202e" in session.panel("network") + session.panel("forward")
        await session.press("question_mark")  # the help starts with the name and description
        assert raw_controls(session.screen()) == []


@pytest.mark.parametrize("name", ["\x1b]0;title\x07", "\u202eevil", "a\x00b"])
def test_no_bundled_or_written_name_reaches_list_or_check_raw(name, tmp_path, capsys):
    assert main(["--list"]) == 0
    path = write(tmp_path, scenario_text(name))
    assert main(["--check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert raw_controls(out + err) == []
