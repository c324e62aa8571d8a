"""The tutor's documents on the command line: --worked, --exercise, --export-code.

    backprop-tui SCENARIO --worked [STEPS] [--format md|tex] [-o FILE]
    backprop-tui SCENARIO --exercise [STEPS] --blank delta,grad_w,w [--format md|tex] -o FILE
    backprop-tui SCENARIO --export-code numpy|torch [-o FILE]

Without -o the document goes to standard output (an exercise needs -o: its answer key goes
beside it, FILE.key.toml). Every file is written whole or not at all (common/files.py).
cli.py adds the flags (tutor/flags.py: ``add_tutor_flags``) and hands the parsed arguments
here (``run``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..common.errors import BackpropError
from ..common.files import write_whole
from ..engine import Trainer
from ..engine.record import StepRecord
from ..scenario.reader import Scenario
from .flags import BLANKABLE
from .rounding import HandPrecisionUnsupported, HandStep, hand_step
from .sheets import answer_key, render
from .worked import MAX_LINES, Document, Setting, estimate_lines, worked_document


def blanks(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in BLANKABLE]
    if bad or not names:
        raise BackpropError("--blank", f"expected some of {', '.join(BLANKABLE)}, got {text!r}")
    return names


def run(scenario: Scenario, args: argparse.Namespace, force: bool = False) -> int:
    if args.export_code is not None:
        from .code_export import script
        from .code_torch import torch_script

        _emit((script if args.export_code == "numpy" else torch_script)(scenario), args.output, force)
        return 0
    steps = args.worked if args.worked is not None else args.exercise
    chosen = blanks(args.blank) if args.exercise is not None else ()
    digits = args.digits if args.digits is not None else scenario.digits
    doc = document(scenario, steps, chosen, digits if args.worked is not None else None)
    _emit(render(doc, args.format), args.output, force)
    if args.exercise is not None:
        _emit(answer_key(doc, scenario.title), key_path(args.output), force)
    return 0


def key_path(output: str) -> str:
    """The answer key of the sheet ``output``: sheet.md -> sheet.key.toml."""
    p = Path(output)
    return str(p.with_name(p.stem + ".key.toml"))


def document(
    scenario: Scenario, steps: int, blanked: tuple[str, ...] = (), digits: int | None = None
) -> Document:
    """The worked solution (with ``blanked`` quantities, an exercise) of the first ``steps`` steps;
    with ``digits``, each step also by hand to that many significant digits."""
    trainer = Trainer(scenario, history=1)
    batch = trainer.schedule.size
    lines = estimate_lines(scenario.layers, batch, steps)
    if lines > MAX_LINES:
        raise BackpropError(
            scenario.source or scenario.title,
            f"a worked solution of {steps} step(s) of a {'-'.join(map(str, scenario.layers))} network on "
            f"batches of {batch} would hold about {lines:,} equations, more than {MAX_LINES:,}: "
            "take fewer steps, or a smaller network or batch",
        )
    records = []
    for _ in range(steps):
        if trainer.done:
            break
        records.append(trainer.step())
    setting = Setting(
        title=scenario.title,
        description=scenario.description.strip(),
        layers=tuple(scenario.layers),
        activations=tuple(scenario.activations),
        loss=scenario.loss,
        learning_rate=scenario.learning_rate,
        batch=scenario.batch,
        notation=scenario.notation,
        update_biases=scenario.update_biases,
        optimizer=scenario.optimizer,
        input_names=tuple(scenario.input_names),
        output_names=tuple(scenario.output_names),
        schedule="" if scenario.schedule == "constant" else str(trainer.lr_schedule),
    )
    hand = [_by_hand(r, scenario, digits) for r in records] if digits is not None else []
    return worked_document(
        setting, trainer.X, trainer.T, (trainer.initial_W, trainer.initial_b), records, blanked, hand
    )


def _by_hand(record: StepRecord, scenario: Scenario, digits: int) -> HandStep | str:
    try:
        return hand_step(record, scenario.loss, digits, scenario.update_biases)
    except HandPrecisionUnsupported as e:
        return f"Not done by hand: {e}."


def _emit(text: str, output: str | None, force: bool) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    write_whole(output, text.encode("utf-8"), replace=force)
