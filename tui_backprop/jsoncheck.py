"""A small JSON Schema checker for the subset of keywords the trace schema uses.

jsonschema is a test dependency only, so reading a trace checks it against the schema that
ships with the package with this instead: the same rules, and messages that name the place
(``steps[3].layers[1]: unknown field "foo"``). ``KEYWORDS`` lists what it understands; a
test walks the shipped schema and fails on any other keyword, so extending the schema with
a keyword this does not know cannot go unnoticed.

Numbers are those of strict JSON: ``true`` and ``false`` are not numbers, a float with no
fraction is an integer (as JSON Schema says), and neither a value the JSON reader marked as a
``BadNumber`` (NaN, Infinity) nor one too large for a float (1e400, which reads as inf) is a
number.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from .words import count

# what the checker applies; annotations ($schema, title, ...) are read and ignored
KEYWORDS = frozenset(
    {
        "type", "const", "enum", "required", "properties", "additionalProperties", "items",
        "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "oneOf", "anyOf", "$ref", "dependentRequired", "not", "if", "then", "else",
        "uniqueItems", "contains",
    }
)  # fmt: skip
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment", "default", "$defs"})

MAX_PROBLEMS = 20  # per document: a file that is wrong everywhere says so in a screenful

_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


class BadNumber:
    """NaN, Infinity or -Infinity, which strict JSON does not allow."""

    def __init__(self, text: str, why: str) -> None:
        self.text, self.why = text, why

    def __repr__(self) -> str:
        return f"{self.text} ({self.why})"


MAX_FLOAT = 1.7976931348623157e308


def is_number(v: Any) -> bool:
    """A JSON number that is a finite float: not a bool, not inf (1e400 reads as inf), not an
    integer too large for a float."""
    if type(v) is float:
        return v - v == 0.0  # False for inf and nan
    return type(v) is int and -MAX_FLOAT <= v <= MAX_FLOAT


def describe(v: Any) -> str:
    """A value in words, for "expected ..., got <this>"."""
    if isinstance(v, BadNumber):
        return repr(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) and not is_number(v):
        return f"an integer of {len(str(abs(v)))} digits, too large for a float"
    if isinstance(v, float) and not is_number(v):
        return "a number too large for a float"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, str):
        shown = v if len(v) <= 40 else v[:37] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _has_type(v: Any, kind: str) -> bool:
    if kind == "number":
        return is_number(v)
    if kind == "integer":
        return is_number(v) and (type(v) is int or v.is_integer())
    if kind == "null":
        return v is None
    if kind == "boolean":
        return isinstance(v, bool)
    if kind == "string":
        return isinstance(v, str)
    if kind == "array":
        return isinstance(v, list)
    if kind == "object":
        return isinstance(v, dict)
    raise ValueError(f"unknown JSON Schema type {kind!r}")


def at(path: str, key: str | int) -> str:
    """``steps[3]`` + ``layers`` -> ``steps[3].layers``; + 1 -> ``steps[3].layers[1]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Checker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self.problems: list[str] = []
        self.dropped = 0

    def problem(self, path: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{path or 'top level'}: {message}")
        else:
            self.dropped += 1

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, got {ref!r}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if rest else target
        return schema

    def valid(self, v: Any, schema: dict[str, Any]) -> bool:
        """Whether ``v`` matches ``schema``, without recording problems (for oneOf, anyOf)."""
        probe = Checker(self.root)
        probe.check(v, schema, "")
        return not probe.problems and not probe.dropped

    def check(self, v: Any, schema: dict[str, Any], path: str) -> None:
        s = self.resolve(schema)
        kinds = s.get("type")
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else kinds
            if not any(_has_type(v, k) for k in kinds):
                words = " or ".join(_TYPE_WORDS[k] for k in kinds)
                self.problem(path, f"expected {words}, got {describe(v)}")
                return
        if "const" in s and not _equal(v, s["const"]):
            self.problem(path, f"expected {json.dumps(s['const'])}, got {describe(v)}")
            return
        if "enum" in s and not any(_equal(v, e) for e in s["enum"]):
            self.problem(path, f"expected one of {', '.join(map(json.dumps, s['enum']))}, got {describe(v)}")
            return
        for key in ("oneOf", "anyOf"):
            if key in s:
                matches = sum(self.valid(v, sub) for sub in s[key])
                if matches == 0 or (key == "oneOf" and matches > 1):
                    forms = "; or ".join(_form(self.resolve(sub)) for sub in s[key])
                    self.problem(path, f"expected {forms}, got {describe(v)}")
                    return
        if "not" in s and self.valid(v, s["not"]):
            self.problem(path, f"must not be {_form(self.resolve(s['not']))}")
            return
        if "if" in s:
            branch = s.get("then") if self.valid(v, s["if"]) else s.get("else")
            if branch is not None:
                self.check(v, branch, path)
        if is_number(v) and not isinstance(v, bool):
            self._bounds(v, s, path)
        if isinstance(v, str) and len(v) < s.get("minLength", 0):
            self.problem(path, f"must have at least {count(s['minLength'], 'character')}")
        if isinstance(v, list):
            self._array(v, s, path)
        if isinstance(v, dict):
            self._object(v, s, path)

    def _bounds(self, v: float, s: dict[str, Any], path: str) -> None:
        if "minimum" in s and not v >= s["minimum"]:
            self.problem(path, f"must be >= {s['minimum']}, got {v!r}")
        if "maximum" in s and not v <= s["maximum"]:
            self.problem(path, f"must be <= {s['maximum']}, got {v!r}")
        if "exclusiveMinimum" in s and not v > s["exclusiveMinimum"]:
            self.problem(path, f"must be > {s['exclusiveMinimum']}, got {v!r}")
        if "exclusiveMaximum" in s and not v < s["exclusiveMaximum"]:
            self.problem(path, f"must be < {s['exclusiveMaximum']}, got {v!r}")

    def _array(self, v: list, s: dict[str, Any], path: str) -> None:
        if len(v) < s.get("minItems", 0):
            self.problem(path, f"expected at least {count(s['minItems'], 'item')}, got {len(v)}")
        if "contains" in s and not any(self.valid(x, s["contains"]) for x in v):
            self.problem(path, f"expected {_form(self.resolve(s['contains']))} among the items")
        if s.get("uniqueItems"):
            seen: list[Any] = []
            for i, x in enumerate(v):
                if any(_equal(x, y) for y in seen):
                    self.problem(at(path, i), f"{describe(x)} appears twice in the list")
                    break
                seen.append(x)
        if "maxItems" in s and len(v) > s["maxItems"]:
            self.problem(path, f"expected at most {count(s['maxItems'], 'item')}, got {len(v)}")
        if "items" not in s:
            return
        items = self.resolve(s["items"])
        in_rows = self._number_rows(items)  # None, or whether the rows may hold null
        if in_rows is not None and set(map(type, v)) <= {list} and _all_numbers(v, in_rows, rows=True):
            return  # the fast path: a matrix of numbers (or nulls), every one of them right
        if _is_number_leaf(items):  # the fast path: a vector of numbers (or nulls)
            nullable = "null" in items["type"]
            if _all_numbers(v, nullable):
                return
            for i, x in enumerate(v):
                if not (is_number(x) or (nullable and x is None)):
                    self.problem(
                        at(path, i), f"expected a number{' or null' if nullable else ''}, got {describe(x)}"
                    )
            return
        for i, x in enumerate(v):
            self.check(x, items, at(path, i))
            if self.dropped:
                return

    def _number_rows(self, items: dict[str, Any]) -> bool | None:
        """For items that are plain vectors of numbers (a matrix's rows): whether null is allowed
        in them; None for any other items."""
        if set(items) != {"type", "items"} or items["type"] != "array":
            return None
        leaf = self.resolve(items["items"])
        return "null" in leaf["type"] if _is_number_leaf(leaf) else None

    def _object(self, v: dict, s: dict[str, Any], path: str) -> None:
        props = s.get("properties", {})
        for key in s.get("required", ()):
            if key not in v:
                self.problem(path, f'missing field "{key}"')
        for key, needs in s.get("dependentRequired", {}).items():
            if key in v:
                for other in needs:
                    if other not in v:
                        self.problem(path, f'missing field "{other}" (it goes with "{key}")')
        if s.get("additionalProperties", True) is False:
            for key in v:
                if key not in props:
                    self.problem(path, f"unknown field {_name(key)}")
        for key, sub in props.items():
            if key in v:
                self.check(v[key], sub, at(path, key))


def _name(key: str, limit: int = 60) -> str:
    """A field's name as a message quotes it: JSON-escaped, and cut to a readable length."""
    return json.dumps(key) if len(key) <= limit else json.dumps(key[:limit])[:-1] + '..."'


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return type(a) is not BadNumber and a == b


def _all_numbers(v: list, nullable: bool, rows: bool = False) -> bool:
    """Whether every item of ``v`` (of each of its lists, with ``rows``) is a JSON number that is
    a finite float, or null when ``nullable``, found in C loops: False sends the caller to the
    item by item check, which names the first that is not."""

    def items() -> Iterable[Any]:
        return itertools.chain.from_iterable(v) if rows else v

    if not set(map(type, items())) <= ({int, float, type(None)} if nullable else {int, float}):
        return False  # bool, str, list, dict, BadNumber
    try:  # filter(None, ...) drops the nulls, and the zeros, which add nothing
        return math.isfinite(sum(filter(None, items())))  # inf; or a sum that overflows
    except OverflowError:  # an integer too large for a float
        return False


def _is_number_leaf(s: dict[str, Any]) -> bool:
    kinds = s.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return set(s) == {"type"} and kinds is not None and set(kinds) in ({"number"}, {"number", "null"})


def _form(s: dict[str, Any]) -> str:
    """A schema in words, for the alternatives of oneOf: 'one of "full", "sample"', 'an integer >= 1'."""
    if "enum" in s:
        return "one of " + ", ".join(map(json.dumps, s["enum"]))
    if "const" in s:
        return json.dumps(s["const"])
    kinds = s.get("type", [])
    words = " or ".join(_TYPE_WORDS[k] for k in ([kinds] if isinstance(kinds, str) else kinds)) or "a value"
    if "minimum" in s:
        words += f" >= {s['minimum']}"
    return words


def keywords(schema: Any) -> Iterator[str]:
    """Every keyword used anywhere in ``schema`` (the names under properties and $defs excepted)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            if key in ("properties", "$defs"):
                for sub in value.values():
                    yield from keywords(sub)
            elif key in ("items", "additionalProperties"):
                yield from keywords(value)
            elif key in ("not", "if", "then", "else", "contains"):
                yield from keywords(value)
            elif key in ("oneOf", "anyOf"):
                for sub in value:
                    yield from keywords(sub)


def check(doc: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``doc`` breaks ``schema`` (at most MAX_PROBLEMS, then a count of the rest)."""
    c = Checker(schema)
    c.check(doc, schema, "")
    if c.dropped:
        c.problems.append(f"... and {count(c.dropped, 'more problem')}")
    return c.problems
