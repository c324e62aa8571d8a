"""``python -m tui_backprop``: the ``backprop-tui`` command, where the script is not on PATH."""

import sys

from .cli import main

sys.exit(main())
