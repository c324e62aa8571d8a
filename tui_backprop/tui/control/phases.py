"""What the app's explaining keys do: the notation (v), a step phase by phase (s) and the
explain panel on or off (x), as a controller the app owns (``app.phases``).

Phases: ``s`` takes the next step with the Trainer as space does (one StepRecord) and reveals
it one phase at a time (engine.phases): the panels show what the phases so far computed and
highlight the newest part. Space in the middle of a step completes it; any other key that
draws a record (b, r, p, f) draws it whole. The trace is the same either way.

The controller knows the app only through ``PhaseHost``, the public part of the app it needs,
so that it can be read (and tested) without the app's module.
"""

from __future__ import annotations

from typing import Protocol

from textual.css.query import DOMQuery

from ...engine import StepRecord
from ...engine.phases import FULL, Reveal, reveal
from ...scenario.notation import next_notation
from ..netinfo import NetInfo
from ..panels.base import Panel
from ..panels.explain import ExplainPanel
from .play import Stepper


class PhaseHost(Protocol):
    """What the phase controller uses of the app that owns it."""

    record: StepRecord | None
    reveal: Reveal
    notation: str
    trainer: Stepper
    net: NetInfo
    background_steps: bool

    @property
    def busy(self) -> bool: ...
    def query(self, selector: type[Panel]) -> DOMQuery[Panel]: ...
    def query_one(self, selector: type[ExplainPanel]) -> ExplainPanel: ...
    def show_record(self, record: StepRecord | None, reveal: Reveal = FULL) -> None: ...
    def draw_selection(self) -> None: ...
    def pause(self) -> None: ...
    def say_if_stopped(self) -> bool: ...
    def announce(self, record: StepRecord | None) -> None: ...
    def apply_in_worker(self, ops: list[tuple[str, int]]) -> None: ...


class Phases:
    """The notation, the phases of a step and the explain panel of one app."""

    def __init__(self, app: PhaseHost) -> None:
        self.app = app
        self.next_first = False  # s asked a worker for a step: show its first phase

    def apply_notation(self) -> None:
        """Title every panel in the app's notation and draw the explanation in it."""
        app = self.app
        for panel in app.query(Panel):
            panel.set_notation(app.notation)
        app.draw_selection()

    def switch_notation(self) -> None:
        self.app.notation = next_notation(self.app.notation)
        self.apply_notation()  # every title changes; the explain panel's names the notation

    def in_phases(self) -> bool:
        """Whether a step is on screen part-way through its phases."""
        app = self.app
        return app.record is not None and not app.reveal.whole and not app.reveal.update

    def substep(self) -> None:
        """The next phase of the step on screen, or the first phase of a new step."""
        app = self.app
        if self.in_phases():
            assert app.record is not None
            app.show_record(app.record, reveal(app.net.depth, app.reveal.index + 1))
            return
        if app.busy:  # a big network's step is being computed: s waits for it to show
            return
        app.pause()
        if app.say_if_stopped():
            return
        if app.background_steps:  # a big network steps in a worker; first_phase shows its first phase
            self.next_first = True
            app.apply_in_worker([("step", 1)])
            return
        record = app.trainer.step()
        app.show_record(record, reveal(app.net.depth, 1))
        app.announce(record)

    def first_phase(self, record: StepRecord | None) -> Reveal:
        """How to show a record a worker has just computed: its first phase when s asked for it."""
        asked, self.next_first = self.next_first, False
        return reveal(self.app.net.depth, 1) if asked and record is not None else FULL

    def complete(self) -> bool:
        """Space in the middle of a step's phases shows the step whole (and takes no new step)."""
        if not self.in_phases():
            return False
        self.app.show_record(self.app.record, FULL)
        return True

    def toggle_explain(self) -> None:
        """The explain panel on or off (a class of the main screen; app.tcss places it)."""
        panel = self.app.query_one(ExplainPanel)
        shown = panel.display
        panel.screen.set_class(shown, "-no-explain")
        panel.screen.set_class(not shown, "-explain")


def phase_activity(r: Reveal) -> str | None:
    """``phase 3/7: loss`` while a step is revealed phase by phase."""
    if r.fresh is None:
        return None
    return f"phase {r.index}/{r.count}: {r.fresh.name}"
