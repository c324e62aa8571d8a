"""The ``backprop-tui`` command (and ``python -m tui_backprop``): ``--version`` is answered
before anything else is loaded.

Everything else goes to cli.main, whose imports (numpy through the engine, the scenario and
trace formats) cost several times a bare interpreter; Textual and plotext are loaded only when
the app opens (cli.py). ``backprop-tui --version`` needs none of it.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from . import __version__

        try:
            if sys.stdout is not None:  # None: started with stdout closed (>&-)
                print(f"backprop-tui {__version__}", flush=True)
        except BrokenPipeError:  # the reader went away: as argparse's --version, exit 0 quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
