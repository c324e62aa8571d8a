"""The comparison view (``backprop-tui SCENARIO --vary TABLE.KEY=V1,V2,...``).

One chart overlays the training-set loss of every variant, one colour each with a legend;
beside it (below it on a narrow screen) a table gives each variant's steps, final loss,
steps to target_loss, whether it diverged and why it stopped: the rows of the headless
table (compare.table_rows), so the two cannot disagree.

State that tests read: ``app.trainers`` (one per variant), ``app.results``, ``app.playing``.
``app.state()`` is what the comparison keeps while a variant is open in the single-run view;
a CompareApp made with it carries on from there.

Threads: one step of each (space) runs on the UI thread. Play and "run to the end" run in
a thread worker (group "compare") that steps every variant still running by the same number
of steps under ``trainer_lock`` and posts a replaceable ``Progress``, so the screen shows
the newest state and keys keep working. ``o`` leaves with the selected variant's index,
which the command line opens in the single-run view (tui/variant_app.py) at the step reached
here; escape there opens the comparison again, made from ``state()``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, get_current_worker

from ..common.escape import shown
from ..engine import Trainer
from ..runs.vary import NUMERIC, Result, Variant, comparison_title, table_header, table_rows
from .control.keys import key_rows
from .panels.chart import OverlayChart, series_colour
from .screens.compare_help import CompareHelpScreen
from .widgets.palette import DEFAULT, current, use
from .widgets.plain import PlainNotifications, plain

RATES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, math.inf)
DEFAULT_RATE = RATES.index(20.0)
FRAME = 1 / 20  # at most this many updates of the screen a second
CHUNK_TIME = 0.02  # seconds of stepping between two checks for cancellation


@dataclass(frozen=True)
class CompareState:
    """A comparison as it was left: its trainers (as they are), the play rate, the chart's
    scale, the selected row and the variants whose divergence has been announced."""

    trainers: list[Trainer]
    rate_index: int
    log_scale: bool
    row: int
    announced: frozenset[int]


def step_all(trainers: Sequence[Trainer], k: int) -> int:
    """Up to ``k`` more steps of every trainer that has not stopped; how many steps were taken."""
    taken = 0
    for t in trainers:
        if not t.done:
            before = t.step_count
            t.run(k, record=False)
            taken += t.step_count - before
    return taken


class CompareApp(PlainNotifications[int | None]):
    """Returns (``app.return_value``) the index of the variant to open in the single-run view, or
    None; ``left`` is then the comparison as it was left."""

    TITLE = "backprop-tui: comparison"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    CSS = """
    #status { height: 2; padding: 0 1; background: $panel; }
    #body { layout: vertical; }
    .-wide #body { layout: horizontal; }
    #chart { border: round $primary; border-title-color: $text; height: 1fr; min-height: 10; }
    #table { border: round $primary; height: auto; max-height: 50%; }
    .-wide #table { width: auto; max-width: 60%; height: 1fr; max-height: 100%; }
    """

    BINDINGS = [
        Binding("space,n", "step", "Step each", tooltip="One step of every variant that is still running"),
        Binding("p", "play", "Play", tooltip="Play (every variant steps at the play rate) or pause"),
        Binding("plus,equals_sign", "faster", "Faster", show=False, tooltip="Play faster"),
        Binding("minus", "slower", "Slower", show=False, tooltip="Play slower"),
        Binding("f", "finish", "Run all", tooltip="Run every variant until it stops by itself"),
        Binding("r", "reset", "Reset", tooltip="Reset every variant to step 0"),
        Binding("l", "log_scale", "Log scale", tooltip="Loss chart: log scale on or off"),
        Binding(
            "o",
            "open",
            "Open",
            tooltip="Open the selected variant in the single-run view, at its step (escape there comes back)",
        ),
        Binding("question_mark", "help", "Help", tooltip="Help: every key and column"),
        Binding("q", "quit", "Quit", tooltip="Quit"),
    ]

    class Progress(Message):
        """From the stepping worker: the trainers have moved on; ``final`` when it has ended."""

        def __init__(self, generation: int, final: bool) -> None:
            super().__init__()
            self.generation, self.final = generation, final

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CompareApp.Progress) and not message.final

    def __init__(self, variants: Sequence[Variant], state: CompareState | None = None) -> None:
        """``state``: carry on from a comparison left by ``o`` (its ``state()``)."""
        super().__init__()
        self.variants = list(variants)
        self.key_name = self.variants[0].override.name
        if state is None:
            trainers = [Trainer(v.scenario, history=1) for v in self.variants]
            state = CompareState(trainers, DEFAULT_RATE, log_scale=True, row=0, announced=frozenset())
        self._resumed = state
        self.left: CompareState | None = None  # how o left it, to open it again like that
        self.trainers = state.trainers
        # the table's columns, by key: "value", "steps", "final loss", ("test loss",) "to target", ...
        self.columns = table_header(
            "value",
            any(t.initial_test_loss is not None for t in self.trainers),
            any(t.classifier is not None for t in self.trainers),
        )
        self.trainer_lock = threading.Lock()
        self.results: list[Result] = []
        self.playing = False
        self.activity = "paused"
        self.rate_index = state.rate_index
        self._generation = 0
        self._worker: Worker | None = None
        self._announced: set[int] = set(state.announced)  # the variants whose divergence has been notified

    @property
    def rate(self) -> float:
        return RATES[self.rate_index]

    def compose(self) -> ComposeResult:
        use(self.variants[0].scenario.palette)  # the file's palette: the runs' colours, the diverged rows
        yield Static(id="status")
        with Container(id="body"):
            chart = OverlayChart(id="chart")
            # log at first: losses of different settings are orders of magnitude apart
            chart.log_scale = self._resumed.log_scale
            chart.border_title = self._chart_title(chart.log_scale)
            yield chart
            table: DataTable = DataTable(id="table", cursor_type="row", zebra_stripes=True)
            table.border_title = plain(f"{len(self.variants)} variants of {self.key_name}")
            yield table
        yield Footer()

    def on_unmount(self) -> None:
        use(DEFAULT.name)  # the palette is the process's: the next app starts from its own

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="colour")
        for name in self.columns:
            table.add_column(Text(self.key_name.split(".")[-1] if name == "value" else name), key=name)
        for i in range(len(self.variants)):
            table.add_row(
                Text("━━", style=f"color({series_colour(i)})"), *([""] * len(self.columns)), key=str(i)
            )
        self._show()
        table.move_cursor(row=self._resumed.row, animate=False)
        table.focus()

    def state(self) -> CompareState:
        """The comparison as it is now (paused), for a CompareApp that carries on from it."""
        self._pause()
        return CompareState(
            self.trainers,
            self.rate_index,
            self.query_one(OverlayChart).log_scale,
            self.query_one(DataTable).cursor_row,
            frozenset(self._announced),
        )

    # -- drawing -------------------------------------------------------------------------------

    def _show(self) -> None:
        """Draw the trainers' state: the chart, the table and the status line."""
        with self.trainer_lock:
            self.results = [Result.of(v, t) for v, t in zip(self.variants, self.trainers, strict=True)]
            runs = [
                (self._legend(i), t.train_losses, t.initial_train_loss, t.step_count)
                for i, t in enumerate(self.trainers)
            ]
        with self.batch_update():
            self.query_one(OverlayChart).set_runs(runs)
            table = self.query_one(DataTable)
            rows = table_rows(self.key_name, self.results, running="-")[1:]
            for i, (row, r) in enumerate(zip(rows, self.results, strict=True)):
                style = current().diverged if r.diverged else ""
                for name, cell in zip(self.columns, row, strict=True):
                    text = Text(
                        cell.upper() if name == "diverged" and r.diverged else cell,
                        style=style,
                        justify="right" if name in NUMERIC else "left",
                    )
                    table.update_cell(str(i), name, text, update_width=True)
            # each column as wide as its widest cell now: DataTable measures them only when idle,
            # and a frame drawn before that keeps its cells cut to the old width (a diverged
            # row's 2.12652e+08 showed as 2.12652e+0 when it was the last update)
            for name, *cells in zip(self.columns, *rows, strict=True):
                column = table.columns[ColumnKey(name)]
                column.content_width = max(column.label.cell_len, *map(cell_len, cells))
            self._draw_status()

    def _legend(self, i: int) -> str:
        label = self.variants[i].label
        return f"{label} (diverged)" if self.trainers[i].stop_reason == "diverged" else label

    def _draw_status(self) -> None:
        running = sum(not r.stop_reason for r in self.results)
        steps = max((r.steps for r in self.results), default=0)
        if self.playing:
            activity = self.activity
        elif running == 0:
            activity = "every variant has stopped"
        else:
            activity = "paused"
        rate = "max speed" if math.isinf(self.rate) else f"{self.rate:g} steps/s"
        self.query_one("#status", Static).update(
            Text.assemble(
                (shown(comparison_title(self.variants)), "bold"),
                f"  comparing {self.key_name} = {', '.join(v.value for v in self.variants)}\n",
                f"step {steps}  ·  {running} of {len(self.variants)} running  ·  {activity}",
                f"  ·  play rate {rate}",
            )
        )

    # -- stepping ------------------------------------------------------------------------------

    def _pause(self) -> None:
        if self._worker is None:
            return
        self._worker.cancel()
        with self.trainer_lock:  # waits for the chunk in progress
            self._worker = None
            self._generation += 1
            self.playing = False
        self._show()

    def _all_stopped(self) -> bool:
        if all(t.done for t in self.trainers):
            self.notify("every variant has stopped: r resets", title="stopped", severity="warning")
            return True
        return False

    def action_step(self) -> None:
        self._pause()
        if self._all_stopped():
            return
        with self.trainer_lock:
            step_all(self.trainers, 1)
        self._show()
        self._announce_divergence()

    def action_play(self) -> None:
        if self.playing:
            self._pause()
        else:
            self._start(play=True)

    def action_finish(self) -> None:
        self._start(play=False)

    def action_faster(self) -> None:
        self.rate_index = min(self.rate_index + 1, len(RATES) - 1)
        self._draw_status()

    def action_slower(self) -> None:
        self.rate_index = max(self.rate_index - 1, 0)
        self._draw_status()

    def action_reset(self) -> None:
        self._pause()
        with self.trainer_lock:
            for t in self.trainers:
                t.reset()
        self._announced.clear()
        self._show()

    def action_log_scale(self) -> None:
        chart = self.query_one(OverlayChart)
        chart.set_log_scale(not chart.log_scale)
        chart.border_title = self._chart_title(chart.log_scale)

    def _chart_title(self, log: bool) -> Content:
        return plain(f"training-set loss by {self.key_name}" + (" (log scale)" if log else ""))

    def key_help(self) -> list[tuple[str, str, str]]:
        """(action, keys, explanation) for every action: the help screen and the command palette."""
        return key_rows(self.BINDINGS, self.get_key_display)

    def action_help(self) -> None:
        if isinstance(self.screen, CompareHelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(CompareHelpScreen([(keys, text) for _, keys, text in self.key_help()]))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for action, keys, explanation in self.key_help():
            if action != "quit":
                yield SystemCommand(explanation, f"key: {keys}", partial(self._command, action))

    async def _command(self, action: str) -> None:
        if action != "help" and isinstance(self.screen, CompareHelpScreen):
            self.pop_screen()
        await self.run_action(action)

    def action_open(self) -> None:
        self.left = self.state()
        self.exit(self.left.row)

    def _start(self, play: bool) -> None:
        self._pause()
        if self._all_stopped():
            return
        self._generation += 1
        self.playing = True
        self.activity = "playing" if play else "running every variant to its end"
        self._worker = self._stepping(self._generation, play)
        self._draw_status()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _stepping(self, generation: int, play: bool) -> None:
        worker = get_current_worker()
        started, done, chunk, shown = time.monotonic(), 0, 1, 0.0
        try:
            while not worker.is_cancelled:
                k = chunk
                rate = self.rate if play else math.inf
                if not math.isinf(rate):  # steps due at this rate, counted from the start
                    k = min(int((time.monotonic() - started) * rate) - done, chunk)
                    if k <= 0:
                        time.sleep(min(1 / rate, 0.05))
                        continue
                with self.trainer_lock:
                    if worker.is_cancelled:
                        return
                    t0 = time.perf_counter()
                    step_all(self.trainers, k)
                    elapsed = time.perf_counter() - t0
                    finished = all(t.done for t in self.trainers)
                done += k
                chunk = max(1, int(CHUNK_TIME * k / max(elapsed, 1e-6)))
                if finished:
                    break
                if time.monotonic() - shown >= FRAME:
                    self.post_message(self.Progress(generation, final=False))
                    shown = time.monotonic()
        except Exception as e:  # a bug in a step is a notification, never a crash
            self.call_from_thread(self.notify, f"{type(e).__name__}: {e}", title="error", severity="error")
        self.post_message(self.Progress(generation, final=True))

    @on(Progress)
    def _on_progress(self, message: Progress) -> None:
        if message.generation != self._generation:
            return
        if message.final:
            self._worker, self.playing = None, False
        self._show()
        self._announce_divergence()

    def _announce_divergence(self) -> None:
        """A notification, once, for each variant that has diverged."""
        for i, r in enumerate(self.results):
            if r.diverged and i not in self._announced:
                self._announced.add(i)
                self.notify(
                    f"{self.variants[i].label} diverged at step {r.steps}: its curve ends there",
                    title="diverged",
                    severity="warning",
                )
