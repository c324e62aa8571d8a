"""``backprop-tui SCENARIO --serve``: the app in a browser, through textual-serve.

textual-serve is a small web server: each browser tab that opens the page starts its own
copy of a command and streams its screen to xterm.js in the page. The command served here is
this one, as typed, without the serving flags: the same app on the same scenario with the
same options. A scenario path is made absolute, so the served copies read the file that was
checked here, whatever their working directory. Each copy is told the export folder and its
caps by hidden flags (``--served-export-dir DIR --served-max-exports N
--served-max-export-bytes B``), and exports nowhere else (trace/folder.py).

Nothing is served until the command line has been checked: a bad scenario, a bad flag or an
address or port that cannot be used is an ``error:`` line and exit code 2, as everywhere
else. Who may use the server is serve/access.py's rule (the served origin, and the token of
the printed URL); serve/web.py is the server, serve/session.py one browser's app.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import BackpropError
from ..scenario.reader import shown
from ..trace.folder import LOCK_NAME, ExportFolder, megabytes
from .flags import (
    DEFAULT_MAX_EXPORT_BYTES,
    DEFAULT_MAX_EXPORT_MB,
    DEFAULT_MAX_EXPORTS,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_PORT,
    HOST,
    SERVED_FLAGS,
    SERVING_FLAGS,
)

INSTALL_HINT = 'serving in a browser needs textual-serve: pip install "backprop-tui[serve]"'


class ServeError(BackpropError):
    """The app cannot be served (textual-serve missing, an address that cannot be used)."""


@dataclass(frozen=True)
class Options:
    """The serving flags, read."""

    host: str = HOST
    port: int = DEFAULT_PORT
    token: bool = True
    max_sessions: int = DEFAULT_MAX_SESSIONS
    export_dir: str | None = None
    max_exports: int = DEFAULT_MAX_EXPORTS
    max_export_bytes: int = DEFAULT_MAX_EXPORT_BYTES

    @classmethod
    def of(cls, args: argparse.Namespace) -> Options:
        return cls(
            host=args.host if args.host is not None else HOST,
            port=args.port or DEFAULT_PORT,
            token=not args.no_token,
            max_sessions=args.max_sessions or DEFAULT_MAX_SESSIONS,
            export_dir=args.export_dir,
            max_exports=args.max_exports or DEFAULT_MAX_EXPORTS,
            max_export_bytes=int((args.max_export_mb or DEFAULT_MAX_EXPORT_MB) * 1e6),
        )


def served_argv(argv: Sequence[str], scenarios: Sequence[str]) -> list[str]:
    """``argv`` without the serving flags, in its order, each scenario file made absolute.

    ``argv`` has been parsed by the full parser already, so every abbreviation of a serving
    flag in it is unambiguous and this parser, which knows only those, reads it the same.
    """
    own = argparse.ArgumentParser(add_help=False, allow_abbrev=True)
    for flag in SERVING_FLAGS + SERVED_FLAGS:
        own.add_argument(flag, action="store_true" if flag in ("--serve", "--no-token") else "store")
    _, rest = own.parse_known_args(list(argv))
    files = {s for s in scenarios if Path(s).is_file()}  # a bundled name stays a name
    return [str(Path(a).resolve()) if a in files else a for a in rest]


def served_command(argv: Sequence[str], scenarios: Sequence[str], folder: ExportFolder) -> list[str]:
    """What each browser session runs (an argv list: no shell), exporting only into ``folder``."""
    told = {"--served-export-dir": folder.path, "--served-max-exports": folder.max_files}
    told["--served-max-export-bytes"] = folder.max_bytes
    flags = [str(a) for flag, value in told.items() for a in (flag, value)]
    # the folder first: the command's own arguments may end in "--"
    return [sys.executable, "-m", "tui_backprop.cli", *flags, *served_argv(argv, scenarios)]


def check_port(port: int, host: str = HOST) -> None:
    """Raise ServeError when ``port`` cannot be listened on at every address of ``host``."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        addresses = {(str(info[4][0]), info[0]) for info in infos}
    except (OSError, UnicodeError, ValueError) as e:  # unknown, or not a name at all
        problem = f"cannot resolve it: {getattr(e, 'strerror', None) or e}"
        raise ServeError(f"--host {shown(host)}", problem) from e
    for address, family in sorted(addresses):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            try:
                s.bind((address, port))
            except OSError as e:
                raise bind_error(port, host, address, e) from e


def bind_error(port: int, host: str, address: str, e: OSError) -> ServeError:
    if e.errno == errno.EADDRNOTAVAIL:
        return ServeError(f"--host {shown(host)}", f"{address} is not an address of this machine")
    if e.errno == errno.EADDRINUSE:
        problem = f"port {port} is in use on {address}; choose another with --port N"
    elif e.errno == errno.EACCES:
        problem = f"port {port} needs privileges on {address}; choose a port above 1023"
    else:
        problem = f"cannot listen on {address} port {port}: {e.strerror or e}"
    return ServeError(f"--port {port}", problem)


def url(port: int, host: str = HOST, token: str | None = None) -> str:
    from .access import WILDCARDS, bracketed

    name = "localhost" if host in WILDCARDS else bracketed(host)
    return f"http://{name}:{port}/" + (f"?token={token}" if token else "")


def export_folder(options: Options) -> ExportFolder:
    """The folder given (created when missing), or a new temporary one."""
    if options.export_dir is None:
        path = Path(tempfile.mkdtemp(prefix="backprop-tui-exports-"))
    else:
        path = Path(options.export_dir).expanduser().resolve()
        try:
            path.mkdir(exist_ok=True)
        except OSError as e:
            problem = f"cannot create it: {e.strerror or e}"
            if path.exists():
                problem = "exists and is not a folder"
            raise ServeError(f"--export-dir {shown(options.export_dir)}", problem) from e
        if not path.is_dir():
            raise ServeError(f"--export-dir {shown(options.export_dir)}", "exists and is not a folder")
    return ExportFolder(path, options.max_exports, options.max_export_bytes)


def serve(argv: Sequence[str], scenarios: Sequence[str], title: str, options: Options) -> int:
    """Serve this command until Ctrl+C or SIGTERM; returns exit code 0."""
    try:
        import textual_serve.server  # noqa: F401  # the serve extra
    except ImportError as e:
        raise ServeError("--serve", INSTALL_HINT) from e
    from .access import Access, is_loopback, new_token
    from .web import WebServer

    check_port(options.port, options.host)
    folder = export_folder(options)
    token = new_token() if options.token else None
    access = Access.of(options.host, options.port, token)
    command = served_command(argv, scenarios, folder)
    server = WebServer(command, options.host, options.port, title, access, options.max_sessions)

    def announce() -> None:
        print(f"serving {shown(title)} on {url(options.port, options.host, token)} (Ctrl+C stops)")
        caps = f"at most {folder.max_files} files, {megabytes(folder.max_bytes)}"
        print(f"exports go to {folder.path} ({caps})")
        if not is_loopback(options.host):
            print(_exposed_warning(options, token), file=sys.stderr)
        sys.stdout.flush()

    server.on_listening = announce
    server.initialize_logging()
    try:
        asyncio.run(server.run())
    except OSError as e:  # taken between check_port and the server's own bind
        raise bind_error(options.port, options.host, options.host, e) from e
    except KeyboardInterrupt:  # Ctrl+C before the server's own handler was in place
        pass
    finally:
        exported = _leave(folder, made=options.export_dir is None)
    if exported:
        print(f"the exports are in {folder.path}")
    print("stopped serving", flush=True)
    return 0


def _leave(folder: ExportFolder, made: bool) -> int:
    """The number of files exported; a temporary folder that none went to is removed."""
    files = folder.usage()[0]
    if made and not files:
        (folder.path / LOCK_NAME).unlink(missing_ok=True)
        try:
            folder.path.rmdir()
        except OSError:  # something came in meanwhile: it stays
            pass
    return files


def _exposed_warning(options: Options, token: str | None) -> str:
    who = "and has the URL with its token " if token else ""
    where = f"--host {shown(options.host)} is not a loopback address"
    line = f"warning: {where}: anyone who reaches this machine on port {options.port} {who}can drive the app"
    if options.host in ("0.0.0.0", "::", ""):
        line += f"; other machines open {url(options.port, socket.gethostname(), token)} (or its IP address)"
    return line
