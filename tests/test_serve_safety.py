"""``--serve`` is safe to run in a classroom: who may use it, how many, and what is left behind.

A real server (the real command, in a subprocess, on a free port on localhost) answers a real
websocket client (aiohttp's, as textual-serve's page would connect): requests from another
origin, under another Host name or without the token are refused with a 403 and start nothing;
the right token gets the app's screen, at a clamped size; the session cap holds; a disconnect
ends the app's whole process group; Ctrl+C and SIGTERM end the server quietly. The session's
own rules (no shell, the group killed, resizes clamped) are also checked against a small
program that speaks textual-serve's protocol and leaves a child behind, which the real app
never does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from test_serve import Served, free_port
from textual_serve.download_manager import DownloadManager

from tui_backprop.cli import main
from tui_backprop.serve import command as serve
from tui_backprop.serve import session as serve_session
from tui_backprop.serve import web as serve_web
from tui_backprop.serve.access import Access
from tui_backprop.serve.session import Session

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the process checks read /proc")

ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")
QUIET = ("Traceback", "Exception ignored", "Event loop is closed", "Task was destroyed", "Error")


# -- processes, read from /proc -----------------------------------------------------------------


def stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of ``pid``, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgid = text.rpartition(")")[2].split()[:3]
    return state, int(ppid), int(pgid)


def alive(pid: int) -> bool:
    """Running: a zombie (killed, not yet reaped by whoever adopted it) is gone."""
    s = stat(pid)
    return s is not None and s[0] not in "ZX"


def processes(test: Callable[[tuple[str, int, int]], bool]) -> list[int]:
    pids = (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
    return sorted(pid for pid in pids if (s := stat(pid)) is not None and s[0] not in "ZX" and test(s))


def children(pid: int) -> list[int]:
    return processes(lambda s: s[1] == pid)


def group(pgid: int) -> list[int]:
    return processes(lambda s: s[2] == pgid)


def environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode(errors="replace").partition("=")[::2] for p in pairs if p)


def wait_until(predicate: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


async def screen_shows(ws: aiohttp.ClientWebSocketResponse, text: str, timeout: float = 20.0) -> str:
    """Read the app's output until its text (escape sequences taken out) holds ``text``."""
    received = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in ANSI.sub(b"", received):
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no {text!r} on the served screen within {timeout} s")
        try:
            message = await ws.receive(timeout=left)
        except TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.BINARY:
            received += message.data
        elif message.type != aiohttp.WSMsgType.TEXT:
            pytest.fail(f"the websocket ended ({message.type!r}) before {text!r} was on screen")
    return ANSI.sub(b"", received).decode(errors="replace")


# -- a server for the module ----------------------------------------------------------------------


@dataclass
class Site:
    served: Served
    port: int
    token: str
    cwd: Path

    @property
    def pid(self) -> int:
        return self.served.proc.pid

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://localhost:{self.port}/ws/{self.token}"


def start(tmp: Path, *flags: str) -> tuple[Served, int]:
    port = free_port()
    served = Served(["xor", "--serve", "--port", str(port), *flags], cwd=tmp)
    served.wait_for(r"\(Ctrl\+C stops\)")
    return served, port


def exports_folder(served: Served) -> Path:
    return Path(served.wait_for(r"exports go to (.+) \(at most")[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``xor --serve --max-sessions 1 --export-dir exports``, its working directory a folder of its
    own; SIGTERM ends it, which must be as quiet as Ctrl+C (checked on the way out)."""
    cwd = tmp_path_factory.mktemp("served")
    served, port = start(cwd, "--max-sessions", "1", "--export-dir", "exports")
    try:
        token = served.wait_for(rf"serving XOR, 2-3-1 sigmoid on http://localhost:{port}/\?token=(\S+) ")[1]
        yield Site(served, port, token, cwd)
        # SIGTERM, as a service manager stops it: as quiet as Ctrl+C
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=20) == 0
        served._reader.join(timeout=5)
        assert served.output.rstrip().endswith("stopped serving")
        exported = any((cwd / "exports").glob("*.json"))  # when the session's test ran
        assert (f"the exports are in {cwd / 'exports'}\n" in served.output) == exported
        assert not [word for word in QUIET if word in served.output], served.output
    finally:
        served.kill()


# -- who may use it ------------------------------------------------------------------------------


async def test_requests_from_elsewhere_or_without_the_token_are_refused_and_start_nothing(site):
    evil = {"Host": f"evil.example:{site.port}"}
    pages = [  # (path, headers, what the 403 says)
        ("/", {}, "this page needs the token"),
        ("/?token=", {}, "this page needs the token"),
        ("/?token=not-it", {}, "wrong token"),
        (f"/?token={site.token}x", {}, "wrong token"),
        (f"/?token={site.token}", evil, "the Host header does not name this server"),  # DNS rebinding
        (f"/?token={site.token}", {"Host": "localhost"}, "the Host header"),  # port 80: not ours
        (f"/?token={site.token}", {"Host": f"localhost:{site.port + 1}"}, "the Host header"),
        (f"/?token={site.token}", {"Origin": "http://evil.example"}, "a page of another origin"),
    ]
    sockets = [  # (url, headers, what the 403 says)
        (f"ws://localhost:{site.port}/ws", {}, "this page needs the token"),
        (f"ws://localhost:{site.port}/ws/not-it", {}, "wrong token"),
        (site.ws, {"Origin": "http://evil.example"}, "a page of another origin"),
        (site.ws, {"Origin": f"http://evil.example:{site.port}"}, "a page of another origin"),
        (site.ws, {"Origin": f"http://localhost:{site.port + 1}"}, "a page of another origin"),
        (site.ws, {"Origin": "null"}, "a page of another origin"),  # a sandboxed frame, a file
        (site.ws, {"Origin": f"https://localhost:{site.port}"}, "a page of another origin"),
        (site.ws, evil, "the Host header does not name this server"),
        (site.ws, {**evil, "Origin": f"http://evil.example:{site.port}"}, "the Host header"),
    ]
    async with aiohttp.ClientSession() as http:
        for path, headers, says in pages:
            async with http.get(site.base + path, headers=headers) as r:
                assert (r.status, says in await r.text()) == (403, True), (path, headers)
        for url, headers, says in sockets:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url, headers=headers)
            assert refused.value.status == 403, (url, headers)
            async with http.get(url.replace("ws:", "http:", 1), headers=headers) as r:  # the reason
                assert (r.status, says in await r.text()) == (403, True), (url, headers)
        # the page at its printed URL, and under an IP address (which cannot be rebound)
        for host in (f"localhost:{site.port}", f"127.0.0.1:{site.port}"):
            async with http.get(f"{site.base}/?token={site.token}", headers={"Host": host}) as r:
                assert r.status == 200
                page = await r.text()
                # the page's websocket carries the token: a browser on the printed URL just works
                assert f'data-session-websocket-url="ws://{host}/ws/{site.token}"' in page
                assert r.headers["Referrer-Policy"] == "no-referrer"
    assert children(site.pid) == [], "a refused request started an app"
    assert "warning" not in site.served.output  # localhost: nothing to warn about


@pytest.mark.parametrize(
    "headers, ours",
    [
        ({"Host": "localhost:8000"}, True),
        ({"Host": "LOCALHOST:8000", "Origin": "http://localhost:8000"}, True),
        ({"Host": "127.0.0.1:8000", "Origin": "http://[::1]:8000"}, True),  # addresses, not names
        ({}, False),  # no Host at all
        ({"Host": "localhost:8000:1"}, False),
        ({"Host": "localhost:99999"}, False),
        ({"Host": "[::1:8000"}, False),  # a bracket left open
        ({"Host": "localhost.evil.example:8000"}, False),
        ({"Host": "localhost:8000", "Origin": "http://[::1"}, False),
        ({"Host": "localhost:8000", "Origin": "http://localhost:8000/page"}, False),
        ({"Host": "localhost:8000", "Origin": "ws://localhost:8000"}, False),
        ({"Host": "localhost:8000", "Origin": ""}, False),
    ],
)
def test_the_origin_rule_on_odd_headers(headers, ours):
    access = Access.of("localhost", 8000, "t")
    assert (access.origin_refusal(headers) is None) == ours


# -- one session, from start to end ---------------------------------------------------------------


async def test_a_session_gets_the_app_at_a_clamped_size_within_the_cap_and_ends_with_its_socket(site):
    exports = site.cwd / "exports"
    async with aiohttp.ClientSession() as http:
        origin = {"Origin": site.base}
        ws = await http.ws_connect(f"{site.ws}?width=5000&height=3", headers=origin)
        screen = await screen_shows(ws, "step 0/5000")  # the app painted its header
        assert "XOR, 2-3-1 sigmoid" in screen
        [app] = children(site.pid)
        assert stat(app)[2] == app, "the app leads a process group of its own"
        assert (environ(app)["COLUMNS"], environ(app)["ROWS"]) == ("500", "10")  # 5000 x 3, clamped
        argv = Path(f"/proc/{app}/cmdline").read_bytes().split(b"\0")
        assert argv[1:4] == [b"-m", b"tui_backprop.cli", b"--served-export-dir"], "run without a shell"
        assert argv[4] == str(exports).encode()

        # the cap (--max-sessions 1): one over it is refused, page and websocket, and starts nothing
        async with http.get(f"{site.base}/?token={site.token}") as r:
            assert r.status == 503 and "all 1 sessions of this server are in use" in await r.text()
        attempts = [http.ws_connect(site.ws, headers=origin) for _ in range(20)]  # 20 at once
        results = await asyncio.gather(*attempts, return_exceptions=True)
        assert [getattr(r, "status", r) for r in results] == [503] * 20
        assert children(site.pid) == [app]

        # e in the browser: the trace goes into the export folder, not the server's directory
        await ws.send_json(["stdin", "e"])
        wait_until((exports / "xor-trace.json").is_file, "the export in the served folder")
        assert json.loads((exports / "xor-trace.json").read_bytes())["summary"]["steps"] == 0
        assert sorted(p.name for p in site.cwd.iterdir()) == ["exports"]

        await ws.close()  # the browser's tab closes
        wait_until(lambda: not group(app), "the app's process group to end after the disconnect", 10)
        wait_until(lambda: not children(site.pid), "the server to have no app left", 10)
        async with http.get(f"{site.base}/?token={site.token}") as r:
            assert r.status == 200  # the session's place is free again


# -- the session's own rules, against a small program that leaves a child behind -----------------

PROTOCOL_APP = r"""
import json, os, subprocess, sys
log = open(sys.argv[1], "w")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # holds stdout too
size = [os.environ["COLUMNS"], os.environ["ROWS"]]
print(json.dumps({"child": child.pid, "size": size}), file=log, flush=True)
sys.stdout.write("__GANGLION__\n")
sys.stdout.flush()
while header := sys.stdin.buffer.read(5):
    meta = json.loads(sys.stdin.buffer.read(int.from_bytes(header[1:], "big")))
    print(json.dumps(meta), file=log, flush=True)
    if meta["type"] == "quit" and sys.argv[2] == "quits":
        sys.exit(0)  # its child stays, in its group
"""


@pytest.mark.parametrize("on_quit", ["quits", "ignores quit"])
async def test_a_session_ends_the_apps_whole_process_group(tmp_path, monkeypatch, on_quit):
    monkeypatch.setattr(serve_session, "QUIT_SECONDS", 0.3)  # for the app that ignores it
    log = tmp_path / "log"
    closed = asyncio.Event()

    async def close() -> None:
        closed.set()

    async def ignore(data: object) -> None:
        pass

    session = Session(
        [sys.executable, "-c", PROTOCOL_APP, str(log), on_quit],
        write_bytes=ignore,
        write_str=ignore,
        close=close,
        download_manager=DownloadManager(),
    )

    def logged() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    await session.start("5000", "3")  # as a URL's query gives them
    try:
        await session.set_terminal_size(5000, 5000)
        await session.set_terminal_size("wide", None)  # not numbers: the default size
        await session.set_terminal_size(-4, 7)
        deadline = time.monotonic() + 10
        while len(logged()) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        first, *resizes = logged()
        assert first["size"] == ["500", "10"]
        assert [(m["width"], m["height"]) for m in resizes] == [(500, 200), (80, 24), (20, 10)]
        app, child = session.pid, first["child"]
        assert app is not None and stat(app)[2] == app and stat(child)[2] == app  # one group, its own

        await session.stop()  # returns once the group's output has closed: its processes are exiting
        wait_until(lambda: not alive(app) and not alive(child), "every process of the session to end", 5)
        assert closed.is_set(), "the browser's socket is closed once the app has gone"
        assert logged()[-1] == {"type": "quit"}  # it was asked first
        assert session._process is not None and session._process.stdin.is_closing()  # nothing left open
        await session.stop()  # a second stop is harmless
    finally:  # whatever failed, nothing of this test stays running
        for pid in [session.pid, *(m["child"] for m in logged()[:1])]:
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- stopping the server --------------------------------------------------------------------------


async def test_a_server_on_every_address_warns_and_ctrl_c_ends_it_and_its_apps_quietly(tmp_path):
    served, port = start(tmp_path, "--host", "0.0.0.0", "--no-token")
    try:
        served.wait_for(rf"serving XOR, 2-3-1 sigmoid on http://localhost:{port}/ \(Ctrl")  # no token
        folder = exports_folder(served)  # a new temporary one
        assert folder.is_dir() and folder.name.startswith("backprop-tui-exports-")
        # the warning goes to stderr, the lines above to stdout: unbuffered (PYTHONUNBUFFERED)
        # the warning comes after them, and the reader may not have it yet
        served.wait_for(
            re.escape(
                f"warning: --host 0.0.0.0 is not a loopback address: anyone who reaches this machine on port"
                f" {port} can drive the app; other machines open http://"
            )
        )
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as r:  # --no-token: no token needed
                assert r.status == 200 and f"ws://127.0.0.1:{port}/ws" in await r.text()
            ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws")
            await screen_shows(ws, "step 0/5000")
            [app] = children(served.proc.pid)
            assert served.stop() == 0  # SIGINT, as Ctrl+C sends it
            await ws.close()
        assert not group(app), "an app outlived the server"
        assert served.output.rstrip().endswith("stopped serving")
        assert not [word for word in QUIET if word in served.output], served.output
        assert not folder.exists(), "the temporary export folder, which nothing went to, is left"
    finally:
        served.kill()


# -- the flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, says",
    [
        (["xor", "--host", "127.0.0.1"], "--host goes with --serve"),
        (["xor", "--no-token"], "--no-token goes with --serve"),
        (["xor", "--max-sessions", "3"], "--max-sessions goes with --serve"),
        (["xor", "--export-dir", "out"], "--export-dir goes with --serve"),
        (["xor", "--max-exports", "3"], "--max-exports goes with --serve"),
        (["xor", "--max-export-mb", "3"], "--max-export-mb goes with --serve"),
        (["xor", "--serve", "--max-sessions", "0"], "expected a positive integer, got 0"),
        (["xor", "--serve", "--max-exports", "many"], "expected a positive integer, got 'many'"),
        (["xor", "--serve", "--max-export-mb", "nan"], "expected a number of megabytes above 0, got nan"),
        (["xor", "--serve", "--max-export-mb", "-1"], "expected a number of megabytes above 0, got -1"),
        (["xor", "--serve", "--export", "t.json"], "--serve writes every export into --export-dir"),
        (["xor", "--served-export-dir", ".", "--export", "t.json"], "--export does not go with"),
    ],
)
def test_bad_serving_flags_exit_2_with_a_message(argv, says, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert says in err and err.startswith("error:")


@pytest.fixture
def never_served(monkeypatch):
    monkeypatch.setattr(serve_web.WebServer, "run", lambda self: pytest.fail("served after a bad flag"))


def test_an_address_of_another_machine_exits_2_naming_it(capsys, never_served):
    assert main(["xor", "--serve", "--host", "203.0.113.7", "--port", str(free_port())]) == 2  # TEST-NET-3
    assert (
        capsys.readouterr().err
        == "error: --host 203.0.113.7: 203.0.113.7 is not an address of this machine\n"
    )


def test_an_export_dir_that_is_a_file_exits_2_naming_it(tmp_path, capsys, never_served):
    (tmp_path / "taken").write_text("a file\n")
    assert main(["xor", "--serve", "--export-dir", str(tmp_path / "taken"), "--port", str(free_port())]) == 2
    assert (
        capsys.readouterr().err == f"error: --export-dir {tmp_path / 'taken'}: exists and is not a folder\n"
    )


def test_the_default_export_folder_is_a_new_one_and_a_given_one_is_made(tmp_path):
    first, second = serve.export_folder(serve.Options()), serve.export_folder(serve.Options())
    try:
        assert first.path != second.path and not any(first.path.iterdir())
        assert (first.max_files, first.max_bytes) == (100, 1_000_000_000)
    finally:
        first.path.rmdir()
        second.path.rmdir()
    made = serve.export_folder(serve.Options(export_dir=str(tmp_path / "new"), max_exports=3))
    assert made.path == tmp_path / "new" and made.path.is_dir() and made.max_files == 3


NOISY_APP = """
import sys
sys.stdout.write("__GANGLION__\\n")
sys.stdout.flush()
chunk = "e" * 65536
for _ in range(200):  # 12.5 MB on stderr: a pipe's 64 KB would block it long before
    sys.stderr.write(chunk)
sys.stderr.flush()
print("done", file=open(sys.argv[1], "w"), flush=True)
"""


async def test_a_served_apps_stderr_is_kept_up_to_a_bound_and_never_blocks_it(tmp_path, monkeypatch, capsys):
    """textual-serve keeps what the app writes to stderr in memory until the app ends, then
    prints it: the session passes on the first STDERR_BYTES and drains the rest."""
    monkeypatch.setattr(serve_session, "STDERR_BYTES", 1000)
    done, closed = tmp_path / "done", asyncio.Event()

    async def close() -> None:
        closed.set()

    async def ignore(data: object) -> None:
        pass

    session = Session(
        [sys.executable, "-c", NOISY_APP, str(done)],
        write_bytes=ignore,
        write_str=ignore,
        close=close,
        download_manager=DownloadManager(),
    )
    await session.start(80, 24)
    try:
        await asyncio.wait_for(closed.wait(), 20)  # the app wrote everything and ended
        assert done.read_text() == "done\n"
        printed = capsys.readouterr().out
        assert printed.count("e") == 1000  # what textual-serve printed of it: the bound
    finally:
        await session.stop()
