"""The comparison view's help: its keys (made from its bindings) and what each column means."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from .help import HelpText, append_rows, wrapped

INTRO = (
    "One scenario, one key changed (--vary), one run per value. The chart overlays the training-set "
    "loss of every variant against the step, in the colour of its row; the variants step together, "
    "each until it stops by itself. The table is the one that --headless prints."
)

COLUMNS = [
    ("value", "the value of the varied key in this variant, as given on the command line"),
    ("steps", "the steps taken so far"),
    ("final loss", "the training-set loss after the last step (before any: the initial loss)"),
    ("test loss", "the held-out test set's loss after the last step (only when the scenario has a test set)"),
    ("accuracy", "a classifier's training-set accuracy after the last step (only for classifiers)"),
    ("test accuracy", "the test set's accuracy after the last step (classifiers with a test set)"),
    (
        "to target",
        "the step at which the loss went below [training] target_loss, or the accuracy reached "
        "target_accuracy; - not (yet), or no target",
    ),
    (
        "diverged",
        "YES in red when the run diverged: a number stopped being finite, or the training-set loss "
        "went over 1e8 x max(its initial loss, 1); the run stops, its curve ends there",
    ),
    (
        "stopped",
        "why the run stopped by itself: target_loss, target_accuracy, max_steps or diverged; - while it runs",
    ),
]


def compare_help_text(keys: Sequence[tuple[str, str]], width: int = 100) -> Text:
    """The help laid out for ``width`` columns (the rows as on the app's help screen)."""
    t = Text()
    t.append("backprop-tui comparison help", style="bold")
    t.append("   (escape, q or ? closes)\n\n", style="dim")
    t.append(wrapped(INTRO, width) + "\n")
    for title, rows in (("Keys (also in the command palette, ctrl+p)", keys), ("Table", COLUMNS)):
        t.append(f"\n{title}\n", style="bold underline")
        append_rows(t, rows, width)
    return t


class CompareHelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]
    DEFAULT_CSS = """
    CompareHelpScreen { align: center middle; }
    CompareHelpScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield HelpText(partial(compare_help_text, self._keys), id="help-text")
