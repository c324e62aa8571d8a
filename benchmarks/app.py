"""App speed and memory against a minimal Textual app: first paint, step key to screen, and
peak memory after N and 10 N steps of play (issue 15).

    python benchmarks/app.py [--steps N] [--repeats R] [--size WxH] [--gap SECONDS] [--no-tmux]
                             [--only xor,blobs_784] [--memory-steps A,B] [--no-memory]
                             [--clock wall|cpu]

Targets (issue 15): first paint within 0.5 s on xor; a step key to the updated screen within
30 ms on xor and 100 ms on blobs_784 (784-256-10 on 1,000 samples in batches of 64, whose
steps run in a worker thread), medians. Measured as well, as information: proportional_2_3_1
and a 20-16-3 network with heatmaps and an elided diagram.

With the neuron heatmaps on (issue 14): xor, circle and spiral (2-16-16-2) with ``9`` pressed
before the steps are timed (``xor 9``, ``circle 9``, ``spiral 9``), so that every step redraws
every node of a layer over the input plane, the selected one large with the training points, a
forward pass over two grids; the step target applies to xor and circle. ``circle`` alone is the
same run without them, to compare.

Memory: a fresh Python process per figure runs the app headless (``run_test``) on xor made
endless (no target loss, no step limit) and runs exactly A steps, then B (default 10,000 and
100,000), as "+N steps" does (a thread worker, the screen following at its frame rate), and
reports its peak resident set (VmHWM). The baseline is the minimal Textual app started the
same way. Bounded memory means the peak after B is close to the peak after A: the undo
history is full by A, and the loss curves keep 65,535 steps at most exactly and older ones as
ranges (engine/loss_series.py).

The baseline, measured the same way in the same run, is a minimal Textual app: one Static that
shows "step N" and counts up on space. The ratio says what the app costs on top of Textual itself.

Two ways of measuring, each applied to the app and the baseline alike:

in-process (Textual's headless driver, ``App.run_test``)
    first paint  from loading the scenario and constructing the app to the end of the first
                 compositor refresh whose screen (its text) is the one the app settles on (no
                 new frame for 0.3 s), as in tmux: a frame that repaints the same text later
                 does not count. Reading each frame's text is the benchmark's own work: its
                 time is taken off the clocks of the frames after it. Imports (Textual, numpy,
                 plotext) are done before the clock starts, and the headless driver skips
                 turning the frame into escape codes and writing them.
    step         from handing the driver a space key event (as a terminal's input thread does)
                 to the end of the first compositor refresh that draws the new step. That is
                 the binding, the Trainer's step, every panel's rebuild, layout, the screen
                 update timer (up to 1/60 s) and rendering every changed line. No Pilot
                 press() here: it waits for the CPU to go idle in 20 ms slices and would
                 measure that instead. The number panels of a big network build the lines
                 in view first and the rest after that frame (tui/panels/base.py): a change
                 that the rest makes on screen (a scrollbar) is not counted here; in tmux it is.
    Both observe frames by wrapping Screen._compositor_refresh (timestamps only). With
    ``--clock cpu`` both are the process's CPU time (time.process_time) over the same span
    instead of the wall clock: on a shared machine the wall clock also counts the time slices
    that other processes take, the CPU time only the app's own work (the headless driver's
    thread included, which the baseline has too).

real command in tmux (when tmux is installed; the figure the targets are judged on)
    first paint  from starting ``backprop-tui SCENARIO`` (or the baseline, this file's
                 ``Baseline`` imported from its compiled module) in a new tmux session to the
                 first capture of the pane equal to the screen it settles on (showing "step 0",
                 then no change for 0.5 s). This includes starting Python, every import, the
                 app and the terminal output, plus tmux's own work and the polling
                 (capture-pane through one control-mode client, a look every 0.5 ms or so,
                 as for a step key: a capture-pane process per look, run back to back,
                 kept one of two cores busy while the app started). The package is byte-compiled
                 first (compileall, into the __pycache__ folders that git ignores), as an
                 installed package is: where PYTHONDONTWRITEBYTECODE is set (many container
                 images) an editable checkout would otherwise compile every module of the app
                 on every start, some 0.2 s of CPU that no user pays twice.
    step         from ``send-keys Space`` to the first ``capture-pane`` equal to the screen the
                 step settles on (its header shows the new step number, then no change for
                 SETTLED seconds), both sent through one tmux control-mode client (no process
                 started per look; a look every 0.5 ms or so): the whole path of a real key
                 press through a terminal (tmux here), which the baseline pays as well. The
                 whole screen, not the header alone: a panel drawn in a later frame, or a frame
                 that reaches tmux in parts, counts until its last line is there.

Step keys are sent --gap seconds apart (default 0.1 s, a quick typist; holding a key down
repeats every 30-40 ms, which measures the same). With no gap at all a key arrives while the
previous frame is still being made and waits for it (and for Textual's 1/60 s update timer):
that measures a queue, not a response, and costs the minimal app 17 ms too.

Each figure is the median over the repeats (first paint) or the steps (step latency). The
script exits with 1 when a target is missed (judged on the tmux figures when tmux is there).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

# tui_backprop is imported in main(), after --baseline-app has been handled: the baseline's
# command (this file) then costs Python and Textual only, like a minimal Textual app

# issue 15's targets, judged on the real command in tmux; the other subjects are information
FIRST_PAINT_TARGETS = {"xor": 0.5}  # seconds
# seconds, median; "xor 9", "circle 9": a step key with the neuron heatmaps zoomed (issue 14)
STEP_TARGETS = {"xor": 0.030, "blobs_784": 0.100, "xor 9": 0.050, "circle 9": 0.050}
MEMORY_STEPS = (10_000, 100_000)  # N and 10 N steps of play
SETTLED = 0.05  # seconds without a change of the pane after a step key: the step's screen is whole
# subjects measured with keys pressed once the app has settled, before the steps are timed
KEYS_FIRST = {"xor 9": "9", "circle 9": "9", "spiral 9": "9"}  # 9: the neuron heatmaps zoomed


class Baseline(App[None]):
    """A minimal Textual app: one Static that counts steps on space."""

    BINDINGS = [("space", "step", "Step"), ("q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def compose(self) -> ComposeResult:
        yield Static("step 0", id="counter")

    def action_step(self) -> None:
        self.count += 1
        self.query_one(Static).update(f"step {self.count}")


def big_scenario_toml(rows: int = 6) -> str:
    inputs = [[round(math.sin(1.7 * r + 0.31 * c), 3) for c in range(20)] for r in range(rows)]
    targets = [[1.0 if k == r % 3 else 0.0 for k in range(3)] for r in range(rows)]
    return (
        '[scenario]\nname = "big 20-16-3"\n\n[network]\nlayers = [20, 16, 3]\nactivation = "tanh"\n\n'
        '[init]\nmethod = "xavier"\nseed = 7\n\n'
        f"[data]\ninputs = {json.dumps(inputs)}\ntargets = {json.dumps(targets)}\n\n"
        '[training]\nloss = "mse"\nlearning_rate = 0.1\nbatch = 4\nmax_steps = 100000\n'
    )


# -- in-process, headless ------------------------------------------------------------------------

Clock = tuple[float, float]  # (wall clock, process CPU time)
_frame_listener: Callable[[Screen, Clock], None] | None = None


def now() -> Clock:
    return time.perf_counter(), time.process_time()


def watch_frames() -> None:
    """Wrap Screen._compositor_refresh to report the time each frame is done (benchmark only)."""
    original = Screen._compositor_refresh

    def timed(self: Screen) -> None:
        original(self)
        if _frame_listener is not None:
            _frame_listener(self, now())

    Screen._compositor_refresh = timed  # type: ignore[method-assign]


def shown_step(app: App) -> int:
    if isinstance(app, Baseline):
        return app.count
    record = app.record  # type: ignore[attr-defined]
    return record.step if record is not None else 0


async def settle(quiet: float, frames: list[Clock], limit: float = 5.0) -> None:
    """Wait until no frame has been drawn for ``quiet`` seconds (at most ``limit`` seconds)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        last = frames[-1][0] if frames else start
        if time.perf_counter() - last >= quiet:
            return
        await asyncio.sleep(0.01)


def elapsed(start: Clock, end: Clock, cpu: bool) -> float:
    return end[1] - start[1] if cpu else end[0] - start[0]


async def inprocess_first_paint(
    make_app: Callable[[], App], size: tuple[int, int], cpu: bool = False
) -> float:
    global _frame_listener
    frames: list[Clock] = []  # when each frame was done, for settle()
    texts: list[tuple[Clock, str]] = []  # each frame of the app's screen: when, on the clocks less
    spent = [0.0, 0.0]  # the time reading the frames' text took (wall, CPU), and what it was

    def listener(screen: Screen, t: Clock) -> None:
        frames.append(t)
        if screen is screen.app.screen:
            text = "\n".join(strip.text for strip in screen._compositor.render_strips())
            texts.append(((t[0] - spent[0], t[1] - spent[1]), text))
            after = now()
            spent[0], spent[1] = spent[0] + after[0] - t[0], spent[1] + after[1] - t[1]

    _frame_listener = listener
    try:
        start = now()
        app = make_app()
        async with app.run_test(size=size):
            await settle(0.3, frames)
        final = texts[-1][1]
        return elapsed(start, next(t for t, text in texts if text == final), cpu)
    finally:
        _frame_listener = None


async def inprocess_steps(
    make_app: Callable[[], App],
    size: tuple[int, int],
    steps: int,
    gap: float,
    keys: str = "",
    cpu: bool = False,
) -> list[float]:
    """``keys``: pressed once the app has settled, before the steps are timed."""
    global _frame_listener
    app = make_app()
    times: list[float] = []
    async with app.run_test(size=size) as pilot:
        frames: list[Clock] = []
        _frame_listener = lambda screen, t: frames.append(t)  # noqa: E731
        await settle(0.3, frames)
        if keys:
            await pilot.press(*keys)
            await settle(0.3, frames)
        for k in range(1, steps + 1):
            done = asyncio.get_running_loop().create_future()

            def listener(screen: Screen, t: Clock, k: int = k, done: asyncio.Future = done) -> None:
                if not done.done() and screen is app.screen and shown_step(app) == k:
                    done.set_result(t)

            _frame_listener = listener
            driver = app._driver
            assert driver is not None  # the app is running
            start = now()
            driver.send_message(events.Key("space", " "))  # what the driver's input thread does
            times.append(elapsed(start, await asyncio.wait_for(done, 10), cpu))
            await asyncio.sleep(gap)
        _frame_listener = None
        if shown_step(app) != steps:
            sys.exit(f"{app}: expected step {steps} on screen, found {shown_step(app)}")
    return times


# -- the real command in tmux ----------------------------------------------------------------------


class Tmux:
    """A private tmux server (its own socket, no config file), killed by ``close``."""

    def __init__(self) -> None:
        self.socket = f"backprop-tui-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # COLUMNS / LINES in the environment would override the pane's size in the app
        self.env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = ["tmux", "-L", self.socket, "-f", os.devnull, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=check, env=self.env)

    def capture(self) -> str:
        return self("capture-pane", "-p", "-t", "app", check=False).stdout

    def close(self) -> None:
        """Stop the server and remove its socket file, which tmux leaves behind."""
        self("kill-server", check=False)
        tmpdir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (tmpdir / self.socket).unlink(missing_ok=True)


def command_for(scenario: str | None) -> str:
    """The shell command that opens the app on ``scenario`` (None: the baseline app, imported
    from this file's compiled module: a script run as ``__main__`` is compiled on every start)."""
    if scenario is None:
        here = str(Path(__file__).resolve().parent)
        code = f"import sys; sys.path.insert(0, {here!r}); import app; app.Baseline().run()"
        return shlex.join([sys.executable, "-c", code])
    exe = Path(sys.executable).parent / "backprop-tui"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_backprop.cli"]
    return shlex.join([*cmd, scenario])


def byte_compile() -> None:
    """Compile the package and this file to bytecode, as installing a package does, so that the
    first paint in tmux never counts compiling the app's sources (PYTHONDONTWRITEBYTECODE)."""
    import tui_backprop

    compileall.compile_dir(Path(tui_backprop.__file__).parent, quiet=1)
    compileall.compile_file(Path(__file__).resolve(), quiet=1)


def settled(captures: list[tuple[float, str]], last_change: float) -> bool:
    """Whether the first screen is whole: it says "step 0" (before that it may be blank while
    Python starts) and has not changed for 0.5 s."""
    return bool(captures) and "step 0" in captures[-1][1] and time.perf_counter() - last_change >= 0.5


def tmux_session(scenario: str | None, size: tuple[int, int], cwd: Path) -> tuple[Tmux, float]:
    """Start the app in a fresh tmux server; return it and the first-paint time. The pane is
    read through one control-mode client, a look every 0.5 ms or so, as after a step key: a
    ``tmux capture-pane`` process started for each look, back to back, kept a core of a 2-core
    machine busy while the app it was timing started."""
    tmux = Tmux()
    captures: list[tuple[float, str]] = []
    start = time.perf_counter()
    tmux("new-session", "-d", "-s", "app", "-x", str(size[0]), "-y", str(size[1]), "-c", str(cwd),
         command_for(scenario))  # fmt: skip
    control = Control(tmux)
    try:
        last_change = time.perf_counter()
        while not settled(captures, last_change):
            screen = "\n".join(control("capture-pane -p -t app"))
            now = time.perf_counter()
            if not captures or screen != captures[-1][1]:
                captures.append((now, screen))
                last_change = now
            if now - start > 15:
                tmux.close()
                sys.exit(f"{scenario or 'baseline'}: the screen never settled in tmux")
            time.sleep(0.0005)  # leave the CPUs to the app and tmux between two looks
    finally:
        control.close()
    final = captures[-1][1]
    first = next(t for t, screen in captures if screen == final)
    return tmux, first - start


class Control:
    """A tmux control-mode client (``tmux -C attach``): commands and their output over one pipe,
    so that sending a key and reading the screen start no process."""

    def __init__(self, tmux: Tmux) -> None:
        tmux("set-option", "-g", "window-size", "manual")  # attaching must not resize the window
        cmd = ["tmux", "-L", tmux.socket, "-f", os.devnull, "-C", "attach", "-t", "app"]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, errors="replace", env=tmux.env
        )

    def __call__(self, command: str) -> list[str]:
        """Run ``command``; its output lines (notifications such as %output are skipped)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        out: list[str] | None = None
        for line in self.proc.stdout:
            if line.startswith("%begin"):
                out = []
            elif out is not None and line.startswith(("%end", "%error")):
                return out
            elif out is not None:
                out.append(line.rstrip("\n"))
        raise EOFError("the tmux control client ended")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # blocked writing the %output of a busy pane that
            self.proc.kill()  # nobody reads any more (blobs_784's heatmaps): SIGTERM waits
            self.proc.wait(timeout=5)


def tmux_steps(tmux: Tmux, steps: int, gap: float, keys: str = "") -> list[float]:
    """``keys``: sent once before the steps are timed; the screen is then given 1 s to settle."""
    control = Control(tmux)
    times = []
    try:
        for key in keys:
            control(f"send-keys -t app {shlex.quote(key)}")
        if keys:
            time.sleep(1.0)
        for k in range(1, steps + 1):
            times.append(step_to_screen(control, k))
            time.sleep(max(0.0, gap - SETTLED))  # SETTLED has passed since the last change
    finally:
        control.close()
    return times


def step_to_screen(control: Control, k: int) -> float:
    """Press space and return the seconds until the pane first showed the screen that step
    ``k`` settles on: its header says "step k" and the pane has not changed for SETTLED s."""
    shown = re.compile(rf"\bstep {k}\b")
    changes: list[tuple[float, str]] = []  # (when, screen) each time the pane changed
    start = time.perf_counter()
    control("send-keys -t app Space")
    while True:
        screen = "\n".join(control("capture-pane -p -t app"))
        now = time.perf_counter()
        if not changes or screen != changes[-1][1]:
            changes.append((now, screen))
        elif shown.search(screen) and now - changes[-1][0] >= SETTLED:
            return changes[-1][0] - start
        if now - start > 10:
            sys.exit(f"step {k} never appeared in tmux")
        time.sleep(0.0005)  # leave the CPUs to the app and tmux between two looks


# -- memory ---------------------------------------------------------------------------------------


def memory_child(steps: int) -> None:
    """In a fresh process: run the app (or, for 0 steps, the baseline) headless for ``steps``
    steps of endless xor; print the peak resident set in bytes."""
    import dataclasses

    if steps == 0:
        app: App = Baseline()
    else:
        from tui_backprop import load_scenario
        from tui_backprop.tui.app import BackpropApp

        endless = dataclasses.replace(load_scenario("xor"), target_loss=None, max_steps=10**9)
        app = BackpropApp(endless)

    async def run() -> None:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            if steps:
                app.action_run(steps)  # type: ignore[attr-defined]
                while app.playing or app.trainer.step_count < steps:  # type: ignore[attr-defined]
                    await asyncio.sleep(0.05)
                assert app.trainer.step_count == steps  # type: ignore[attr-defined]
            await pilot.pause()

    asyncio.run(run())
    print(peak_resident())


def peak_resident() -> int:
    """This process's peak resident set in bytes: VmHWM, the high-water mark of its own memory
    map (ru_maxrss would carry over the parent's peak through fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: kilobytes too


def peak_memory(steps: int) -> tuple[int, float]:
    """(peak resident bytes, seconds) of a child process running ``steps`` steps (0: baseline)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory-child", str(steps)],
        capture_output=True, text=True, check=True, timeout=3600,
    )  # fmt: skip
    return int(out.stdout.split()[-1]), time.perf_counter() - start


def steps_pair(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x.replace("_", "")) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected two step counts such as 1000,100000, got {text!r}"
        ) from None
    if not 0 < a < b:
        raise argparse.ArgumentTypeError(f"expected 0 < A < B, got {text!r}")
    return a, b


def memory_figures(pair: tuple[int, int]) -> dict[int, tuple[int, float]]:
    """Peak resident bytes and seconds of the baseline (key 0) and of the app after each step
    count of ``pair``, each a fresh process."""
    return {steps: peak_memory(steps) for steps in (0, *pair)}


def memory_report(pair: tuple[int, int]) -> None:
    figures = memory_figures(pair)
    base = figures[0][0]
    (a_bytes, a_time), (b_bytes, b_time) = figures[pair[0]], figures[pair[1]]
    mb = 2.0**20
    print("peak memory (MB) of play: a fresh process each, xor made endless, the app headless at 160x45")
    print(f"{'':<20} {'steps':>9} {'value':>9} {'baseline':>9} {'ratio':>7}   seconds")
    for steps, value, took in ((pair[0], a_bytes, a_time), (pair[1], b_bytes, b_time)):
        print(
            f"{'xor':<20} {steps:>9,} {value / mb:>9.1f} {base / mb:>9.1f} {value / base:>6.2f}x   {took:.0f}"
        )
    grown = b_bytes - a_bytes
    print(
        f"after {pair[1]:,} steps against after {pair[0]:,}: {b_bytes / a_bytes:.2f}x "
        f"(+{grown / mb:.1f} MB, {grown / (pair[1] - pair[0]):.0f} bytes a step)\n"
    )


# -- report ---------------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


def terminal_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not m:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 160x45, got {text!r}")
    return int(m[1]), int(m[2])


def measure(
    subjects: dict[str, str | None],
    size: tuple[int, int],
    steps: int,
    repeats: int,
    gap: float,
    use_tmux: bool,
    tmp: Path,
    cpu: bool = False,
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """First paint and step-key times (seconds, medians) of each subject, by (name, way): the
    figures main() prints and benchmarks/table.py puts in the README. ``cpu``: the in-process
    figures in the process's CPU time (the tmux ones are always the wall clock)."""
    from tui_backprop import load_scenario
    from tui_backprop.tui.app import BackpropApp

    def maker(scenario: str | None) -> Callable[[], App]:
        if scenario is None:
            return Baseline
        return lambda: BackpropApp(load_scenario(scenario))

    watch_frames()
    if use_tmux:
        byte_compile()
    paint: dict[tuple[str, str], float] = {}
    step: dict[tuple[str, str], float] = {}
    for name, scenario in subjects.items():
        keys = KEYS_FIRST.get(name, "")
        paints = [asyncio.run(inprocess_first_paint(maker(scenario), size, cpu)) for _ in range(repeats)]
        paint[name, "in-process"] = statistics.median(paints)
        step[name, "in-process"] = statistics.median(
            asyncio.run(inprocess_steps(maker(scenario), size, steps, gap, keys, cpu))
        )
        if use_tmux:
            paints, times = [], []
            for r in range(repeats):
                tmux, first = tmux_session(scenario, size, tmp)
                try:
                    paints.append(first)
                    if r == 0:
                        times = tmux_steps(tmux, steps, gap, keys)
                finally:
                    tmux.close()
            paint[name, "tmux"] = statistics.median(paints)
            step[name, "tmux"] = statistics.median(times)
        print(f"measured {name}", file=sys.stderr)
    return paint, step


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=50, help="steps timed per scenario (default 50)")
    p.add_argument("--repeats", type=int, default=5, help="first paints per scenario (default 5)")
    p.add_argument("--size", type=terminal_size, default="160x45", help="terminal size WxH (default 160x45)")
    p.add_argument("--gap", type=float, default=0.1, help="seconds between step keys (default 0.1)")
    p.add_argument("--no-tmux", action="store_true", help="only the in-process measurements")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="in-process figures in wall-clock or process CPU time (default wall)")  # fmt: skip
    p.add_argument("--memory-steps", type=steps_pair, default=MEMORY_STEPS,
                   help="the two step counts of the memory figures (default 1000,100000)")  # fmt: skip
    p.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    p.add_argument("--only", help="comma-separated subjects to time (default: all), e.g. xor,blobs_784")
    p.add_argument("--baseline-app", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.baseline_app:  # run by tmux for the baseline's real-terminal figures
        Baseline().run()
        return 0
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return 0
    size = args.size
    use_tmux = not args.no_tmux and shutil.which("tmux") is not None

    tmp = Path(tempfile.mkdtemp(prefix="backprop-tui-bench-"))
    big = tmp / "big_20_16_3.toml"
    big.write_text(big_scenario_toml(), encoding="utf-8")
    subjects: dict[str, str | None] = {
        "baseline": None,
        "xor": "xor",
        "proportional_2_3_1": "proportional_2_3_1",
        "big 20-16-3": str(big),
        "blobs_784": "blobs_784",
        "circle": "circle",
        "xor 9": "xor",
        "circle 9": "circle",
        "spiral 9": "spiral",
    }
    if args.only:
        wanted = set(args.only.split(","))
        if wanted - set(subjects):
            p.error(f"--only: unknown subject(s) {sorted(wanted - set(subjects))}; known: {sorted(subjects)}")
        subjects = {k: v for k, v in subjects.items() if k == "baseline" or k in wanted}

    cpu = args.clock == "cpu"
    paint, step = measure(subjects, size, args.steps, args.repeats, args.gap, use_tmux, tmp, cpu)
    shutil.rmtree(tmp, ignore_errors=True)

    import textual

    print(f"backprop-tui app benchmark: terminal {size[0]}x{size[1]}, textual {textual.__version__}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"first paint: median of {args.repeats} starts; "
        f"step: median of {args.steps} space presses {args.gap:g} s apart"
    )
    print("ratio: against the baseline (a minimal Textual app with one Static) measured the same way")
    print(
        f"clock: in-process figures {'process CPU time' if cpu else 'wall clock'}; tmux figures wall clock\n"
    )
    ways = ["in-process", "tmux"] if use_tmux else ["in-process"]
    judged_way = ways[-1]
    failed = False
    header = f"{'':<20} {'way':<11} {'value':>9} {'baseline':>9} {'ratio':>7}   target"
    for title, table, targets, unit, scale in (
        ("first paint", paint, FIRST_PAINT_TARGETS, "s", 1.0),
        ("step key -> updated screen", step, STEP_TARGETS, "ms", 1000.0),
    ):
        print(f"{title} ({unit})")
        print(header)
        for name in subjects:
            if name == "baseline":
                continue
            for way in ways:
                value, base = table[name, way], table["baseline", way]
                judged = name in targets and way == judged_way
                if name not in targets:
                    goal = "(information)"
                else:
                    result = verdict(value, targets[name])
                    failed |= judged and result == "FAIL"
                    goal = f"<= {targets[name] * scale:g} {unit}: {result}" + (
                        "" if judged else " (information)"
                    )
                print(
                    f"{name:<20} {way:<11} {value * scale:>9.3f} {base * scale:>9.3f} "
                    f"{value / base:>6.1f}x   {goal}"
                )
        print()
    if not use_tmux:
        print("tmux not found (or --no-tmux): the targets are judged on the in-process figures")
    if not args.no_memory:
        print()
        memory_report(args.memory_steps)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
