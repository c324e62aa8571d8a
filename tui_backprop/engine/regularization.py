"""Weight penalties: L1 and L2 regularisation, each with its gradient beside it.

    P(W) = l1 * sum_l sum |W[l]|  +  (l2 / 2) * sum_l sum W[l]^2
    dP/dW[l] = l1 * sign(W[l])  +  l2 * W[l]          (sign(0) = 0)

Only weights are penalised, never biases. The trainer adds P to the batch loss and to the
training-set loss, and dP/dW to grad_w, so that grad_w stays the gradient of the loss it
records. With l2 alone, gradient descent shrinks every weight by a factor (1 - lr l2) a
step: the "weight decay" of PyTorch's SGD(weight_decay=l2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
_sum = np.add.reduce  # ndarray.sum without its Python wrapper: the same bits, less overhead


@dataclass(frozen=True, slots=True)
class Penalty:
    l1: float = 0.0
    l2: float = 0.0

    def __bool__(self) -> bool:
        """Whether there is any penalty: without one the trainer skips it entirely."""
        return self.l1 > 0.0 or self.l2 > 0.0

    def __str__(self) -> str:
        terms = [f"L1({self.l1:g})"] * (self.l1 > 0.0) + [f"L2({self.l2:g})"] * (self.l2 > 0.0)
        return " + ".join(terms) or "none"

    def __call__(self, W: Sequence[Array]) -> float:
        """P(W) over every layer's weights (n_l, n_{l-1})."""
        total = 0.0
        for Wl in W:
            if self.l1:
                total += self.l1 * float(_sum(np.abs(Wl), None))
            if self.l2:
                total += 0.5 * self.l2 * float(_sum(Wl * Wl, None))
        return total

    def grad(self, W: Sequence[Array]) -> list[Array]:
        """dP/dW[l] = l1 sign(W[l]) + l2 W[l], each (n_l, n_{l-1})."""
        return [self.l1 * np.sign(Wl) + self.l2 * Wl for Wl in W]
