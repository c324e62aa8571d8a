"""[data] csv = "file.csv": a table with a header row read into inputs and targets.

    csv = "iris.csv"                 # relative to the scenario file's folder
    target_columns = ["species"]     # names from the header row
    input_columns = [...]            # optional: every other column, in file order
    one_hot = ["species"]            # class-label columns, one 0/1 column per class

A one-hot column's classes are sorted (as strings), so the order does not depend on the
order of the rows; every other cell must be a finite number. Problems name the CSV file,
the [data] key, and for a bad cell its 1-based line in the file and its column name.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .files import CSV_LIMIT, Unreadable, read_resource

if TYPE_CHECKING:
    from .scenario import _Reader


class _Refused(Exception):
    """One problem with the CSV file, already reported."""


def read_csv(
    r: _Reader, t: dict[str, Any], base: Any, n_in: int | None, n_out: int | None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...], dict[str, Any]] | None:
    """X (N, n_0), T (N, n_L), input and output names, and the keys to record; None after a problem.

    ``base``: the folder of the scenario file (a Path, or the bundled scenarios' Traversable),
    or None for the current directory.
    """
    name = r.get(t, "data", "csv", "str")
    targets = _names(r, t, "target_columns", required=True)
    inputs = _names(r, t, "input_columns", required=False)
    one_hot = _names(r, t, "one_hot", required=False) or []
    if name is None or targets is None or inputs is None and "input_columns" in t:
        return None
    try:
        header, rows = _table(r, name, base)
        in_cols = _columns(r, name, header, targets, inputs, one_hot)
        classes = {c: sorted({row[header.index(c)] for row, _ in rows}) for c in one_hot}
        X, in_names = _matrix(r, name, header, rows, in_cols, classes)
        T, out_names = _matrix(r, name, header, rows, targets, classes)
    except _Refused:
        return None
    for key, arr, n, what in (("input_columns", X, n_in, "input"), ("target_columns", T, n_out, "output")):
        if n is not None and arr.shape[1] != n:
            if key == "input_columns" and "input_columns" not in t:
                key = "target_columns"  # the inputs are the columns it leaves
            cols = ", ".join(in_names if arr is X else out_names)
            gives = f"{arr.shape[1]} {what}" + ("s" if arr.shape[1] != 1 else "")
            message = f"{name} gives {gives} ({cols}), but the {what} layer has {n} nodes"
            r.problem("data", key, message)
            return None
    keys: dict[str, Any] = {"csv": name, "target_columns": targets, "input_columns": in_cols}
    if one_hot:
        keys["one_hot"] = one_hot
    return X, T, tuple(in_names), tuple(out_names), keys


def _names(r: _Reader, t: dict[str, Any], key: str, required: bool) -> list[str] | None:
    v = t.get(key)
    if v is None:
        if required:
            r.problem("data", key, "required with csv: the names of the target columns")
        return None
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        r.problem("data", key, "expected a non-empty list of column names")
        return None
    if len(set(v)) != len(v):
        twice = next(s for s in v if v.count(s) > 1)
        r.problem("data", key, f"names column {twice!r} twice")
        return None
    return list(v)


def _table(r: _Reader, name: str, base: Any) -> tuple[list[str], list[tuple[list[str], int]]]:
    """The header and the data rows of the file, each with its 1-based line number."""
    path = Path(name)
    f = path if path.is_absolute() or base is None else base.joinpath(name)
    try:
        data = read_resource(f, CSV_LIMIT, "CSV file", name)  # a regular file, within the limit
    except Unreadable as e:
        if e.missing:
            where = f" (looked for {f})" if str(f) != name else ""
            r.problem("data", "csv", f"no such file: {name}{where}")
        else:
            r.problem("data", "csv", f"{name}: {e.reason}")
        raise _Refused from e.__cause__ or e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        r.problem("data", "csv", f"{name}: not UTF-8 text (line {line})")
        raise _Refused from e
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[tuple[list[str], int]] = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines are skipped
            cells = [c.strip() for c in cells]
            if header is None:
                header = cells
                _check_header(r, name, header, reader.line_num)
            elif len(cells) != len(header):
                message = (
                    f"{name}: line {reader.line_num} has {len(cells)} cells, "
                    f"expected {len(header)} (one per header column)"
                )
                r.problem("data", "csv", message)
                raise _Refused
            else:
                rows.append((cells, reader.line_num))
    except csv.Error as e:
        r.problem("data", "csv", f"{name}: line {reader.line_num}: not valid CSV ({e})")
        raise _Refused from e
    if header is None:
        r.problem("data", "csv", f"{name} is empty: expected a header row of column names, then data rows")
        raise _Refused
    if not rows:
        r.problem("data", "csv", f"{name} has a header row but no data rows")
        raise _Refused
    return header, rows


def _check_header(r: _Reader, name: str, header: list[str], line: int) -> None:
    if any(not h for h in header):
        i = next(i for i, h in enumerate(header) if not h)
        r.problem("data", "csv", f"{name}: header (line {line}): column {i + 1} has no name")
        raise _Refused
    twice = [h for h in header if header.count(h) > 1]
    if twice:
        r.problem("data", "csv", f"{name}: header (line {line}): column {twice[0]!r} appears twice")
        raise _Refused


def _columns(
    r: _Reader, name: str, header: list[str], targets: list[str], inputs: list[str] | None, one_hot: list[str]
) -> list[str]:
    """The input columns (given, or every column that is not a target), after checking every name."""
    for key, names in (("target_columns", targets), ("input_columns", inputs or []), ("one_hot", one_hot)):
        for c in names:
            if c not in header:
                hint = difflib.get_close_matches(c, header, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                cols = ", ".join(repr(h) for h in header)
                r.problem("data", key, f"{name} has no column {c!r}{also}; its columns: {cols}")
                raise _Refused
    in_cols = inputs if inputs is not None else [h for h in header if h not in targets]
    both = [c for c in in_cols if c in targets]
    if both:
        r.problem("data", "input_columns", f"column {both[0]!r} is also a target column")
        raise _Refused
    if not in_cols:
        r.problem("data", "target_columns", f"every column of {name} is a target: no input columns left")
        raise _Refused
    return in_cols


def _matrix(
    r: _Reader,
    name: str,
    header: list[str],
    rows: list[tuple[list[str], int]],
    columns: list[str],
    classes: dict[str, list[str]],
) -> tuple[np.ndarray, list[str]]:
    """The named columns as an (N, width) array, one-hot columns widened; and a name per column."""
    parts: list[np.ndarray] = []
    names: list[str] = []
    for c in columns:
        j = header.index(c)
        cells = [row[j] for row, _ in rows]
        if c in classes:
            labels = classes[c]
            index = {label: k for k, label in enumerate(labels)}
            parts.append(np.eye(len(labels))[[index[s] for s in cells]])
            names += labels if len(columns) == 1 else [f"{c}={label}" for label in labels]
            continue
        values = np.empty(len(cells))
        for i, (s, (_, line)) in enumerate(zip(cells, rows, strict=True)):
            values[i] = _number(r, name, s, line, c)
        parts.append(values[:, None])
        names.append(c)
    return np.hstack(parts), names


def _number(r: _Reader, name: str, s: str, line: int, column: str) -> float:
    try:
        x = float(s)
    except ValueError as e:
        got = "an empty cell" if not s else repr(s)
        hint = " (a class label? list the column in one_hot)" if s and not s[0].isdigit() else ""
        r.problem(
            "data", "csv", f"{name}: line {line}, column {column!r}: expected a number, got {got}{hint}"
        )
        raise _Refused from e
    if not math.isfinite(x):
        r.problem(
            "data", "csv", f"{name}: line {line}, column {column!r}: expected a finite number, got {s!r}"
        )
        raise _Refused
    return x
