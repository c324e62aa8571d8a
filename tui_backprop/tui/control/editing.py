"""The edit keys (=, <, >, k) and the clicks on the boundary panel: a number of the run, or its
training data, changed between two steps.

    =       weight mode: asks for a new W[l][j,i] (or b[l][j], the bias column); sample mode: a
            new input value of the selected sample (``x2 = 0.5``, or a number for the input shown)
    < >     halve or double the learning rate η from the next step
    click   on the boundary panel (two-input networks): a training point of the class ``k`` chose
            (at first the selected sample's) at the centre of the cell; on a point: that point
            removed
    k       the next class for the points a click adds

Each change is an edit of the engine (``Trainer.edit``, engine/edits.py), made under the trainer's
lock once the stepping worker is paused: the trainer keeps it (the step, what, old and new), b
takes it back before any step, r drops it with the rest, and an export writes it in the trace.
A replay's recorded run takes no edit (c continues it live first), nor does a run that stopped by
itself, nor a step taken halfway by phases.

Between an edit and the next step the panels show the last step's record as it was computed; the
line under the header lists the edits made since (``edits_text``), the explain panel begins with
them, the header shows the learning rate and the training-set loss with them, the chart's last
training-set loss is the one with them, and the boundary panel draws the edited weights and data.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple, Protocol

import numpy as np
from textual.screen import Screen

from ...common.escape import shown
from ...engine import Edit, Point, StepRecord, Trainer
from ...engine.edits import RESIZES
from ...engine.phases import Reveal
from ...scenario.toml_text import read_number
from ..netinfo import NetInfo
from ..widgets.palette import marker
from .play import Stepper
from .selection import Selection

MAX_CLASSES = 10  # one output with more distinct targets than this: a regression, its two ends

# the data of a run with [data] features is the raw points; its network's inputs are made from them
FEATURES_DATA = (
    "the data of a run with [data] features cannot be edited: its network's inputs are features of "
    "x1, x2, not numbers of their own (weights, biases and the learning rate can)"
)


class Target(NamedTuple):
    """What ``=`` changes: Trainer.edit's arguments, and the words for it."""

    what: str  # "weight", "bias" or "input"
    layer: int | None
    place: tuple[int, ...]  # Trainer.edit's index
    label: str  # "W[1][0,1] x2→h1", "x[3] x2 (sample #3)"
    old: float


class EditHost(Protocol):
    """What the edit keys use of the app."""

    trainer: Stepper
    trainer_lock: threading.Lock
    record: StepRecord | None
    reveal: Reveal
    selection: Selection
    net: NetInfo

    def pause(self) -> None: ...
    def edited(self, edit: Edit) -> None: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...
    def push_screen(self, screen: Screen[Any], callback: Any = ...) -> Any: ...


def number(x: Any) -> str:
    """A value in an edit's words: short, every digit a reader needs to tell it apart (%.6g)."""
    return f"{float(x):.6g}"


def point_classes(T: np.ndarray) -> list[tuple[float, ...]]:
    """The classes a click may add, as target rows, from the scenario's targets T (N, n_L): one
    output, its distinct targets (0 and 1, -1 and 1), or only the lowest and highest when there
    are more than MAX_CLASSES (a regression); several, one one-hot row a node."""
    n_out = T.shape[1]
    if n_out > 1:
        return [tuple(float(k == c) for k in range(n_out)) for c in range(n_out)]
    values = np.unique(T[:, 0])
    if len(values) > MAX_CLASSES:
        values = values[[0, -1]]
    return [(float(v),) for v in values]


def class_words(net: NetInfo, targets: Sequence[float]) -> str:
    """``y=1`` (one output) or ``■ versicolor`` (several: the class's marker on the boundary)."""
    names = net.names[-1]
    if len(targets) == 1:
        return f"{names[0]}={number(targets[0])}"
    k = int(np.argmax(targets))
    return f"{marker(k)} {names[k]}"


def edit_text(edit: Edit, net: NetInfo) -> str:
    """An edit in the app's words: ``W[1][0,1] x2→h1 -0.830682 → 1``, ``η 2 → 1``,
    ``point #4 added at (0.5, 0.25), y=1``, ``point #2 removed``."""
    if edit.what in ("weight", "bias"):
        assert edit.layer is not None
        j = edit.index[0]
        i = edit.index[1] if edit.what == "weight" else net.layers[edit.layer - 1]
        return f"{net.weight_label(edit.layer, j, i)} {number(edit.old)} → {number(edit.new)}"
    if edit.what == "input":
        k, i = edit.index
        return f"x[{k}] {net.names[0][i]} of sample #{k} {number(edit.old)} → {number(edit.new)}"
    if edit.what == "learning_rate":
        return f"η {number(edit.old)} → {number(edit.new)}"
    if edit.what == "add_point":
        assert isinstance(edit.new, Point)
        at = ", ".join(number(v) for v in edit.new.inputs)
        return f"point #{edit.index[0]} added at ({at}), {class_words(net, edit.new.targets)}"
    return f"point #{edit.index[0]} removed"


def edits_now(trainer: Stepper) -> tuple[Edit, ...]:
    """The edits made since the step on screen (none for a replay's recorded run)."""
    edits: tuple[Edit, ...] = getattr(trainer, "edits", ())
    return tuple(e for e in edits if e.step == trainer.step_count)


def edits_text(edits: Sequence[Edit], net: NetInfo, step: int) -> str:
    """What changed since the step on screen, in a line (empty: nothing)."""
    if not edits:
        return ""
    shown_edits = [edit_text(e, net) for e in edits[-3:]]
    more = f"{len(edits)} edits, the last 3: " if len(edits) > 3 else ""
    since = f"after step {step}" if step else "before step 1"
    return f"✎ edited {since}: {more}{'; '.join(shown_edits)}"


AFTER = "the next step starts from them; b takes back the last"  # said after edits_text


class Editing:
    """The edit keys of one app."""

    def __init__(self, app: EditHost) -> None:
        self.app = app
        self.new_class: int | None = None  # the class a click adds (k); None: the selected sample's

    # -- whether the run takes an edit now ----------------------------------------------------

    def _trainer(self, what: str) -> Trainer | None:
        """The live trainer, paused, when it takes an edit now; else None, the reason notified."""
        app = self.app
        app.pause()
        t = app.trainer
        why = None
        if not isinstance(t, Trainer):
            why = f"a replay shows a recorded run: c continues it live from the step on screen, then {what}"
        elif not app.reveal.update:
            why = f"a step is taken by phases: space completes it, then {what}"
        elif t.done:
            why = f"the run has stopped ({t.stop_reason}): b steps back, then {what}"
        if why is not None:
            app.notify(why, title="edit", severity="warning")
            return None
        assert isinstance(t, Trainer)
        return t

    def _edit(
        self, t: Trainer, what: str, new: Any = None, layer: int | None = None, index: Sequence[int] = ()
    ) -> None:
        try:
            with self.app.trainer_lock:
                edit = t.edit(what, new, layer=layer, index=index)
        except ValueError as e:
            self.app.notify(shown(str(e)), title="edit", severity="warning")
            return
        self.app.edited(edit)

    # -- = -----------------------------------------------------------------------------------

    def ask(self) -> None:
        """=: ask for a new value of the selected number."""
        t = self._trainer("= edits")
        if t is None:
            return
        target = self.target(t)
        if target is None:
            return
        if target.what == "input":
            k = target.place[0]
            inputs = ", ".join(
                f"{n} = {number(v)}" for n, v in zip(self.app.net.names[0], t.X[k], strict=True)
            )
            prompt = (
                f"new input of sample #{k} ({inputs}); type a number for {target.label}, or name = value:"
            )
        else:
            prompt = f"new value of {target.label} (now {number(target.old)}), as a scenario file writes one:"
        from ..screens.value import ValueScreen  # here: the first screen needs no prompt

        self.app.push_screen(ValueScreen(prompt, repr(target.old)), partial(self._typed, t, target))

    def target(self, t: Trainer) -> Target | None:
        """What = changes for the selection; None (notified) when it is nothing editable."""
        app, sel, net = self.app, self.app.selection, self.app.net
        if sel.mode == "weight":
            layer, j, i = sel.layer, sel.j, sel.i
            label = net.weight_label(layer, j, i).split(" ")[0]
            if sel.is_bias(net.layers):
                return Target("bias", layer, (j,), label, float(t.b[layer - 1][j]))
            return Target("weight", layer, (j, i), label, float(t.W[layer - 1][j, i]))
        if sel.mode == "sample":
            if t.features is not None:
                app.notify(FEATURES_DATA, title="edit", severity="warning")
                return None
            k = self.selected_sample(t)
            if k is None:
                return None
            i = sel.node if sel.node_layer == 0 else 0  # the input selected in node mode, else the first
            return Target("input", None, (k, i), f"{net.names[0][i]}", float(t.X[k, i]))
        app.notify(
            "= edits a weight or a bias (weight mode) or an input of the selected sample (sample mode); "
            "a node holds no number of its own: tab switches the mode",
            title="edit",
            severity="warning",
        )
        return None

    def selected_sample(self, t: Trainer) -> int | None:
        """The training sample the selection stands for (its row of X); None (notified) when the
        samples changed since the step on screen, whose batch the selection counts in."""
        rec, sel = self.app.record, self.app.selection
        if rec is not None and any(e.what in RESIZES for e in edits_now(t)):
            self.app.notify(
                f"the training set changed after step {rec.step}: take a step, then select a sample",
                title="edit",
                severity="warning",
            )
            return None
        k = rec.batch[sel.sample] if rec is not None else sel.sample
        return k if k < len(t.X) else None

    def _typed(self, t: Trainer, target: Target, text: str | None) -> None:
        if text is None or not text.strip():
            return  # escape, or nothing typed
        index = target.place
        if target.what == "input" and "=" in text:
            name, _, text = text.partition("=")
            names = self.app.net.names[0]
            if name.strip() not in names:
                known = ", ".join(names)
                self.app.notify(
                    f"{shown(name.strip())!r} is not an input of the network ({known})",
                    title="edit",
                    severity="warning",
                )
                return
            index = (index[0], names.index(name.strip()))
        try:
            new = read_number(text)
        except ValueError as e:
            self.app.notify(f"nothing changed: {e}", title="edit", severity="warning")
            return
        if t is not self.app.trainer:  # the run was replaced (R) while the prompt was open
            return
        self._edit(t, target.what, new, target.layer, index)

    # -- < and > -------------------------------------------------------------------------------

    def scale_rate(self, factor: float) -> None:
        """< and >: the learning rate times ``factor`` from the next step."""
        t = self._trainer("< and > change the learning rate")
        if t is None:
            return
        new = t.base_learning_rate * factor
        if not math.isfinite(new) or new <= 0:
            self.app.notify(
                f"η = {number(t.base_learning_rate)} cannot go further", title="edit", severity="warning"
            )
            return
        self._edit(t, "learning_rate", new)

    # -- clicks on the boundary, and k -----------------------------------------------------------

    def classes(self) -> list[tuple[float, ...]]:
        return point_classes(np.asarray(self.app.trainer.scenario.targets, dtype=float))

    def current_class(self) -> int:
        """The class a click adds: the one k chose, else the selected sample's (the first class
        when its target is none of them)."""
        classes = self.classes()
        if self.new_class is not None:
            return self.new_class % len(classes)
        t, rec, sel = self.app.trainer, self.app.record, self.app.selection
        target = rec.t[sel.sample] if rec is not None else t.T[min(sel.sample, len(t.T) - 1)]
        distances = [float(np.abs(np.asarray(c) - target).sum()) for c in classes]
        return int(np.argmin(distances))

    def next_class(self) -> None:
        """k: the next class for the points a click adds."""
        if self.app.net.layers[0] != 2:
            self.app.notify(
                "points are added by clicks on the decision boundary (8), which networks of 2 inputs have",
                title="points",
                severity="warning",
            )
            return
        classes = self.classes()
        self.new_class = (self.current_class() + 1) % len(classes)
        words = class_words(self.app.net, classes[self.new_class])
        self.app.notify(f"a click on the boundary panel adds a point of class {words}", title="points")

    def clicked(self, point: tuple[float, float], sample: int | None) -> None:
        """A click on the boundary panel at ``point``: remove the point drawn there (``sample``),
        or add one of the current class."""
        t = self._trainer("a click adds or removes a point")
        if t is None:
            return
        if t.features is not None:
            self.app.notify(FEATURES_DATA, title="points", severity="warning")
            return
        if sample is not None:
            self._edit(t, "remove_point", index=(sample,))
            return
        classes = self.classes()
        self._edit(t, "add_point", Point(point, classes[self.current_class()]))
