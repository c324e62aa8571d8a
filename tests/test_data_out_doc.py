"""docs/data-out.md works as written: its headless commands run, and its Python snippets load
what they wrote."""

from __future__ import annotations

import contextlib
import io
import shlex
from pathlib import Path

from tui_backprop.cli import main

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "data-out.md").read_text(encoding="utf-8")


def blocks(page: str) -> list[tuple[str, str]]:
    """(language, text) of every fenced block, in order."""
    out, language, lines = [], None, []
    for line in page.splitlines():
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:], []
            else:
                out.append((language, "\n".join(lines) + "\n"))
                language = None
        elif language is not None:
            lines.append(line)
    return out


def test_the_pages_commands_write_what_its_snippets_load(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    found = blocks(PAGE)
    commands = [
        line
        for language, text in found
        if language == ""
        for line in text.splitlines()
        if line.startswith("backprop-tui ") and "--headless" in line
    ]
    snippets = [text for language, text in found if language == "python"]
    assert len(commands) == 3 and len(snippets) == 3
    for line in commands:
        assert main(shlex.split(line)[1:]) == 0, line
    capsys.readouterr()
    for code in snippets:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "docs/data-out.md", "exec"), {})
        assert printed.getvalue().strip(), code


def test_the_readmes_data_out_example_works(tmp_path, monkeypatch, capsys):
    """The README's CSV and npz lines: its two exports, then its two snippets that load them."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found = blocks(readme)
    snippets = [text for language, text in found if language == "python"]
    assert len(snippets) == 2
    for language, text in found:
        for line in text.splitlines():
            if language == "" and line.startswith("backprop-tui ") and "--export run.csv" in line:
                assert main(shlex.split(line)[1:]) == 0, line
            if language == "" and line.startswith("backprop-tui ") and "--export weights.npz" in line:
                assert main(shlex.split(line)[1:]) == 0, line
    capsys.readouterr()
    for code in snippets:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})
        assert printed.getvalue().strip(), code
