"""benchmarks/table.py writes the benchmark table between its markers, in the README and in
docs/benchmarks.md: the format is checked here on made-up rows (nothing is timed)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("benchmark_table", ROOT / "benchmarks" / "table.py")
assert spec is not None and spec.loader is not None
table = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = table  # its dataclasses look their module up
spec.loader.exec_module(table)

ROWS = [
    table.Row("`backprop-tui --help`", "61 ms", "`python -c pass` 25 ms", "2.44x", "<= 3x"),
    table.Row("app step key to screen, xor (tmux)", "28 ms", "minimal Textual app 6 ms", "4.7x", "<= 30 ms"),
]
MACHINE = "Some CPU @ 2.0GHz, 2 cores, 8 GB of memory; Python 3.11.7, numpy 2.4.6, BLAS openblas 0.3.31"


def block(before: str = "0.10, 0.20, 0.30", after: str = "0.40, 0.50, 0.60", quick: bool = False) -> str:
    return table.render(ROWS, MACHINE, before, after, "2026-12-07 12:00 UTC", quick)


def test_the_block_is_the_markers_around_what_where_the_load_and_a_row_a_figure():
    lines = block().splitlines()
    assert (lines[0], lines[-1]) == table.MARKERS
    text = "\n".join(lines)
    assert MACHINE in text and "2026-12-07 12:00 UTC" in text
    assert "before: 0.10, 0.20, 0.30; after: 0.40, 0.50, 0.60" in text
    rows = [line for line in lines if line.startswith("|")]
    assert rows[0] == "| benchmark | figure | baseline (same run) | ratio | target |"
    assert set(rows[1]) <= set("|- ")
    assert len(rows) == 2 + len(ROWS)
    for line, row in zip(rows[2:], ROWS, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells == [row.what, row.figure, row.baseline, row.ratio, row.target]


def test_a_loaded_machine_and_quick_mode_are_said():
    assert "loaded" not in block()
    busy = str(2.0 * (table.os.cpu_count() or 1))
    assert "The machine was loaded" in block(before=f"{busy}, 1.00, 1.00")
    assert "Quick mode" in block(quick=True) and "table.py --quick" in block(quick=True)


def test_only_the_text_between_the_markers_is_replaced():
    page = f"# Title\n\nbefore\n\n{table.BEGIN}\nold table\n{table.END}\n\nafter\n"
    new = table.replace_block(page, block(), "page.md")
    assert new.startswith("# Title\n\nbefore\n\n") and new.endswith("\n\nafter\n")
    assert "old table" not in new and block() in new
    assert table.replace_block(new, block(), "page.md") == new  # written again: the same page
    with pytest.raises(ValueError, match="page.md: the markers"):
        table.replace_block("# no markers here\n", block(), "page.md")


def test_the_readme_and_the_benchmarks_page_have_the_markers_once(tmp_path):
    for page in table.PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        assert text.count(table.BEGIN) == text.count(table.END) == 1, page
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / page, tmp_path / page)
    written = table.write_pages(block(), tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == list(table.PAGES)
    for page in table.PAGES:
        assert block() in (tmp_path / page).read_text(encoding="utf-8")
