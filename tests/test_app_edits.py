"""Editing the run in the app (issue 14): = on a weight, a bias or an input of a sample, < and >
on the learning rate, clicks on the decision boundary that add and remove training points, k for
their class, b across an edit, W saving the state as a scenario and D the data as CSV.

Every expectation is worked out beside the app: the same edits made through the Python API on a
Trainer of its own (``Trainer.edit``), the losses by the reference maths of tests/conftest.py,
the click's point by the boundary's own mapping (engine/boundary.py, tested both ways in
tests/test_saved_state.py). Each key press has its comment.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from app_harness import drive, fresh, headless_trace, scenario_file
from conftest import ref_batch_loss
from textual.widgets import Input

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.engine import Point
from tui_backprop.engine.boundary import pixel_centre, pixel_of
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.writer import write_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.boundary import BoundaryPanel
from tui_backprop.tui.replay_app import ReplayApp
from tui_backprop.tui.screens.value import ValueScreen

XOR = load_scenario("xor")
XOR_FILE = Path(__file__).parents[1] / "scenarios" / "xor.toml"


def same_record(r1, r2) -> None:
    assert r1.step == r2.step and r1.loss == r2.loss and r1.train_loss == r2.train_loss
    for l1, l2 in zip(r1.layers, r2.layers, strict=True):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w_before", "b_before", "w", "b"):
            assert np.array_equal(getattr(l1, name), getattr(l2, name)), name


def train_loss(t: Trainer) -> float:
    """The training-set loss of the trainer's weights and data, by the reference maths."""
    s = t.scenario
    return ref_batch_loss(t.W, t.b, s.activations, s.loss, t.X, t.T)


async def type_in(s, text: str) -> None:
    """Type ``text`` into the open prompt (its starting text selected, so replaced) and enter."""
    assert isinstance(s.app.screen, ValueScreen)
    await s.press(*text, "enter")


async def paste_in(s, text: str) -> None:
    """Put ``text`` in the open prompt as a paste would (control characters too), and enter."""
    assert isinstance(s.app.screen, ValueScreen)
    s.app.screen.query_one(Input).value = text
    await s.press("enter")


# -- = -----------------------------------------------------------------------------------------


async def test_equals_sets_the_selected_weight_and_the_next_step_starts_from_it():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: step 2
        await s.press("equals_sign")  # =: the selected weight W[1][0,0]
        assert isinstance(app.screen, ValueScreen)
        prompt = str(app.screen.query_one("#value-prompt").render())
        assert "new value of W[1][0,0]" in prompt and "now -0.82958" in prompt
        await type_in(s, "1.5")  # 1.5, enter
        (edit,) = app.trainer.edits
        assert (edit.step, edit.what, edit.layer, edit.index, edit.new) == (2, "weight", 1, (0, 0), 1.5)
        assert app.trainer.W[0][0, 0] == 1.5
        line = s.screen().splitlines()[2]  # under the header: what changed since step 2
        assert "✎ edited after step 2: W[1][0,0] x1→h1 -0.82958 → 1.5" in line
        assert "✎ edited after step 2" in s.panel("explain").splitlines()[0]
        # the header's training-set loss is the one with the edit, as the reference computes it
        assert f"train loss {train_loss(app.trainer):.4f}" in s.header()
        assert app.trainer.train_losses[-1] == pytest.approx(train_loss(app.trainer), rel=1e-12)
        boundary = app.query_one(BoundaryPanel)
        assert boundary.weights()[0][0][0, 0] == 1.5  # the boundary draws the edited weights

        await s.press("space")  # space: step 3, from the edited weight
        other = fresh(XOR, 2)
        other.edit("weight", 1.5, layer=1, index=(0, 0))
        same_record(app.record, other.step())
        assert app.record.layers[0].w_before[0, 0] == 1.5
        assert "✎" not in s.screen().splitlines()[2]  # the line goes with the next step


async def test_equals_on_the_bias_column_sets_the_bias():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("right", "right")  # right x2: past x1 and x2, the bias b[1][0]
        await s.press("equals_sign")  # =
        await type_in(s, "-0.25")  # -0.25, enter
        (edit,) = app.trainer.edits
        assert (edit.step, edit.what, edit.layer, edit.index, edit.new) == (0, "bias", 1, (0,), -0.25)
        # before step 1: the initial training-set loss is the one with the edit
        assert app.trainer.initial_train_loss == pytest.approx(train_loss(app.trainer), rel=1e-12)
        assert "✎ edited before step 1: b[1][0] →h1" in s.screen()


async def test_equals_in_sample_mode_sets_an_input_of_the_selected_sample():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("space")  # space: step 1, a full batch of the 4 samples
        await s.press("tab", "tab", "right_square_bracket")  # tab x2, ]: sample k=1 (#1)
        await s.press("equals_sign")  # =: an input of sample #1
        prompt = str(app.screen.query_one("#value-prompt").render())
        assert "new input of sample #1 (x1 = 0, x2 = 1)" in prompt
        await type_in(s, "x2 = 0.5")  # a name and a value
        await s.press("equals_sign")  # = again
        await type_in(s, "0.25")  # a number alone: the first input, x1
        edits = app.trainer.edits
        assert [(e.what, e.index, e.old, e.new) for e in edits] == [
            ("input", (1, 1), 1.0, 0.5),
            ("input", (1, 0), 0.0, 0.25),
        ]
        assert app.trainer.X[1].tolist() == [0.25, 0.5]
        await s.press("space")  # space: step 2 trains on the edited sample
        assert app.record.x[1].tolist() == [0.25, 0.5]


@pytest.mark.parametrize(
    "typed, words",
    [("abc", "is not a number"), ("inf", "not a finite number"), ("1e999", "not a finite number")],
)
async def test_a_value_that_is_not_a_number_changes_nothing(typed, words):
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("equals_sign")  # =
        await type_in(s, typed)
        assert app.trainer.edits == () and s.noted(words, "warning")


async def test_a_name_that_is_not_an_input_changes_nothing_and_is_shown_escaped():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("tab", "tab", "equals_sign")  # tab x2, =: an input of sample 0
        await paste_in(s, "x9\x1b = 1")  # x9 and an escape character
        assert app.trainer.edits == ()
        (note,) = s.notes
        assert "is not an input of the network (x1, x2)" in note.message and "\x1b" not in note.message


async def test_escape_changes_nothing_and_says_nothing():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("equals_sign", "escape")  # =, escape
        assert app.trainer.edits == () and not s.notes


async def test_equals_on_a_node_says_what_it_edits():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("tab", "equals_sign")  # tab: node mode; =
        assert not isinstance(app.screen, ValueScreen)
        assert s.noted("= edits a weight or a bias (weight mode)", "warning")


async def test_a_stopped_run_takes_no_edit_until_b():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("F")  # F: 1000 steps; xor stops at its target loss on the way
        await s.until(lambda: app.trainer.done and not app.playing, what="the run to stop")
        await s.press("less_than_sign")  # <
        assert app.trainer.edits == () and s.noted("the run has stopped (target_loss)", "warning")
        await s.press("b", "less_than_sign")  # b, <: one step back, it takes the edit
        assert len(app.trainer.edits) == 1


# -- < and > -------------------------------------------------------------------------------------


async def test_less_and_greater_halve_and_double_the_rate_of_the_next_step():
    app = BackpropApp(XOR)  # learning_rate = 2
    async with drive(app) as s:
        await s.press("space", "less_than_sign")  # space, <: η 2 → 1
        assert app.trainer.base_learning_rate == 1.0 and " lr 1 " in s.header()
        await s.press("space")  # space: step 2 at η = 1
        rec = app.record
        assert rec.learning_rate == 1.0
        for lr in rec.layers:  # plain gradient descent: w = w_before - η grad_w
            np.testing.assert_allclose(lr.w, lr.w_before - 1.0 * lr.grad_w, rtol=0, atol=1e-15)
        await s.press("greater_than_sign", "greater_than_sign")  # > x2: η 1 → 4
        assert app.trainer.base_learning_rate == 4.0 and " lr 4 " in s.header()
        assert [(e.step, e.old, e.new) for e in app.trainer.edits] == [
            (1, 2.0, 1.0),
            (2, 1.0, 2.0),
            (2, 2.0, 4.0),
        ]
        assert "η 1 → 2; η 2 → 4" in s.screen()


async def test_the_header_of_an_adam_run_shows_the_rate_changed(tmp_path):
    text = (
        (Path(XOR_FILE))
        .read_text(encoding="utf-8")
        .replace('batch = "full"', 'batch = "full"\noptimizer = "adam"\nbeta1 = 0.8')
        .replace("learning_rate = 2.0", "learning_rate = 0.01")
    )
    app = BackpropApp(scenario_file(tmp_path, text))
    async with drive(app) as s:
        assert "Adam(lr=0.01, beta1=0.8" in s.header()
        await s.press("less_than_sign")  # <
        assert "Adam(lr=0.005, beta1=0.8" in s.header()


# -- b across an edit ----------------------------------------------------------------------------


async def test_b_takes_back_the_edits_first_then_the_step():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: step 2
        before = app.trainer.W
        await s.press("equals_sign")  # =
        await type_in(s, "3")
        await s.press("greater_than_sign")  # >
        await s.press("b")  # b: η back to 2
        assert [e.what for e in app.trainer.edits] == ["weight"] and " lr 2 " in s.header()
        await s.press("b")  # b: the weight back
        assert app.trainer.edits == () and app.trainer.step_count == 2
        assert all(np.array_equal(a, b) for a, b in zip(app.trainer.W, before, strict=True))
        assert "✎" not in s.screen()
        await s.press("b")  # b: the step
        assert app.trainer.step_count == 1


async def test_b_at_step_0_takes_back_an_edit_then_says_step_0():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("less_than_sign", "b")  # <, b: the edit taken back
        assert app.trainer.edits == () and not s.notes
        await s.press("b")  # b: nothing left
        assert s.noted("already at step 0")


# -- clicks on the boundary ----------------------------------------------------------------------


def offset_of(panel: BoundaryPanel, row: int, col: int) -> tuple[int, int]:
    """Where a click on the cell (row, col) of the plane lands, from the panel's top left."""
    gutter = panel.gutter
    return gutter.left + panel.left + col, gutter.top + row


async def click_cell(s, row: int, col: int) -> None:
    panel = s.app.query_one(BoundaryPanel)
    await s.pilot.click(BoundaryPanel, offset=offset_of(panel, row, col))
    await s.pilot.pause()


def empty_cell(panel: BoundaryPanel) -> tuple[int, int]:
    rows, cols = panel.plane
    return next((r, c) for r in range(rows) for c in range(cols) if (r, c) not in panel.drawn)


async def test_a_click_on_the_plane_adds_a_point_of_the_selected_samples_class_there():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        panel = app.query_one(BoundaryPanel)
        rows, cols = panel.plane
        row, col = empty_cell(panel)
        await click_cell(s, row, col)  # a click on an empty cell
        (edit,) = app.trainer.edits
        x1, x2 = pixel_centre(row, col, panel.extent, cols, rows)
        assert edit.what == "add_point" and edit.new == Point((x1, x2), (0.0,))  # sample #0's target, 0
        assert len(app.trainer.X) == 5 and app.trainer.X[4].tolist() == [x1, x2]
        # the new point is drawn where it was clicked
        pr, pc = pixel_of(np.array([[x1, x2]]), panel.extent, cols, 2 * rows)
        assert (int(pr[0]) // 2, int(pc[0])) == (row, col) and panel.drawn[row, col] == 4
        assert "point #4 added at" in s.screen() and "y=0" in s.screen()
        assert app.trainer.initial_train_loss == pytest.approx(train_loss(app.trainer), rel=1e-12)

        await s.press("k")  # k: the next class, y=1
        assert s.noted("adds a point of class y=1")
        row, col = empty_cell(panel)
        await click_cell(s, row, col)
        assert app.trainer.edits[-1].new.targets == (1.0,)


async def test_a_click_on_a_point_removes_it_and_b_puts_it_back():
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        panel = app.query_one(BoundaryPanel)
        (row, col), k = next(iter(panel.drawn.items()))
        X = app.trainer.X.copy()
        await click_cell(s, row, col)  # a click on the point drawn there
        (edit,) = app.trainer.edits
        assert edit.what == "remove_point" and edit.index == (k,)
        assert np.array_equal(app.trainer.X, np.delete(X, k, axis=0))
        assert (row, col) not in panel.drawn and len(panel.X) == 3
        await s.press("space")  # space: step 2 over the 3 points left
        assert len(app.record.batch) == 3
        await s.press("b", "b")  # b x2: step 2, then the removal
        assert np.array_equal(app.trainer.X, X) and len(panel.X) == 4


async def test_a_click_adds_one_hot_targets_for_a_softmax_network(tmp_path):
    app = BackpropApp(load_scenario("spiral"))
    async with drive(app) as s:
        panel = app.query_one(BoundaryPanel)
        await s.press("k")  # k: the class after the selected sample's
        first = app.editing.current_class()
        row, col = empty_cell(panel)
        await click_cell(s, row, col)
        targets = app.trainer.edits[-1].new.targets
        assert sum(targets) == 1.0 and targets.index(1.0) == first


async def test_k_on_a_network_without_a_plane_says_so(tmp_path):
    app = BackpropApp(load_scenario("iris"))  # 4 inputs: no boundary panel
    async with drive(app) as s:
        await s.press("k")  # k
        assert s.noted("networks of 2 inputs", "warning")


# -- W and D -------------------------------------------------------------------------------------


async def test_w_saves_a_scenario_whose_first_step_is_the_live_runs_next(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press(*["space"] * 5)  # space x5: step 5
        await s.press("equals_sign")  # =: W[1][0,0]
        await type_in(s, "0.75")
        await s.press("less_than_sign")  # <: η 1
        panel = app.query_one(BoundaryPanel)
        await click_cell(s, *empty_cell(panel))  # a point added
        await s.press("W")  # W: the path asked for, a free name from the scenario's
        assert isinstance(app.screen, ValueScreen)
        assert app.screen.query_one("#value-input").value == "xor-step5.toml"
        await s.press("enter")  # enter: saved there
        await s.until(lambda: not app.saver.saving, what="the save")
        assert s.noted("step 5 saved as a scenario: xor-step5.toml")
        saved = load_scenario(str(tmp_path / "xor-step5.toml"))
        t = Trainer(saved)
        assert saved.learning_rate == 1.0 and len(t.X) == 5
        assert np.array_equal(t.X, app.trainer.X) and np.array_equal(t.T, app.trainer.T)
        mine = t.step()
        await s.press("space")  # space: the live run's step 6
        live = app.record
        assert mine.loss == live.loss and mine.train_loss == live.train_loss
        for l1, l2 in zip(mine.layers, live.layers, strict=True):
            assert np.array_equal(l1.w, l2.w) and np.array_equal(l1.delta, l2.delta)

        await s.press("W", "enter")  # W, enter: the file this session wrote is replaced
        await s.until(lambda: not app.saver.saving, what="the save")
        assert load_scenario(str(tmp_path / "xor-step6.toml")).name.endswith("from step 6")


async def test_w_never_replaces_a_file_it_did_not_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text("not ours", encoding="utf-8")
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("W")  # W
        await type_in(s, "mine.toml")
        assert s.noted("mine.toml already exists: it is not replaced", "error")
        assert (tmp_path / "mine.toml").read_text(encoding="utf-8") == "not ours"
        await s.press("W")  # W: a name full of escape codes, in a folder that is not there
        await paste_in(s, "no/such\x1b[31m/x.toml")
        await s.until(lambda: not app.saver.saving, what="the save")
        bad = s.notes[-1]
        assert bad.severity == "error" and "\x1b" not in bad.message and "\\x1b" in bad.message


async def test_w_refuses_a_fifo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.toml")
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press("W")
        await type_in(s, "pipe.toml")
        assert s.noted("pipe.toml is a FIFO", "error")


async def test_d_saves_the_edited_training_data_as_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await click_cell(s, *empty_cell(app.query_one(BoundaryPanel)))  # a point added
        await s.press("D")  # D
        assert app.screen.query_one("#value-input").value == "xor-data.csv"
        await s.press("enter")
        await s.until(lambda: not app.saver.saving, what="the save")
        assert s.noted("5 training samples saved to xor-data.csv")
    table = scenario_file(
        tmp_path,
        '[scenario]\nname = "t"\n[network]\nlayers = [2, 1]\nactivation = "sigmoid"\n'
        '[data]\ncsv = "xor-data.csv"\ntarget_columns = ["y"]\n[training]\nloss = "mse"\nlearning_rate = 1\n',
    )
    assert np.array_equal(table.inputs, app.trainer.X) and np.array_equal(table.targets, app.trainer.T)


async def test_a_replay_takes_no_edit_until_c_continues_it(tmp_path):
    path = tmp_path / "run.json"
    headless_trace("xor", 3, path)
    app = ReplayApp(read_trace(path))
    async with drive(app) as s:
        await s.press("space", "less_than_sign")  # space: recorded step 1; <
        assert s.noted("a replay shows a recorded run: c continues it live", "warning")
        await s.press("c", "less_than_sign")  # c: live from step 1; <: now it takes the edit
        assert [e.new for e in app.trainer.edits] == [1.0]


# -- the trace ------------------------------------------------------------------------------------


async def test_edits_at_step_5_are_exported_checked_and_replayed_as_the_python_api_makes_them(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(XOR)
    async with drive(app) as s:
        await s.press(*["space"] * 5)  # space x5: step 5
        await s.press("equals_sign")  # =: W[1][0,0]
        await type_in(s, "1.5")
        await s.press("less_than_sign")  # <: η 1
        await click_cell(s, *empty_cell(app.query_one(BoundaryPanel)))  # a point added
        await s.press("space", "space")  # space x2: steps 6 and 7 from the edits
        await s.press("e")  # e: export
        await s.until(lambda: not app.exporting and app.last_export_path is not None, what="the export")
        made = app.trainer.edits
        live = app.record
    exported = (tmp_path / "xor-trace.json").read_bytes()

    # the same steps and edits through the Python API: the same bytes
    t = Trainer(XOR)
    t.run(5)
    t.edit("weight", 1.5, layer=1, index=(0, 0))
    t.edit("learning_rate", 1.0)
    t.edit("add_point", made[2].new)
    t.run(2)
    assert [(e.step, e.what) for e in t.edits] == [(5, "weight"), (5, "learning_rate"), (5, "add_point")]
    write_trace(tmp_path / "api.json", t)
    assert (tmp_path / "api.json").read_bytes() == exported

    assert main(["--check", "xor-trace.json"]) == 0, capsys.readouterr().err  # recomputed, edits and all

    replay = ReplayApp(read_trace(tmp_path / "xor-trace.json"))
    async with drive(replay) as s:
        await s.press(*["space"] * 5)  # space x5: recorded step 5, then its edits
        assert "✎ edited after step 5: W[1][0,0] x1→h1" in s.screen()
        await s.press("space", "space")  # space x2: step 7
        same_record(replay.record, live)


async def test_w_puts_data_too_big_to_be_inline_in_a_csv_file_beside_the_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (
        (XOR_FILE.parent / "circle.toml")
        .read_text(encoding="utf-8")
        .replace("samples = 200", "samples = 120000")
    )
    app = BackpropApp(scenario_file(tmp_path, text, "big.toml"))  # inline, its rows would pass 4 MB
    async with drive(app) as s:
        await s.press("space", "W", "enter")  # space: step 1; W, enter: saved
        await s.until(lambda: not app.saver.saving, timeout=60, what="the save")
        assert s.noted("saved as a scenario: big-step1.toml and big-step1-data.csv")
    saved_text = (tmp_path / "big-step1.toml").read_text(encoding="utf-8")
    assert 'csv = "big-step1-data.csv"' in saved_text and len(saved_text) < 10_000
    saved = load_scenario(str(tmp_path / "big-step1.toml"))
    t = app.trainer
    assert np.array_equal(saved.inputs, t.X) and np.array_equal(saved.test_inputs, t.X_test)
    assert all(np.array_equal(a, b) for a, b in zip(Trainer(saved).initial_W, t.W, strict=True))
