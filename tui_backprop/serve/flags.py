"""The serving flags of the command line (``--serve``, ``--port``, ...) and their rules.

Apart from serve/command.py so that the command line parses its arguments, and answers
``--help``, without loading the server, asyncio or numpy: this module needs only argparse.
"""

from __future__ import annotations

import argparse

from ..common.flags import FlagGroup

HOST = "localhost"
DEFAULT_PORT = 8000
DEFAULT_MAX_SESSIONS = 8  # about 70 MB each for xor: a classroom's projector and a few students
DEFAULT_MAX_EXPORTS = 100
DEFAULT_MAX_EXPORT_MB = 1000.0  # 1 GB in all
DEFAULT_MAX_EXPORT_BYTES = int(DEFAULT_MAX_EXPORT_MB * 1e6)
# the flags that only the server reads (each with a value, but --serve and --no-token), and
# those it gives the apps it starts
SERVING_FLAGS = (
    "--serve",
    "--port",
    "--host",
    "--no-token",
    "--max-sessions",
    "--export-dir",
    "--max-exports",
    "--max-export-mb",
)
SERVED_FLAGS = ("--served-export-dir", "--served-max-exports", "--served-max-export-bytes")


def port_number(text: str) -> int:
    """argparse type of ``--port``: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {port}")
    return port


def positive_int(text: str) -> int:
    """An argparse type: an integer of 1 or more (the command line's counts use it too)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {n}")
    return n


def _megabytes(text: str) -> float:
    try:
        mb = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of megabytes, got {text!r}") from None
    if not 0 < mb < 1e12:  # not nan, not inf
        raise argparse.ArgumentTypeError(f"expected a number of megabytes above 0, got {text}")
    return mb


def add_serve_flags(p: FlagGroup) -> None:
    p.add_argument("--serve", action="store_true", help="serve the app in a browser (on localhost)")
    p.add_argument(
        "--port", type=port_number, metavar="N", help=f"with --serve: the port (default {DEFAULT_PORT})"
    )
    p.add_argument("--host", metavar="ADDR", help=f"with --serve: the address to listen on (default {HOST})")
    p.add_argument(
        "--no-token", action="store_true", help="with --serve: no token in the URL (anyone who reaches it)"
    )
    p.add_argument(
        "--max-sessions",
        type=positive_int,
        metavar="N",
        help=f"with --serve: apps running at once, at most (default {DEFAULT_MAX_SESSIONS})",
    )
    p.add_argument(
        "--export-dir", metavar="DIR", help="with --serve: where exports go (default: a new temporary folder)"
    )
    p.add_argument(
        "--max-exports",
        type=positive_int,
        metavar="N",
        help=f"with --serve: files in the export folder, at most (default {DEFAULT_MAX_EXPORTS})",
    )
    p.add_argument(
        "--max-export-mb",
        type=_megabytes,
        metavar="MB",
        help=f"with --serve: the export folder's size, at most (default {DEFAULT_MAX_EXPORT_MB:g} MB)",
    )
    # what the server tells each app it starts (see trace/folder.py)
    p.add_argument("--served-export-dir", help=argparse.SUPPRESS)
    hidden = argparse.SUPPRESS
    p.add_argument("--served-max-exports", type=positive_int, default=DEFAULT_MAX_EXPORTS, help=hidden)
    p.add_argument(
        "--served-max-export-bytes", type=positive_int, default=DEFAULT_MAX_EXPORT_BYTES, help=hidden
    )


def _given(args: argparse.Namespace, flag: str) -> bool:
    value = getattr(args, flag[2:].replace("-", "_"))
    return value not in (None, False)


def flag_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the serving flags beside the other flags, if anything."""
    if not args.serve:
        for flag in SERVING_FLAGS[1:]:
            if _given(args, flag):
                return f"{flag} goes with --serve"
        if args.served_export_dir is not None and args.export:
            return "--export does not go with --served-export-dir (a served app exports into its folder)"
        return None
    for flag in ("headless", "check", "list"):
        if getattr(args, flag, False):
            return f"--serve opens the app in a browser; it does not go with --{flag}"
    if args.export:
        return "--serve writes every export into --export-dir; it does not go with --export"
    return None
