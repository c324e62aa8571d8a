"""The words a scenario format is declared in: a Key per TOML key, a Table per TOML table.

    Key("learning_rate", "number", REQUIRED, "the step size η", Range(0, low_open=True))

A Key says its kind (``str``, ``bool``, ``int``, ``number``, or ``custom`` for a value that code
beside the declaration checks: a list of node counts, a matrix), its default (REQUIRED when the
file must give it), the range or the choices it must lie in, the other key it depends on, and one
line of meaning. From that one statement come the reading of the value (``read_key``, every
problem through scenario/problems.Reader with today's message), the defaults, the reference page
(scenario/keys_doc.py) and the JSON Schema (scenario/json_schema.py). The format itself is
scenario/format_v1.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..common.escape import quoted
from .problems import MISSING, Reader, close_match

REQUIRED: Any = MISSING  # a Key's default when the file must give the key


@dataclass(frozen=True)
class Range:
    """low <= v (low < v when low_open) and v <= high (v < high when high_open).

    ``text`` words the whole range in a message (``must be {text}, got ...``); by default
    ``>= low``, ``> low`` or ``from low to high``. ``above``: other words for a value over
    ``high``, when they are not the whole range's.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    text: str = ""
    above: str = ""

    def words(self, v: float) -> str:
        """What ``v`` (outside the range) must be, in a message's words."""
        if self.above and self.above_high(v):
            return self.above
        if self.text:
            return self.text
        if self.high is None or self.above:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return f"from {self.low:,} to {self.high:,}"

    def below_low(self, v: float) -> bool:
        return self.low is not None and (v <= self.low if self.low_open else v < self.low)

    def above_high(self, v: float) -> bool:
        return self.high is not None and (v >= self.high if self.high_open else v > self.high)


@dataclass(frozen=True)
class Key:
    """One key of a table: its kind, default, range or choices, and what it means.

    ``choices`` are worded in a message as ``style`` says: ``unknown`` (``unknown loss 'x' (did you
    mean 'mse'?); expected one of ...``, the hint unless ``hint`` is false), ``one of`` (``expected
    one of a, b, got 'x'``) or ``or`` (``expected "a" or "b", got 'x'``). ``only``: (key, values):
    the key is used only when that other key of the table has one of those values.
    """

    name: str
    kind: str  # str | bool | int | number | custom
    default: Any
    doc: str
    range: Range | None = None
    choices: tuple[str, ...] = ()
    style: str = "unknown"
    hint: bool = True
    only: tuple[str, tuple[str, ...]] | None = None
    shown_type: str = ""  # the reference page's words for a custom kind ("list of integers")
    schema: dict[str, Any] | None = None  # a custom kind's JSON Schema (scenario/json_schema.py)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Table:
    """A TOML table of the format: its keys in the order the reference lists them."""

    name: str
    doc: str
    keys: tuple[Key, ...]
    required: bool = True
    rules: tuple[str, ...] = ()  # the rules between its keys, in words (the reference page)
    schema: dict[str, Any] | None = None  # those of them a JSON Schema can say (draft 4)

    def __getitem__(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys)

    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)

    def default(self, name: str) -> Any:
        """A key's default, for the dataclasses that hold the values read."""
        return self[name].default


def read_key(r: Reader, t: dict[str, Any], table: str, key: Key) -> Any:
    """t[key] checked against the declaration: the default when it is absent; None after a problem
    (which r has collected), or when the file must give it and the table itself is missing."""
    if key.name not in t:
        if key.required:
            if r.has(table):
                r.problem(table, key.name, "required key is missing")
            return None
        return key.default
    v = r.get(t, table, key.name, key.kind)
    if v is None:
        return None
    if key.range is not None:
        grouped = key.range.high is not None and not key.range.text  # "from 1 to 1,000,000, got 2,000,000"
        got = f"{v:g}" if key.kind == "number" else f"{v:,}" if grouped else f"{v}"
        if key.range.below_low(v) or key.range.above_high(v):
            r.problem(table, key.name, f"must be {key.range.words(v)}, got {got}")
            return None
    if key.choices and not check_choice(r, table, key.name, key, v):
        return None
    return v


def check_choice(r: Reader, table: str, where: str, key: Key, v: str) -> bool:
    """Whether ``v`` is one of the key's choices; a problem at ``where`` (the key, or an entry of a
    list: ``activations[1]``) when it is not."""
    if v in key.choices:
        return True
    if key.style == "one of":
        message = f"expected one of {', '.join(key.choices)}, got {quoted(v)}"
    elif key.style == "or":
        either = " or ".join('"' + w + '"' for w in key.choices)
        message = f"expected {either}, got {quoted(v)}"
    else:
        hint = close_match(v, key.choices) if key.hint else None
        also = f" (did you mean {hint!r}?)" if hint else ""
        message = f"unknown {key.name} {quoted(v)}{also}; expected one of {', '.join(key.choices)}"
    r.problem(table, where, message)
    return False


def read_table(
    r: Reader, t: dict[str, Any], table: Table, custom: Mapping[str, Callable[[], Any]] | None = None
) -> dict[str, Any]:
    """Every key of ``table``, by name, in declaration order (see read_key); a custom key is read
    by its function in ``custom`` (the code beside the declaration), and skipped when it has none.

    A key used only with another key's values (``only``) is read when that key has one of them;
    given otherwise, it is a problem, and not read when that key itself had one.
    """
    out: dict[str, Any] = {}
    for key in table:
        if key.kind == "custom":
            if custom and key.name in custom:
                out[key.name] = custom[key.name]()
            continue
        if key.only is not None:
            other, values = key.only
            if out.get(other) is None:
                continue
            if out[other] not in values:
                if key.name in t:
                    wanted = f'{other} = "{values[0]}"'
                    message = f"only used with {wanted}, but {other} is {quoted(out[other])}"
                    r.problem(table.name, key.name, message)
                continue
        out[key.name] = read_key(r, t, table.name, key)
    return out
