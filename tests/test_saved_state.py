"""A run's state saved as a scenario (the app's W) and its data as CSV (D): the TOML text reads
back to the same values (tomllib is the oracle), the saved scenario loads with the run's weights
and data bit for bit, and its first step is the live run's next step; a typed number is read as
a scenario file writes one; a click's cell maps to the input plane and back."""

from __future__ import annotations

import math
import tomllib
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_backprop import Trainer, load_scenario, loads_scenario
from tui_backprop.engine.boundary import Extent, pixel_centre, pixel_of
from tui_backprop.scenario.saved_state import RunState, caveats, columns, data_csv, rows, scenario_text
from tui_backprop.scenario.toml_text import read_number, toml_text, value

# -- TOML text -----------------------------------------------------------------------------------


@given(st.text(max_size=40))
def test_any_string_reads_back_as_written(s):
    assert tomllib.loads(f"k = {value(s)}")["k"] == s


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_reads_back_to_the_same_bits(x):
    back = tomllib.loads(f"k = {value(x)}")["k"]
    assert isinstance(back, float) and math.copysign(1, back) == math.copysign(1, x) and back == x


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_float_is_refused(bad):
    with pytest.raises(ValueError, match="not a finite number"):
        value(bad)


def test_a_document_of_tables_lists_and_odd_names_reads_back():
    doc = {
        "scenario": {"name": 'a "quoted"\x1b[31m name\x7f\n', "description": "é ✓ \t tab"},
        "network": {"layers": [2, 3, 1], "bias": True, "activations": ["tanh", "sigmoid"]},
        "init": {"weights": [[[0.1, -2.5e-300], [5e-324, -0.0]], [[1.0, 2.0]]]},
        "odd key": {"x y": 1},
    }
    text = toml_text(doc, "a comment\nwith \x1b an escape")
    assert tomllib.loads(text) == doc
    assert "\x1b" not in text and "\x7f" not in text  # every control character is written escaped


# -- a typed number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [("0.5", 0.5), ("-2", -2.0), ("1e-3", 1e-3), ("1_000.5", 1000.5), (" +0.25 ", 0.25), ("0x10", 16.0)],
)
def test_a_number_as_a_scenario_writes_it_is_read(typed, expected):
    assert read_number(typed) == expected


@pytest.mark.parametrize(
    "typed, words",
    [
        ("", "no number typed"),
        ("abc", "is not a number"),
        ("true", "is not a number"),
        ('"1"', "is not a number"),
        ("[1]", "is not a number"),
        ("1\nw = 2", "is not a number"),
        ("inf", "not a finite number"),
        ("nan", "not a finite number"),
        ("1e400", "not a finite number"),
        ("\x1b[2J", "is not a number"),
    ],
)
def test_anything_else_is_refused_with_the_text_escaped(typed, words):
    with pytest.raises(ValueError, match=words) as e:
        read_number(typed)
    assert "\x1b" not in str(e.value)


# -- the saved scenario --------------------------------------------------------------------------


def state_of(t: Trainer) -> RunState:
    return RunState(
        t.step_count, t.W, t.b, t.scenario.learning_rate, t.X, t.T, t.X_test, t.T_test, t.position.offset
    )


def same_numbers(r1, r2, rotated: bool = False) -> None:
    """Two records of the same step from the same state: every array the same, bit for bit; the
    training-set loss too, unless the rows were ``rotated`` (a mean in another order)."""
    assert r1.loss == r2.loss
    assert r1.train_loss == (pytest.approx(r2.train_loss, rel=1e-13) if rotated else r2.train_loss)
    for l1, l2 in zip(r1.layers, r2.layers, strict=True):
        for name in ("z", "a", "delta", "grad_w", "grad_b", "w_before", "b_before", "w", "b"):
            assert np.array_equal(getattr(l1, name), getattr(l2, name)), name


# full batch, one sample a step (the order rotated), several layers, a test split with
# standardized inputs read from a CSV file
EXACT = ["xor", "mazur_2_2_2", "linear_neuron_sgd", "linear_neuron_minibatch", "mlp_error_signal"]


@pytest.mark.parametrize("name", EXACT)
@pytest.mark.parametrize("steps", [0, 3, 7])
def test_the_saved_scenario_starts_where_the_run_is(name, steps):
    live = Trainer(load_scenario(name))
    live.run(steps, record=False)
    state = state_of(live)
    saved = loads_scenario(scenario_text(live.scenario, state), "saved.toml")
    assert not caveats(live.scenario, state)
    t = Trainer(saved)
    for w, w_live in zip(t.initial_W + t.initial_b, live.W + live.b, strict=True):
        assert np.array_equal(w, w_live)
    rotated = state.offset > 0
    assert rotated == (steps > 0 and live.schedule.size < len(live.X))
    for _ in range(3):  # the next steps, over the same samples in the same order
        same_numbers(t.step(), live.step(), rotated)


def test_a_test_split_and_standardized_inputs_come_back_the_same():
    scenario = load_scenario("iris")  # a CSV source, one-hot classes, a test set
    live = Trainer(scenario)
    live.run(5, record=False)
    saved = loads_scenario(scenario_text(scenario, state_of(live)), "saved.toml")
    assert np.array_equal(saved.inputs, live.X) and np.array_equal(saved.targets, live.T)
    assert np.array_equal(saved.test_inputs, live.X_test) and np.array_equal(saved.test_targets, live.T_test)
    assert saved.learning_rate == scenario.learning_rate
    assert "shuffled order" in caveats(scenario, state_of(live))[0]  # iris shuffles: said so


def test_the_rate_of_the_state_is_saved_and_the_rest_of_training_kept():
    scenario = load_scenario("xor")
    live = Trainer(scenario)
    saved = loads_scenario(scenario_text(scenario, state_of(live)._replace(learning_rate=0.125)), "s.toml")
    assert saved.learning_rate == 0.125
    assert (saved.loss, saved.batch, saved.max_steps, saved.target_loss) == ("mse", "full", 5000, 0.01)
    assert saved.name == f"{scenario.name}, from step 0" and saved.init.method == "explicit"


def test_momentum_says_that_its_velocity_starts_afresh():
    text = scenario_text(load_scenario("xor"), state_of(Trainer(load_scenario("xor")))).replace(
        'batch = "full"', 'batch = "full"\noptimizer = "momentum"'
    )
    scenario = loads_scenario(text, "m.toml")
    live = Trainer(scenario)
    live.run(2, record=False)
    (note,) = caveats(scenario, state_of(live))
    assert "momentum optimiser's state" in note
    assert "Not carried over: the momentum" in scenario_text(scenario, state_of(live))


def test_rows_without_shuffling_begin_with_the_next_batch():
    live = Trainer(load_scenario("linear_neuron_sgd"))  # one sample a step
    live.run(2, record=False)
    X, T, fraction, _ = rows(live.scenario, state_of(live))
    k = live.position.offset
    assert k == 2 and fraction == 0.0
    assert np.array_equal(X, np.concatenate([live.X[k:], live.X[:k]]))
    assert np.array_equal(T, np.concatenate([live.T[k:], live.T[:k]]))


# -- the data as CSV -----------------------------------------------------------------------------


def csv_scenario(folder, scenario, name: str = "data.csv") -> str:
    """A scenario that reads its data from ``name`` in ``folder`` (the D key's file)."""
    _, outputs = columns(scenario)
    doc = {
        "scenario": {"name": "from a saved table"},
        "network": {"layers": list(scenario.layers), "activations": list(scenario.activations)},
        "data": {"csv": name, "target_columns": list(outputs)},
        "training": {"loss": scenario.loss, "learning_rate": 1.0},
    }
    (folder / "s.toml").write_text(toml_text(doc), encoding="utf-8")
    return str(folder / "s.toml")


@pytest.mark.parametrize("name", ["xor", "iris", "circle"])
def test_the_data_csv_reads_back_as_the_same_training_set(name, tmp_path):
    scenario = load_scenario(name)
    t = Trainer(scenario)
    (tmp_path / "data.csv").write_text(data_csv(scenario, t.X, t.T), encoding="utf-8")
    back = load_scenario(csv_scenario(tmp_path, scenario))
    assert np.array_equal(back.inputs, t.X) and np.array_equal(back.targets, t.T)
    assert back.input_names == columns(scenario)[0]


@pytest.mark.parametrize("name", ["xor", "iris", "spiral"])
def test_a_saved_scenario_with_its_data_in_a_csv_file_loads_the_same_sets(name, tmp_path):
    scenario = load_scenario(name)
    t = Trainer(scenario)
    t.run(4, record=False)
    state = state_of(t)
    X, T, _, _ = rows(scenario, state)  # the training rows and the test rows, where the split draws them
    (tmp_path / "data.csv").write_text(data_csv(scenario, X, T), encoding="utf-8")
    (tmp_path / "saved.toml").write_text(scenario_text(scenario, state, "data.csv"), encoding="utf-8")
    saved = load_scenario(str(tmp_path / "saved.toml"))
    assert np.array_equal(saved.inputs, t.X) and np.array_equal(saved.targets, t.T)
    if t.X_test is not None:
        assert np.array_equal(saved.test_inputs, t.X_test) and np.array_equal(saved.test_targets, t.T_test)
    assert all(np.array_equal(a, b) for a, b in zip(Trainer(saved).initial_W, t.W, strict=True))


def test_names_with_commas_quotes_and_escapes_survive_the_csv_header(tmp_path):
    scenario = replace(load_scenario("xor"), input_names=('a,"b"', "c\x1bd"))
    t = Trainer(scenario)
    (tmp_path / "data.csv").write_text(data_csv(scenario, t.X, t.T), encoding="utf-8")
    back = load_scenario(csv_scenario(tmp_path, scenario))
    assert back.input_names == ('a,"b"', "c\x1bd") and np.array_equal(back.inputs, t.X)


# -- a click on the plane ------------------------------------------------------------------------


@settings(deadline=None)  # up to 80 x 40 cells an example: over 200 ms on a loaded 2-core machine
@given(
    st.floats(-50, 50),
    st.floats(0.01, 100),
    st.floats(-50, 50),
    st.floats(0.01, 100),
    st.integers(1, 80),
    st.integers(1, 40),
)
def test_a_cells_centre_falls_back_in_that_cell(x1, w, x2, h, cols, rows_):
    ext = Extent(x1, x1 + w, x2, x2 + h)
    for r in range(rows_):
        for c in range(cols):
            p = np.array([pixel_centre(r, c, ext, cols, rows_)])
            pr, pc = pixel_of(p, ext, cols, rows_)
            assert (int(pr[0]), int(pc[0])) == (r, c)


@given(
    st.floats(0, 1, exclude_max=True),
    st.floats(0, 1, exclude_max=True),
    st.integers(1, 80),
    st.integers(1, 40),
)
def test_a_point_is_within_half_a_cell_of_its_cells_centre(u, v, cols, rows_):
    ext = Extent(-2.0, 6.0, 1.0, 3.0)
    point = np.array([[-2.0 + 8.0 * u, 1.0 + 2.0 * v]])
    pr, pc = pixel_of(point, ext, cols, rows_)
    x1, x2 = pixel_centre(int(pr[0]), int(pc[0]), ext, cols, rows_)
    assert abs(x1 - point[0, 0]) <= 0.5 * 8.0 / cols + 1e-12
    assert abs(x2 - point[0, 1]) <= 0.5 * 2.0 / rows_ + 1e-12
