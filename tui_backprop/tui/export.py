"""Where the app writes a trace: a pure choice of path, no Textual and no writing.

    --export PATH given     PATH (a folder: the default name inside it)
    otherwise               <scenario file stem, or a slug of its name>-trace.json in the current directory

Either way a file that exists and that this app session did not write is never overwritten:
``-1``, ``-2``, ... is added before the suffix instead. A file this session wrote is
overwritten, so exporting again after more steps updates the same file.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from ..scenario import Scenario


def slug(text: str) -> str:
    """``"XOR, 2-3-1 sigmoid"`` -> ``"xor-2-3-1-sigmoid"``, at most 60 characters (a name from a
    file may be a megabyte long, and a file name holds 255 bytes)."""
    s = re.sub(r"[^a-z0-9]+", "-", text[:200].lower())[:60].strip("-")
    return s or "scenario"


def default_name(scenario: Scenario) -> str:
    source = scenario.source or ""
    stem = Path(source).stem if source.endswith(".toml") else ""
    return f"{stem or slug(scenario.name)}-trace.json"


def choose_export_path(
    scenario: Scenario, given: Path | None, cwd: Path, written: Collection[Path] = ()
) -> Path:
    """The path to export to; ``written`` holds the resolved paths this session wrote."""
    base = given if given is not None else Path(default_name(scenario))
    if not base.is_absolute():
        base = cwd / base
    if base.is_dir():  # --export into a folder: the default name inside it
        base = base / default_name(scenario)
    ours = {Path(p).resolve() for p in written}
    candidate, n = base, 0
    while candidate.exists() and candidate.resolve() not in ours:
        n += 1
        candidate = base.with_name(f"{base.stem}-{n}{base.suffix}")
    return candidate
