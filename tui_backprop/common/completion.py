"""``--completion bash|zsh|fish``: a shell completion script, written from the parser's own flags.

What is completed: a flag after ``-``; the bundled scenario names and the files that can be
opened (``.toml`` scenarios, ``.json`` traces, folders) where a SCENARIO goes; a file after
``--export`` and ``--replay``, a folder after ``--export-dir``; ``TABLE.KEY=`` after ``--set``
and ``--vary``; a flag's fixed words after it (``--completion bash``, the names of ``--fields``).
A flag that takes a number offers nothing. The names are written into the script when it is
made: ``backprop-tui --completion bash`` again after an upgrade.

    eval "$(backprop-tui --completion bash)"               # in ~/.bashrc
    source <(backprop-tui --completion zsh)                # in ~/.zshrc, after compinit
    backprop-tui --completion fish > ~/.config/fish/completions/backprop-tui.fish
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

SHELLS = ("bash", "zsh", "fish")
COMMAND = "backprop-tui"
_SAFE = re.compile(r"^[A-Za-z0-9_.,=+:/@%-]+$")  # a word that needs no quoting in any of the three


class Flag(NamedTuple):  # not a dataclass: importing dataclasses costs --help some 10 ms
    """One flag: its spellings (``-h``, ``--help``), what follows it (``none``: nothing, ``file``,
    ``dir``, ``words``: one of ``words``, ``value``: something to type), and its help line."""

    names: tuple[str, ...]
    follows: str
    words: tuple[str, ...] = ()
    help: str = ""


def flags_of(actions: Iterable[argparse.Action], words: Mapping[str, Sequence[str]] = {}) -> list[Flag]:
    """The flags of a parser's ``actions`` that --help shows; ``words``: what a flag's value may be
    (by its first long name), besides an action's own ``choices``. A metavar PATH, TRACE or FILE takes a
    file, DIR a folder."""
    out = []
    for a in actions:
        if not a.option_strings or a.help == argparse.SUPPRESS:
            continue
        long = next((n for n in a.option_strings if n.startswith("--")), a.option_strings[0])
        choices: tuple[str, ...]
        if a.nargs == 0:
            follows, choices = "none", ()
        elif long in words or a.choices:
            follows, choices = "words", tuple(words.get(long) or [str(c) for c in a.choices or ()])
        elif a.metavar in ("PATH", "TRACE", "FILE"):
            follows, choices = "file", ()
        elif a.metavar == "DIR":
            follows, choices = "dir", ()
        else:
            follows, choices = "value", ()
        out.append(Flag(tuple(a.option_strings), follows, choices, " ".join((a.help or "").split())))
    return out


def script(shell: str, flags: Sequence[Flag], scenarios: Sequence[str]) -> str:
    """The completion script for ``shell`` (one of SHELLS)."""
    for word in (*scenarios, *(w for f in flags for w in f.words), *(n for f in flags for n in f.names)):
        if not _SAFE.match(word):  # every name here is the package's own: never a user's
            raise ValueError(f"a word that would need quoting: {word!r}")
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](flags, scenarios)


def _cases(flags: Sequence[Flag], pattern: str, body: Mapping[str, str]) -> list[str]:
    """One ``case`` arm a kind of flag: ``pattern`` formats the flag names joined by ``|``."""
    lines = []
    for follows in ("words", "file", "dir", "value"):
        group = [f for f in flags if f.follows == follows]
        if follows == "words":
            for f in group:
                lines.append(pattern.format("|".join(f.names)) + body["words"].format(" ".join(f.words)))
        elif group:
            names = "|".join(n for f in group for n in f.names)
            lines.append(pattern.format(names) + body[follows])
    return lines


def _bash(flags: Sequence[Flag], scenarios: Sequence[str]) -> str:
    names = " ".join(n for f in flags for n in f.names)
    arms = _cases(
        flags,
        "        {}) ",
        {
            # TABLE.KEY= is completed without a space after it: the value follows
            "words": 'COMPREPLY=($(compgen -W "{}" -- "$cur")); [[ $COMPREPLY == *= ]] && '
            "compopt -o nospace 2>/dev/null; return 0;;",
            "file": 'COMPREPLY=($(compgen -f -- "$cur")); return 0;;',
            "dir": 'COMPREPLY=($(compgen -d -- "$cur")); return 0;;',
            "value": "return 0;;",
        },
    )
    return "\n".join(
        [
            f'# {COMMAND} completion for bash: eval "$({COMMAND} --completion bash)" in ~/.bashrc',
            "_backprop_tui() {",
            '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" f',
            "    COMPREPLY=()",
            '    case "$prev" in',
            *arms,
            "    esac",
            '    if [[ "$cur" == -* ]]; then',
            f'        COMPREPLY=($(compgen -W "{names}" -- "$cur"))',
            "        return 0",
            "    fi",
            f'    COMPREPLY=($(compgen -W "{" ".join(scenarios)}" -- "$cur"))',
            "    while IFS= read -r f; do  # the files a SCENARIO can be: scenarios, traces, folders",
            '        [[ -d "$f" || "$f" == *.toml || "$f" == *.json ]] && COMPREPLY+=("$f")',
            '    done < <(compgen -f -- "$cur")',
            "    return 0",
            "}",
            f"complete -o filenames -F _backprop_tui {COMMAND}",
            "",
        ]
    )


def _zsh(flags: Sequence[Flag], scenarios: Sequence[str]) -> str:
    names = " ".join(n for f in flags for n in f.names)
    arms = _cases(
        flags,
        "        {}) ",
        {
            "words": "local -a w; w=({}); compadd -S '' -- ${{(M)w:#*=}}; compadd -- ${{w:#*=}}; return;;",
            "file": "_files; return;;",
            "dir": "_files -/; return;;",
            "value": "return;;",
        },
    )
    return "\n".join(
        [
            f"#compdef {COMMAND}",
            f"# {COMMAND} completion for zsh: source <({COMMAND} --completion zsh) in ~/.zshrc,"
            " after compinit",
            "_backprop_tui() {",
            "    case ${words[CURRENT-1]} in",
            *arms,
            "    esac",
            "    if [[ $PREFIX == -* ]]; then",
            f"        compadd -- {names}",
            "    else",
            f"        compadd -- {' '.join(scenarios)}",
            "        _files -g '*.(toml|json)'",
            "    fi",
            "}",
            f"compdef _backprop_tui {COMMAND}",
            "",
        ]
    )


def _fish_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish(flags: Sequence[Flag], scenarios: Sequence[str]) -> str:
    c = f"complete -c {COMMAND}"
    lines = [
        f"# {COMMAND} completion for fish: {COMMAND} --completion fish"
        f" > ~/.config/fish/completions/{COMMAND}.fish",
        f"{c} -f",  # files only where they go (below)
        f"{c} -a {_fish_text(' '.join(scenarios))} -d 'bundled scenario'",
        f"{c} -a '(__fish_complete_suffix .toml; __fish_complete_suffix .json)'",
    ]
    for f in flags:
        spelt = " ".join(f"-l {n[2:]}" if n.startswith("--") else f"-s {n[1:]}" for n in f.names)
        takes = {
            "none": "",
            "file": " -r -F",
            "dir": " -r -a '(__fish_complete_directories)'",
            "value": " -r",
            "words": f" -x -a {_fish_text(' '.join(f.words))}",
        }[f.follows]
        lines.append(f"{c} {spelt}{takes} -d {_fish_text(f.help)}")
    return "\n".join([*lines, ""])
