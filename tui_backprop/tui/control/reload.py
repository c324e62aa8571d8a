"""The reload key (R): read the scenario again, from its file or from the package.

    the file changed and is valid    a new run of it starts at step 0 (export the old one first)
    the file is the same scenario    nothing changes; the run goes on
    the file is invalid or missing   every problem, naming the file and the [table] key, in a
                                     notification; the run goes on untouched

A scenario given with ``--set`` is read again with the same overrides. The file is read and
parsed in a thread worker (``Reloader.start``), so that a slow or large file never freezes the
app and q always quits; the worker posts a ``ScenarioRead`` to the app, whose handler hands it to
``Reloader.finish``, which decides and has the app do the switch (``start_scenario``). While a
reload runs, ``reloading`` is True and R says so. The reloader knows the app only through
``ReloadHost``, the public part of the app it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from textual.message import Message

from ...common.errors import BackpropError
from ...common.escape import shown
from ...common.words import count
from ...scenario.reader import Scenario, bundled_names, load_scenario

if TYPE_CHECKING:
    from ...scenario.overrides import Override

KEY = "R"
DATA_FIELDS = ("inputs", "targets", "test_inputs", "test_targets")  # arrays that to_dict leaves out


@dataclass(frozen=True)
class ScenarioSource:
    """Where a scenario came from: ``spec`` is a file path or a bundled name, as on the command
    line; ``overrides`` are its ``--set`` flags."""

    spec: str
    overrides: Sequence[Override] = ()

    @classmethod
    def of(cls, scenario: Scenario) -> ScenarioSource | None:
        """The source recorded in ``scenario`` (None: not read from a file). A bundled scenario is
        recorded as ``NAME.toml``: it is read from the package again unless such a file is here."""
        label = scenario.source
        if not label or label.startswith("<"):
            return None
        path = Path(label)
        if not path.exists() and path.parent == Path(".") and path.suffix == ".toml":
            if path.stem in bundled_names():
                return cls(path.stem)
        return cls(label)

    def load(self) -> Scenario:
        return load_scenario(self.spec, self.overrides)

    def __str__(self) -> str:
        return shown(self.spec, None)


def same_scenario(a: Scenario, b: Scenario) -> bool:
    """Whether two scenarios would give the same run: every key, and the data."""
    if a.to_dict() != b.to_dict():
        return False
    for name in DATA_FIELDS:
        x, y = getattr(a, name, None), getattr(b, name, None)
        if x is None or y is None:
            if x is not y:
                return False
        elif not (np.shape(x) == np.shape(y) and np.array_equal(x, y)):
            return False
    return True


class ScenarioRead(Message):
    """From the reload worker: the scenario read again, or why it could not be."""

    def __init__(self, source: ScenarioSource, outcome: Scenario | BackpropError) -> None:
        super().__init__()
        self.source, self.outcome = source, outcome


class ReloadHost(Protocol):
    """What the reloader uses of the app that owns it."""

    scenario: Scenario
    scenario_source: ScenarioSource | None

    @property
    def step_count(self) -> int: ...
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...
    def run_worker(
        self, work: Any, *, thread: bool = ..., group: str = ..., exit_on_error: bool = ...
    ) -> Any: ...
    def post_message(self, message: Message) -> bool: ...
    async def start_scenario(self, scenario: Scenario) -> None: ...


class Reloader:
    """The reload key of one app: a worker reads the source, then ``finish`` decides."""

    def __init__(self, app: ReloadHost) -> None:
        self.app = app
        self.reloading = False  # a worker is reading the scenario file

    def start(self) -> None:
        """What the reload key does (see the module docstring): read the source in a thread worker."""
        app = self.app
        source = app.scenario_source
        if source is None:
            app.notify(
                "this scenario was not read from a file: there is nothing to reload", severity="warning"
            )
            return
        if self.reloading:
            app.notify(f"still reading {source}: press {KEY} again once it is read", severity="warning")
            return
        self.reloading = True
        app.run_worker(partial(self._read, source), thread=True, group="reload", exit_on_error=False)

    def _read(self, source: ScenarioSource) -> None:
        """In the worker: read and parse (common/files.py reads only a regular file, within its limit)."""
        outcome: Scenario | BackpropError
        try:
            outcome = source.load()
        except BackpropError as e:
            outcome = e
        except Exception as e:  # not a problem of the file's: still a notification, never a stuck R
            outcome = BackpropError(str(source), f"could not be read: {type(e).__name__}: {e}")
        self.app.post_message(ScenarioRead(source, outcome))  # thread-safe; dropped once the app has quit

    async def finish(self, read: ScenarioRead) -> None:
        """On the UI thread: report a failure, or keep the run, or start the new scenario; only
        then is ``reloading`` False again."""
        try:
            await self._decide(read)
        finally:
            self.reloading = False

    async def _decide(self, read: ScenarioRead) -> None:
        app = self.app
        source, outcome = read.source, read.outcome
        if source != app.scenario_source:  # the app moved on to another source meanwhile
            return
        steps = app.step_count
        if isinstance(outcome, BackpropError):
            problems = "\n".join(outcome.lines())
            app.notify(
                f"{problems}\nThe run goes on at step {steps}; fix the file and press {KEY} again.",
                title=f"reload failed: {source}",
                severity="error",
                timeout=15,
            )
            return
        scenario = outcome
        if same_scenario(scenario, app.scenario):
            app.notify(f"{source} is unchanged: the run goes on at step {steps}", title="reload")
            return
        await app.start_scenario(scenario)
        gone = f" (the run of {count(steps, 'step')} before it is gone)" if steps else ""
        name = shown(scenario.title)
        app.notify(f"{source} changed: a new run of {name} starts at step 0{gone}", title="reloaded")
