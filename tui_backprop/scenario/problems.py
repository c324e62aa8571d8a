"""Reading a parsed scenario document: each value checked, every problem collected.

    r = Reader(doc, KEYS)                    # KEYS: the known keys of each table
    t = r.table("training", required=True)   # unknown keys are problems, with "did you mean"
    rate = r.get(t, "training", "learning_rate", "number", 0.5)
    r.problems                               # ['[training] learning_rate: expected a number, got ...']

Every message is one line, ``[table] key: what was expected, what was found``; a value from the
file is described in TOML's words (common/values.py) and escaped (common/escape.py). The format
itself (which tables and keys, their ranges and defaults) is declared in scenario/format_v1.py.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ..common.escape import shown as escaped
from ..common.values import describe
from ..common.words import count

MAX_UNKNOWN = 5  # unknown tables, or unknown keys of one table, named one by one (then counted)


MISSING = object()


def close_match(word: str, words: Sequence[str]) -> str | None:
    """The one of ``words`` closest to ``word`` when one is close (a typo's "did you mean"),
    else None. difflib loads here, on a problem only: checking a good file does without it."""
    import difflib

    hint = difflib.get_close_matches(word, words, n=1)
    return hint[0] if hint else None


def described(v: Any) -> str:
    """A value in TOML's words (values.describe, the one function for every file read)."""
    return describe(v, toml=True)


def shown(name: str) -> str:
    """A table or key name as a message shows it: cut to a readable length, and quoted with
    every character that is not printable escaped when it holds one (common/escape.py)."""
    return escaped(name) if name.isprintable() else f'"{escaped(name)}"'


def numbers_text(n: int) -> str:
    return "1 number" if n == 1 else f"{n} numbers"


def is_int64(v: int) -> bool:
    """Whether an integer is in TOML's range (64 bits; Python's reader takes any size)."""
    return -(2**63) <= v < 2**63


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Rows(NamedTuple):
    """A matrix of numbers read from a file, before numpy: ``values`` holds its ``n`` rows one
    after the other (len(values) = n x cols), as C doubles, so that checking it needs no numpy
    and making an array of it (scenario/arrays.py) copies nothing."""

    values: array
    cols: int

    @property
    def n(self) -> int:
        return len(self.values) // self.cols

    def row(self, i: int) -> array:
        return self.values[i * self.cols : (i + 1) * self.cols]

    def rows(self) -> Iterator[tuple[float, ...]]:
        """Each row as a tuple, in order."""
        return zip(*[iter(self.values)] * self.cols, strict=True)


def all_finite(values: array) -> bool:
    """Whether every number is finite: their sum in C first (it is finite when they all are,
    unless it overflows), then one at a time."""
    return math.isfinite(sum(values)) or all(map(math.isfinite, values))


def float_rows(v: list, cols: int) -> Rows | None:
    """``v`` as Rows of ``cols`` when it is a list of lists of ``cols`` finite numbers each, else
    None. It looks at every number in the interpreter's C loops (array's conversion is the one
    float() makes), so that a million rows take a fraction of a second; the caller finds what is
    wrong."""
    if set(map(type, v)) != {list} or set(map(len, v)) != {cols}:
        return None
    if not set(map(type, itertools.chain.from_iterable(v))) <= {int, float}:  # not bool, not str
        return None
    try:
        values = array("d", itertools.chain.from_iterable(v))
    except OverflowError:  # an integer too large for a float
        return None
    return Rows(values, cols) if all_finite(values) else None


def finite_number(v: Any) -> bool:
    """A number that is a finite float (an integer too large for a float is not)."""
    try:
        return is_number(v) and math.isfinite(v)
    except OverflowError:
        return False


class Reader:
    """Reads one scenario document and collects every problem as '[table] key: message'."""

    def __init__(self, doc: dict[str, Any], keys: Mapping[str, Sequence[str]]) -> None:
        self.doc = doc
        self.keys = keys  # the known keys of each table
        self.problems: list[str] = []
        # checks that only arrays made from the file can answer (scenario/arrays.py), each with
        # the place of its problems among the others
        self.deferred: list[tuple[int, Callable[[Reader], None]]] = []

    def defer(self, check: Callable[[Reader], None]) -> None:
        """Run ``check`` (which reports through the Reader it is given) when ``every_problem`` is
        asked for; its problems take their place here, in the order of the file's keys."""
        self.deferred.append((len(self.problems), check))

    def every_problem(self) -> list[str]:
        """Every problem: those found so far, and those of the deferred checks in their places."""
        problems = list(self.problems)
        for at, check in reversed(self.deferred):
            found = Reader(self.doc, self.keys)
            check(found)
            problems[at:at] = found.problems
        return problems

    def problem(self, table: str, key: str, message: str) -> None:
        table, key = shown(table), shown(key)
        self.problems.append(f"[{table}] {key}: {message}" if key else f"[{table}]: {message}")

    def has(self, name: str) -> bool:
        """Whether table ``name`` is there to read (when it is not, that is reported once, alone)."""
        return isinstance(self.doc.get(name), dict)

    def table(self, name: str, required: bool) -> dict[str, Any]:
        t = self.doc.get(name, MISSING)
        if t is MISSING:
            if required:
                self.problems.append(f"[{name}]: required table is missing")
            return {}
        if not isinstance(t, dict):
            self.problems.append(f"[{name}]: expected a table, got {described(t)}")
            return {}
        unknown = [key for key in t if key not in self.keys[name]]
        for key in unknown[:MAX_UNKNOWN]:
            hint = close_match(key, self.keys[name])
            also = f" (did you mean {hint!r}?)" if hint else f" (known keys: {', '.join(self.keys[name])})"
            self.problem(name, key, f"unknown key{also}")
        if len(unknown) > MAX_UNKNOWN:
            more = len(unknown) - MAX_UNKNOWN - 1
            self.problem(name, unknown[MAX_UNKNOWN], f"unknown key, and {more:,} more unknown keys after it")
        return t

    def get(self, t: dict[str, Any], table: str, key: str, kind: str, default: Any = MISSING) -> Any:
        """t[key] checked against ``kind`` (str, bool, int, number); None after a problem."""
        v = t.get(key, MISSING)
        if v is MISSING:
            if default is MISSING:
                self.problem(table, key, "required key is missing")
                return None
            return default
        ok = {
            "str": isinstance(v, str),
            "bool": isinstance(v, bool),
            "int": isinstance(v, int) and not isinstance(v, bool),
            "number": is_number(v),
        }[kind]
        if not ok:
            expected = {"str": "a string", "bool": "true or false", "int": "an integer", "number": "a number"}
            self.problem(table, key, f"expected {expected[kind]}, got {described(v)}")
            return None
        if kind == "int" and not is_int64(v):
            self.problem(table, key, f"must be an integer of 64 bits, as in TOML, got {described(v)}")
            return None
        if kind == "number" and not finite_number(v):
            got = repr(v) if isinstance(v, float) else described(v)  # inf, nan; or a 400-digit integer
            self.problem(table, key, f"must be a finite number, got {got}")
            return None
        return float(v) if kind == "number" else v

    def matrix(self, v: Any, table: str, key: str, rows: int | None, cols: int) -> Rows | None:
        """A list of ``rows`` lists of ``cols`` finite numbers, as Rows (rows, cols)."""
        if not isinstance(v, list) or not v:
            self.problem(table, key, f"expected a non-empty list of rows, got {described(v)}")
            return None
        if rows is not None and len(v) != rows:
            self.problem(table, key, f"expected {count(rows, 'row')}, got {len(v)}")
            return None
        fast = float_rows(v, cols)
        if fast is not None:
            return fast
        for i, row in enumerate(v):  # the slow way, to name the first bad row or number
            if not isinstance(row, list):
                expected = f"expected a list of {numbers_text(cols)}"
                self.problem(table, f"{key}[{i}]", f"{expected}, got {described(row)}")
                return None
            if len(row) != cols:
                self.problem(table, f"{key}[{i}]", f"expected {numbers_text(cols)}, got {len(row)}")
                return None
            for j, x in enumerate(row):
                if not finite_number(x):
                    self.problem(table, f"{key}[{i}][{j}]", f"expected a finite number, got {described(x)}")
                    return None
        return Rows(array("d", itertools.chain.from_iterable(v)), cols)

    def names(self, t: dict[str, Any], table: str, key: str, count: int | None) -> tuple[str, ...]:
        v = t.get(key, MISSING)
        if v is MISSING:
            return ()
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            self.problem(table, key, f"expected a list of strings, got {described(v)}")
            return ()
        if count is not None and len(v) != count:
            self.problem(table, key, f"expected {count} names (one per node), got {len(v)}")
            return ()
        return tuple(v)
