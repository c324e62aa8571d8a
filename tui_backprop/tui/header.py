"""The header: where the run is (scenario, step, epoch, batch, loss, learning rate, batch mode)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from .matrices import fmt, style

SHOWN_INDICES = 12


@dataclass(frozen=True)
class Status:
    name: str
    step: int
    max_steps: int
    epoch: int
    batch: tuple[int, ...] | None  # sample indices of the last step
    loss: float | None  # batch loss of the last step, before its update
    train_loss: float  # training-set loss now
    learning_rate: float
    batch_mode: str
    loss_name: str
    activity: str  # "paused", "playing 10/s", "stopped: target_loss", ...
    selection: str  # what is selected, in words
    export: str | None = None  # the last trace written


def batch_text(batch: tuple[int, ...]) -> str:
    if len(batch) <= SHOWN_INDICES:
        return "[" + " ".join(str(i) for i in batch) + "]"
    head = " ".join(str(i) for i in batch[: SHOWN_INDICES - 2])
    return f"[{head} … {batch[-1]}] ({len(batch)})"


class Header(Static):
    def show(self, s: Status) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")

        def item(label: str, value: str, value_style: str = "bold") -> None:
            t.append(f"{label} ", style("dim"))
            t.append(value, style(value_style))
            t.append("  ")

        t.append(s.name, style("bold"))
        t.append("  ")
        item("step", f"{s.step}/{s.max_steps}")
        item("epoch", str(s.epoch))
        item("batch", batch_text(s.batch) if s.batch else "–")
        item("lr", f"{s.learning_rate:g}")
        item("mode", f"{s.batch_mode}, {s.loss_name}", "")
        t.append("\n")
        if s.loss is None:
            item("loss", "–")
        else:
            item("loss", fmt(s.loss).lstrip("+"))
        item("train loss", fmt(s.train_loss).lstrip("+") + (" (initial)" if s.step == 0 else ""))
        activity = s.activity
        t.append(
            f"{'▶' if activity.startswith(('playing', 'running')) else '■'} {activity}  ", style("marked")
        )
        if s.step == 0:
            t.append("space: take the first step  ", style("bold"))
        item("selected", s.selection, "")
        if s.export:
            item("exported", s.export, "")
        self.update(t, layout=False)  # its height is fixed: no need to lay the screen out again
