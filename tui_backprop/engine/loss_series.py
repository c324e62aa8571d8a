"""A loss a step, for a run of any length, in bounded memory.

    s = LossSeries()            # as array("d"): s.append(x), len(s), s[-1], s[a:b], del s[k:]
    s.envelope(n, columns)      # (first step, lowest, highest) of each of about `columns` groups

The last ``window`` values (at least ``window``, at most twice that many) are kept exactly:
undo goes back within them (the Trainer's undo history is shorter), and a chart that follows a
run reads only its new ones. The values before them are folded into at most ``buckets`` groups
of consecutive steps, each kept as its lowest and highest value (NaN ignored: a step between
evaluations has no training-set loss), so that a spike stays visible on a chart of a million
steps. When the groups are full, each two neighbours are merged into one twice as long. The
memory is then bounded, 8 bytes for each exact value and 16 for each group, whatever the run's
length: a step no longer costs the memory its loss took (issue 15).
"""

from __future__ import annotations

import copy
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, SupportsIndex, overload

import numpy as np

WINDOW = 2**15  # exact values kept (more than the Trainer's undo history of 10,000 steps)
BUCKETS = 2**12  # groups of older steps, each its lowest and highest value


class Forgotten(IndexError):
    """A value older than the exact window was asked for: only its group's range is kept."""


class LossSeries(Sequence[float]):
    """Float values, one a step, appended, read and cut short from the end as an array("d")."""

    def __init__(self, values: Iterable[float] = (), window: int = WINDOW, buckets: int = BUCKETS) -> None:
        self.window, self.buckets = max(1, window), max(2, buckets)
        self.offset = 0  # the step index of the first exact value: the steps before it are grouped
        self._exact = array("d")
        self._lo, self._hi = array("d"), array("d")  # each group's lowest and highest value
        self._width = 1  # steps a group covers (the last one may hold fewer)
        for v in values:
            self.append(v)

    # -- as an array of floats --------------------------------------------------------------

    def append(self, value: float) -> None:
        exact = self._exact  # a step of the engine appends three: kept to two calls each
        exact.append(value)
        if len(exact) >= 2 * self.window:
            self._fold(len(exact) - self.window)

    def extend(self, values: Sequence[float]) -> None:
        """``append`` of each value in turn, in slices: the groups come out as they would."""
        exact, full, i = self._exact, 2 * self.window, 0
        while i < len(values):
            room = full - len(exact)
            part = values[i : i + room]
            if type(part) is list:  # the fast path's lists: fromlist converts a float 2x quicker
                exact.fromlist(part)
            else:
                exact.extend(part)
            i += room
            if len(exact) >= full:
                self._fold(len(exact) - self.window)

    def __len__(self) -> int:
        return self.offset + len(self._exact)

    @overload
    def __getitem__(self, i: SupportsIndex) -> float: ...
    @overload
    def __getitem__(self, i: slice) -> array[float]: ...
    def __getitem__(self, i: SupportsIndex | slice) -> float | array[float]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("a LossSeries is sliced in steps of 1")
            if start < self.offset and start < stop:
                raise Forgotten(f"step {start + 1} is before the last {len(self._exact)} steps kept exactly")
            return self._exact[max(start, self.offset) - self.offset : max(stop, self.offset) - self.offset]
        k = i.__index__()
        k = k + len(self) if k < 0 else k
        if not 0 <= k < len(self):
            raise IndexError("LossSeries index out of range")
        if k < self.offset:
            raise Forgotten(f"step {k + 1} is before the last {len(self._exact)} steps kept exactly")
        return self._exact[k - self.offset]

    def __setitem__(self, i: SupportsIndex, value: float) -> None:
        """``s[k] = v`` for a step kept exactly (an edit recomputes the last step's loss)."""
        k = i.__index__()
        k = k + len(self) if k < 0 else k
        if not 0 <= k < len(self):
            raise IndexError("LossSeries index out of range")
        if k < self.offset:
            raise Forgotten(f"step {k + 1} is before the last {len(self._exact)} steps kept exactly")
        self._exact[k - self.offset] = value

    def __delitem__(self, i: slice) -> None:
        """``del s[k:]``: the values from step index k on (k within the exact window)."""
        start, stop, _ = i.indices(len(self))
        if stop != len(self):
            raise ValueError("a LossSeries is cut short from the end only")
        if start < self.offset:
            raise Forgotten(f"cannot go back to step {start}: the exact values start at {self.offset}")
        del self._exact[start - self.offset :]

    def __iter__(self) -> Iterator[float]:
        if self.offset:
            raise Forgotten(f"the first {self.offset} values are kept as ranges only")
        return iter(self._exact)

    def tolist(self) -> list[float]:
        """Every value, as array("d").tolist() gives them (Forgotten once some are grouped)."""
        return list(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(list(self), dtype=dtype)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LossSeries):
            return vars(self) == vars(other)
        if isinstance(other, (list, tuple, array)):
            return not self.offset and list(self._exact) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list

    def __repr__(self) -> str:
        groups = f"{len(self._lo)} groups of {self._width}"
        return f"LossSeries({len(self)} values, {groups}, {len(self._exact)} exact)"

    @property
    def stored(self) -> int:
        """How many floats it holds: at most 2 * window + 2 * buckets, whatever its length."""
        return len(self._exact) + len(self._lo) + len(self._hi)

    @property
    def nbytes(self) -> int:
        """The memory its arrays take, their spare capacity included (sys.getsizeof)."""
        return sum(sys.getsizeof(a) for a in (self._exact, self._lo, self._hi))

    def copy(self) -> LossSeries:
        other = copy.copy(self)
        other._exact = array("d", self._exact)
        other._lo, other._hi = array("d", self._lo), array("d", self._hi)
        return other

    def head(self, n: int) -> LossSeries:
        """A copy of the first ``n`` values (n at least ``offset``: the groups are whole)."""
        other = self.copy()
        del other[n:]
        return other

    # -- the older values, grouped ------------------------------------------------------------

    def _fold(self, count: int) -> None:
        """Move the oldest ``count`` exact values into the groups: the last group filled up
        first, then whole groups of ``width`` steps, then one group of what remains."""
        old = np.array(self._exact[:count], dtype=float)
        del self._exact[:count]
        w = self._width
        filled = self.offset - (len(self._lo) - 1) * w if self._lo else w  # steps in the last group
        take = min(w - filled, len(old))
        self._merge_last(old[:take])
        rest = old[take:]
        whole = len(rest) // w * w
        with np.errstate(invalid="ignore"):
            blocks = rest[:whole].reshape(-1, w)
            self._lo.extend(np.fmin.reduce(blocks, axis=1).tolist())
            self._hi.extend(np.fmax.reduce(blocks, axis=1).tolist())
            if whole < len(rest):
                self._lo.append(float(np.fmin.reduce(rest[whole:])))
                self._hi.append(float(np.fmax.reduce(rest[whole:])))
        self.offset += count
        while len(self._lo) > self.buckets:
            self._halve()

    def _merge_last(self, part: np.ndarray) -> None:
        if len(part) and self._lo:
            self._lo[-1] = float(np.fmin(self._lo[-1], np.fmin.reduce(part)))
            self._hi[-1] = float(np.fmax(self._hi[-1], np.fmax.reduce(part)))

    def _halve(self) -> None:
        """Each two neighbouring groups become one of twice the steps."""
        lo, hi = np.asarray(self._lo), np.asarray(self._hi)
        if len(lo) % 2:
            lo, hi = np.append(lo, np.nan), np.append(hi, np.nan)
        self._lo = array("d", np.fmin(lo[0::2], lo[1::2]))
        self._hi = array("d", np.fmax(hi[0::2], hi[1::2]))
        self._width *= 2

    def envelope(self, n: int, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first ``n`` values in about ``columns`` groups of consecutive steps: each group's
        first step index, lowest and highest value (NaN where a group holds no number). The
        groups of old values are used as they are; exact values are grouped here."""
        n = min(n, len(self))
        exact = np.array(self._exact[: max(0, n - self.offset)], dtype=float)
        steps = np.concatenate([np.arange(len(self._lo)) * self._width, self.offset + np.arange(len(exact))])
        lo = np.concatenate([np.asarray(self._lo), exact])
        hi = np.concatenate([np.asarray(self._hi), exact])
        if not len(steps):
            return steps, lo, hi
        group = steps * max(1, columns) // max(n, 1)
        starts = np.flatnonzero(np.diff(group, prepend=-1))
        with np.errstate(invalid="ignore"):
            return steps[starts], np.fmin.reduceat(lo, starts), np.fmax.reduceat(hi, starts)
