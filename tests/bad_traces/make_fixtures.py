"""Writes the corrupted-trace fixtures of this folder, one defect each, from a good trace.

    python tests/bad_traces/make_fixtures.py [NAME ...]

The good trace is two steps of the bundled xor scenario (2-3-1, full batch of 4), written by
the real command. Each fixture changes one thing; tests/test_replay.py holds the message
each one must get. Run this again only when the trace format changes.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))

from tui_backprop.cli import main  # noqa: E402


def good_trace(*flags: str, steps: int = 2) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xor.json"
        assert main(["xor", "--headless", "--steps", str(steps), "--export", str(path), *flags]) == 0
        return path.read_text("utf-8")


def edit(change: Callable[[dict], None]) -> Callable[[str], str]:
    """A fixture made by changing the parsed trace, written back one step per line."""

    def make(text: str) -> str:
        doc = json.loads(text)
        change(doc)
        head = {k: v for k, v in doc.items() if k not in ("steps", "summary")}
        lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
        steps = ",\n".join(json.dumps(s) for s in doc["steps"])
        return (
            "{\n"
            + ",\n".join(lines)
            + f',\n"steps": [\n{steps}\n],\n"summary": {json.dumps(doc["summary"])}\n}}\n'
        )

    return make


def setter(path: str, value: object) -> Callable[[dict], None]:
    """Set doc[a][b]... (path "steps.0.loss") to value; value DELETE removes the key."""

    def change(doc: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = doc
        for p in parents:
            target = target[p]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value

    return change


DELETE = object()


FIXTURES: dict[str, Callable[[str], str]] = {
    "empty": lambda text: "",
    "whitespace_only": lambda text: "\n  \n",
    "truncated": lambda text: text[: len(text) * 2 // 3],
    "truncated_in_a_string": lambda text: text[: text.index('"XOR') + 4],
    "not_json": lambda text: "[scenario]\nname = 'a TOML scenario, not a trace'\n",
    "not_utf8": lambda text: text.replace("XOR, 2-3-1", "XOR BADBYTE 2-3-1"),
    "json_list": lambda text: "[1, 2, 3]\n",
    "no_format": edit(setter("format", DELETE)),
    "wrong_format": edit(setter("format", "other-trace")),
    "wrong_version": edit(setter("version", 2)),
    "version_string": edit(setter("version", "1")),
    "nan_literal": edit(setter("steps.0.loss", "NAN")),
    "infinity_literal": edit(setter("steps.0.train_loss", "INF")),
    "huge_number": edit(setter("steps.1.loss", "HUGE")),
    "duplicate_key": lambda text: text.replace('"epoch": 1,', '"epoch": 1, "epoch": 1,', 1),
    "unknown_field": edit(setter("steps.1.layers.0.foo", 1)),
    "unknown_top_level": edit(setter("comment", "hello")),
    "missing_loss": edit(setter("steps.0.loss", DELETE)),
    "missing_layer_field": edit(setter("steps.1.layers.1.delta", DELETE)),
    "loss_string": edit(setter("steps.0.loss", "0.25")),
    "batch_bool": edit(setter("steps.0.batch", [0, 1, True, 3])),
    "stop_reason_unknown": edit(setter("summary.stop_reason", "bored")),
    "scenario_learning_rate": edit(setter("scenario.training.learning_rate", -0.5)),
    "scenario_softmax_hidden": edit(setter("scenario.network.activations", ["softmax", "sigmoid"])),
    "scenario_unknown_key": edit(setter("scenario.training.learning_rat", 0.9)),
    "data_null": edit(setter("data.inputs.2.1", None)),
    "data_row_length": edit(setter("data.inputs.1", [0, 1, 1])),
    "targets_rows": edit(setter("data.targets", [[0], [1], [1]])),
    "initial_w_count": edit(setter("initial.w", [[[1, 2], [3, 4], [5, 6]]])),
    "initial_b_length": edit(setter("initial.b.1", [0.0, 0.0])),
    "grad_w_shape": edit(setter("steps.1.layers.0.grad_w", [[1, 2, 3], [4, 5, 6], [7, 8, 9]])),
    "z_batch_rows": edit(setter("steps.0.layers.0.z", [[0, 0, 0], [0, 0, 0], [0, 0, 0]])),
    "w_ragged": edit(setter("steps.0.layers.0.w", [[1, 2], [3, 4, 5], [6, 7]])),
    "grad_b_length": edit(setter("steps.0.layers.1.grad_b", [0.1, 0.2])),
    "layers_count": edit(lambda doc: doc["steps"][0]["layers"].pop()),
    "step_numbering": edit(setter("steps.1.step", 3)),
    "step_repeated": edit(setter("steps.1.step", 1)),
    "steps_reversed": edit(lambda doc: doc["steps"].reverse()),
    "batch_out_of_range": edit(setter("steps.0.batch", [0, 1, 2, 7])),
    "batch_order": edit(setter("steps.1.batch", [3, 2, 1, 0])),
    "epoch_wrong": edit(setter("steps.1.epoch", 1)),
    "summary_count": edit(setter("summary.steps", 5)),
    # limits, and strings that would reach the terminal (they are printed escaped and cut)
    "integer_too_many_digits": edit(setter("version", "BIGINT")),
    "layers_too_deep": edit(setter("scenario.network.layers", [2] * 64 + [1])),
    "loss_control_character": edit(setter("scenario.training.loss", "mse\x1b[31m")),
    "unknown_field_long_name": edit(setter("k" * 500, 1)),
    # valid traces that replay cannot show, written by the real command
    "every_third_step": lambda text: good_trace("--every", "3", steps=7),
    "some_fields": lambda text: good_trace("--fields", "loss,w"),
}


def write_all(names: list[str] | None = None) -> None:
    """Every fixture, or the ones named (``make_fixtures.py NAME ...``)."""
    text = good_trace()
    for name, make in FIXTURES.items():
        if names and name not in names:
            continue
        out = make(text)
        # placeholders for what json.dumps cannot write: non-strict constants, huge numbers, bad bytes
        data = out.encode("utf-8").replace(b'"INF"', b"Infinity").replace(b'"HUGE"', b"1e400")
        data = data.replace(b'"NAN"', b"NaN").replace(b"BADBYTE", b"\xff\xfe")
        data = data.replace(b'"BIGINT"', b"1" * 4301)  # more digits than Python reads
        (HERE / f"{name}.json").write_bytes(data)


if __name__ == "__main__":
    write_all(sys.argv[1:])
