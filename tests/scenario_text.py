"""Scenario files written with one key changed: the independent runs that check --set and --vary."""

from __future__ import annotations

import re
from importlib import resources


def bundled_text(name: str) -> str:
    return resources.files("tui_backprop.scenarios").joinpath(f"{name}.toml").read_text("utf-8")


def with_line(text: str, table: str, key: str, line: str) -> str:
    """``text`` with ``key = ...`` of ``[table]`` replaced by ``line`` (added when it is not there)."""
    head, sep, rest = text.partition(f"[{table}]\n")
    assert sep, f"no [{table}] in the scenario"
    body, nxt, tail = rest.partition("\n[")
    pattern = re.compile(rf"^{key} = .*$", re.M)
    body = pattern.sub(line, body) if pattern.search(body) else f"{line}\n{body}"
    return head + sep + body + nxt + tail
