"""Make the tutorial's screenshots: ``python docs/screenshots.py [NAME ...]``.

Each shot opens the real app (or the comparison view, or a replay) headless at a fixed size,
presses the keys the tutorial tells the reader to press, saves Textual's SVG screenshot and turns
it into docs/img/NAME.png with headless Chromium (Debian's ``chromium``), which lays the SVG's
text out on its grid as a terminal would (rsvg-convert, the fallback when Chromium is missing,
misplaces some glyphs), then shrinks it with pngquant when that is installed.

The keys are pressed through Textual's Pilot, so what a picture shows is what those keys show.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from tui_backprop import cli, load_scenario
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.overrides import parse_set, parse_vary
from tui_backprop.trace.reader import read_trace

HERE = Path(__file__).resolve().parent
OUT = HERE / "img"
SIZE = (160, 45)


Action = Callable[[Pilot], Awaitable[None]]  # a mouse click, say, where a key will not do


@dataclass(frozen=True)
class Shot:
    name: str
    app: Callable[[Path], App]  # given a scratch directory
    keys: Sequence[str | Action] = ()  # a key's name, or an action on the pilot
    size: tuple[int, int] = SIZE


def _click_plane(across: float, up: float) -> Action:
    """A click on the decision boundary at a fraction ``across`` of its width and ``up`` of its
    height: on the empty cell nearest there (a click on a point would remove it)."""

    async def click(pilot: Pilot) -> None:
        from tui_backprop.tui.panels.boundary import BoundaryPanel

        panel = pilot.app.query_one(BoundaryPanel)
        rows, cols = panel.plane
        aim = ((1 - up) * (rows - 1), across * (cols - 1))
        cells = [(r, c) for r in range(rows) for c in range(cols) if (r, c) not in panel.drawn]
        row, col = min(cells, key=lambda rc: (rc[0] - aim[0]) ** 2 + (rc[1] - aim[1]) ** 2)
        offset = (panel.gutter.left + panel.left + col, panel.gutter.top + row)
        await pilot.click(BoundaryPanel, offset=offset)

    return click


def _app(name: str, *sets: str) -> Callable[[Path], App]:
    def make(_: Path) -> App:
        from tui_backprop.tui.app import BackpropApp

        return BackpropApp(load_scenario(name, [parse_set(s) for s in sets]))

    return make


def _compare(name: str, vary: str) -> Callable[[Path], App]:
    def make(_: Path) -> App:
        from tui_backprop.tui.compare_app import CompareApp

        return CompareApp(load_variants(name, [], parse_vary(vary)))

    return make


def _replay(name: str, steps: int) -> Callable[[Path], App]:
    """A replay of ``backprop-tui NAME --headless --steps STEPS --export``."""

    def make(scratch: Path) -> App:
        from tui_backprop.tui.replay_app import ReplayApp

        trace = scratch / f"{name}.json"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            cli.main([name, "--headless", "--steps", str(steps), "--export", str(trace)])
        return ReplayApp(read_trace(trace))

    return make


def _answers(scenario: str, answers: str) -> Callable[[Path], App]:
    """The app with an answers file graded (--answers without --headless)."""

    def make(_: Path) -> App:
        from tui_backprop.tui.app import BackpropApp
        from tui_backprop.tutor.check import check_answers

        with contextlib.chdir(HERE.parent):  # the paths as the page writes them, from the checkout
            loaded = load_scenario(scenario)
            app = BackpropApp(loaded)
            app.show_answers(check_answers(loaded, answers))
        return app

    return make


SHOTS = [
    Shot("worked-step0", _app("xor_identity_worked")),
    Shot("worked-step1", _app("xor_identity_worked"), ["space"]),
    Shot("worked-bias", _app("xor_identity_worked"), ["space", "right", "right"]),
    Shot("worked-plateau", _app("xor_identity_worked"), ["f", "f", "f", "f"]),
    Shot("xor-phases", _app("xor"), ["space", "tab", "right", "s", "s", "s", "s", "s"]),
    Shot("xor-learned", _app("xor"), ["f", "f", "f", "f", "f", "f", "l"]),
    Shot("signals", _app("mlp_error_signal"), ["space", "tab", "right", "v"]),
    Shot("split-node", _app("proportional_2_3_1"), ["space", "tab", "right"]),
    Shot("compare-batch", _compare("linear_neuron_full", "training.batch=full,sample,4"), ["f"]),
    Shot("compare-lr", _compare("linear_neuron_full", "training.learning_rate=0.01,0.1,1,10"), ["f"]),
    Shot("circle", _app("circle"), ["f", "f", "f"]),
    Shot("circle-zoom", _app("circle"), ["f", "f", "f", "8"]),
    Shot(
        "circle-edited",
        _app("circle"),
        ["f", "f", _click_plane(0.5, 0.55), "k", _click_plane(0.15, 0.85), _click_plane(0.85, 0.15)]
        + ["right", "right", "right", "equals_sign", "2", ".", "5", "enter"],
    ),
    Shot("spiral-features", _app("spiral_features"), ["F", "8"]),
    Shot("circle-neurons", _app("circle"), ["f", "f", "f", "9"]),
    Shot("iris-chart", _app("iris"), ["f", "f", "f", "6"]),
    Shot("iris-confusion", _app("iris"), ["f", "f", "f", "8"]),
    Shot("blobs", _app("blobs_784"), ["space", "space", "space"]),
    Shot("blobs-neuron", _app("blobs_784"), ["space", "w"]),
    Shot("replay", _replay("xor", 300), ["f", "f", "b"]),
    Shot("check-my-work", _answers("docs/examples/net.toml", "docs/examples/mine.toml"), ["space"]),
    # the README's two pictures
    Shot("readme-xor", _app("xor"), ["space"] * 40),
    Shot(
        "readme-compare",
        _compare("linear_neuron_full", "training.learning_rate=0.01,0.1,1,10"),
        ["f"],
        (100, 30),
    ),
]


async def _take(shot: Shot, scratch: Path) -> str:
    app = shot.app(scratch)
    async with app.run_test(size=shot.size) as pilot:
        await _settle(pilot)
        for key in shot.keys:
            await (pilot.press(key) if isinstance(key, str) else key(pilot))
            await _settle(pilot)
        await pilot.pause(0.3)
        svg = app.export_screenshot()
    if app._exception is not None:
        raise RuntimeError(f"{shot.name}: the app raised {app._exception!r}")
    return svg


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app's workers (long runs, big steps, the comparison) are done."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _png(svg: Path, png: Path) -> None:
    width, height = (
        round(float(x)) for x in re.findall(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text())[0]
    )
    chromium = shutil.which("chromium")
    if chromium is None:
        subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--hide-scrollbars", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png}", svg.as_uri()],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    if shutil.which("pngquant"):  # a third of the size; a terminal has few colours to lose
        subprocess.run(
            ["pngquant", "--quality", "70-95", "--speed", "1", "--force", "--ext", ".png", str(png)]
        )


def main(names: Sequence[str]) -> int:
    os.environ.pop("NO_COLOR", None)
    shots = [s for s in SHOTS if not names or s.name in names]
    unknown = set(names) - {s.name for s in SHOTS}
    if unknown:
        print(f"no such shot: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for shot in shots:
            svg = Path(scratch) / f"{shot.name}.svg"
            svg.write_text(asyncio.run(_take(shot, Path(scratch))))
            _png(svg, OUT / f"{shot.name}.png")
            print(f"docs/img/{shot.name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
