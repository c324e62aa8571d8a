"""Start-up: the command answers --version, --help and --list without loading the app, the chart or
numpy, and --check of a scenario without the app or the trace reader (benchmarks/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tui_backprop import __version__
from tui_backprop.__main__ import main
from tui_backprop.common.escape import shown
from tui_backprop.scenario.reader import bundled_names, load_scenario

UI = ("textual", "plotext", "rich")


def loaded_after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def offenders(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in names)


def test_the_command_line_parses_version_without_the_ui():
    code = (
        "import tui_backprop.cli as cli\n"
        "try:\n    cli._parser().parse_args(['--version'])\nexcept SystemExit:\n    pass\n"
    )
    loaded = loaded_after(code)
    assert "tui_backprop.cli" in loaded
    assert not offenders(loaded, UI), f"--version loaded {offenders(loaded, UI)}"


def test_the_entry_point_answers_version_without_numpy():
    loaded = loaded_after("from tui_backprop.__main__ import main\nmain(['--version'])")
    assert not offenders(loaded, (*UI, "numpy")), offenders(loaded, (*UI, "numpy"))
    assert "tui_backprop.cli" not in loaded


def test_the_entry_point_prints_the_version_and_hands_the_rest_on(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"backprop-tui {__version__}\n"
    assert main(["--list"]) == 0  # cli.main's answer
    assert "xor" in capsys.readouterr().out


HEAVY = (*UI, "numpy", "asyncio", "threadpoolctl")


@pytest.mark.parametrize("flag", ["--help", "--list"])
def test_help_and_list_load_neither_numpy_nor_the_ui(flag):
    code = f"from tui_backprop.__main__ import main\ntry:\n    main([{flag!r}])\nexcept SystemExit:\n    pass"
    loaded = loaded_after(code)
    assert "tui_backprop.cli" in loaded  # the real command line answered
    assert not offenders(loaded, HEAVY), f"{flag} loaded {offenders(loaded, HEAVY)}"


def test_check_of_a_scenario_loads_neither_the_ui_nor_the_trace_reader():
    loaded = loaded_after("from tui_backprop.__main__ import main\nmain(['--check', 'xor'])")
    assert "tui_backprop.scenario.check" in loaded
    unneeded = ("tui_backprop.trace.reader", "tui_backprop.runs.vary", "tui_backprop.tutor.worked")
    assert not offenders(loaded, UI) and not [m for m in unneeded if m in loaded]


@pytest.mark.parametrize("name", bundled_names())
def test_each_line_of_list_agrees_with_the_scenario_as_loaded(name, capsys):
    assert main(["--list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.split()[0] == name)
    scenario = load_scenario(name)
    arch = "-".join(str(n) for n in scenario.layers)
    assert line.split()[1] == arch
    assert line.split(None, 2)[2] == shown(scenario.name)
