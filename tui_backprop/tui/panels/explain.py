"""The explain panel: how the selected number of the step on screen came about.

It draws the lines of ``explain_text.explain`` for the record, the selection, the notation
and, while a step is taken phase by phase, the phase just done; before the first step, the
scenario's name and description. The text itself is made without Textual (explain_text);
this widget only wraps it to its width.
"""

from __future__ import annotations

from rich.text import Text

from ...engine.explain import record_split
from ...scenario.notation import vocabulary
from ..netinfo import NetInfo
from .base import Panel
from .explain_text import explain, to_text


class ExplainPanel(Panel):
    TITLE = "explain"

    def __init__(
        self,
        net: NetInfo,
        key: str = "",
        update_biases: bool = True,
        about: tuple[str, str] = ("", ""),
        **kwargs,
    ) -> None:
        """``about``: the scenario's name and description, shown before the first step."""
        super().__init__(net, key, **kwargs)
        self.update_biases = update_biases
        self.about = about

    def build(self, width: int) -> Text:
        rec, reveal = self.record, self.reveal
        lines = explain(
            self.net,
            rec,
            self.selection,
            vocabulary(self.notation, self.net.depth),
            update_biases=self.update_biases,
            phase=reveal.fresh,
            split=record_split(rec) if rec is not None and self.net.depth > 1 else None,
            about=self.about,
        )
        return to_text(lines, width)
