"""The held-out test set ([data] test_fraction): its loss after every step, in the trainer, the
StepRecord, the trace (with the test set itself) and the loss chart; nothing of it without one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from textual.app import App, ComposeResult
from trace_schema import trace_is_valid, validate_trace

from tui_backprop import Trainer, load_scenario, loads_scenario, write_trace
from tui_backprop.cli import main
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.chart import LossChart, chart_title
from tui_backprop.tui.widgets.palette import DEFAULT

TEST_COLOUR = DEFAULT.test  # the test-set loss line, in the palette the app starts in

# one linear neuron y = w x + b on y = 3x - 1 plus noise: its mse is easy to write out in a test
LINE = """
[scenario]
name = "line with a test set"

[network]
layers = [1, 1]
activation = "identity"

[init]
method = "constant"
value = 0.5
bias_value = -0.25

[data]
inputs = [[-1.0], [-0.6], [-0.2], [0.1], [0.3], [0.5], [0.8], [1.0], [1.3], [1.7]]
targets = [[-4.1], [-2.7], [-1.5], [-0.8], [0.0], [0.4], [1.5], [2.1], [2.8], [4.2]]
test_fraction = 0.3
seed = 5

[training]
loss = "mse"
learning_rate = 0.1
batch = 2
shuffle = true
"""


def mse(w: float, b: float, X: np.ndarray, T: np.ndarray) -> float:
    """(1/n) sum_j (y_j - t_j)^2 per sample, n = 1 output; averaged over the samples."""
    return float(np.mean((w * X[:, 0] + b - T[:, 0]) ** 2))


def test_test_loss_after_every_step_is_the_test_set_mse_with_the_updated_weights():
    s = loads_scenario(LINE)
    assert s.test_inputs.shape == (3, 1) and s.inputs.shape == (7, 1)
    trainer = Trainer(s)
    assert trainer.initial_test_loss == pytest.approx(mse(0.5, -0.25, s.test_inputs, s.test_targets))
    for k in range(1, 13):
        rec = trainer.step()
        w, b = float(rec.layers[0].w[0, 0]), float(rec.layers[0].b[0])
        assert rec.test_loss == pytest.approx(mse(w, b, s.test_inputs, s.test_targets), rel=1e-12)
        assert rec.train_loss == pytest.approx(mse(w, b, s.inputs, s.targets), rel=1e-12)
        assert trainer.test_losses[-1] == rec.test_loss and len(trainer.test_losses) == k
    # the test samples are never trained on: every batch index is a training-set row
    assert all(i < 7 for r in trainer.run(20) for i in r.batch)
    assert trainer.test_losses[-1] < trainer.initial_test_loss / 4


def test_undo_reset_and_the_fast_path_keep_the_test_losses_in_step():
    s = loads_scenario(LINE)
    a, b = Trainer(s), Trainer(s)
    a.run(10)
    b.run(10, record=False)
    assert a.test_losses == b.test_losses and len(a.test_losses) == 10
    a.undo()
    a.undo()
    assert a.test_losses == b.test_losses[:8]
    assert a.step().test_loss == b.test_losses[8]
    a.reset()
    assert len(a.test_losses) == 0 and a.initial_test_loss == b.initial_test_loss


def test_without_a_test_set_there_is_no_test_loss():
    trainer = Trainer(load_scenario("xor"))
    assert trainer.initial_test_loss is None and trainer.X_test is None
    rec = trainer.step()
    assert rec.test_loss is None and len(trainer.test_losses) == 0


def test_trace_holds_the_test_set_and_a_test_loss_per_step(tmp_path):
    s = loads_scenario(LINE)
    trainer = Trainer(s)
    records = trainer.run(5)
    path = write_trace(tmp_path / "t.json", trainer)
    doc = json.loads(path.read_text())
    validate_trace(doc)
    np.testing.assert_array_equal(doc["test_data"]["inputs"], s.test_inputs)
    np.testing.assert_array_equal(doc["test_data"]["targets"], s.test_targets)
    assert [st["test_loss"] for st in doc["steps"]] == [r.test_loss for r in records]
    lines = path.read_text().splitlines()
    assert [ln.split(":")[0] for ln in lines[1:7]] == [
        '"format"',
        '"version"',
        '"scenario"',
        '"data"',
        '"test_data"',
        '"initial"',
    ]
    assert list(doc["steps"][0])[:6] == ["step", "epoch", "batch", "loss", "train_loss", "test_loss"]


def test_trace_without_a_test_set_has_no_test_fields(tmp_path):
    trainer = Trainer(load_scenario("xor"))
    trainer.run(3)
    text = write_trace(tmp_path / "t.json", trainer).read_text()
    assert "test_" not in text


def test_schema_refuses_a_test_set_with_a_stray_key(tmp_path):
    trainer = Trainer(loads_scenario(LINE))
    trainer.run(1)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    doc["test_data"]["extra"] = 1
    assert not trace_is_valid(doc)


def test_headless_summary_names_the_test_loss(tmp_path, capsys):
    path = tmp_path / "line.toml"
    path.write_text(LINE)
    assert main([str(path), "--headless", "--steps", "4"]) == 0
    trainer = Trainer(loads_scenario(LINE))
    trainer.run(4, record=False)
    assert f"test loss {trainer.test_losses[-1]:.6g}, stopped" in capsys.readouterr().out


# -- the loss chart ------------------------------------------------------------------------------


class _ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LossChart()


async def test_chart_draws_the_test_loss_as_its_own_line(monkeypatch):
    trainer = Trainer(loads_scenario(LINE))
    trainer.run(30, record=False)
    drawn: list[tuple[str, list, list]] = []
    app = _ChartApp()
    async with app.run_test(size=(80, 20)) as pilot:
        chart = app.query_one(LossChart)
        original = chart.plt.plot

        def plot(x, y, *args, color=None, **kwargs):
            drawn.append((color, list(x), list(y)))
            return original(x, y, *args, color=color, **kwargs)

        monkeypatch.setattr(chart.plt, "plot", plot)
        t = trainer
        chart.set_losses(
            t.losses, t.train_losses, t.initial_train_loss, 30, t.test_losses, t.initial_test_loss
        )
        await pilot.pause()
        test_lines = [(x, y) for colour, x, y in drawn if colour == TEST_COLOUR]
        assert test_lines, "no line in the test colour"
        x, y = test_lines[-1]
        assert x == list(range(31)) and y == [t.initial_test_loss, *t.test_losses]

        drawn.clear()
        chart.set_losses(t.losses, t.train_losses, t.initial_train_loss, 30)  # no test set
        await pilot.pause()
        assert drawn and all(colour != TEST_COLOUR for colour, _, _ in drawn)


def test_chart_title_has_a_test_entry_only_with_a_test_set():
    assert TEST_COLOUR in chart_title(test=True) and "test" in chart_title(test=True)
    assert "test" not in chart_title(test=False)


async def test_app_draws_the_test_loss_for_iris(tmp_path):
    app = BackpropApp(load_scenario("iris"))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("space")  # space: one step
        await pilot.pause()
        chart = app.query_one(LossChart)
        # the test line in the legend (which says "test" where the chart is wide enough: here it
        # shares its cell with the confusion matrix)
        title = chart.border_title
        assert getattr(title, "plain", str(title)).count("─") == 2  # the training and test lines
        assert chart._test.count == 1 and chart._test.series[0] == app.trainer.test_losses[0]


@pytest.mark.parametrize("name", ["iris", "circle", "spiral"])
def test_bundled_scenarios_with_a_test_set(name):
    s = load_scenario(name)
    assert s.test_fraction > 0 and s.test_inputs is not None
    assert len(s.test_inputs) == round(s.test_fraction * (len(s.inputs) + len(s.test_inputs)))
