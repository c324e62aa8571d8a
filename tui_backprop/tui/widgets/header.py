"""The header: where the run is (scenario, step, epoch, batch, loss, learning rate, batch mode,
and a classifier's training- and test-set accuracy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.text import Text
from textual.widgets import Static

from ...common.escape import shown
from ...common.percent import percent
from ...common.words import count
from ...engine import StepRecord
from ...engine.optimizers import optimizer_for
from ...engine.phases import FULL, Reveal
from ...scenario.reader import Scenario
from .numbers import fmt, style

SHOWN_INDICES = 12


@dataclass(frozen=True)
class Status:
    name: str
    step: int
    max_steps: int
    epoch: int
    batch: tuple[int, ...] | None  # sample indices of the last step
    loss: float | None  # batch loss of the last step, before its update (None: not computed yet)
    train_loss: float  # training-set loss of the weights on screen
    learning_rate: float
    batch_mode: str
    loss_name: str
    activity: str  # "paused", "playing", "running 100 steps", "stopped: target_loss", ...
    rate: str  # the play rate, "10/s"
    selection: str  # what is selected, in words
    export: str | None = None  # the last trace written
    optimizer: str = ""  # the optimiser with its parameters, "Adam(lr=0.01, ...)"; "" for plain gd
    optimizer_short: str = ""  # the same with its learning rate only, for narrow screens
    before_update: bool = False  # a step taken by phases has not reached its update: train_loss is
    # the training-set loss before that step, the one its own forward pass starts from
    exporting: tuple[int, int] | None = None  # an export in progress: steps written, steps to write
    evaluate_every: int = 0  # the step on screen did not compute train_loss: it comes every K steps
    schedule: str = ""  # the learning-rate schedule's name ("cosine"), "" for a constant rate:
    # learning_rate is then the rate of the step on screen (the next step's before the first)
    # a classifier's training- and test-set accuracy of the weights on screen (shown_accuracies);
    # None: not a classifier (the test one: no test set); nan: a step that did not evaluate it
    accuracies: tuple[float | None, float | None] = (None, None)

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        record: StepRecord | None,
        initial_train_loss: float,
        activity: str,
        rate: str,
        selection: str,
        export: Path | None,
        reveal: Reveal = FULL,
        train_loss_before: float | None = None,
        exporting: tuple[int, int] | None = None,
        learning_rate: float | None = None,
        train_loss_now: float | None = None,
        accuracies: tuple[float | None, float | None] = (None, None),
    ) -> Status:
        """The status shown with ``record`` on screen (None: before the first step). ``reveal``:
        what of the record a step taken phase by phase has computed so far: its batch loss from
        the loss phase on, its training-set loss once the update is done; before that, the
        header shows ``train_loss_before``, the training-set loss before this step.
        ``learning_rate``: the rate of the next step, when < or > changed the scenario's;
        ``train_loss_now``: the training-set loss with the edits made since the step on screen."""
        before = record is not None and not reveal.update and train_loss_before is not None
        train_loss = record.train_loss if record else initial_train_loss
        if before and train_loss_before is not None:
            train_loss = train_loss_before
        if train_loss_now is not None:
            train_loss = train_loss_now
        lr = scenario.learning_rate if learning_rate is None else learning_rate
        return cls(
            name=shown(scenario.title),
            step=record.step if record else 0,
            max_steps=scenario.max_steps,
            epoch=record.epoch if record else 1,
            batch=record.batch if record else None,
            loss=record.loss if record and reveal.loss else None,
            train_loss=train_loss,
            evaluate_every=0 if record is None or record.evaluated else scenario.evaluate_every,
            before_update=before,
            exporting=exporting,
            # under a schedule, the rate the step on screen used; otherwise the rate of the next step
            learning_rate=lr if scenario.schedule == "constant" or record is None else record.learning_rate,
            schedule="" if scenario.schedule == "constant" else scenario.schedule,
            batch_mode=str(scenario.batch),
            loss_name=scenario.loss,
            activity=activity,
            rate=rate,
            selection=selection,
            export=display_path(export) if export else None,
            accuracies=accuracies,
            **_optimizer_texts(scenario, lr),
        )


class Accuracies(Protocol):
    """What shown_accuracies reads of a Trainer (or of a recorded run played back)."""

    @property
    def train_accuracies(self) -> Sequence[float]: ...
    @property
    def test_accuracies(self) -> Sequence[float]: ...
    @property
    def initial_train_accuracy(self) -> float | None: ...
    @property
    def initial_test_accuracy(self) -> float | None: ...


def shown_accuracies(
    run: Accuracies, record: StepRecord | None, updated: bool = True
) -> tuple[float | None, float | None]:
    """The accuracies of the weights on screen: the record's (``updated``: its update is
    shown), the step's before it while a step taken by phases has not reached its update, the
    initial ones before any step; (None, None) for a run that is not a classifier."""
    if record is not None and updated:
        return record.train_accuracy, record.test_accuracy
    k = 0 if record is None else record.step - 1  # the step whose weights are on screen
    if k <= 0 or k > len(run.train_accuracies):
        return run.initial_train_accuracy, run.initial_test_accuracy
    test = run.test_accuracies[k - 1] if k <= len(run.test_accuracies) else None
    return run.train_accuracies[k - 1], test


def _optimizer_texts(scenario: Scenario, lr: float) -> dict[str, str]:
    if scenario.optimizer == "gd":
        return {}
    opt = optimizer_for(scenario)
    opt.lr = lr  # the rate of the next step (< and >)
    return {"optimizer": str(opt), "optimizer_short": f"{type(opt).__name__}(lr={opt.lr:g})"}


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it, else as it is (also
    when that directory has been removed meanwhile)."""
    try:
        return shown(str(path.relative_to(Path.cwd())), None)
    except (ValueError, OSError):
        return shown(str(path), None)


def elide_path(path: str, room: int) -> str:
    """``path`` in at most ``room`` characters: the middle of its folder gives way to …, so that
    the file name stays whole (the name itself is cut at its start only when it alone is longer)."""
    if len(path) <= room:
        return path
    folder, sep, name = path.rpartition("/")
    if len(name) + 2 > room:  # no room for a folder: … stands for it, or for the name's start
        return "…" + name[max(len(name) - room + 1, 0) :] if room > 1 else "…"
    keep = room - len(name) - 2  # characters of the folder: "<head>…<tail>/<name>"
    head = (keep + 1) // 2
    return folder[:head] + "…" + folder[len(folder) - (keep - head) :] + sep + name


def batch_text(batch: tuple[int, ...]) -> str:
    if len(batch) <= SHOWN_INDICES:
        return "[" + " ".join(str(i) for i in batch) + "]"
    head = " ".join(str(i) for i in batch[: SHOWN_INDICES - 2])
    return f"[{head} … {batch[-1]}] ({len(batch)})"


def batch_words(mode: str) -> str:
    """The batch mode as the header says it: ``full batch``, ``one sample a step``, ``batches of 10``."""
    if mode == "full":
        return "full batch"
    if mode == "sample":
        return "one sample a step"
    return f"batches of {mode}"


def divergence_text(record: StepRecord) -> str:
    """The banner's words: ``diverged at step 7: the first non-finite value is delta[1][0, 2]``,
    or the training-set loss that blew up."""
    return f"diverged at step {record.step}: {record.divergence}"


def accuracy_item(accuracies: tuple[float | None, float | None], width: int) -> tuple[str, str]:
    """The label and value of a classifier's accuracies in a header ``width`` columns wide:
    ``accuracy 97.5% test 96.7%`` from 150 columns, ``acc 97.5% test 96.7%`` from 120 (an
    exported path keeps its room), ``acc 97.5%/96.7%`` below; – for a step that did not
    evaluate them."""
    train, test = accuracies
    label = "accuracy" if width >= 150 else "acc"
    if test is None:
        return label, percent(train)
    if width >= 120:
        return label, f"{percent(train)} test {percent(test)}"
    return label, f"{percent(train)}/{percent(test)}"


def number(x: float) -> tuple[str, str]:
    """A loss as text, and its style: non-finite values stand out."""
    return fmt(x).lstrip("+"), "bold" if math.isfinite(x) else "bad"


class Header(Static):
    """Two lines; below 120 columns the labels shorten so that both still fit."""

    _status: Status | None = None

    def show(self, status: Status) -> None:
        self._status = status
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        s = self._status
        if s is None:
            return
        # before the first layout the header has no size yet: it spans the screen, less its padding
        width = self.size.width or self.app.size.width - 2
        wide = width >= 120
        t = Text()

        def item(label: str, value: str, value_style: str = "bold") -> None:
            if label:
                t.append(f"{label} ", style("dim"))
            t.append(value, style(value_style))
            t.append("  ")

        item("", s.name)
        item("step", f"{s.step}/{s.max_steps}")
        item("epoch" if wide else "ep", str(s.epoch))
        item("batch", batch_text(s.batch) if s.batch else "–")
        if s.optimizer:
            item("", s.optimizer if wide else s.optimizer_short)
        if s.schedule:  # the rate the step on screen used, and the schedule that gave it
            item("lr", f"{s.learning_rate:.4g}" + (f" ({s.schedule})" if wide else ""))
        elif not s.optimizer:
            item("lr", f"{s.learning_rate:g}")
        item("", f"{batch_words(s.batch_mode)}, {s.loss_name}", "")
        t.append("\n")
        item("loss", *(number(s.loss) if s.loss is not None else ("–", "bold")))
        train, train_style = number(s.train_loss)
        if s.evaluate_every and not s.before_update:  # between evaluations: not computed, not nan
            train, train_style = (f"– (every {s.evaluate_every} steps)" if wide else "–"), "bold"
        if s.before_update:
            train += f" (before step {s.step})" if wide else " (before)"
        item(
            "train loss" if wide else "train",
            train + (" (initial)" if s.step == 0 and wide else ""),
            train_style,
        )
        if s.accuracies[0] is not None:
            item(*accuracy_item(s.accuracies, width))
        if s.activity == "playing":
            t.append(f"▶ playing {s.rate}  ", style("marked"))
        elif s.activity == "paused":
            t.append("■ paused" + (f" (p plays {s.rate})  " if wide else "  "), style("marked"))
        else:
            moving = s.activity.startswith(("running", "stepping", "replaying"))
            t.append(f"{'▶' if moving else '■'} {s.activity}  ", style("marked"))
        if s.step == 0:
            t.append("space: take the first step  ", style("bold"))
        if s.exporting is not None:
            done, total = s.exporting
            t.append(f"▶ exporting {done}/{count(total, 'step')}  ", style("marked"))
        item("selected" if wide else "", s.selection, "")
        if s.export and s.exporting is None:
            label = "exported" if wide else "saved"
            room = width - (len(t.plain) - t.plain.index("\n") - 1) - len(label) - 1
            item(label, elide_path(s.export, max(room, 12)), "")
        t.rstrip()  # the last item's trailing spaces would push a line that just fits past the edge
        self.update(t, layout=False)  # its height is fixed: no need to lay the screen out again
