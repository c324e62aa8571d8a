"""Driving BackpropApp in tests: a Pilot session that fails on anything the app raised, and
readers for what its header and panels show.

``drive(app)`` runs the app headless at a fixed size and yields a ``Session``; on the way out
it asserts that the app raised nothing: ``run_test`` re-raises an exception that escaped the
app, and ``drive`` also fails on a worker that ended in an error, an "error" notification (the
app turns a failing step into one instead of crashing) and a non-zero return code.

What the app shows is read two ways: ``Panel.text`` (a panel's whole content, also the part
scrolled out of view) and ``Session.screen()`` (the composited screen, as a user sees it).
``shows(text, value)`` compares a number on screen with the StepRecord's to the precision it is
printed with, so the tests check the values without copying the app's number formatting.
"""

from __future__ import annotations

import io
import json
import math
import re
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from textual.notifications import SeverityLevel
from textual.pilot import Pilot
from textual.worker import Worker, WorkerState

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main as cli_main
from tui_backprop.scenario.reader import Scenario
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.base import Panel

SIZE = (140, 40)  # wide enough for the 2 x 3 grid and the long header labels

# a network that neither reaches a target loss nor its max_steps within a test's few thousand steps
LONG_RUN = """\
[scenario]
name = "long run 2-2-1"

[network]
layers = [2, 2, 1]
activation = "sigmoid"

[init]
method = "uniform"
seed = 1

[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 0]

[training]
loss = "mse"
learning_rate = 0.5
max_steps = 100000
"""

# identity 1-1, learning rate 1e160: the first update overflows the training-set loss, so the
# run diverges at step 1, first at the training-set loss after the update
DIVERGE_1_1 = (Path(__file__).parent / "data" / "diverges_1_1.toml").read_text()

# identity 1-1, learning rate 0.4: the training-set loss about triples a step and passes 1e8 at
# step 18, every number finite: the run diverges there
EXPLODE_1_1 = (Path(__file__).parent / "data" / "explodes_1_1.toml").read_text()

# identity 2-2-1 with weights near 1e57 of both signs: step 1 computes deltas and gradients near
# 1e172, and z[2] of the training set with the updated weights overflows: diverges at step 1
DIVERGE_2_2_1 = """\
[scenario]
name = "diverges 2-2-1"

[network]
layers = [2, 2, 1]
activation = "identity"

[init]
method = "explicit"
weights = [[[1e57, -2e57], [-3e57, 1e57]], [[2e57, -1e57]]]
biases = [[0.0, 0.0], [0.0]]

[data]
inputs = [[1.0, 2.0], [3.0, -1.0]]
targets = [1.0, 0.0]

[training]
loss = "mse"
learning_rate = 1.0
max_steps = 1000
"""


def big_scenario_toml(rows: int = 6) -> str:
    """A 20-16-3 network (bigger than the 12 nodes a layer the app draws one by one) on data
    written out here: deterministic numbers from a formula, one-hot-ish targets."""
    inputs = [[round(math.sin(1.7 * r + 0.31 * c), 3) for c in range(20)] for r in range(rows)]
    targets = [[1.0 if k == r % 3 else 0.0 for k in range(3)] for r in range(rows)]
    return textwrap.dedent(
        f"""\
        [scenario]
        name = "big 20-16-3"

        [network]
        layers = [20, 16, 3]
        activation = "tanh"

        [init]
        method = "xavier"
        seed = 7

        [data]
        inputs = {json.dumps(inputs)}
        targets = {json.dumps(targets)}

        [training]
        loss = "mse"
        learning_rate = 0.1
        batch = 4
        max_steps = 1000
        """
    )


def scenario_file(tmp_path: Path, text: str, name: str = "scenario.toml") -> Scenario:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_scenario(str(path))


# -- the harness -------------------------------------------------------------------------------


@dataclass
class Note:
    message: str
    title: str
    severity: str


@dataclass
class Session:
    pilot: Pilot
    app: BackpropApp
    notes: list[Note] = field(default_factory=list)

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.pilot.pause()

    async def tap(self, key: str, then: Callable[[], bool], what: str) -> None:
        """Press ``key`` while the app is busy (playing), and let it run until ``then()`` holds.
        ``press`` waits for the app to go idle, which a playing app never does: Textual's pilot
        gives up after a second, three times a key, and the app plays on meanwhile."""
        self.app.simulate_key(key)
        await self.until(then, what=what)

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        """Let the app run until ``predicate()`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
            await self.pilot.pause(0.01)

    def screen(self) -> str:
        """The screen as plain text, one line a row: what ``App.export_screenshot`` draws."""
        app = self.app
        width, height = app.size
        console = Console(
            width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
            legacy_windows=False,
        )  # fmt: skip
        console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
        return console.export_text()

    def header(self) -> str:
        """The two header lines (and the banner, when it shows) as they are on screen."""
        return "\n".join(self.screen().splitlines()[:3])

    def panel(self, name: str) -> str:
        return self.app.query_one(f"#{name}", Panel).text

    def panels(self) -> dict[str, str]:
        return {name: self.panel(name) for name in ("network", "forward", "backward", "gradients", "weights")}

    def noted(self, text: str, severity: str | None = None) -> bool:
        return any(text in n.message and severity in (None, n.severity) for n in self.notes)


def calls_of(owner: object, method: str) -> list[bool]:
    """A list that grows by one each time ``owner.method`` is called from now on (the screen's
    ``_refresh_layout``: a layout; its ``_compositor_refresh``: a frame); the call goes through."""
    calls: list[bool] = []
    call = getattr(owner, method)
    setattr(owner, method, lambda *a, **k: calls.append(True) or call(*a, **k))
    return calls


@asynccontextmanager
async def drive(
    app: BackpropApp, size: tuple[int, int] = SIZE, notifications: bool = False
) -> AsyncIterator[Session]:
    """Run ``app`` headless at ``size``; afterwards assert that it raised nothing.
    ``notifications``: draw them on the screen as toasts (Textual's tests leave them out)."""
    worker_errors: list[BaseException | None] = []

    def hook(message: object) -> None:
        if isinstance(message, Worker.StateChanged) and message.state == WorkerState.ERROR:
            worker_errors.append(message.worker.error)

    session_notes: list[Note] = []
    notify = app.notify

    def recording_notify(
        message: str, *, title: str = "", severity: SeverityLevel = "information", **kw: Any
    ) -> None:
        session_notes.append(Note(message, title, severity))
        notify(message, title=title, severity=severity, **kw)

    app.notify = recording_notify  # type: ignore[method-assign]
    # run_test re-raises what the app raised
    async with app.run_test(size=size, message_hook=hook, notifications=notifications) as pilot:
        await pilot.pause()
        yield Session(pilot, app, session_notes)
    assert app.return_code in (None, 0), f"the app ended with return code {app.return_code}"
    assert not worker_errors, f"a worker failed: {worker_errors!r}"
    errors = [n for n in session_notes if n.title == "error"]
    assert not errors, f"the app reported an internal error: {errors}"


# -- reading numbers off the screen ------------------------------------------------------------

NUMBER = re.compile(r"^[+-]?(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$")


def shows(text: str, value: float) -> bool:
    """Whether ``text`` is ``value`` printed to the precision the text has (at least 2 digits)."""
    value = float(value)
    if text in ("nan", "+inf", "-inf", "inf"):
        return (math.isnan(value) and text == "nan") or (math.isinf(value) and float(text) == value)
    if text == "0":
        return value == 0.0
    m = NUMBER.match(text)
    assert m, f"not a number: {text!r}"
    decimals, exponent = len(m.group(2) or ""), int(m.group(3) or 0)
    half_unit = 0.5 * 10.0 ** (exponent - decimals)
    shown = float(text)
    assert half_unit <= 0.05 * abs(shown) or half_unit <= 5e-5, f"{text!r} is printed too coarsely"
    return abs(shown - value) <= half_unit * (1 + 1e-9)


WEIGHT_ROW = re.compile(
    r"^(?P<mark>▸ |  )(?P<src>\S+)→(?P<dst>\S+)\s+(?P<before>\S+)"
    r"(?: →\s+(?P<after>\S+)\s+(?P<arrow>[▲▼=])\s*(?P<change>\S+)?)?$"
)


def weight_rows(panel_text: str) -> list[re.Match[str]]:
    return [m for line in panel_text.splitlines() if (m := WEIGHT_ROW.match(line))]


def node_names(app: BackpropApp) -> list[list[str]]:
    return [list(names) for names in app.net.names]


def check_weights_panel(app: BackpropApp, text: str) -> None:
    """Every row of the weights panel shows W (or b) before, after and the change of the record
    on screen (before any step: the initial weights), and the rows come in the order j, i."""
    rec, names = app.record, node_names(app)
    rows = weight_rows(text)
    expected = []
    for l in range(1, len(names)):
        before = rec.layers[l - 1].w_before if rec else app.trainer.initial_W[l - 1]
        after = rec.layers[l - 1].w if rec else before
        b_before = rec.layers[l - 1].b_before if rec else app.trainer.initial_b[l - 1]
        b_after = rec.layers[l - 1].b if rec else b_before
        for j, dst in enumerate(names[l]):
            for i, src in enumerate(names[l - 1]):
                expected.append((src, dst, before[j, i], after[j, i]))
            if app.scenario.bias:
                expected.append(("b", dst, b_before[j], b_after[j]))
    assert [(m["src"], m["dst"]) for m in rows] == [(s, d) for s, d, _, _ in expected]
    for m, (src, dst, w0, w1) in zip(rows, expected, strict=True):
        assert shows(m["before"], w0), f"{src}→{dst}: before shows {m['before']}, is {w0}"
        if rec is None:
            assert m["after"] is None  # before the first step there is no "after"
            continue
        assert shows(m["after"], w1), f"{src}→{dst}: after shows {m['after']}, is {w1}"
        change = w1 - w0
        assert m["arrow"] == ("▲" if change > 0 else "▼" if change < 0 else "=")
        if change:
            assert shows(m["change"], change), f"{src}→{dst}: Δ shows {m['change']}, is {change}"


def block(text: str, title: str) -> dict[str, list[str]]:
    """The matrix under the heading ``title`` in a panel's grid: {row label: [cells as shown]}.

    A grid is a title line (blocks separated by │), a line of column names, then one line a row
    (``▸ #0  -0.1266 │ ...``), up to the next blank line."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        cells = line.split("│")
        found = [k for k, c in enumerate(cells) if c.split() == [title]]
        if not found:
            continue
        k = found[0]
        columns = len(lines[n + 1].split("│")[k].split())
        rows: dict[str, list[str]] = {}
        for row in lines[n + 2 :]:
            if not row.strip() or "│" not in row and len(cells) > 1:
                break
            tokens = row.split("│")[k].split()
            label = row.split("│")[0].replace("▸", " ").split()[0]
            rows[label] = tokens[-columns:]
        return rows
    raise AssertionError(f"no block {title!r} in:\n{text}")


def check_block(text: str, title: str, labels, values: np.ndarray) -> None:
    rows = block(text, title)
    assert list(rows) == list(labels), title
    for label, shown, row in zip(labels, rows.values(), np.atleast_2d(values), strict=True):
        assert len(shown) == len(row), (title, label)
        for cell, v in zip(shown, row, strict=True):
            assert shows(cell, v), f"{title} row {label}: shows {cell}, is {v}"


def fresh(scenario: Scenario, steps: int) -> Trainer:
    """An independent Trainer that has taken ``steps`` steps: what the app's state must equal."""
    t = Trainer(scenario)
    t.run(steps, record=False)
    assert t.step_count == steps
    return t


def same_state(app: BackpropApp, other: Trainer) -> bool:
    t = app.trainer
    return (
        t.step_count == other.step_count
        and all(np.array_equal(a, b) for a, b in zip(t.W, other.W, strict=True))
        and all(np.array_equal(a, b) for a, b in zip(t.b, other.b, strict=True))
        and t.losses == other.losses
    )


def headless_trace(scenario: str | Path, steps: int, path: Path) -> bytes:
    assert cli_main([str(scenario), "--headless", "--steps", str(steps), "--export", str(path)]) == 0
    return path.read_bytes()


def step_of(header: str) -> int:
    m = re.search(r"step (\d+)/\d+", header)
    assert m, f"no step in the header: {header!r}"
    return int(m.group(1))
