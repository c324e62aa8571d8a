"""The tutorial's commands and pictures exist: every ``backprop-tui`` line of docs/tutorial.md
parses with the real command line and loads its scenario (with its --set and --vary values), and
every picture it shows is in docs/img and made by docs/screenshots.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tui_backprop import cli, load_scenario
from tui_backprop.runs import vary as compare
from tui_backprop.scenario.overrides import parse_set, parse_vary

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIAL = (DOCS / "tutorial.md").read_text(encoding="utf-8")


def _command_lines() -> list[str]:
    blocks = re.findall(r"```\n(.*?)```", TUTORIAL, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("backprop-tui ")]


COMMANDS = _command_lines()


def test_the_tutorial_has_commands():
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize("line", COMMANDS)
def test_each_command_parses_and_loads_its_scenario(line):
    args = cli._parser().parse_args(shlex.split(line)[1:])
    if args.list or not args.scenario:
        return
    name = args.scenario[0]
    if name.endswith(".json"):  # a trace the tutorial exports first, with a command of its own
        assert any(f"--export {name}" in other for other in COMMANDS), line
        return
    sets = [parse_set(s) for s in args.sets]
    if args.vary:
        variants = compare.load_variants(name, sets, parse_vary(args.vary[0]))
        assert len(variants) >= 2
    else:
        assert load_scenario(name, sets).layers


def test_every_picture_is_there_and_made_by_the_script():
    pictures = re.findall(r"!\[[^\]]+\]\(img/([\w-]+)\.png\)", TUTORIAL)
    assert len(pictures) >= 10
    script = (DOCS / "screenshots.py").read_text(encoding="utf-8")
    for name in pictures:
        assert (DOCS / "img" / f"{name}.png").is_file(), name
        assert f'Shot("{name}"' in script, name
