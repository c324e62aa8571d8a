"""What the app's explaining keys do: the notation (v), a step phase by phase (s) and the
explain panel on or off (x). Functions of the app, kept out of app.py.

Phases: ``s`` takes the next step with the Trainer as space does (one StepRecord) and reveals
it one phase at a time (engine.phases): the panels show what the phases so far computed and
highlight the newest part. Space in the middle of a step completes it; any other key that
draws a record (b, r, p, f) draws it whole. The trace is the same either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine import StepRecord
from ..engine.phases import FULL, Reveal, reveal
from ..notation import next_notation
from .explain import ExplainPanel
from .panel import Panel

if TYPE_CHECKING:
    from .app import BackpropApp


def apply_notation(app: BackpropApp) -> None:
    """Title every panel in the app's notation and draw the explanation in it."""
    for panel in app.query(Panel):
        panel.set_notation(app.notation)
    app._draw_selection()


def switch_notation(app: BackpropApp) -> None:
    app.notation = next_notation(app.notation)
    apply_notation(app)  # every title changes; the explain panel's names the notation


def in_phases(app: BackpropApp) -> bool:
    """Whether a step is on screen part-way through its phases."""
    return app.record is not None and not app.reveal.whole and not app.reveal.update


def substep(app: BackpropApp) -> None:
    """The next phase of the step on screen, or the first phase of a new step."""
    if in_phases(app):
        app._show(app.record, reveal(app.net.depth, app.reveal.index + 1))
        return
    if app.busy:  # a big network's step is being computed: s waits for it to show
        return
    app._pause()
    if app._stopped():
        return
    if app.background_steps:  # a big network steps in a worker; _applied shows its first phase
        app.phases_next = True
        app._apply_in_worker([("step", 1)])
        return
    record = app.trainer.step()
    app._show(record, reveal(app.net.depth, 1))
    app._announce(record)


def first_phase(app: BackpropApp, record: StepRecord | None) -> Reveal:
    """How to show a record a worker has just computed: its first phase when s asked for it."""
    asked, app.phases_next = app.phases_next, False
    return reveal(app.net.depth, 1) if asked and record is not None else FULL


def complete_phases(app: BackpropApp) -> bool:
    """Space in the middle of a step's phases shows the step whole (and takes no new step)."""
    if not in_phases(app):
        return False
    app._show(app.record, FULL)
    return True


def phase_activity(r: Reveal) -> str | None:
    """``phase 3/7: loss`` while a step is revealed phase by phase."""
    if r.fresh is None:
        return None
    return f"phase {r.index}/{r.count}: {r.fresh.name}"


def toggle_explain(app: BackpropApp) -> None:
    """The explain panel on or off (a class of the main screen; app.tcss places it)."""
    panel = app.query_one(ExplainPanel)
    shown = panel.display
    panel.screen.set_class(shown, "-no-explain")
    panel.screen.set_class(not shown, "-explain")
