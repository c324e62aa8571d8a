"""Where a trace may be written: nothing but a regular file is ever replaced, and a regular file
only with --force (or when this app session wrote it).

Every test here that names a device (/dev/null, /dev/full) runs with ``os.replace`` and
``os.link`` guarded, so that a regression fails the test instead of replacing the device.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
from pathlib import Path

import pytest
from app_harness import drive

from tui_backprop import Trainer, load_scenario
from tui_backprop.cli import main
from tui_backprop.common import files
from tui_backprop.trace.writer import TraceError, TraceWriter
from tui_backprop.tui.app import BackpropApp

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"


@pytest.fixture(autouse=True)
def guarded(tmp_path, monkeypatch):
    """os.replace and os.link may only put files inside this test's folder."""
    real_replace, real_link = os.replace, os.link

    def inside(dst) -> None:
        if not Path(dst).resolve().is_relative_to(tmp_path.resolve()):
            pytest.fail(f"a file was about to be put at {dst}")

    def replace(src, dst, *args, **kwargs):
        inside(dst)
        return real_replace(src, dst, *args, **kwargs)

    def link(src, dst, *args, **kwargs):
        inside(dst)
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "link", link)


def temporaries(folder: Path) -> list[str]:
    return sorted(p for p in os.listdir(folder) if p.endswith(".tmp"))


def make(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """Something that is not a regular file, and what the refusal says of it."""
    if kind == "fifo":
        path = tmp_path / "t.json"
        os.mkfifo(path)
        return path, "is a FIFO, not a file a trace can be written to"
    if kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            s.bind("t.json")
        finally:
            os.chdir(cwd)
        s.close()  # the socket file stays
        return tmp_path / "t.json", "is a socket, not a file a trace can be written to"
    if kind in ("/dev/null", "/dev/full"):
        return Path(kind), "is a character device, not a file a trace can be written to"
    link = tmp_path / "t.json"
    if kind == "link to a file":
        (tmp_path / "real.json").write_text("the file it points to\n")
        link.symlink_to(tmp_path / "real.json")
    else:
        link.symlink_to(tmp_path / "nowhere.json")
    return link, "is a symbolic link: a trace is never written through one (give the file's own path)"


KINDS = ["fifo", "socket", "/dev/null", "/dev/full", "link to a file", "dangling link"]


def what_is(path: Path) -> tuple[int, int]:
    st = os.lstat(path)
    return stat.S_IFMT(st.st_mode), st.st_ino


@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_headless_export_refuses_what_is_not_a_regular_file(tmp_path, capsys, kind, force):
    target, says = make(kind, tmp_path)
    before = what_is(target)
    argv = [str(TINY), "--headless", "--steps", "2", "--export", str(target), *(["--force"] if force else [])]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [f"error: {target}: {says}"]
    assert what_is(target) == before  # the same kind of file, the very same one
    assert temporaries(tmp_path) == [] and temporaries(target.parent) == []
    if kind == "link to a file":
        assert (tmp_path / "real.json").read_text() == "the file it points to\n"


def test_vary_refuses_before_any_variant_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "out-seed=2.json")
    argv = ["xor", "--headless", "--steps", "3", "--vary", "init.seed=1,2", "--export", "out.json"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"error: {tmp_path / 'out-seed=2.json'}: is a FIFO, not a file a trace can be written to"
    ]
    assert sorted(os.listdir(tmp_path)) == ["out-seed=2.json"]  # not even the first variant's trace


def test_vary_with_force_overwrites_and_without_keeps(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out-seed=1.json").write_text("older\n")
    argv = ["xor", "--headless", "--steps", "3", "--vary", "init.seed=1,2", "--export", "out.json"]
    assert main([*argv, "--force"]) == 0
    assert json.loads((tmp_path / "out-seed=1.json").read_text())["summary"]["steps"] == 3
    assert sorted(os.listdir(tmp_path)) == ["out-seed=1.json", "out-seed=2.json"]
    capsys.readouterr()
    assert main(argv) == 0  # without --force: both exist now, so both get a number
    assert "out-seed=1-1.json" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == [
        "out-seed=1-1.json",
        "out-seed=1.json",
        "out-seed=2-1.json",
        "out-seed=2.json",
    ]


def test_force_goes_with_export_in_a_headless_run(capsys):
    with pytest.raises(SystemExit) as info:
        main([str(TINY), "--headless", "--force"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: --force goes with --export")


# -- the writer checks again, right before the file is put in place --------------------------------


@pytest.mark.parametrize("replace", [True, False])
def test_a_fifo_that_takes_the_targets_place_during_the_write_is_left_alone(tmp_path, replace):
    target = tmp_path / "t.json"
    trainer = Trainer(load_scenario(str(TINY)))
    writer = TraceWriter(target, trainer, replace=replace)
    writer.write_step(trainer.step())
    os.mkfifo(target)  # meanwhile, something else is put there
    with pytest.raises(TraceError) as info:
        writer.close(trainer.train_losses[-1], "steps")
    assert str(info.value) == f"error: {target}: is a FIFO, not a file a trace can be written to"
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert temporaries(tmp_path) == []


def test_a_file_that_appears_during_a_write_that_must_not_replace_is_kept(tmp_path):
    target = tmp_path / "t.json"
    trainer = Trainer(load_scenario(str(TINY)))
    writer = TraceWriter(target, trainer, replace=False)
    writer.write_step(trainer.step())
    target.write_text("written by someone else meanwhile\n")
    with pytest.raises(TraceError, match="a file appeared there while the trace was written"):
        writer.close(trainer.train_losses[-1], "steps")
    assert target.read_text() == "written by someone else meanwhile\n"
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize("there", [False, True], ids=["nothing there", "a file there"])
def test_without_hard_links_the_file_is_renamed_into_place_only_if_nothing_is_there(
    tmp_path, monkeypatch, there
):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_links)  # a file system without hard links (FAT, say)
    tmp, target = tmp_path / "a.tmp", tmp_path / "t.json"
    tmp.write_text("new\n")
    if there:
        target.write_text("old\n")
        with pytest.raises(FileExistsError):
            files.link_into_place(tmp, target)
        assert target.read_text() == "old\n" and tmp.exists()
    else:
        files.link_into_place(tmp, target)
        assert target.read_text() == "new\n" and not tmp.exists()


# -- the app --------------------------------------------------------------------------------------


async def test_the_app_refuses_a_fifo_at_its_export_path_and_with_force_overwrites_a_file(tmp_path):
    fifo, foreign = tmp_path / "t.json", tmp_path / "u.json"
    os.mkfifo(fifo)
    foreign.write_text("somebody else's file\n")
    app = BackpropApp(load_scenario("xor"), export_path=fifo)
    async with drive(app) as s:
        await s.press("space", "e")  # space, e: step 1, export to the FIFO: refused at once
        assert s.noted(f"export failed: {fifo}: is a FIFO, not a file a trace can be written to", "error")
        assert not app.exporting and app.last_export_path is None
        await s.press("space")  # space: the app goes on
        assert app.trainer.step_count == 2
        app.export_path, app.force_export = foreign, True  # as --export u.json --force would set
        await s.press("e")  # e: export over the file this session did not write
        await s.until(lambda: not app.exporting and s.noted("trace written"), what="the export")
        assert app.last_export_path == foreign
        assert json.loads(foreign.read_text())["summary"]["steps"] == 2
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["t.json", "u.json"]  # no temporary file, no numbered one
