"""--help: the flags in sections by what they are for, none lost; --help and --version stay light."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tui_backprop.cli import main

# every flag --help listed before it had sections (the hidden --served-* flags are not listed)
FLAGS_BEFORE = {
    *("-h", "--help", "--headless", "--steps", "--export", "--force", "--replay", "--every"),
    *("--fields", "--list", "--check", "--no-verify", "--version", "--set", "--vary", "--serve"),
    *("--port", "--host", "--no-token", "--max-sessions", "--export-dir", "--max-exports"),
    "--max-export-mb",
}
SECTIONS = {
    "what to run": {"--headless", "--steps", "--replay", "--list", "--check", "--no-verify"},
    "changing the scenario for one run": {"--set", "--vary"},
    "writing the run down": {"--export", "--force", "--every", "--fields"},
    "serving the app in a browser": {"--serve", "--port", "--host", "--export-dir"},
    "about the command": {"-h", "--help", "--version", "--completion"},
}


def help_text(capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


def sections(text: str) -> dict[str, set[str]]:
    """Each ``title:`` section of the help and the flags that begin its lines."""
    out: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        if re.fullmatch(r"[a-z][^:]*:", line) and not line.startswith("usage"):
            current = out.setdefault(line[:-1], set())
        elif current is not None and line.startswith("  -"):
            current.update(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line.split("  ", 2)[1]))
    return out


def test_every_flag_is_still_in_the_help(capsys):
    found = sections(help_text(capsys))
    listed = set().union(*found.values())
    assert FLAGS_BEFORE <= listed, FLAGS_BEFORE - listed
    assert not any(flag.startswith("--served") for flag in listed)


def test_the_flags_are_grouped_by_what_they_are_for(capsys):
    found = sections(help_text(capsys))
    for title, flags in SECTIONS.items():
        assert title in found, sorted(found)
        assert flags <= found[title], (title, flags - found[title])
    # no flag in two sections, and no default "options" section left over
    seen = [flag for flags in found.values() for flag in flags]
    assert len(seen) == len(set(seen))
    assert "options" not in found


PROBE = """
import json, sys
from tui_backprop.cli import main
try:
    main([sys.argv[1]])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_load_no_terminal_library(flag):
    proc = subprocess.run([sys.executable, "-c", PROBE, flag], capture_output=True, text=True, timeout=60)
    loaded = json.loads(proc.stderr.splitlines()[-1])
    assert "tui_backprop.cli" in loaded and proc.stdout  # the probe ran the command line
    heavy = [m for m in loaded if m.split(".")[0] in ("textual", "plotext", "textual_plotext")]
    assert not heavy and "rich.progress" not in loaded, heavy
