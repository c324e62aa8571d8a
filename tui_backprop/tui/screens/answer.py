"""The quiz prompt (key a): type your value of the number the next phase computes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..widgets.plain import plain


class AnswerScreen(ModalScreen[str | None]):
    """Dismissed with the typed text (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]
    DEFAULT_CSS = """
    AnswerScreen { align: center middle; }
    AnswerScreen > Vertical {
        width: 70; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(f"{self.prompt}, to the digits you worked to  (enter checks, escape cancels)"))
            yield Input(id="answer-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
