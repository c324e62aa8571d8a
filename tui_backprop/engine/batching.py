"""Which samples each step trains on.

An epoch is one pass over all N samples, cut into batches of ``size`` (the last one may be
smaller; nothing carries over into the next epoch). The order of an epoch is the file order,
or with shuffling a permutation drawn from a generator seeded with (seed, epoch): it depends
on nothing but those two numbers, so the whole position is (epoch, offset) and undoing a
step needs no random state to be saved.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

Array = np.ndarray


def batch_size(batch: str | int, n_samples: int) -> int:
    """'full' -> N, 'sample' -> 1, an integer b -> min(b, N)."""
    if batch == "full":
        return n_samples
    if batch == "sample":
        return 1
    return min(int(batch), n_samples)


class Position(NamedTuple):  # a NamedTuple: built on every step, and cheaper than a dataclass
    epoch: int = 1  # 1-based epoch of the next batch
    offset: int = 0  # index into that epoch's order of the next batch's first sample


class BatchSchedule:
    def __init__(self, n_samples: int, batch: str | int, shuffle: bool, seed: int) -> None:
        self.n_samples = n_samples
        self.size = batch_size(batch, n_samples)
        self.shuffle = shuffle
        self.seed = seed
        self._order_epoch = 0
        self._order = np.arange(n_samples)
        self._order.flags.writeable = False

    def order(self, epoch: int) -> Array:
        """The sample indices of ``epoch`` in the order they are visited, shape (N,)."""
        if not self.shuffle:
            return self._order
        if epoch != self._order_epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.n_samples)
            order.flags.writeable = False
            self._order, self._order_epoch = order, epoch
        return self._order

    def position_after(self, steps: int) -> Position:
        """The position after ``steps`` steps from the start: every epoch has ceil(N / size) batches."""
        per_epoch = -(-self.n_samples // self.size)
        epoch, k = divmod(steps, per_epoch)
        return Position(epoch + 1, k * self.size)

    def next_batch(self, pos: Position) -> tuple[Array, Position]:
        """The indices of the batch at ``pos`` and the position after it."""
        end = pos.offset + self.size
        indices = self.order(pos.epoch)[pos.offset : end]
        if end >= self.n_samples:
            return indices, Position(pos.epoch + 1, 0)
        return indices, Position(pos.epoch, end)
