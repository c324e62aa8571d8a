"""Accuracy: which runs are classifiers, the fraction of samples they classify right, and the
confusion matrix.

A run is a classifier when its output layer, its loss and every target (training and test
set) say so; anything else (a regression, tanh or identity outputs, soft targets) has no
accuracy:

    kind         output    loss            targets                a sample is right when
    binary       1 sigmoid bce or mse      every t 0 or 1         (y >= 0.5) == t
    multilabel   n sigmoid bce or mse      every t 0 or 1         (y_j >= 0.5) == t_j for every j
    multiclass   softmax   cross_entropy   one-hot rows           argmax_j y_j == argmax_j t_j

Accuracy is the count of right samples over the count of samples, a float in [0, 1]. Ties
are broken as numpy's argmax breaks them (the first largest output); an output that is not a
number is never >= 0.5 and never the largest unless every output is nan, so a diverged network
scores what it classifies, never an error. A multilabel sample counts as right only when all
of its outputs are (exact match), so that one output reads as the binary case.

The confusion matrix counts samples by true class (rows) and predicted class (columns): a
(2, 2) matrix for binary (class 0, class 1) and (n_L, n_L) for multiclass; multilabel has none
(its outputs are n separate yes/no questions, not one choice among classes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .names import classifier_targets
from .network import Network

Array = np.ndarray

THRESHOLD = 0.5  # a sigmoid output at or over it says class 1
KINDS = ("binary", "multilabel", "multiclass")


@dataclass(frozen=True, slots=True)
class Classifier:
    """How the outputs y (B, n_L) of a classifier are read as classes; ``kind`` one of KINDS."""

    kind: str
    outputs: int  # n_L

    @property
    def classes(self) -> int:
        """The rows and columns of the confusion matrix: 2 (binary), n_L (multiclass), 0 (none)."""
        return {"binary": 2, "multiclass": self.outputs}.get(self.kind, 0)

    def labels(self, t: Array) -> Array:
        """The true classes of targets t (B, n_L): class indices (B,) for multiclass, the
        yes/no of each output (B, n_L) bool for binary and multilabel."""
        if self.kind == "multiclass":
            return np.argmax(t, axis=1)
        return t >= THRESHOLD

    def predict(self, y: Array) -> Array:
        """The predicted classes of outputs y (B, n_L), shaped as ``labels``."""
        if self.kind == "multiclass":
            return np.argmax(y, axis=1)
        return y >= THRESHOLD

    def accuracy(self, y: Array, labels: Array) -> float:
        """The fraction of the B samples whose outputs y (B, n_L) give their ``labels``
        (from ``labels(t)``); nan for no samples."""
        right = self.predict(y) == labels
        if right.ndim == 2 and right.shape[1] > 1:  # multilabel: every output right
            right = right.all(axis=1)
        n = len(labels)
        return np.count_nonzero(right) / n if n else float("nan")

    def scorer(self, t: Array) -> Callable[[Array], float]:
        """``accuracy(y, labels(t))`` as a function of the outputs y (B, n_L) alone, the classes
        of t worked out once: the Trainer's hot path, a few numpy calls a step."""
        labels, n = self.labels(t), len(t)
        count = np.count_nonzero
        if not n:
            return lambda y: float("nan")
        if self.kind == "multiclass":
            return lambda y: count(y.argmax(axis=1) == labels) / n
        if self.outputs == 1:
            return lambda y: count((y >= THRESHOLD) == labels) / n
        return lambda y: count(((y >= THRESHOLD) == labels).all(axis=1)) / n

    def stack_scorer(self, t: Array) -> Callable[[Sequence[Array]], list[float]]:
        """``scorer(t)`` of K outputs at once: K arrays y (B, n_L) give the K accuracies, the
        same floats as K calls (each count of right samples is an integer, and count / B is
        rounded once either way), for about the cost of two: the fast path counts in batches."""
        labels, n = self.labels(t), len(t)
        count = np.add.reduce  # of booleans: an integer count
        if not n:
            return lambda ys: [float("nan")] * len(ys)

        def right(ys: Sequence[Array]) -> Array:
            """(K, B): whether each output classifies its sample right."""
            y = np.concatenate(ys)  # (K B, n_L)
            if self.kind == "multiclass":
                return y.argmax(axis=1).reshape(-1, n) == labels
            if self.outputs == 1:
                return (y[:, 0] >= THRESHOLD).reshape(-1, n) == labels[:, 0]
            return ((y >= THRESHOLD).reshape(-1, n, self.outputs) == labels).all(axis=2)

        return lambda ys: (count(right(ys), 1) / n).tolist()

    def confusion(self, y: Array, t: Array) -> Array | None:
        """Counts (K, K) of samples by true class (row) and predicted class (column), from the
        outputs y (B, n_L) and targets t (B, n_L); None for multilabel."""
        k = self.classes
        if not k:
            return None
        if self.kind == "binary":
            true, predicted = self.labels(t)[:, 0].astype(int), self.predict(y)[:, 0].astype(int)
        else:
            true, predicted = self.labels(t), self.predict(y)
        return np.bincount(true * k + predicted, minlength=k * k).reshape(k, k)

    def __str__(self) -> str:
        return {
            "binary": "binary: class 1 when y >= 0.5",
            "multilabel": f"multilabel: each of {self.outputs} outputs yes when >= 0.5, all right",
            "multiclass": f"multiclass: the largest of {self.outputs} outputs",
        }[self.kind]


def classifier_of(output_activation: str, loss: str, *targets: Array | None) -> Classifier | None:
    """The Classifier of a network whose last layer is ``output_activation``, trained on
    ``loss``, for the target arrays given (each (N, n_L); None ones are skipped): None when the
    run is not a classifier (see the module's table)."""
    given = [np.asarray(t, dtype=float) for t in targets if t is not None]
    if not given or any(t.ndim != 2 for t in given):
        return None
    n = given[0].shape[1]
    needs = classifier_targets(output_activation, loss)
    if needs == "0/1" and all(np.isin(t, (0.0, 1.0)).all() for t in given):
        return Classifier("binary" if n == 1 else "multilabel", n)
    if needs == "one-hot" and all(_one_hot(t) for t in given):
        return Classifier("multiclass", n)
    return None


def _one_hot(t: Array) -> bool:
    """Whether every row of t is 0 but for a single 1."""
    return bool(np.isin(t, (0.0, 1.0)).all() and (np.count_nonzero(t, axis=1) == 1).all())


def confusion_matrix(
    network: Network, W: Sequence[Array], b: Sequence[Array], X: Array, T: Array, classifier: Classifier
) -> Array | None:
    """The confusion matrix (K, K) of the network with weights W, biases b over inputs X
    (N, n_0) and targets T (N, n_L): rows the true class, columns the predicted one, summing
    to N. None for a multilabel classifier."""
    _, acts = network.forward(W, b, X)
    return classifier.confusion(acts[-1], T)
