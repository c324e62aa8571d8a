"""A prompt for one typed value with a starting text: the new value of a number (key =) and the
file a state or the data is saved to (keys W and D). The caller reads and checks what is typed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..widgets.plain import plain


class ValueScreen(ModalScreen[str | None]):
    """Dismissed with the typed text (enter) or None (escape). ``prompt`` is shown as plain text
    (never as markup); ``value`` is the text the input starts with, selected, so that typing
    replaces it and the arrows keep it."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]
    DEFAULT_CSS = """
    ValueScreen { align: center middle; }
    ValueScreen > Vertical {
        width: 80; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, prompt: str, value: str = "", action: str = "enter sets") -> None:
        super().__init__()
        self.prompt, self.value, self.action = prompt, value, action

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"{self.prompt}  ({self.action}, escape cancels)"), id="value-prompt")
            yield Input(self.value, id="value-input", select_on_focus=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
