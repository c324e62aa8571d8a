"""The progress bars of progress.py on a terminal, drawn by rich.progress (installed with Textual):

XOR  ━━━━━━━━━━━━━╸━━━━━━━━━━━━━  1,204/2,000 steps  48,310 steps/s  0:00:01 left  epoch 1,204  loss 0.08
"""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.table import Column
from rich.text import Text

from ..common.escape import shown
from .progress_lines import Tracked, current_loss

LABEL = 20  # characters of a run's name at most (then ...)
REDRAW = 0.1  # seconds: a bar takes a new count at most ten times a second


class _Steps(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{int(task.completed):,}/{int(task.total or 0):,}", style="progress.download")


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} steps/s" if speed else "- steps/s", style="progress.data.speed")


class _Left(ProgressColumn):
    """The time left at the current rate; the time taken once the run has ended."""

    def render(self, task: Task) -> Text:
        if task.finished or task.stop_time is not None:  # done, or stopped short of its total
            return Text(f"{_clock(task.finished_time or task.elapsed or 0)} taken", style="progress.elapsed")
        left = task.time_remaining
        text = f"{_clock(left)} left" if left is not None else "-:--:-- left"
        return Text(text, style="progress.remaining")


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02}:{s % 60:02}"


class Bars:
    """One rich Progress on ``stream``; a bar a run, kept on screen when the run ends."""

    def __init__(self, stream: TextIO) -> None:
        self.progress = Progress(
            TextColumn("{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=None),  # what the other columns leave: a few cells at 80 columns
            _Steps(table_column=Column(no_wrap=True)),
            _Rate(table_column=Column(no_wrap=True)),
            _Left(table_column=Column(no_wrap=True)),
            TextColumn("loss {task.fields[loss]}", table_column=Column(no_wrap=True)),
            console=Console(file=stream, highlight=False),
            expand=True,
            refresh_per_second=10,
            speed_estimate_period=10.0,
        )
        self.progress.start()

    def bar(self, label: str, total: int) -> RichBar:
        name = shown(label, LABEL)
        task = self.progress.add_task(escape(name), total=total, loss="-")
        return RichBar(self.progress, task)

    def close(self) -> None:
        self.progress.stop()


class RichBar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task
        self.last = 0.0

    def update(self, trainer: Tracked, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < REDRAW:
            return
        self.last = now
        self.progress.update(self.task, completed=trainer.step_count, loss=f"{current_loss(trainer):.4g}")
        if force:  # the run has ended: its clock stops, and the bar shows the time it took
            self.progress.stop_task(self.task)
            self.progress.refresh()
