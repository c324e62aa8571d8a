"""A session shown in a page is the session the command gives: the example files of
docs/examples are run with the command line written above their output, from the checkout's root,
and every line printed must be the page's (so that a page cannot drift from the program)."""

from __future__ import annotations

import io
import re
import shlex
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tui_backprop.cli import main

ROOT = Path(__file__).resolve().parent.parent
# a fenced block that starts with "$ backprop-tui ..." and shows its output, then "$ echo $?" and the code
SESSION = re.compile(r"```\n\$ (backprop-tui [^\n]*)\n(.*?)\$ echo \$\?\n(\d+)\n```", re.S)
PAGES = ["docs/check-my-work.md"]
SESSIONS = [(page, *m) for page in PAGES for m in SESSION.findall((ROOT / page).read_text(encoding="utf-8"))]


def test_the_pages_show_sessions():
    assert SESSIONS


@pytest.mark.parametrize(("page", "command", "output", "code"), SESSIONS, ids=[s[1] for s in SESSIONS])
def test_a_session_in_a_page_is_what_the_command_prints(page, command, output, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        got = main(shlex.split(command)[1:])
    assert got == int(code), err.getvalue()
    assert out.getvalue() == output, f"{page}: {command}"
