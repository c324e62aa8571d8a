"""Start-up: the command answers --version without loading the app, the chart or numpy."""

from __future__ import annotations

import json
import subprocess
import sys

from tui_backprop import __version__
from tui_backprop.__main__ import main

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
