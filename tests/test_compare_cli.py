"""--vary TABLE.KEY=V1,V2,... --headless: one run per value, a table on stdout, a trace each.

The table's numbers are checked against independent runs: each variant's scenario written
to a file with that value and run headless on its own, its "to target" column recomputed
from that run's trace (the first step whose training-set loss is below target_loss).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scenario_text import bundled_text, with_line
from trace_schema import validate_trace

from tui_backprop import load_scenario
from tui_backprop.cli import main

HEADER = ("steps", "final loss", "to target", "diverged", "stopped")


def split_row(line: str, width: int) -> list[str]:
    """Cells are two or more spaces apart; an empty last cell is cut by the line's end."""
    cells = re.split(r"\s{2,}", line.rstrip())
    return cells + [""] * (width - len(cells))


def table(out: str) -> list[dict[str, str]]:
    """The rows of the printed table, by column name."""
    lines = out.strip().splitlines()
    names = split_row(lines[0], 0)
    assert [n for n in names if n in HEADER] == list(HEADER)  # in order, a test loss maybe among them
    return [dict(zip(["value", *names[1:]], split_row(line, len(names)), strict=True)) for line in lines[1:]]


def independent(
    tmp_path: Path, scenario: str, table_: str, key: str, line: str, steps: int | None, flag: str = ""
):
    """Run the scenario written with ``line`` on its own; (exit code, its trace). ``flag``: the
    --vary flag that the variant's name ends with, written into this file's name too."""
    path = tmp_path / f"alone-{key}-{len(list(tmp_path.iterdir()))}.toml"
    text = with_line(bundled_text(scenario), table_, key, line)
    if flag:
        name = f"{load_scenario(scenario).name} ({flag})"
        text = with_line(text, "scenario", "name", f"name = {json.dumps(name)}")
    path.write_text(text)
    out = path.with_suffix(".json")
    code = main([str(path), "--headless", "--export", str(out), *(["--steps", str(steps)] if steps else [])])
    return code, out


def to_target(trace: dict) -> str:
    target = trace["scenario"]["training"].get("target_loss")
    if target is None:
        return "-"
    hit = next(
        (s["step"] for s in trace["steps"] if s["train_loss"] is not None and s["train_loss"] < target), None
    )
    return "-" if hit is None else str(hit)


CASES = [
    # the two commands of docs/scenarios.md, "Comparing runs": batch modes, and step sizes
    # (1 and 10 diverge: their loss blows up)
    ("linear_neuron_full", "training", "batch", ["full", "sample", "4"], ['"full"', '"sample"', "4"], None),
    ("linear_neuron_full", "training", "learning_rate", ["0.01", "0.1", "1", "10"], None, None),
    ("xor", "init", "seed", ["1", "2", "3"], None, 200),
]


@pytest.mark.parametrize("scenario, table_, key, values, toml, steps", CASES, ids=[c[2] for c in CASES])
def test_table_matches_independent_runs(
    tmp_path, monkeypatch, capsys, scenario, table_, key, values, toml, steps
):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    out_dir = tmp_path / "variants"
    out_dir.mkdir()
    args = [
        scenario,
        "--headless",
        "--vary",
        f"{table_}.{key}={','.join(values)}",
        "--export",
        str(out_dir / "v.json"),
    ]
    code = main(args + (["--steps", str(steps)] if steps else []))
    rows = table(capsys.readouterr().out)
    assert [r["value"] for r in rows] == values
    diverged_any = False
    for row, value, text in zip(rows, values, toml or values, strict=True):
        flag = f"--vary {table_}.{key}={value}"  # the variant's name says it
        code_alone, alone = independent(tmp_path, scenario, table_, key, f"{key} = {text}", steps, flag)
        doc = json.loads(alone.read_text())
        summary = doc["summary"]
        assert row["steps"] == str(summary["steps"]) == str(len(doc["steps"]))
        final = summary["final_loss"]
        assert row["final loss"] == (f"{final:.6g}" if final is not None else row["final loss"])
        if final is None:  # written as null: not finite
            assert row["final loss"] in ("inf", "nan")
        assert row["to target"] == to_target(doc)
        assert row["diverged"] == ("yes" if summary["stop_reason"] == "diverged" else "no")
        assert row["stopped"] == summary["stop_reason"]
        assert code_alone == (3 if row["diverged"] == "yes" else 0)
        diverged_any |= row["diverged"] == "yes"
        # the variant's trace is the independent run's trace, byte for byte
        variant = out_dir / f"v-{key}={value}.json"
        assert row["trace"] == str(variant.relative_to(tmp_path))  # shown relative to the cwd
        assert variant.read_bytes() == alone.read_bytes()
        validate_trace(json.loads(variant.read_text()))
    assert code == (3 if diverged_any else 0)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"v-{key}={v}.json" for v in values)


def test_the_comparisons_of_the_readme(capsys):
    assert main(["linear_neuron_full", "--headless", "--vary", "training.batch=full,sample,4"]) == 0
    rows = table(capsys.readouterr().out)
    # full batch: one step an epoch; SGD: 20 steps an epoch; mini-batches of 4: 5 steps an epoch
    assert [(r["value"], r["steps"], r["to target"]) for r in rows] == [
        ("full", "100", "100"),
        ("sample", "95", "95"),
        ("4", "101", "101"),
    ]
    assert main(["linear_neuron_full", "--headless", "--vary", "training.learning_rate=0.01,0.1,1,10"]) == 3
    rows = table(capsys.readouterr().out)
    assert [r["diverged"] for r in rows] == ["no", "no", "yes", "yes"]
    for row in rows[2:]:  # 1: its loss grows 6% a step, and stops the run long before max_steps
        assert row["stopped"] == "diverged" and row["to target"] == "-" and int(row["steps"]) < 1000
    assert int(rows[3]["steps"]) < int(rows[2]["steps"])  # ten times the step blows up sooner
    assert int(rows[1]["steps"]) < int(rows[0]["steps"])  # a larger step size gets there sooner


def test_set_applies_to_every_variant(tmp_path, capsys):
    args = [
        "linear_neuron_full",
        "--headless",
        "--set",
        "training.target_loss=0.1",
        "--vary",
        "init.weights=[[[0]]],[[[3]]]",
    ]
    assert main(args) == 0
    rows = table(capsys.readouterr().out)
    assert [r["value"] for r in rows] == ["[[[0]]]", "[[[3]]]"]
    for row, w in zip(rows, ("0", "3"), strict=True):
        text = with_line(bundled_text("linear_neuron_full"), "training", "target_loss", "target_loss = 0.1")
        text = with_line(text, "init", "weights", f"weights = [[[{w}]]]")
        path = tmp_path / f"w{w}.toml"
        path.write_text(text)
        assert main([str(path), "--headless"]) == 0
        summary = capsys.readouterr().out
        assert f"{row['steps']} steps" in summary and f"training loss {row['final loss']}," in summary


def test_export_names_and_foreign_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    foreign = tmp_path / "out-batch=full.json"
    foreign.write_text("not ours")
    assert (
        main(
            [
                "linear_neuron_full",
                "--headless",
                "--vary",
                "training.batch=full,sample",
                "--export",
                "out.json",
            ]
        )
        == 0
    )
    rows = table(capsys.readouterr().out)
    assert foreign.read_text() == "not ours"  # never overwritten
    assert [r["trace"] for r in rows] == ["out-batch=full-1.json", "out-batch=sample.json"]
    # a folder: the default name of the scenario, one per value; array values make a file name
    folder = tmp_path / "traces"
    folder.mkdir()
    args = [
        "xor",
        "--headless",
        "--steps",
        "3",
        "--vary",
        "network.layers=[2,2,1],[2, 4, 1]",
        "--export",
        "traces",
    ]
    assert main(args) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["xor-trace-layers=2_2_1.json", "xor-trace-layers=2_4_1.json"]
    layers = [json.loads((folder / n).read_text())["scenario"]["network"]["layers"] for n in names]
    assert layers == [[2, 2, 1], [2, 4, 1]]


BAD_VARY = [
    (["--vary", "training.batch="], "error: --vary: training.batch: no value after '='"),
    (
        ["--vary", "training.batch=full"],
        "error: --vary: training.batch: give at least two values to compare, got 'full'",
    ),
    (["--vary", "training.batch=full,,4"], "error: --vary: training.batch: an empty value in 'full,,4'"),
    (["--vary", "training.batch=4,4"], "error: --vary: training.batch: the value 4 is given twice"),
    (["--vary", "training.batch"], "error: --vary: expected TABLE.KEY=VALUE"),
    (
        ["--vary", "trainin.batch=1,2"],
        "error: xor.toml: --vary trainin.batch: unknown table 'trainin' (did you mean 'training'?)",
    ),
    (
        ["--vary", "training.bach=1,2"],
        "error: xor.toml: --vary training.bach: unknown key (did you mean 'batch'?)",
    ),
    (
        ["--vary", "training.learning_rate=0.1,fast"],
        "error: xor.toml: [training] learning_rate: expected a number, got a string ('fast') "
        "(from --vary training.learning_rate=fast)",
    ),
    (
        ["--vary", "training.learning_rate=0.1,[1,"],
        "error: --vary: training.learning_rate: not a TOML value: '[1,'",
    ),
    (
        ["--vary", "training.batch=1,2", "--vary", "init.seed=1,2"],
        "error: --vary: one key at a time, got 2 (training.batch, init.seed)",
    ),
    (
        ["--vary", "training.batch=1,2", "--set", "training.batch=3"],
        "error: --vary: training.batch is also given to --set: give it to one of them",
    ),
    (
        ["--vary", "init.seed=1,2", "--set", "trainin.seed=3"],
        "error: xor.toml: --set trainin.seed: unknown table",
    ),
]


@pytest.mark.parametrize("extra, message", BAD_VARY, ids=[" ".join(e) for e, _ in BAD_VARY])
def test_bad_vary(tmp_path, capsys, extra, message):
    out = tmp_path / "out.json"
    assert main(["xor", "--headless", "--export", str(out), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.splitlines()[0].startswith(message), captured.err
    assert list(tmp_path.iterdir()) == []


def test_every_bad_variant_is_reported_before_any_runs(tmp_path, capsys):
    assert (
        main(["xor", "--headless", "--vary", "training.learning_rate=1,-1,0,2", "--export", str(tmp_path)])
        == 2
    )
    err = capsys.readouterr().err.splitlines()
    problem = "error: xor.toml: [training] learning_rate: must be > 0, got {0} (from --vary {1}={0})"
    assert err == [problem.format(-1, "training.learning_rate"), problem.format(0, "training.learning_rate")]
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_missing_folder(tmp_path, capsys):
    missing = tmp_path / "no" / "such.json"
    assert main(["xor", "--headless", "--vary", "init.seed=1,2", "--export", str(missing)]) == 2
    assert re.match(r"error: .*such\.json: no such folder", capsys.readouterr().err)
    assert not missing.parent.exists()


def test_test_loss_column_when_the_runs_have_a_test_set(tmp_path, capsys):
    """iris holds out a test set: the table adds its loss after the last step, which the test
    recomputes from each variant's trace (final weights, test data) with its own forward pass."""
    args = ["iris", "--headless", "--steps", "20", "--vary", "training.learning_rate=0.01,0.1"]
    assert main([*args, "--export", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = table(out)
    assert out.splitlines()[0].split("  ")[:4] == [
        "training.learning_rate",
        "steps",
        "final loss",
        "test loss",
    ]
    for row in rows:
        doc = json.loads((tmp_path / f"iris-trace-learning_rate={row['value']}.json").read_text())
        (w1, w2), (b1, b2) = (
            [np.array(layer[k]) for layer in doc["steps"][-1]["layers"]] for k in ("w", "b")
        )
        x, t = np.array(doc["test_data"]["inputs"]), np.array(doc["test_data"]["targets"])
        z = np.tanh(x @ w1.T + b1) @ w2.T + b2
        log_y = z - z.max(axis=1, keepdims=True)
        log_y -= np.log(np.exp(log_y).sum(axis=1, keepdims=True))
        assert row["test loss"] == f"{-(t * log_y).sum(axis=1).mean():.6g}"
    # without a test set there is no such column
    assert main(["xor", "--headless", "--steps", "2", "--vary", "init.seed=1,2"]) == 0
    assert "test loss" not in capsys.readouterr().out
