"""The export of a headless run, in the format its file's suffix names:

.csv    one row a step: step, epoch, the losses, accuracy, learning rate (csv_out.py)
.npz    the weights and biases of the last step, and of every --every step (npz_out.py)
else    the JSON trace of every number of every step (writer.py)
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ..common.errors import BackpropError
from ..engine import Trainer
from .csv_out import WHAT as CSV_WHAT
from .csv_out import CsvWriter
from .npz_out import WHAT as NPZ_WHAT
from .npz_out import NpzWriter
from .sink import StepSink
from .writer import TraceWriter

FORMATS = {".json": "a JSON trace", ".csv": "a CSV table", ".npz": "numpy arrays"}
NOUNS = {".json": "trace", ".csv": "table", ".npz": "weights"}  # in a headless run's summary
KINDS = {".json": "trace", ".csv": CSV_WHAT, ".npz": NPZ_WHAT}  # in a refusal of its path


def export_format(path: str | Path) -> str:
    """The suffix that chooses the export's format: ``.csv``, ``.npz``, or ``.json`` for any other."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in FORMATS else ".json"


def export_kind(path: str | Path) -> str:
    """What the export at ``path`` is, for a refusal: ``trace``, ``CSV table``, ``NumPy archive``."""
    return KINDS[export_format(path)]


def export_noun(path: str | Path) -> str:
    """What the export at ``path`` holds, in a word: ``trace``, ``table`` or ``weights``."""
    return NOUNS[export_format(path)]


def writer_for(
    path: Path,
    trainer: Trainer,
    every: int = 1,
    fields: Collection[str] | None = None,
    replace: bool = True,
) -> StepSink:
    """The writer of ``path``'s format (see export_format): ``every`` and ``replace`` as for
    TraceWriter; ``fields`` (a JSON trace's only) must be None for the others."""
    fmt = export_format(path)
    if fmt != ".json" and fields is not None:
        raise BackpropError(str(path), f"--fields goes with a JSON trace, not {FORMATS[fmt]}")
    if fmt == ".csv":
        return CsvWriter(path, trainer, every, replace)
    if fmt == ".npz":
        return NpzWriter(path, trainer, every, replace)
    return TraceWriter(path, trainer, every, fields, replace=replace)
