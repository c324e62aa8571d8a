"""A served app exports into the server's folder only, within its caps (trace/folder.py).

The folder's rules are checked on ExportFolder directly, with real traces of xor; the app's
side (``e`` writes there, and a refusal is a notification) in a Pilot session. That the
served command gets the folder, and that ``e`` in a browser writes into it, is checked end
to end in test_serve_safety.py.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from app_harness import drive

from tui_backprop import Trainer, load_scenario
from tui_backprop.trace.folder import LOCK_NAME, ExportFolder, ExportFolderError
from tui_backprop.trace.writer import write_trace
from tui_backprop.tui.app import BackpropApp

GB = 10**9


def trained(steps: int) -> Trainer:
    trainer = Trainer(load_scenario("xor"))
    trainer.run(steps)
    return trainer


def trace_size(tmp_path: Path, steps: int) -> int:
    """The size of xor's trace of ``steps`` steps, written the ordinary way."""
    return write_trace(tmp_path / f"reference-{steps}.json", trained(steps)).stat().st_size


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != LOCK_NAME)


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    path = tmp_path / "exports"
    path.mkdir()
    return path


def test_a_full_folder_refuses_a_new_file_but_lets_an_app_update_its_own(exports):
    folder = ExportFolder(exports, max_files=2, max_bytes=GB)
    folder.write(exports / "a.json", trained(1))
    folder.write(exports / "b.json", trained(1))
    with pytest.raises(ExportFolderError) as refused:
        folder.write(exports / "c.json", trained(1))
    assert refused.value.lines() == [
        f"error: {exports / 'c.json'}: the export folder holds 2 files, the most this server allows"
        " (--max-exports 2)"
    ]
    assert names(exports) == ["a.json", "b.json"]  # nothing half-written, no temporary file
    folder.write(exports / "a.json", trained(3))  # a file replaced adds none
    assert json.loads((exports / "a.json").read_bytes())["summary"]["steps"] == 3


def test_a_trace_that_would_go_over_the_size_cap_is_dropped_before_it_does(tmp_path, exports):
    one, three = trace_size(tmp_path, 1), trace_size(tmp_path, 3)
    folder = ExportFolder(exports, max_files=100, max_bytes=one + three - 1)
    folder.write(exports / "a.json", trained(1))
    with pytest.raises(ExportFolderError) as refused:
        folder.write(exports / "b.json", trained(3))  # one byte too many
    [line] = refused.value.lines()
    cap = f"{(one + three - 1) / 1e6:g} MB"
    assert line.endswith(
        f"the trace would take the export folder over {cap}, the most this server allows"
        " (--max-export-mb); nothing was written"
    )
    assert names(exports) == ["a.json"]
    folder.write(exports / "b.json", trained(2))  # a smaller one fits
    assert names(exports) == ["a.json", "b.json"]
    # replacing a file counts its old size as free: a.json grows from 1 step to 3 in the room left
    ExportFolder(exports, 100, max_bytes=one + trace_size(tmp_path, 2) + (three - one)).write(
        exports / "a.json", trained(3)
    )
    assert (exports / "a.json").stat().st_size == three


def test_a_served_app_writes_nowhere_but_its_folder(tmp_path, exports):
    folder = ExportFolder(exports, 100, GB)
    for elsewhere in (tmp_path / "x.json", exports / "sub" / "x.json", exports / ".." / "x.json"):
        with pytest.raises(ExportFolderError, match="a served app exports only into"):
            folder.write(elsewhere, trained(1))
    assert not (tmp_path / "x.json").exists() and names(exports) == []


def test_a_temporary_trace_left_by_a_killed_export_is_removed_and_the_lock_is_not_counted(exports):
    stale = exports / ".a.json.k3j2_x.tmp"  # the name trace/writer.py gives its temporary file
    stale.write_text('{"format": ')
    folder = ExportFolder(exports, max_files=1, max_bytes=GB)
    folder.write(exports / "a.json", trained(1))  # the stale file would have made two
    assert names(exports) == ["a.json"] and (exports / LOCK_NAME).exists()
    assert folder.usage() == (1, (exports / "a.json").stat().st_size)


def test_two_apps_exporting_at_once_cannot_both_take_the_last_room(tmp_path, exports):
    size = trace_size(tmp_path, 40)
    folder = ExportFolder(exports, max_files=100, max_bytes=size + size // 2)  # room for one
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def export(name: str) -> None:
        trainer = trained(40)
        start.wait()
        try:
            folder.write(exports / name, trainer)
            outcomes.append("written")
        except ExportFolderError:
            outcomes.append("refused")

    threads = [threading.Thread(target=export, args=(name,)) for name in ("a.json", "b.json")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["refused", "written"]
    assert len(names(exports)) == 1


async def test_the_app_exports_into_its_folder_and_says_when_it_is_full(tmp_path, exports, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = BackpropApp(load_scenario("xor"), export_path=exports)  # as the CLI sets a served app up
    app.export_folder = ExportFolder(exports, max_files=1, max_bytes=GB)
    async with drive(app) as s:
        await s.press("space", "e")  # space, e: step 1, then export it
        await s.until(lambda: s.noted("trace written to"), what="the export")
        assert app.last_export_path == exports / "xor-trace.json"
        (exports / "xor-trace.json").rename(exports / "kept.json")  # the one file the cap allows
        await s.press("e")  # e: a new file now, in a full folder
        await s.until(lambda: s.noted("export failed", "error"), what="the refusal")
        assert s.noted("the export folder holds 1 file, the most this server allows (--max-exports 1)")
        assert names(exports) == ["kept.json"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"]  # nothing in the cwd
