"""Probing a point (key P), as a controller the app owns (``app.probing``).

P asks for a point x, and optionally a target t (control/probe_input.py reads it), and puts
engine.probe's ProbeRecord of the weights the run is at on every panel in place of the step on
screen: the forward pass, and with a target the loss, the deltas and the gradients, marked as a
probe. Nothing is trained and nothing is recorded: the trainer is only read. Escape, or any key
that steps, steps back, resets or plays, leaves the probe (``leave``), and so does any record of
the run being drawn (``app.show_record`` calls ``forget``); the selection keys, the zooms, the
notation and the palette keep it.

The controller knows the app only through ``ProbeHost``, the public part of the app it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from ...engine import StepRecord, Trainer
from ...engine.probe import ProbeRecord, probe
from ...scenario.reader import Scenario
from ..netinfo import NetInfo
from ..panels.probed import probe_title
from .play import Stepper
from .selection import Selection

Array = np.ndarray


class ProbeHost(Protocol):
    """What the probe controller uses of the app that owns it."""

    record: StepRecord | None
    selection: Selection
    net: NetInfo
    trainer: Stepper
    scenario: Scenario

    @property
    def busy(self) -> bool: ...
    def pause(self) -> None: ...
    def draw_selection(self) -> None: ...
    def push_screen(self, screen: Any, callback: Callable[[str | None], None]) -> Any: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...


class Probing:
    """The probe on screen (None: the run is shown) and the key that makes one."""

    def __init__(self, app: ProbeHost) -> None:
        self.app = app
        self.probe: ProbeRecord | None = None
        self.typed: str | None = None  # the last point probed, offered again by the next P

    @property
    def active(self) -> bool:
        return self.probe is not None

    @property
    def softmax(self) -> bool:
        return self.app.net.activations[-1] == "softmax"

    def ask(self) -> None:
        """P: pause, and ask for the point (the last one probed, or the selected sample, to edit)."""
        from ..screens.probe import ProbeScreen  # here: the first screen needs no probe
        from .probe_input import ARROWS

        app = self.app
        if app.busy:
            app.notify("a step is being computed: press P again once it shows", title="probe")
            return
        app.pause()
        names = app.net.names
        form = f"{', '.join(names[0])} -> {', '.join(names[-1])}"
        example = f"{ARROWS[0]} and the target are optional: without them, the forward pass only"
        if self.softmax:
            example += f"; the target may be a class: {names[-1][0]} or 0"
        app.push_screen(ProbeScreen(form, example, self.offered()), self.take)

    def offered(self) -> str:
        """What the prompt starts with: the last point probed, else the selected sample of the
        step on screen (the first training sample before the first step)."""
        from .probe_input import probe_text as text_of

        app, names = self.app, self.app.net.names
        if self.typed is not None and _reads(self.typed, names, self.softmax):
            return self.typed
        rec = app.record
        if rec is not None and len(rec.x):
            k = min(app.selection.sample, len(rec.x) - 1)
            x, t = rec.x[k], rec.t[k]
        else:
            x, t = app.trainer.X[0], app.trainer.T[0]
        return text_of(x.tolist(), t.tolist(), names[-1], self.softmax)

    def take(self, text: str | None) -> None:
        """The typed point: probed and shown, or what is wrong with it notified."""
        if text is None or not text.strip():
            return  # escape, or nothing typed
        from .probe_input import read_probe

        app = self.app
        names = app.net.names
        try:
            read = read_probe(text, names[0], names[-1], self.softmax)
            record = self.compute(read.x, read.t)
        except ValueError as e:
            app.notify(str(e), title="probe", severity="warning", timeout=8)
            return
        self.typed = text.strip()
        self.show(record)
        app.notify(f"{probe_title(record)}: escape returns to the run", title="probe", timeout=4)

    def compute(self, x: Sequence[float], t: Sequence[float] | None) -> ProbeRecord:
        """The probe of the weights the run is at now (engine/probe.py)."""
        app = self.app
        trainer = app.trainer
        W, b = weights_now(trainer, app.net)
        epoch = int(getattr(trainer, "epoch", 1))
        penalty = getattr(trainer, "penalty", None)
        return probe(
            trainer.network,
            W,
            b,
            x,
            t,
            penalty=penalty,
            step=trainer.step_count,
            epoch=epoch,
            learning_rate=app.scenario.learning_rate,
        )

    def show(self, record: ProbeRecord | None) -> None:
        """Put ``record`` on every panel (None: the run again)."""
        self.probe = record
        self.app.draw_selection()

    def leave(self) -> bool:
        """Escape, a step, b, r, p, f: the run on the panels again. Whether a probe was shown."""
        if self.probe is None:
            return False
        self.show(None)
        return True

    def forget(self) -> None:
        """A record of the run is being drawn (app.show_record): the probe is gone."""
        self.probe = None

    def activity(self) -> str | None:
        """What the header says while a probe is on screen."""
        return None if self.probe is None else probe_title(self.probe, 60)


def _reads(text: str, names: Sequence[Sequence[str]], softmax: bool) -> bool:
    """Whether ``text`` is a point of this network (a reload may have changed its inputs)."""
    from .probe_input import read_probe

    try:
        read_probe(text, names[0], names[-1], softmax)
    except ValueError:
        return False
    return True


def weights_now(trainer: Stepper, net: NetInfo) -> tuple[Sequence[Array], Sequence[Array]]:
    """The weights and biases the run is at: a live Trainer's own, a recorded run's after the
    step it is at, the initial ones at step 0."""
    if isinstance(trainer, Trainer):
        return trainer.W, trainer.b
    rec = trainer.last_record
    if rec is None:
        return net.initial_W, net.initial_b
    return [lr.w for lr in rec.layers], [lr.b for lr in rec.layers]
