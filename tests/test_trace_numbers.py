"""trace/numbers.py writes a trace's arrays with orjson: the bytes json.dumps writes, always."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.scenario.reader import bundled_names
from tui_backprop.trace.numbers import array_json, dumps
from tui_backprop.trace.writer import step_dict


def reference(a: np.ndarray) -> str:
    """What the trace wrote before: the nested list, non-finite values as None, by json.dumps."""
    obj = a.astype(object)
    obj[~np.isfinite(a)] = None
    return json.dumps(obj.tolist(), ensure_ascii=False, allow_nan=False)


EDGES = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.999999999999999e-5, 1e-5, -1e-5, 2e-5, 9.99e-6, 1e-6, 1e-9]
EDGES += [
    1e-10,
    5e-324,
    2.2250738585072014e-308,
    1e15,
    9999999999999998.0,
    1e16,
    1e22,
    1.7976931348623157e308,
]
EDGES += [123456.789, 0.30000000000000004, float("nan"), float("inf"), -float("inf")]


def numbers(seed: int, n: int) -> np.ndarray:
    """n numbers of every magnitude a float64 has, with extra weight on 1e-9 .. 1e20."""
    rng = np.random.default_rng(seed)
    wide = rng.normal(size=n) * 10.0 ** rng.integers(-320, 308, size=n)
    usual = rng.normal(size=n) * 10.0 ** rng.integers(-9, 20, size=n)
    return np.concatenate([wide, usual, np.array(EDGES)])


@pytest.mark.parametrize("seed", range(3))
def test_the_same_text_as_json_dumps_for_every_magnitude(seed):
    a = numbers(seed, 100_000)
    assert array_json(a) == reference(a)


def test_shapes_and_layouts():
    a = numbers(9, 600)[:1200].reshape(30, 40)
    for view in (a, a.T, a[:, ::3], a[:0], np.zeros((3, 0)), a[0], np.arange(6).reshape(2, 3)):
        assert array_json(view) == reference(np.asarray(view, dtype=float))


def test_the_structure_around_the_arrays():
    obj = {"a": [np.array([1e-5, 2.5]), {"k": np.array([[np.nan]])}], "s": "é, [x]", "n": [1, 2.0, None]}
    listed = {"a": [[1e-5, 2.5], {"k": [[None]]}], "s": "é, [x]", "n": [1, 2.0, None]}
    assert dumps(obj) == json.dumps(listed, ensure_ascii=False, allow_nan=False)


@pytest.mark.parametrize("name", [n for n in bundled_names() if n != "blobs_784"])
def test_every_bundled_scenarios_steps_keep_their_bytes(name):
    trainer = Trainer(load_scenario(name))
    for rec in trainer.run(5):
        before = json.dumps(step_dict(rec), ensure_ascii=False, allow_nan=False)
        assert dumps(step_dict(rec, raw=True)) == before
