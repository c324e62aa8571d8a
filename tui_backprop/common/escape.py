"""Text that came from a file, made safe to print: the one place that decides how.

A scenario's name, a key, a CSV header or cell, a trace's string, a --set value: any of them
may hold a character that a terminal acts on instead of showing (ESC starts a control
sequence, BEL rings, NUL, a newline splits one message into two, U+202E reverses what follows
it on screen) or be a megabyte long. ``shown`` writes every character that is not printable
as its escape (``\\x1b``, ``\\n``, ``\\u202e``, ``\\U000e0001``) and cuts the text to a readable
length with "..."; it reads at most that many characters, whatever the length of the text.

    shown("evil\\x1b[31m")          ->  evil\\x1b[31m     (printed as those 13 characters)
    shown("k" * 10**6)             ->  kkk...k...        (80 characters, then ...)
    quoted("a\\u202eb")             ->  'a\\u202eb'
    listed(["a", "b", "c"], 2)     ->  'a', 'b', ... (3 in all)
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_SHOWN = 80  # characters of one name or value in a message, before "..."
MAX_LISTED = 8  # names of a list in a message, before "... (N in all)"


def _escape(c: str) -> str:
    """One character as Python writes it in a string literal: \\x1b, \\n, \\u202e, \\U000e0001."""
    return c.encode("unicode_escape", "backslashreplace").decode("ascii")


def shown(text: str, limit: int | None = MAX_SHOWN, keep_newlines: bool = False) -> str:
    """``text`` with every character that is not printable escaped (control characters, bidi
    controls, line and paragraph separators, unassigned code points), cut to ``limit``
    characters with "..." (None: not cut). ``keep_newlines``: a newline stays one (prose
    shown in a widget, such as a scenario's description); it is escaped otherwise."""
    out: list[str] = []
    size = 0
    for c in text if limit is None else text[: limit + 1]:
        piece = c if c.isprintable() or (keep_newlines and c == "\n") else _escape(c)
        if limit is not None and size + len(piece) > limit:
            return "".join(out) + "..."
        out.append(piece)
        size += len(piece)
    return "".join(out)


def quoted(text: str, limit: int | None = MAX_SHOWN) -> str:
    """``shown(text)`` between single quotes: a name or value inside a sentence."""
    return f"'{shown(text, limit)}'"


def listed(names: Sequence[str], limit: int = MAX_LISTED) -> str:
    """The first ``limit`` names, each quoted, then how many there are in all."""
    head = ", ".join(quoted(n) for n in names[:limit])
    return head if len(names) <= limit else f"{head}, ... ({len(names):,} in all)"
