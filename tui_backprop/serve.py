"""``backprop-tui SCENARIO --serve [--port N]``: the app in a browser, through textual-serve.

textual-serve is a small web server: each browser tab that opens the page starts its own
copy of a command in a pseudo-terminal and streams its screen to xterm.js in the page.
The command served here is this one, as typed, without ``--serve`` and ``--port``: the same
app on the same scenario with the same options. A scenario path is made absolute, so the
served copies read the file that was checked here, whatever their working directory.

Nothing is served until the command line has been checked: a bad scenario, a bad flag or a
port that is taken or out of range is an ``error:`` line and exit code 2, as everywhere else.
The server listens on localhost only (a classroom projects one screen; it is not a web host).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import BackpropError

HOST = "localhost"
DEFAULT_PORT = 8000
QUIT_SECONDS = 5.0  # for a served app to exit once asked to, before it is killed
INSTALL_HINT = 'serving in a browser needs textual-serve: pip install "backprop-tui[serve]"'


class ServeError(BackpropError):
    """The app cannot be served (textual-serve missing, a port that cannot be used)."""


def port_number(text: str) -> int:
    """argparse type of ``--port``: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {port}")
    return port


def add_serve_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--serve", action="store_true", help="serve the app in a browser on localhost")
    p.add_argument(
        "--port", type=port_number, metavar="N", help=f"with --serve: the port (default {DEFAULT_PORT})"
    )


def flag_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``--serve``/``--port`` beside the other flags, if anything."""
    if args.port is not None and not args.serve:
        return "--port goes with --serve"
    if args.serve:
        for flag in ("headless", "check", "list"):
            if getattr(args, flag, False):
                return f"--serve opens the app in a browser; it does not go with --{flag}"
    return None


def served_argv(argv: Sequence[str], scenarios: Sequence[str]) -> list[str]:
    """``argv`` without ``--serve`` and ``--port``, in its order, each scenario file made absolute.

    ``argv`` has been parsed by the full parser already, so every abbreviation of ``--serve`` or
    ``--port`` in it is unambiguous and this parser, which knows only those two, reads it the same.
    """
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--serve", action="store_true")
    own.add_argument("--port")
    _, rest = own.parse_known_args(list(argv))
    files = {s for s in scenarios if Path(s).is_file()}  # a bundled name stays a name
    return [str(Path(a).resolve()) if a in files else a for a in rest]


def served_command(argv: Sequence[str], scenarios: Sequence[str]) -> str:
    """The shell command that each browser session runs (textual-serve runs it through a shell)."""
    return shlex.join([sys.executable, "-m", "tui_backprop.cli", *served_argv(argv, scenarios)])


def check_port(port: int, host: str = HOST) -> None:
    """Raise ServeError when ``port`` cannot be listened on at every address of ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = {(str(info[4][0]), info[0]) for info in infos}
    except OSError as e:
        raise ServeError(f"--port {port}", f"cannot resolve {host}: {e.strerror or e}") from e
    for address, family in sorted(addresses):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            try:
                s.bind((address, port))
            except OSError as e:
                raise ServeError(f"--port {port}", _port_problem(port, address, e)) from e


def _port_problem(port: int, address: str, e: OSError) -> str:
    if e.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {address}; choose another with --port N"
    if e.errno == errno.EACCES:
        return f"port {port} needs privileges on {address}; choose a port above 1023"
    return f"cannot listen on {address} port {port}: {e.strerror or e}"


def url(port: int, host: str = HOST) -> str:
    return f"http://{host}:{port}"


def serve(command: str, port: int, title: str) -> int:
    """Serve ``command`` on localhost until Ctrl+C (or SIGTERM); returns exit code 0."""
    try:
        import textual_serve.server
        from textual_serve.app_service import AppService
        from textual_serve.server import Server
    except ImportError as e:
        raise ServeError("--serve", INSTALL_HINT) from e
    check_port(port)

    class _AppService(AppService):
        async def stop(self) -> None:
            """Also wait for the app to exit: textual-serve asks it to quit and stops reading, so
            at Ctrl+C the server could close before the app had gone (and warn that it had)."""
            await super().stop()
            process = self._process
            if process is not None and process.returncode is None:
                try:
                    await asyncio.wait_for(process.wait(), QUIT_SECONDS)
                except TimeoutError:
                    process.kill()
                    await process.wait()

    textual_serve.server.AppService = _AppService  # type: ignore[misc]  # what each session starts

    class _Server(Server):
        async def on_startup(self, app: object) -> None:  # instead of the logo and banner
            print(f"serving {title} on {self.public_url} (Ctrl+C stops)", flush=True)

        def initialize_logging(self) -> None:  # warnings and errors only, not a line per request
            super().initialize_logging()
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    server = _Server(command, host=HOST, port=port, title=title)
    try:
        server.serve()
    except OSError as e:  # taken between check_port and the server's own bind
        raise ServeError(f"--port {port}", _port_problem(port, HOST, e)) from e
    print("stopped serving", flush=True)
    return 0
