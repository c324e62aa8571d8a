"""A value read from a file, in words: what a message says it found (``expected ..., got <this>``).

One function for both formats the program reads, each in its own words: a trace's values as
JSON names them, a scenario's as TOML does (a scenario read back from a trace is checked by
the scenario's rules, so it speaks TOML there too). Text from the file is escaped and cut.

    describe("0.25")              ->  the string "0.25"
    describe("0.25", toml=True)   ->  a string ('0.25')
    describe(True)                ->  true             (TOML: a boolean (true))
    describe({})                  ->  an object        (TOML: a table)
    describe(BadNumber("NaN"))    ->  NaN (not strict JSON: a non-finite number is written as null)

Strict JSON has no NaN or Infinity, and a number that does not fit a float (1e400, which
Python reads as inf, or an integer of 400 digits) is no number a trace can hold either.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .escape import quoted

MAX_FLOAT = 1.7976931348623157e308
JSON_STRING = 40  # characters of a trace's string quoted in a message, before "..."


NOT_STRICT = "not strict JSON: a non-finite number is written as null"


class BadNumber:
    """NaN, Infinity or -Infinity in a trace, which strict JSON does not allow."""

    def __init__(self, text: str, why: str = NOT_STRICT) -> None:
        self.text, self.why = text, why

    def __repr__(self) -> str:
        return f"{self.text} ({self.why})"


def is_number(v: Any) -> bool:
    """A JSON number that is a finite float: not a bool, not inf or nan (1e400 reads as inf), not
    an integer too large for a float."""
    if type(v) is float:
        return v - v == 0.0  # False for inf and nan
    return type(v) is int and -MAX_FLOAT <= v <= MAX_FLOAT


def describe(v: Any, toml: bool = False) -> str:
    """``v`` in words, as JSON names it (a trace), or as TOML does with ``toml`` (a scenario)."""
    if isinstance(v, BadNumber):
        return repr(v)
    if v is None:  # TOML has no null: only a scenario read back from a trace's JSON holds one
        return "null"
    if isinstance(v, bool):
        word = "true" if v else "false"
        return f"a boolean ({word})" if toml else word
    if isinstance(v, int):
        if toml and -(2**63) <= v < 2**63:  # TOML's integers are of 64 bits
            return f"an integer ({v})"
        if not toml and is_number(v):
            return f"the number {v!r}"
        digits = f"an integer of {len(str(abs(v)))} digits"  # not the number itself: it can be 4,300 long
        return digits if toml else f"{digits}, too large for a float"
    if isinstance(v, float):
        if toml:
            return f"a float ({v!r})"
        return f"the number {v!r}" if math.isfinite(v) else "a number too large for a float"
    if isinstance(v, str):
        if toml:
            return f"a string ({quoted(v)})"
        shown = v if len(v) <= JSON_STRING else v[: JSON_STRING - 3] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    if isinstance(v, dict):
        return "a table" if toml else "an object"
    return type(v).__name__
