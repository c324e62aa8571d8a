"""Every page of the documentation is honest: README.md, CONTRIBUTING.md and every docs/*.md.

- every ``backprop-tui`` command line, in a code block or in inline code, parses with the real
  command line and loads its scenario (with its --set and --vary values); a trace it opens is one
  that some page's command exports. A synopsis (``backprop-tui SCENARIO --steps N``: a word in
  capitals, ``...`` or an optional ``[--flag]``) is not run, but every flag it names exists;
- every relative link and picture points at a file that exists, and a link to a heading
  (``page.md#anchor``) at a heading that the page has; every picture is made by docs/screenshots.py;
- every path ``tui_backprop/...``, ``tests/...``, ``benchmarks/...``, ``docs/...`` or
  ``scenarios/...`` that a page names exists, and every ``tui_backprop.x.y`` imports (a trailing
  name is looked up on the module);
- docs/cli.md names every flag of the parser, and the README opens with its two commands.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

from tui_backprop import cli, load_scenario
from tui_backprop.runs import vary as compare
from tui_backprop.scenario.overrides import parse_set, parse_vary

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]
TEXT = {page: page.read_text(encoding="utf-8") for page in PAGES}

# Pages that another branch writes, linked from here before it is merged: a link to one of them is
# checked like any other once the page exists. (Drop a name once its page is on main.)

FENCE = re.compile(r"^( *)```[^\n]*\n(.*?)^\1```", flags=re.S | re.M)


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return FENCE.sub("", text)


def _commands(text: str) -> list[str]:
    """Every backprop-tui command line of a page: in code blocks, then in inline code."""
    lines = []
    for _, block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("backprop-tui ") or line == "backprop-tui":
                lines.append(line)
    lines += re.findall(r"`(backprop-tui(?: [^`]*)?)`", _prose(text))
    return lines


def _words(line: str) -> list[str]:
    """The arguments of a command line, without its comment, pipe or redirection."""
    words = shlex.split(line, comments=True)[1:]
    for i, word in enumerate(words):
        if word in ("|", "&&", ";") or re.match(r"\d?>", word):
            return words[:i]
    return words


def _is_synopsis(line: str) -> bool:
    code = line.split(" #")[0]
    return bool(re.search(r"\b[A-Z][A-Z0-9_]*\b|\.\.\.|\[--", code))


COMMANDS = [(page, line) for page in PAGES for line in _commands(TEXT[page])]
RUNNABLE = [(page, line) for page, line in COMMANDS if not _is_synopsis(line)]
EXPORTED = {
    words[i + 1]
    for _, line in RUNNABLE
    if "--export" in (words := _words(line))
    for i in [words.index("--export")]
}
ACTIONS = cli._parser()._actions
FLAGS = {flag for action in ACTIONS for flag in action.option_strings}
SHOWN = [action for action in ACTIONS if action.help != argparse.SUPPRESS]  # not the served app's own
SHOWN_FLAGS = {flag for action in SHOWN for flag in action.option_strings}


def test_the_pages_have_commands():
    assert len(RUNNABLE) >= 40, len(RUNNABLE)
    for page in ("README.md", "docs/tutorial.md", "docs/cli.md", "docs/traces.md", "docs/scenarios.md"):
        assert any(_name(p) == page for p, _ in RUNNABLE), page


@pytest.mark.parametrize(("page", "line"), COMMANDS, ids=[f"{_name(p)}: {line}" for p, line in COMMANDS])
def test_every_flag_named_exists(page, line):
    for word in re.findall(r"(?<![\w-])--[a-z][\w-]*", line.split(" #")[0]):
        assert word in FLAGS, f"{_name(page)}: {line}: no such flag {word}"


def _scenario(name: str) -> str:
    """A path as a page writes it (from the checkout), or a bundled name."""
    return str(ROOT / name) if "/" in name else name


@pytest.mark.parametrize(("page", "line"), RUNNABLE, ids=[f"{_name(p)}: {line}" for p, line in RUNNABLE])
def test_each_command_parses_and_loads_its_scenario(page, line):
    try:
        args = cli._parser().parse_args(_words(line))
    except SystemExit as e:
        if e.code == 0:  # --version, --help: printed, and done
            return
        pytest.fail(f"{_name(page)}: {line}: the command line refuses it (exit code {e.code})")
    names = list(args.scenario) + ([args.replay] if args.replay else [])
    if args.list or not names:
        return
    sets = [parse_set(s) for s in args.sets]
    for name in names:
        if name.endswith(".json"):  # a trace: one that a command of the pages exports first
            assert name in EXPORTED, f"{_name(page)}: {line}: no page exports {name}"
        elif args.vary:
            assert len(compare.load_variants(_scenario(name), sets, parse_vary(args.vary[0]))) >= 2
        else:
            assert load_scenario(_scenario(name), sets).layers


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _prose(text), flags=re.M):
        slug = base = _slug(heading)
        n = 0
        while slug in anchors:
            n += 1
            slug = f"{base}-{n}"
        anchors.add(slug)
    return anchors


LINKS = [
    (page, target)
    for page in PAGES
    for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", _prose(TEXT[page]))
    if not re.match(r"[a-z]+:", target)
]


def test_the_pages_have_links():
    assert len(LINKS) >= 60, len(LINKS)


@pytest.mark.parametrize(("page", "target"), LINKS, ids=[f"{_name(p)} -> {t}" for p, t in LINKS])
def test_every_relative_link_exists(page, target):
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    assert file.exists(), f"{_name(page)}: {target}: no such file"
    if anchor:
        assert file.suffix == ".md", f"{_name(page)}: {target}: an anchor into a file that is not a page"
        anchors = _anchors(file.read_text(encoding="utf-8"))
        assert anchor in anchors, f"{_name(page)}: {target}: no such heading"


def test_every_picture_is_there_and_made_by_the_script():
    script = (DOCS / "screenshots.py").read_text(encoding="utf-8")
    pictures = [
        (page, target) for page, target in LINKS if target.endswith(".png") and f"]({target})" in TEXT[page]
    ]
    assert len(pictures) >= 12
    for page, target in pictures:
        file = (page.parent / target).resolve()
        assert file.is_file(), f"{_name(page)}: {target}"
        assert file.parent == DOCS / "img", f"{_name(page)}: {target}: pictures live in docs/img"
        made = re.search(rf'Shot\(\s*"{file.stem}"', script)
        assert made, f"{_name(page)}: {target}: not made by docs/screenshots.py"


PATHS = sorted(
    {
        (page, path.rstrip("."))
        for page in PAGES
        for path in re.findall(
            r"(?<![\w/.-])((?:tui_backprop|tests|benchmarks|docs|scenarios)/[\w/.-]*)", TEXT[page]
        )
    }
)
MODULE = re.compile(r"\btui_backprop(?:\.\w+)+")
MODULES = sorted({(page, name) for page in PAGES for name in MODULE.findall(TEXT[page])})


def test_the_pages_name_paths_and_modules():
    assert len(PATHS) >= 60 and len(MODULES) >= 5, (len(PATHS), len(MODULES))


@pytest.mark.parametrize(("page", "path"), PATHS, ids=[f"{_name(p)}: {path}" for p, path in PATHS])
def test_every_path_named_exists(page, path):
    assert (ROOT / path).exists(), f"{_name(page)}: {path}: no such file or folder"


def test_every_file_named_in_code_exists():
    """A file named in inline code by a shorter path (`engine/trainer.py`), from the checkout or
    the package: the pages name none today, and this keeps it so (the paths moved in issue 12)."""
    named = [
        (page, path)
        for page in PAGES
        for path in re.findall(r"`([\w.-]+(?:/[\w.-]+)+\.(?:py|json|toml|csv|md|png))`", _prose(TEXT[page]))
    ]
    assert len(named) >= 40, len(named)
    missing = [
        f"{_name(page)}: {path}"
        for page, path in named
        if not (ROOT / path).exists() and not (ROOT / "tui_backprop" / path).exists()
    ]
    assert not missing, missing


@pytest.mark.parametrize(("page", "name"), MODULES, ids=[f"{_name(p)}: {n}" for p, n in MODULES])
def test_every_module_named_exists(page, name):
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        try:
            thing: object = importlib.import_module(".".join(parts[:n]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[n:]:
            assert hasattr(thing, attribute), f"{_name(page)}: {name}: {attribute} not found"
            thing = getattr(thing, attribute)
        return
    pytest.fail(f"{_name(page)}: {name}: no such module")


def test_the_command_line_page_names_every_flag():
    page = TEXT[DOCS / "cli.md"]
    missing = [flag for flag in sorted(SHOWN_FLAGS) if f"`{flag}" not in page and f" {flag}" not in page]
    assert not missing, missing


def test_the_readme_opens_with_its_two_commands():
    assert TEXT[ROOT / "README.md"].startswith(
        "```\n"
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && backprop-tui xor\n"
        'python3 -m venv .venv && . .venv/bin/activate && pip install ".[test]" && pytest\n'
        "```\n"
    )


def test_the_readme_lists_every_bundled_scenario_once():
    bundled = sorted(path.stem for path in (ROOT / "scenarios").glob("*.toml"))
    listed = re.findall(r"^- `(\w+)`: ", TEXT[ROOT / "README.md"], flags=re.M)
    assert sorted(listed) == bundled
    section = TEXT[DOCS / "scenarios.md"].split("\n## Bundled scenarios\n")[1]
    table = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert table == listed, "docs/scenarios.md: the table of bundled scenarios"
