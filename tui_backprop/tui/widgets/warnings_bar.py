"""The warnings bar: under the header while the step on screen has warnings (StepRecord.warnings).

It shows the first diagnostic of the step with its layer and node names, and how many more
there are; the explain panel lists them all, and the network diagram marks the nodes they name.
"""

from __future__ import annotations

from textual.widgets import Static

from ...engine import StepRecord
from ..netinfo import NetInfo
from .plain import plain
from .warning_text import warning_line, warnings_of


class WarningsBar(Static):
    """One line under the header while the step on screen has warnings (cut at the screen's edge:
    the explain panel has them whole)."""

    def show(self, record: StepRecord | None, net: NetInfo) -> None:
        found = warnings_of(record)
        if found:
            where, _, message = warning_line(found[0], net).partition(": ")
            more = f" (+{len(found) - 1} more in the explain panel)" if len(found) > 1 else ""
            self.update(plain(f"⚠ {where}{more}: {message}"))  # node names come from the file
        if self.display != bool(found):
            self.display = bool(found)
