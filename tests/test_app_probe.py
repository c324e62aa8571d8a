"""P in the app: a point typed, probed with the weights on screen and shown on every panel as a
probe; bad input notified; escape and every key that steps leave it; the run, its export and
its undo untouched.

The probe's numbers are checked against a forward and backward pass written out here in numpy
from the trainer's weights, never against the engine's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from app_harness import Session, drive, headless_trace, shows

from tui_backprop import load_scenario
from tui_backprop.engine import Trainer
from tui_backprop.engine.probe import ProbeRecord
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.replay_app import ReplayApp
from tui_backprop.tui.screens.answer import AnswerScreen
from tui_backprop.tui.screens.probe import ProbeScreen
from tui_backprop.tui.variant_app import VariantApp


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def xor_passes(W, b, x, t):
    """z, a, delta of the 2-3-1 sigmoid xor network with mse, one sample, written out."""
    z1 = W[0] @ x + b[0]
    a1 = sigmoid(z1)
    z2 = W[1] @ a1 + b[1]
    y = sigmoid(z2)
    d2 = 2.0 * (y - t) / len(t) * y * (1 - y)
    d1 = (W[1].T @ d2) * a1 * (1 - a1)
    return (z1, a1, d1), (z2, y, d2)


async def probe(s: Session, text: str) -> None:
    """P, the offered text replaced by ``text``, enter."""
    await s.press("P")  # P: the probe prompt
    assert isinstance(s.app.screen, ProbeScreen)
    s.app.screen.query_one("Input").value = ""  # the offered point (a sample) cleared
    await s.press(*text, "enter")  # the point typed, enter probes it


def probe_rows(text: str) -> list[list[str]]:
    """The numbers of every row labelled ``probe`` in a panel's text, in order."""
    out = []
    for line in text.splitlines():
        words = line.replace("▸", " ").replace("│", " ").split()
        if words[:1] == ["probe"] and words[1:2] and words[1][0] in "+-0123456789":  # a row of numbers
            out.append(words[1:])
    return out


def row(text: str, label: str) -> list[str]:
    """The numbers of the first line of ``text`` whose first word is ``label``."""
    for line in text.splitlines():
        words = line.replace("▸", " ").replace("│", " ").split()
        if words and words[0] == label:
            return words[1:]
    raise AssertionError(f"no row {label!r} in:\n{text}")


async def test_p_shows_the_forward_and_backward_pass_at_the_point_on_every_panel():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: step 2
        trainer, run_record = app.trainer, app.record
        W, b = trainer.W, trainer.b
        await probe(s, "0.3, -1.2 -> 1")
        rec = app.probing.probe
        assert isinstance(rec, ProbeRecord) and rec.step == 2
        assert app.record is run_record and trainer.step_count == 2 and trainer.W is W  # the run untouched

        (z1, a1, d1), (z2, y, d2) = xor_passes(W, b, np.array([0.3, -1.2]), np.array([1.0]))
        forward, backward = s.panel("forward"), s.panel("backward")
        assert "probe at x = (0.3, -1.2) → t = (1), weights of step 2" in forward
        assert "#0" not in forward and "#0" not in backward  # no sample of the data: the row is the probe
        x, za, out = probe_rows(forward)  # x; z[1] beside a[1]; z[2], a[2], t and ℓ
        assert shows(x[0], 0.3) and shows(x[1], -1.2)
        assert all(shows(v, want) for v, want in zip(za, [*z1, *a1], strict=True))
        loss = float(((y - 1.0) ** 2).mean())
        assert shows(out[0], z2[0]) and shows(out[1], y[0]) and shows(out[3], loss)
        assert "probe loss" in forward and "nothing is trained" in forward
        delta2, delta1 = probe_rows(backward)
        assert shows(delta2[0], d2[0])  # delta[2], then e[2]
        assert all(shows(v, want) for v, want in zip(delta1[:3], d1, strict=True))  # delta[1], then e[1]
        gradients = s.panel("gradients")
        grad_w1 = np.outer(d1, [0.3, -1.2])
        assert all(shows(v, want) for v, want in zip(row(gradients, "h1")[:2], grad_w1[0], strict=True))
        assert "what a step on this point alone would descend" in gradients
        weights = s.panel("weights")
        assert "a probe changes none" in weights and "▼" not in weights and "▲" not in weights
        assert "probe at x = (0.3, -1.2)" in s.panel("network")
        assert "◎" in s.panel("boundary")  # the probed point on the plane
        assert "probe at x = (0.3, -1.2)" in s.header()
        explain = s.panel("explain")
        assert "probe at x = (0.3, -1.2)" in explain and "no update" in explain
        assert "k=0 probe" not in explain  # one sample: the chain rule, not a batch sum
        assert f"{grad_w1[0, 0]:.4g}" in explain  # ∂ℓ/∂w of the selected weight W[1][0,0]

        await s.press("escape")  # escape: back to the run
        assert app.probing.probe is None
        assert "probe" not in s.panel("forward") and "#0" in s.panel("forward")
        assert "probe" not in s.header()


async def test_p_without_a_target_is_forward_only_and_says_so():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        W, b = app.trainer.W, app.trainer.b
        await probe(s, "2 2")
        rec = app.probing.probe
        assert rec is not None and not rec.has_target
        (z1, a1, _), (z2, y, _) = xor_passes(W, b, np.array([2.0, 2.0]), np.array([0.0]))
        forward = s.panel("forward")
        assert "no target" in forward and "→ no target" in forward and "probe loss" not in forward
        output = row(forward.split("layer 2")[1], "probe")  # z[2] | a[2], no t and no loss
        assert len(output) == 2 and shows(output[0], z2[0]) and shows(output[1], y[0])
        for panel in ("backward", "gradients"):
            text = s.panel(panel)
            assert "no target: forward only" in text and "nan" not in text
        await s.press("tab")  # tab: select a node; the probe stays
        await s.press("right", "right")  # the output node y
        explain = s.panel("explain")
        assert app.probing.probe is rec and "output node y" in explain
        assert "no target: forward only" in explain and "δ" not in explain  # z and a, no delta
        assert f"{y[0]:.4g}" in explain


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("1, 2, 3", "the network has 2 inputs (x1, x2): got 3 numbers"),
        ("1, abc", "'abc' is not a number"),
        ("1, nan", "a probe needs finite numbers"),
        ("1, inf -> 0", "a probe needs finite numbers"),
        ("1, 2 -> 1, 2", "the network has 1 output (y): got 2 numbers"),
        ("1, 2 -> 1 -> 2", "one arrow at most"),
    ],
)
async def test_bad_input_is_a_notification_and_no_probe(typed, words):
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        forward = s.panel("forward")
        await probe(s, typed)
        assert app.probing.probe is None and s.noted(words, "warning")
        assert s.panel("forward") == forward


async def test_escape_in_the_prompt_probes_nothing_and_the_prompt_offers_the_selected_sample():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "right_square_bracket")  # space: step 1; ]: sample k=1 (#1)
        await s.press("P")  # P: the prompt offers the selected sample, x and t
        assert s.app.screen.query_one("Input").value == "0, 1 -> 1"
        await s.press("escape")  # escape: cancelled
        assert app.probing.probe is None and not isinstance(app.screen, ProbeScreen)
        await s.press("P", "enter")  # P, enter: the offered sample probed
        rec = app.probing.probe
        assert rec is not None and np.array_equal(rec.point, [0.0, 1.0])
        await s.press("escape", "P")  # the next P offers the last point probed
        assert s.app.screen.query_one("Input").value == "0, 1 -> 1"


@pytest.mark.parametrize(
    ("key", "steps"),
    [("space", 3), ("n", 3), ("b", 1), ("r", 0), ("escape", 2), ("s", 3), ("f", 102)],
)
async def test_any_key_that_steps_undoes_or_resets_leaves_the_probe(key, steps):
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: step 2
        await probe(s, "0.5, 0.5 -> 0")
        assert app.probing.active
        await s.press(key)  # the key: leaves the probe, and does what it does
        await s.until(lambda: not app.busy and not app.playing, what="the steps")
        assert app.probing.probe is None and app.trainer.step_count == steps
        assert "probe" not in s.panel("forward") and "probe at" not in s.header()


async def test_selection_zoom_notation_and_palette_keep_the_probe():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        await probe(s, "0.5, 0.5 -> 0")
        rec = app.probing.probe
        await s.press("tab", "down", "2")  # tab: node mode; down: the next node; 2: zoom forward
        await s.press("2", "v", "C")  # 2: zoom back; v: next notation; C: next palette
        assert app.probing.probe is rec
        assert "probe at x = (0.5, 0.5)" in s.panel("forward") and "probe" in s.header()


async def test_a_probe_trains_nothing_and_the_export_is_byte_identical(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: step 2
        await probe(s, "0.3, -1.2 -> 1")
        await s.press("escape")  # escape: back to the run
        await probe(s, "9, -9")  # a forward-only probe, left by the next step
        await s.press("space")  # space: step 3
        await s.press("e")  # e: export
        await s.until(lambda: not app.exporting and app.last_export_path is not None, what="the export")
        path = tmp_path / "xor-trace.json"
        (tmp_path / "ref").mkdir()
        assert path.read_bytes() == headless_trace("xor", 3, tmp_path / "ref" / "3.json")
        assert "probe" not in path.read_text()
        await s.press("b")  # b: undo goes back exactly as if no probe had been taken
        assert app.trainer.step_count == 2


async def test_a_softmax_probe_takes_a_class_by_name_and_explains_it():
    app = BackpropApp(load_scenario("iris"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        W, b = app.trainer.W, app.trainer.b
        await probe(s, "1, 0.5, 0.2, -1 -> versicolor")
        rec = app.probing.probe
        assert rec is not None and np.array_equal(rec.target, [0.0, 1.0, 0.0])
        a1 = np.tanh(W[0] @ np.array([1.0, 0.5, 0.2, -1.0]) + b[0])
        z2 = W[1] @ a1 + b[1]
        y = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
        delta2 = probe_rows(s.panel("backward"))[0]  # softmax with cross_entropy: y - t
        assert all(shows(v, want) for v, want in zip(delta2[:3], y - [0, 1, 0], strict=True))
        await s.press("tab", "tab")  # tab x2: the sample mode: the explain panel shows its loss
        explain = s.panel("explain")
        assert "sample k=0 (probe)" in explain and f"{-np.log(y[1]):.4g}" in explain


async def test_a_replay_probes_the_weights_of_the_recorded_step_on_screen(tmp_path):
    trace = tmp_path / "xor.json"
    headless_trace("xor", 4, trace)
    recorded = json.loads(trace.read_text())["steps"][1]["layers"]  # step 2's weights after its update
    app = ReplayApp(read_trace(trace))
    async with drive(app) as s:
        await s.press("space", "space")  # space x2: recorded step 2
        await probe(s, "0, 1 -> 1")
        rec = app.probing.probe
        assert rec is not None and rec.step == 2
        for lr, layer in zip(rec.layers, recorded, strict=True):
            assert np.allclose(lr.w, layer["w"], rtol=0, atol=1e-15)
        assert app.trainer.step_count == 2


async def test_escape_in_a_variant_leaves_the_probe_first_then_goes_back_to_the_comparison():
    variant = load_variants("xor", [], parse_vary("training.learning_rate=0.1,1"))[1]
    app = VariantApp(variant, Trainer(variant.scenario, history=1))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        await probe(s, "1, 1 -> 0")
        await s.press("escape")  # escape: leaves the probe, the variant stays open
        assert app.probing.probe is None and not app.back and app.is_running
        await s.press("escape")  # escape again: back to the comparison
        assert app.back


async def test_a_probe_in_the_middle_of_a_step_taken_by_phases_returns_to_that_phase():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("s", "s", "s")  # s x3: step 1 up to its loss phase
        reveal, record = app.reveal, app.record
        await probe(s, "0.5, 0.5")
        assert app.probing.active and "probe at x = (0.5, 0.5) → no target" in s.panel("forward")
        # the weights the run is at: the step's update is computed, whatever its phases show
        assert all(
            np.array_equal(p.w, lr.w) for p, lr in zip(app.probing.probe.layers, record.layers, strict=True)
        )
        await s.press("escape")  # escape: the step again, at the phase it was shown
        assert app.reveal == reveal and app.record is record and "◂ this phase" in s.panel("forward")
        await probe(s, "0.5, 0.5")
        await s.press("a")  # a: leaves the probe; the quiz asks about the step's next phase
        assert not app.probing.active and isinstance(app.screen, AnswerScreen)


async def test_a_probe_of_a_big_network_draws_its_heatmaps():
    app = BackpropApp(load_scenario("blobs_784"))
    async with drive(app) as s:
        await s.press("space")  # space: step 1 (in a worker for a network this big)
        await s.until(lambda: app.record is not None and not app.busy, what="step 1")
        await s.press("P")  # P: the prompt offers sample k=0, its 784 inputs and its class
        offered = app.screen.query_one("Input").value
        assert len(offered.split("->")[0].split(",")) == 784
        await s.press("enter")  # enter: that sample probed
        rec = app.probing.probe
        assert rec is not None and rec.has_target and rec.layers[0].grad_w.shape == (256, 784)
        assert "probe at x = (" in s.panel("gradients") and "grad_w[1]" in s.panel("gradients")


async def test_a_reload_that_starts_a_new_run_drops_the_probe(tmp_path):
    path = tmp_path / "net.toml"
    path.write_bytes((Path(__file__).resolve().parent.parent / "scenarios" / "xor.toml").read_bytes())
    app = BackpropApp(load_scenario(str(path)))
    async with drive(app) as s:
        await s.press("space")  # space: step 1
        await probe(s, "0.5, 0.5 -> 1")
        path.write_text(path.read_text().replace("layers = [2, 3, 1]", "layers = [2, 4, 1]"))
        await s.press("R")  # R: the changed file starts a new run
        await s.until(lambda: not app.reloading and app.scenario.layers == (2, 4, 1), what="the reload")
        assert app.probing.probe is None and "probe" not in s.panel("forward")
        await probe(s, "0.5, 0.5 -> 1")  # the new network probed: 4 hidden nodes
        assert app.probing.probe is not None and app.probing.probe.layers[0].z.shape == (1, 4)
