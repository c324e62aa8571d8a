"""The probe prompt (key P): type a point x, and a target t after an arrow for the backward pass.
control/probe_input.py reads what was typed; the prompt offers a point to edit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..widgets.plain import plain


class ProbeScreen(ModalScreen[str | None]):
    """Dismissed with the typed text (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]
    DEFAULT_CSS = """
    ProbeScreen { align: center middle; }
    ProbeScreen > Vertical {
        width: 76; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    ProbeScreen .dim { color: $text-muted; }
    """

    def __init__(self, form: str, example: str, offered: str) -> None:
        """``form``: the input's names (``x1, x2 -> y``); ``example``: one more form of the
        target (a class name); ``offered``: the text the input starts with."""
        super().__init__()
        self.form, self.example, self.offered = form, example, offered

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"probe a point: {self.form}  (enter probes, escape cancels)"))
            yield Static(plain(self.example), classes="dim")
            yield Input(self.offered, id="probe-input", select_on_focus=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
