"""The explain panel: how the selected number of the step on screen came about.

It draws the lines of ``explain_text.explain`` for the record, the selection, the notation
and, while a step is taken phase by phase, the phase just done; before the first step, the
scenario's name and description. The text itself is made without Textual (explain_text);
this widget only wraps it to its width.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...engine import StepRecord
from ...engine.explain import record_split
from ...engine.schedule import Schedule
from ...scenario.notation import vocabulary
from ...tutor.rounding import HandPrecisionUnsupported, hand_values
from ..netinfo import NetInfo
from ..widgets.lines import Lines
from .base import Panel
from .explain_text import PROSE, explain, to_text
from .hand_text import hand_lines
from .probed import probe_of


class ExplainPanel(Panel):
    TITLE = "explain"

    def __init__(
        self,
        net: NetInfo,
        key: str = "",
        update_biases: bool = True,
        about: tuple[str, str] = ("", ""),
        digits: int | None = None,
        schedule: tuple[Schedule, float] | None = None,
        **kwargs,
    ) -> None:
        """``about``: the scenario's name and description, shown before the first step;
        ``digits``: hand precision ([display] digits), shown after the explanation; ``schedule``:
        the learning-rate schedule and its base rate, whose formula a weight's update shows."""
        super().__init__(net, key, **kwargs)
        self.update_biases = update_biases
        self.about = about
        # the learner's graded numbers of the step on screen and the diagnosis (tui/control/quiz.py)
        self.checked_lines: Callable[[StepRecord | None], list[str]] = lambda record: []
        self.digits = digits
        self.edited = ""  # the edits made since the step on screen, in words (tui/control/editing.py)
        self.schedule = schedule
        self._hand: tuple[StepRecord, Mapping[str, np.ndarray] | str] | None = None

    def build(self, width: int) -> Lines:
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
            schedule=self.schedule,
        )
        if probe_of(rec) is not None:  # a probe: neither hand precision nor the learner's grading
            return to_text(lines, width)
        if self.digits is not None and rec is not None:
            lines += hand_lines(rec, self.selection, self.digits, self.hand_values(rec))
        mine = self.checked_lines(rec)
        if mine and (rec is None or self.reveal.whole or self.reveal.update):
            lines = [(mine[0], "bold"), *((line, _style_of(line)) for line in mine[1:]), ("", None), *lines]
        elif mine:  # mid-step: the grading of what is shown so far, after the phase's explanation
            lines = [*lines, ("", None), (mine[0], "bold"), *((line, _style_of(line)) for line in mine[1:])]
        if self.edited and (rec is None or self.reveal.update):
            lines = [
                (self.edited, "bold"),
                ("below: the step on screen as it was computed; the next step starts from the edits", PROSE),
                ("", None),
                *lines,
            ]
        return to_text(lines, width)

    def hand_values(self, rec: StepRecord) -> Mapping[str, np.ndarray] | str:
        """The tutor's hand step of ``rec`` (kept for the record on screen), or why there is none."""
        if self._hand is None or self._hand[0] is not rec:
            assert self.digits is not None
            try:
                values: Mapping[str, np.ndarray] | str = hand_values(
                    rec, self.net.loss, self.digits, self.update_biases
                )
            except HandPrecisionUnsupported as e:
                values = str(e)
            self._hand = (rec, values)
        return self._hand[1]


def _style_of(line: str) -> str | None:
    if line.startswith("✓"):
        return "pos"
    if line.startswith(("✗", "first wrong")):
        return "neg"
    return None if line.startswith(" ") else PROSE
