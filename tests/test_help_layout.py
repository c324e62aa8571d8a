"""The help screens lay each row out as a term and its text, at every width: the text starts in
the same column on every line of it, never run into the term (``◂ this phasewhat the phase
just taken``), and no line is wider than the help's box, at 80, 100, 140 and 200 columns.
"""

from __future__ import annotations

import pytest
from app_harness import drive

from tui_backprop import load_scenario
from tui_backprop.runs.vary import load_variants
from tui_backprop.scenario.notation import vocabulary
from tui_backprop.scenario.overrides import parse_vary
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.compare_app import CompareApp
from tui_backprop.tui.screens.compare_help import COLUMNS
from tui_backprop.tui.screens.help import PANELS, SYMBOLS, HelpText

WIDTHS = [80, 100, 140, 200]


def laid_out(app) -> tuple[list[str], int]:
    """The help's lines as laid out on screen, and the width they have there."""
    widget = app.screen.query_one("#help-text", HelpText)
    return str(widget.render()).splitlines(), widget.content_region.width


def check_rows(lines: list[str], width: int, rows: list[tuple[str, str]], section: str) -> None:
    """Each row of ``section`` (its heading starts so): its term, then its text, every line of
    the text in one column; and no line is wider than the help."""
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    top = next(n for n, line in enumerate(lines) if line.startswith(section))
    for term, text in rows:
        starts = [
            n
            for n, line in enumerate(lines)
            if n > top and (line.startswith(f"  {term}  ") or line == f"  {term}")
        ]
        assert starts, f"no row for {term!r}"
        n = starts[0]
        first = lines[n][2 + len(term) :]
        column = 2 + len(term) + len(first) - len(first.lstrip()) if first.strip() else None
        words, k = first.split(), n + 1
        while k < len(lines) and lines[k].startswith(" " * 4) and lines[k].strip():
            indent = len(lines[k]) - len(lines[k].lstrip())
            if column is None:  # a term wider than the column: its text starts on the next line
                column = indent
            if indent != column:
                break
            words += lines[k].split()
            k += 1
        assert words == text.split(), f"{term!r}: the row reads {' '.join(words)!r}"


@pytest.mark.parametrize("width", WIDTHS)
async def test_every_row_of_the_help_at(width):
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(width, 40)) as s:
        await s.press("question_mark")  # ?: the help
        lines, room = laid_out(app)
        keys = [(keys, text) for _, keys, text in app.key_help()]
        legend = vocabulary(app.notation, app.net.depth).legend()
        for rows, section in ((keys, "Keys"), (PANELS, "Panels"), (SYMBOLS, "Symbols"), (legend, "Notation")):
            check_rows(lines, room, rows, section)
        assert "  ◂ this phase  what the phase just taken with s computed" in "\n".join(lines)


@pytest.mark.parametrize("width", WIDTHS)
async def test_every_row_of_the_comparison_help_at(width):
    app = CompareApp(load_variants("linear_neuron_full", [], parse_vary("training.learning_rate=0.1,1")))
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.press("question_mark")  # ?: the comparison's help
        await pilot.pause()
        lines, room = laid_out(app)
        keys = [(keys, text) for _, keys, text in app.key_help()]
        for rows, section in ((keys, "Keys"), (COLUMNS, "Table")):
            check_rows(lines, room, rows, section)
    assert app._exception is None


async def test_the_rows_follow_a_resize():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(200, 40)) as s:
        await s.press("question_mark")  # ?: the help at 200 columns
        wide, _ = laid_out(app)
        await s.pilot.resize_terminal(80, 40)
        await s.pilot.pause()
        narrow, room = laid_out(app)
        assert len(narrow) > len(wide) and room < 80
        check_rows(narrow, room, PANELS, "Panels")
