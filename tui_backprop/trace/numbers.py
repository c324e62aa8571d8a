"""A trace's JSON text, with its float arrays encoded by orjson: the bytes json.dumps writes.

json.dumps spends most of a trace's time turning floats into text, one Python float at a time
(0.6 s a step of blobs_784, 600,000 numbers). orjson encodes a float64 array in C with the
same shortest round-trip digits as Python's repr; its text differs in three ways, each undone
here on the array's bytes, so that a trace keeps its bytes whichever encoder wrote it:

    orjson          json.dumps   where
    1e16, 1.5e-7    1e+16, 1.5e-07   exponents: a sign always, at least two digits
    0.00001234      1.234e-05        1e-5 <= |x| < 1e-4: Python's repr goes scientific below 1e-4
    [1.0,2.0]       [1.0, 2.0]       a space after each comma

Non-finite numbers are null in both (the trace's convention). Everything that is not a float64
array (the dicts and lists around the arrays, strings, integers) goes through json.dumps as
before. tests/test_trace_numbers.py checks the two encoders agree on a million numbers of every
magnitude.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
# 1e-5 <= |x| < 1e-4, written positionally: a literal first, for re's fast scan; whether the
# match starts a number (after "[", "," or a sign) is checked in _small, on the few matches
_SMALL = re.compile(rb"0\.0000([1-9])(\d*)")
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"e-(\d)(?=[,\]])")  # e-6 .. e-9
_POSITIVE_EXPONENT = re.compile(rb"e(\d)")  # e16 .. e308: orjson writes no sign
_STARTS = frozenset(b"[,-")
_SMALL_ARRAY = 64  # arrays of up to this many numbers are written by json.dumps directly


def _small(m: re.Match[bytes]) -> bytes:
    """1.234e-05 for 0.00001234 at the start of a number; anything else (10.00001) unchanged."""
    if m.string[m.start() - 1] not in _STARTS:
        return m.group(0)
    first, rest = m.groups()
    return first + (b"." + rest if rest else b"") + b"e-05"


def array_json(a: np.ndarray) -> str:
    """``a`` as nested JSON lists, as json.dumps(a.tolist()) writes it with non-finite values as
    null: the same text, byte for byte."""
    if a.dtype != np.float64:
        a = a.astype(np.float64)
    if a.size <= _SMALL_ARRAY:  # a few numbers: json.dumps itself is quicker than three passes
        if np.isfinite(a).all():
            return json.dumps(a.tolist())
        obj = a.astype(object)
        obj[~np.isfinite(a)] = None
        return json.dumps(obj.tolist())
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    text = orjson.dumps(a, option=_OPTIONS)
    if b"0.0000" in text:
        text = _SMALL.sub(_small, text)
    text = _SHORT_NEGATIVE_EXPONENT.sub(rb"e-0\1", text)
    text = _POSITIVE_EXPONENT.sub(rb"e+\1", text)
    return text.replace(b",", b", ").decode("ascii")


def dumps(obj: Any) -> str:
    """json.dumps(obj, ensure_ascii=False, allow_nan=False), where every numpy array in ``obj``
    (in dicts and lists) is written as its nested list, non-finite values as null."""
    if isinstance(obj, np.ndarray):
        return array_json(obj)
    if isinstance(obj, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}: {dumps(v)}" for k, v in obj.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(obj, (list, tuple)) and any(isinstance(v, (np.ndarray, dict, list, tuple)) for v in obj):
        return "[" + ", ".join(dumps(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)
