"""``--set TABLE.KEY=VALUE`` and ``--vary TABLE.KEY=V1,V2,...``: scenario keys changed for one run.

An override is applied to the parsed TOML document before it is validated, so the result
obeys every rule of the scenario format, exactly as if the file had said it:

    --set training.learning_rate=0.1       a TOML value: 0.1, 4, true, "sample", [2, 4, 1]
    --set training.batch=sample            a bare word that is not TOML is taken as a string
    --vary training.batch=full,sample,4    one variant per value, split on top-level commas,
    --vary network.layers=[1,1],[1,3,1]    so that arrays and quoted strings keep theirs

A bad override is a ScenarioError titled with the scenario file, naming the key:
``error: xor.toml: --set training.learnin_rate: unknown key (did you mean 'learning_rate'?)``.
"""

from __future__ import annotations

import copy
import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..common.errors import BackpropError
from ..common.escape import quoted, shown

_NAME = r"[A-Za-z0-9_-]+"
_KEY = re.compile(rf"^\s*({_NAME})\.({_NAME})\s*$")
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
MAX_VARIANTS = 16  # values of one --vary: lines of one chart, runs held at once


class OverrideError(BackpropError):
    """A ``--set`` or ``--vary`` argument that is not TABLE.KEY=VALUE (no scenario read yet)."""


@dataclass(frozen=True)
class Override:
    """``[table] key = value``, from the command-line flag ``flag`` (``--set`` or ``--vary``)."""

    flag: str
    table: str
    key: str
    value: Any
    text: str  # the value as written on the command line

    @property
    def name(self) -> str:
        return f"{self.table}.{self.key}"

    def __str__(self) -> str:
        return f"{self.flag} {self.name}={shown(self.text)}"


def parse_value(text: str) -> Any:
    """A TOML value (``0.1``, ``"x"``, ``[1, 2]``, ``true``); a bare word that is not one is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if _BARE_WORD.match(text.strip()):
            return text.strip()
        raise ValueError(f"not a TOML value: {quoted(text)} (quote a string: '\"...\"')") from None


def _split_assignment(flag: str, arg: str) -> tuple[str, str, str]:
    """``"training.batch=4"`` -> ("training", "batch", "4")."""
    name, eq, text = arg.partition("=")
    m = _KEY.match(name)
    if not eq or m is None:
        raise OverrideError(flag, f"expected TABLE.KEY=VALUE (training.learning_rate=0.1), got {quoted(arg)}")
    if not text.strip():
        raise OverrideError(flag, f"{m[1]}.{m[2]}: no value after '='")
    return m[1], m[2], text.strip()


def parse_set(arg: str) -> Override:
    """One ``--set`` argument."""
    table, key, text = _split_assignment("--set", arg)
    try:
        value = parse_value(text)
    except ValueError as e:
        raise OverrideError("--set", f"{table}.{key}: {e}") from None
    return Override("--set", table, key, value, text)


def split_values(text: str) -> list[str]:
    """Split on the commas outside brackets, braces and quotes: ``1,[2,3],"a,b"`` -> 3 parts."""
    parts, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            if c == quote and text[i - 1] != "\\":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_vary(arg: str) -> list[Override]:
    """One ``--vary`` argument: one Override per value, in the order given."""
    table, key, text = _split_assignment("--vary", arg)
    out: list[Override] = []
    parts = split_values(text)
    if len(parts) > MAX_VARIANTS:
        raise OverrideError(
            "--vary", f"{table}.{key}: {len(parts):,} values is more than {MAX_VARIANTS} to compare"
        )
    for part in parts:
        if not part:
            raise OverrideError("--vary", f"{table}.{key}: an empty value in {quoted(text)}")
        try:
            out.append(Override("--vary", table, key, parse_value(part), part))
        except ValueError as e:
            raise OverrideError("--vary", f"{table}.{key}: {e}") from None
    if len(out) < 2:
        raise OverrideError(
            "--vary", f"{table}.{key}: give at least two values to compare, got {quoted(text)}"
        )
    seen: set[str] = set()
    for o in out:
        if o.text in seen:
            raise OverrideError("--vary", f"{table}.{key}: the value {shown(o.text)} is given twice")
        seen.add(o.text)
    return out


def apply_overrides(
    doc: dict[str, Any], overrides: Sequence[Override], known: dict[str, tuple[str, ...]]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of the TOML document ``doc`` with the overrides in place, and one problem line
    per override that names an unknown table or key (``known``: every table and its keys)."""
    doc = copy.deepcopy(doc)
    problems: list[str] = []
    for o in overrides:
        if o.table not in known:
            hint = difflib.get_close_matches(o.table, known, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else f" (known tables: {', '.join(known)})"
            problems.append(f"{o.flag} {o.name}: unknown table {o.table!r}{also}")
            continue
        keys = known[o.table]
        if o.key not in keys:
            hint = difflib.get_close_matches(o.key, keys, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else f" (known keys: {', '.join(keys)})"
            problems.append(f"{o.flag} {o.name}: unknown key{also}")
            continue
        table = doc.setdefault(o.table, {})
        if isinstance(table, dict):  # a file whose [table] is not a table: the loader says so
            table[o.key] = o.value
    return doc, problems


def blame(problems: Sequence[str], overrides: Sequence[Override]) -> list[str]:
    """The loader's problems, each one about an overridden key marked with the flag that set it."""
    out = []
    for p in problems:
        for o in overrides:
            if p.startswith((f"[{o.table}] {o.key}:", f"[{o.table}] {o.key}[")):
                p += f" (from {o})"
                break
        out.append(p)
    return out
