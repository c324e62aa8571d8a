"""The ``backprop-tui`` command (and ``python -m tui_backprop``): ``--version`` is answered
before anything else is loaded.

Everything else goes to cli.main, whose imports (numpy through the engine, the scenario and
trace formats) cost several times a bare interpreter; Textual and plotext are loaded only when
the app opens (cli.py). ``backprop-tui --version`` needs none of it.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from . import __version__

        print(f"backprop-tui {__version__}")
        return 0
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
