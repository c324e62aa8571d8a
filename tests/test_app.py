"""The app (DESIGN section 7) driven through Textual's Pilot: every key and every command of the
command palette, checked on the app's state and on what its panels and header show.

Each test runs the app headless at a fixed size (SIZE) on a bundled or written-out scenario, with
a comment on every key press, through ``app_harness.drive``, which fails when the app raised
anything, a worker failed or the app reported an internal error.
"""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
from app_harness import (
    DIVERGE_1_1,
    DIVERGE_2_2_1,
    LONG_RUN,
    SIZE,
    Session,
    big_scenario_toml,
    check_block,
    check_weights_panel,
    drive,
    fresh,
    headless_trace,
    same_state,
    scenario_file,
    shows,
    step_of,
    weight_rows,
)
from textual.command import CommandInput, CommandList, CommandPalette
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario
from tui_backprop.tui.app import BackpropApp, MainScreen
from tui_backprop.tui.control.play import Runner
from tui_backprop.tui.screens.answer import AnswerScreen
from tui_backprop.tui.screens.help import HelpScreen
from tui_backprop.tui.screens.neuron import NeuronScreen
from tui_backprop.tui.screens.probe import ProbeScreen
from tui_backprop.tui.screens.value import ValueScreen

# -- stepping ----------------------------------------------------------------------------------


async def test_space_and_n_each_take_one_step_and_every_panel_shows_it():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        assert app.trainer.step_count == 0 and app.record is None
        assert step_of(s.header()) == 0
        assert "space: take the first step" in s.header()
        check_weights_panel(app, s.panel("weights"))  # the initial weights, no "after" yet

        await s.press("space")  # space: the first step
        rec = app.record
        assert app.trainer.step_count == 1 and rec is not None and rec.step == 1
        assert same_state(app, fresh(app.scenario, 1))
        header = s.header()
        assert step_of(header) == 1
        assert "batch [0 1 2 3]" in header  # xor is full batch: every sample, in file order
        assert re.search(r"loss (\S+)", header) and shows(re.search(r"\bloss (\S+)", header)[1], rec.loss)
        assert shows(re.search(r"train loss (\S+)", header)[1], rec.train_loss)
        check_weights_panel(app, s.panel("weights"))
        # every number of the step, in the panel that shows it
        forward, backward, gradients = s.panel("forward"), s.panel("backward"), s.panel("gradients")
        assert shows(re.search(r"batch loss (\S+)", forward)[1], rec.loss)
        samples = [f"#{k}" for k in rec.batch]
        check_block(forward, "x", samples, rec.x)
        check_block(forward, "t", samples, rec.t)
        check_block(forward, "ℓ", samples, rec.sample_losses[:, None])
        for l, lr in enumerate(rec.layers, start=1):
            check_block(forward, f"z[{l}]", samples, lr.z)
            check_block(forward, f"a[{l}]", samples, lr.a)
            check_block(backward, f"delta[{l}]", samples, lr.delta)
            check_block(gradients, f"grad_w[{l}]", app.net.names[l], lr.grad_w)
            check_block(gradients, f"grad_b[{l}]", app.net.names[l], lr.grad_b[:, None])
        # the network diagram shows the output of the selected sample (#0)
        assert re.search(r"y (\S+)", s.panel("network"))
        assert shows(re.search(r"\by (\S+)", s.panel("network"))[1].rstrip(), rec.layers[-1].a[0, 0])

        await s.press("n")  # n: a second step
        assert app.trainer.step_count == 2 and app.record.step == 2
        assert same_state(app, fresh(app.scenario, 2))
        assert step_of(s.header()) == 2
        check_weights_panel(app, s.panel("weights"))


async def test_b_steps_back_to_the_state_and_the_panels_of_the_step_before():
    app = BackpropApp(load_scenario("proportional_2_3_1"))  # one sample a step: the batch changes
    async with drive(app) as s:
        at_0 = (s.panels(), s.header())
        await s.press("b")  # b at step 0: nothing to undo, says so
        assert app.trainer.step_count == 0 and s.noted("already at step 0")

        await s.press("space", "space")  # space twice: steps 1 and 2
        state_2 = fresh(app.scenario, 2)
        panels_2, header_2 = s.panels(), s.header()
        assert "batch [1]" in header_2  # the second sample of the data, in file order
        await s.press("space")  # space: step 3
        assert "batch [2]" in s.header() and s.panels() != panels_2

        await s.press("b")  # b: back to step 2
        assert same_state(app, state_2)
        assert app.record.step == 2 and app.record.batch == (1,)
        assert s.panels() == panels_2 and s.header() == header_2
        check_weights_panel(app, s.panel("weights"))

        await s.press("b", "b")  # b twice: back to step 0
        assert app.trainer.step_count == 0 and app.record is None
        assert (s.panels(), s.header()) == at_0

        await s.press("space")  # space: stepping again after undoing gives the same step 1
        assert same_state(app, fresh(app.scenario, 1))


async def test_b_beyond_the_steps_kept_in_memory_replays_to_the_exact_step_before():
    app = BackpropApp(load_scenario("proportional_2_3_1"), history=3)  # 3 steps back from memory
    async with drive(app) as s:
        seen = [(s.panels(), step_of(s.header()))]
        for _ in range(6):
            await s.press("space")  # space: steps 1 to 6, each screen kept to compare with later
            seen.append((s.panels(), step_of(s.header())))
        replays = 0
        for k in range(5, -1, -1):
            replays += app.trainer.undo_replays
            await s.press("b")  # b: one step back, from memory or by replaying in the worker
            await s.until(lambda: not app.playing, what="the replay")
            assert same_state(app, fresh(app.scenario, k)), k
            assert (app.record.step if app.record else 0) == k
            assert (s.panels(), step_of(s.header())) == seen[k], k
            assert "paused" in s.header()
        assert replays >= 1  # the replaying path was taken at least once


async def test_r_resets_to_step_0_and_the_initial_weights():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        at_0 = (s.panels(), s.header())
        await s.press("space", "space", "space")  # space x3: step 3
        assert app.trainer.step_count == 3
        await s.press("r")  # r: reset
        assert app.trainer.step_count == 0 and app.record is None
        assert all(np.array_equal(w, w0) for w, w0 in zip(app.trainer.W, app.trainer.initial_W, strict=True))
        assert len(app.trainer.losses) == 0 and app.query_one("#chart").steps == 0
        assert (s.panels(), s.header()) == at_0
        check_weights_panel(app, s.panel("weights"))


def runs_ended(monkeypatch) -> list[str]:
    """What each stepping loop of the app (Runner.run, in the play worker) returned, in order."""
    ended: list[str] = []
    run = Runner.run

    def recorded(self, *args, **kwargs):
        ended.append(outcome := run(self, *args, **kwargs))
        return outcome

    monkeypatch.setattr(Runner, "run", recorded)
    return ended


async def test_p_plays_and_pauses_and_keys_work_while_it_plays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # a run that never stops by itself: a key pressed while it plays can take a second or more
    # to settle, and xor reaches its target loss at step 569, which is not far at 100 steps a second
    app = BackpropApp(scenario_file(tmp_path, LONG_RUN, "long.toml"))
    ended = runs_ended(monkeypatch)
    async with drive(app) as s:

        async def stepping_has_ended() -> None:
            """The play worker's loop has returned: no step can follow (instead of waiting a
            while and seeing that none did)."""
            await s.until(lambda: ended and ended[-1] == "cancelled", what="the play loop to end")
            ended.clear()

        await s.press("plus", "plus", "plus")  # + three times: 10 -> 20 -> 50 -> 100 steps a second
        assert app.rate == 100

        await s.tap("p", lambda: app.playing, "p to play")  # p: play
        await s.until(lambda: app.trainer.step_count >= 5, what="5 steps while playing")
        await s.until(lambda: app.record is not None and app.record.step >= 3, what="the screen to follow")
        assert "playing 100/s" in s.header()
        await s.tap("p", lambda: not app.playing, "p to pause")  # p: pause
        paused_at = app.trainer.step_count
        await stepping_has_ended()
        await s.pilot.pause()
        assert app.trainer.step_count == paused_at and app.record.step == paused_at
        assert step_of(s.header()) == paused_at and "paused" in s.header()
        assert same_state(app, fresh(app.scenario, paused_at))  # a pause never leaves a half-done step

        for key in ("n", "b"):
            await s.tap("p", lambda: app.playing, "p to play")  # p: play again
            await s.until(lambda start=paused_at: app.trainer.step_count >= start + 3, what="playing on")
            # n or b while playing: pauses, then steps forward or back once
            await s.tap(key, lambda: not app.playing, f"{key} to pause")
            await stepping_has_ended()
            await s.pilot.pause()
            count = app.trainer.step_count
            assert app.record.step == count and step_of(s.header()) == count
            assert same_state(app, fresh(app.scenario, count))
            await s.pilot.pause(0.1)
            assert app.trainer.step_count == count  # it stays paused
            paused_at = count

        await s.tap("p", lambda: app.playing, "p to play")  # p: play again
        await s.until(lambda: app.trainer.step_count >= paused_at + 3, what="playing on")
        await s.tap("e", lambda: not app.playing, "e to pause")  # e while playing: pauses, then
        await stepping_has_ended()  # exports every step up to here
        count = app.trainer.step_count
        await wait_export(s, 2)
        assert json.loads((tmp_path / "long-trace.json").read_bytes())["summary"]["steps"] == count
        assert app.trainer.step_count == count

        await s.tap("p", lambda: app.playing, "p to play")  # p: play again
        await s.until(lambda: app.trainer.step_count >= count + 3, what="playing on")
        await s.tap("r", lambda: not app.playing, "r to pause")  # r while playing: pauses and resets
        await stepping_has_ended()
        await s.pilot.pause()
        assert app.trainer.step_count == 0 and app.record is None and step_of(s.header()) == 0


async def test_plus_and_minus_change_the_play_rate_within_bounds():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        assert app.rate == 10 and "p plays 10/s" in s.header()
        await s.press("plus")  # +: faster
        assert app.rate == 20 and "p plays 20/s" in s.header()
        await s.press("plus")  # + again (= edits a number: tests/test_app_edits.py)
        assert app.rate == 50 and "p plays 50/s" in s.header()
        await s.press("minus")  # -: slower
        assert app.rate == 20
        await s.press(*["minus"] * 5)  # - five times: down to the slowest, and no further
        assert app.rate == 1 and "p plays 1/s" in s.header()
        await s.press(*["plus"] * 12)  # + twelve times: up to the fastest, and no further
        assert math.isinf(app.rate) and "p plays at max speed" in s.header()
        assert app.trainer.step_count == 0  # changing the rate takes no step


async def test_f_and_shift_f_run_100_and_1000_steps_and_stop_where_the_run_stops():
    app = BackpropApp(load_scenario("xor"))  # stops by itself at step 569: target loss 0.01
    async with drive(app) as s:
        await s.press("f")  # f: 100 steps as fast as possible
        await s.until(lambda: not app.playing, what="100 steps")
        assert app.trainer.step_count == 100 and app.record.step == 100
        assert step_of(s.header()) == 100
        assert same_state(app, fresh(app.scenario, 100))
        check_weights_panel(app, s.panel("weights"))

        await s.press("F")  # F: 1000 more steps, but the run reaches its target loss first
        await s.until(lambda: not app.playing, what="the run to stop")
        reference = Trainer(app.scenario)
        reference.run(5000, record=False)
        assert reference.stop_reason == "target_loss"
        assert app.trainer.step_count == reference.step_count == app.record.step
        assert app.record.stop_reason == "target_loss"
        assert "stopped: target_loss" in s.header()
        assert s.noted(f"stopped by itself at step {reference.step_count}")

        await s.press("space")  # space after the run stopped: a warning, no step, no crash
        assert app.trainer.step_count == reference.step_count
        assert s.noted("the run has stopped (target_loss)", "warning")
        await s.press("b")  # b: stepping back from the end still works
        assert app.trainer.step_count == reference.step_count - 1 and "stopped" not in s.header()


# -- export --------------------------------------------------------------------------------------


async def wait_export(s: Session, count: int) -> None:
    await s.until(lambda: not s.app.exporting, what="the export")
    await s.until(lambda: len([n for n in s.notes if n.title == "export"]) >= count, what="its notification")


async def test_e_exports_the_same_bytes_as_a_headless_run_and_a_valid_trace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "space", "space")  # space x3: step 3
        await s.press("e")  # e: export
        await wait_export(s, 2)  # "exporting ..." then "trace written ..."
        path = tmp_path / "xor-trace.json"  # the default name: <scenario>-trace.json in the cwd
        assert app.last_export_path == path and s.noted(f"trace written to {path}")
        assert s.header().splitlines()[1].rstrip().endswith("exported xor-trace.json")  # relative to the cwd
        trace = json.loads(path.read_text(encoding="utf-8"))
        validate_trace(trace)
        assert [st["step"] for st in trace["steps"]] == [1, 2, 3]
        (tmp_path / "ref").mkdir()
        assert path.read_bytes() == headless_trace("xor", 3, tmp_path / "ref" / "3.json")

        await s.press("b")  # b: back to step 2, then export again: only the steps up to here
        await s.press("e")  # e: export; the file is this session's own, so it is updated
        await wait_export(s, 4)
        assert app.last_export_path == path
        assert json.loads(path.read_bytes())["summary"]["steps"] == 2
        assert path.read_bytes() == headless_trace("xor", 2, tmp_path / "ref" / "2.json")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ref", "xor-trace.json"]
        assert app.trainer.step_count == 2  # exporting took no step


async def test_export_never_overwrites_a_file_it_did_not_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    foreign = tmp_path / "xor-trace.json"
    foreign.write_text("somebody else's file\n")
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        await s.press("e")  # e: the default name is taken by a foreign file: a number is added
        await wait_export(s, 2)
        numbered = tmp_path / "xor-trace-1.json"
        assert app.last_export_path == numbered
        assert foreign.read_text() == "somebody else's file\n"
        assert json.loads(numbered.read_bytes())["summary"]["steps"] == 1

        await s.press("space", "e")  # space, e: step 2 and export again, into its own file
        await wait_export(s, 4)
        assert app.last_export_path == numbered
        assert json.loads(numbered.read_bytes())["summary"]["steps"] == 2
        assert foreign.read_text() == "somebody else's file\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["xor-trace-1.json", "xor-trace.json"]


async def test_export_into_a_directory_writes_the_default_name_inside_it(tmp_path):
    app = BackpropApp(load_scenario("xor"), export_path=tmp_path)
    async with drive(app) as s:
        await s.press("space", "e")  # space, e: step 1, export
        await wait_export(s, 2)
        assert app.last_export_path == tmp_path / "xor-trace.json"
        validate_trace(json.loads(app.last_export_path.read_bytes()))


def unwritable_directory(tmp_path: Path) -> Path:
    """A directory this process cannot create files in, even as root; or skip."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    for candidate in (ro, Path("/sys")):
        probe = candidate / ".probe-backprop-tui"
        try:
            probe.touch()
        except OSError:
            return candidate
        probe.unlink()
    pytest.skip("no directory here refuses writes")


@pytest.mark.parametrize("where", ["missing directory", "below a file", "read-only directory"])
async def test_a_failed_export_is_a_notification_and_the_app_keeps_working(tmp_path, where):
    if where == "missing directory":
        target = tmp_path / "missing" / "t.json"
    elif where == "below a file":
        (tmp_path / "a-file").write_text("x")
        target = tmp_path / "a-file" / "t.json"
    else:
        target = unwritable_directory(tmp_path) / "t.json"
    app = BackpropApp(load_scenario("xor"), export_path=target)
    try:
        async with drive(app) as s:
            await s.press("space", "e")  # space, e: step 1, export to a place that cannot hold it
            await s.until(lambda: s.noted("export failed", "error"), what="the failure notification")
            assert not app.exporting and app.last_export_path is None and app.is_running
            assert not target.exists()
            await s.press("space")  # space: the app still steps
            assert app.trainer.step_count == 2 and step_of(s.header()) == 2
            await s.press("e")  # e: and a second export fails the same way, not "already running"
            await s.until(lambda: len([n for n in s.notes if "export failed" in n.message]) == 2)
            assert not s.noted("already running")
    finally:
        if (tmp_path / "ro").exists():
            (tmp_path / "ro").chmod(0o755)


# -- selection, zoom, chart, scrolling -----------------------------------------------------------


async def test_selection_keys_move_the_selection_and_the_highlight():
    app = BackpropApp(load_scenario("xor"))  # 2-3-1 with biases; names x1 x2 / h1 h2 h3 / y
    async with drive(app) as s:
        await s.press("space")  # space: step 1, so that every panel has numbers

        def marked_weight() -> str:
            rows = [m for m in weight_rows(s.panel("weights")) if m["mark"] == "▸ "]
            assert len(rows) == 1
            return f"{rows[0]['src']}→{rows[0]['dst']}"

        moves = [
            ("down", "W[1][1,0] x1→h2", "x1→h2"),  # down: the next row j
            ("right", "W[1][1,1] x2→h2", "x2→h2"),  # right: the next column i
            ("right", "b[1][1] →h2", "b→h2"),  # right again: the bias column
            ("right", "W[2][0,0] h1→y", "h1→y"),  # past the bias: the next layer (j clamped to 0)
            ("down", "W[2][0,0] h1→y", "h1→y"),  # layer 2 has one row: down stays
            ("left", "b[1][0] →h1", "b→h1"),  # left past column 0: the bias column of layer 1
            ("up", "b[1][0] →h1", "b→h1"),  # up from row 0 stays
        ]
        assert marked_weight() == "x1→h1"
        for key, label, row in moves:
            await s.press(key)  # the arrow named in the table above
            assert f"selected weight: {label}" in s.header(), key
            assert marked_weight() == row, key
            assert f"selected {label} = " in s.panel("network"), key
        sel = app.selection
        assert (sel.mode, sel.layer, sel.j, sel.i) == ("weight", 1, 0, 2)

        await s.press("tab")  # tab: select nodes
        assert app.selection.mode == "node" and "node: input node x1 (layer 0, index 0)" in s.header()
        await s.press("down", "right")  # down, right: node x2, then layer 1 (node 1: h2)
        assert "node: hidden node h2 (layer 1, index 1)" in s.header()
        assert "selected hidden node h2 (layer 1, index 1)" in s.panel("network")

        await s.press("tab")  # tab: select a sample of the batch
        assert app.selection.mode == "sample" and "sample: k=0 (#0)" in s.header()
        await s.press("down")  # down: sample k=1
        assert "sample: k=1 (#1)" in s.header()
        for panel in ("forward", "backward"):
            assert re.search(r"^▸ #1\s", s.panel(panel), re.M), panel
        assert "sample #1 (k=1): x = (0, +1.000)" in s.panel("network")
        await s.press("right_square_bracket", "right_square_bracket")  # ] twice: k=3
        assert app.selection.sample == 3 and "sample: k=3 (#3)" in s.header()
        await s.press("right_square_bracket")  # ]: the batch has 4 samples, k stays 3
        assert app.selection.sample == 3
        await s.press("left_square_bracket")  # [: k=2
        assert app.selection.sample == 2 and re.search(r"^▸ #2\s", s.panel("forward"), re.M)

        await s.press("shift+tab")  # shift+tab: back to selecting nodes, the node kept
        assert app.selection.mode == "node" and "node: hidden node h2" in s.header()
        await s.press("tab", "tab")  # tab twice: round to weights, the weight kept
        assert app.selection.mode == "weight" and marked_weight() == "b→h1"
        assert app.trainer.step_count == 1  # selecting takes no step


async def test_a_click_on_a_number_selects_it():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        screen = s.screen().splitlines()
        y = next(n for n, line in enumerate(screen) if "x2→h3" in line)  # a row of the weights panel
        x = screen[y].index("x2→h3") + 1
        await s.pilot.click(offset=(x, y))  # a click on the weight x2→h3
        await s.pilot.pause()
        sel = app.selection
        assert (sel.mode, sel.layer, sel.j, sel.i) == ("weight", 1, 2, 1)
        assert "selected weight: W[1][2,1] x2→h3" in s.header()
        forward = s.screen().splitlines()
        y = next(n for n, line in enumerate(forward) if re.search(r"[▸ ] #2 ", line))  # sample #2's row
        await s.pilot.click(offset=(forward[y].index("#2"), y))  # a click on the label of sample #2
        await s.pilot.pause()
        assert app.selection.sample == 2 and app.selection.mode == "weight"  # like ] : any mode
        assert re.search(r"^▸ #2\s", s.panel("forward"), re.M) and "sample #2 (k=2)" in s.panel("network")


async def test_digits_zoom_a_panel_l_switches_the_log_scale_and_page_keys_scroll():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        for key, panel in zip(
            "123456", ["network", "forward", "backward", "gradients", "weights", "chart"], strict=True
        ):
            await s.press(key)  # the digit: zoom this panel to the screen
            assert app.screen.maximized is app.query_one(f"#{panel}"), key
            assert step_of(s.header()) == 1  # the header stays on top of a zoomed panel
            await s.press(key)  # the same digit: back to every panel
            assert app.screen.maximized is None, key
        await s.press("2")  # 2: zoom forward, then escape goes back too
        await s.press("escape")  # escape: unzoom
        assert app.screen.maximized is None

        chart = app.query_one("#chart")
        await s.press("l")  # l: log scale
        assert chart.log_scale
        await s.press("l")  # l: linear again
        assert not chart.log_scale

        await s.pilot.resize_terminal(80, 24)  # narrow: the panels stack in one scrolling column
        panels = app.query_one("#panels")
        assert panels.scroll_y == 0 and panels.max_scroll_y > 0
        await s.press("pagedown")  # pagedown: the next page of panels
        assert panels.scroll_y > 0
        await s.press("pageup")  # pageup: back to the top
        assert panels.scroll_y == 0


# -- help, quit --------------------------------------------------------------------------------


async def test_question_mark_opens_help_that_explains_keys_and_panels_and_escape_closes_it():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("question_mark")  # ?: help
        assert isinstance(app.screen, HelpScreen)
        # the text as one line: the help wraps each row to its width (tests/test_help_layout.py)
        text = " ".join(str(app.screen.query_one("#help-text").content).split())
        for phrase in (
            "One step = one forward pass, one backward pass and one update",
            "delta[l] = ∂ℓ/∂z[l]",
            "grad_w[l] = delta[l]ᵀ·a[l-1] / B",
            "before → after",
            "training-set loss",
        ):
            assert phrase in text, phrase
        for name in ("1 network", "2 forward", "3 backward", "4 gradients", "5 weights", "6 loss"):
            assert name in text, name
        for _, keys, explanation in app.key_help():  # every key and what it does
            assert explanation in text and keys in text, explanation
        assert "backprop-tui help" in s.screen()  # and it is on screen

        await s.press("space", "1", "p", "tab")  # space, 1, p, tab under the help: none reaches the app
        assert isinstance(app.screen, HelpScreen)
        assert app.trainer.step_count == 0 and not app.playing and app.selection.mode == "weight"
        await s.press("escape")  # escape: close help
        assert isinstance(app.screen, MainScreen) and app.screen.maximized is None
        await s.press("question_mark", "q")  # ?, q: in help, q closes the help, not the app
        assert isinstance(app.screen, MainScreen) and app.is_running
        await s.press("question_mark", "question_mark")  # ?, ?: ? closes it too
        assert isinstance(app.screen, MainScreen)
        await s.press("tab")  # tab on the main screen still selects
        assert app.selection.mode == "node"


async def test_q_quits_cleanly():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: a step first
        await s.press("q")  # q: quit
        assert not app.is_running
    assert app.return_code == 0


# -- the command palette ------------------------------------------------------------------------


async def palette(s: Session, explanation: str, typed: str = "") -> None:
    """Open the command palette, enter a search (``typed`` key by key, or else ``explanation``
    set as the input's value: the same Input.Changed for the palette, faster), check that the
    command ``explanation`` is highlighted first, and run it with enter."""
    await s.pilot.press("ctrl+p")  # ctrl+p: the command palette
    await s.until(lambda: isinstance(s.app.screen, CommandPalette), what="the palette")
    if typed:
        await s.pilot.press(*typed)  # the search, one key a character
    else:
        s.app.screen.query_one(CommandInput).value = explanation

    def first() -> str:
        options = s.app.screen.query_one(CommandList)
        index = options.highlighted
        return "" if index is None else str(options.get_option_at_index(index).prompt).split("\n")[0]

    await s.until(lambda: first() == explanation, timeout=5, what=f"{explanation!r} highlighted")
    await s.pilot.press("enter")  # enter: run the highlighted command
    await s.until(lambda: not isinstance(s.app.screen, CommandPalette), what="the palette to close")
    await s.pilot.pause()  # the palette runs the command just after it closes


async def test_the_command_palette_lists_every_action():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        actions = app.key_help()
        assert {a for a, _, _ in actions} >= {"step", "step_back", "play", "reset", "export", "help", "quit"}
        await s.press("ctrl+p")  # ctrl+p: open the palette; empty, it lists every command
        await s.until(lambda: isinstance(app.screen, CommandPalette))
        options = app.screen.query_one(CommandList)
        await s.until(lambda: options.option_count > len(actions) - 1, what="the command list")
        listed = [str(options.get_option_at_index(k).prompt) for k in range(options.option_count)]
        for action, keys, explanation in actions:
            if action == "quit":  # Textual's own Quit command stands for it
                assert any(p.startswith("Quit") for p in listed)
                continue
            assert f"{explanation}\nkey: {keys}" in listed, action
        await s.press("escape")  # escape: close the palette
        assert isinstance(app.screen, MainScreen) and app.trainer.step_count == 0


# the commands the test below runs through the palette's own screen (typed, highlighted, enter);
# the others it runs as the palette does once one is chosen (its SystemCommand's callback), which
# is the same code without the search: the palette redraws the dimmed screen behind it at every
# key, seconds a command
THROUGH_THE_PALETTE = {"step", "goto"}  # and Quit, at the end


async def test_every_command_of_the_palette_does_what_its_key_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(scenario_file(tmp_path, LONG_RUN, "long.toml"))
    ran: set[str] = set()
    help_of = {action: explanation for action, _, explanation in app.key_help()}

    async def command(action: str, typed: str = "") -> None:
        if typed or action in THROUGH_THE_PALETTE:
            await palette(s, help_of[action], typed)
        else:
            chosen = [c for c in app.get_system_commands(app.screen) if c.title == help_of[action]]
            assert len(chosen) == 1, f"the palette lists {help_of[action]!r} {len(chosen)} times"
            await chosen[0].callback()  # what enter on it does
            await s.pilot.pause()
        ran.add(action)

    async with drive(app) as s:
        await command("step", typed="one step")  # typed key by key, like a user
        assert app.trainer.step_count == 1 and step_of(s.header()) == 1
        await command("step")
        await command("step_back")
        assert app.trainer.step_count == 1 and app.record.step == 1
        await command("faster")
        assert app.rate == 20
        await command("slower")
        assert app.rate == 10
        await command("play")
        assert app.playing
        await s.until(lambda: app.trainer.step_count >= 2, what="a step while playing")
        await command("play")
        assert not app.playing
        count = app.trainer.step_count
        await command("run(100)")
        await s.until(lambda: not app.playing, what="100 steps")
        assert app.trainer.step_count == count + 100
        await command("run(1000)")
        await s.until(lambda: not app.playing, what="1000 steps")
        assert app.trainer.step_count == count + 1100 == app.record.step
        assert same_state(app, fresh(app.scenario, count + 1100))
        await command("reset")
        assert app.trainer.step_count == 0 and app.record is None
        await command("step")  # a batch of 4 samples to select from
        await command("export")
        await s.until(lambda: not app.exporting and (tmp_path / "long-trace.json").exists(), what="export")
        assert json.loads((tmp_path / "long-trace.json").read_bytes())["summary"]["steps"] == 1
        await command("reload")  # the file has not changed: the run goes on
        await s.until(lambda: not app.reloading, what="the reload")
        assert s.noted("is unchanged: the run goes on at step 1") and app.trainer.step_count == 1

        await command("cycle(1)")
        assert app.selection.mode == "node"
        await command("cycle(-1)")
        assert app.selection.mode == "weight"
        await command("move(1, 0)")
        assert (app.selection.j, app.selection.i) == (1, 0)
        await command("move(0, 1)")
        assert (app.selection.j, app.selection.i) == (1, 1)
        await command("move(0, -1)")
        assert (app.selection.j, app.selection.i) == (1, 0)
        await command("move(-1, 0)")
        assert (app.selection.j, app.selection.i) == (0, 0)
        await command("sample(1)")
        assert app.selection.sample == 1
        await command("sample(-1)")
        assert app.selection.sample == 0
        await command("log_scale")
        assert app.query_one("#chart").log_scale
        await command("toggle_accuracy")  # A: the accuracy lines of this classifier hidden
        assert not app.query_one("#chart").show_accuracy
        zooms = ("network", "forward", "backward", "gradients", "weights", "boundary", "heatmaps", "chart")
        for name in zooms:
            await command(f"zoom('{name}')")
            assert app.screen.maximized is app.query_one(f"#{name}")
        await command("zoom('chart')")
        assert app.screen.maximized is None
        await command("toggle_explain")  # below 150 columns the explain panel takes the chart's place
        assert app.query_one("#explain").display and not app.query_one("#chart").display
        await command("zoom('explain')")
        assert app.screen.maximized is app.query_one("#explain")
        await command("zoom('explain')")
        await command("toggle_explain")
        assert not app.query_one("#explain").display and app.query_one("#chart").display
        await command("notation")
        assert app.notation == "signals"
        await command("palette")  # C: the colour-blind-safe palette, and back
        assert app.palette == "colorblind"
        await command("palette")
        assert app.palette == "default"
        await command("substep")  # the first phase of step 2
        assert app.trainer.step_count == 2 and app.reveal.index == 1
        await command("answer")  # mid-step: asks for the number the next phase computes
        assert isinstance(app.screen, AnswerScreen)
        await s.press("escape")  # escape: no answer, the step stays where it is
        assert not isinstance(app.screen, AnswerScreen) and app.reveal.index == 1
        await command("step_back")  # back to step 1, drawn whole
        assert app.trainer.step_count == 1 and app.reveal.whole

        await s.pilot.resize_terminal(80, 24)  # narrow: the panels scroll
        await command("scroll_panels(1)")
        assert app.query_one("#panels").scroll_y > 0
        await command("scroll_panels(-1)")
        assert app.query_one("#panels").scroll_y == 0
        await s.pilot.resize_terminal(*SIZE)

        await command("goto")
        await s.press(*"1,1", "enter")  # typed: row 1, column 1 of W[1]
        assert (app.selection.layer, app.selection.j, app.selection.i) == (1, 1, 1)
        await command("neuron")
        assert isinstance(app.screen, NeuronScreen) and "W[1][1, :]" in app.screen.panel.text
        await s.press("escape")  # escape: close the neuron view

        await command("learning_rate(0.5)")  # <: the learning rate halved (tests/test_app_edits.py)
        assert app.trainer.base_learning_rate == 0.25
        await command("learning_rate(2)")  # >
        assert app.trainer.base_learning_rate == 0.5
        await command("edit")  # =: asks for the selected weight's new value
        assert isinstance(app.screen, ValueScreen)
        await s.press(*"0.5", "enter")
        assert app.trainer.W[0][1, 1] == 0.5
        await command("point_class")  # k: the class of the next point a click adds
        assert s.noted("adds a point of class y=1")
        await command("save_scenario")  # W: asks where to save the state
        assert isinstance(app.screen, ValueScreen)
        await s.press("enter")
        await s.until(lambda: (tmp_path / "long-step1.toml").exists(), what="the saved scenario")
        await command("save_data")  # D: asks where to save the data
        await s.press("enter")
        await s.until(lambda: (tmp_path / "long-data.csv").exists(), what="the saved data")
        await command("probe")
        assert isinstance(app.screen, ProbeScreen)
        await s.press("enter")  # enter: the selected sample, offered, probed
        assert app.probing.active and app.trainer.step_count == 1
        await command("leave_probe")
        assert not app.probing.active

        await command("help")
        assert isinstance(app.screen, HelpScreen)
        await s.press("escape")  # escape: close help
        assert app.trainer.step_count == 1
        assert ran == set(help_of) - {"quit"}, "every action of the key map has been run from the palette"

        await palette(s, "Quit")  # Textual's Quit command: the app ends
        await s.until(lambda: not app.is_running, what="the app to quit")
    assert app.return_code == 0


async def test_a_seeded_burst_of_keys_and_resizes_leaves_a_consistent_app(tmp_path, monkeypatch):
    """Keys pressed while a run or an export is under way, back to back, with resizes: the app
    must end with no error and exactly the state of a fresh Trainer after the same number of
    steps, with that step on screen. The sequence is fixed (seeded); the timing is not."""
    monkeypatch.chdir(tmp_path)
    keys = ["space", "n", "b", "p", "plus", "minus", "f", "r", "tab", "down", "right", "right_square_bracket"]
    keys += ["l", "pagedown", "2", "5", "e"]
    rng = random.Random(1)
    app = BackpropApp(load_scenario("proportional_2_3_1"), history=5)  # step back replays past 5
    async with drive(app) as s:
        for _ in range(60):
            if rng.random() < 0.1:
                await s.pilot.resize_terminal(rng.randint(30, 180), rng.randint(8, 50))  # a random size
            await s.pilot.press(rng.choice(keys))  # a random key of the list above
        if app.playing:
            await s.press("p")  # p: pause a run still going
        await s.until(lambda: not app.playing and not app.exporting, timeout=20, what="the app to settle")
        await s.pilot.resize_terminal(*SIZE)  # wide enough again for the whole header
        n = app.trainer.step_count
        assert same_state(app, fresh(app.scenario, n))
        assert (app.record.step if app.record else 0) == n and step_of(s.header()) == n


# -- divergence, a big network, resizing ---------------------------------------------------------


@pytest.mark.parametrize(
    "toml, where",
    [
        (DIVERGE_1_1, lambda nf: "the training-set loss after the update"),
        # where in z[2] depends on how the engine's matrix product overflows: take it from the engine
        (DIVERGE_2_2_1, lambda nf: f"z[2][{nf.index[0]}, {nf.index[1]}] of the training set"),
    ],
    ids=["1-1", "2-2-1"],
)
async def test_a_diverging_run_shows_where_it_diverged_and_further_steps_only_warn(tmp_path, toml, where):
    app = BackpropApp(scenario_file(tmp_path, toml))
    reference = Trainer(app.scenario)
    reference.run(1000)  # with records: the last one says where the run diverged
    assert reference.stop_reason == "diverged"
    n, nf = reference.step_count, reference.last_record.nonfinite
    assert (nf.quantity, nf.layer) in {("train_loss", None), ("train_z", 2)}
    async with drive(app) as s:
        await s.press(*["space"] * n)  # space n times: up to the step that diverges
        rec = app.record
        assert rec.step == n and rec.diverged and rec.nonfinite is not None
        header = s.header()
        assert "stopped: diverged" in header
        assert f"✖ diverged at step {n}: the first non-finite value is {where(nf)}" in header
        assert s.noted(f"diverged at step {n}", "error")
        check_weights_panel(app, s.panel("weights"))  # huge or non-finite, still shown as numbers

        await s.press("space", "n", "p", "f")  # space, n, p, f: the run has stopped; each one only warns
        assert app.trainer.step_count == n and not app.playing
        assert len([x for x in s.notes if "the run has stopped (diverged)" in x.message]) == 4

        await s.press("b")  # b: back before the divergence; the banner goes
        assert app.trainer.step_count == n - 1 and "diverged" not in s.header()
        await s.press("space")  # space: diverges again, identically
        assert app.record.diverged and app.record.nonfinite == rec.nonfinite


async def test_huge_numbers_of_a_diverging_step_stay_apart_in_the_grids(tmp_path):
    # numbers of 1e100 and more take 9 characters ('-3.0e+170'): once they ran together in a
    # grid ('-3.0e+170+1.4e+169'); every cell must still read as its own number
    app = BackpropApp(scenario_file(tmp_path, DIVERGE_2_2_1))
    async with drive(app) as s:
        await s.press("space")  # space: the step that diverges, its deltas and gradients near 1e172
        rec = app.record
        assert rec.diverged and min(np.abs(lr.grad_w).max() for lr in rec.layers) > 1e100
        samples = [f"#{k}" for k in rec.batch]
        for l, lr in enumerate(rec.layers, start=1):
            check_block(s.panel("forward"), f"z[{l}]", samples, lr.z)
            check_block(s.panel("backward"), f"delta[{l}]", samples, lr.delta)
            check_block(s.panel("gradients"), f"grad_w[{l}]", app.net.names[l], lr.grad_w)


async def test_a_diverged_run_exports_a_valid_trace_with_nulls(tmp_path):
    app = BackpropApp(scenario_file(tmp_path, DIVERGE_1_1), export_path=tmp_path / "t.json")
    async with drive(app) as s:
        await s.press("f")  # f: run until the run diverges (at step 1)
        await s.until(lambda: not app.playing, what="the divergence")
        assert app.record.diverged
        await s.press("e")  # e: export
        await wait_export(s, 2)
        data = (tmp_path / "t.json").read_bytes()
        trace = json.loads(data)  # strict JSON: the non-finite loss is null, not Infinity
        validate_trace(trace)
        assert trace["summary"] == {"steps": 1, "final_loss": None, "stop_reason": "diverged"}
        assert b"Infinity" not in data and b"NaN" not in data


async def test_a_big_network_shows_heatmaps_and_an_elided_diagram(tmp_path):
    app = BackpropApp(scenario_file(tmp_path, big_scenario_toml()))
    async with drive(app) as s:
        assert "⋮ 10 more" in s.panel("network") and "⋮ 6 more" in s.panel("network")
        await s.press("space", "space")  # space twice: steps 1 and 2 (batches of 4 of 6 samples)
        assert app.record.step == 2 and app.record.batch == (4, 5)  # the short last batch of epoch 1
        net = s.panel("network")
        assert "⋮ 10 more" in net and "⋮ 6 more" in net  # 20 inputs: first and last 5; 16 hidden: too
        weights = s.panel("weights")
        assert "W[1] after  16×20" in weights and "ΔW[1]  16×20" in weights
        assert re.search(r"[·░▒▓█]{8}", weights)  # the heatmap's shades
        assert "grad_w[1]  16×20" in s.panel("gradients")
        assert "z[1]:" in s.panel("forward") and "norm" in s.panel("forward")  # a 16-wide block: a summary
        assert "selected W[1][0,0] x1→h1: " in weights  # the selected weight, in numbers
        before, after, delta = (
            app.record.layers[0].w_before[0, 0],
            app.record.layers[0].w[0, 0],
            app.record.layers[0].dw[0, 0],
        )
        line = next(x for x in weights.splitlines() if x.startswith("selected W[1][0,0]"))
        shown = re.search(r": (\S+) → (\S+) Δ (\S+)", line)
        assert shows(shown[1], before) and shows(shown[2], after) and shows(shown[3], delta)
        await s.press("down", "right", "tab", "tab", "down")  # selection moves on a big network too
        assert app.selection.mode == "sample" and app.selection.sample == 1
        await s.press("space")  # space: step 3, a full batch of 4 again (epoch 2)
        await s.press("down", "down")  # down twice: the last sample of the batch, k=3
        assert app.selection.sample == 3 and "sample: k=3 (#3)" in s.header()
        await s.press("space")  # space: step 4 has the 2 last samples; k is kept inside the batch
        assert app.record.batch == (4, 5) and app.selection.sample == 1
        assert "sample: k=1 (#5)" in s.header() and re.search(r"^▸ #5\s", s.panel("forward"), re.M)
        await s.press("p")  # p: play a few steps
        await s.until(lambda: app.trainer.step_count >= 6, what="a few steps")
        await s.press("p")  # p: pause
        for size in ((80, 24), (40, 12)):
            await s.pilot.resize_terminal(*size)  # small screens: still no crash
            await s.press("space")  # space: and a step
        assert same_state(app, fresh(app.scenario, app.trainer.step_count))


async def test_resizing_never_crashes_and_the_header_follows():
    # the proportional split: the widest header (its error e) and the most panels
    app = BackpropApp(load_scenario("proportional_2_3_1"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        steps = 1
        for size in [(80, 24), (100, 30), (160, 45), (40, 12), (20, 6), (200, 60), *[SIZE]]:
            await s.pilot.resize_terminal(*size)  # the terminal, resized
            await s.press("space")  # space: a step at this size
            steps += 1
            assert app.size == size and app.trainer.step_count == steps
            screen = s.screen().splitlines()
            assert len(screen) == size[1] and all(len(line) <= size[0] for line in screen)
            if size[0] >= 80:  # narrower, a long scenario name may fill the first header line
                assert step_of(s.header()) == steps, size
            if size[0] < 100:
                await s.press("5")  # 5: zoom the weights panel on a small screen, and back
                assert app.screen.maximized is app.query_one("#weights")
                await s.press("5")
        check_weights_panel(app, s.panel("weights"))
        assert same_state(app, fresh(app.scenario, steps))
