"""The engine is numpy and the standard library only: no terminal, no chart, no files."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tui_backprop.engine

ENGINE_DIR = Path(tui_backprop.engine.__file__).parent
ENGINE_FILES = sorted(ENGINE_DIR.glob("*.py"))
UI_MODULES = ("textual", "plotext", "textual_plotext")


def test_importing_the_engine_loads_no_ui_library():
    probe = "import json, sys\nimport tui_backprop.engine\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "tui_backprop.engine" in loaded  # the probe did import it
    for name in UI_MODULES:
        offenders = sorted(m for m in loaded if m == name or m.startswith(name + "."))
        assert not offenders, f"importing tui_backprop.engine loaded {offenders}"


def _runtime_imports(tree: ast.Module):
    """Import statements that run: those under ``if TYPE_CHECKING:`` are for type checkers only."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                node.body = []  # drop the guarded imports from the walk below
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def test_there_are_engine_modules_to_check():
    names = {p.stem for p in ENGINE_FILES}
    assert {"__init__", "activations", "losses", "network", "trainer"} <= names


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_engine_modules_import_only_numpy_the_stdlib_and_each_other(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    for node in _runtime_imports(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            # relative: only within the engine package (level 1), never up into the app
            assert node.level == 1, f"{path.name}:{node.lineno} imports from outside the engine"
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        for name in names:
            top = name.split(".")[0]
            if top == "tui_backprop":
                assert name.startswith("tui_backprop.engine"), f"{path.name}:{node.lineno} imports {name}"
            else:
                assert top in allowed, f"{path.name}:{node.lineno} imports {name}"
