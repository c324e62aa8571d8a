"""The go-to prompt (key g): type where the selection should jump, for layers of hundreds of
nodes that the arrows would take hundreds of presses to cross. Selection.goto reads it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..widgets.plain import plain


class GotoScreen(ModalScreen[str | None]):
    """Dismissed with the typed text (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]
    DEFAULT_CSS = """
    GotoScreen { align: center middle; }
    GotoScreen > Vertical {
        width: 70; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, mode: str, forms: str) -> None:
        super().__init__()
        self.mode, self.forms = mode, forms

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"go to {self.mode}: {self.forms}  (enter jumps, escape cancels)"))  # W[layer]
            yield Input(id="goto-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
