"""A run changed by --set or --vary never shows the file's name alone: the name shown (headless
summary, --check, the app's header, the comparison) and traced is the file's with the flags
after it, ``XOR, 2-3-1 sigmoid (--set network.layers=[2,5,1])``; a trace replays under that name.
"""

from __future__ import annotations

import json

from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.cli import main
from tui_backprop.runs.vary import comparison_title, load_variants
from tui_backprop.scenario.overrides import parse_set, parse_vary
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.compare_app import CompareApp
from tui_backprop.tui.replay_app import ReplayApp

XOR = "XOR, 2-3-1 sigmoid"
LAYERS = "--set network.layers=[2,5,1]"


def test_the_headless_summary_and_check_say_the_flags(capsys):
    assert main(["xor", "--set", "network.layers=[2,5,1]", "--headless", "--steps", "2"]) == 0
    assert capsys.readouterr().out.startswith(f"{XOR} ({LAYERS}): 2 steps")
    assert main(["--check", "xor", "--set", "network.layers=[2,5,1]", "--set", "training.batch=2"]) == 0
    assert f"ok: xor: {XOR} ({LAYERS} --set training.batch=2) (2-5-1," in capsys.readouterr().out


def test_without_flags_the_name_is_the_files(capsys):
    assert main(["xor", "--headless", "--steps", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"{XOR}: 1 step")


def test_one_key_set_twice_is_named_once_with_the_value_applied():
    s = load_scenario(
        "xor", [parse_set("training.learning_rate=0.3"), parse_set("training.learning_rate=0.7")]
    )
    assert s.learning_rate == 0.7 and s.title == f"{XOR} (--set training.learning_rate=0.7)"


def test_a_new_name_is_the_name_and_no_flag_of_scenario_is_listed():
    s = load_scenario("xor", [parse_set("scenario.name=Mine"), parse_set("scenario.description=d")])
    assert s.title == "Mine"
    s = load_scenario("xor", [parse_set("scenario.name=Mine"), parse_set("training.batch=2")])
    assert s.title == "Mine (--set training.batch=2)"


async def test_the_app_header_and_help_say_the_flags():
    app = BackpropApp(load_scenario("xor", [parse_set("network.layers=[2,5,1]")]))
    async with drive(app) as s:
        assert f"{XOR} ({LAYERS})" in s.header()
        assert s.panel("explain").startswith(f"{XOR} ({LAYERS})")  # the explain panel at step 0
        await s.press("question_mark")  # ?: the help starts with the name
        assert f"{XOR} ({LAYERS})" in s.screen()


async def test_the_trace_records_the_name_and_a_replay_shows_it(tmp_path):
    out = tmp_path / "t.json"
    assert (
        main(["xor", "--set", "network.layers=[2,5,1]", "--headless", "--steps", "2", "--export", str(out)])
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["scenario"]["scenario"]["name"] == f"{XOR} ({LAYERS})" and doc["scenario"]["network"][
        "layers"
    ] == [
        2,
        5,
        1,
    ]
    app = ReplayApp(read_trace(str(out)))
    async with drive(app) as s:
        assert f"{XOR} ({LAYERS})" in s.header()


async def test_the_comparison_names_the_set_flags_and_each_variant_its_vary_flag():
    variants = load_variants(
        "xor", [parse_set("network.layers=[2,5,1]")], parse_vary("training.learning_rate=0.1,1")
    )
    assert comparison_title(variants) == f"{XOR} ({LAYERS})"
    assert variants[1].scenario.title == f"{XOR} ({LAYERS} --vary training.learning_rate=1)"
    app = CompareApp(variants)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        status = str(app.query_one("#status").render())
        assert status.startswith(f"{XOR} ({LAYERS})  comparing training.learning_rate = 0.1, 1")
    assert app._exception is None
