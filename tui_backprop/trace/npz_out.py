"""``--export weights.npz``: the weights and biases a run ended with, for ``numpy.load``.

    W1, b1, W2, b2, ...       each layer's weights (n_l, n_(l-1)) and biases (n_l,) after the last
                              step (the initial ones when no step was taken); W1 feeds layer 1 from
                              the inputs, as W[1] on screen
    step                      the number of that step (0-d int)

With --every K, the weights after every K-th step too, as ``W1_step10``, ``b1_step10``, ... (the
last step's as well), and ``steps``: the numbers of the steps kept, in order. A layer without
biases ([network] bias = false) has an empty b. The file is a zip of .npy entries, as np.savez
writes, streamed one array at a time: a long run with --every never holds its steps in memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..common.errors import BackpropError
from ..common.files import NewFile
from ..engine import StepRecord, Trainer
from .sink import KeptSteps

WHAT = "NumPy archive"  # in a refusal: "is a FIFO, not a file a NumPy archive can be written to"


class NpzWriter(KeptSteps):
    """``every`` > 1 keeps every ``every``-th step's weights; 1 only the last ones."""

    def __init__(self, path: str | Path, trainer: Trainer, every: int = 1, replace: bool = True) -> None:
        super().__init__(every)
        self.path = Path(path)
        self.trainer = trainer
        self.keep = every > 1
        self.kept: list[int] = []
        self.out = NewFile(self.path, replace, WHAT)
        assert self.out.file is not None  # open until commit or abort
        self.zip = zipfile.ZipFile(self.out.file, "w", zipfile.ZIP_STORED, allowZip64=True)

    def _array(self, name: str, value: np.ndarray) -> None:
        try:
            with self.zip.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asarray(value), allow_pickle=False)
        except OSError as e:
            self.abort()
            raise BackpropError(str(self.path), f"cannot write: {e.strerror or e}") from e

    def run(self, trainer: Trainer, steps: int) -> None:
        if self.keep:
            super().run(trainer, steps)
        else:  # only the last step's weights: no record is needed
            trainer.run(steps, record=False)

    def write_last(self, trainer: Trainer) -> None:
        if self.keep:
            super().write_last(trainer)

    def write_step(self, rec: StepRecord) -> None:
        for n, layer in enumerate(rec.layers, start=1):
            self._array(f"W{n}_step{rec.step}", layer.w)
            self._array(f"b{n}_step{rec.step}", layer.b)
        self.kept.append(rec.step)
        self.steps += 1
        self.last_step = rec.step

    def close(self, final_loss: float, stop_reason: str) -> Path:
        """Write the last weights (and ``steps``), then put the file in place."""
        for n, (w, b) in enumerate(zip(self.trainer.W, self.trainer.b, strict=True), start=1):
            self._array(f"W{n}", w)
            self._array(f"b{n}", b)
        self._array("step", np.array(self.trainer.step_count))
        if self.keep:
            self._array("steps", np.array(self.kept, dtype=np.int64))
        try:
            self.zip.close()
        except OSError as e:
            self.abort()
            raise BackpropError(str(self.path), f"cannot write: {e.strerror or e}") from e
        return self.out.commit()

    def abort(self) -> None:
        try:
            self.zip.close()  # its end record goes into the temporary file, removed next
        except (OSError, ValueError):  # a write that failed, or a file already closed
            pass
        self.out.abort()
