"""Scenarios whose data comes from [data] generator = "...": the loader fits the generator to the
network, encodes the classes for the output layer, and the trace records where the data came from."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_divergence import PLANE, far_from_the_limit
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario, loads_scenario, write_trace
from tui_backprop.engine.datasets import PLANE_SETS, generate
from tui_backprop.scenario.reader import bundled_names


def scenario_text(generator: str, layers: str, acts: str, loss: str, extra: str = "") -> str:
    return f"""
[scenario]
name = "gen"

[network]
layers = {layers}
activations = {acts}

[data]
generator = "{generator}"
samples = 50
noise = 0.2
seed = 9
{extra}

[training]
loss = "{loss}"
learning_rate = 0.1
"""


@pytest.mark.parametrize(
    ("acts", "loss", "negative"),
    [
        ('["tanh", "sigmoid"]', "bce", 0.0),
        ('["tanh", "tanh"]', "mse", -1.0),
        ('["relu", "identity"]', "mse", 0.0),
    ],
)
def test_one_output_node_gets_the_class_coded_for_its_activation(acts, loss, negative):
    s = loads_scenario(scenario_text("circle", "[2, 3, 1]", acts, loss))
    X, y = PLANE_SETS["circle"](50, 0.2, np.random.default_rng(9))
    assert s.inputs.tobytes() == X.tobytes()
    np.testing.assert_array_equal(s.targets[:, 0], np.where(y == 1, 1.0, negative))
    assert not s.inputs.flags.writeable and not s.targets.flags.writeable


def test_two_output_nodes_get_one_hot_rows():
    s = loads_scenario(scenario_text("moons", "[2, 3, 2]", '["tanh", "softmax"]', "cross_entropy"))
    _, y = PLANE_SETS["moons"](50, 0.2, np.random.default_rng(9))
    np.testing.assert_array_equal(s.targets, np.eye(2)[y])


def test_plane_gives_one_regression_target():
    s = loads_scenario(scenario_text("plane", "[2, 3, 1]", '["tanh", "identity"]', "mse"))
    X, y = PLANE_SETS["plane"](50, 0.2, np.random.default_rng(9))
    np.testing.assert_array_equal(s.targets[:, 0], y)


def test_blobs_follow_the_layer_sizes_and_their_own_keys():
    extra = "spread = 0.5\ncenters = 2.0"
    s = loads_scenario(scenario_text("blobs", "[6, 4, 3]", '["relu", "softmax"]', "cross_entropy", extra))
    X, T = generate("blobs", 50, 0.2, 9, 6, 3, spread=0.5, centers=2.0)
    assert s.inputs.tobytes() == X.tobytes() and s.targets.tobytes() == T.tobytes()
    assert s.to_dict()["data"] == {
        "input_names": [],
        "output_names": [],
        "generator": "blobs",
        "samples": 50,
        "noise": 0.2,
        "seed": 9,
        "spread": 0.5,
        "centers": 2.0,
    }


def test_defaults_200_samples_no_noise_seed_0():
    text = scenario_text("xor", "[2, 3, 1]", '["tanh", "sigmoid"]', "bce")
    text = text.replace("samples = 50\nnoise = 0.2\nseed = 9\n", "")
    s = loads_scenario(text)
    X, _ = generate("xor", 200, 0.0, 0, 2, 1)
    assert s.inputs.tobytes() == X.tobytes()
    assert s.to_dict()["data"] == {
        "input_names": [],
        "output_names": [],
        "generator": "xor",
        "samples": 200,
        "noise": 0.0,
        "seed": 0,
    }


def test_inline_data_writes_no_generator_keys():
    s = load_scenario("xor")
    assert s.data_source == ()
    assert set(s.to_dict()["data"]) == {"input_names", "output_names"}


def test_trace_of_a_generated_scenario_records_the_generator_and_the_data(tmp_path):
    s = loads_scenario(scenario_text("spiral", "[2, 4, 2]", '["tanh", "softmax"]', "cross_entropy"))
    trainer = Trainer(s)
    trainer.run(3)
    doc = json.loads(write_trace(tmp_path / "t.json", trainer).read_text())
    validate_trace(doc)
    assert doc["scenario"]["data"]["generator"] == "spiral"
    assert doc["scenario"]["data"]["samples"] == 50
    np.testing.assert_array_equal(doc["data"]["inputs"], s.inputs)
    np.testing.assert_array_equal(doc["data"]["targets"], s.targets)


# -- the bundled scenarios that use generators ---------------------------------------------


def test_blobs_784_is_the_scale_scenario_and_learns_in_a_few_epochs():
    s = load_scenario("blobs_784")
    assert s.layers == (784, 256, 10) and s.batch == 64
    assert s.activations == ("relu", "softmax") and s.loss == "cross_entropy"
    assert s.inputs.shape == (1000, 784) and s.targets.shape == (1000, 10)
    assert (s.targets.sum(axis=0) == 100).all()
    trainer = Trainer(s)
    trainer.run(48, record=False)  # 3 epochs of 16 batches
    assert trainer.initial_train_loss > 2.0 and trainer.train_losses[-1] < 0.5


def accuracy(trainer: Trainer, X: np.ndarray, T: np.ndarray) -> float:
    _, acts = trainer.network.forward(trainer.W, trainer.b, X)
    y = acts[-1]
    if y.shape[1] == 1:
        return float(((y[:, 0] > 0.5) == (T[:, 0] > 0.5)).mean())
    return float((y.argmax(axis=1) == T.argmax(axis=1)).mean())


LEARNED_BY = {"circle": 1500, "spiral": 8000}  # steps


def test_every_plane_scenario_is_trained_here():
    """The bundled scenarios on generated points of the plane (two inputs) are those trained
    here, and tests/test_divergence.py leaves them to this module."""
    plane = set()
    for name in bundled_names():
        s = load_scenario(name)
        if s.layers[0] == 2 and dict(s.data_source).get("generator") in PLANE_SETS:
            plane.add(name)
    assert set(LEARNED_BY) == PLANE == plane


@pytest.mark.parametrize("name", sorted(LEARNED_BY))
def test_bundled_plane_scenarios_learn_and_end_far_from_the_divergence_limit(name):
    s = load_scenario(name)
    assert s.layers[0] == 2 and s.data_source
    trainer = Trainer(s, history=1)
    assert accuracy(trainer, s.inputs, s.targets) < 0.8
    trainer.run(LEARNED_BY[name], record=False)
    assert accuracy(trainer, s.inputs, s.targets) > 0.9
    assert accuracy(trainer, s.test_inputs, s.test_targets) > 0.9  # the 50 points held out
    trainer.run(s.max_steps - trainer.step_count, record=False)  # the rest of its run
    far_from_the_limit(trainer, s.max_steps)  # what tests/test_divergence.py checks of the others
