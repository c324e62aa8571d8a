"""--export run.csv and --export weights.npz: read back by the csv module and by numpy, they hold
the numbers of the JSON trace of the same run (written here too, and compared)."""

from __future__ import annotations

import csv
import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.common.errors import BackpropError
from tui_backprop.common.files import NewFile
from tui_backprop.trace.csv_out import CsvWriter
from tui_backprop.trace.npz_out import NpzWriter

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"  # XOR on 2-2-1 sigmoid: targets 0 and 1, one output
TOL = {"rel": 1e-12, "abs": 0.0}


def run(tmp_path: Path, capsys, scenario: str, export: str, *flags: str) -> Path:
    path = tmp_path / export
    assert main([scenario, "--headless", "--export", str(path), *flags]) in (0, 3)
    capsys.readouterr()
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(cell: str) -> float:
    return float(cell)  # nan, inf, -inf too


def same(a: float | None, cell: str) -> bool:
    """A trace's number (None where it was not finite) against a CSV cell."""
    if a is None:
        return not math.isfinite(number(cell))
    return number(cell) == pytest.approx(a, **TOL)


def accuracy_in_test(trace: dict, step: dict) -> float:
    """The batch's accuracy from the trace alone: its outputs a[L] against the batch's targets,
    by the largest output (several outputs) or the threshold halfway between the two classes."""
    y = np.array(step["layers"][-1]["a"], dtype=float)
    t = np.array(trace["data"]["targets"], dtype=float)[step["batch"]]
    if t.shape[1] > 1:
        return float(np.mean(y.argmax(axis=1) == t.argmax(axis=1)))
    low, high = t.min(), t.max()
    middle = 0.5 if {low, high} <= {0.0, 1.0} else 0.0
    return float(np.mean((y[:, 0] >= middle) == (t[:, 0] > middle)))


@pytest.mark.parametrize(
    "scenario, flags",
    [
        (str(TINY), ["--steps", "12"]),  # one sigmoid output, classes 0 and 1
        ("iris", ["--steps", "9", "--set", "training.l2=0.01"]),  # softmax, a test set, a penalty
        ("linear_neuron_full", ["--steps", "6"]),  # a regression: no accuracy
        (str(TINY), ["--steps", "10", "--every", "4"]),  # steps 4, 8 and the last, 10
    ],
    ids=["sigmoid", "softmax-test-l2", "regression", "every"],
)
def test_the_csv_holds_the_traces_numbers(tmp_path, capsys, scenario, flags):
    trace = json.loads(run(tmp_path, capsys, scenario, "t.json", *flags).read_text("utf-8"))
    table = rows(run(tmp_path, capsys, scenario, "t.csv", *flags))
    steps = trace["steps"]
    assert [int(r["step"]) for r in table] == [s["step"] for s in steps]
    expected = ["step", "epoch", "loss", "train_loss"]
    expected += ["test_loss"] if "test_data" in trace else []
    expected += ["penalty"] if "penalty" in steps[0] else []
    if scenario != "linear_neuron_full":  # a classifier: the batch's, the training and test sets'
        expected += ["accuracy", "train_accuracy", *(["test_accuracy"] if "test_data" in trace else [])]
    assert list(table[0]) == [*expected, "learning_rate"]
    rate = trace["scenario"]["training"]["learning_rate"]
    for row, step in zip(table, steps, strict=True):
        assert int(row["epoch"]) == step["epoch"]
        for key in ("loss", "train_loss", "test_loss", "penalty", "train_accuracy", "test_accuracy"):
            if key in row:
                assert same(step[key], row[key]), (key, step["step"])
        assert number(row["learning_rate"]) == pytest.approx(rate, **TOL)
        if "accuracy" in row:
            assert number(row["accuracy"]) == pytest.approx(accuracy_in_test(trace, step), **TOL)


def test_a_diverging_run_writes_its_non_finite_numbers_as_float_reads_them(tmp_path, capsys):
    scenario = str(DATA / "diverges_1_1.toml")
    trace = json.loads(run(tmp_path, capsys, scenario, "t.json").read_text("utf-8"))
    table = rows(run(tmp_path, capsys, scenario, "t.csv"))
    assert len(table) == len(trace["steps"])
    assert any(not math.isfinite(number(r["train_loss"])) for r in table)  # the case is exercised
    for row, step in zip(table, trace["steps"], strict=True):
        assert same(step["train_loss"], row["train_loss"]) and same(step["loss"], row["loss"])


def test_the_npz_holds_the_last_steps_weights(tmp_path, capsys):
    trace = json.loads(run(tmp_path, capsys, "iris", "t.json", "--steps", "5").read_text("utf-8"))
    with np.load(run(tmp_path, capsys, "iris", "w.npz", "--steps", "5")) as data:
        last = trace["steps"][-1]
        assert int(data["step"]) == last["step"] == 5
        assert sorted(data.files) == ["W1", "W2", "b1", "b2", "step"]
        for n, layer in enumerate(last["layers"], start=1):
            np.testing.assert_allclose(data[f"W{n}"], layer["w"], rtol=1e-12, atol=0)
            np.testing.assert_allclose(data[f"b{n}"], layer["b"], rtol=1e-12, atol=0)


def test_the_npz_with_every_holds_each_kept_steps_weights(tmp_path, capsys):
    flags = ("--steps", "11", "--every", "5")
    trace = json.loads(run(tmp_path, capsys, str(TINY), "t.json", *flags).read_text("utf-8"))
    with np.load(run(tmp_path, capsys, str(TINY), "w.npz", *flags)) as data:
        kept = [s["step"] for s in trace["steps"]]
        assert kept == [5, 10, 11] and data["steps"].tolist() == kept
        for step in trace["steps"]:
            for n, layer in enumerate(step["layers"], start=1):
                np.testing.assert_allclose(data[f"W{n}_step{step['step']}"], layer["w"], rtol=1e-12, atol=0)
                np.testing.assert_allclose(data[f"b{n}_step{step['step']}"], layer["b"], rtol=1e-12, atol=0)
        np.testing.assert_array_equal(data["W1"], data["W1_step11"])


def test_an_npz_of_no_step_holds_the_initial_weights(tmp_path):
    trainer = Trainer(load_scenario(str(TINY)))
    writer = NpzWriter(tmp_path / "w.npz", trainer)
    path = writer.close(trainer.initial_train_loss, "user")
    with np.load(path) as data:
        assert int(data["step"]) == 0
        np.testing.assert_array_equal(data["W1"], trainer.initial_W[0])


# -- refusals: as for a JSON trace ---------------------------------------------------------------


def temporaries(folder: Path) -> list[str]:
    return sorted(p for p in os.listdir(folder) if p.endswith(".tmp"))


@pytest.mark.parametrize("name", ["t.csv", "t.npz"])
@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_a_fifo_or_a_link_at_the_target_is_refused(tmp_path, capsys, name, kind):
    target = tmp_path / name
    if kind == "fifo":
        os.mkfifo(target)
    else:
        (tmp_path / "real").write_text("kept\n")
        target.symlink_to(tmp_path / "real")
    assert main([str(TINY), "--headless", "--steps", "2", "--export", str(target), "--force"]) == 2
    out, err = capsys.readouterr()
    what = "a CSV table" if name.endswith(".csv") else "a NumPy archive"
    if kind == "fifo":
        says = f"is a FIFO, not a file {what} can be written to"
    else:
        says = f"is a symbolic link: {what} is never written through one (give the file's own path)"
    assert out == "" and err == f"error: {target}: {says}\n"
    assert stat.S_ISFIFO(os.lstat(target).st_mode) if kind == "fifo" else target.is_symlink()
    assert kind == "fifo" or (tmp_path / "real").read_text() == "kept\n"
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize("writer", [CsvWriter, NpzWriter])
def test_an_aborted_export_leaves_nothing_and_keeps_what_was_there(tmp_path, writer):
    target = tmp_path / "out"
    target.write_text("the old file\n")
    trainer = Trainer(load_scenario(str(TINY)))
    w = writer(target, trainer, 2)
    w.run(trainer, 5)
    w.abort()
    assert target.read_text() == "the old file\n" and temporaries(tmp_path) == []


def test_a_file_that_appears_while_a_new_file_is_written_is_kept(tmp_path):
    target = tmp_path / "t.csv"
    out = NewFile(target, replace=False)
    assert out.file is not None
    out.file.write(b"ours\n")
    target.write_text("someone else's\n")
    with pytest.raises(BackpropError, match="a file appeared there"):
        out.commit()
    assert target.read_text() == "someone else's\n" and temporaries(tmp_path) == []


def test_without_force_an_existing_csv_is_kept_and_a_new_name_chosen(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("mine\n")
    assert main([str(TINY), "--headless", "--steps", "2", "--export", "t.csv"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("table: t-1.csv")
    assert (tmp_path / "t.csv").read_text() == "mine\n"
    assert [r["step"] for r in rows(tmp_path / "t-1.csv")] == ["1", "2"]


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--export", "t.csv"], "--export to a .csv file goes with --headless"),
        (["--export", "t.npz"], "--export to a .npz file goes with --headless"),
        (["--headless", "--export", "t.csv", "--fields", "loss"], "--fields goes with a JSON trace"),
    ],
)
def test_csv_and_npz_go_with_a_headless_run(tmp_path, capsys, flags, says):
    with pytest.raises(SystemExit) as info:
        main([str(TINY), *flags])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {says}") and not list(tmp_path.iterdir())


def test_vary_writes_one_csv_a_variant(tmp_path, capsys):
    base = tmp_path / "cmp.csv"
    argv = [str(TINY), "--headless", "--steps", "3", "--vary", "training.learning_rate=0.5,2", "--export"]
    assert main([*argv, str(base)]) == 0
    capsys.readouterr()
    for rate in ("0.5", "2"):
        table = rows(tmp_path / f"cmp-learning_rate={rate}.csv")
        assert [r["step"] for r in table] == ["1", "2", "3"]
        assert {number(r["learning_rate"]) for r in table} == {float(rate)}


def test_a_csv_export_removes_the_stale_temporary_files_of_killed_exports(tmp_path, capsys):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()  # a process that is gone: its temporary files are stale
    dead = proc.pid
    left = {
        f".run.csv.bptui-{dead}-abc123.tmp": b"step,epoch,loss,train_loss\n1,1,0.25",  # a killed CSV
        f".w.npz.bptui-{dead}-def456.tmp": b"PK\x03\x04\x14\x00",  # a killed npz
        f".t.json.bptui-{dead}-ghi789.tmp": b'{\n"format": "backprop',  # a killed trace
        f".x.csv.bptui-{dead}-jkl012.tmp": b"someone else's file",  # not ours: kept
    }
    for name, head in left.items():
        (tmp_path / name).write_bytes(head)
    run(tmp_path, capsys, str(TINY), "new.csv", "--steps", "2")
    assert temporaries(tmp_path) == [f".x.csv.bptui-{dead}-jkl012.tmp"]
