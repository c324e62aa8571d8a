"""The fast path: Trainer.run(record=False) for the common cases, in place, at the numpy floor.

A recorded step builds new arrays for everything it keeps (records and undo hold them for
ever), and pays for it: fresh weights a step, a saved state a step, read-only flags, tuples.
A run without records needs none of that. ``FastLoop.run`` takes the steps on its own
writable copies of W, b and the optimiser's arrays, updated in place, and hands the Trainer
read-only parameters at the end. The maths is the Trainer's, operation for operation, so
that both paths give the same bits (tests/test_fastpath.py proves it on every bundled
scenario):

    z[l] = a[l-1] @ W[l].T + b[l]   a[l] = f_l(z[l])      (network.Network.forward)
    delta[L] = output_delta(...)    delta[l] = (delta[l+1] @ W[l+1]) * f'(z[l])
    grad_w[l] = delta[l].T @ a[l-1] / B    grad_b[l] = sum_k delta[l][k] / B
    W[l] <- the optimiser's rule, written in place below beside the rule it repeats

Undo stays exact without a saved state a step: the run saves the state it starts from (a
handful of references), a copy every CHECKPOINT_EVERY steps (only those the undo history
can keep), and the Trainer takes a run's last step on its ordinary path, so that the state
before it is saved as usual. Undo further back steps on again from the nearest saved state.

What the loop keeps of each step waits in plain lists (``_Pending``) and goes to the
Trainer's series every FLUSH_EVERY steps, at the end, and when the run is interrupted; a
classifier's accuracies are counted then, the kept outputs of many steps in one vectorised
count, unless target_accuracy needs them at each step. The functions of a run (forward pass,
loss, output delta, backward pass and update) are made once as closures over its arrays; the
training set's z of every layer share one buffer, whose one sum of squares checks them all for
the divergence rule; mse keeps y - t for the output delta. Each keeps the Trainer's bits.

Two-layer full-batch gd with biases, evaluated at every step and without a test set (xor
and networks like it), runs in a loop written out in one Python frame
(``_full_batch_two_layer_gd``), whose steps between checkpoints check their z once, together;
its checkpoints are SMALL_CHECKPOINT_EVERY steps apart, and a chunk taken again starts from the
copies its checkpoint handed the trainer.

Covered: gd, momentum and adam; any batch mode and order; biases or none, updated or frozen;
a test set; evaluate_every. A penalty (l1, l2) or the proportional error split takes the
ordinary path (``FastLoop.of`` returns None), as does an optimiser this module does not know.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .losses import output_delta
from .network import all_finite
from .optimizers import GD, Adam, Momentum, OptimizerState

Array = np.ndarray
_sum = np.add.reduce  # what ndarray.sum calls: the same bits as the Trainer's sums

CHECKPOINT_EVERY = 32  # steps between two copies of the state kept for undo (at most this many replayed)
# the same for the written-out loop of small networks (_full_batch_two_layer_gd), whose steps cost
# a few dozen microseconds: a checkpoint (copies, a saved state) was some 3% of a step of xor at 32
SMALL_CHECKPOINT_EVERY = 128
FLUSH_EVERY = 8 * CHECKPOINT_EVERY  # steps whose losses wait in lists before the trainer's series take them


class FastLoop:
    """The loop of one Trainer's network, loss and optimiser; ``run`` takes the steps."""

    def __init__(self, trainer: Any) -> None:
        net = trainer.network
        self.fns = tuple(act.fn for act in net.activations)
        self.grads = tuple(act.grad for act in net.activations)
        self.loss, self.out_act = net.loss, net.activations[-1]
        self.bias = net.bias
        # mse keeps e = y - t for the output delta, 2 e / n f'(z), instead of computing it twice
        self.residual = self.loss.name == "mse"
        opt = trainer.optimizer
        self.optimizer = opt
        self.update_biases = opt.update_biases and net.bias
        self.counts = type(opt) is not GD  # GD keeps no state, and its count stays at 0

    def rule(self, lr: float) -> tuple[Callable[..., None], float | None]:
        """The optimiser's in-place update at rate ``lr`` (the run's: a learning_rate edit
        changes it between runs), and that rate again for gd, whose rule descend writes out."""
        opt = self.optimizer
        return _UPDATES[type(opt)](opt, lr), lr if type(opt) is GD else None

    @classmethod
    def of(cls, trainer: Any) -> FastLoop | None:
        """The loop for ``trainer``, or None when its run needs the ordinary path."""
        if trainer.proportional or trainer.penalty or type(trainer.optimizer) not in _UPDATES:
            return None
        if getattr(trainer.scenario, "schedule", "constant") != "constant":  # a rate a step: _advance
            return None
        return cls(trainer)

    # -- the maths, as functions of one run's arrays ---------------------------------------
    # Each is made once a run, its arrays and constants bound in a closure: a step of a small
    # network is a few dozen numpy calls, and a lookup or an argument less a call counts.

    def forward_of(self, Wt: Sequence[Array], b: Sequence[Array]) -> Callable[[Array], tuple[list, list]]:
        """forward(x): z and a of every layer for inputs x (B, n_0), as Network.forward computes
        them; ``Wt`` holds the views W[l].T of the run's weights, which change in place."""
        layers, bias = tuple(zip(Wt, b, self.fns, strict=True)), self.bias

        def forward(x: Array) -> tuple[list[Array], list[Array]]:
            zs, acts = [], []
            a = x
            for Wlt, bl, fn in layers:
                z = a @ Wlt
                if bias:
                    z += bl
                a = fn(z)
                zs.append(z)
                acts.append(a)
            return zs, acts

        return forward

    def training_pass_of(
        self,
        Wt: Sequence[Array],
        b: Sequence[Array],
        X: Array,
        T: Array,
        mean_loss: Callable[[Array, Array, Array], tuple[float, Array | None]],
    ) -> tuple[Callable[[], tuple[list[Array], list[Array], float, Array | None]], Array]:
        """train_pass(): z and a of every layer over the training set X, the loss against T
        (and mse's e), with z written into one buffer; and that buffer, whose sum of squares
        tells whether every z is finite (see network.all_finite). The z of a pass are
        overwritten by the next one, which comes after the step that reads them (so is an
        identity layer's a, which is its z: no classifier, whose outputs _Pending keeps longer,
        ends in one)."""
        rows, widths = len(X), [w.shape[1] for w in Wt]  # W[l].T is (n_{l-1}, n_l)
        flat = np.empty(rows * sum(widths))
        ends = np.cumsum([0, *widths]) * rows
        views = [flat[s:e].reshape(rows, n) for s, e, n in zip(ends[:-1], ends[1:], widths, strict=True)]
        layers, bias, matmul = tuple(zip(Wt, b, self.fns, views, strict=True)), self.bias, np.matmul
        if len(layers) == 2 and bias:  # written out: the same operations, without the loop
            (Wt_0, b_0, f_0, z_0), (Wt_1, b_1, f_1, z_1) = layers
            add = np.add

            def two_layer_pass() -> tuple[list[Array], list[Array], float, Array | None]:
                matmul(X, Wt_0, z_0)
                add(z_0, b_0, z_0)  # z += b, in the buffer
                a_0 = f_0(z_0)
                matmul(a_0, Wt_1, z_1)
                add(z_1, b_1, z_1)
                a_1 = f_1(z_1)
                return ([z_0, z_1], [a_0, a_1], *mean_loss(a_1, T, z_1))

            return two_layer_pass, flat

        def train_pass() -> tuple[list[Array], list[Array], float, Array | None]:
            zs, acts = [], []
            a = X
            for Wlt, bl, fn, z in layers:
                matmul(a, Wlt, z)  # a @ W[l].T, written into the buffer: the same bits
                if bias:
                    z += bl
                a = fn(z)
                zs.append(z)
                acts.append(a)
            return (zs, acts, *mean_loss(a, T, z))

        return train_pass, flat

    def mean_loss_of(self, n_out: int) -> Callable[[Array, Array, Array], tuple[float, Array | None]]:
        """mean_loss(y, t, z): the batch loss, the mean of the per-sample losses as
        Trainer._batch_forward takes it, and what the output delta reuses of it: e = y - t for
        mse, None for the other losses. The mean is divided as a Python float (the same
        division of the same two numbers as numpy's, without its scalar's overhead)."""
        loss_fn = self.loss.fn
        if not self.residual:

            def mean_loss(y: Array, t: Array, z: Array) -> tuple[float, Array | None]:
                sample_losses = loss_fn(y, t, z)
                return float(_sum(sample_losses)) / sample_losses.size, None

        elif n_out == 1:  # losses._mse: sum_j e_j^2 / n, for one column e^2 itself, bit for bit

            def mean_loss(y: Array, t: Array, z: Array) -> tuple[float, Array | None]:
                e = y - t
                sq = e * e
                return float(_sum(sq.ravel())) / len(sq), e

        else:
            n = float(n_out)

            def mean_loss(y: Array, t: Array, z: Array) -> tuple[float, Array | None]:
                e = y - t
                sample_losses = _sum(e * e, 1)
                sample_losses /= n
                return float(_sum(sample_losses)) / len(sample_losses), e

        return mean_loss

    def output_delta_of(self, n_out: int) -> Callable[[Array, Array, Array, Array | None], Array]:
        """output_delta(y, t, z, e): delta[L] as losses.output_delta computes it; for mse
        (2 / n) e f'(z) from the e its loss kept, the operations of losses._mse_dy on the
        same numbers."""
        loss, out_act, out_grad = self.loss, self.out_act, self.grads[-1]
        two_over_n = np.array(2.0 / n_out)  # 0-d: numpy takes it faster than a float (the same bits)

        def delta_of(y: Array, t: Array, z: Array, e: Array | None) -> Array:
            if e is None:
                return output_delta(loss, out_act, y, t, z)
            delta = e * two_over_n
            delta *= out_grad(z, y)
            return delta

        return delta_of

    def descend_of(
        self,
        W: list[Array],
        b: list[Array],
        slots: dict[str, list[Array]],
        update: Callable[..., None],
        lr: float | None,
    ) -> Callable[[int, Array, Array, list[Array], list[Array], Array | None], None]:
        """descend(t, x, tt, zs, acts, e): the backward pass from the forward pass zs, acts of
        inputs x and targets tt, and the update (``rule``'s, the t-th), in place: each layer's
        W[l] is updated once the delta below it, which needs W[l] as it was, is computed."""
        update_biases, last = self.update_biases, len(W) - 1
        delta_of = self.output_delta_of(W[last].shape[0])
        if last == 1 and lr is not None and update_biases:
            return _two_layer_gd(W, b, self.grads[0], delta_of, lr)
        layers = tuple((l, W[l], b[l], self.grads[l - 1] if l else None) for l in range(last, -1, -1))

        def descend(t: int, x: Array, tt: Array, zs: list[Array], acts: list[Array], e: Array | None) -> None:
            B = float(x.shape[0])  # a float: numpy converts a Python int scalar slowly (the same bits)
            delta = delta_of(acts[last], tt, zs[last], e)
            for l, Wl, bl, grad in layers:
                a_prev = acts[l - 1] if l else x
                grad_w = delta.T @ a_prev
                grad_w /= B
                grad_b = _sum(delta, 0) / B if update_biases else None
                if grad is not None:  # (delta @ W[l]) * f'(z[l-1]), the product in place: the same bits
                    delta = delta @ Wl
                    delta *= grad(zs[l - 1], a_prev)
                if lr is not None:  # gd, written out here: the hot path of small networks
                    grad_w *= lr
                    Wl -= grad_w
                    if grad_b is not None:
                        grad_b *= lr
                        bl -= grad_b
                    continue
                update(Wl, grad_w, slots, "w", l, t)
                if grad_b is not None:
                    update(bl, grad_b, slots, "b", l, t)

        return descend

    # -- the loop -----------------------------------------------------------------------

    def run(self, trainer: Any, steps: int, save: Callable[[], None]) -> None:
        """Take up to ``steps`` steps of ``trainer`` (fewer when the run stops), in place.

        Interrupted (Ctrl+C), the trainer stays at the last state the loop handed it (the start,
        or a checkpoint), and the losses of the steps after it are dropped."""
        pending = _Pending(trainer)
        try:
            self._run(trainer, steps, save, pending)
        except BaseException:
            pending.flush()
            kept = (trainer.losses, trainer.train_losses, trainer.test_losses)
            for series in (*kept, trainer.train_accuracies, trainer.test_accuracies):
                del series[trainer.step_count :]
            raise

    def _run(self, trainer: Any, steps: int, save: Callable[[], None], pending: _Pending) -> None:
        """Take up to ``steps`` steps of ``trainer`` (fewer when the run stops), in place.

        ``save()`` puts the trainer's current state on its undo history: called before the
        first step and at each checkpoint, with the trainer's public state (W, b, opt_state,
        step_count, position, best_train_loss) set to the loop's, read-only. The losses and
        accuracies of the steps wait in ``pending`` (every FLUSH_EVERY steps, and at the end, they
        go to the trainer's series)."""
        tr = trainer
        save()
        W = [w.copy() for w in tr.W]
        b = [v.copy() for v in tr.b]
        slots = {name: [a.copy() for a in arrays] for name, arrays in tr.opt_state.arrays.items()}
        Wt = [w.T for w in W]
        t_opt, k, pos, best = tr.opt_state.t, tr.step_count, tr.position, tr.best_train_loss
        X, T, X_test, T_test = tr.X, tr.T, tr.X_test, tr.T_test
        schedule, every = tr.schedule, tr.evaluate_every
        max_steps, target_loss, limit = tr.scenario.max_steps, tr.scenario.target_loss, tr.divergence_limit
        target_accuracy = tr.target_accuracy
        evaluated, skipped, count_now = pending.evaluated, pending.skipped, pending.count_now
        full_in_order = schedule.size == len(X) and not schedule.shuffle

        def at(k: int, pos: Any) -> Any:
            """The position after step k: a full batch in order is an epoch a step."""
            return schedule.position_after(k) if full_in_order else pos

        # a constant rate (a schedule: no fast loop)
        update, gd_lr = self.rule(tr.base_learning_rate)
        # the first first_kept steps save no checkpoint: the undo history keeps its newest states only
        first_kept = steps - (tr.history_limit - 1) * CHECKPOINT_EVERY
        if (
            full_in_order
            and every == 1
            and X_test is None
            and not count_now
            and len(W) == 2
            and gd_lr is not None
            and self.update_biases
        ):
            gap = SMALL_CHECKPOINT_EVERY
            first = steps - (tr.history_limit - 1) * gap
            ended = self._full_batch_two_layer_gd(tr, steps, save, pending, W, b, slots, gd_lr, first, gap)
            if ended is not None:
                k, best, stop = ended
                pending.flush()
                self._hand_back(tr, W, b, slots, t_opt, k, at(k, pos), stop, best, copy=False)
                return
        forward, mean_loss, counts = self.forward_of(Wt, b), self.mean_loss_of(W[-1].shape[0]), self.counts
        train_pass, train_flat = self.training_pass_of(Wt, b, X, T, mean_loss)
        squares = (
            train_flat.dot
        )  # squares(train_flat): the sum of the squares of every z (network.all_finite)
        descend = self.descend_of(W, b, slots, update, gd_lr)
        isfinite = math.isfinite
        # the training set's pass for the current W: z, a, loss and mse's e (a full batch in order
        # takes it as the next step's batch); None until computed
        train: tuple[list[Array], list[Array], float, Array | None] | None = None
        stop = None
        for i in range(1, steps + 1):
            if full_in_order:  # the batch is the training set: its forward pass may be known
                if train is None:
                    train = train_pass()
                x, tt = X, T
                zs, acts, loss, e = train
            else:
                indices, pos = schedule.next_batch(pos)
                x, tt = X[indices], T[indices]
                zs, acts = forward(x)
                loss, e = mean_loss(acts[-1], tt, zs[-1])
            t_opt += counts
            descend(t_opt, x, tt, zs, acts, e)
            k += 1
            if every == 1 or k % every == 0 or k >= max_steps:
                train_zs, train_acts, train_loss, train_e = evaluation = train_pass()
                train = evaluation if full_in_order else None
                if train_loss < best:
                    best = train_loss
                test_loss = test_y = None
                if X_test is not None:
                    test_zs, test_acts = forward(X_test)
                    # + 0.0: the Trainer adds the (absent) penalty, which turns a -0.0 into 0.0
                    test_loss, test_y = mean_loss(test_acts[-1], T_test, test_zs[-1])[0] + 0.0, test_acts[-1]
                accuracy = evaluated(loss, train_loss, train_acts[-1], test_loss, test_y)
                if train_loss > limit or not (
                    isfinite(loss)
                    and isfinite(train_loss)
                    and (isfinite(squares(train_flat)) or all_finite(train_zs))  # see network.all_finite
                ):
                    stop = "diverged"
                elif target_loss is not None and train_loss < target_loss:
                    stop = "target_loss"
                elif count_now and accuracy >= target_accuracy:
                    stop = "target_accuracy"
                elif k >= max_steps:
                    stop = "max_steps"
            else:
                train = None
                skipped(loss)
                finite_z = full_in_order and isfinite(squares(train_flat)) or all_finite(zs)
                if not (isfinite(loss) and finite_z):
                    stop = "diverged"
                elif k >= max_steps:
                    stop = "max_steps"
            if stop is not None:
                break
            if i % CHECKPOINT_EVERY == 0 and i < steps:
                if i % FLUSH_EVERY == 0:  # a long run keeps no more than these waiting
                    pending.flush()
                if i > first_kept:
                    self._hand_back(tr, W, b, slots, t_opt, k, at(k, pos), None, best, copy=True)
                    save()
        pending.flush()
        self._hand_back(tr, W, b, slots, t_opt, k, at(k, pos), stop, best, copy=False)

    def _full_batch_two_layer_gd(
        self,
        tr: Any,
        steps: int,
        save: Callable[[], None],
        pending: _Pending,
        W: list[Array],
        b: list[Array],
        slots: dict[str, list[Array]],
        lr: float,
        first_kept: int,
        spacing: int,
    ) -> tuple[int, float, str | None] | None:
        """_run's loop written out for the commonest small run: two layers with biases, gd at a
        constant rate, the whole training set as the batch in file order (xor), evaluated at
        every step, no test set and no target_accuracy. The same operations in the same order
        as _run with training_pass_of's two_layer_pass and _two_layer_gd's descend, in one
        Python frame: a step of xor is some 50 numpy calls of a microsecond or less, and the
        Python between them counts.

        The steps between two checkpoints make a chunk, and the stop rules of _run (diverged,
        target_loss, max_steps, in that order) cost one range test a step: a training-set loss
        from target_loss up to the divergence limit goes on, anything else is looked at in full;
        max_steps bounds the number of steps. Each step of a chunk writes its z into its own row
        of a buffer, and one sum of squares at the end of the chunk (or at a stop) tells whether
        every z was finite (see network.all_finite). When one was not, the chunk is taken again from
        the weights it started from, the same bits, checking each step's z, so the run stops at
        the step whose z was not, as _run's check of every step does; the checkpoint and the
        hand-over of the losses come after that test.

        Returns the step count, the best training-set loss and why the run stopped (None: it
        did not); None without a step taken when the loss before the first step is not finite
        (_run takes it, as the divergence rule says)."""
        X, T = tr.X, tr.T
        W_0, W_1 = W
        b_0, b_1 = b
        Wt_0, Wt_1 = W_0.T, W_1.T
        f_0, f_1 = self.fns
        grad_0, out_grad = self.grads
        rows, n_0, n_1 = len(X), W_0.shape[0], W_1.shape[0]
        # row j: the z of both layers after a chunk's j-th step; the last row: a pass before a chunk
        ring = np.zeros((spacing + 1, rows * (n_0 + n_1)))
        rows_of = [(r, r[: rows * n_0].reshape(rows, n_0), r[rows * n_0 :].reshape(rows, n_1)) for r in ring]
        mean_loss, delta_of = self.mean_loss_of(n_1), self.output_delta_of(n_1)
        two_over_n = np.array(2.0 / n_1)  # mse: output_delta_of's delta, written out below
        one_column = self.residual and n_1 == 1
        B, matmul, add, isfinite = float(rows), np.matmul, np.add, math.isfinite
        k, best, stop, t_opt = tr.step_count, tr.best_train_loss, None, tr.opt_state.t  # gd: t stays
        target_loss, limit = tr.scenario.target_loss, tr.divergence_limit
        floor = -math.inf if target_loss is None else target_loss  # a loss in [floor, ceiling] goes on
        ceiling = min(limit, sys.float_info.max)  # (an infinite loss is over it)
        losses, train_losses, ys = pending.losses, pending.train_losses, pending.train_ys
        keep_loss, keep_train_loss = losses.append, train_losses.append
        keep_y = ys.append if pending.classifier else None

        def first_pass() -> tuple[Array, Array, Array, Array, float, Array | None]:
            """The training set's pass for the weights now, in the buffer's last row: the batch
            of a chunk's first step."""
            _, z_0, z_1 = rows_of[-1]
            matmul(X, Wt_0, z_0)
            add(z_0, b_0, z_0)
            a_0 = f_0(z_0)
            matmul(a_0, Wt_1, z_1)
            add(z_1, b_1, z_1)
            a_1 = f_1(z_1)
            return (z_0, z_1, a_0, a_1, *mean_loss(a_1, T, z_1))

        def why_stop(train_loss: float, z: Array | None) -> str | None:
            """_run's stop rules for a step out of range, z its training-set z (None: checked later)."""
            if train_loss > limit or not (isfinite(train_loss) and (z is None or all_finite((z,)))):
                return "diverged"
            if target_loss is not None and train_loss < target_loss:
                return "target_loss"
            return None

        z_0, z_1, a_0, a_1, loss, e = first_pass()
        if not isfinite(loss):
            return None
        taken, n, careful, params = 0, min(steps, tr.scenario.max_steps - k), False, (W_0, W_1, b_0, b_1)
        # what a chunk starts from, to take it again: the trainer's read-only arrays at first, then
        # those of the checkpoint the last chunk handed back, or copies where it handed none back
        kept = [*tr.W, *tr.b]
        while taken < n:
            chunk = min(spacing, n - taken)
            best_before, waiting = best, len(losses)
            for z, new_z_0, new_z_1 in rows_of[:chunk]:
                if e is None:  # layer 2, then layer 1 from its delta and W[1] as it was
                    delta = delta_of(a_1, T, z_1, e)
                else:
                    delta = e * two_over_n
                    delta *= out_grad(z_1, a_1)
                grad_w = delta.T @ a_0
                grad_w /= B
                grad_b = _sum(delta, 0)
                grad_b /= B
                delta_0 = delta @ W_1
                delta_0 *= grad_0(z_0, a_0)
                grad_w *= lr
                W_1 -= grad_w
                grad_b *= lr
                b_1 -= grad_b
                grad_w = delta_0.T @ X
                grad_w /= B
                grad_b = _sum(delta_0, 0)
                grad_b /= B
                grad_w *= lr
                W_0 -= grad_w
                grad_b *= lr
                b_0 -= grad_b
                # the training set's pass after the update, the next batch: first_pass written out
                z_0, z_1 = new_z_0, new_z_1
                matmul(X, Wt_0, z_0)
                add(z_0, b_0, z_0)
                a_0 = f_0(z_0)
                matmul(a_0, Wt_1, z_1)
                add(z_1, b_1, z_1)
                a_1 = f_1(z_1)
                if one_column:  # mean_loss_of's mse of one output, written out
                    e = a_1 - T
                    sq = e * e
                    train_loss = float(_sum(sq.ravel())) / rows
                else:
                    train_loss, e = mean_loss(a_1, T, z_1)
                keep_loss(loss)
                keep_train_loss(train_loss)
                if keep_y is not None:
                    keep_y(a_1)
                if train_loss < best:
                    best = train_loss
                if careful or not floor <= train_loss <= ceiling:
                    stop = why_stop(train_loss, z if careful else None)
                    if stop is not None:
                        break
                loss = train_loss
            done = len(losses) - waiting  # the steps of the chunk taken
            if not (careful or all_finite((ring[:done],))):  # take the chunk again, with care
                for p, before in zip(params, kept, strict=True):
                    np.copyto(p, before)
                best, careful, stop = best_before, True, None
                for series in (losses, train_losses, ys):
                    del series[waiting:]
                z_0, z_1, a_0, a_1, loss, e = first_pass()
                continue
            careful, taken = False, taken + done
            if stop is not None:
                return k + taken, best, stop
            if taken % FLUSH_EVERY == 0:  # a long run keeps no more than these waiting
                pending.flush()
            if first_kept < taken < n:
                at = tr.schedule.position_after(k + taken)
                self._hand_back(tr, W, b, slots, t_opt, k + taken, at, None, best, copy=True)
                save()
                kept = [*tr.W, *tr.b]
            elif taken < n:
                kept = [p.copy() for p in params]
        k += taken
        return k, best, "max_steps" if k >= tr.scenario.max_steps else None

    @staticmethod
    def _hand_back(
        tr: Any,
        W: list[Array],
        b: list[Array],
        slots: dict[str, list[Array]],
        t_opt: int,
        k: int,
        pos: Any,
        stop: str | None,
        best: float,
        copy: bool,
    ) -> None:
        """Make the loop's state the trainer's, read-only (copies when the loop goes on)."""
        tr.W = _frozen_all(W, copy)
        tr.b = _frozen_all(b, copy)
        tr.opt_state = OptimizerState(t_opt, {name: _frozen_all(a, copy) for name, a in slots.items()})
        tr.step_count, tr.position, tr.stop_reason, tr.best_train_loss = k, pos, stop, best
        tr.last_record = None


def _two_layer_gd(
    W: list[Array],
    b: list[Array],
    grad_0: Callable[[Array, Array], Array],
    delta_of: Callable[[Array, Array, Array, Array | None], Array],
    lr: float,
) -> Callable[[int, Array, Array, list[Array], list[Array], Array | None], None]:
    """FastLoop.descend_of's descend for two layers, gd and biases updated (xor, iris, circle,
    spiral and the like), written out without its loop over the layers: the same operations in
    the same order, a few Python statements fewer on the hot path of small networks."""

    def descend(t: int, x: Array, tt: Array, zs: list[Array], acts: list[Array], e: Array | None) -> None:
        B = float(x.shape[0])
        z_0, z_1 = zs
        a_0, a_1 = acts
        delta = delta_of(a_1, tt, z_1, e)  # layer 2, then layer 1 from its delta and W[1] as it was
        grad_w = delta.T @ a_0
        grad_w /= B
        grad_b = _sum(delta, 0)
        grad_b /= B
        delta_0 = delta @ W[1]
        delta_0 *= grad_0(z_0, a_0)
        grad_w *= lr
        W[1] -= grad_w
        grad_b *= lr
        b[1] -= grad_b
        grad_w = delta_0.T @ x
        grad_w /= B
        grad_b = _sum(delta_0, 0)
        grad_b /= B
        grad_w *= lr
        W[0] -= grad_w
        grad_b *= lr
        b[0] -= grad_b

    return descend


class _Pending:
    """The losses and accuracies of the steps a run has taken since it last handed them over,
    in plain lists, each series as the Trainer appends to it (nan where a step between
    evaluations has none); ``flush`` extends the Trainer's series with them.

    A classifier's accuracies are counted at ``flush`` too, from the outputs kept of each
    evaluated step (one vectorised count for all of them, engine/accuracy.py's stack_scorer),
    unless target_accuracy is set: then the training-set accuracy is counted at each step,
    which may stop the run (``count_now``)."""

    def __init__(self, tr: Any) -> None:
        self.tr = tr
        self.start = len(tr.losses)  # the steps the trainer's series hold: the pending ones follow
        classifier, self.has_test = tr.classifier, tr.X_test is not None
        self.classifier = classifier is not None
        self.count_now = self.classifier and tr.target_accuracy is not None
        self.score = classifier.scorer(tr.T) if self.count_now else None
        # the classes of T and T_test worked out once a run
        self.count_train = classifier.stack_scorer(tr.T) if self.classifier else None
        self.count_test = classifier.stack_scorer(tr.T_test) if self.classifier and self.has_test else None
        self.losses: list[float] = []
        self.train_losses: list[float] = []
        self.test_losses: list[float] = []
        self.train_accuracies: list[float] = []  # counted at each step (count_now), or ...
        self.train_ys: list[Array | None] = []  # ... the outputs (N, n_L) to count at flush; None: nan
        self.test_ys: list[Array | None] = []

    def evaluated(
        self, loss: float, train_loss: float, train_y: Array, test_loss: float | None, test_y: Array | None
    ) -> float:
        """A step that computed the training- (and test-) set loss from outputs train_y (test_y);
        its training-set accuracy when counted now (nan otherwise)."""
        self.losses.append(loss)
        self.train_losses.append(train_loss)
        if self.has_test:
            self.test_losses.append(test_loss)  # type: ignore[arg-type]  # a float with a test set
            self.test_ys.append(test_y)
        if self.score is not None:
            accuracy = self.score(train_y)
            self.train_accuracies.append(accuracy)
            return accuracy
        if self.classifier:
            self.train_ys.append(train_y)
        return math.nan

    def skipped(self, loss: float) -> None:
        """A step between evaluations: its batch loss, nan for the rest."""
        self.losses.append(loss)
        self.train_losses.append(math.nan)
        if self.has_test:
            self.test_losses.append(math.nan)
            self.test_ys.append(None)
        if self.score is not None:
            self.train_accuracies.append(math.nan)
        elif self.classifier:
            self.train_ys.append(None)

    def flush(self) -> None:
        """Extend the trainer's series with the steps kept here, and forget them. Each series is
        first cut back to the steps it held before them: a flush that Ctrl+C cut short is made
        again, in whole, by the next."""
        tr = self.tr
        values = [(tr.losses, self.losses), (tr.train_losses, self.train_losses)]
        if self.has_test:
            values.append((tr.test_losses, self.test_losses))
        if self.count_train is not None:
            counted = self.train_accuracies if self.score else _count(self.count_train, self.train_ys)
            values.append((tr.train_accuracies, counted))
            if self.count_test is not None:
                values.append((tr.test_accuracies, _count(self.count_test, self.test_ys)))
        for series, kept in values:
            del series[self.start :]
            series.extend(kept)
        self.start += len(self.losses)
        for kept in (self.losses, self.train_losses, self.test_losses, self.train_accuracies):
            kept.clear()
        self.train_ys.clear()
        self.test_ys.clear()


def _count(count: Callable[[list[Array]], list[float]], ys: list[Array | None]) -> list[float]:
    """The accuracy of each outputs (N, n_L) in ys as ``count`` (a stack_scorer) counts them,
    nan for a None (a step between evaluations)."""
    outputs = [y for y in ys if y is not None]
    if not outputs:
        return [math.nan] * len(ys)
    if len(outputs) == len(ys):  # every step evaluated
        return count(outputs)
    scores = iter(count(outputs))
    return [math.nan if y is None else next(scores) for y in ys]


def _frozen_all(arrays: list[Array], copy: bool) -> tuple[Array, ...]:
    out = tuple(a.copy() for a in arrays) if copy else tuple(arrays)
    for a in out:
        a.flags.writeable = False
    return out


# -- the optimisers' rules, in place -------------------------------------------------------
# Each repeats, operation for operation, the rule of optimizers.py written beside it in a
# comment, on arrays it may overwrite: p (a weight or bias array, updated), g (its gradient,
# used as scratch), and the slots of layer l under "<slot>_<kind>" (kind "w" or "b").


def _gd(opt: GD, lr: float) -> Callable[..., None]:

    def update(p: Array, g: Array, slots: dict, kind: str, l: int, t: int) -> None:
        # p - lr g, as _descend computes it: np.multiply(g, lr), then p minus that
        g *= lr
        p -= g

    return update


def _momentum(opt: Momentum, lr: float) -> Callable[..., None]:
    mu = opt.momentum

    def update(p: Array, g: Array, slots: dict, kind: str, l: int, t: int) -> None:
        # v = mu v + g; p - lr v
        v = slots["velocity_" + kind][l]
        np.multiply(v, mu, out=v)
        np.add(v, g, out=v)
        np.multiply(v, lr, out=g)
        np.subtract(p, g, out=p)

    return update


def _adam(opt: Adam, lr: float) -> Callable[..., None]:
    b1, b2, eps = opt.beta1, opt.beta2, opt.epsilon

    def update(p: Array, g: Array, slots: dict, kind: str, l: int, t: int) -> None:
        # m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) (g g)
        m, v = slots["m_" + kind][l], slots["v_" + kind][l]
        np.multiply(m, b1, out=m)
        m += (1.0 - b1) * g
        np.multiply(v, b2, out=v)
        np.multiply(g, g, out=g)
        np.multiply(g, 1.0 - b2, out=g)
        v += g
        # p - lr m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
        step = m / (1.0 - b1**t)
        np.multiply(step, lr, out=step)
        np.divide(v, 1.0 - b2**t, out=g)
        np.sqrt(g, out=g)
        np.add(g, eps, out=g)
        np.divide(step, g, out=step)
        np.subtract(p, step, out=p)

    return update


_UPDATES: dict[type, Callable[[Any, float], Callable[..., None]]] = {
    GD: _gd,
    Momentum: _momentum,
    Adam: _adam,
}
