"""``--export run.csv``: one row a step of the step-level numbers, for a spreadsheet or pandas.

    step,epoch,loss,train_loss,test_loss,accuracy,learning_rate
    1,1,0.2615,0.2598,0.2611,0.5,0.5

The columns, in this order (a column the run has no value for is left out, never left empty):

    step, epoch      as in the trace
    loss             the batch loss before the update (the penalty included, as in the trace)
    train_loss       the training-set loss after the update
    test_loss        the test-set loss after the update: a scenario with [data] test_fraction only
    penalty          the l1/l2 penalty of the weights before the update: a regularised run only
    accuracy         the fraction of the batch classified right, from the same outputs as ``loss``:
                     a classifier only (see ``classifier``)
    learning_rate    the rate the step's update used

Numbers are written to full precision (Python's repr: they read back to the same float), and a
number that is not finite as ``nan``, ``inf`` or ``-inf``, which float(), numpy and pandas read.
With --every K only every K-th step (and the last) has a row, as in the trace.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..common.errors import BackpropError
from ..common.files import NewFile
from ..engine import StepRecord, Trainer
from .sink import KeptSteps

WHAT = "CSV table"  # in a refusal: "is a FIFO, not a file a CSV table can be written to"
Accuracy = Callable[[np.ndarray, np.ndarray], float]


def classifier(T: np.ndarray) -> Accuracy | None:
    """How a batch's accuracy is counted from its outputs y and targets t (both (B, n_L)), when
    the training targets ``T`` are classes; None when they are not (a regression):

        one output, targets 0 and 1      y >= 0.5 is class 1 (a sigmoid's threshold)
        one output, targets -1 and 1     y >= 0 is class 1 (a tanh's)
        several outputs, one-hot rows    the largest output is the class (softmax's argmax)
    """
    if T.ndim != 2 or T.size == 0:
        return None
    if T.shape[1] == 1:
        values = set(np.unique(T).tolist())
        for classes, threshold in (({0.0, 1.0}, 0.5), ({-1.0, 1.0}, 0.0)):
            if values <= classes:
                return _thresholded(threshold)
        return None
    if np.isin(T, (0.0, 1.0)).all() and (T.sum(axis=1) == 1).all():
        return lambda y, t: np.count_nonzero(np.argmax(y, axis=1) == np.argmax(t, axis=1)) / len(t)
    return None


def _thresholded(h: float) -> Accuracy:
    def accuracy(y: np.ndarray, t: np.ndarray) -> float:
        return np.count_nonzero((y[:, 0] >= h) == (t[:, 0] > h)) / len(t)

    return accuracy


def _number(x: float) -> str:
    return repr(float(x))  # nan, inf and -inf as float() writes and reads them


class CsvWriter(KeptSteps):
    """Streams the table: the header on open, one row a kept step; ``close`` puts it in place."""

    def __init__(self, path: str | Path, trainer: Trainer, every: int = 1, replace: bool = True) -> None:
        super().__init__(every)
        self.path = Path(path)
        self.accuracy = classifier(trainer.T)
        self.columns = ["step", "epoch", "loss", "train_loss"]
        if trainer.X_test is not None:
            self.columns.append("test_loss")
        if trainer.penalty:
            self.columns.append("penalty")
        if self.accuracy is not None:
            self.columns.append("accuracy")
        self.columns.append("learning_rate")
        self.out = NewFile(self.path, replace, WHAT)
        assert self.out.file is not None
        self.text = io.TextIOWrapper(self.out.file, encoding="utf-8", newline="")
        self.rows = csv.writer(self.text, lineterminator="\n")
        self._write(self.columns)

    def _write(self, row: list[str]) -> None:
        try:
            self.rows.writerow(row)
        except OSError as e:
            self.abort()
            raise BackpropError(str(self.path), f"cannot write: {e.strerror or e}") from e

    def row(self, rec: StepRecord) -> list[str]:
        """The step's cells, in the order of ``columns``."""
        cells = {
            "step": str(rec.step),
            "epoch": str(rec.epoch),
            "loss": _number(rec.loss),
            "train_loss": _number(rec.train_loss),
            "test_loss": _number(rec.test_loss) if rec.test_loss is not None else "",
            "penalty": _number(rec.penalty),
            "learning_rate": _number(rec.learning_rate),
        }
        if self.accuracy is not None:
            cells["accuracy"] = _number(self.accuracy(rec.layers[-1].a, rec.t))
        return [cells[c] for c in self.columns]

    def write_step(self, rec: StepRecord) -> None:
        self._write(self.row(rec))
        self.steps += 1
        self.last_step = rec.step

    def close(self, final_loss: float, stop_reason: str) -> Path:
        """Put the finished table in place (``final_loss`` and ``stop_reason`` are the last row's
        and the summary's: a table has no summary)."""
        try:
            self.text.flush()
        except OSError as e:
            self.abort()
            raise BackpropError(str(self.path), f"cannot write: {e.strerror or e}") from e
        return self.out.commit()

    def abort(self) -> None:
        self.out.abort()
