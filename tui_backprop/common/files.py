"""The files a user names: read only when regular and within a limit; replaced only when regular.

Reading (scenarios, their CSV data, traces): a path is read only when it is a regular file (a
symbolic link to one is followed). It is checked with stat before it is opened, so that a device
is never even opened; opened with O_NONBLOCK, so that opening a FIFO never waits for a writer; and
checked again on the open descriptor, so that a file swapped in between is caught. It is then read
with a bounded read, at most ``limit + 1`` bytes: a file over its limit is refused, naming the
limit, before more than that is held in memory.

    SCENARIO_LIMIT     4 MB   a scenario file (.toml): tomllib parses about a MB a second
    CSV_LIMIT        256 MB   a [data] csv file
    TRACE_LIMIT        1 GB   a trace (.json); parsing one takes about 5 times its size in memory

Writing (traces, and the CSV and npz exports through ``NewFile``): ``target_problem`` says why a
path must not be replaced (it exists and is not a regular file: a FIFO, a device, a socket, a
directory, or a symbolic link, which is never written through). A file is written to a temporary
file beside its target, named ``.NAME.bptui-PID-RANDOM.tmp``: ``remove_stale`` removes such files
that begin as a trace, a CSV table or an npz does, and whose process is gone (left by kill -9, say)
or that are older than a day, and nothing else. ``TEMPORARY`` holds the temporary files of this
process, and any still there at exit are removed.
"""

from __future__ import annotations

import atexit
import errno
import os
import re
import stat
import time
from pathlib import Path
from typing import IO, Any

from .errors import BackpropError

MB = 2**20
SCENARIO_LIMIT = 4 * MB
CSV_LIMIT = 256 * MB
TRACE_LIMIT = 1024 * MB
CHUNK = MB  # what a file that grows while it is read is read on by
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a FIFO does not wait for a writer


class Unreadable(BackpropError):
    """A file that is not read: ``reason`` says why, without the file's name (``no such file``,
    ``is a FIFO, not a scenario file``); ``missing``: there is no such file."""

    def __init__(self, label: str, reason: str, missing: bool = False) -> None:
        self.reason = reason
        self.missing = missing
        super().__init__(label, reason)


def size_text(n: int) -> str:
    """``4 MB``, ``1 GB``."""
    return f"{n // 1024 // MB} GB" if n >= 1024 * MB and n % (1024 * MB) == 0 else f"{n // MB} MB"


def kind(mode: int) -> str:
    """What a file that is not a regular file is: ``a FIFO``, ``a character device``, ..."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(mode: int, what: str) -> str:
    return f"is {kind(mode)}, not {_article(what)}"


def _article(what: str) -> str:
    return f"an {what}" if what[:1].lower() in "aeiou" else f"a {what}"


def _cannot(e: OSError) -> str:
    return f"cannot read: {e.strerror or e}"


def not_utf8(data: bytes, e: UnicodeDecodeError, byte: bool = True) -> str:
    """Where ``data`` stops being UTF-8 (``e`` from decoding it), as every reader says it:
    ``not UTF-8 text (line 3, byte 41)``, or without the byte."""
    line = data[: e.start].count(b"\n") + 1
    return f"not UTF-8 text (line {line}, byte {e.start})" if byte else f"not UTF-8 text (line {line})"


def read_regular(path: str | Path, limit: int, what: str, label: str | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit``; ``what`` names the kind of
    file in a refusal (``scenario file``), ``label`` the file (default: ``path``). Raises
    Unreadable: missing, not a regular file, over the limit, or unreadable."""
    label = str(path) if label is None else label
    try:
        st = os.stat(path)  # a device, a FIFO or a socket is refused before it is opened
    except FileNotFoundError as e:
        raise Unreadable(label, "no such file", missing=True) from e
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise Unreadable(label, _cannot(e) if isinstance(e, OSError) else f"cannot read: {e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(label, _not_regular(st.st_mode, what))
    flags = os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as e:  # gone since the stat
        raise Unreadable(label, "no such file", missing=True) from e
    except OSError as e:
        raise Unreadable(label, _cannot(e)) from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)  # what was opened, which may not be what was checked
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(label, _not_regular(st.st_mode, what))
        too_big = f"is larger than {size_text(limit)}, the limit for {_article(what)}"
        if st.st_size > limit:
            raise Unreadable(label, too_big)
        try:
            data = _read_bounded(f, st.st_size, limit)
        except OSError as e:
            raise Unreadable(label, _cannot(e)) from e
    if len(data) > limit:  # it grew while it was read
        raise Unreadable(label, too_big)
    return data


def _read_bounded(f: Any, size: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``f``, whose size was ``size`` when it was opened: all of it
    in one read, then more only while it grows (a file in /proc says 0)."""
    data = f.read(min(size, limit) + 1)
    if len(data) <= size:
        return data
    parts, total = [data], len(data)
    while total <= limit:
        chunk = f.read(min(CHUNK, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def read_resource(resource: Any, limit: int, what: str, label: str) -> bytes:
    """``read_regular`` for a file of the package (a Path, or a Traversable inside a zip)."""
    if isinstance(resource, Path):
        return read_regular(resource, limit, what, label)
    try:
        with resource.open("rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError as e:
        raise Unreadable(label, "no such file", missing=True) from e
    except OSError as e:
        raise Unreadable(label, _cannot(e)) from e
    if len(data) > limit:
        raise Unreadable(label, f"is larger than {size_text(limit)}, the limit for {_article(what)}")
    return data


def peek(path: str | Path, n: int) -> bytes | None:
    """The first ``n`` bytes of ``path`` when it is a regular file that can be read, else None."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read(n) if stat.S_ISREG(os.fstat(fd).st_mode) else None
        except OSError:
            return None


# -- writing ---------------------------------------------------------------------------------


def target_problem(path: str | Path, what: str = "trace") -> str | None:
    """Why a ``what`` (a trace, a CSV table, ...) must not be written to ``path`` (None: nothing is
    there, or a regular file). A symbolic link is never followed: it is refused, whatever it
    points to."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"cannot write: {e.strerror or e}"
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return f"is a directory; give a file name for the {what}"
    if stat.S_ISLNK(st.st_mode):
        return f"is a symbolic link: {_article(what)} is never written through one (give the file's own path)"
    return f"is {kind(st.st_mode)}, not a file {_article(what)} can be written to"


TAG = "bptui"  # in every temporary file's name: only files that carry it are ever removed
STALE_SECONDS = 24 * 3600
_TEMPORARY_NAME = re.compile(rf"^\..+\.{TAG}-(?P<pid>[0-9]+)-[a-z0-9_]+\.tmp$")
_OURS = b'{\n"format": "backprop-tui-trace"'  # how a trace begins (trace/writer.py writes it first)
# how the other exports begin: a CSV table's header (trace/csv_out.py), an npz's zip (npz_out.py)
_HEADS = (_OURS, b"step,epoch,", b"PK\x03\x04")

TEMPORARY: set[Path] = set()  # this process's temporary files, removed at exit if still there


def temporary_prefix(name: str) -> str:
    """The start of a temporary file's name for the trace ``name``; mkstemp adds the random part
    and the caller the ``.tmp`` suffix: ``.out.json.bptui-4242-k3j4h2l1.tmp``."""
    return f".{name}.{TAG}-{os.getpid()}-"


def temporary_size(path: str | Path) -> int | None:
    """The bytes written so far (less what is still buffered) to this process's temporary file
    for the file ``path``, while it is being written; None when there is none."""
    path = Path(path)
    prefix = temporary_prefix(path.name)
    for tmp in list(TEMPORARY):  # a copy: a writer in another thread may add or remove one
        if tmp.parent == path.parent and tmp.name.startswith(prefix):
            try:
                return tmp.stat().st_size
            except OSError:
                return None
    return None


def remove_stale(folder: str | Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files of traces in ``folder`` that were left behind: named as
    ``temporary_prefix`` names them, a regular file of this user that is empty or begins as a
    trace does, and either its process is no longer running or it has not been written for a
    day. Returns what was removed; a folder that cannot be listed is left alone."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMPORARY_NAME.match(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != _uid():
                continue
            stale = now - st.st_mtime > STALE_SECONDS or not _running(int(m["pid"]))
            if stale and _begins_as_ours(entry.path):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else 0  # Windows: st_uid is 0 too


def _umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux: the app's
    threads never see it changed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _running(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":  # elsewhere os.kill(pid, 0) is no question
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or no pid at all): not ours to judge
    return True


def _begins_as_ours(path: str) -> bool:
    """Whether the file begins as a trace, a CSV table or an npz that this program writes: empty,
    or cut anywhere in the first line of a trace."""
    head = peek(path, len(_OURS))
    return head is not None and any(h.startswith(head[: len(h)]) for h in _HEADS)


def _remove_temporary_files() -> None:
    for path in list(TEMPORARY):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
    TEMPORARY.clear()


atexit.register(_remove_temporary_files)


def link_into_place(tmp: Path, path: Path) -> None:
    """Put the finished ``tmp`` at ``path`` only if nothing is there (a hard link cannot replace
    anything), then remove ``tmp``. Where hard links are not supported, rename it into place once
    nothing is found there. Raises FileExistsError when something is at ``path``."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from e
        os.replace(tmp, path)
        return
    os.unlink(tmp)


class NewFile:
    """A file written beside its target, under a temporary name, and put in place by ``commit``
    only once complete: a run stopped half-way leaves nothing (``abort``, or exit). The target is
    refused as a trace's is (``target_problem``: a FIFO, a device, a directory, a symbolic link;
    ``what`` names the kind of file in the refusal),
    when it opens and again right before it is put in place; ``replace``: a regular file there is
    replaced (False: the file is put there only if nothing is there). ``file``: the open binary file."""

    def __init__(
        self,
        path: str | Path,
        replace: bool,
        what: str = "file",
        error: type[BackpropError] = BackpropError,
        text: bool = False,
    ) -> None:
        """``error``: the BackpropError subclass every refusal raises; ``text``: ``file`` takes
        str, written as UTF-8 with "\n" line ends (otherwise bytes)."""
        self.path = Path(path)
        self.replace = replace
        self.what = what
        self.error = error
        if problem := target_problem(self.path, what):
            raise error(str(path), problem)
        folder = self.path.parent
        remove_stale(folder)  # what an export killed there (kill -9) left behind
        try:
            import tempfile  # here: the command line's --help and --list write nothing

            fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(self.path.name), suffix=".tmp", dir=folder)
        except OSError as e:
            raise error(str(path), f"cannot write here: {e.strerror or e}") from e
        self.tmp = Path(tmp)
        TEMPORARY.add(self.tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600: the file gets the mode any new file gets
        self.file: IO[Any] | None = (
            os.fdopen(fd, "w", encoding="utf-8", newline="\n") if text else os.fdopen(fd, "wb")
        )

    def commit(self) -> Path:
        """Flush the finished file to disk and put it at ``path``."""
        if self.file is None:
            raise ValueError("the file was already committed or aborted")
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = None
            if problem := target_problem(self.path, self.what):  # something else took its place meanwhile
                raise self.error(str(self.path), problem)
            if self.replace:
                os.replace(self.tmp, self.path)
            else:
                link_into_place(self.tmp, self.path)
        except FileExistsError as e:
            self.abort()
            message = f"a file appeared there while the {self.what} was written: it is not overwritten"
            raise self.error(str(self.path), message) from e
        except OSError as e:
            self.abort()
            raise self.error(str(self.path), f"cannot write: {e.strerror or e}") from e
        except BackpropError:
            self.abort()
            raise
        TEMPORARY.discard(self.tmp)
        return self.path

    def abort(self) -> None:
        """Drop the unfinished file: close and remove the temporary file (no-op once committed)."""
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None
        if self.tmp in TEMPORARY:
            self.tmp.unlink(missing_ok=True)
            TEMPORARY.discard(self.tmp)


def write_whole(path: str | Path, data: bytes, replace: bool = False, what: str = "") -> Path:
    """Write ``data`` to ``path`` whole or not at all, through a NewFile (a worked solution, an
    answer key, a script). An existing regular file is replaced only with ``replace``; anything
    else at the path (a FIFO, a device, a folder, a symbolic link) never is. BackpropError names
    the path and the reason, and ``what`` the kind of file in it ("CSV table"; "": any file)."""
    target = Path(path)
    if problem := target_problem(target, what or "trace"):
        raise BackpropError(str(path), problem if what else _for_any_file(problem))
    if target.exists() and not replace:
        raise BackpropError(str(path), "already exists (give --force to replace it)")
    new = NewFile(target, replace, what or "file")
    try:
        assert new.file is not None
        new.file.write(data)
    except OSError as e:
        new.abort()
        raise BackpropError(str(path), f"cannot write: {e.strerror or e}") from e
    return new.commit()


def _for_any_file(problem: str) -> str:
    """target_problem's words for a trace, said of any file."""
    return problem.replace("a file a trace can be written to", "a regular file").replace("a trace", "a file")
