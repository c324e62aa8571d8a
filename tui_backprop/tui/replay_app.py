"""ReplayApp: the app on a recorded run (``backprop-tui run.json``), and its live continuation.

Every key works on the recorded steps as on a live run (space and n step forward, b back, p
plays at the play rate, f runs 100 steps on, r goes to step 0, e exports), through a
RecordedRun that hands the panels the records read from the trace: nothing is recomputed
and no Trainer is stepped. The header says that it is a replay, and of which file.

``c`` continues: a live Trainer starts from the weights, step number, epoch and batch
position of the recorded step on screen, and every key then trains it as in the live app.
Back at that step, ``b`` returns into the recording (one step back), and ``r`` returns to
its step 0; ``c`` at any recorded step starts a new continuation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..common.escape import shown
from ..engine import Trainer
from ..engine.trainer import HISTORY_STEPS
from ..trace.reader import Recording
from ..trace.recorded import RecordedRun, continue_from, write_trace
from .app import BackpropApp, rate_text
from .control.export import ExportProgress, no_progress
from .control.step_queue import in_background
from .widgets.header import display_path


class ReplayApp(BackpropApp):
    def __init__(
        self, recording: Recording, export_path: Path | None = None, history: int = HISTORY_STEPS
    ) -> None:
        self.recording = recording
        self.playback = RecordedRun(recording)
        self.history = history
        self.origin: int | None = None  # the recorded step a live continuation started from
        super().__init__(recording.scenario, export_path, history, trainer=self.playback)

    @property
    def live(self) -> bool:
        """Whether a continuation is training (else the recording is played back)."""
        return self.origin is not None

    @property
    def source(self) -> str:
        """The trace, for notifications (relative to the working directory when inside it)."""
        return display_path(Path(self.recording.source))

    @property
    def trace_name(self) -> str:
        """The trace's file name, for the header."""
        return shown(Path(self.recording.source).name, None)

    def status_activity(self) -> str:
        if self.live:
            activity = super().status_activity()
            return f"live from step {self.origin} of {self.trace_name}" if activity == "paused" else activity
        if self.playing:
            return f"replaying {rate_text(self.rate)}" if self.activity == "playing" else self.activity
        rec = self.record
        where = "end of " if self.playback.done and self.playback.steps else ""
        if rec is not None and rec.stop_reason:
            return f"replay of {self.trace_name}, stopped: {rec.stop_reason}"
        return f"{where}replay of {self.trace_name} (c: continue)"

    def say_if_stopped(self) -> bool:
        if self.live or not self.playback.done:
            return super().say_if_stopped()
        rec = self.record
        if rec is not None and rec.stop_reason:
            message = f"the recorded run stopped by itself at step {rec.step} ({rec.stop_reason})"
            self.notify(f"{message}: b steps back, r goes to step 0", title="stopped", severity="warning")
        else:
            n = self.playback.steps
            self.notify(
                f"the recording ends at step {n}: c continues training from here, b steps back",
                title="end of the recording",
                severity="warning",
            )
        return True

    # -- continuing --------------------------------------------------------------------------

    def action_continue_training(self) -> None:
        if self.live:
            self.notify(
                f"already training live from step {self.origin} of {self.source}: "
                f"b at step {self.origin} or r returns to the recording",
                severity="information",
            )
            return
        self.pause()
        try:
            trainer = continue_from(self.playback, self.history)
        except ValueError as e:
            self.notify(f"cannot continue from step {self.playback.step_count}: {e}", severity="warning")
            return
        with self.trainer_lock:
            self.trainer = trainer
            self.origin = self.playback.step_count
            self.background_steps = in_background(trainer)  # a big network steps in a worker
        self.notify(
            f"training live from step {self.origin} of {self.source}: space steps, "
            f"b at step {self.origin} returns to the recording",
            title="continue",
        )
        self.show_record(self.playback.last_record)

    def _back_to_recording(self) -> None:
        self.pause()
        with self.trainer_lock:
            self.trainer, self.origin = self.playback, None
            self.background_steps = False  # a recorded step costs nothing

    def action_step_back(self) -> None:
        if self.live and self.trainer.step_count == self.origin:
            self._back_to_recording()
            if self.playback.step_count == 0:
                self.show_record(None)
                return
        super().action_step_back()

    def action_reset(self) -> None:
        if self.live:
            self._back_to_recording()
        super().action_reset()

    def action_reload(self) -> None:
        self.notify("R reloads a scenario file; a replay shows its trace as recorded", severity="information")

    # -- export ------------------------------------------------------------------------------

    def write(
        self,
        path: Path,
        snapshot: object,
        replace: bool,
        cancelled: Callable[[], bool],
        progress: ExportProgress = no_progress,
    ) -> Path:
        """The recorded steps are written as recorded; a continuation's steps are taken again
        from its recorded start (as the live app's export replays its run)."""
        if isinstance(snapshot, Trainer):
            return write_trace(path, self.playback, snapshot, self.origin or 0, replace, cancelled, progress)
        assert isinstance(snapshot, RecordedRun)
        return write_trace(path, snapshot, replace=replace, cancelled=cancelled, progress=progress)

    def export_command(self, steps: int, path: Path) -> list[str] | None:
        return None  # a trace is replayed in the app only: no command line writes its export
