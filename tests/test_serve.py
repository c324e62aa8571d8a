"""``--serve``: the app in a browser through textual-serve.

The flags and the served command are checked directly; the end-to-end test starts the real
command on a free port, opens the page in headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright: no browser download, no network beyond localhost), waits for the app to
paint, presses space and reads "step 1" in the header from xterm.js's screen buffer.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tui_backprop.cli import main
from tui_backprop.serve import command as serve
from tui_backprop.trace.folder import ExportFolder

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and os.path.exists(p)), None)
# as root in a container, with the network closed: nothing but the page on localhost
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# textual-serve's page keeps its xterm.js Terminal in a closure; the test's copy of the script
# also hands it to window, so that the test can read the screen the browser shows
TERMINAL_OPENED = "this.terminal.open(e),"
SCREEN_TEXT = """() => {
    const t = window.__xterm;
    if (!t) return "";
    const b = t.buffer.active, rows = [];
    for (let i = 0; i < b.length; i++) rows.push(b.getLine(i).translateToString(true));
    return rows.join("\\n");
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, says",
    [
        (["xor", "--port", "8000"], "--port goes with --serve"),
        (["xor", "--serve", "--port", "0"], "expected a port number from 1 to 65535, got 0"),
        (["xor", "--serve", "--port", "65536"], "expected a port number from 1 to 65535, got 65536"),
        (["xor", "--serve", "--port", "http"], "expected a port number from 1 to 65535, got 'http'"),
        (["xor", "--serve", "--headless"], "does not go with --headless"),
        (["--check", "xor", "--serve"], "does not go with --check"),
        (["--list", "--serve"], "does not go with --list"),
    ],
)
def test_bad_serve_flags_exit_2_with_a_message(argv, says, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert says in err and err.startswith("error:")


def test_a_port_in_use_exits_2_naming_it_and_serves_nothing(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["xor", "--serve", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert f"error: --port {port}: port {port} is in use on 127.0.0.1; choose another with --port N" in err
    assert "serving" not in out


def test_a_bad_scenario_is_refused_before_anything_is_served(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(serve, "serve", lambda *a: pytest.fail("served a bad scenario"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\nname = 'x'\n")
    assert main([str(bad), "--serve"]) == 2
    assert "[network]" in capsys.readouterr().err


def test_vary_is_served_too_and_checked_first(monkeypatch, capsys):
    served = []
    monkeypatch.setattr(
        serve, "serve", lambda argv, scenarios, title, options: served.append((argv, title)) or 0
    )
    assert main(["xor", "--serve", "--vary", "training.learning_rate=0.5,1"]) == 0
    [(argv, title)] = served
    assert serve.served_argv(argv, ["xor"]) == ["xor", "--vary", "training.learning_rate=0.5,1"]
    assert title == "XOR, 2-3-1 sigmoid, 2 variants of training.learning_rate"
    assert main(["xor", "--serve", "--vary", "training.learning_rate=0.5,-1"]) == 2
    assert "learning_rate" in capsys.readouterr().err and len(served) == 1


def test_without_textual_serve_serve_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # import textual_serve fails
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["xor", "--serve", "--port", str(free_port())]) == 2
    assert capsys.readouterr().err == f"error: --serve: {serve.INSTALL_HINT}\n"


def test_the_served_command_is_this_one_without_the_serving_flags(tmp_path, monkeypatch):
    scenario = tmp_path / "my net.toml"  # a space: the command is an argv list, no shell
    scenario.write_text((ROOT / "scenarios" / "xor.toml").read_text())
    monkeypatch.chdir(tmp_path)
    argv = ["--serve", "my net.toml", "--port=8123", "--set", "training.batch=2", "--po", "9"]
    argv += [
        "--host",
        "127.0.0.1",
        "--no-token",
        "--max-sessions",
        "3",
        "--export-dir",
        "x",
        "--max-export-mb=5",
    ]
    argv += ["--max-exports", "7", "--served-export-dir", "/elsewhere", "--"]
    folder = ExportFolder(tmp_path, 100, 10**9)
    command = serve.served_command(argv, ["my net.toml"], folder)
    assert command == [
        sys.executable,
        "-m",
        "tui_backprop.cli",
        "--served-export-dir",  # the server's folder, never one from the command line
        str(tmp_path),
        "--served-max-exports",
        "100",
        "--served-max-export-bytes",
        "1000000000",
        str(scenario.resolve()),  # absolute: the same file whatever the server's cwd
        "--set",
        "training.batch=2",
        "--",
    ]
    # a bundled name stays a name: the served app reads it from the package
    assert serve.served_argv(["xor", "--serve"], ["xor"]) == ["xor"]


def test_the_served_command_opens_the_same_scenario(tmp_path, monkeypatch):
    """What a browser session runs, run here with --check in its place: the same file loads."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text((ROOT / "scenarios" / "xor.toml").read_text())
    served = serve.served_argv(["s.toml", "--serve", "--port", "9000"], ["s.toml"])
    assert main(["--check", *served]) == 0


# -- end to end: the real command, a real browser ----------------------------------------------


class Served:
    """``backprop-tui SCENARIO --serve --port PORT`` in its own process group, its output
    collected by a thread; ``stop`` sends Ctrl+C (SIGINT) to the server alone."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_backprop.cli", *argv],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # cleanup can end the server and the apps it started
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if m := re.search(pattern, self.output):
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} from the server; its output:\n{self.output}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=20)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """Whatever happened: the server's process group (the apps it started) is gone."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the served apps, if any outlived it
        except ProcessLookupError:
            pass


def running_with(marker: str) -> list[int]:
    """Processes whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                pids.append(int(entry.name))
    return pids


def _route_localhost_only(page, base: str) -> None:
    """Every request but the server's is refused (the page asks for a web font); the page
    script gets the hook that exposes the terminal."""

    def handle(route) -> None:
        url = route.request.url
        if not url.startswith(base + "/"):
            route.abort()
        elif url.endswith("/static/js/textual.js"):
            response = route.fetch()
            script = response.text()
            assert TERMINAL_OPENED in script, "textual-serve's page script changed: update the hook"
            script = script.replace(TERMINAL_OPENED, TERMINAL_OPENED + "window.__xterm=this.terminal,", 1)
            route.fulfill(response=response, body=script)
        else:
            route.continue_()

    page.route("**/*", handle)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not found (apt-get install chromium)")
@pytest.mark.skipif(sys.platform != "linux", reason="the process checks read /proc")
def test_the_served_app_steps_on_a_key_press_in_a_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    scenario = tmp_path / "served-xor.toml"  # a name of its own: its processes are found by it
    scenario.write_text((ROOT / "scenarios" / "xor.toml").read_text())
    port = free_port()
    # --set reaches the served app: its header counts to 77 steps, not the file's 5000
    argv = [scenario.name, "--serve", "--set", "training.max_steps=77", "--port", str(port)]
    server = Served(argv, cwd=tmp_path)
    try:
        name = r"XOR, 2-3-1 sigmoid \(--set training.max_steps=77\)"  # the name says the flag
        printed = server.wait_for(rf"serving {name} on (http://localhost:\d+)/(\?token=\S+) \(Ctrl")
        base, token = printed[1], printed[2]
        assert base == f"http://localhost:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),  # a fresh profile
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1400, "height": 900},
            )
            try:
                page = browser.new_page()
                _route_localhost_only(page, base)
                page.goto(f"{base}/{token}", timeout=15_000)  # the printed URL, token and all

                def screen() -> str:
                    return page.evaluate(SCREEN_TEXT)

                def wait_for_screen(text: str) -> None:
                    page.wait_for_function(f"() => ({SCREEN_TEXT})().includes({text!r})", timeout=15_000)

                wait_for_screen("step 0/77")  # the app has painted its header
                assert "space: take the first step" in screen()
                page.locator(".xterm-helper-textarea").focus()  # what a click on the terminal does
                page.keyboard.press("Space")
                wait_for_screen("step 1/77")
                text = screen()
                assert "step 0/77" not in text
                assert "train loss 0.2520" in text  # the loss of xor's first step (0.2542 before)
                assert running_with(str(scenario)), "the served app runs in its own process"
            finally:
                browser.close()
        assert server.stop() == 0  # Ctrl+C
        assert "Traceback" not in server.output
        assert server.output.rstrip().endswith("stopped serving")
        deadline = time.monotonic() + 10
        while running_with(str(scenario)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running_with(str(scenario)), "the served app outlived the server"
    finally:
        server.kill()
