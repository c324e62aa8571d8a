"""The benchmark table of the README and docs/benchmarks.md, measured and written by one command.

    python benchmarks/table.py [--quick] [--dry-run] [--no-tmux]

It runs, one after the other, each benchmark's own measurement, each a ratio against its
baseline of the same run:

    start-up    benchmarks/startup.py: --version, --help, --list, --check xor against python -c pass
    engine      benchmarks/engine.py, run as it runs alone: its "fast / loop" and "records / loop"
                lines are read from what it prints (its figures stay its own)
    app         benchmarks/app.py in tmux: first paint and a step key on xor and blobs_784, against
                a minimal Textual app; peak memory after N and 10 N steps of play
    threads     benchmarks/threads.py: a blobs_784 step with one BLAS thread and with the library's
                default

Then it replaces what is between the two marker lines (MARKERS) in README.md and
docs/benchmarks.md with the table, the machine (CPU model, cores, memory, Python, numpy, BLAS)
and the load average before and after, each file written whole or not at all. ``--quick``
takes a few minutes with fewer repeats and steps (the ratios are noisier, and the table says
so); ``--dry-run`` prints the table and writes nothing; ``--no-tmux`` measures the app in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]

BEGIN = "<!-- benchmark table: written by python benchmarks/table.py, do not edit by hand -->"
END = "<!-- end of the benchmark table -->"
MARKERS = (BEGIN, END)
PAGES = ("README.md", "docs/benchmarks.md")


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, its figure, the baseline of the same run, their
    ratio and the target (empty when there is none)."""

    what: str
    figure: str
    baseline: str
    ratio: str
    target: str = ""


@dataclass(frozen=True)
class Settings:
    startup_repeats: int
    engine_args: tuple[str, ...]
    app_steps: int
    app_repeats: int
    memory_steps: tuple[int, int]
    thread_steps: int
    thread_repeats: int


FULL = Settings(15, (), 50, 5, (10_000, 100_000), 48, 7)
QUICK = Settings(7, ("--repeats", "3"), 15, 2, (10_000, 100_000), 16, 3)  # N past the undo history


def benchmark(name: str) -> ModuleType:
    """benchmarks/NAME.py as a module (benchmarks/ is no package, and is kept off sys.path: its
    trace.py and threads.py would hide the standard library's trace and threading's names)."""
    key = f"_benchmark_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # before it runs: its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[key]


# -- the machine ------------------------------------------------------------------------------


def machine() -> str:
    """CPU model, cores, memory, Python, numpy and the BLAS library, in one sentence."""
    import numpy as np
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        memory = f", {kb / 2**20:.0f} GB of memory"
    blas = [f"{i['internal_api']} {i['version']}" for i in threadpool_info() if i["user_api"] == "blas"]
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, BLAS {', '.join(blas) or 'unknown'}"
    )


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the measurements -------------------------------------------------------------------------


def startup_rows(s: Settings) -> list[Row]:
    startup = benchmark("startup")

    medians = startup.measure(s.startup_repeats)
    base = medians[startup.BASE]
    return [
        Row(
            f"`backprop-tui {name}`",
            f"{ms:.0f} ms",
            f"`python -c pass` {base:.0f} ms",
            f"{ms / base:.2f}x",
            f"<= {startup.TARGET:g}x",
        )
        for name, ms in medians.items()
        if name != startup.BASE
    ]


ENGINE_WAYS = {"fast": "`Trainer.run(N, record=False)`", "records": "`Trainer.step()`, a record each"}
RATIO_LINE = re.compile(r"^(\w+) / loop = ([\d.]+)x.*target <= ([\d.]+)x")
TITLE_LINE = re.compile(r"^(.+?): ([\d-]+), batch (\S+?),")


def engine_rows(s: Settings) -> list[Row]:
    """benchmarks/engine.py as it runs alone; its ratio lines, read from what it prints."""
    engine = benchmark("engine")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            engine.main(list(s.engine_args))
        except SystemExit as e:  # it refuses an unfair comparison (the loop and the engine disagree)
            return [Row("engine", f"not measured: {e}", "", "")]
    rows, network = [], "?"
    for line in out.getvalue().splitlines():
        if m := TITLE_LINE.match(line):
            network = f"{m[2]}, batch {m[3]}"
        elif m := RATIO_LINE.match(line):
            rows.append(
                Row(
                    f"engine {network}",
                    ENGINE_WAYS.get(m[1], f"`{m[1]}`"),
                    "numpy loop of the same maths",
                    f"{m[2]}x",
                    f"<= {m[3]}x",
                )
            )
    return rows or [Row("engine", "see benchmarks/engine.py (its output was not recognised)", "", "")]


def app_rows(s: Settings, use_tmux: bool) -> list[Row]:
    app = benchmark("app")

    subjects = {"baseline": None, "xor": "xor", "blobs_784": "blobs_784"}
    tmp = Path(tempfile.mkdtemp(prefix="backprop-tui-table-"))
    try:
        use_tmux = use_tmux and shutil.which("tmux") is not None
        paint, step = app.measure(subjects, (160, 45), s.app_steps, s.app_repeats, 0.1, use_tmux, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    way = "tmux" if use_tmux else "in-process"
    rows = []
    for title, table, targets, scale, unit in (
        ("first paint", paint, app.FIRST_PAINT_TARGETS, 1.0, "s"),
        ("step key to screen", step, app.STEP_TARGETS, 1000.0, "ms"),
    ):
        base = table["baseline", way]
        for name in ("xor", "blobs_784"):
            value = table[name, way]
            target = f"<= {targets[name] * scale:g} {unit}" if name in targets else ""
            rows.append(
                Row(
                    f"app {title}, {name} ({way})",
                    f"{value * scale:.3g} {unit}",
                    f"minimal Textual app {base * scale:.3g} {unit}",
                    f"{value / base:.1f}x",
                    target,
                )
            )
    figures = app.memory_figures(s.memory_steps)
    (a, b), mb = s.memory_steps, 2.0**20
    rows.append(
        Row(
            f"app peak memory after {b:,} steps of play (xor)",
            f"{figures[b][0] / mb:.1f} MB",
            f"after {a:,} steps: {figures[a][0] / mb:.1f} MB",
            f"{figures[b][0] / figures[a][0]:.2f}x",
            "bounded",
        )
    )
    return rows


def thread_rows(s: Settings) -> list[Row]:
    threads = benchmark("threads")

    _, times = threads.measure(s.thread_steps, s.thread_repeats)
    one = statistics.median(times["1 thread"])
    return [
        Row(
            f"blobs_784 step, BLAS {name}",
            f"{statistics.median(ts):.2f} ms",
            f"1 thread {one:.2f} ms",
            f"{statistics.median(ts) / one:.2f}x",
            "the default: 1 thread",
        )
        for name, ts in times.items()
        if name != "1 thread"
    ]


# -- the table --------------------------------------------------------------------------------


def render(
    rows: list[Row], machine_text: str, load_before: str, load_after: str, when: str, quick: bool
) -> str:
    """The block between the markers (markers included): what, where, the load, the table."""
    lines = [
        BEGIN,
        "",
        f"Measured {when} by `python benchmarks/table.py{' --quick' if quick else ''}` on {machine_text}.",
        f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}."
        + (
            " The machine was loaded (other work shared its cores): the times are longer than on an"
            " idle machine, the ratios less so."
            if _loaded(load_before, load_after)
            else ""
        )
        + (" Quick mode: fewer repeats, noisier ratios." if quick else ""),
        "",
        "| benchmark | figure | baseline (same run) | ratio | target |",
        "|-----------|--------|---------------------|-------|--------|",
        *(f"| {r.what} | {r.figure} | {r.baseline} | {r.ratio} | {r.target} |" for r in rows),
        "",
        END,
    ]
    return "\n".join(lines)


def _loaded(*loads: str) -> bool:
    cores = os.cpu_count() or 1
    return any(float(x.split(",")[0]) > 0.5 * cores for x in loads)


def replace_block(text: str, block: str, page: str) -> str:
    """``text`` with what is between its markers (included) replaced by ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{page}: the markers of the benchmark table are missing ({BEGIN!r} ... {END!r})")
    return text[:start] + block + text[end + len(END) :]


def write_pages(block: str, root: Path = ROOT) -> list[Path]:
    from tui_backprop.common.files import write_whole

    pages = [(root / page, (root / page).read_text(encoding="utf-8")) for page in PAGES]
    new = [(path, replace_block(text, block, str(path))) for path, text in pages]  # all checked first
    for path, text in new:
        write_whole(path, text.encode("utf-8"), replace=True)
    return [path for path, _ in new]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and steps: a few minutes")
    p.add_argument("--dry-run", action="store_true", help="print the table, write nothing")
    p.add_argument("--no-tmux", action="store_true", help="measure the app in-process only")
    args = p.parse_args(argv)
    s = QUICK if args.quick else FULL
    before, when = load(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows: list[Row] = []
    for name, measure in (  # threads before the engine, which holds BLAS to one thread from then on
        ("start-up", lambda: startup_rows(s)),
        ("threads", lambda: thread_rows(s)),
        ("engine", lambda: engine_rows(s)),
        ("app", lambda: app_rows(s, not args.no_tmux)),
    ):
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        rows += measure()
    block = render(rows, machine(), before, load(), when, args.quick)
    print(block)
    if not args.dry_run:
        for path in write_pages(block):
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
