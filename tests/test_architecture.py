"""The house rules, read from the source: no import cycle inside the package, no upward import,
no module taking another's private names.

Every import statement of every module counts, wherever it stands (at the top, inside a
function, under ``if TYPE_CHECKING:``): a lazy or a type-only import is still a dependency that
a reader must follow. The layers, lowest first:

    common                 errors, escaping, files, counted words: what every part may use
    engine                 the maths: numpy only (test_engine_isolation.py)
    scenario               the scenario format: reading, data sources, overrides, names
    trace                  the trace format: writing, reading, checking, verifying
    tutor, runs            a learner's checks; runs of several variants; never the app
    tui                    the app; never the programs that start it
    cli, serve             the programs, at the top
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tui_backprop"
NAME = "tui_backprop"


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its __init__)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = modules()


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name a relative import of ``module`` refers to."""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str) -> str | None:
    """The package module ``name`` is, or is inside (``a.b.c`` where a.b is a module)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import of ``module`` that lands
    inside the package; ``from pkg import mod`` names the module mod itself."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (found := _known(alias.name)) and alias.name.startswith(NAME):
                    yield found, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module) if node.level else node.module or ""
            if not base.startswith(NAME):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in MODULES:
                    yield sub, None, node.lineno
                elif found := _known(base):
                    yield found, alias.name, node.lineno


def graph() -> dict[str, set[str]]:
    return {m: {target for target, _, _ in imports(m) if target != m} for m in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def layer(module: str) -> str:
    """The part of the package a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(root)"


LEAVES = {"common"}
# what each part may import besides itself and the leaves
ALLOWED = {
    **{leaf: set() for leaf in LEAVES},
    "engine": set(),
    "scenario": {"engine"},
    "trace": {"engine", "scenario"},
    "tutor": {"engine", "scenario", "trace"},
    "runs": {"engine", "scenario", "trace"},
    "tui": {"engine", "scenario", "trace", "tutor", "runs"},
}


def test_no_part_imports_a_part_above_it():
    wrong = []
    for module in MODULES:
        own = layer(module)
        if own not in ALLOWED:
            continue  # the programs at the top, and the package root (its public API)
        for target, _, line in imports(module):
            other = layer(target)
            if other != own and other not in LEAVES | ALLOWED[own]:
                wrong.append(f"{module}:{line} imports {target}")
    assert not wrong, "upward imports:\n" + "\n".join(wrong)


def test_every_module_belongs_to_a_known_part():
    parts = {layer(m) for m in MODULES} - {"(root)"}
    tops = {"cli", "serve", "__main__", "schemas"}  # schemas: the JSON Schemas, data only
    assert parts <= set(ALLOWED) | tops, sorted(parts - set(ALLOWED) - tops)


def test_no_module_imports_another_modules_private_names():
    wrong = [
        f"{module}:{line} imports {target}.{name}"
        for module in MODULES
        for target, name, line in imports(module)
        if name and name.startswith("_") and not name.startswith("__") and target != module
    ]
    assert not wrong, "private names taken from another module:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_private_attributes_are_used_only_by_their_own_class(module):
    """``x._name`` only where x is ``self``, ``cls`` or ``super()``: another object's private
    methods and fields (``app._show``, ``module._Reader``) are not an interface."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))

    # a copy of self (Trainer.fork: ``other = copy.copy(self)``) is the class's own object too
    copies = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value) in ("copy.copy(self)", "copy(self)")
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def own(node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in ("self", "cls", *copies)
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"

    wrong = [
        f"{module}:{node.lineno} {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not own(node.value)
    ]
    assert not wrong, wrong


def test_every_folder_of_the_package_is_a_package_that_installs():
    """A folder of modules is only installed when pyproject.toml lists it and it has an
    __init__.py (an editable install hides a missing one; CI's install does not)."""
    import tomllib

    listed = set(
        tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(path.relative_to(PACKAGE.parent).parts)
        for path in [PACKAGE, *PACKAGE.rglob("*")]
        if path.is_dir() and path.name != "__pycache__" and any(path.glob("*.py"))
    }
    assert folders <= listed, sorted(folders - listed)
    missing = [f for f in listed if f.startswith(NAME + ".") and f != NAME + ".scenarios"]
    assert all((PACKAGE.parent / f.replace(".", "/") / "__init__.py").is_file() for f in missing), missing
