"""A trace checked against its JSON Schema by jsonschema-rs, each problem named as the trace reads.

    problems = check(doc)      # [] or ['steps[1].layers[0]: unknown field "foo"', ...]

jsonschema-rs, a compiled Draft 2020-12 validator, decides what is valid against the schema
that ships with the package (``schemas/trace-v1.schema.json``): a trace of 19 MB takes it some
60 ms. This module adds what a reader of the message needs:

- the place in the trace's own notation (``steps[3].layers[1].grad_w``; ``top level``), and what
  was expected and found, in words (values.describe), for every kind of error the schema can
  raise: ``missing field "loss"``, ``expected a number or null, got the string "0.25"``,
  ``expected one of "max_steps", ...``;
- strict numbers: NaN and Infinity (read as values.BadNumber) and numbers too large for a float
  (1e400 reads as inf, which jsonschema-rs would take for null) are refused where they stand;
- bounded work: jsonschema-rs's iter_errors lists every error of a document at once, which takes
  minutes for a file of millions of wrong values. So an invalid document is searched part by
  part: a part that ``is_valid`` (which stops at its first error) passes is left, lists are
  tried in chunks, and the search ends after MAX_PROBLEMS problems, in the order of the file.
  iter_errors only ever sees a single value or a container's own keywords (required, unknown
  fields, minItems, ...): never a part with many errors inside.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from ..common.values import BadNumber, describe, is_number
from .writer import schema

MAX_PROBLEMS = 20  # per document: a file that is wrong everywhere says so in a screenful
CHUNK = 1000  # items of a list tried at once before they are tried one by one
DEEPEST = 64  # levels of lists and objects jsonschema-rs is shown (a trace's numbers are 8 deep)

Path = tuple[str | int, ...]  # keys and indices from the top of the document
Pointer = str  # a JSON pointer into the schema: "" is its root, "/$defs/step" a definition

# keywords whose subschemas apply to a value's children: the search follows them itself
_CHILDREN = ("properties", "items", "additionalProperties")
# keywords whose subschemas apply to the value itself, after a choice or a reference
_SAME = ("$ref", "allOf", "if", "then", "else")
# what a container's own check leaves out: the above, and annotations
_LEFT_OUT = frozenset({*_CHILDREN, *_SAME, "$defs", "$schema", "$id", "title", "description", "$comment"})
# keywords with subschemas for children that the search does not follow: a schema with one is
# checked whole at that place (correct, but not bounded); tests/test_schemacheck.py keeps the
# shipped schema free of them
UNFOLLOWED = frozenset(
    {"prefixItems", "patternProperties", "unevaluatedItems", "unevaluatedProperties", "dependentSchemas"}
)

# errors that say a value is not at all what the place holds: nothing inside it is looked at
_WHOLLY_WRONG = frozenset({"Type", "Constant", "Enum", "OneOfNotValid", "OneOfMultipleValid", "AnyOf", "Not"})

_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


def at(path: str, key: str | int) -> str:
    """``steps[3]`` + ``layers`` -> ``steps[3].layers``; + 1 -> ``steps[3].layers[1]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def place(path: Path) -> str:
    """A path as messages name it: ``steps[3].layers[1]``, or ``top level``."""
    text = ""
    for key in path:
        text = at(text, key)
    return text or "top level"


def check(doc: Any, strict: bool = False) -> list[str]:
    """Every way ``doc`` breaks the trace schema, at most MAX_PROBLEMS of them (then a line that
    says the search stopped). ``strict``: the document may hold a number strict JSON does not
    allow (NaN, Infinity: a BadNumber; 1e400: inf; an integer too large for a float), which
    each get a problem; the caller says so (see trace/text.py), as looking costs a walk through
    the whole document. The document may be changed where such a number stands."""
    steps = doc.get("steps") if isinstance(doc, dict) else None
    if not isinstance(steps, list):
        return Check().top(doc, strict).problems()
    return Check().top({**doc, "steps": []}, strict).steps(steps, 0, strict).problems()


class Check:
    """The schema check of one trace in parts, as a reader that does not hold all of it at once
    hands them over: its top level (with "steps": [] in place of its steps), then its steps, a
    chunk at a time. The problems are those of the whole document, in the order of the file."""

    def __init__(self) -> None:
        self.search = _Search(_Schema.shipped())
        self.order: Any = {}  # the top level: the order of its keys is the order of the file
        self.items: tuple[Pointer, ...] = ()  # the schemas that apply to each step

    def top(self, doc: Any, strict: bool) -> Check:
        self.order = doc
        self.part(doc, ("",), (), strict)
        if isinstance(doc, dict) and doc.get("steps") == []:
            schema = self.search.schema
            steps = schema.children(schema.expand("", doc), "steps")
            self.items = schema.children([q for p in steps for q in schema.expand(p, [])], 0)
        return self

    def steps(self, steps: list[Any], start: int, strict: bool) -> Check:
        """Steps ``start``, ``start + 1``, ... of the trace, checked as the items of its "steps"."""
        if self.items and not self.search.stopped:
            self.part(steps, self.items, ("steps",), strict, start)
        return self

    def part(self, v: Any, pointers: tuple[Pointer, ...], path: Path, strict: bool, start: int = -1) -> None:
        """``v``, at ``path`` (with ``start``: a list of items from that index on), checked against
        ``pointers``, with the numbers strict JSON refuses found where they stand."""
        search = self.search
        if search.stopped:
            return

        def at_place(relative: Path) -> Path:
            if start < 0:
                return (*path, *relative)
            return (*path, start + int(relative[0]), *relative[1:])

        bad = {at_place(p): x for p, x in _mark_bad_numbers(v).items()} if strict else {}
        search.bad.update(bad)
        found = len(search.problems)

        def run() -> None:
            if start < 0:
                search.run(v, pointers, path)
            else:
                search.run_items(v, pointers, path, start)

        try:
            run()
        except ValueError as e:  # jsonschema-rs reads at most 255 levels of lists and objects
            if "Recursion" not in str(e):
                raise
            _cut_deeper_than(v, DEEPEST)  # far below any place the schema names: the same problems
            del search.problems[found:]
            run()
        unseen = {p: x for p, x in bad.items() if p not in search.reported}
        if unseen and not search.stopped:  # where a string may stand, a string passes:
            for p in unseen:  # stand a number in for each, which a string's place refuses
                rest = p[len(path) :]
                _put(v, rest if start < 0 else (int(rest[0]) - start, *rest[1:]), 0)
            search.only = set(unseen)
            try:
                run()
            finally:
                search.only = None

    @property
    def full(self) -> bool:
        """Whether as many problems were found as are said."""
        return self.search.stopped

    def problems(self) -> list[str]:
        found = sorted(self.search.problems, key=lambda p: _order(self.order, p[0]))
        problems = [f"{place(where)}: {message}" for where, message in found]
        if len(problems) > MAX_PROBLEMS or self.search.stopped:
            return problems[:MAX_PROBLEMS] + [f"... (stopped after {MAX_PROBLEMS} problems)"]
        return problems


class _Schema:
    """The shipped schema, with jsonschema-rs validators made for its parts as they are needed."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.uri = root["$id"]
        self.registry = jsonschema_rs.Registry([(self.uri, root)])
        self._whole: dict[tuple[Pointer, ...], Any] = {}
        self._own: dict[Pointer, Any] = {}

    @staticmethod
    @cache
    def shipped() -> _Schema:
        return _Schema(schema())

    def node(self, pointer: Pointer) -> Any:
        value: Any = self.root
        for part in pointer.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value

    def _ref(self, pointer: Pointer) -> dict[str, Any]:
        return {"$ref": f"{self.uri}#{quote(pointer, safe='/~$')}"}

    def _compile(self, s: Any) -> Any:
        # no base_uri: the schema compiled would stand for the shipped one at its $id
        return jsonschema_rs.Draft202012Validator(s, registry=self.registry)

    def _absolute(self, s: Any) -> Any:
        """``s`` with each reference inside the schema ("#/$defs/number") made absolute: a part
        compiled on its own still finds what it refers to."""
        if isinstance(s, list):
            return [self._absolute(x) for x in s]
        if not isinstance(s, dict):
            return s
        out = {k: self._absolute(v) for k, v in s.items()}
        if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#"):
            out["$ref"] = self.uri + out["$ref"]
        return out

    def whole(self, pointers: tuple[Pointer, ...]) -> Any:
        """A validator of everything these schemas say about a value and all that it holds."""
        if pointers not in self._whole:
            self._whole[pointers] = self._compile({"allOf": [self._ref(p) for p in pointers]})
        return self._whole[pointers]

    def items(self, pointers: list[Pointer]) -> Any:
        """A validator of the items of a list (not of the list itself) that ``pointers`` apply
        to; None when they say nothing of its items."""
        refs = tuple(f"{p}/items" for p in pointers if isinstance(s := self.node(p), dict) and "items" in s)
        if not refs:
            return None
        if ("items", *refs) not in self._whole:
            self._whole["items", *refs] = self._compile({"items": {"allOf": [self._ref(p) for p in refs]}})
        return self._whole["items", *refs]

    def each(self, pointers: tuple[Pointer, ...]) -> Any:
        """A validator of a list each of whose items ``pointers`` apply to."""
        if ("each", *pointers) not in self._whole:
            self._whole["each", *pointers] = self._compile(
                {"items": {"allOf": [self._ref(p) for p in pointers]}}
            )
        return self._whole["each", *pointers]

    def own(self, pointer: Pointer) -> Any:
        """A validator of what the schema at ``pointer`` says about a container itself (its type,
        required and unknown fields, length, ...), but not of what it holds."""
        if pointer not in self._own:
            s = self.node(pointer)
            own = {k: v for k, v in s.items() if k not in _LEFT_OUT} if isinstance(s, dict) else s
            if isinstance(s, dict) and "properties" in s:
                own["properties"] = {k: True for k in s["properties"]}  # known names, for unknown fields
            if isinstance(s, dict) and s.get("additionalProperties") is False:
                own["additionalProperties"] = False
            self._own[pointer] = self._compile(self._absolute(own))
        return self._own[pointer]

    def expand(self, pointer: Pointer, value: Any) -> list[Pointer]:
        """``pointer`` and every schema that applies to the same value through it: its $ref, its
        allOf, and the branch of its if that ``value`` takes."""
        out = [pointer]
        s = self.node(pointer)
        if not isinstance(s, dict):
            return out
        if "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#"):
                raise ValueError(f"only references inside the schema are followed, got {ref!r}")
            out += self.expand(ref[1:], value)
        for i in range(len(s.get("allOf", ()))):
            out += self.expand(f"{pointer}/allOf/{i}", value)
        if "if" in s:
            branch = "then" if self.whole((f"{pointer}/if",)).is_valid(value) else "else"
            if branch in s:
                out += self.expand(f"{pointer}/{branch}", value)
        return out

    def children(self, pointers: list[Pointer], key: str | int) -> tuple[Pointer, ...]:
        """The schemas that apply to what is under ``key`` of a container that ``pointers``
        (expanded) apply to."""
        out: list[Pointer] = []
        for p in pointers:
            s = self.node(p)
            if not isinstance(s, dict):
                continue
            if isinstance(key, int):
                if "items" in s:
                    out.append(f"{p}/items")
            elif key in s.get("properties", {}):
                out.append(f"{p}/properties/{_escape(key)}")
            elif isinstance(s.get("additionalProperties"), dict):
                out.append(f"{p}/additionalProperties")
        return tuple(out)

    def unfollowed(self, pointers: list[Pointer]) -> bool:
        return any(isinstance(s := self.node(p), dict) and not UNFOLLOWED.isdisjoint(s) for p in pointers)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class _Search:
    """The first MAX_PROBLEMS problems of a document, looked for part by part in file order."""

    def __init__(self, schema: _Schema) -> None:
        self.schema = schema
        self.problems: list[tuple[Path, str]] = []  # where, and what is wrong there
        self.stopped = False
        self.bad: dict[Path, Any] = {}  # the numbers strict JSON refuses, by place
        self.reported: set[Path] = set()  # places that a problem names
        self.only: set[Path] | None = None  # report only problems at these places

    def run(self, v: Any, pointers: tuple[Pointer, ...], path: Path) -> None:
        try:
            self.value(v, pointers, path)
        except _Enough:
            self.stopped = True

    def run_items(self, v: list, pointers: tuple[Pointer, ...], path: Path, start: int) -> None:
        """The items of ``v``, the items ``start``, ... of a list at ``path`` (its own keywords
        are the caller's), each against ``pointers``."""
        try:
            self.items(v, list(pointers), path, start, items=True)
        except _Enough:
            self.stopped = True

    def value(self, v: Any, pointers: tuple[Pointer, ...], path: Path) -> None:
        if not pointers or self.schema.whole(pointers).is_valid(v):
            return
        expanded = [q for p in pointers for q in self.schema.expand(p, v)]
        if not isinstance(v, (dict, list)) or self.schema.unfollowed(expanded):
            self.errors(self.schema.whole(pointers), v, path)
            return
        wrong = set()
        for p in expanded:
            wrong |= self.errors(self.schema.own(p), v, path, p)
        if not wrong.isdisjoint(_WHOLLY_WRONG):
            return  # not the container expected (another type, say): what it holds is not looked at
        if isinstance(v, dict):
            for key, item in v.items():
                self.value(item, self.schema.children(expanded, key), (*path, key))
        else:
            self.items(v, expanded, path)

    def items(
        self, v: list, pointers: list[Pointer], path: Path, offset: int = 0, items: bool = False
    ) -> None:
        """The items of a list: CHUNK at a time, then one by one in a chunk that is not valid.
        ``items``: ``pointers`` are those of the items themselves (not of the list), and the
        first is item ``offset`` of the list at ``path``."""
        chunk = self.schema.each(tuple(pointers)) if items else self.schema.items(pointers)
        if chunk is None:
            return
        for start in range(0, len(v), CHUNK):
            part = v[start : start + CHUNK]
            if chunk.is_valid(part):
                continue
            for i, item in enumerate(part, start):
                here = tuple(pointers) if items else self.schema.children(pointers, i)
                self.value(item, here, (*path, offset + i))

    def errors(self, validator: Any, v: Any, path: Path, own: Pointer | None = None) -> set[str]:
        """Problems for what ``validator`` finds wrong in ``v``: a value and all it holds, or with
        ``own``, a container's own keywords as the schema at that pointer states them. The kinds
        of error it found."""
        found = set()
        errors = list(validator.iter_errors(v))  # a few: one value's, or a container's own
        wholly = {tuple(e.instance_path) for e in errors if type(e.kind).__name__ in _WHOLLY_WRONG}
        for e in errors:
            kind = type(e.kind).__name__
            if tuple(e.instance_path) in wholly and kind not in _WHOLLY_WRONG:
                continue  # 1.5 where an integer >= 2 goes: that it is no integer says it
            found.add(kind)
            for where, message in self.translate(e, v, path, own):
                if (self.only is not None and where not in self.only) or (where, message) in self.problems:
                    continue  # the same said twice: by a schema and another it refers to
                self.reported.add(where)
                self.problems.append((where, message))
                if len(self.problems) > MAX_PROBLEMS:
                    raise _Enough
        return found

    def translate(self, e: Any, top: Any, path: Path, own: Pointer | None) -> Iterator[tuple[Path, str]]:
        """One error of jsonschema-rs as the problems it makes: where, and what is wrong."""
        where: Path = (*path, *e.instance_path)
        v = self.bad.get(where, _get(top, e.instance_path))
        got = describe(v)
        name = type(e.kind).__name__
        keyword = self.keyword(e, own)
        if name == "Type":
            yield where, f"expected {_types(keyword)}, got {got}"
        elif name == "Constant":
            yield where, f"expected {json.dumps(keyword)}, got {got}"
        elif name == "Enum":
            yield where, f"expected one of {', '.join(map(json.dumps, keyword))}, got {got}"
        elif name in ("OneOfNotValid", "OneOfMultipleValid", "AnyOf"):
            yield where, f"expected {'; or '.join(self.form(s) for s in keyword)}, got {got}"
        elif name == "Not":
            yield where, f"must not be {self.form(keyword)}"
        elif name in ("Minimum", "Maximum", "ExclusiveMinimum", "ExclusiveMaximum"):
            sign = {"Minimum": ">=", "Maximum": "<=", "ExclusiveMinimum": ">", "ExclusiveMaximum": "<"}[name]
            yield where, f"must be {sign} {keyword}, got {v!r}"
        elif name == "MinLength":
            yield where, f"must have at least {_count(keyword, 'character')}"
        elif name == "MinItems":
            yield where, f"expected at least {_count(keyword, 'item')}, got {len(v)}"
        elif name == "MaxItems":
            yield where, f"expected at most {_count(keyword, 'item')}, got {len(v)}"
        elif name == "Contains":
            yield where, f"expected {self.form(keyword)} among the items"
        elif name == "UniqueItems":
            i = _first_repeat(v)
            yield (*where, i), f"{describe(v[i])} appears twice in the list"
        elif name == "Required":
            field = e.kind.property
            if e.schema_path and e.schema_path[-1] == "dependentRequired":
                with_ = next(k for k, needs in keyword.items() if k in v and field in needs)
                yield where, f'missing field "{field}" (it goes with "{with_}")'
            else:
                yield where, f'missing field "{field}"'
        elif name == "AdditionalProperties":
            for key in e.kind.unexpected:
                yield where, f"unknown field {_name(key)}"
        else:  # a keyword the trace schema does not use today: jsonschema-rs's own words
            yield where, e.message

    def keyword(self, e: Any, own: Pointer | None) -> Any:
        """The value in the schema of the keyword that failed: the types of "type", the names of
        "enum", the choices of "oneOf", the table of "dependentRequired", ..."""
        if own is not None:  # a container's own keywords: schema_path starts at the keyword
            return self.schema.node(own).get(e.schema_path[0])
        location = e.absolute_keyword_location or ""
        if location.startswith(self.schema.uri + "#"):  # a value's, through the shipped schema
            pointer = location[len(self.schema.uri) + 1 :]
            while pointer:
                try:
                    return self.schema.node(pointer)
                except (KeyError, IndexError, ValueError):
                    pointer = pointer.rsplit("/", 1)[0]
        return _kind_value(e.kind)

    def form(self, s: Any) -> str:
        """A schema in words, for the choices of oneOf: 'one of "full", "sample"', 'an integer >= 1'."""
        if isinstance(s, dict) and "$ref" in s:
            s = {**self.schema.node(s["$ref"][1:]), **{k: v for k, v in s.items() if k != "$ref"}}
        if not isinstance(s, dict):
            return "a value"
        if "enum" in s:
            return "one of " + ", ".join(map(json.dumps, s["enum"]))
        if "const" in s:
            return json.dumps(s["const"])
        words = _types(s.get("type", [])) or "a value"
        if "minimum" in s:
            words += f" >= {s['minimum']}"
        return words


class _Enough(Exception):
    """MAX_PROBLEMS found, and one more."""


def _types(kinds: str | list[str]) -> str:
    """The types of "type" in words, in the schema's order: ``a number or null``."""
    return " or ".join(_TYPE_WORDS[k] for k in ([kinds] if isinstance(kinds, str) else kinds))


def _kind_value(kind: Any) -> Any:
    for attribute in ("types", "options", "expected_value", "limit", "value"):
        if hasattr(kind, attribute):
            return getattr(kind, attribute)
    return None


def _get(v: Any, path: Any) -> Any:
    for key in path:
        v = v[key]
    return v


def _put(doc: Any, path: Path, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _name(key: str, limit: int = 60) -> str:
    """A field's name as a message quotes it: JSON-escaped, and cut to a readable length."""
    return json.dumps(key) if len(key) <= limit else json.dumps(key[:limit])[:-1] + '..."'


def _first_repeat(v: list) -> int:
    """The index of the first item equal (as JSON says: 1 == 1.0, true is not 1) to one before it."""
    seen: set[Any] = set()
    for i, x in enumerate(v):
        key = json.dumps(x, sort_keys=True) if isinstance(x, (list, dict)) else (type(x) is bool, x)
        if key in seen:
            return i
        seen.add(key)
    return 0


STAND_IN = "\x00 a number strict JSON does not allow"  # where one stood, while jsonschema-rs looks


def _mark_bad_numbers(doc: Any) -> dict[Path, Any]:
    """The first numbers of ``doc`` that strict JSON does not allow, by place in file order (as
    many as can be reported), every one of them replaced in ``doc`` by STAND_IN: jsonschema-rs
    takes inf and nan for null and cannot read a BadNumber, and a string is what no place for a
    number takes. Walked with a stack, not by recursion: a document may be deep."""
    found: dict[Path, Any] = {}
    if not isinstance(doc, (dict, list)):
        return found
    stack: list[tuple[Iterator[tuple[Any, Any]], Path, Any]] = [(_entries(doc), (), doc)]
    while stack:
        entries, path, container = stack[-1]
        for key, x in entries:
            if isinstance(x, (dict, list)):
                stack.append((_entries(x), (*path, key), x))
                break
            if isinstance(x, BadNumber) or (type(x) in (int, float) and not is_number(x)):
                if len(found) <= MAX_PROBLEMS:
                    found[(*path, key)] = x
                container[key] = STAND_IN  # a value replaced, no key added: the iteration goes on
        else:
            stack.pop()
    return found


def _order(doc: Any, path: Path) -> tuple[int, ...]:
    """Where a place comes in the file: the position of each of its keys in its object, in turn
    (a container's own place comes before what it holds). A place inside what ``doc`` does not
    hold (a step, when the steps were checked apart) is ordered by its indices alone."""
    out = []
    v = doc
    for key in path:
        if isinstance(v, dict) and key in v:
            out.append(list(v).index(key))
            v = v[key]
        elif isinstance(key, int):
            out.append(key)
            v = v[key] if isinstance(v, list) and key < len(v) else None
        else:
            out.append(0)
            v = None
    return tuple(out)


def _cut_deeper_than(doc: Any, depth: int) -> None:
    """Empty every list and object nested ``depth`` deep in ``doc``: jsonschema-rs refuses to
    read a value of more than 255 levels, and what is that deep is wrong further up already."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        v, level = stack.pop()
        for key, x in _entries(v):
            if isinstance(x, (dict, list)):
                if level >= depth:
                    v[key] = type(x)()
                else:
                    stack.append((x, level + 1))


def _entries(v: Any) -> Iterator[tuple[Any, Any]]:
    return iter(v.items()) if isinstance(v, dict) else enumerate(v)
