"""The keys W and D: the state on screen saved as a new scenario file, the training data as CSV.

    W   asks for a path (a free name from the scenario's, ``xor-step12.toml``, to start from),
        then writes scenario/saved_state.py's scenario: explicit weights and biases of the step on
        screen, its learning rate and its (edited) training data, inline, or in a CSV file beside
        it (``xor-step12-data.csv``) when inline data would pass the size a scenario file may have
    D   asks for a path (``xor-data.csv``), then writes the training set as the run trains on it,
        in the CSV format [data] csv reads

A file is written whole or not at all (common/files.NewFile); a path that holds anything but a
regular file is refused, and so is a file that this session did not write (``--force``: any
regular file is replaced). The saved scenario is read back before it is written: a state that
would not load (a weight that is not finite, data over the limits) is refused, and nothing is
written. The writing runs in a thread worker (group "save"); ``Saved`` reports it. A served app
saves nothing: its user has no folder on the serving machine but the export folder, for traces.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from textual.message import Message
from textual.screen import Screen

from ...common.errors import BackpropError
from ...common.escape import shown
from ...common.files import SCENARIO_LIMIT, size_text, target_problem, write_whole
from ...common.words import count
from ...engine import StepRecord, Trainer
from ...scenario.reader import Scenario, ScenarioError, loads_scenario
from ...scenario.saved_state import RunState, caveats, data_csv, rows, scenario_text
from ...trace.paths import slug
from ..widgets.header import display_path
from .play import Stepper

if TYPE_CHECKING:  # a served app's export folder comes with the trace writer, which W and D need not
    from ...trace.folder import ExportFolder


class Saved(Message):
    """From the save worker: what to say, and whether it went wrong."""

    def __init__(self, text: str, paths: tuple[Path, ...], failed: bool = False) -> None:
        super().__init__()
        self.text, self.paths, self.failed = text, paths, failed


class SaveHost(Protocol):
    """What the saving keys use of the app."""

    scenario: Scenario
    trainer: Stepper
    record: StepRecord | None
    force_export: bool
    export_folder: ExportFolder | None

    @property
    def learning_rate(self) -> float: ...

    def pause(self) -> None: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...
    def push_screen(self, screen: Screen[Any], callback: Any = ...) -> Any: ...
    def run_worker(
        self, work: Any, *, thread: bool = ..., group: str = ..., exit_on_error: bool = ...
    ) -> Any: ...
    def post_message(self, message: Message) -> bool: ...


def run_state(app: SaveHost) -> RunState:
    """The state on screen: a live trainer's own (edits included), else (a replay) the record's."""
    t, rec = app.trainer, app.record
    if isinstance(t, Trainer):
        W, b, offset = t.W, t.b, t.position.offset
    elif rec is not None:
        W, b, offset = tuple(lr.w for lr in rec.layers), tuple(lr.b for lr in rec.layers), 0
    else:
        W, b, offset = t.initial_W, t.initial_b, 0
    T_test = getattr(t, "T_test", None)
    return RunState(t.step_count, W, b, app.learning_rate, t.X, t.T, t.X_test, T_test, offset)


def stem(scenario: Scenario) -> str:
    """The start of a saved file's name: the scenario file's stem, or a slug of its name."""
    source = scenario.source or ""
    return Path(source).stem if source.endswith(".toml") else slug(scenario.name)


def free_path(path: Path, written: set[Path]) -> Path:
    """``path``, or ``path`` with -1, -2, ... before its suffix while a file this session did not
    write is there."""
    candidate, n = path, 0
    while candidate.exists() or candidate.is_symlink():
        if candidate.resolve() in written:
            return candidate
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def refusal(e: BackpropError) -> str:
    """An error's path and problems in a line, every character a terminal would act on escaped."""
    return shown(f"{e.title}: {'; '.join(e.problems)}", None)


class Saver:
    """The keys W and D of one app."""

    def __init__(self, app: SaveHost) -> None:
        self.app = app
        self.written: set[Path] = set()  # files this session saved: the only ones it replaces
        self.saving = False

    # -- the keys -------------------------------------------------------------------------

    def scenario(self) -> None:
        """W: ask where to save the state on screen as a scenario file."""
        if not self._may_save("the state as a scenario file"):
            return
        state = run_state(self.app)
        name = f"{stem(self.app.scenario)}-step{state.step}.toml"
        default = free_path(Path.cwd() / name, self.written)
        prompt = f"save step {state.step} as a new scenario file (the weights, the learning rate, the data):"
        self._ask(prompt, default, partial(self._save_scenario, state))

    def data(self) -> None:
        """D: ask where to save the training data as CSV."""
        if not self._may_save("the data"):
            return
        state = run_state(self.app)
        default = free_path(Path.cwd() / f"{stem(self.app.scenario)}-data.csv", self.written)
        prompt = f"save the training data ({count(len(state.X), 'sample')}) as a CSV file:"
        self._ask(prompt, default, partial(self._save_data, state))

    def _may_save(self, what: str) -> bool:
        app = self.app
        app.pause()
        if app.export_folder is not None:
            app.notify(f"a served app saves traces only (e): {what} is not saved", title="save")
            return False
        if self.saving:
            app.notify("a file is being saved: try again in a moment", title="save", severity="warning")
            return False
        return True

    def _ask(self, prompt: str, default: Path, then: Callable[[Path], None]) -> None:
        def chosen(text: str | None) -> None:
            if text is None or not text.strip():
                return  # escape, or nothing typed: nothing to do
            path = Path(text.strip()).expanduser()
            then(path if path.is_absolute() else Path.cwd() / path)

        from ..screens.value import ValueScreen  # here: the first screen needs no prompt

        self.app.push_screen(ValueScreen(prompt, display_path(default), "enter saves"), chosen)

    def _refused(self, path: Path, what: str) -> str | None:
        """Why ``path`` may not be written (None: it may)."""
        if problem := target_problem(path, what):
            return f"{display_path(path)} {problem}"
        if path.exists() and not self.app.force_export and path.resolve() not in self.written:
            return f"{display_path(path)} already exists: it is not replaced (give another name)"
        return None

    def _replace(self, path: Path) -> bool:
        return self.app.force_export or path.resolve() in self.written

    # -- W ----------------------------------------------------------------------------------

    def _save_scenario(self, state: RunState, path: Path) -> None:
        if why := self._refused(path, "scenario file"):
            self._fail(why)
            return
        self._start(partial(self._write_scenario, self.app.scenario, state, path))

    def _write_scenario(self, scenario: Scenario, state: RunState, path: Path) -> None:
        """In the worker: the text (the data inline, or in a CSV file when inline data would make
        it too big), read back and compared, then the CSV file (if any) and the scenario written."""
        written: list[Path] = []
        try:
            text, csv_path = self._scenario_text(scenario, state, path)
            if csv_path is not None:  # first: the scenario reads it back
                X, T, _, _ = rows(scenario, state)
                table = data_csv(scenario, X, T).encode()
                written.append(write_whole(csv_path, table, self._replace(csv_path), "CSV table"))
            check_reads_back(text, path, state)
            written.append(write_whole(path, text.encode(), self._replace(path), "scenario file"))
        except BackpropError as e:
            for p in written:  # the CSV file alone is of no use (a file saved before is kept)
                if p.resolve() not in self.written:
                    p.unlink(missing_ok=True)
            self.app.post_message(Saved(refusal(e), (), failed=True))
            return
        notes = "".join(f"; {c}" for c in caveats(scenario, state))
        where = " and ".join(display_path(p) for p in reversed(written))
        done = f"step {state.step} saved as a scenario: {where} (backprop-tui {display_path(path)}){notes}"
        self.app.post_message(Saved(done, tuple(written)))

    def _scenario_text(self, scenario: Scenario, state: RunState, path: Path) -> tuple[str, Path | None]:
        """The scenario's text, and the CSV file that holds its data (None: inline)."""
        try:
            text = scenario_text(scenario, state)
            if len(text.encode()) <= SCENARIO_LIMIT:
                return text, None
            csv_path = path.with_name(f"{path.stem}-data.csv")
            text = scenario_text(scenario, state, csv_path.name)
        except ValueError as e:  # a weight or an input that is not finite (a diverged run)
            raise BackpropError(
                str(path), f"{e}; step back (b) to a step whose numbers are all finite"
            ) from e
        if len(text.encode()) > SCENARIO_LIMIT:
            size, limit = size_text(len(text.encode())), size_text(SCENARIO_LIMIT)
            raise BackpropError(
                str(path), f"the weights alone take {size}, more than a scenario file's {limit}"
            )
        if why := self._refused(csv_path, "CSV table"):
            raise BackpropError(str(csv_path), why)
        return text, csv_path

    # -- D ----------------------------------------------------------------------------------

    def _save_data(self, state: RunState, path: Path) -> None:
        if why := self._refused(path, "CSV table"):
            self._fail(why)
            return
        self._start(partial(self._write_data, state, path))

    def _write_data(self, state: RunState, path: Path) -> None:
        try:
            table = data_csv(self.app.scenario, state.X, state.T).encode()
            written = write_whole(path, table, self._replace(path), "CSV table")
        except BackpropError as e:
            self.app.post_message(Saved(refusal(e), (), failed=True))
            return
        samples = count(len(state.X), "training sample")
        self.app.post_message(Saved(f"{samples} saved to {display_path(written)}", (written,)))

    # -- the worker and its report ------------------------------------------------------------

    def _start(self, work: Callable[[], None]) -> None:
        self.saving = True
        self.app.run_worker(work, thread=True, group="save", exit_on_error=False)

    def _fail(self, why: str) -> None:
        self.app.notify(f"not saved: {why}", title="save", severity="error", timeout=8)

    def finish(self, message: Saved) -> None:
        """On the UI thread, from the app's handler of ``Saved``."""
        self.saving = False
        if message.failed:
            self._fail(message.text)
            return
        self.written.update(p.resolve() for p in message.paths)
        self.app.notify(message.text, title="save", timeout=8)


def check_reads_back(text: str, path: Path, state: RunState) -> None:
    """Raise BackpropError unless ``text`` loads (beside ``path``, whose folder holds its CSV
    file, if any) with the state's weights and biases, bit for bit."""
    try:
        saved = loads_scenario(text, str(path), base=path.parent)
    except ScenarioError as e:
        raise BackpropError(str(path), ["the saved scenario would not load", *e.problems]) from e
    t = Trainer(saved)
    same = all(np.array_equal(a, b) for a, b in zip(t.initial_W, state.W, strict=True))
    if saved.bias:
        same = same and all(np.array_equal(a, b) for a, b in zip(t.initial_b, state.b, strict=True))
    if not same:  # a float that repr does not give back: never expected, but never written
        raise BackpropError(str(path), "the saved weights would not read back as they are")
