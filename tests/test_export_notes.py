"""A long export in the app notifies the megabytes written so far, read from the file itself."""

from __future__ import annotations

import os
from pathlib import Path

from app_harness import drive

from tui_backprop import Trainer, load_scenario
from tui_backprop.common.files import MB, TEMPORARY, temporary_size
from tui_backprop.trace.writer import TraceWriter
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control import export_notes
from tui_backprop.tui.control.export_notes import ExportNotes

TINY = Path(__file__).parent / "data" / "tiny.toml"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_note_every_interval_with_the_bytes_on_disk(tmp_path):
    path = tmp_path / "t.json"
    trainer = Trainer(load_scenario(str(TINY)))
    notes: list[tuple[str, str]] = []
    clock = Clock()
    progress = ExportNotes(lambda m, title, timeout: notes.append((m, title)), path, 3 * MB, 2.0, clock)
    with TraceWriter(path, trainer) as writer:
        (tmp,) = [p for p in TEMPORARY if p.parent == tmp_path]
        for step in range(1, 4):
            writer.write_step(trainer.step())
            clock.now += 0.9  # 0.9, 1.8 (no note yet), 2.7 s after the start
            progress.update(step, 3)
        assert len(notes) == 1, notes
        for _ in range(40):  # past the file's buffer, so that some of it is on disk
            writer.write_step(trainer.step())
        size = os.stat(tmp).st_size
        assert temporary_size(path) == size > 0
        clock.now += 2.0
        progress.update(43, 43)
        assert notes[-1] == (f"{size / MB:,.1f} MB written of about 3.0 MB (43/43 steps)", "exporting")
        writer.close(trainer.train_losses[-1], "steps")
    clock.now += 5.0
    progress.update(43, 43)  # the file is in place: nothing is being written any more
    assert len(notes) == 2 and temporary_size(path) is None


def test_an_export_that_ends_within_the_interval_shows_no_note(tmp_path):
    notes: list[str] = []
    clock = Clock()
    progress = ExportNotes(lambda m, **kw: notes.append(m), tmp_path / "t.json", MB, 2.0, clock)
    clock.now += 1.5
    progress.update(1, 1)
    assert notes == []


async def test_the_app_notifies_the_megabytes_while_it_exports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(export_notes, "NOTE_SECONDS", 0.0)  # a note at every progress call
    app = BackpropApp(load_scenario(str(TINY)))
    async with drive(app) as s:
        await s.press("space", "space", "space")  # space x3: step 3
        await s.press("e")  # e: export the 3 steps
        await s.until(lambda: not app.exporting and app.last_export_path is not None, what="the export")
        notes = [n for n in s.notes if n.title == "exporting"]
        assert notes and notes[-1].message.endswith("(3/3 steps)"), s.notes
        assert " MB written of about " in notes[-1].message
