"""BackpropApp: composes the screen, routes the keys, and owns the Trainer and the controllers.

State that tests and benchmarks can read: ``app.trainer``, ``app.record`` (the StepRecord
on screen, None at step 0), ``app.selection``, ``app.playing``, ``app.rate``,
``app.last_export_path`` and ``app.exporting``.

The keys' jobs live in controllers the app owns (tui/control/), each knowing the app through a
Protocol of what it uses:

    app.stepping   space, n, b, r, p, f, + and -: single steps on the UI thread or, for a big
                   network, in a worker with a bounded queue; play and "+100 / +1000 steps" in a
                   worker that steps under ``app.trainer_lock`` and posts the newest record
    app.phases     v, s and x: the notation, a step phase by phase, the explain panel
    app.exporter   e: a trace written by a second worker (group "export"), which never touches
                   the live trainer and checks for cancellation before each step, so that
                   quitting (q, or SIGTERM when ``quit_on_sigterm``) removes its temporary file
    app.reloader   R: the scenario file read again in a third worker
    app.editing    =, <, >, k and clicks on the boundary: edits of the run (Trainer.edit)
    app.saver      W and D: the state on screen as a scenario file, the data as CSV (a worker)
    app.probing    P: a point probed (the forward and backward pass there, no update) on
                   the panels in place of the step, until escape or a key that steps

Any key that changes the trainer first pauses the stepping worker (``pause``). The action_*
methods stay here, thin, so that the bindings (tui/control/keys.py) name them on the app.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widgets import Static

from ..engine import Edit, StepRecord, Trainer
from ..engine.boundary import extent
from ..engine.phases import FULL, Reveal
from ..engine.planes import PlaneCache
from ..engine.schedule import schedule_for
from ..engine.trainer import HISTORY_STEPS
from ..scenario.notation import vocabulary
from ..scenario.reader import Scenario
from . import collector
from .control.editing import AFTER, Editing, edits_now, edits_text
from .control.export import Exported, Exporter, ExportProgress, no_progress
from .control.keys import BINDINGS, key_rows
from .control.phases import Phases, phase_activity
from .control.play import Stepper, current_record
from .control.probing import Probing
from .control.quiz import Checked, Quiz
from .control.reload import Reloader, ScenarioRead, ScenarioSource
from .control.saving import Saved, Saver
from .control.selection import GOTO_FORMS, Selection
from .control.signals import quit_on_sigterm
from .control.step_queue import Pending, busy_text, in_background
from .control.stepping import Applied, Progress, Stepping, rate_text
from .netinfo import NetInfo, about
from .panels.base import Panel
from .panels.boundary import BoundaryPanel, ChartCell
from .panels.chart import LossChart
from .panels.explain import ExplainPanel
from .panels.grids import BackwardPanel, ForwardPanel, GradientsPanel, WeightsPanel
from .panels.network import NetworkView
from .panels.planes import HeatmapsPanel
from .widgets.footer import AppFooter
from .widgets.header import Header, Status, display_path, divergence_text, shown_accuracies
from .widgets.palette import DEFAULT, current, following, use
from .widgets.plain import PlainNotifications, plain
from .widgets.warnings_bar import WarningsBar

if TYPE_CHECKING:  # the screens, the trace writer and the tutor are imported when first used:
    # the first screen needs none of them (benchmarks/app.py, first paint)
    from ..trace.folder import ExportFolder
    from ..tutor.check import Result


class MainScreen(Screen):
    # a zoomed panel keeps the header, the banner and the footer around it
    ALLOW_IN_MAXIMIZED_VIEW = "#top, AppFooter"


def breakpoint_classes(size: tuple[int, int], horizontal: list, vertical: list) -> str:
    """The breakpoint classes that Textual gives a screen of ``size`` on its first resize (for
    each of the width and the height, the highest breakpoint it reaches). Given at once, the
    first layout is the screen's own: no panel is built for a grid it never shows."""
    names = []
    for cells, points in zip(size, (horizontal, vertical), strict=True):
        names += [name for least, name in sorted(points, reverse=True) if cells >= least][:1]
    return " ".join(names)


class BackpropApp(PlainNotifications[None]):
    CSS_PATH = "app.tcss"
    TITLE = "backprop-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (28, "-tall")]

    BINDINGS = BINDINGS  # tui/control/keys.py: the footer, the help screen and the command palette

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
        self.export_path = export_path
        self.last_export_path: Path | None = None
        self.force_export = False  # --force: an export overwrites a regular file at its path
        self.exporter = Exporter(self)  # e (tui/control/export.py)
        self.export_folder: ExportFolder | None = None  # served: exports only there, within caps
        self.reloader = Reloader(self)  # R (tui/control/reload.py)
        self.quit_on_sigterm = False  # the command line sets it: SIGTERM quits as q does
        self._undo_sigterm = lambda: None
        if background_steps is None:  # a recorded run steps at once; a replay's continuation says
            background_steps = isinstance(self.trainer, Trainer) and in_background(self.trainer)
        self.background_steps = background_steps
        self.phases = Phases(self)  # v, s and x (tui/control/phases.py)
        self.stepping = Stepping(self)  # the stepping keys and workers (tui/control/stepping.py)
        self.checked = Checked()  # the learner's graded numbers (--answers, a): tui/control/quiz.py
        self.quiz = Quiz(self)  # a
        self.editing = Editing(self)  # =, <, >, k, clicks on the boundary (tui/control/editing.py)
        self.saver = Saver(self)  # W and D (tui/control/saving.py)
        self.probing = Probing(self)  # P (tui/control/probing.py)

    # what the stepping controller is doing, for the header, the phases and the tests
    @property
    def rate(self) -> float:
        return self.stepping.rate

    @property
    def playing(self) -> bool:
        return self.stepping.playing

    @property
    def activity(self) -> str:
        return self.stepping.activity

    @property
    def busy(self) -> bool:
        return self.stepping.busy

    @property
    def pending(self) -> Pending:
        return self.stepping.pending

    def get_default_screen(self) -> Screen:
        classes = breakpoint_classes(self.size, self.HORIZONTAL_BREAKPOINTS, self.VERTICAL_BREAKPOINTS)
        return MainScreen(id="_default", classes=classes)

    def compose(self) -> ComposeResult:
        use(self.scenario.palette)  # before the panels, whose legends are drawn in it
        net, t = self.net, self.trainer
        # each layer's activation over the input plane (two-input networks), for the maps of
        # the network panel and the neuron heatmaps (9)
        # (over the raw inputs' plane: with [data] features, each point through them)
        raw, features = t.X_raw, self.scenario.features
        planes = PlaneCache(t.network, extent(raw), inputs=features) if raw.shape[1] == 2 else None
        with Vertical(id="top"):
            yield Header(id="header")
            yield Static(id="banner")
            yield Static(id="edited")  # the edits made since the step on screen (control/editing.py)
            yield WarningsBar(id="warnings")
        with Container(id="panels"):
            yield NetworkView(net, "1", planes=planes, id="network")
            yield ForwardPanel(net, "2", id="forward")
            yield ExplainPanel(
                net,
                "7",
                id="explain",
                update_biases=self.scenario.update_biases,
                about=about(self.scenario),
                digits=self.scenario.digits,
                schedule=(schedule_for(self.scenario), self.scenario.learning_rate),
            )
            with ChartCell(id="chart-cell"):  # the decision boundary beside the chart (2 inputs only)
                chart = LossChart(id="chart")
                chart.test_legend = self.trainer.X_test is not None
                chart.has_accuracy = self.trainer.initial_train_accuracy is not None  # a classifier's
                chart.retitle()
                yield chart
                yield BoundaryPanel(
                    net,
                    t.network,
                    raw,
                    t.T,
                    "8",
                    id="boundary",
                    features=features,
                    classifier=t.classifier,
                    X_test=t.X_test,
                    T_test=t.T_test,
                )
            yield BackwardPanel(net, "3", id="backward")
            yield GradientsPanel(net, "4", id="gradients")
            yield WeightsPanel(net, "5", id="weights")
            yield HeatmapsPanel(net, planes, raw, t.T, "9", id="heatmaps")  # shown when 9 zooms it
        footer = AppFooter()
        footer.fit(self.size.width)  # laid out for the screen's width: the first resize keeps it
        yield footer

    def on_mount(self) -> None:
        for panel in self.query(Panel):
            panel.answered = self.checked.cells
        self.query_one(ExplainPanel).checked_lines = self.checked.lines
        for panel in self.query(Panel):  # titled in the notation before the first record is drawn,
            panel.set_notation(self.notation)  # which is then drawn once (apply_notation draws it)
        # the trainer's step: 0 for a new run; a variant's trainer from the comparison is further on
        self.show_record(current_record(self.trainer))
        if self.quit_on_sigterm:
            self._undo_sigterm = quit_on_sigterm(self)
        self.call_after_refresh(collector.settle)  # once the first screen is drawn

    def on_unmount(self) -> None:
        self._undo_sigterm()
        use(DEFAULT.name)  # the palette is the process's: the next app starts from its own

    @property
    def palette(self) -> str:
        """The name of the palette in use (scenario/format_v1.py PALETTES; C switches)."""
        return current().name

    def action_palette(self) -> None:
        """C: the next palette (tui/widgets/palette.py), every panel drawn again in it."""
        palette = use(following(current().name))
        chart = self.query_one(LossChart)
        with self.batch_update():
            chart.retitle()
            chart.refresh()
            for boundary in self.query(BoundaryPanel):
                boundary.recolour()
            probe = self.probing.probe
            self.show_record(self.record, self.reveal)
            if probe is not None:  # the palette keeps a probe on screen
                self.probing.show(probe)
        self.notify(f"palette: {palette}", timeout=2)

    def on_resize(self, event: events.Resize) -> None:
        self.query_one(AppFooter).fit(event.size.width)  # which draws it again when that changes it

    # -- drawing -----------------------------------------------------------------------------

    def show_record(self, record: StepRecord | None, reveal: Reveal = FULL) -> None:
        """Draw ``record`` (None: step 0) on every panel; ``reveal``: what of it is computed
        when a step is taken phase by phase. A probe on screen (P) is left."""
        self.probing.forget()
        self.record, self.reveal = record, reveal
        self.selection = self.selection.with_sample(self.selection.sample, len(record.batch) if record else 1)
        t = self.trainer
        with self.batch_update():
            self.show_edits()
            for panel in self.query(Panel):
                panel.show(record, self.selection, reveal)
            steps = (record.step if record else 0) - (0 if reveal.update else 1)
            chart = self.query_one(LossChart)
            chart.set_losses(
                t.losses, t.train_losses, t.initial_train_loss, steps, t.test_losses, t.initial_test_loss
            )
            chart.set_accuracies(
                t.train_accuracies,
                t.initial_train_accuracy,
                steps,
                t.test_accuracies,
                t.initial_test_accuracy,
            )
            self.draw_header()
            banner = self.query_one("#banner", Static)
            diverged = record is not None and record.diverged
            if record is not None and record.diverged:
                banner.update(plain("✖ " + divergence_text(record)))
            if banner.display != diverged:
                banner.display = diverged
            self.query_one(WarningsBar).show(record, self.net)

    def show_edits(self) -> None:
        """What the edits since the step on screen change on it: the line under the header, the
        explain panel's first lines, and the boundary's weights and points (the trainer's own)."""
        t, edits = self.trainer, edits_now(self.trainer)
        text = edits_text(edits, self.net, t.step_count)
        line = self.query_one("#edited", Static)
        if text and line.content != (shown := plain(f"{text}  ({AFTER})")):
            line.update(shown)  # a new text may wrap to more lines: the screen is laid out again
        if line.display != bool(text):
            line.display = bool(text)
        self.query_one(ExplainPanel).edited = text
        for boundary in self.query(BoundaryPanel):
            boundary.edited = (t.W, t.b) if edits and isinstance(t, Trainer) else None
            if self.scenario.features is None and boundary.X is not t.X:  # a point added or removed
                boundary.set_data(t.X, t.T)
                heatmaps = self.query_one(HeatmapsPanel)
                heatmaps.X, heatmaps.T = t.X, t.T

    def edited(self, edit: Edit) -> None:
        """After an edit (tui/control/editing.py): the record on screen drawn again with it."""
        self.show_record(self.record, self.reveal)

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step: the trainer's (< and > change it), or a replay's
        recorded one."""
        if isinstance(self.trainer, Trainer):
            return self.trainer.base_learning_rate
        return self.record.learning_rate if self.record is not None else self.scenario.learning_rate

    def draw_selection(self) -> None:
        probe = self.probing.probe  # P: the probe in place of the step
        record, reveal = (probe, probe.reveal) if probe is not None else (self.record, self.reveal)
        with self.batch_update():
            for panel in self.query(Panel):
                panel.show(record, self.selection, reveal)
            self.draw_header()

    def status_activity(self) -> str:
        """What the header says the app is doing: playing, paused, stopped: ..."""
        rec = self.record
        if self.playing:
            return self.activity
        if probed := self.probing.activity():
            return probed
        if phase := phase_activity(self.reveal):
            return phase
        if self.busy:
            return busy_text(self.pending)
        if rec is not None and rec.stop_reason:
            return f"stopped: {rec.stop_reason}"
        return "paused"

    def draw_header(self) -> None:
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
                exporting=self.exporter.header_progress,
                learning_rate=self.learning_rate,
                train_loss_now=self._train_loss_now(rec),
                accuracies=shown_accuracies(self.trainer, rec, self.reveal.update),
            )
        )

    def _train_loss_now(self, rec: StepRecord | None) -> float | None:
        """The training-set loss with the edits since the step on screen (None: none made)."""
        t = self.trainer
        if not edits_now(t) or not self.reveal.update:
            return None
        return t.train_losses[-1] if rec is not None and t.train_losses else t.initial_train_loss

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
        self.stepping.pause()

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
        self.probing.leave()
        if self.phases.complete():
            return
        self.stepping.single("step")

    def action_substep(self) -> None:
        self.probing.leave()
        self.phases.substep()

    def action_notation(self) -> None:
        self.phases.switch_notation()

    def action_toggle_explain(self) -> None:
        self.phases.toggle_explain()

    def action_step_back(self) -> None:
        self.probing.leave()
        self.stepping.single("back")

    def action_reset(self) -> None:
        self.probing.leave()
        self.stepping.single("reset")

    def apply_in_worker(self, ops: list[tuple[str, int]]) -> None:
        self.stepping.apply_in_worker(ops)

    @on(Applied)
    def _on_applied(self, message: Applied) -> None:
        self.stepping.applied(message)

    def action_play(self) -> None:
        self.probing.leave()
        self.stepping.play()

    def action_run(self, steps: int) -> None:
        self.probing.leave()
        self.stepping.run(int(steps))

    def action_faster(self) -> None:
        self.stepping.set_rate(self.stepping.rate_index + 1)

    def action_slower(self) -> None:
        self.stepping.set_rate(self.stepping.rate_index - 1)

    @on(Progress)
    def _on_progress(self, message: Progress) -> None:
        self.stepping.progress(message)

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
        from .screens.goto import GotoScreen

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

    # -- edits and saving (issue 14) ---------------------------------------------------------

    def action_edit(self) -> None:
        self.editing.ask()

    def action_learning_rate(self, factor: float) -> None:
        self.editing.scale_rate(float(factor))

    def action_point_class(self) -> None:
        self.editing.next_class()

    @on(BoundaryPanel.Clicked)
    def _on_boundary_clicked(self, message: BoundaryPanel.Clicked) -> None:
        self.editing.clicked(message.point, message.sample)

    def action_save_scenario(self) -> None:
        self.saver.scenario()

    def action_save_data(self) -> None:
        self.saver.data()

    @on(Saved)
    def _on_saved(self, message: Saved) -> None:
        self.saver.finish(message)

    def action_answer(self) -> None:
        self.probing.leave()
        self.quiz.ask()

    def action_probe(self) -> None:
        self.probing.ask()  # tui/control/probing.py: the point asked for, probed, drawn

    def action_leave_probe(self) -> None:
        self.probing.leave()

    def ask(self, prompt: str, then: Callable[[str | None], None]) -> None:
        """Ask for a typed value (the quiz, key a); ``then`` receives it, or None on escape."""
        from .screens.answer import AnswerScreen

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
            from .screens.neuron import NeuronScreen

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
        if isinstance(widget, BoundaryPanel) and widget.extent is None and not widget.confusion_only:
            self.notify("the decision boundary is drawn for networks with 2 inputs", title="boundary")
            return
        if isinstance(widget, HeatmapsPanel) and widget.planes is None:
            inputs = self.net.layers[0]
            self.notify(
                f"the neuron heatmaps need a network with 2 inputs (this one has {inputs}): "
                "each node is drawn over the plane of the two",
                title="heatmaps",
            )
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

    def action_toggle_accuracy(self) -> None:
        """A: the accuracy lines on the loss chart shown or hidden (a classifier's only)."""
        chart = self.query_one(LossChart)
        if not chart.has_accuracy:
            self.notify("no accuracy to show: this run is not a classifier", timeout=3)
            return
        shown = chart.toggle_accuracy()
        self.notify(f"accuracy on the chart: {'shown' if shown else 'hidden'}", timeout=2)

    def action_log_scale(self) -> None:
        chart = self.query_one(LossChart)
        chart.set_log_scale(not chart.log_scale)

    def action_help(self) -> None:
        """Open the help, or close it when it is open (from the command palette)."""
        from .screens.help import HelpScreen

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
        self.exporter.start()  # tui/control/export.py: the path, the size question, a worker

    @property
    def exporting(self) -> bool:
        """A trace is being written."""
        return self.exporter.exporting

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
        from ..trace.writer import write_trace

        return write_trace(path, snapshot, replace=replace, cancelled=cancelled, progress=progress)

    @on(Exported)
    def _export_done(self, message: Exported) -> None:
        self.exporter.finish(message)

    # -- keys: footer, help screen, command palette ------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # tab and shift+tab are priority bindings (the screen binds them to focus); leave
        # them to any screen on top of the main one, such as the help or the command palette
        if action == "cycle" and not isinstance(self.screen, MainScreen):
            return False
        if action in ("continue_training", "back_to_comparison"):  # a replay's, a variant's key only
            return hasattr(self, f"action_{action}")
        if action == "leave_probe":  # escape, while a probe is on screen (else a variant's escape)
            return self.probing.active
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
        from .screens.help import HelpScreen

        if action != "help" and isinstance(self.screen, HelpScreen):
            self.pop_screen()
        await self.run_action(action)
