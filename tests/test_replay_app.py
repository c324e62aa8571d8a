"""Replay in the app (``backprop-tui run.json``) and the continuation of a recorded run.

A replay must show what the live run showed at the same step: the whole screen is compared,
colours included, between the live app and the replay of its trace, at the same step, size
and selection; only the header's second line differs, where the replay names its file. The
keys move through the recorded records (nothing is recomputed: the records on screen are the
objects read from the trace), and ``c`` continues live from the step on screen, which gives
bit for bit the records the original run made after it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from app_harness import DIVERGE_1_1, Session, drive, headless_trace
from rich.console import Console
from test_replay import same_record

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.engine import StepRecord
from tui_backprop.trace.reader import read_trace
from tui_backprop.trace.recorded import RecordedRun, continue_from
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.replay_app import ReplayApp

HERE = Path(__file__).parent
DATA = HERE / "data"


def styled_screen(s: Session) -> list[str]:
    """The screen with its colours (ANSI), one line a row."""
    app = s.app
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=True).splitlines()


def trace_of(scenario: str, steps: int, tmp_path: Path) -> Path:
    path = tmp_path / "run.json"
    headless_trace(scenario, steps, path)
    return path


# -- the same screen as the live run -------------------------------------------------------------

KEYS = ["space", "space", "space", "down", "right", "right_square_bracket"]  # 3 steps, a weight, a sample


@pytest.mark.parametrize(
    "scenario, size",
    [
        *[  # every kind of network at the size the app is made for
            (name, (160, 45))
            for name in ["xor", "proportional_2_3_1", "linear_neuron_minibatch", "circle"]
            + [str(DATA / "sgd_nobias.toml")]
        ],
        ("xor", (100, 30)),  # and at a small size, where the panels are laid out otherwise
    ],
    ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else None,
)
async def test_a_replay_shows_the_screen_of_the_live_run_at_the_same_step(scenario, size, tmp_path):
    path = trace_of(scenario, 5, tmp_path)
    screens = []
    for app in (BackpropApp(load_scenario(scenario)), ReplayApp(read_trace(path))):
        async with drive(app, size) as s:
            await s.press(*KEYS)  # three steps, select W[1][1,1], then the next sample of the batch
            assert app.record is not None and app.record.step == 3
            screens.append(
                (styled_screen(s), s.panels(), s.header().splitlines(), s.screen().splitlines()[-1])
            )
    (live, live_panels, live_header, _), (replay, replay_panels, replay_header, footer) = screens
    assert replay_panels == live_panels
    # every row but the header's second line and the footer, which has the key c in a replay
    assert replay[0] == live[0] and replay[2:-1] == live[2:-1]
    assert "c Continue" in footer
    assert live_header[1].split("■")[0] == replay_header[1].split("■")[0]  # the losses
    assert "replay of run.json (c: continue)" in replay_header[1]


async def test_a_replay_of_a_diverged_run_shows_its_banner_and_stop(tmp_path):
    path = tmp_path / "diverged.toml"
    path.write_text(DIVERGE_1_1)
    trace = tmp_path / "diverged.json"
    assert main([str(path), "--headless", "--export", str(trace)]) == 3
    app = ReplayApp(read_trace(trace))
    async with drive(app) as s:
        await s.press("f")  # f: run on to the end of the recording
        await s.until(lambda: not app.playing, what="the run to end")
        last = app.playback.recording.records[-1]
        assert app.record is last and last.diverged
        assert "diverged at step" in s.header() and "stopped: diverged" in s.header()
        await s.press("space")  # space: nothing follows a diverged step
        assert s.noted("the recorded run stopped by itself") and app.record is last
        await s.press("c")  # c: no step follows the step where the run stopped by itself
        assert s.noted("the run stopped by itself here (diverged)") and not app.live


# -- moving through the recording ------------------------------------------------------------


async def test_step_back_and_forward_show_the_recorded_records_and_nothing_is_recomputed(tmp_path):
    recording = read_trace(trace_of("xor", 6, tmp_path))
    app = ReplayApp(recording)
    async with drive(app) as s:
        assert app.record is None and "replay of run.json" in s.header()
        await s.press("space", "n", "space", "space")  # four steps forward
        assert app.record is recording.records[3]
        await s.press("b", "b")  # b b: two steps back
        assert app.record is recording.records[1] and app.trainer.step_count == 2
        assert app.trainer.losses == [r.loss for r in recording.records[:2]]
        await s.press("R")  # R: there is no scenario file to reload, the trace stays as it is
        assert s.noted("a replay shows its trace as recorded") and app.record is recording.records[1]
        await s.press("r")  # r: step 0
        assert app.record is None and app.trainer.step_count == 0
        await s.press("b")  # b: already at step 0
        assert s.noted("already at step 0")
        await s.press("f")  # f: 100 steps on, as far as the recording goes
        await s.until(lambda: not app.playing, what="the run to end")
        assert app.record is recording.records[-1] and "end of replay of run.json" in s.header()
        await s.press("space")  # space: past the end
        assert s.noted("the recording ends at step 6: c continues training from here")
        assert isinstance(app.trainer, RecordedRun)  # no Trainer was ever stepped


async def test_play_replays_the_recording_at_the_play_rate(tmp_path):
    recording = read_trace(trace_of("xor", 30, tmp_path))
    app = ReplayApp(recording)
    async with drive(app) as s:
        app.trainer_lock.acquire()  # the player's first step waits: it is surely still playing
        try:
            await s.press("p")  # p: play at 10 steps a second
            assert app.playing and "replaying 10/s" in s.header()
        finally:
            app.trainer_lock.release()
        await s.until(lambda: not app.playing, what="the replay to reach the end")
        assert app.record is recording.records[-1]


# -- continuing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario",
    [
        "xor",
        "linear_neuron_minibatch",
        "proportional_2_3_1_split",
        str(DATA / "sgd_nobias.toml"),
        str(DATA / "adam_l2.toml"),
        str(DATA / "momentum_l2.toml"),
    ],
)
@pytest.mark.parametrize("k", [0, 1, 7, 12])
def test_a_continuation_from_step_k_makes_the_records_of_the_original_run_after_it(scenario, k, tmp_path):
    live = Trainer(load_scenario(scenario))
    original = live.run(20)
    run = RecordedRun(read_trace(trace_of(scenario, 20, tmp_path)))
    run.seek(k)
    trainer = continue_from(run, history=100)
    assert (
        trainer.step_count == k
        and trainer.start_step == k
        and trainer.epoch == (original[k - 1].epoch if k else 1)
    )
    assert list(trainer.losses) == [r.loss for r in original[:k]]
    for want in original[k:]:
        same_record(trainer.step(), want)
    assert all(np.array_equal(a, b) for a, b in zip(trainer.W, live.W, strict=True))
    # back to the start of the continuation, no further: undo and reset stop at step k
    for _ in range(25):
        trainer.undo()
    assert trainer.step_count == k and (trainer.last_record is run.last_record)
    trainer.step()
    trainer.reset()
    assert trainer.step_count == k and len(trainer.losses) == k


def test_a_continuation_past_its_history_replays_from_its_start(tmp_path):
    live = Trainer(load_scenario("linear_neuron_sgd"))
    original = live.run(30)
    run = RecordedRun(read_trace(trace_of("linear_neuron_sgd", 30, tmp_path)))
    run.seek(10)
    trainer = continue_from(run, history=1)  # one undo step in memory: further back replays
    trainer.run(15)
    assert trainer.undo_replays
    for step in range(24, 9, -1):
        rec = trainer.undo()
        assert trainer.step_count == step
        if step > 10:
            same_record(rec, original[step - 1])
    assert rec is run.last_record and trainer.undo() is run.last_record


async def test_c_continues_live_and_b_at_that_step_returns_into_the_recording(tmp_path):
    scenario = load_scenario("linear_neuron_minibatch")
    original = Trainer(scenario).run(8)
    recording = read_trace(trace_of("linear_neuron_minibatch", 5, tmp_path))
    app = ReplayApp(recording)
    async with drive(app) as s:
        await s.press("space", "space", "space")  # three recorded steps
        await s.press("c")  # c: continue live from step 3
        assert app.live and isinstance(app.trainer, Trainer) and app.trainer.start_step == 3
        assert s.noted("training live from step 3 of") and "live from step 3 of run.json" in s.header()
        await s.press("space", "space", "space", "space", "space")  # steps 4..8, computed live
        assert app.record.step == 8 and "c: continue" not in s.header()
        same_record(app.record, original[7])
        await s.press("c")  # c again: already live
        assert s.noted("already training live")
        for _ in range(5):
            await s.press("b")  # b: back to step 3, still live
        assert app.live and app.record is recording.records[2]
        await s.press("b")  # b at the continuation's start: back into the recording, at step 2
        assert not app.live and app.record is recording.records[1] and isinstance(app.trainer, RecordedRun)
        await s.press("space", "space", "space")  # the recording goes on to step 5 as before
        assert app.record is recording.records[4]
        await s.press("c", "space")  # c at step 5, the last recorded: continue past the recording
        same_record(app.record, original[5])
        await s.press("r")  # r: back to the recording's step 0
        assert not app.live and app.record is None and app.trainer.step_count == 0
        await s.press("c", "space")  # c at step 0: a live run from the start
        same_record(app.record, original[0])


async def test_export_from_a_replay_and_from_a_continuation_is_the_live_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recording = read_trace(trace_of("xor", 6, tmp_path))
    app = ReplayApp(recording, export_path=tmp_path / "out.json")
    async with drive(app) as s:
        await s.press("space", "space", "space", "space")  # four recorded steps
        await s.press("e")  # e: export the four
        await s.until(lambda: not app.exporting, what="the export")
        assert (tmp_path / "out.json").read_bytes() == headless_trace("xor", 4, tmp_path / "live4.json")
        await s.press("c", "space", "space", "space")  # c: continue; three live steps
        await s.press("e")  # e: export 4 recorded + 3 live steps
        await s.until(lambda: not app.exporting, what="the export")
        assert (tmp_path / "out.json").read_bytes() == headless_trace("xor", 7, tmp_path / "live7.json")


def test_the_continue_key_is_a_replays_only():
    live = BackpropApp(load_scenario("xor"))
    assert not live.check_action("continue_training", ())
    assert "continue_training" not in [action for action, _, _ in live.key_help()]


# -- the command -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["positional", "--replay"])
def test_the_command_opens_a_trace_in_the_replay_app(how, tmp_path, monkeypatch):
    path = trace_of("xor", 3, tmp_path)
    opened: list[ReplayApp] = []
    monkeypatch.setattr(ReplayApp, "run", lambda self: opened.append(self))
    argv = [str(path)] if how == "positional" else ["--replay", str(path)]
    assert main(argv) == 0
    (app,) = opened
    assert app.recording.steps == 3 and isinstance(app.recording.records[0], StepRecord)


@pytest.mark.parametrize("name", ["truncated", "wrong_version", "grad_w_shape", "not_utf8", "empty"])
@pytest.mark.parametrize("how", ["positional", "--replay"])
def test_a_bad_trace_is_refused_before_the_app_opens(name, how, capsys, monkeypatch):
    from test_replay import EXPECTED

    monkeypatch.setattr(ReplayApp, "run", lambda self: pytest.fail("the app opened"))
    path = str(HERE / "bad_traces" / f"{name}.json")
    assert main([path] if how == "positional" else ["--replay", path]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err and EXPECTED[name] in err.splitlines()[0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--replay", "a.json", "xor"], "give a SCENARIO or --replay TRACE, not both"),
        (["a.json", "--headless"], "--headless goes with a scenario"),
        (["--replay", "a.json", "--steps", "3"], "--steps goes with a scenario"),
    ],
)
def test_flags_that_make_no_sense_with_a_trace_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err
