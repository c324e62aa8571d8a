"""The tutor's documents on the command line: --worked, --exercise, --export-code.

    backprop-tui SCENARIO --worked [STEPS] [--format md|tex] [-o FILE]
    backprop-tui SCENARIO --exercise [STEPS] --blank delta,grad_w,w [--format md|tex] -o FILE
    backprop-tui SCENARIO --export-code numpy|torch [-o FILE]

Without -o the document goes to standard output (an exercise needs -o: its answer key goes
beside it, FILE.key.toml). Every file is written whole or not at all (common/files.py).
cli.py adds the flags (``add_tutor_flags``) and hands the parsed arguments here (``run``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..common.errors import BackpropError
from ..common.files import write_whole
from ..common.flags import Sections
from ..engine import Trainer
from ..engine.record import StepRecord
from ..scenario.reader import Scenario
from .rounding import HandPrecisionUnsupported, HandStep, hand_step
from .sheets import FORMATS, answer_key, render
from .worked import BLANKABLE, MAX_LINES, Document, Setting, estimate_lines, worked_document

MAX_STEPS = 100
DEFAULT_BLANKS = "delta,grad_w,w"


def add_tutor_flags(p: Sections) -> None:
    g = p.add_argument_group("worked solutions, exercise sheets and code (docs/worked-solutions.md)")
    g.add_argument(
        "--worked",
        nargs="?",
        const=1,
        type=int,
        metavar="STEPS",
        help="write a worked solution of the first STEPS steps (default 1), every equation with its numbers",
    )
    g.add_argument(
        "--exercise",
        nargs="?",
        const=1,
        type=int,
        metavar="STEPS",
        help="write the worked solution with the --blank quantities left for the learner, and an answer key",
    )
    g.add_argument(
        "--blank",
        default=DEFAULT_BLANKS,
        metavar="Q1,Q2,...",
        help=f"with --exercise: the quantities to blank ({', '.join(BLANKABLE)}); default delta,grad_w,w",
    )
    g.add_argument(
        "--digits",
        type=int,
        metavar="K",
        help="hand precision: each step also done with every number rounded to K significant digits "
        "(1 to 17), beside the exact one (as [display] digits)",
    )
    g.add_argument("--format", choices=FORMATS, default="md", help="with --worked or --exercise: md or tex")
    g.add_argument("-o", "--output", metavar="FILE", help="write the document or the code to FILE")
    g.add_argument(
        "--export-code",
        choices=("numpy", "torch"),
        metavar="numpy|torch",
        help="write a standalone script that trains the scenario as the engine does",
    )


def requested(args: argparse.Namespace) -> bool:
    return args.worked is not None or args.exercise is not None or args.export_code is not None


def flag_problem(args: argparse.Namespace) -> str | None:
    """Why the tutor's flags do not go together (None: they do)."""
    flags = (("--worked", args.worked), ("--exercise", args.exercise), ("--export-code", args.export_code))
    chosen = [flag for flag, value in flags if value is not None]
    if len(chosen) > 1:
        return f"{' and '.join(chosen)}: give one of them"
    if args.digits is not None and not 1 <= args.digits <= 17:
        return f"--digits: expected 1 to 17 significant digits, got {args.digits}"
    if args.blank != DEFAULT_BLANKS and args.exercise is None:
        return "--blank goes with --exercise"
    if not chosen:
        if args.digits is not None and args.headless:
            return "--digits goes with --worked or the app (its explain panel), not --headless"
        return "--output goes with --worked, --exercise or --export-code" if args.output else None
    steps = args.worked if args.worked is not None else args.exercise
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        return f"{chosen[0]}: STEPS must be 1 to {MAX_STEPS}, got {steps}"
    if args.exercise is not None and not args.output:
        return "--exercise needs -o FILE: its answer key is written beside it"
    if args.headless or args.vary or args.serve or args.export:
        return f"{chosen[0]} writes a document: it does not go with --headless, --vary, --serve or --export"
    return None


def app_sets(args: argparse.Namespace) -> list[str]:
    """--digits K for the app: the --set display.digits=K it stands for (kept on reload)."""
    if args.digits is None or requested(args):
        return []
    return [f"display.digits={args.digits}"]


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
