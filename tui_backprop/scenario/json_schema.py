"""The JSON Schema of a scenario format, built from its declaration (scenario/format_v1.py).

Draft 4, the draft that the TOML language server Taplo (Even Better TOML) reads: ``exclusiveMinimum``
is a boolean beside ``minimum``, and a key that only goes with another key's value is a schema
``dependencies`` entry. A TOML integer is a JSON ``integer`` (draft 4 refuses 4.0 there, as the reader
does). What a schema cannot say (a number's finiteness, shapes against [network] layers, a CSV file's
columns) stays with the reader: the schema helps an editor, ``backprop-tui --check`` decides.
"""

from __future__ import annotations

from typing import Any

from .declare import Key, Table

DRAFT = "http://json-schema.org/draft-04/schema#"
INT64 = (-(2**63), 2**63 - 1)
TYPES = {"str": "string", "bool": "boolean", "int": "integer", "number": "number"}


def key_schema(key: Key) -> dict[str, Any]:
    """One key's schema: its type, range or choices, default and meaning."""
    out: dict[str, Any] = {"description": key.doc}
    if key.kind == "custom":
        out.update(key.schema or {})
    else:
        out["type"] = TYPES[key.kind]
        if key.choices:
            out["enum"] = list(key.choices)
        low, high = INT64 if key.kind == "int" else (None, None)  # type: tuple[float | None, float | None]
        if key.range is not None:
            low = low if key.range.low is None else key.range.low
            high = high if key.range.high is None else key.range.high
        if low is not None:
            out["minimum"] = low
        if key.range is not None and key.range.low_open:
            out["exclusiveMinimum"] = True
        if high is not None:
            out["maximum"] = high
        if key.range is not None and key.range.high_open:
            out["exclusiveMaximum"] = True
    if not key.required and key.default is not None:
        out["default"] = key.default
    return out


def table_schema(table: Table) -> dict[str, Any]:
    """A table: its keys and no others, the required ones, and what goes only with what."""
    out: dict[str, Any] = {
        "type": "object",
        "description": table.doc,
        "additionalProperties": False,
        "properties": {key.name: key_schema(key) for key in table},
    }
    required = [key.name for key in table if key.required]
    if required:
        out["required"] = required
    dependencies: dict[str, Any] = {}
    for key in table:
        if key.only is not None:
            other, values = key.only
            dependencies[key.name] = (
                {"required": [other], "properties": {other: {"enum": list(values)}}} if values else [other]
            )
    if dependencies:
        out["dependencies"] = dependencies
    out.update(table.schema or {})
    return out


def format_schema(tables: tuple[Table, ...], title: str, description: str) -> dict[str, Any]:
    """The schema of a whole scenario file."""
    return {
        "$schema": DRAFT,
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": False,
        "required": [table.name for table in tables if table.required],
        "properties": {table.name: table_schema(table) for table in tables},
    }
