"""Before a big export: its size, the command line that writes a smaller trace, and a choice.

An export writes every number of every step (a 784-256-10 network on batches of 64: 11 MB a
step, and its 1,000 samples in the header). When the trace will be over CONFIRM_BYTES, the app
asks first, with ``advice``: the estimated size (trace.trace_size), and the headless command
that writes the same run with --every or --fields, which keep a long or a wide run small.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ...common.words import count

if TYPE_CHECKING:  # the app imports this module at start, the trace writer when e is pressed
    from ...trace.writer import TraceSize

CONFIRM_BYTES = 25 * 10**6  # a trace bigger than this is written only once confirmed
SMALL_FIELDS = "loss,train_loss"  # --fields that keep a trace tiny: the two losses a step


def megabytes(n: int) -> str:
    return f"{n / 1e6:.3g} MB" if n >= 1e5 else f"{n / 1e3:.3g} KB"


def advice(size: TraceSize, command: Sequence[str] | None, budget: int = CONFIRM_BYTES) -> str:
    """What the confirmation says: the size, and the smaller traces the command line writes
    (with --every, one of about ``budget`` bytes)."""
    lines = [
        f"The trace of {count(size.steps, 'step')} will be about {megabytes(size.total)} "
        f"({megabytes(size.per_step)} a step, and {megabytes(size.header)} for the scenario, the data "
        "and the initial weights). Writing it takes a while; the app goes on meanwhile.",
    ]
    if command:
        every = max(2, -(-size.steps // size.steps_within(budget)))  # ceil: within the budget
        line = shlex.join(command)
        lines += [
            "",
            "A smaller trace of the same run, from the command line:",
            f"  {line} --every {every}",
            f"    steps {every}, {2 * every}, {3 * every}, … and the last only (--every K: every K-th step)",
            f"  {line} --fields {SMALL_FIELDS}",
            "    the losses of every step only (--fields names the step and layer fields to keep)",
        ]
    return "\n".join(lines)


class ExportConfirmScreen(ModalScreen[bool]):
    """Dismissed with True (enter or y: write it) or False (escape or n: do not)."""

    BINDINGS = [
        Binding("enter,y", "dismiss(True)", "Write it"),
        Binding("escape,n", "dismiss(False)", "Cancel"),
    ]
    DEFAULT_CSS = """
    ExportConfirmScreen { align: center middle; }
    ExportConfirmScreen > Vertical {
        width: 90%; max-width: 110; height: auto; border: round $warning; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("A big export", style="bold"))
            yield Static(Text(self.text), id="export-advice")
            yield Static(Text("enter or y: write it    escape or n: cancel", style="dim"))
