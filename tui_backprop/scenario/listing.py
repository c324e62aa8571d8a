"""The bundled scenarios: where they are, their names, and the line --list shows for each.

``--list`` answers without numpy: it reads two keys of each bundled file, ``[scenario] name``
and ``[network] layers``, with the standard library's TOML parser, where load_scenario would
check every key and build the data (blobs_784 draws 1,000 x 784 numbers). The bundled files
are checked in full by the tests and by ``--check``; tests/test_startup.py proves that the
lines agree with load_scenario for every bundled scenario.
"""

from __future__ import annotations

import tomllib
from importlib import import_module
from pathlib import Path
from typing import Any

from ..common.files import SCENARIO_LIMIT, read_resource


def bundled_root() -> Any:
    """Where the bundled scenarios are: the installed package's folder, or a checkout's
    scenarios/ (importlib.resources only for a package that is not a folder, as in a zip: it
    imports tempfile, shutil and zipfile, a third of what --list costs over a bare interpreter)."""
    try:
        package = import_module("tui_backprop.scenarios")
    except ModuleNotFoundError:  # running from a source tree that is not installed
        return Path(__file__).resolve().parents[2] / "scenarios"
    folder = Path(package.__file__ or "").parent
    if package.__file__ and folder.is_dir():
        return folder
    from importlib import resources

    return resources.files(package)


def bundled_names() -> list[str]:
    """The scenarios that ship with the package, by name."""
    return sorted(p.name[: -len(".toml")] for p in bundled_root().iterdir() if p.name.endswith(".toml"))


def summary(name: str) -> tuple[str, list[int]]:
    """A bundled scenario's ``[scenario] name`` and ``[network] layers``, as its file states them."""
    label = f"{name}.toml"
    doc = tomllib.loads(
        read_resource(bundled_root() / label, SCENARIO_LIMIT, "scenario file", label).decode()
    )
    return doc["scenario"]["name"], list(doc["network"]["layers"])
