"""``python -m tui_backprop.scenario.keys_doc``: the reference page and the JSON Schema of the
scenario format, written from its declaration (scenario/format_v1.py).

    python -m tui_backprop.scenario.keys_doc           # write docs/scenario-keys.md and the schema
    python -m tui_backprop.scenario.keys_doc --check   # exit 1 when either differs from the declaration

Both files are committed; tests/test_scenario_keys.py fails when they drift from the declaration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..common.files import write_whole
from .declare import REQUIRED, Key, Table
from .format_v1 import FORMAT
from .json_schema import format_schema

ROOT = Path(__file__).resolve().parents[2]  # a checkout: the page and the schema live in it
PAGE = ROOT / "docs" / "scenario-keys.md"
SCHEMA = ROOT / "tui_backprop" / "schemas" / "scenario-v1.schema.json"
SCHEMA_LINE = "#:schema ../tui_backprop/schemas/scenario-v1.schema.json"  # from scenarios/*.toml

TITLE = "backprop-tui scenario, format 1"
GENERATED = "generated from tui_backprop/scenario/format_v1.py by python -m tui_backprop.scenario.keys_doc"


def toml_value(v: Any) -> str:
    """A default as a scenario file writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return repr(v)


def _type(key: Key) -> str:
    words = {"str": "string", "bool": "boolean", "int": "integer", "number": "number"}
    return key.shown_type or words[key.kind]


def _allowed(key: Key) -> str:
    parts = []
    if key.choices:
        parts.append(", ".join(f"`{c}`" for c in key.choices))
    if key.range is not None:
        r = key.range
        words = r.text or r.words(r.low if r.low is not None else 0.0)
        if r.above:
            words = f"{words}, {r.above}"
        parts.append(words)
    if key.kind in ("int", "number") and not parts:
        parts.append("any finite number" if key.kind == "number" else "a 64-bit integer")
    return "; ".join(parts) or "—"


def _default(key: Key) -> str:
    if key.default is REQUIRED:
        return "required"
    return "—" if key.default is None else f"`{toml_value(key.default)}`"


def _meaning(key: Key) -> str:
    if key.only is None:
        return key.doc
    other, values = key.only
    when = f"`{other}`" if not values else " or ".join(f'`{other} = "{v}"`' for v in values)
    return f"{key.doc} (only with {when})" if len(values) < 3 else f"{key.doc} (only with `{other}`)"


def table_text(table: Table) -> str:
    optional = "" if table.required else " The table is optional."
    lines = [f"## [{table.name}]", "", table.doc + optional, ""]
    lines += ["| key | type | default | allowed | meaning |", "|-----|------|---------|---------|---------|"]
    for key in table:
        cells = (f"`{key.name}`", _type(key), _default(key), _allowed(key), _meaning(key))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if table.rules:
        lines += ["", "Rules between keys:", ""]
        lines += [f"- {rule}" for rule in table.rules]
    return "\n".join(lines) + "\n"


def page_text() -> str:
    """docs/scenario-keys.md."""
    intro = f"""\
# Scenario keys (format 1)

<!-- {GENERATED}: edit the declaration, not this page -->

Every table and key a scenario file may hold, with its type, its default, the values it allows and
what it means. A key that is not listed here is refused (with a "did you mean"), and so is a table.
"required" means the file must give the key when it has the table; a default of — means the key is
optional and has none (the feature is off, or another key decides). Numbers must be finite (no `nan`,
no `inf`); an integer must fit in 64 bits, and `4.0` is not an integer. `backprop-tui --check FILE`
reports every problem of a file at once, each as `error: FILE: [table] key: what was expected, what
was found`.

## Checking a file in an editor

The JSON Schema `tui_backprop/schemas/scenario-v1.schema.json` (JSON Schema draft 4) says most of
this page to an editor: the TOML language server Taplo, which the VS Code extension Even Better TOML
and the taplo plugins of other editors run, completes keys and values, shows each key's meaning, and
marks an unknown key, a wrong type, a value out of range or a missing required key as you type. The
bundled scenarios name it on their first line with Taplo's schema directive:

    {SCHEMA_LINE}

The path is relative to the scenario file (`scenarios/` beside the package folder in a checkout of
the repository). For a scenario file of your own, put the same directive on its first line with the
path from your file to the schema, or point your editor's TOML schema setting at the file. The line
is a TOML comment: it changes nothing in how the file loads. The schema cannot say everything: the
shapes of `inputs`, `targets` and explicit weights against `[network] layers`, a CSV file's columns,
a generator that does not fit the network, and a number that is not finite are found by
`backprop-tui --check`, which decides.
"""
    return intro + "\n" + "\n".join(table_text(table) for table in FORMAT)


def schema_text() -> str:
    """tui_backprop/schemas/scenario-v1.schema.json."""
    schema = format_schema(FORMAT, TITLE, f"A backprop-tui scenario file (TOML), {GENERATED}.")
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = args == ["--check"]
    if args and not check:
        print("usage: python -m tui_backprop.scenario.keys_doc [--check]", file=sys.stderr)
        return 2
    stale = []
    for path, text in ((PAGE, page_text()), (SCHEMA, schema_text())):
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if check:
            stale.append(path)
        else:
            write_whole(path, text.encode("utf-8"), replace=True)
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        command = "python -m tui_backprop.scenario.keys_doc"
        print(f"{path.relative_to(ROOT)} differs from the declaration: run {command}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
