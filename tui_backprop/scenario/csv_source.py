"""[data] csv = "file.csv": a table with a header row read into inputs and targets.

    csv = "iris.csv"                 # relative to the scenario file's folder
    target_columns = ["species"]     # names from the header row
    input_columns = [...]            # optional: every other column, in file order
    one_hot = ["species"]            # class-label columns, one 0/1 column per class

A one-hot column's classes are sorted (as strings), so the order does not depend on the
order of the rows; every other cell must be a finite number. Problems name the CSV file,
the [data] key, and for a bad cell its 1-based line in the file and its column name.

The file is read one row at a time, its numbers gathered into C doubles (array('d'), no numpy:
``backprop-tui --check`` reads the file as loading it does), within limits: MAX_LINES lines
(counted in the bytes first), MAX_COLUMNS cells a row (counted in each line before the csv
module splits it), MAX_CLASSES classes a one-hot column and MAX_VALUES numbers in all, each
checked as soon as it is met: a file of any shape is refused in about the time it takes to read,
and never makes an array larger than the data it may give. Nothing of the file (a column name, a
cell) is quoted in a message until its header has shown it to be this scenario's table, by
holding a column that the scenario names: a path to some other file is refused without echoing
a line of it.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from collections import Counter
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..common.escape import listed, quoted, shown
from ..common.files import CSV_LIMIT, Unreadable, not_utf8, read_resource
from .problems import Rows, close_match
from .sources import MAX_VALUES

if TYPE_CHECKING:
    from .problems import Reader

MAX_COLUMNS = 100_000  # cells of one row, the header's too: the input layer's limit of nodes
MAX_LINES = 500_000  # lines of the file, blank ones and the header included
MAX_CLASSES = 1_000  # classes of one one_hot column (one node each)


class _Refused(Exception):
    """One problem with the CSV file, already reported."""


def read_csv(
    r: Reader, t: dict[str, Any], base: Any, n_in: int | None, n_out: int | None
) -> tuple[Rows, Rows, tuple[str, ...], tuple[str, ...], dict[str, Any]] | None:
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
    if "\0" in name:
        r.problem("data", "csv", f"{quoted(name)} is not a file name: it holds a NUL character")
        return None
    table = _Table(r, name, t, n_in, n_out)
    try:
        lines = _lines(r, name, base)
        header, rows = table.header(lines, [*targets, *(inputs or []), *one_hot])
        in_cols = _columns(r, table.label, header, targets, inputs, one_hot)
        X, T, in_names, out_names = table.read(header, rows, in_cols, targets, set(one_hot))
    except _Refused:
        return None
    keys: dict[str, Any] = {"csv": name, "target_columns": targets, "input_columns": in_cols}
    if one_hot:
        keys["one_hot"] = one_hot
    return X, T, tuple(in_names), tuple(out_names), keys


def _names(r: Reader, t: dict[str, Any], key: str, required: bool) -> list[str] | None:
    v = t.get(key)
    if v is None:
        if required:
            r.problem("data", key, "required with csv: the names of the target columns")
        return None
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        r.problem("data", key, "expected a non-empty list of column names")
        return None
    if len(set(v)) != len(v):
        twice = next(s for s, n in Counter(v).items() if n > 1)
        r.problem("data", key, f"names column {quoted(twice)} twice")
        return None
    return list(v)


def _lines(r: Reader, name: str, base: Any) -> Iterator[str]:
    """The lines of the file, decoded as they are read (the file's bytes are checked to be UTF-8 first)."""
    path = Path(name)
    f = path if path.is_absolute() or base is None else base.joinpath(name)
    label = shown(name)
    try:
        data = read_resource(f, CSV_LIMIT, "CSV file", name)  # a regular file, within the limit
    except Unreadable as e:
        if e.missing:
            where = f" (looked for {shown(str(f), None)})" if str(f) != name else ""
            r.problem("data", "csv", f"no such file: {label}{where}")
        else:
            r.problem("data", "csv", f"{label}: {e.reason}")
        raise _Refused from e.__cause__ or e
    if max(data.count(b"\n"), data.count(b"\r")) > MAX_LINES:  # every line but the last ends in one
        r.problem("data", "csv", f"{label} has more than {MAX_LINES:,} lines")
        raise _Refused
    try:
        data.decode("utf-8")  # here, for the line of a bad byte; then again line by line
    except UnicodeDecodeError as e:
        r.problem("data", "csv", f"{label}: {not_utf8(data, e, byte=False)}")
        raise _Refused from e
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


class _Table:
    """One CSV file being read: its rows checked against the limits as they come, then its
    columns as arrays."""

    def __init__(self, r: Reader, name: str, t: dict[str, Any], n_in: int | None, n_out: int | None):
        self.r, self.label, self.t = r, shown(name), t
        self.nodes = {"input": n_in, "output": n_out}
        self.commas = 0  # in the lines of the record being read
        self.line = 0  # the last line read

    def refuse(self, message: str, key: str = "csv") -> NoReturn:
        self.r.problem("data", key, message)
        raise _Refused

    def _checked(self, lines: Iterator[str]) -> Iterator[str]:
        """The lines, refused once a record holds more than MAX_COLUMNS cells: before the csv
        module makes a list of them."""
        for line in lines:
            self.line += 1
            self.commas += line.count(",")
            if self.commas >= MAX_COLUMNS:
                self.refuse(f"{self.label}: line {self.line} has more than {MAX_COLUMNS:,} cells")
            yield line

    def records(self, lines: Iterator[str]) -> Iterator[tuple[list[str], int]]:
        """Each record that is not blank, with its (last) line."""
        reader = csv.reader(self._checked(lines), strict=True)
        try:
            for cells in reader:
                self.commas = 0
                if any(map(str.strip, cells)):  # blank lines are skipped
                    yield cells, reader.line_num
        except csv.Error as e:
            self.refuse(f"{self.label}: line {reader.line_num}: not valid CSV ({e})")

    def header(
        self, lines: Iterator[str], named: list[str]
    ) -> tuple[list[str], Iterator[tuple[list[str], int]]]:
        """The header's names and the data rows to come. The header must hold at least one of
        the ``named`` columns before any of it is quoted: otherwise this is some other file."""
        rows = self.records(lines)
        first = next(rows, None)
        if first is None:
            self.refuse(f"{self.label} is empty: expected a header row of column names, then data rows")
        header, line = [c.strip() for c in first[0]], first[1]
        if not set(named) & set(header):
            c = named[0]  # a target column
            also = _did_you_mean(c, header)
            cols = f"{len(header):,} column" + ("s" if len(header) != 1 else "")
            self.refuse(
                f"{self.label} has no column {quoted(c)}{also}; none of the {cols} of its header "
                f"(line {line}) is one that this scenario names: is it the right file?",
                "target_columns",
            )
        if not all(header):
            self.refuse(f"{self.label}: header (line {line}): column {header.index('') + 1} has no name")
        if len(set(header)) != len(header):
            twice = next(h for h, n in Counter(header).items() if n > 1)
            self.refuse(f"{self.label}: header (line {line}): column {quoted(twice)} appears twice")
        return header, rows

    def read(
        self,
        header: list[str],
        rows: Iterator[tuple[list[str], int]],
        in_cols: list[str],
        targets: list[str],
        one_hot: set[str],
    ) -> tuple[Rows, Rows, list[str], list[str]]:
        """X and T and their node names, from the data rows."""
        sides = {"input": in_cols, "output": targets}
        for side, cols in sides.items():
            if not one_hot & set(cols):  # its width is known before any row is read
                self.check_width(side, cols)
        numeric = [c for c in in_cols + targets if c not in one_hot]
        labels = {
            c: self.class_bound(c, in_cols if c in in_cols else targets)
            for c in in_cols + targets
            if c in one_hot
        }
        values, codes, lines = self.rows(header, rows, numeric, labels)
        n = len(lines)
        if not n:
            self.refuse(f"{self.label} has a header row but no data rows")
        classes = {c: sorted(codes[c][1]) for c in labels}
        names = {side: _node_names(cols, classes) for side, cols in sides.items()}
        for side, cols in sides.items():
            self.check_width(side, cols, names[side])
        width = len(names["input"]) + len(names["output"])
        if n * width > MAX_VALUES:
            self.refuse(f"{self.label}: {n:,} rows of {width:,} numbers is more than {MAX_VALUES:,} numbers")
        onehot: dict[str, tuple[list[int], array]] = {}
        for c in labels:  # the code of a class (in the order of first appearance) -> its sorted place
            seen = codes[c][1]
            rank = [0] * len(seen)
            for place, k in enumerate(classes[c]):
                rank[seen[k]] = place
            onehot[c] = rank, codes[c][0]
        X = _block(n, in_cols, len(names["input"]), values, numeric, onehot)
        T = _block(n, targets, len(names["output"]), values, numeric, onehot)
        return X, T, names["input"], names["output"]

    def rows(
        self,
        header: list[str],
        rows: Iterator[tuple[list[str], int]],
        numeric: list[str],
        labels: dict[str, int],
    ) -> tuple[array, dict[str, tuple[array, dict[str, int]]], array]:
        """Every data row: its numbers (row after row, in the order of ``numeric``), the class
        code of each one-hot cell (in the order the classes first appear) with the classes, and
        its line. ``labels``: the one-hot columns, and how many classes each may have."""
        width = len(header)
        index = {h: j for j, h in enumerate(header)}
        picks = [index[c] for c in numeric]
        pick = itemgetter(*picks) if len(picks) > 1 else (lambda cells: (cells[picks[0]],))
        values = array("d")  # the numbers of every row, one row after the other
        codes: dict[str, tuple[array, dict[str, int]]] = {c: (array("q"), {}) for c in labels}
        lines = array("q")
        cells_read = len(picks) + len(labels)
        for cells, line in rows:
            if len(cells) != width:
                self.refuse(
                    f"{self.label}: line {line} has {len(cells)} cells, "
                    f"expected {width} (one per header column)"
                )
            lines.append(line)
            if picks:
                try:
                    row = tuple(map(float, pick(cells)))
                except ValueError:
                    self.bad_cell(pick(cells), numeric, line)
                if not math.isfinite(sum(row)):  # nan or inf, or a sum that overflows
                    self.not_finite(row, pick(cells), numeric, line)
                values.extend(row)
            if len(lines) * cells_read > MAX_VALUES:  # a one-hot cell makes one number at least
                self.refuse(f"{self.label}: more than {MAX_VALUES:,} numbers (line {line})")
            for c, most in labels.items():
                s = cells[index[c]].strip()
                order, seen = codes[c]
                code = seen.get(s)
                if code is None:
                    if len(seen) == most:
                        self.too_many_classes(c, most, [*seen, s], line)
                    code = seen[s] = len(seen)
                order.append(code)
        return values, codes, lines

    def class_bound(self, c: str, cols: list[str]) -> int:
        """How many classes one-hot column ``c`` (one of ``cols``) may have: at most MAX_CLASSES,
        and no more than its layer has nodes for, each other column taking one at least."""
        n = self.nodes["output" if c in self.t.get("target_columns", ()) else "input"]
        return MAX_CLASSES if n is None else max(1, min(MAX_CLASSES, n - (len(cols) - 1)))

    def too_many_classes(self, c: str, most: int, seen: list[str], line: int) -> NoReturn:
        side = "output" if c in self.t.get("target_columns", ()) else "input"
        n = self.nodes[side]
        why = f"one_hot makes a node of each, at most {MAX_CLASSES:,}"
        if n is not None and most < MAX_CLASSES:
            why = f"the {side} layer has {n} node{'s' if n != 1 else ''}"
        self.refuse(
            f"{self.label}: column {quoted(c)} has more than {most:,} classes by line {line} "
            f"({listed(seen, 3)}), but {why}",
            "one_hot",
        )

    def check_width(self, side: str, cols: list[str], names: list[str] | None = None) -> None:
        """The columns of one side (one-hot ones by their classes) against its layer's nodes."""
        n, names = self.nodes[side], cols if names is None else names
        if n is None or len(names) == n:
            return
        key = "target_columns" if side == "output" or "input_columns" not in self.t else "input_columns"
        gives = f"{len(names):,} {side}" + ("s" if len(names) != 1 else "")
        cut = ", ".join(shown(c) for c in names[:8]) + (
            f", ... ({len(names):,} in all)" if len(names) > 8 else ""
        )
        nodes = f"{n} node{'s' if n != 1 else ''}"
        self.refuse(f"{self.label} gives {gives} ({cut}), but the {side} layer has {nodes}", key)

    def bad_cell(self, cells: tuple[str, ...], columns: list[str], line: int) -> NoReturn:
        for s, c in zip(cells, columns, strict=True):
            try:
                float(s)
            except ValueError:
                s = s.strip()
                got = "an empty cell" if not s else quoted(s)
                hint = " (a class label? list the column in one_hot)" if s and not s[0].isdigit() else ""
                where = f"{self.label}: line {line}, column {quoted(c)}"
                self.refuse(f"{where}: expected a number, got {got}{hint}")
        self.refuse(f"{self.label}: line {line}: expected numbers")

    def not_finite(
        self, row: tuple[float, ...], cells: tuple[str, ...], columns: list[str], line: int
    ) -> None:
        """Refuse the row when a number is not finite (its sum may overflow with every one finite)."""
        for x, s, c in zip(row, cells, columns, strict=True):
            if not math.isfinite(x):
                where = f"{self.label}: line {line}, column {quoted(c)}"
                self.refuse(f"{where}: expected a finite number, got {quoted(s.strip())}")


def _did_you_mean(c: str, header: list[str]) -> str:
    """`` (did you mean 'label'?)``: the header's name closest to ``c``, when one is close (a
    header of thousands of names is not searched)."""
    hint = close_match(c, header) if len(header) <= 1000 else None
    return f" (did you mean {quoted(hint)}?)" if hint else ""


def _node_names(cols: list[str], classes: dict[str, list[str]]) -> list[str]:
    """A name per node: a column's own, or for a one-hot column its classes (``column=class``
    when it is not the side's only column)."""
    out: list[str] = []
    for c in cols:
        if c not in classes:
            out.append(c)
        else:
            out += classes[c] if len(cols) == 1 else [f"{c}={k}" for k in classes[c]]
    return out


def _block(
    n: int,
    cols: list[str],
    width: int,
    number: array,
    numeric: list[str],
    onehot: dict[str, tuple[list[int], array]],
) -> Rows:
    """The n rows of ``width`` numbers of ``cols``: a numeric column as read (``number``: n rows of
    the ``numeric`` columns), a one-hot column as one 0/1 column per class (``onehot``: the
    sorted place of each class code, and each row's code). Column by column, in C slices."""
    out = array("d", bytes(8 * n * width))
    column = {c: j for j, c in enumerate(numeric)}
    at = 0
    for c in cols:
        if c in onehot:
            rank, codes = onehot[c]
            count = len(rank)
            one_hot = [bytes(array("d", [float(j == k) for j in range(count)])) for k in range(count)]
            block = array("d", b"".join(map(one_hot.__getitem__, map(rank.__getitem__, codes))))
            for k in range(count):  # the rows of each class's column, at once
                out[at + k :: width] = block[k::count]
            at += count
        else:
            out[at::width] = number[column[c] :: len(numeric)]
            at += 1
    return Rows(out, width)


def _columns(
    r: Reader,
    label: str,
    header: list[str],
    targets: list[str],
    inputs: list[str] | None,
    one_hot: list[str],
) -> list[str]:
    """The input columns (given, or every column that is not a target), after checking every name."""
    known = set(header)
    for key, names in (("target_columns", targets), ("input_columns", inputs or []), ("one_hot", one_hot)):
        for c in names:
            if c not in known:
                also = _did_you_mean(c, header)
                r.problem(
                    "data", key, f"{label} has no column {quoted(c)}{also}; its columns: {listed(header)}"
                )
                raise _Refused
    target_set = set(targets)
    in_cols = inputs if inputs is not None else [h for h in header if h not in target_set]
    both = [c for c in in_cols if c in target_set]
    if both:
        r.problem("data", "input_columns", f"column {quoted(both[0])} is also a target column")
        raise _Refused
    if not in_cols:
        r.problem("data", "target_columns", f"every column of {label} is a target: no input columns left")
        raise _Refused
    return in_cols
