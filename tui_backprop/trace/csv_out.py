"""``--export run.csv``: one row a step of the step-level numbers, for a spreadsheet or pandas.

    step,epoch,loss,train_loss,test_loss,accuracy,train_accuracy,test_accuracy,learning_rate
    1,1,0.2615,0.2598,0.2611,0.5,0.5,0.5,0.5

The columns, in this order (a column the run has no value for is left out, never left empty):

    step, epoch      as in the trace
    loss             the batch loss before the update (the penalty included, as in the trace)
    train_loss       the training-set loss after the update
    test_loss        the test-set loss after the update: a scenario with [data] test_fraction only
    penalty          the l1/l2 penalty of the weights before the update: a regularised run only
    accuracy         the fraction of the batch classified right, from the same outputs as ``loss``:
                     a classifier only (engine/accuracy.py says which runs are)
    train_accuracy   the fraction of the training set classified right after the update, as the
                     trace's train_accuracy: a classifier only
    test_accuracy    the same of the test set: a classifier with a test set only
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
from ..engine.accuracy import Classifier
from .sink import KeptSteps

WHAT = "CSV table"  # in a refusal: "is a FIFO, not a file a CSV table can be written to"


def batch_accuracy(classifier: Classifier) -> Callable[[np.ndarray, np.ndarray], float]:
    """The accuracy of a batch from its outputs y and targets t (both (B, n_L)), as the engine
    counts a set's (engine/accuracy.py: one definition of a classifier everywhere)."""
    return lambda y, t: classifier.accuracy(y, classifier.labels(t))


def _number(x: float) -> str:
    return repr(float(x))  # nan, inf and -inf as float() writes and reads them


class CsvWriter(KeptSteps):
    """Streams the table: the header on open, one row a kept step; ``close`` puts it in place."""

    def __init__(self, path: str | Path, trainer: Trainer, every: int = 1, replace: bool = True) -> None:
        super().__init__(every)
        self.path = Path(path)
        classifier = trainer.classifier
        self.accuracy = None if classifier is None else batch_accuracy(classifier)
        self.columns = ["step", "epoch", "loss", "train_loss"]
        if trainer.X_test is not None:
            self.columns.append("test_loss")
        if trainer.penalty:
            self.columns.append("penalty")
        if self.accuracy is not None:
            self.columns += ["accuracy", "train_accuracy"]
            if trainer.X_test is not None:
                self.columns.append("test_accuracy")
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
            for name in ("train_accuracy", "test_accuracy"):
                value = getattr(rec, name)
                cells[name] = _number(value) if value is not None else ""
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
