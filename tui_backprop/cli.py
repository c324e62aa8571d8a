"""The command line: open the app, run headless, list and check scenarios.

Every input problem ends in ``error: ...`` lines on stderr and exit code 2, never a
traceback. Output into a pipe that the reader has closed (``backprop-tui --list | head -1``)
ends quietly with exit code 141, as a command killed by SIGPIPE does. The Textual app is
imported only when it is about to open.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .common.completion import SHELLS, flags_of, script
from .common.errors import MAX_LINE, BackpropError
from .common.escape import shown
from .common.files import peek, target_problem
from .common.threads import blas_threads, limit_blas_threads
from .common.words import count
from .serve.flags import add_serve_flags, positive_int
from .serve.flags import flag_problem as serve_flag_problem
from .trace.fields import FIELDS
from .tutor import flags as tutor_flags

if TYPE_CHECKING:  # imported where they are used: --help and --list load no numpy (benchmarks/startup.py)
    from .engine import Trainer
    from .runs import vary as compare
    from .scenario.overrides import Override
    from .scenario.reader import Scenario
    from .trace.folder import ExportFolder
    from .trace.sink import StepSink

EXIT_OK, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_WRONG = 1  # --answers: a number is wrong
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143: a run stopped by SIGTERM, as a shell reports a kill by it
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a command killed by SIGPIPE


class _Parser(argparse.ArgumentParser):
    """The parser; ``flags``: every argument added through ``group``, in order (what --completion
    offers)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flags: list[argparse.Action] = []

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {shown(message, MAX_LINE)} (see backprop-tui --help)\n")

    def group(self, title: str) -> _Flags:
        """A section of --help, titled by what its flags are for."""
        return _Flags(self.add_argument_group(title), self.flags)


class _Help(argparse.HelpFormatter):
    """argparse's help, told the terminal's width: left to ask, argparse imports shutil (and
    with it bz2 and lzma), some 5 ms of the 25 that --help costs over a bare interpreter."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)  # argparse's own margin


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size finds it: $COLUMNS, else the terminal
    of standard output, else 80."""
    try:
        if (columns := int(os.environ.get("COLUMNS", "0"))) > 0:
            return columns
    except ValueError:
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Sections:
    """The parser as a part of the package sees it (common/flags.Sections): each section it adds
    is one of the parser's groups, whose flags are recorded."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser

    def add_argument_group(self, title: str | None = None, description: str | None = None) -> _Flags:
        return self.parser.group(title or "")


class _Flags:
    """An argument group that records each argument added to it in ``flags``."""

    def __init__(self, group: Any, flags: list[argparse.Action]) -> None:
        self.group = group
        self.flags = flags

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = self.group.add_argument(*args, **kwargs)
        self.flags.append(action)
        return action


class _Version(argparse.Action):
    """--version: the version is read from the package metadata only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: Any = None
    ) -> None:
        from . import __version__

        sys.stdout.write(f"backprop-tui {__version__}\n")  # as argparse's version action, on stdout
        parser.exit()


def _parser() -> _Parser:
    p = _Parser(
        prog="backprop-tui",
        description="Step a neural network through backpropagation, one weight update at a time.",
        epilog="SCENARIO is a scenario file (.toml) or the name of a bundled scenario (see --list).",
        add_help=False,  # -h goes with --version in its own section
        formatter_class=_Help,
    )
    run = p.group("what to run")
    run.add_argument("scenario", nargs="*", metavar="SCENARIO", help="scenario file or bundled name")
    run.add_argument("--headless", action="store_true", help="run without the app and print a summary")
    run.add_argument("--steps", type=positive_int, metavar="N", help="with --headless: run N steps at most")
    run.add_argument(
        "--replay", metavar="TRACE", help="open the app on a trace's recorded steps (as does a TRACE.json)"
    )
    run.add_argument("--list", action="store_true", help="list the bundled scenarios")
    run.add_argument("--check", action="store_true", help="validate the scenarios (or traces) and exit")
    run.add_argument(
        "--no-verify",
        action="store_true",
        help="with --check or a trace to replay: check the trace's format but do not recompute its steps",
    )
    _add_override_flags(p.group("changing the scenario for one run"))
    out = p.group("writing the run down")
    out.add_argument(
        "--export",
        metavar="PATH",
        help="write the trace of every step to PATH (JSON); with --headless, PATH.csv: one row a step "
        "(losses, accuracy, learning rate), PATH.npz: the last weights and biases (numpy)",
    )
    out.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file at the export path (without it, -1, -2, ... is added to the name)",
    )
    _trace_size_flags(out)
    add_serve_flags(p.group("serving the app in a browser"))
    _add_answers_flags(p.group("checking your own numbers (docs/check-my-work.md)"))
    tutor_flags.add_tutor_flags(_Sections(p))
    about = p.group("about the command")
    about.add_argument("-h", "--help", action="help", help="show this help and exit")
    about.add_argument(
        "--completion",
        choices=SHELLS,
        metavar="SHELL",
        help=f"print a completion script for SHELL ({', '.join(SHELLS)}; see docs/data-out.md) and exit",
    )
    about.add_argument("--version", action=_Version, help="show the version and exit")
    return p


# -- check my work (tutor/) ----------------------------------------------------------------------


def _add_answers_flags(p: _Flags) -> None:
    p.add_argument(
        "--answers",
        metavar="FILE",
        help="grade your own numbers (a TOML answers file or a trace) against the scenario's run and "
        "name the slip behind the first wrong one: in the app, or printed with --headless (exit 0 "
        "when all are right, 1 when not)",
    )


def _answers(parser: _Parser, args: argparse.Namespace) -> int:
    """--answers FILE: with --headless, one line a number, the first wrong one, its diagnosis;
    without, the app with the answered numbers marked and the diagnosis in the explain panel."""
    from .scenario.reader import load_scenario
    from .tutor.check import check_answers

    for flag, given in (("--steps", args.steps), ("--vary", args.vary), ("--serve", args.serve)):
        if given:
            parser.error(f"{flag} does not go with --answers")
    if args.headless and args.export:
        parser.error("--export does not go with --answers --headless")
    scenario = load_scenario(args.scenario[0], _sets(args))
    result = check_answers(scenario, args.answers)  # refused here, before the app opens
    if not args.headless:
        return _open_app(scenario, args.export, (args.scenario[0], _sets(args)), None, args.force, result)
    print("\n".join(result.lines()))
    return EXIT_OK if result.all_right else EXIT_WRONG


def _add_override_flags(p: _Flags) -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        dest="sets",
        metavar="TABLE.KEY=VALUE",
        help="override a scenario key for this run (a TOML value; a bare word is a string); repeatable",
    )
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="TABLE.KEY=V1,V2,...",
        help="compare one run per value: a table (--headless) or the comparison view",
    )
    # --jobs: the variants of --vary --headless in N processes (runs/pool.py)
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="with --vary --headless: run N variants at a time, in N processes (default 1)",
    )


def _trace_size_flags(p: _Flags) -> None:
    """--every and --fields: a smaller trace from --headless --export."""
    p.add_argument(
        "--every",
        type=positive_int,
        default=1,
        metavar="K",
        help="with --headless --export: write only every K-th step (and the last one)",
    )
    p.add_argument(
        "--fields",
        type=_field_list,
        metavar="F1,F2,...",
        help=f"with --headless --export: write only these step and layer fields ({', '.join(FIELDS)})",
    )


def _field_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if name not in FIELDS:
            import difflib

            hint = difflib.get_close_matches(name, FIELDS, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise argparse.ArgumentTypeError(
                f"unknown field {name!r}{also}; known fields: {', '.join(FIELDS)}"
            )
    return names


def _check_trace_size_flags(parser: _Parser, args: argparse.Namespace) -> None:
    for flag, given in (("--every", args.every != 1), ("--fields", args.fields is not None)):
        if given and not (args.headless and args.export):
            parser.error(f"{flag} goes with --headless --export")
    if args.force and args.headless and not args.export:
        parser.error("--force goes with --export")


def _check_export_format(parser: _Parser, args: argparse.Namespace) -> None:
    """--export PATH.csv and PATH.npz: a headless run's (the app and a replay export JSON traces)."""
    if not args.export:
        return
    from .trace.export import export_format

    fmt = export_format(args.export)
    if fmt != ".json" and not args.headless:
        parser.error(f"--export to a {fmt} file goes with --headless (the app exports JSON traces)")
    if fmt != ".json" and args.fields is not None:
        parser.error(f"--fields goes with a JSON trace, not a {fmt} export")


def main(argv: list[str] | None = None) -> int:
    closed = _open_closed_streams()
    try:
        try:
            with warnings.catch_warnings():
                # numpy's RuntimeWarnings (overflow, invalid value) never reach stderr: a run
                # says what diverged in its own words, and a scenario's numbers are range-checked
                warnings.simplefilter("ignore", RuntimeWarning)
                return _main(argv, closed)
        finally:
            sys.stdout.flush()  # a closed pipe raises here, not in the interpreter's flush at exit
    except BrokenPipeError:
        _silence_broken_streams()
        return EXIT_BROKEN_PIPE
    except _Terminated:
        return EXIT_TERMINATED
    except KeyboardInterrupt:  # a (second) Ctrl+C that lands in that flush, after the run ended
        return EXIT_INTERRUPTED


def _open_closed_streams() -> bool:
    """Whether the command started with standard output closed (``>&-``).

    A closed descriptor 0, 1 or 2 is opened on os.devnull, so that no file this command opens
    (a trace being written) takes its number; a closed stdout or stderr (None to Python) then
    writes there too: the output is lost, as it would be in /dev/null, and the exit code is the
    command's all the same. Only the app needs a terminal, and refuses to start without one."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    closed = sys.stdout is None
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # for the life of the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    return closed


def _silence_broken_streams() -> None:
    """Point stdout and stderr, whichever can no longer be written, at os.devnull: what they
    still hold is then flushed there at exit instead of raising a second time."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


def _main(argv: list[str] | None, stdout_closed: bool = False) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if problem := serve_flag_problem(args):
        parser.error(problem)
    _check_export_format(parser, args)
    if args.completion:
        return _completion(parser, args.completion)
    try:
        threads = blas_threads()  # a bad BACKPROP_TUI_BLAS_THREADS is refused by every command
        if args.list:
            return _list()
        if args.check:
            if not args.scenario:
                parser.error("--check needs at least one SCENARIO")
            return _check(args.scenario, _sets(args), verify=not args.no_verify)
        limit_blas_threads(threads)  # one BLAS thread unless asked (common/threads.py)
        from .scenario.reader import load_scenario

        if args.replay is not None or (len(args.scenario) == 1 and is_trace(args.scenario[0])):
            return _replay(parser, args)
        if args.no_verify:
            parser.error("--no-verify goes with --check or a trace to replay")
        if len(args.scenario) != 1:
            parser.error("give exactly one SCENARIO" if args.scenario else "a SCENARIO is required")
        if args.steps is not None and not args.headless:
            parser.error("--steps goes with --headless")
        if args.jobs > 1 and not (args.vary and args.headless):
            parser.error("--jobs goes with --vary and --headless")
        _check_trace_size_flags(parser, args)
        # worked solutions, exercise sheets and code export: tutor/command.py
        if problem := tutor_flags.flag_problem(args):
            parser.error(problem)
        if args.answers is not None:
            return _answers(parser, args)
        if tutor_flags.requested(args):
            from .tutor import command as tutor_command

            return tutor_command.run(load_scenario(args.scenario[0], _sets(args)), args, args.force)
        args.sets.extend(tutor_flags.app_sets(args))  # --digits K in the app's explain panel
        if args.serve:
            return _serve(args, argv)
        if args.vary:
            return _compare(parser, args)
        scenario = load_scenario(args.scenario[0], _sets(args))
        if args.headless:
            return _headless(scenario, args.steps, args.export, args.every, args.fields, args.force)
        if stdout_closed:
            raise BackpropError("", "standard output is closed: the app needs a terminal")
        folder = _served_folder(args)
        export = str(folder.path) if folder else args.export
        return _open_app(scenario, export, (args.scenario[0], _sets(args)), folder, args.force)
    except BackpropError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:  # a second Ctrl+C (or SIGTERM) in a headless run, or one before it
        print("interrupted: stopped at once; a trace in progress was not written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(e, _Terminated) else EXIT_INTERRUPTED


def _completion(parser: _Parser, shell: str) -> int:
    """--completion SHELL: the script, with the bundled scenarios and the scenario keys in it."""
    from .scenario.reader import KEYS as SCENARIO_KEYS
    from .scenario.reader import bundled_names

    keys = [f"{table}.{key}=" for table, names in SCENARIO_KEYS.items() for key in names]
    flags = flags_of(parser.flags, {"--set": keys, "--vary": keys, "--fields": FIELDS})
    print(script(shell, flags, bundled_names()), end="")
    return EXIT_OK


def _list() -> int:
    """--list: one line a bundled scenario, read without numpy (scenario/listing.py)."""
    from .scenario.listing import bundled_names, summary

    rows = [(name, *summary(name)) for name in bundled_names()]
    archs = ["-".join(str(n) for n in layers) for _, _, layers in rows]
    width = max(8, *map(len, archs))  # 2-16-16-2 and 784-256-10 are wider than most
    for (name, title, _), arch in zip(rows, archs, strict=True):
        print(f"{name:<26} {arch:<{width}} {shown(title)}")
    return EXIT_OK


def _check(paths: list[str], overrides: Sequence[Override] = (), verify: bool = True) -> int:
    """Validate scenario files and traces (see is_trace); ``verify``: recompute each trace's
    numbers (trace/verify.py), not only its format and shapes. A scenario is checked as loading it
    checks it, without making its arrays: no numpy unless drawn numbers decide (scenario/check.py)."""
    from .scenario.check import check_scenario

    failed = False
    for path in paths:
        try:
            if is_trace(path):
                from .trace.reader import read_trace
                from .trace.verify import describe_kept
                from .trace.verify import verify as verify_trace

                limit_blas_threads(blas_threads())  # recomputing a trace's steps: numpy's BLAS
                rec = read_trace(path, whole=False)  # a trace of --every or --fields too
                if verify:
                    verify_trace(rec)
                checked = "every number recomputed" if verify else "not recomputed (--no-verify)"
                what = f"trace of {rec.scenario}, {describe_kept(rec)}, stopped: {rec.stop_reason}, {checked}"
            else:
                what = str(check_scenario(path, overrides))
        except BackpropError as e:
            print(str(e), file=sys.stderr)
            failed = True
        else:
            print(f"ok: {shown(path, None)}: {what}")
    return EXIT_USAGE if failed else EXIT_OK


def is_trace(arg: str) -> bool:
    """Whether a SCENARIO argument is a trace: a name ending in .json, or a file that begins
    with "{" (a TOML scenario cannot)."""
    if arg.lower().endswith(".json"):
        return True
    head = peek(arg, 64)  # None for anything but a regular file: a FIFO is never waited on
    return head is not None and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


class _Terminated(KeyboardInterrupt):
    """A SIGTERM that stops a run at once (as a second Ctrl+C does): exit code 143."""


class _StopOnInterrupt:
    """While active, Ctrl+C or SIGTERM sets ``requested`` instead of raising, so the run ends
    cleanly at the next step boundary with a complete trace; a second one of either raises
    (KeyboardInterrupt, or _Terminated for SIGTERM) and the run stops at once, writing nothing.
    ``exit_code``: 130 after Ctrl+C, 143 after SIGTERM."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.signal = signal.SIGINT

    def __enter__(self) -> _StopOnInterrupt:
        self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:  # a second one: stop now, whatever is lost
            raise _Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        self.requested, self.signal = True, signal.Signals(signum)

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.signal == signal.SIGTERM else EXIT_INTERRUPTED

    def __exit__(self, *exc: object) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)


def _headless(
    scenario: Scenario,
    steps: int | None,
    export: str | None,
    every: int = 1,
    fields: tuple[str, ...] | None = None,
    force: bool = False,
) -> int:
    from .engine import Trainer
    from .runs.headless import accuracy_summary, run_in_chunks
    from .runs.progress import progress
    from .trace.export import export_kind, writer_for
    from .trace.paths import choose_export_path
    from .trace.writer import summary_stop_reason

    trainer = Trainer(scenario, history=1)
    path = None
    if export:
        if problem := target_problem(export, export_kind(export)):  # a folder too: a run names its file
            raise BackpropError(export, problem)
        # the rule of the app and of --vary: an existing file is kept (-1, -2, ...) unless --force
        path = choose_export_path(scenario, Path(export), Path.cwd(), force=force)
    total = min(steps, scenario.max_steps) if steps else scenario.max_steps
    display = progress()
    writer: StepSink | None = None
    final = trainer.initial_train_loss  # training-set loss after the last step taken
    written: Path | None = None
    try:
        with _StopOnInterrupt() as interrupt:
            bar = display.bar(scenario.title, total)
            # opened once Ctrl+C is caught: one while the header (a large network's initial
            # weights) is written also ends in a complete trace, of no steps
            writer = writer_for(path, trainer, every, fields, force) if path else None
            run_in_chunks(trainer, total, writer, lambda: interrupt.requested, bar.update)
            if trainer.step_count:
                final = trainer.final_train_loss
            bar.update(trainer, force=True)
            display.close()
            reason = "user" if interrupt.requested else summary_stop_reason(trainer, "steps")
            if writer:
                writer.write_last(trainer)
                written = writer.close(final, reason)
    finally:
        display.close()  # a terminal's bar ends (a no-op when it has), whatever happened
        if writer:
            writer.abort()  # no-op once closed; removes the temporary file otherwise
    test = trainer.test_losses[-1] if trainer.test_losses else trainer.initial_test_loss
    why = _why_diverged(trainer) if reason == "diverged" else ""
    name = shown(scenario.title)
    print(
        f"{name}: {count(trainer.step_count, 'step')}, epoch {trainer.epoch}, training loss {final:.6g}, "
        + (f"test loss {test:.6g}, " if test is not None else "")
        + accuracy_summary(trainer)
        + f"stopped: {reason}{why}"
        + (_written(written, export) if written and export else "")
    )
    if reason == "user":
        return interrupt.exit_code
    return EXIT_DIVERGED if reason == "diverged" else EXIT_OK


def _written(written: Path, export: str) -> str:
    """``, trace: out.json`` (``table`` for a CSV, ``weights`` for an npz)."""
    from .trace.export import export_noun

    return f", {export_noun(written)}: {shown(str(_as_given(written, export)), None)}"


def _as_given(written: Path, export: str) -> Path:
    """The trace's path as the user wrote --export: relative to the current directory if it was."""
    if Path(export).is_absolute() or not written.is_relative_to(Path.cwd()):
        return written
    return written.relative_to(Path.cwd())


def _why_diverged(trainer: Trainer) -> str:
    """`` (the first non-finite value is delta[1][0, 2])``, or the training-set loss that blew
    up: the last step's record, taken again from the state before it (one step's work)."""
    record = trainer.current_record()
    return f" ({record.divergence})" if record is not None and record.divergence else ""


def _sets(args: argparse.Namespace) -> list[Override]:
    if not args.sets:
        return []
    from .scenario.overrides import parse_set

    return [parse_set(a) for a in args.sets]


def _compare(parser: _Parser, args: argparse.Namespace) -> int:
    """--vary: one run per value, as a table on stdout (--headless) or in the comparison view."""
    variants = _variants(args)
    if args.headless:
        writer = partial(_trace_writer, args.every, args.fields, args.force)
        return _compare_headless(variants, args.steps, args.export, writer, args.force, args.jobs)
    folder = _served_folder(args)
    export = str(folder.path) if folder else args.export
    return _open_compare(variants, export, (args.scenario[0], _sets(args)), folder, args.force)


def _variants(args: argparse.Namespace) -> list[compare.Variant]:
    from .runs import vary as compare
    from .scenario.overrides import OverrideError, parse_vary

    if len(args.vary) > 1:
        names = ", ".join(a.partition("=")[0] for a in args.vary)
        raise OverrideError("--vary", f"one key at a time, got {len(args.vary)} ({names})")
    return compare.load_variants(args.scenario[0], _sets(args), parse_vary(args.vary[0]))


def _compare_headless(
    variants: list[compare.Variant],
    steps: int | None,
    export: str | None,
    trace_writer: Callable[[Path | None, Trainer], StepSink | None],
    force: bool = False,
    jobs: int = 1,
) -> int:
    """Each variant in turn (progress on stderr), or ``jobs`` at a time in as many processes
    (a line on stderr as each ends), then the table on stdout."""
    from .runs import vary as compare
    from .runs.progress import progress
    from .trace.paths import choose_export_path

    base = compare.export_base(export, variants[0].scenario) if export else None
    results, traces, cwd = [], [], Path.cwd()
    paths = [  # every target checked before any variant runs
        choose_export_path(v.scenario, compare.variant_path(base, v), cwd, force=force) if base else None
        for v in variants
    ]
    display = progress()  # one bar a variant on a terminal
    with _StopOnInterrupt() as interrupt:
        try:
            if jobs > 1:
                outcomes = _run_jobs(variants, steps, trace_writer, paths, jobs, lambda: interrupt.requested)
                results, traces = [r for r, _ in outcomes], [t for _, t in outcomes]
            else:
                for variant, path in zip(variants, paths, strict=True):
                    total = min(steps or variant.scenario.max_steps, variant.scenario.max_steps)
                    bar = display.bar(variant.label, total)
                    result, trainer, trace = compare.run_variant(
                        variant, steps, partial(trace_writer, path), lambda: interrupt.requested, bar.update
                    )
                    bar.update(trainer, force=True)
                    results.append(result)
                    traces.append(trace)
                    if interrupt.requested:
                        break
        finally:
            display.close()
    rows = compare.table_rows(variants[0].override.name, results)
    if base:
        written = [str(t.relative_to(cwd) if t and t.is_relative_to(cwd) else t or "-") for t in traces]
        rows = [
            (*rows[0], "trace"),
            *((*row, shown(t, None)) for row, t in zip(rows[1:], written, strict=True)),
        ]
    print(compare.format_table(rows))
    if interrupt.requested:
        return interrupt.exit_code
    return EXIT_DIVERGED if any(r.diverged for r in results) else EXIT_OK


def _run_jobs(
    variants: list[compare.Variant],
    steps: int | None,
    trace_writer: Callable[[Path | None, Trainer], StepSink | None],
    paths: list[Path | None],
    jobs: int,
    stop: Callable[[], bool],
) -> list[tuple[compare.Result, Path | None]]:
    """--jobs N: the variants in N processes (runs/pool.py), a line on stderr as each ends."""
    from .runs.pool import run_variants

    def ended(i: int, result: compare.Result) -> None:
        print(f"{variants[i].label}: {count(result.steps, 'step')}, done", file=sys.stderr, flush=True)

    return run_variants(variants, steps, trace_writer, paths, jobs, blas_threads(), stop, ended)


def _open_compare(
    variants: list[compare.Variant],
    export: str | None,
    source: tuple[str, list[Override]],
    folder: ExportFolder | None = None,
    force: bool = False,
    run: Callable[[Any], Any] = lambda app: app.run(),
) -> int:
    """The comparison view; ``o`` there opens one variant in the single-run view at the step the
    comparison reached (its export path named as a headless --vary would name its trace), and
    escape there opens the comparison again as it was left; q quits either. ``folder`` and
    ``force``: as for _open_app. ``run(app)`` runs an app to its end and returns its return
    value (tests drive them with Pilot instead)."""
    # here, so that the other commands never load Textual
    from .runs import vary as compare
    from .tui.compare_app import CompareApp, CompareState
    from .tui.control.reload import ScenarioSource
    from .tui.variant_app import VariantApp

    base = compare.export_base(export, variants[0].scenario) if export else None
    state: CompareState | None = None
    while True:
        comparison = CompareApp(variants, state)
        chosen, state = run(comparison), comparison.left
        if chosen is None or state is None:
            return EXIT_OK
        variant = variants[chosen]
        path = compare.variant_path(base, variant) if base else None
        single = VariantApp(variant, state.trainers[chosen], path)
        single.scenario_source = ScenarioSource(source[0], (*source[1], variant.override))
        single.export_folder = folder
        single.force_export, single.quit_on_sigterm = force, True
        run(single)
        if single.return_code == EXIT_TERMINATED:
            return EXIT_TERMINATED
        if not single.back:
            return EXIT_OK


def _trace_writer(
    every: int, fields: tuple[str, ...] | None, force: bool, path: Path | None, trainer: Trainer
) -> StepSink | None:
    from .trace.export import writer_for

    return writer_for(path, trainer, every, fields, force) if path else None


def _replay(parser: _Parser, args: argparse.Namespace) -> int:
    """``--replay TRACE``, or a trace given as SCENARIO: the app on the recorded steps."""
    from .trace.reader import read_trace
    from .trace.verify import verify as verify_trace

    if args.replay is not None and args.scenario:
        parser.error("give a SCENARIO or --replay TRACE, not both")
    path = args.replay if args.replay is not None else args.scenario[0]
    flags = {
        "--headless": args.headless,
        "--steps": args.steps,
        "--set": args.sets,
        "--vary": args.vary,
        "--serve": args.serve,
    }
    for flag, given in flags.items():
        if given:
            parser.error(
                f"{flag} goes with a scenario; a trace is replayed in the app (or checked with --check)"
            )
    recording = read_trace(path)  # refused here, before the app opens
    if not args.no_verify:
        verify_trace(recording)  # a trace that lies too
    from .tui import collector

    collector.start_up()  # no garbage collection until the first screen is drawn
    from .tui.replay_app import ReplayApp  # here, so that the other commands never load Textual

    app = ReplayApp(recording, export_path=Path(args.export) if args.export else None)
    app.force_export, app.quit_on_sigterm = args.force, True
    app.run()
    return EXIT_TERMINATED if app.return_code == EXIT_TERMINATED else EXIT_OK


def _open_app(
    scenario: Scenario,
    export: str | None,
    source: tuple[str, list[Override]],
    folder: ExportFolder | None = None,
    force: bool = False,
    answers: Any = None,
) -> int:
    """The app; ``source`` (SCENARIO as given, its --set overrides) is what the reload key reads;
    ``folder``: an app that --serve started exports only there, within its caps; ``force``: its
    exports overwrite an existing file; ``answers``: a graded answers file (tutor/check.py)."""
    from .tui import collector

    collector.start_up()  # no garbage collection until the first screen is drawn
    from .tui.app import BackpropApp  # here, so that the other commands never load Textual
    from .tui.control.reload import ScenarioSource

    app = BackpropApp(scenario, export_path=Path(export) if export else None)
    app.scenario_source = ScenarioSource(source[0], tuple(source[1]))
    app.export_folder = folder
    app.force_export, app.quit_on_sigterm = force, True
    if answers is not None:
        app.show_answers(answers)
    app.run()
    return EXIT_TERMINATED if app.return_code == EXIT_TERMINATED else EXIT_OK


def _serve(args: argparse.Namespace, argv: list[str] | None) -> int:
    """--serve: the same command, without the serving flags, in a browser (see serve/command.py). It
    is served only once the scenario, or every variant of --vary, has loaded here."""
    from .runs import vary as compare
    from .scenario.reader import load_scenario
    from .serve.command import Options, serve

    if args.vary:
        variants = _variants(args)
        title = f"{shown(compare.comparison_title(variants))}, {len(variants)} variants of "
        title += variants[0].override.name
    else:
        title = shown(load_scenario(args.scenario[0], _sets(args)).title)
    return serve(sys.argv[1:] if argv is None else argv, args.scenario, title, Options.of(args))


def _served_folder(args: argparse.Namespace) -> ExportFolder | None:
    """The export folder of an app that --serve started (its hidden flags), if it is one."""
    from .trace.folder import ExportFolder

    if args.served_export_dir is None:
        return None
    path = Path(args.served_export_dir)
    if not path.is_dir():
        raise BackpropError(f"--served-export-dir {shown(args.served_export_dir)}", "not a folder")
    return ExportFolder(path, args.served_max_exports, args.served_max_export_bytes)


if __name__ == "__main__":
    sys.exit(main())
