"""BackpropApp: owns the Trainer, the keys and their actions, the stepping worker and export.

State that tests and benchmarks can read: ``app.trainer``, ``app.record`` (the StepRecord
on screen, None at step 0), ``app.selection``, ``app.playing``, ``app.rate``,
``app.last_export_path`` and ``app.exporting``.

Threads: single steps, step back and reset run on the UI thread for a small network and, for a
big one (tui/control/step_queue.py), in a thread worker (``app.busy``), keys pressed meanwhile queueing
up in ``app.pending`` (bounded). Play and "+100 / +1000 steps" run in one thread worker (group
"trainer") that steps under ``app.trainer_lock`` in chunks and posts ``Progress`` messages
with the newest record; a Progress may replace an older one still queued, so the screen
draws the newest record, never a backlog. Any key that changes the trainer first pauses
that worker (``pause``). Export replays the run in a second worker (group "export") and
never touches the live trainer; it checks for cancellation before each step, so that quitting
the app (q, or SIGTERM when ``quit_on_sigterm``) mid-export removes its temporary file. R reads
the scenario file in a third worker (tui/control/reload.py).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.containers import Container, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from ..common.errors import BackpropError
from ..common.words import count
from ..engine import StepRecord, Trainer
from ..engine.phases import FULL, Reveal
from ..engine.trainer import HISTORY_STEPS
from ..scenario.notation import vocabulary
from ..scenario.reader import Scenario
from ..trace.folder import ExportFolder
from ..trace.paths import choose_export_path
from ..trace.writer import ExportCancelled, trace_size, write_trace
from ..tutor.check import Result
from .control.export_notes import ExportNotes
from .control.keys import BINDINGS, key_rows
from .control.phases import Phases, phase_activity
from .control.play import Runner, Stepper, current_record
from .control.quiz import Checked, Quiz
from .control.reload import Reloader, ScenarioRead, ScenarioSource
from .control.selection import GOTO_FORMS, Selection
from .control.signals import quit_on_sigterm
from .control.step_queue import Outcome, Pending, apply, busy_text, in_background
from .netinfo import NetInfo, about
from .panels.base import Panel
from .panels.boundary import BoundaryPanel, ChartCell
from .panels.chart import LossChart, chart_title
from .panels.explain import ExplainPanel
from .panels.grids import BackwardPanel, ForwardPanel, GradientsPanel, WeightsPanel
from .panels.network import NetworkView
from .screens.answer import AnswerScreen
from .screens.export_question import CONFIRM_BYTES, ExportConfirmScreen, advice
from .screens.goto import GotoScreen
from .screens.help import HelpScreen
from .screens.neuron import NeuronScreen
from .widgets.footer import AppFooter
from .widgets.header import Header, Status, display_path, divergence_text
from .widgets.plain import PlainNotifications, plain
from .widgets.stats import WARM_SIZE, warm
from .widgets.warnings_bar import WarningsBar

RATES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 10000.0, math.inf)
DEFAULT_RATE = RATES.index(10.0)


ExportProgress = Callable[[int, int], None]  # (steps written, steps to write)


def no_progress(done: int, total: int) -> None:
    pass


def rate_text(rate: float) -> str:
    return "at max speed" if math.isinf(rate) else f"{rate:g}/s"


class MainScreen(Screen):
    # a zoomed panel keeps the header, the banner and the footer around it
    ALLOW_IN_MAXIMIZED_VIEW = "#top, Footer"


class BackpropApp(PlainNotifications[None]):
    CSS_PATH = "app.tcss"
    TITLE = "backprop-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (28, "-tall")]

    BINDINGS = BINDINGS  # tui/control/keys.py: the footer, the help screen and the command palette

    class Progress(Message):
        """From the stepping worker: the newest record; ``final`` when the worker has ended."""

        def __init__(self, generation: int, record: StepRecord | None, final: bool) -> None:
            super().__init__()
            self.generation, self.record, self.final = generation, record, final

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, BackpropApp.Progress)

    class Applied(Message):
        """From the worker of single steps: what they did."""

        def __init__(self, generation: int, outcome: Outcome) -> None:
            super().__init__()
            self.generation, self.outcome = generation, outcome

    class Exported(Message):
        """From the export worker: the file written (None: it failed), and what to say."""

        def __init__(self, path: Path | None, detail: str) -> None:
            super().__init__()
            self.path, self.detail = path, detail

    def __init__(
        self,
        scenario: Scenario,
        export_path: Path | None = None,
        history: int = HISTORY_STEPS,
        background_steps: bool | None = None,
        trainer: Stepper | None = None,
    ) -> None:
        """``history``: steps that step back takes from memory (further back it replays);
        ``background_steps``: single steps in a worker (None: when a step is expensive);
        ``trainer``: what the keys step, a Trainer of ``scenario`` unless given (a replay's)."""
        super().__init__()
        self.scenario = scenario
        self.scenario_source = ScenarioSource.of(scenario)  # what R reads again (the CLI sets --set)
        self._history = history
        self.trainer: Stepper = trainer if trainer is not None else Trainer(scenario, history=history)
        self.trainer_lock = threading.Lock()
        self.net = NetInfo.build(scenario, self.trainer.initial_W, self.trainer.initial_b)
        self.record: StepRecord | None = None
        self.reveal: Reveal = FULL  # the part of the record computed, when stepping by phases
        self.notation: str = scenario.notation  # notation.NOTATIONS, switched by v
        self.selection = Selection()
        self.playing = False
        self.activity = "paused"
        self.rate_index = DEFAULT_RATE
        self.export_path = export_path
        self.last_export_path: Path | None = None
        self.exporting = False
        self.export_progress = (0, 0)  # steps written and to write, while exporting
        self.export_notes: ExportNotes | None = None  # a long export's progress notifications
        self.force_export = False  # --force: an export overwrites a regular file at its path
        self._written: set[Path] = set()  # traces this session wrote: the only files it overwrites
        self.export_folder: ExportFolder | None = None  # served: exports only there, within caps
        self.reloader = Reloader(self)  # R (tui/control/reload.py)
        self.quit_on_sigterm = False  # the command line sets it: SIGTERM quits as q does
        self._undo_sigterm = lambda: None
        self._generation = 0  # bumped whenever the screen stops listening to a worker
        self._worker: Worker | None = None
        self._draw_seconds = 0.0  # moving average of the time show_record takes during a run
        if background_steps is None:  # a recorded run steps at once; a replay's continuation says
            background_steps = isinstance(self.trainer, Trainer) and in_background(self.trainer)
        self.background_steps = background_steps
        self.phases = Phases(self)  # v, s and x (tui/control/phases.py)
        self.checked = Checked()  # the learner's graded numbers (--answers, a): tui/control/quiz.py
        self.quiz = Quiz(self)  # a
        self.pending = Pending()  # single-step keys pressed while the worker applies others
        self.busy = False  # that worker runs

    @property
    def rate(self) -> float:
        return RATES[self.rate_index]

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        net = self.net
        with Vertical(id="top"):
            yield Header(id="header")
            yield Static(id="banner")
            yield WarningsBar(id="warnings")
        with Container(id="panels"):
            yield NetworkView(net, "1", id="network")
            yield ForwardPanel(net, "2", id="forward")
            yield ExplainPanel(
                net,
                "7",
                id="explain",
                update_biases=self.scenario.update_biases,
                about=about(self.scenario),
                digits=self.scenario.digits,
            )
            with ChartCell(id="chart-cell"):  # the decision boundary beside the chart (2 inputs only)
                chart = LossChart(id="chart")
                chart.test_legend = self.trainer.X_test is not None
                chart.border_title = chart_title(chart.test_legend)
                yield chart
                t = self.trainer
                yield BoundaryPanel(net, t.network, t.X, t.T, "8", id="boundary")
            yield BackwardPanel(net, "3", id="backward")
            yield GradientsPanel(net, "4", id="gradients")
            yield WeightsPanel(net, "5", id="weights")
        yield AppFooter()

    def on_mount(self) -> None:
        for panel in self.query(Panel):
            panel.answered = self.checked.cells
        self.query_one(ExplainPanel).checked_lines = self.checked.lines
        # the trainer's step: 0 for a new run; a variant's trainer from the comparison is further on
        self.show_record(current_record(self.trainer))
        self.phases.apply_notation()
        if self.quit_on_sigterm:
            self._undo_sigterm = quit_on_sigterm(self)

    def on_unmount(self) -> None:
        self._undo_sigterm()

    def on_resize(self, event: events.Resize) -> None:
        footer = self.query_one(AppFooter)  # at 80 columns every key of the footer still fits
        footer.compact = event.size.width < 120
        palette = event.size.width >= 100  # below, ctrl+p works all the same
        changed = footer.hidden(footer.width) != footer.hidden(event.size.width)  # footer.WIDE_ONLY
        footer.width = event.size.width
        if footer.show_command_palette != palette or changed:
            footer.show_command_palette = palette
            footer.refresh(recompose=True)

    # -- drawing -----------------------------------------------------------------------------

    def show_record(self, record: StepRecord | None, reveal: Reveal = FULL) -> None:
        """Draw ``record`` (None: step 0) on every panel; ``reveal``: what of it is computed
        when a step is taken phase by phase."""
        self.record, self.reveal = record, reveal
        self.selection = self.selection.with_sample(self.selection.sample, len(record.batch) if record else 1)
        t = self.trainer
        with self.batch_update():
            for panel in self.query(Panel):
                panel.show(record, self.selection, reveal)
            steps = (record.step if record else 0) - (0 if reveal.update else 1)
            self.query_one(LossChart).set_losses(
                t.losses, t.train_losses, t.initial_train_loss, steps, t.test_losses, t.initial_test_loss
            )
            self._draw_header()
            banner = self.query_one("#banner", Static)
            diverged = record is not None and record.diverged
            if record is not None and record.diverged:
                banner.update(plain("✖ " + divergence_text(record)))
            if banner.display != diverged:
                banner.display = diverged
            self.query_one(WarningsBar).show(record, self.net)

    def draw_selection(self) -> None:
        with self.batch_update():
            for panel in self.query(Panel):
                panel.show(self.record, self.selection, self.reveal)
            self._draw_header()

    def status_activity(self) -> str:
        """What the header says the app is doing: playing, paused, stopped: ..."""
        rec = self.record
        if self.playing:
            return self.activity
        if phase := phase_activity(self.reveal):
            return phase
        if self.busy:
            return busy_text(self.pending)
        if rec is not None and rec.stop_reason:
            return f"stopped: {rec.stop_reason}"
        return "paused"

    def _draw_header(self) -> None:
        rec = self.record
        self.query_one(Header).show(
            Status.of(
                self.scenario,
                rec,
                initial_train_loss=self.trainer.initial_train_loss,
                activity=self.status_activity(),
                rate=rate_text(self.rate),
                selection=self.net.selection_label(self.selection, rec),
                export=self.last_export_path,
                reveal=self.reveal,
                train_loss_before=self._train_loss_before(rec),
                exporting=self.export_progress if self.exporting else None,
            )
        )

    def _train_loss_before(self, rec: StepRecord | None) -> float | None:
        """While a step taken by phases has not reached its update: the training-set loss
        before it, which the step before it left (the trainer keeps them all), or the initial
        one before step 1. None otherwise."""
        if rec is None or self.reveal.update:
            return None
        t = self.trainer
        if rec.step < 2:
            return t.initial_train_loss
        losses = t.train_losses
        return losses[rec.step - 2] if rec.step - 2 < len(losses) else None

    # -- stepping ----------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop the stepping worker, if one runs, and draw the trainer's state."""
        if self._worker is None:
            return
        self._worker.cancel()
        with self.trainer_lock:  # waits for the chunk (or the single step) in progress
            self._worker = None
            self._generation += 1
            self.playing = self.busy = False
            self.pending.clear()
            record = current_record(self.trainer)
        self.show_record(record)

    def say_if_stopped(self) -> bool:
        """Notify and say so when the run has stopped by itself."""
        if not self.trainer.done:
            return False
        self.notify(
            f"the run has stopped ({self.trainer.stop_reason}): b steps back, r resets",
            title="stopped",
            severity="warning",
        )
        return True

    def action_step(self) -> None:
        if self.phases.complete():
            return
        self._single("step")

    def action_substep(self) -> None:
        self.phases.substep()

    def action_notation(self) -> None:
        self.phases.switch_notation()

    def action_toggle_explain(self) -> None:
        self.phases.toggle_explain()

    def action_step_back(self) -> None:
        self._single("back")

    def action_reset(self) -> None:
        self._single("reset")

    def _single(self, kind: str) -> None:
        """One step, step back or reset: at once, or queued while the worker applies others."""
        if self.busy:
            if self.pending.push(kind):
                self._draw_header()
            return
        self.pause()
        if kind == "step" and self.say_if_stopped():
            return
        if kind == "back" and self.trainer.step_count == 0:
            self.notify("already at step 0", severity="information")
            return
        if kind == "back" and self.trainer.undo_replays and not self.background_steps:
            # beyond the steps kept in memory, step back replays from the start: off the UI thread
            self._start(None, "stepping back (replaying)", undo=True)
        elif self.background_steps:
            self.apply_in_worker([(kind, 1)])
        else:
            self._applied(apply(self.trainer, [(kind, 1)]))

    def apply_in_worker(self, ops: list[tuple[str, int]]) -> None:
        self._generation += 1
        self.busy = True
        self.pending.began(ops)
        self._worker = self._applying(self._generation, ops)
        self._draw_header()

    @work(thread=True, exclusive=True, group="trainer", exit_on_error=False)
    def _applying(self, generation: int, ops: list[tuple[str, int]]) -> None:
        worker = get_current_worker()
        with self.trainer_lock:
            try:
                outcome = apply(self.trainer, ops, lambda: worker.is_cancelled)
            except Exception as e:  # as in _stepping: say it, never crash
                self.call_from_thread(self.notify, f"{type(e).__name__}: {e}", severity="error")
                outcome = Outcome(current_record(self.trainer))
        warm(outcome.record, WARM_SIZE)
        self.post_message(self.Applied(generation, outcome))

    @on(Applied)
    def _on_applied(self, message: Applied) -> None:
        if message.generation != self._generation:
            return  # from a worker the screen no longer follows (pause)
        self._worker, self.busy = None, False
        self.pending.ended()
        self._applied(message.outcome)
        if self.pending.runs:
            self.apply_in_worker(self.pending.take())

    def _applied(self, outcome: Outcome) -> None:
        if outcome.stopped:
            self.say_if_stopped()
        if outcome.at_zero:
            self.notify("already at step 0", severity="information")
        self.show_record(outcome.record, self.phases.first_phase(outcome.record))
        if outcome.ended:
            self.announce(outcome.record)

    def action_play(self) -> None:
        if self.playing:
            self.pause()
            return
        self._start(None, "playing")

    def action_run(self, steps: int) -> None:
        self._start(int(steps), f"running {count(int(steps), 'step')}")

    def action_faster(self) -> None:
        self._set_rate(self.rate_index + 1)

    def action_slower(self) -> None:
        self._set_rate(self.rate_index - 1)

    def _set_rate(self, index: int) -> None:
        self.rate_index = max(0, min(index, len(RATES) - 1))
        self._draw_header()

    def _start(self, steps: int | None, activity: str, undo: bool = False) -> None:
        self.pause()
        if not undo and self.say_if_stopped():
            return
        self._generation += 1
        self.playing, self.activity = True, activity
        self._worker = self._stepping(self._generation, steps, undo)
        self._draw_header()

    @work(thread=True, exclusive=True, group="trainer", exit_on_error=False)
    def _stepping(self, generation: int, steps: int | None, undo: bool) -> None:
        worker = get_current_worker()

        def publish(record: StepRecord | None, final: bool) -> None:
            if self.background_steps:  # a big network: its display statistics, off the UI thread
                warm(record, WARM_SIZE)
            self.post_message(self.Progress(generation, record, final))

        try:
            if undo:
                with self.trainer_lock:
                    if not worker.is_cancelled:
                        publish(self.trainer.undo(), True)
                return
            rate = (lambda: self.rate) if steps is None else (lambda: math.inf)
            runner = Runner(self.trainer, self.trainer_lock, lambda: 5 * self._draw_seconds)
            runner.run(steps, rate, lambda: worker.is_cancelled, publish)
        except Exception as e:  # an app never crashes on a bug in a step: say it and stop
            self.call_from_thread(self.notify, f"{type(e).__name__}: {e}", title="error", severity="error")
            with self.trainer_lock:
                self.post_message(self.Progress(generation, current_record(self.trainer), True))

    @on(Progress)
    def _on_progress(self, message: Progress) -> None:
        if message.generation != self._generation:
            return  # from a worker the screen no longer follows
        if message.final:
            self._worker, self.playing = None, False
        started = time.perf_counter()
        self.show_record(message.record)
        # what a frame costs the UI thread (the compositor's share is about as much again):
        # the worker sends records no faster than the screen draws them with time to spare
        self._draw_seconds = 0.8 * self._draw_seconds + 0.2 * (time.perf_counter() - started)
        if message.final:
            self.announce(message.record)

    def announce(self, record: StepRecord | None) -> None:
        if record is None or not record.stop_reason:
            return
        if record.diverged:
            self.notify(divergence_text(record), title="diverged", severity="error", timeout=8)
        else:
            self.notify(
                f"the run stopped by itself at step {record.step}: {record.stop_reason}", title="stopped"
            )

    # -- selection, zoom, chart ------------------------------------------------------------------

    def action_cycle(self, step: int) -> None:
        self.selection = self.selection.cycle(step)
        self.draw_selection()

    def action_move(self, dy: int, dx: int) -> None:
        batch = len(self.record.batch) if self.record else 1
        self.selection = self.selection.move(self.net.layers, self.net.bias, dy, dx, batch)
        self.draw_selection()

    def action_sample(self, step: int) -> None:
        batch = len(self.record.batch) if self.record else 1
        self.selection = self.selection.with_sample(self.selection.sample + step, batch)
        self.draw_selection()

    def action_goto(self) -> None:
        self.push_screen(GotoScreen(self.selection.mode, GOTO_FORMS[self.selection.mode]), self._goto)

    def _goto(self, text: str | None) -> None:
        batch = len(self.record.batch) if self.record else 1
        try:
            self.selection = self.selection.goto(text or "", self.net.layers, self.net.bias, batch)
        except ValueError as e:
            if text:  # escape or an empty line: nothing to say
                self.notify(str(e), title="go to", severity="warning")
            return
        self.draw_selection()

    def action_answer(self) -> None:
        self.quiz.ask()

    def ask(self, prompt: str, then: Callable[[str | None], None]) -> None:
        """Ask for a typed value (the quiz, key a); ``then`` receives it, or None on escape."""
        self.push_screen(AnswerScreen(prompt), then)

    def show_answers(self, result: Result) -> None:
        """Mark the numbers an answers file graded (--answers) and put its diagnosis in the
        explain panel: what the tutor computed, drawn as it is."""
        self.checked.add(result)  # drawn when the panels mount, or with the next record

    def action_neuron(self) -> None:
        sel = self.selection
        layer, j = sel.focus_node()
        needs = "w shows a neuron's incoming weights: select a node of layer 1 or later, or a weight"
        if sel.mode == "sample":
            self.notify(
                f"{needs} (tab switches; a sample is selected now)", title="neuron", severity="warning"
            )
        elif layer == 0:
            name = self.net.names[0][j]
            self.notify(
                f"{needs} (the input {name} has no incoming weights; right moves on to layer 1)",
                title="neuron",
                severity="warning",
            )
        else:
            self.push_screen(NeuronScreen(self.net, self.record, sel, layer, j))

    @on(Panel.Selected)
    def _on_panel_selected(self, message: Panel.Selected) -> None:
        kind, *where = message.target
        if kind == "weight":
            self.selection = self.selection.with_weight(*where)
        elif kind == "node":
            self.selection = self.selection.with_node(*where)
        else:
            self.selection = self.selection.with_sample(
                where[0], len(self.record.batch) if self.record else 1
            )
        self.draw_selection()

    def action_zoom(self, panel: str) -> None:
        widget = self.query_one(f"#{panel}")
        if isinstance(widget, BoundaryPanel) and widget.extent is None:
            self.notify("the decision boundary is drawn for networks with 2 inputs", title="boundary")
            return
        if not (widget.display and widget.parent is not None and widget.parent.display):
            self.phases.toggle_explain()  # below 150 columns explain and the chart share a cell
        if self.screen.maximized is widget:
            self.screen.minimize()
        else:
            self.screen.maximize(widget, container=False)

    def action_scroll_panels(self, direction: int) -> None:
        panels = self.query_one("#panels")
        if direction > 0:
            panels.scroll_page_down(animate=False)
        else:
            panels.scroll_page_up(animate=False)

    def action_log_scale(self) -> None:
        chart = self.query_one(LossChart)
        chart.set_log_scale(not chart.log_scale)

    def action_help(self) -> None:
        """Open the help, or close it when it is open (from the command palette)."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        keys = [(keys, description) for _, keys, description in self.key_help()]
        self.push_screen(HelpScreen(keys, vocabulary(self.notation, self.net.depth), about(self.scenario)))

    # -- reload ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reloader.start()  # tui/control/reload.py: a worker reads the file, then finish decides

    @property
    def reloading(self) -> bool:
        """R is reading the scenario file."""
        return self.reloader.reloading

    @property
    def step_count(self) -> int:
        """The steps the run has taken."""
        return self.trainer.step_count

    @on(ScenarioRead)
    async def _scenario_read(self, message: ScenarioRead) -> None:
        await self.reloader.finish(message)

    async def start_scenario(self, scenario: Scenario) -> None:
        """A new run of ``scenario`` in place of this one, its panels built anew (reload)."""
        self.pause()
        self.scenario = scenario
        self.trainer = Trainer(scenario, history=self._history)
        self.net = NetInfo.build(scenario, self.trainer.initial_W, self.trainer.initial_b)
        self.record, self.selection, self.last_export_path = None, Selection(), None
        await self.recompose()
        self.on_resize(events.Resize(self.size, self.size))  # the new footer's layout
        self.show_record(None)
        self.notation = scenario.notation  # the new panels' titles, in the file's notation
        self.phases.apply_notation()

    # -- export ------------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.exporting:
            self.notify("an export is already running", severity="warning")
            return
        self.pause()
        try:
            path = choose_export_path(
                self.scenario, self.export_path, Path.cwd(), self._written, self.force_export
            )
        except BackpropError as e:  # a FIFO, a device, a link at the path: refused
            detail = f"{e.title}: {'; '.join(e.problems)}"
            self.notify(f"export failed: {detail}", title="export", severity="error", timeout=8)
            return
        snapshot = copy.copy(self.trainer)  # the step count now: keys pressed meanwhile do not move it
        size = trace_size(snapshot, snapshot.step_count)
        if size.total > CONFIRM_BYTES:  # a big trace: say how big, and how to make it smaller
            text = advice(size, self.export_command(snapshot.step_count, path), CONFIRM_BYTES)
            self.push_screen(ExportConfirmScreen(text), partial(self._confirmed, snapshot, path))
            return
        self._begin_export(snapshot, path)

    def _confirmed(self, snapshot: Stepper, path: Path, yes: bool | None) -> None:
        if yes:
            self._begin_export(snapshot, path)
        else:
            self.notify("nothing exported", title="export")

    def export_command(self, steps: int, path: Path) -> list[str] | None:
        """The command line that writes this run's first ``steps`` steps to ``path`` headless
        (None when no command does: a run not read from a file, or a served app, whose user
        has no command line on the serving machine)."""
        source = self.scenario_source
        if source is None or self.export_folder is not None:
            return None
        sets = [arg for o in source.overrides for arg in ("--set", f"{o.name}={o.text}")]
        export = display_path(path)
        return ["backprop-tui", source.spec, *sets, "--headless", "--steps", str(steps), "--export", export]

    def _begin_export(self, snapshot: Stepper, path: Path) -> None:
        self.exporting, self.export_progress = True, (0, snapshot.step_count)
        self.notify(f"exporting {count(snapshot.step_count, 'step')} to {path} …", title="export")
        estimate = trace_size(snapshot, snapshot.step_count).total
        self.export_notes = ExportNotes(self.notify, path.absolute(), estimate)  # megabytes, as it goes
        self._draw_header()
        # a file this session wrote (or any, with --force) is replaced; else only a new one is made
        self._export(snapshot, path, self.force_export or path.resolve() in self._written)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, snapshot: Stepper, path: Path, replace: bool) -> None:
        worker = get_current_worker()
        shown_at = 0.0

        def progress(done: int, total: int) -> None:  # to the header, ten times a second at most
            nonlocal shown_at
            if time.monotonic() - shown_at >= 0.1 or done == total:
                shown_at = time.monotonic()
                self.call_from_thread(self._export_step, done, total)

        try:
            written = self.write(path, snapshot, replace, lambda: worker.is_cancelled, progress)
        except ExportCancelled:
            return  # the app quit: the temporary file is removed and nothing is written
        except BackpropError as e:
            self.post_message(self.Exported(None, f"{path}: {'; '.join(e.problems)}"))
        except OSError as e:
            self.post_message(self.Exported(None, f"{path}: {e.strerror or e}"))
        else:
            self.post_message(self.Exported(written, count(snapshot.step_count, "step")))

    def write(
        self,
        path: Path,
        snapshot: Stepper,
        replace: bool,
        cancelled: Callable[[], bool],
        progress: ExportProgress = no_progress,
    ) -> Path:
        """Write the trace of ``snapshot`` (a copy of the trainer when export was pressed);
        ``replace``: a regular file at ``path`` may be replaced; ``cancelled``: give up;
        ``progress(done, total)`` after each step written."""
        assert isinstance(snapshot, Trainer)
        if self.export_folder is not None:
            return self.export_folder.write(path, snapshot, replace, cancelled, progress)
        return write_trace(path, snapshot, replace=replace, cancelled=cancelled, progress=progress)

    def _export_step(self, done: int, total: int) -> None:
        if self.exporting:
            self.export_progress = (done, total)
            self._draw_header()
            if self.export_notes is not None:
                self.export_notes.update(done, total)

    @on(Exported)
    def _export_done(self, message: Exported) -> None:
        path, detail = message.path, message.detail
        self.exporting = False
        if path is None:
            self.notify(f"export failed: {detail}", title="export", severity="error", timeout=8)
            self._draw_header()
            return
        self._written.add(path.resolve())
        self.last_export_path = path
        self.notify(f"trace written to {path} ({detail})", title="export")
        self._draw_header()

    # -- keys: footer, help screen, command palette ------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # tab and shift+tab are priority bindings (the screen binds them to focus); leave
        # them to any screen on top of the main one, such as the help or the command palette
        if action == "cycle" and not isinstance(self.screen, MainScreen):
            return False
        if action in ("continue_training", "back_to_comparison"):  # a replay's, a variant's key only
            return hasattr(self, f"action_{action}")
        return True

    def key_help(self) -> list[tuple[str, str, str]]:
        """(action, keys, explanation) for every action: the help screen and the command palette."""
        rows = key_rows(BINDINGS, self.get_key_display)
        return [row for row in rows if hasattr(self, f"action_{row[0].split('(')[0]}")]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)  # it has Quit already
        for action, keys, explanation in self.key_help():
            if action != "quit":
                yield SystemCommand(explanation, f"key: {keys}", partial(self._command, action))

    async def _command(self, action: str) -> None:
        """A command of the palette acts on the main screen, so it closes the help first (the
        palette also opens over the help); Help itself toggles."""
        if action != "help" and isinstance(self.screen, HelpScreen):
            self.pop_screen()
        await self.run_action(action)
