"""``o`` in the comparison view opens the selected variant in the single-run view at the step the
comparison reached, and escape there returns to the comparison as it was left; q quits both.

The apps are the real ones, driven by Pilot, and the loop between them is the command line's
own (cli._open_compare), given a runner that drives each app with a script instead of a
terminal. Each key press has its comment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
import pytest
from app_harness import Session, step_of
from textual.app import App
from textual.pilot import Pilot

from tui_backprop import Trainer
from tui_backprop.cli import EXIT_OK, _open_compare
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.tui.compare_app import CompareApp
from tui_backprop.tui.variant_app import VariantApp

SIZE = (140, 40)
Script = Callable[[Pilot, App], Awaitable[None]]


def variants(vary: str = "training.learning_rate=0.1,10", scenario: str = "linear_neuron_full"):
    return load_variants(scenario, [], parse_vary(vary))


def runner(scripts: list[Script], ran: list[App]) -> Callable[[App], object]:
    """What the command line's loop calls to run an app: the next script drives it, headless."""

    async def drive(app: App, script: Script) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot, app)
        assert app._exception is None, f"{type(app).__name__} raised {app._exception!r}"

    def run(app: App) -> object:
        assert scripts, f"no script left for {type(app).__name__}"
        ran.append(app)
        asyncio.run(drive(app, scripts.pop(0)))
        return app.return_value

    return run


def same_trainer(a: Trainer, b: Trainer) -> bool:
    return (
        a.step_count == b.step_count
        and a.stop_reason == b.stop_reason
        and all(np.array_equal(x, y) for x, y in zip(a.W + a.b, b.W + b.b, strict=True))
        and list(a.train_losses) == list(b.train_losses)
    )


def test_o_opens_the_variant_at_its_step_and_escape_returns_to_the_comparison_as_left():
    seen: dict[str, object] = {}

    async def compare_first(pilot: Pilot, app: App) -> None:
        assert isinstance(app, CompareApp)
        await pilot.press("space", "space", "space")  # space x3: three steps of each variant
        await pilot.press("l")  # l: the chart on a linear scale
        await pilot.press("down")  # down: the second variant, learning rate 10
        seen["trainers"] = list(app.trainers)
        seen["losses"] = [list(t.train_losses) for t in app.trainers]
        await pilot.press("o")  # o: open it in the single-run view

    async def variant(pilot: Pilot, app: App) -> None:
        assert isinstance(app, VariantApp) and app.variant.value == "10"
        compared = seen["trainers"][1]
        assert app.trainer is not compared and same_trainer(app.trainer, compared)
        s = Session(pilot, app)  # type: ignore[arg-type]
        assert step_of(s.header()) == 3 and app.record is not None and app.record.step == 3
        assert "(--vary training.learning_rate=10)" in s.header()  # the name says which variant
        assert "■ paused · escape: back to the comparison" in s.header()  # how to go back
        await pilot.press("space", "b", "b", "b")  # space, b x3: step 4 here, then back to step 1
        assert app.trainer.step_count == 1
        await pilot.press("escape")  # escape: back to the comparison
        assert app.back

    async def compare_again(pilot: Pilot, app: App) -> None:
        assert isinstance(app, CompareApp)
        assert app.trainers == seen["trainers"]  # the same trainers, not moved by the single view
        assert [t.step_count for t in app.trainers] == [3, 3]
        assert [list(t.train_losses) for t in app.trainers] == seen["losses"]
        assert app.query_one("#table").cursor_row == 1  # the variant it left from
        assert app.query_one("#chart").log_scale is False  # the scale it left with
        await pilot.press("space")  # space: the comparison steps on from where it was
        assert [t.step_count for t in app.trainers] == [4, 4]
        await pilot.press("q")  # q: quit

    ran: list[App] = []
    code = _open_compare(
        variants(), None, ("linear_neuron_full", []), run=runner([compare_first, variant, compare_again], ran)
    )
    assert code == EXIT_OK
    assert [type(a) for a in ran] == [CompareApp, VariantApp, CompareApp]


def test_a_diverged_variant_opens_with_its_banner_and_q_there_quits_everything():
    async def compare(pilot: Pilot, app: App) -> None:
        assert isinstance(app, CompareApp)
        await pilot.press("f")  # f: every variant to its end; learning rate 10 diverges at step 4
        for _ in range(500):
            if not app.playing:
                break
            await pilot.pause(0.01)
        assert not app.playing, "the variants did not finish"
        assert app.trainers[1].stop_reason == "diverged" and app.trainers[1].step_count == 4
        await pilot.press("down", "o")  # down, o: open the diverged variant

    async def variant(pilot: Pilot, app: App) -> None:
        assert isinstance(app, VariantApp)
        s = Session(pilot, app)  # type: ignore[arg-type]
        assert app.record is not None and app.record.diverged and app.record.step == 4
        assert "✖ diverged at step 4" in s.header()  # the banner, as the run left it
        await pilot.press("q")  # q: quit, the comparison too

    ran: list[App] = []
    code = _open_compare(variants(), None, ("linear_neuron_full", []), run=runner([compare, variant], ran))
    assert code == EXIT_OK and [type(a) for a in ran] == [CompareApp, VariantApp]
    assert ran[1].back is False


def test_q_in_the_comparison_quits_without_opening_anything():
    async def compare(pilot: Pilot, app: App) -> None:
        await pilot.press("q")  # q: quit

    ran: list[App] = []
    assert _open_compare(variants(), None, ("linear_neuron_full", []), run=runner([compare], ran)) == EXIT_OK
    assert len(ran) == 1


@pytest.mark.parametrize("history", [1, 10_000])
def test_a_fork_is_the_same_state_and_moves_on_its_own(history):
    original = Trainer(variants()[0].scenario, history=1)
    original.run(5, record=False)
    fork = original.fork(history)
    assert same_trainer(fork, original)
    record = fork.current_record()  # the last step again, with a record: the same state after it
    assert record is not None and record.step == 5 and same_trainer(fork, original)
    fork.run(3)
    fork.undo()
    assert (fork.step_count, original.step_count) == (7, 5)
    alone = Trainer(variants()[0].scenario)
    alone.run(7, record=False)
    assert same_trainer(fork, alone)
    fork.reset()
    assert fork.step_count == 0 and original.step_count == 5 and len(original.train_losses) == 5
