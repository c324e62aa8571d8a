"""The tutor's flags on the command line (--worked, --exercise, --blank, --digits, --format,
-o, --export-code) and the rules that tie them together.

Apart from tutor/command.py, which writes the documents, so that the command line parses its
arguments and answers ``--help`` without loading the engine or numpy.
"""

from __future__ import annotations

import argparse

from ..common.flags import Sections

FORMATS = ("md", "tex")  # a worked solution or an exercise sheet: Markdown or LaTeX (tutor/sheets.py)
BLANKABLE = ("z", "a", "delta", "grad_w", "grad_b", "w", "b", "loss")  # what an exercise may leave blank
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
