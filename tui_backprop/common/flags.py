"""What a part of the package adds its command-line flags to: the command line's own sections of
--help (cli.py), which also remember each flag for --completion."""

from __future__ import annotations

import argparse
from typing import Any, Protocol


class FlagGroup(Protocol):
    """Where flags are added: a parser, or one section of its --help."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action: ...


class Sections(Protocol):
    """What makes a new section of --help (a parser does)."""

    def add_argument_group(self, title: str | None = None, description: str | None = None) -> FlagGroup: ...
