"""A trace's text as JSON: strict, within a bound on memory, and its steps a chunk at a time.

    parsed = parse(data, source)          # TraceError: not UTF-8, not strict JSON, too large
    parsed.top                            # the trace, with "steps": [] in place of its steps
    for start, steps, strict in parsed.chunks(): ...   # then the steps, some megabytes at a time

The writer (trace/writer.py) puts each top-level field and each step on a line of its own:

    {
    "format": "backprop-tui-trace",
    ...
    "steps": [
    {"step": 1, ...},
    {"step": 2, ...}
    ],
    "summary": {...}
    }

so a trace laid out that way is parsed as its top level, then its steps a chunk of lines at a
time: memory holds one chunk's Python objects, whatever the number of steps, and the reader
keeps only numpy arrays of what it read (trace/reader.py). A trace in any other layout (re-indented,
put on one line by another tool, edited by hand), and one whose steps do not parse a chunk of
lines at a time, is parsed whole, so that a message is the one of the whole document.

Every text parsed at once is bounded before it is parsed: what json.loads makes of it is
estimated from its characters (a number takes 32 bytes, a list 96, an object 400, a string 60
and its characters; measured on traces and on the worst shapes a file can take) and must fit
MAX_PARSED. Strict JSON: no NaN or Infinity (read as a BadNumber, which the schema check refuses
where it stands), no key twice in one object; a number too large for a float (1e400 reads as
inf) is looked for by the schema check when the bytes say there may be one (may_overflow).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..common.files import not_utf8
from ..common.values import BadNumber
from .writer import TraceError

# bytes of the Python objects json.loads makes, at most, for each thing in a text
PER_ITEM = 32  # a float (24) and its slot in a list; each item but the first of a list has a comma
PER_LIST = 96  # an empty list with room for four items (88), and its slot
PER_OBJECT = 400  # a dict of up to ten keys (360) and its slot; each pair has a comma
PER_QUOTE = 30  # a string (49 bytes and its characters, counted apart) and its slot, for 2 quotes
MAX_PARSED = 250 * 2**20  # what one text parsed at once may make: with the file's text, 500 MB at the peak
CHUNK = 2 * 2**20  # characters of steps parsed at once (a line is never cut: one step may be more)

_OPEN = '\n"steps": [\n'
_CLOSE = '\n],\n"summary": '


@dataclass
class Parsed:
    """A trace's text parsed: its top level, then its steps, a chunk at a time."""

    top: Any  # the document, with "steps": [] where its steps were when they are a list
    total: int  # the steps in the file (0 when "steps" is no list)
    strict: bool  # whether the top level may hold a number strict JSON refuses (schemacheck)
    # (index of the first step of the chunk, its steps, whether they may hold such a number)
    chunks: Callable[[], Iterator[tuple[int, list[Any], bool]]]
    in_lines: bool  # parsed a chunk of lines at a time (False: whole)


class NotInLines(Exception):
    """The steps of a trace laid out as the writer lays it out do not parse a chunk of lines at a
    time: it is to be parsed whole."""


def parse(box: list[bytes], source: str) -> tuple[Parsed, str]:
    """The trace in the bytes ``box`` holds (handed over: they are freed once they are text),
    laid out as the writer writes it or parsed whole; and its text (for parse_whole, should its
    steps not parse in lines). TraceError when it is empty, not UTF-8, not strict JSON, or too
    large to parse."""
    data = box.pop()
    if not data.strip():
        raise TraceError(source, "empty file: not a trace")
    overflow = may_overflow(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceError(source, f"{not_utf8(data, e)}: a trace is JSON") from e
    del data
    return _in_lines(text, source, overflow) or parse_whole(text, source, overflow), text


def parse_whole(text: str, source: str, overflow: bool) -> Parsed:
    """The trace in ``text`` parsed at once."""
    doc, constants = _loads(text, source)
    strict = overflow or constants
    steps = doc.get("steps") if isinstance(doc, dict) else None
    if not isinstance(steps, list):
        return Parsed(doc, 0, strict, lambda: iter(()), in_lines=False)
    return Parsed({**doc, "steps": []}, len(steps), strict, lambda: iter([(0, steps, strict)]), False)


def _in_lines(text: str, source: str, overflow: bool) -> Parsed | None:
    """The trace in ``text`` as the writer lays it out: its top level now, its steps a chunk of
    lines at a time; None when it is not laid out so."""
    opening, closing = text.find(_OPEN), text.rfind(_CLOSE)
    if opening < 0 or closing < opening + len(_OPEN) - 1:
        return None
    first, end = opening + len(_OPEN), closing  # the lines of the steps: text[first:end]
    _fits(_size(text, 0, first) + _size(text, closing, len(text)), source, _TOP)
    try:
        top, constants = _loads(text[: first - 1] + "]" + text[closing + 2 :], source)
    except TraceError:
        return None  # what is wrong is said by the whole document
    if not isinstance(top, dict) or top.get("steps") != []:
        return None
    total = text.count("\n", first, end) + 1

    def chunks() -> Iterator[tuple[int, list[Any], bool]]:
        start, index = first, 0
        while start < end:
            stop = text.find("\n", min(start + CHUNK, end))
            if stop < 0 or stop >= end:
                stop, cut = end, end
            elif text[stop - 1] == ",":
                cut = stop - 1  # the comma after the chunk's last step
            else:
                raise NotInLines  # a step over more than one line
            lines = text.count("\n", start, stop) + 1
            if lines == 1:  # one step, too large: the whole document is larger still
                _fits(_size(text, start, cut), source, _STEPS)
            try:
                steps, constants = _loads("[" + text[start:cut] + "]", source)
            except TraceError as e:
                raise NotInLines from e
            if len(steps) != lines:
                raise NotInLines  # two steps on a line
            yield index, steps, overflow or constants
            del steps  # not kept while the next chunk is parsed
            start, index = stop + 1, index + lines

    return Parsed(top, total, overflow or constants, chunks, in_lines=True)


_WHOLE = (
    "parsed at once, it would take",
    " (a trace as backprop-tui writes it, a step a line, is read a few steps at a time; --every K or "
    "--fields keep a long run's trace small)",
)
_TOP = ("its scenario, data and initial weights would take", "")
_STEPS = ("a step of it would take", " (--fields keeps a big network's trace small)")


def _size(text: str, start: int, end: int) -> int:
    """Bytes of the Python objects json.loads makes of text[start:end], at most (not copied)."""
    return (
        end
        - start
        + PER_ITEM * text.count(",", start, end)
        + PER_LIST * text.count("[", start, end)
        + PER_OBJECT * text.count("{", start, end)
        + PER_QUOTE * text.count('"', start, end)
    )


def _fits(size: int, source: str, what: tuple[str, str]) -> None:
    """TraceError when ``size`` bytes of Python objects is over MAX_PARSED (``what`` says what
    would make them, and what helps)."""
    if size > MAX_PARSED:
        most = f"{MAX_PARSED / 2**20:,.0f} MB"
        message = (
            f"too large to read back: {what[0]} about {size / 2**20:,.0f} MB of memory, more than {most}"
        )
        raise TraceError(source, message + what[1])


def _loads(text: str, source: str, what: tuple[str, str] = _WHOLE) -> tuple[Any, bool]:
    """The document in ``text``, strict JSON, and whether it holds NaN or Infinity (a BadNumber).
    TraceError when it is not JSON, or would make more than MAX_PARSED of Python objects."""
    _fits(_size(text, 0, len(text)), source, what)
    constants: list[BadNumber] = []

    def constant(name: str) -> BadNumber:  # NaN, Infinity, -Infinity
        constants.append(BadNumber(name))
        return constants[-1]

    try:
        return json.loads(text, parse_constant=constant, object_pairs_hook=_unique), bool(constants)
    except json.JSONDecodeError as e:
        end = len(text.rstrip())
        if e.pos >= end or (e.msg.startswith("Unterminated string") and '"' not in text[e.pos + 1 :]):
            line = text.count("\n", 0, end) + 1
            message = f"truncated: the file ends at line {line} before the JSON is complete"
            raise TraceError(source, message + " (an export that was cut short?)") from e
        raise TraceError(source, f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e
    except RecursionError as e:
        raise TraceError(source, "not valid JSON for a trace: nested too deeply") from e
    except ValueError as e:  # a duplicate key, or an integer of more than 4300 digits
        why = str(e).split(";")[0]  # not Python's advice on its own limit of digits
        raise TraceError(source, why if "twice" in why else f"not valid JSON: {why}") from e


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"not strict JSON: the key {json.dumps(dup)} appears twice in one object")
    return d


_EXPONENT = re.compile(rb"e\+?[0-9]{3}")  # an exponent of three digits (found fast: it starts with e)
_EXPONENT_E = re.compile(rb"E\+?[0-9]{3}")
_DIGITS = bytes(ord("0") if 48 <= i <= 57 else 32 for i in range(256))  # digits as 0, the rest blank


def may_overflow(data: bytes) -> bool:
    """Whether the text may hold a number too large for a float (1e400, or an integer of 400
    digits): one with an exponent of 100 or more, or 209 digits in a row (with an exponent of at
    most 99, a number below 1e308 has at most 208 digits before its point). A float that Python
    writes has at most 17 significant digits and, below 1e100, an exponent of two. About 80 ms
    for 19 MB, where walking the parsed document would take a second."""
    if _EXPONENT.search(data) or (b"E" in data and _EXPONENT_E.search(data)):
        return True
    return b"0" * 209 in data.translate(_DIGITS)
