"""Where the app writes a trace: a pure choice of path, no Textual and no writing.

    --export PATH given     PATH (a folder: the default name inside it)
    otherwise               <scenario file stem, or a slug of its name>-trace.json in the current directory

Either way a file that exists and that this app session did not write is never overwritten:
``-1``, ``-2``, ... is added before the suffix instead. A file this session wrote is
overwritten, so exporting again after more steps updates the same file. With ``--force`` the
path itself is used, and a regular file there is overwritten. The command line follows the same
rule (a headless run, and each variant of ``--vary``). A path that holds anything but a regular
file (a FIFO, a device, a socket, a directory, a symbolic link) is refused (files.target_problem).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

from ..common.errors import BackpropError
from ..common.files import target_problem
from ..scenario.reader import Scenario


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
    scenario: Scenario, given: Path | None, cwd: Path, written: Collection[Path] = (), force: bool = False
) -> Path:
    """The path to export to; ``written`` holds the resolved paths this session wrote; ``force``:
    the path itself, whatever regular file is there. Raises BackpropError when the path holds
    anything but a regular file."""
    base = given if given is not None else Path(default_name(scenario))
    if not base.is_absolute():
        base = cwd / base
    if base.is_dir():  # --export into a folder: the default name inside it
        base = base / default_name(scenario)
    if problem := target_problem(base):
        raise BackpropError(str(base), problem)
    if force:
        return base
    ours = {Path(p).resolve() for p in written}
    candidate, n = base, 0
    # lexists: a symbolic link is something there, even one that points nowhere
    while os.path.lexists(candidate) and _key(candidate) not in ours:
        n += 1
        candidate = base.with_name(f"{base.stem}-{n}{base.suffix}")
    return candidate


def _key(path: Path) -> Path:
    """``path`` resolved but for its last part: a link there is not followed."""
    return path.parent.resolve() / path.name
