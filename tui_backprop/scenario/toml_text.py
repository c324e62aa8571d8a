"""A scenario document as TOML text: the tables and values a saved scenario holds, nothing more.

    toml_text({"scenario": {"name": "XOR"}, "training": {"learning_rate": 0.5}})
    # [scenario]
    # name = "XOR"
    #
    # [training]
    # learning_rate = 0.5

Python's tomllib reads TOML but does not write it, and a scenario needs only a small part of the
language: tables of keys whose values are strings, booleans, integers, floats and (nested) lists
of them. A float is written as ``repr`` writes it, which reads back to the same float, so that a
saved weight is the weight, bit for bit. A list of lists puts each item on a line of its own,
so that a matrix reads as rows. Non-finite floats are refused (the scenario format refuses them).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from ..common.escape import quoted

# TOML's basic strings escape the quote, the backslash and every control character but tab
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def string(s: str) -> str:
    """``s`` as a TOML basic string."""
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value(v: Any) -> str:
    """A value on one line: a string, a boolean, an integer, a finite float or an inline list."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return string(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} is not a finite number, which a scenario file needs")
        return repr(v)
    if isinstance(v, Sequence):
        return "[" + ", ".join(value(item) for item in v) + "]"
    raise TypeError(f"{type(v).__name__} is not a value of a scenario file")


def entry(key: str, v: Any) -> str:
    """``key = value``; a list of lists with each item on a line of its own."""
    if isinstance(v, Sequence) and not isinstance(v, str) and v and all(_is_list(item) for item in v):
        rows = "".join(f"    {value(item)},\n" for item in v)
        return f"{_key(key)} = [\n{rows}]"
    return f"{_key(key)} = {value(v)}"


def toml_text(doc: Mapping[str, Mapping[str, Any]], head: str = "") -> str:
    """The document's tables in their order, each key in its order; ``head``: comment lines
    written first (each line given a ``# ``)."""
    parts = [_comment(head)] if head else []
    for table, keys in doc.items():
        lines = [f"[{_key(table)}]", *(entry(k, v) for k, v in keys.items())]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _is_list(v: Any) -> bool:
    return isinstance(v, Sequence) and not isinstance(v, str)


def _key(key: str) -> str:
    """A bare key when it is one (letters, digits, - and _), else a quoted one."""
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else string(key)


def _comment(text: str) -> str:
    """Each line of ``text`` as a comment; control characters (a newline in a name) cannot
    end the comment early: they are written escaped."""

    def plain(ch: str) -> str:
        return f"\\u{ord(ch):04X}" if (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F else ch

    return "\n".join(("# " + "".join(map(plain, line))).rstrip() for line in text.split("\n"))


def read_number(text: str) -> float:
    """A number typed as a scenario file writes one (``0.5``, ``-2``, ``1e-3``, ``1_000.5``):
    its float. ValueError says why it is not one, or not finite (the typed text escaped)."""
    typed = text.strip()
    if not typed:
        raise ValueError("no number typed")
    not_one = ValueError(f"{quoted(typed)} is not a number as a scenario file writes one (0.5, -2, 1e-3)")
    if "\n" in typed or "\r" in typed:
        raise not_one
    try:
        doc = tomllib.loads(f"v = {typed}")
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as e:
        raise not_one from e
    v = doc.get("v")
    if len(doc) != 1 or isinstance(v, bool) or not isinstance(v, int | float):
        raise not_one
    if isinstance(v, int) and not -(2**63) <= v < 2**63 or not math.isfinite(float(v)):
        raise ValueError(f"{quoted(typed)} is not a finite number")
    return float(v)
