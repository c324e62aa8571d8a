"""Trainer: steps a scenario's network one weight update at a time.

    trainer = Trainer(scenario)
    record = trainer.step()        # one forward pass, one backward pass, one update
    trainer.undo()                 # back to exactly the state before that step
    trainer.run(1000, record=False)  # the fast path: no StepRecords are built

A run stops by itself when it reaches max_steps, target_loss or target_accuracy (a
classifier's, engine/accuracy.py), or when it diverges: a
number of the step is not finite, or its training-set loss is over DIVERGENCE_FACTOR times
max(initial, 1), where initial is the training-set loss before the first step.

The state is (W, b, optimiser state, step, position in the sample order, stop reason, and
the era: the data and learning rate that edits change). Parameters and optimiser state are
never changed in place, so a saved state is a handful of references and undo is exact:
stepping again after an undo gives an identical record.

Edits (engine/edits.py) change the state between two steps: ``edit(what, new, layer=, index=)``
makes one, ``apply_edit(edit)`` makes a recorded one again, ``edits`` holds those in effect.
``undo()`` takes back the last thing done, a step or an edit; replaying from the start (the
history spent) makes the kept edits again at their steps; ``reset()`` goes back to step 0 of
the scenario as written, dropping every edit (or to the step and edits of start_from()).
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Generic, NamedTuple, TypeVar

import numpy as np

from .accuracy import Classifier, classifier_of
from .activations import get_activation
from .batching import BatchSchedule, Position
from .diagnostics import step_warnings
from .edits import (
    PARAMETERS,
    RESIZES,
    Edit,
    Era,
    Value,
    check_new,
    current,
    edited_era,
    edited_parameters,
    new_epoch,
    same,
    timeline_position,
)
from .fastpath import FastLoop
from .loss_series import LossSeries
from .losses import get_loss
from .network import Network, all_finite, initial_parameters, weight_gradient
from .optimizers import GD, OptimizerState, optimizer_for
from .record import LayerRecord, LazyStepRecord, LossBlowUp, StepRecord, find_nonfinite
from .regularization import Penalty
from .schedule import schedule_for
from .spec import RunSpec
from .split import split_gradients

Array = np.ndarray
_sum = np.add.reduce  # ndarray.sum without its Python wrapper: the same bits, less overhead

HISTORY_STEPS = 10_000  # undo steps kept in memory; further back, undo replays from the start
HISTORY_BYTES = 256 * 2**20  # ... and never more parameter memory than this
# A state bigger than this (784-256-10: 1.6 MB) is saved every SPARSE_EVERY steps only: a saved
# W is memory the next ones cannot reuse, so each save makes the heap grow into fresh pages
# (1.6 MB: some 400 page faults, 1.1 ms of a 1.5 ms step on this machine). Every step's weights
# cost a third of a recorded blobs_784 step, every 8th's 40 page faults a step, every 16th's 25;
# every 32nd (as the fast path's checkpoints) brought a recorded step from 1.04x to 1.00x the lean
# loop; undo steps on from the nearest saved state, at most 31 steps (69 ms of cpu at worst).
SPARSE_STATE_BYTES = 2**20
SPARSE_EVERY = 32
# Under plain gradient descent, a layer's grad_w bigger than this (784-256-10's grad_w[1]: 1.6 MB)
# is spent by the update, which writes the new W into it (the same bits as W - lr g), and its
# record makes it again from the delta and a[l-1] it keeps when first read (network.py's
# weight_gradient: the same call, the same bits). Keeping it made a step write two fresh big
# arrays, the gradient and the new W, where the loop updates W in place: writing lr g into
# memory in no cache took the update from 137 to 207 us of a 1.6 ms step. A small layer keeps
# its gradient: it is cheap to keep, and a record read at every step (the app, a trace) would
# make it again each time.
SPENT_GRADIENT_BYTES = 2**20
# A run diverges when its training-set loss goes over this many times max(initial loss, 1): eight
# orders of magnitude, where a healthy run never goes. The bundled scenarios never rise above
# their initial loss (at most 0.93 x max(initial, 1) over their max_steps), their largest spike
# is 21 x the best loss so far (spiral), and loss_rising (engine/diagnostics.py) already warns
# at 10 x the best. A run that starts below 1 is measured against 1, so that a tiny initial loss
# (a near fit) climbing back to an ordinary one is not a divergence. Slow divergence gets here
# long before a float overflows: linear_neuron_full at learning_rate 1 grows about 6% a step and
# crosses it at step 310, where overflow would take thousands more.
DIVERGENCE_FACTOR = 1e8
DATA_EDITS = ("input", "add_point", "remove_point")  # the edits that change the training set


class TrainingStopped(Exception):
    """step() was called after the run stopped by itself (see Trainer.stop_reason)."""


class _State(NamedTuple):  # a NamedTuple: built on every step, and cheaper than a dataclass
    W: tuple[Array, ...]
    b: tuple[Array, ...]
    opt: OptimizerState
    step: int
    pos: Position
    stop_reason: str | None
    best: float  # the lowest training loss so far (for the loss_rising diagnostic)
    era: Era  # the data, its schedule and the base learning rate: what edits change besides W, b


class _Saved(NamedTuple):
    """What undoing an edit puts back: the state before it, and the losses it recomputed."""

    state: _State
    train_loss: float  # the training-set loss after the step (the initial one at step 0)
    test_loss: float | None


# what a step's evaluation left: the training set's z per layer (N, n_l) ([] when the step did
# not evaluate), the training- and test-set losses, and a classifier's accuracies (or None)
_Evaluation = tuple[list[Array], float, float | None, float | None, float | None]


S = TypeVar("S", bound=RunSpec)


class Trainer(Generic[S]):
    """One run of a network: its state, a step forward (``step``, ``run``) and back (``undo``).

    Built from anything with a scenario's fields (engine/spec.py's RunSpec; scenario/reader.py's
    Scenario is one). Each ``step`` returns a new, frozen StepRecord of every number of that step;
    ``losses``, ``train_losses`` and ``test_losses`` hold one value a step; ``done`` and
    ``stop_reason`` say whether and why the run stopped by itself. ``fork`` copies the run,
    ``start_from`` and ``set_state`` place it at a recorded step (a replay's continuation).
    """

    def __init__(self, scenario: S, history: int = HISTORY_STEPS) -> None:
        s = scenario
        self.scenario: S = s
        self.network = Network(tuple(get_activation(a) for a in s.activations), get_loss(s.loss), s.bias)
        self.X = _frozen(np.asarray(s.inputs, dtype=float))  # (N, n_0)
        self.T = _frozen(np.asarray(s.targets, dtype=float))  # (N, n_L)
        # [data] features: X holds the features (engine/features.py) of the raw inputs X_raw
        # (N, n_raw), which the decision boundary is drawn over; without them X_raw is X
        self.features = getattr(s, "features", None)
        raw = getattr(s, "raw_inputs", None)
        self.X_raw = self.X if self.features is None or raw is None else _frozen(np.asarray(raw, dtype=float))
        # the held-out test set, (N_test, n_0) and (N_test, n_L), or None: never trained on
        self.X_test = None if s.test_inputs is None else _frozen(np.asarray(s.test_inputs, dtype=float))
        self.T_test = None if s.test_targets is None else _frozen(np.asarray(s.test_targets, dtype=float))
        self.schedule = BatchSchedule(len(self.X), s.batch, s.shuffle, s.seed)
        # the rate the optimiser steps with, before any schedule: the scenario's, or a
        # learning_rate edit's (engine/edits.py)
        self.base_learning_rate: float = float(s.learning_rate)
        # the full batch in file order: each step's forward pass is the training-set forward
        # pass that the previous step already computed for its train_loss, and is reused
        self._full_in_order = self.schedule.size == len(self.X) and not s.shuffle
        self.proportional = s.error_split == "proportional"  # hidden layers learn from the split
        # whether the output layer learns through f'(z[L]): not under bce, whose delta is y - t
        self._output_slope = s.loss != "bce" or self.proportional
        # the training- and test-set losses after every K-th step only (and the last one of a
        # run that reaches max_steps); nan in train_losses and test_losses for the others
        self.evaluate_every = int(getattr(s, "evaluate_every", 1))
        # a classifier's outputs read as classes (engine/accuracy.py), or None: then no accuracy
        self.classifier: Classifier | None = classifier_of(s.activations[-1], s.loss, self.T, self.T_test)
        self.target_accuracy: float | None = getattr(s, "target_accuracy", None)
        self._scorers: dict[int, tuple[Array, Callable[[Array], float]]] = {}  # see _accuracy
        self.penalty = Penalty(s.l1, s.l2)  # added to both losses; its gradient to grad_w
        self._penalised = bool(self.penalty)
        self.optimizer = optimizer_for(s)
        self._era = self._base_era = Era(self.X, self.T, self.schedule, self.base_learning_rate)
        self._origin_edits: tuple[Edit, ...] = ()  # the edits start_from() began with
        # the rate of step k is lr_schedule.rate(base_learning_rate, k - 1) (engine/schedule.py):
        # the base rate is the scenario's learning_rate, or a learning_rate edit's
        self.lr_schedule = schedule_for(s)
        self.initial_W, self.initial_b = initial_parameters(s.layers, s.bias, s.init)
        self._zero_init = tuple(not w.any() for w in self.initial_W)  # layers that start all 0
        self.initial_opt = self.optimizer.init(self.initial_W, self.initial_b)
        self._fast = FastLoop.of(self)  # run(record=False) in place (engine/fastpath.py), or None
        # a saved state holds W, b and the optimiser's arrays (velocity; or m and v)
        state_bytes = sum(w.nbytes + b.nbytes for w, b in zip(self.initial_W, self.initial_b, strict=True))
        state_bytes += sum(a.nbytes for arrays in self.initial_opt.arrays.values() for a in arrays)
        self._state_bytes = state_bytes
        self._save_every = 1 if state_bytes <= SPARSE_STATE_BYTES else SPARSE_EVERY
        self._spend = self._spent_gradients()
        self.history_limit = self._history_limit(history)
        self._history: deque[_State] = deque(maxlen=self.history_limit)
        # where reset() and undo() go back to: step 0, or the recorded step of start_from()
        self._origin = _State(
            self.initial_W, self.initial_b, self.initial_opt, 0, Position(), None, math.inf, self._era
        )
        self._origin_record: StepRecord | None = None
        self._origin_losses: tuple[list[float], list[float], list[float]] = ([], [], [])
        self._origin_accuracies: tuple[list[float], list[float]] = ([], [])
        self.reset()

    def _spent_gradients(self) -> tuple[bool, ...]:
        """Per layer, whether the update writes the new W into grad_w (see SPENT_GRADIENT_BYTES):
        under plain gradient descent of the gradient itself (no penalty, no proportional split,
        whose steps are other arrays); () when no layer does."""
        if type(self.optimizer) is not GD or self._penalised or self.proportional:
            return ()
        spend = tuple(w.nbytes > SPENT_GRADIENT_BYTES for w in self.initial_W)
        return spend if any(spend) else ()

    def _history_limit(self, history: int) -> int:
        """Undo states to keep: ``history``, but never more than HISTORY_BYTES of parameters."""
        return max(1, min(history, HISTORY_BYTES // max(self._state_bytes, 1)))

    def fork(self, history: int = HISTORY_STEPS) -> Trainer[S]:
        """An independent trainer in this one's state: the same weights, optimiser state, step,
        position in the sample order, stop reason, losses and undo history (up to ``history``
        states from now on); stepping, undoing or resetting one never moves the other. The
        parameter arrays are shared, as they are never changed in place."""
        other = copy.copy(self)
        other.losses = self.losses.copy()
        other.train_losses = self.train_losses.copy()
        other.test_losses = self.test_losses.copy()
        other.train_accuracies = self.train_accuracies.copy()
        other.test_accuracies = self.test_accuracies.copy()
        other.history_limit = other._history_limit(history)
        other._history = deque(self._history, maxlen=other.history_limit)
        return other

    # -- state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start: the initial weights, step 0, the first sample of epoch 1, the
        scenario's data and learning rate, no edits (or the step and edits a start_from() began at)."""
        origin = self._origin
        self._set_era(origin.era)
        self.edits: tuple[Edit, ...] = self._origin_edits  # in effect, in the order made
        self._edit_saves: tuple[_Saved, ...] = ()  # the state before each edit made since
        self.W, self.b, self.opt_state = origin.W, origin.b, origin.opt
        self.step_count = origin.step
        self.position = origin.pos
        self.stop_reason: str | None = origin.stop_reason
        self.last_record: StepRecord | None = self._origin_record
        # bounded whatever the run's length: the last 32,768 exactly, older steps as the lowest
        # and highest loss of each of at most 4,096 groups (engine/loss_series.py)
        self.losses = LossSeries(self._origin_losses[0])  # batch loss of each step, before its update
        self.train_losses = LossSeries(self._origin_losses[1])  # training-set loss after each step
        self.test_losses = LossSeries(self._origin_losses[2])  # test-set loss after each step (or none)
        # a classifier's training- and test-set accuracy after each step (empty when it is not one,
        # or has no test set); nan, as the losses, on a step that did not evaluate; bounded alike
        self.train_accuracies = LossSeries(self._origin_accuracies[0])
        self.test_accuracies = LossSeries(self._origin_accuracies[1])
        self._history.clear()
        self._train_cache: tuple[tuple[Array, ...], tuple] | None = None
        self.best_train_loss = origin.best
        if origin.step == 0:
            with np.errstate(all="ignore"):
                self.initial_train_loss = self._train_forward()[2] + self._penalty_of(self.W)
                self.initial_test_loss = self._test_loss()  # None without a test set
                # a classifier's accuracies before the first step (None when not one / no test set)
                self.initial_train_accuracy = self._accuracy(self._train_forward()[1][-1], self.T)
                test = self._test_pass()
                self.initial_test_accuracy = None if test is None else self._accuracy(test[1], self.T_test)
            initial = self.initial_train_loss
            self.best_train_loss = initial if math.isfinite(initial) else math.inf
            # the training-set loss above which a step diverges; the same for the whole run
            # (undo, reset and start_from() keep it), so no state needs to remember it
            self.divergence_limit = divergence_limit(initial)

    def start_from(
        self,
        record: StepRecord,
        losses: Sequence[float] = (),
        train_losses: Sequence[float] = (),
        test_losses: Sequence[float] = (),
        train_accuracies: Sequence[float] = (),
        test_accuracies: Sequence[float] = (),
        edits: Sequence[Edit] = (),
    ) -> None:
        """Carry on from a recorded step as if this trainer had just taken it: the weights and
        biases the step left, its optimiser state (velocity; m and v), its step number, the
        position in the sample order after it (the schedule says where k steps leave it) and
        its stop reason. Stepping on gives the
        records the original run made after it, bit for bit.

        ``losses``, ``train_losses``, ``test_losses``: the batch, training-set and test-set
        losses of steps 1..k, for the loss chart (missing ones are nan, the record's own are
        its); ``train_accuracies``, ``test_accuracies`` likewise for a classifier's accuracies.
        reset() and undo() go back no further than this step; ``start_step`` says which.

        ``edits``: the run's edits (those after step k are left out): their data and learning
        rate are in effect, and those made after step k itself change the record's weights;
        they stay in ``edits``, and neither undo() nor reset() takes them back."""
        k = record.step
        W = tuple(lr.w for lr in record.layers)
        b = tuple(lr.b for lr in record.layers)
        edits = tuple(e for e in edits if e.step <= k)
        era = self._base_era
        for e in edits:
            if e.what in PARAMETERS:
                if e.step == k:
                    W, b = edited_parameters(e, W, b)
            else:
                era = edited_era(e, era, self.scenario.batch, self.scenario.shuffle, self.scenario.seed)
        pos = timeline_position(k, len(self._base_era.X), self.scenario.batch, edits)
        test_loss = record.test_loss
        self._origin_losses = (
            _losses(losses, k, record.loss),
            _losses(train_losses, k, record.train_loss),
            _losses(test_losses, k, test_loss) if test_loss is not None else [],
        )
        train_acc, test_acc = record.train_accuracy, record.test_accuracy
        self._origin_accuracies = (
            _losses(train_accuracies, k, train_acc) if train_acc is not None else [],
            _losses(test_accuracies, k, test_acc) if test_acc is not None else [],
        )
        # the lowest training loss up to step k, as stepping there would have left it
        best = self.initial_train_loss if math.isfinite(self.initial_train_loss) else math.inf
        for train_loss in self._origin_losses[1]:
            if train_loss < best:
                best = train_loss
        opt = self._opt_state_of(record)
        self._origin = _State(W, b, opt, k, pos, record.stop_reason, best, era)
        self._origin_record = record
        self._origin_edits = edits
        self.reset()
        if edits and edits[-1].step == k:  # the losses after them, for the chart
            self._refresh_losses()
            self._origin_losses = (list(self.losses), list(self.train_losses), list(self.test_losses))

    def _opt_state_of(self, record: StepRecord) -> OptimizerState:
        """The optimiser's state after a recorded step: its arrays, per layer in the record; one
        update a step so far. ValueError when the record lacks an array the optimiser keeps."""
        names = list(self.initial_opt.arrays)
        missing = [name for name in names if any(name not in lr.state for lr in record.layers)]
        if missing:
            raise ValueError(f"step {record.step} has no {', '.join(missing)}: the {self.optimizer} state")
        arrays = {name: tuple(lr.state[name] for lr in record.layers) for name in names}
        return OptimizerState(record.step, arrays)

    def set_state(
        self, W: Sequence[Array], b: Sequence[Array], opt_arrays: Mapping[str, Sequence[Array]]
    ) -> None:
        """Go on from these weights W[l] (n_l, n_{l-1}), biases b[l] (n_l,) or (0,) and optimiser
        arrays (each name, e.g. "velocity_w", one array per layer) in place of the current ones,
        at the same step: as if the last step had left them. The verifier (trace/verify.py) recomputes
        each step of a trace from the state its previous step recorded this way. The step,
        the position in the sample order, the losses and the stop reason stay as they are;
        the undo history is dropped (it led to other weights)."""
        self.W = tuple(_frozen(np.asarray(w, dtype=float)) for w in W)
        self.b = tuple(_frozen(np.asarray(v, dtype=float)) for v in b)
        arrays = {
            name: tuple(_frozen(np.asarray(a, dtype=float)) for a in opt_arrays[name])
            for name in self.opt_state.arrays
        }
        self.opt_state = OptimizerState(self.step_count, arrays)
        self._history.clear()
        self._train_cache = None
        self.last_record = None

    @property
    def final_train_loss(self) -> float:
        """The training-set loss of the current weights: the initial one at step 0, the last
        step's own when it was evaluated, otherwise computed now ([training] evaluate_every:
        a run ends between evaluations; nothing is recorded)."""
        k = self.step_count
        if k == 0 or not self.train_losses:
            return self.initial_train_loss
        last = self.train_losses[-1]
        if self.evaluate_every == 1 or k % self.evaluate_every == 0 or not math.isnan(last):
            return last
        with np.errstate(all="ignore"):
            return self._train_forward()[2] + self._penalty_of(self.W)

    def rate_of(self, step: int) -> float:
        """The learning rate step ``step`` (1-based) updates with: the schedule's, from the base rate."""
        return self.lr_schedule.rate(self.base_learning_rate, step - 1)

    @property
    def final_accuracies(self) -> tuple[float | None, float | None]:
        """A classifier's training- and test-set accuracy of the current weights, as
        final_train_loss: the last step's own when it was evaluated, otherwise computed now;
        (None, None) when the run is not a classifier, None for the test set without one."""
        if self.classifier is None:
            return None, None
        k = self.step_count
        if k == 0 or not self.train_accuracies:
            return self.initial_train_accuracy, self.initial_test_accuracy
        train = self.train_accuracies[-1]
        if not math.isnan(train):
            return train, self.test_accuracies[-1] if self.test_accuracies else None
        with np.errstate(all="ignore"):
            test = self._test_pass()
            return (
                self._accuracy(self._train_forward()[1][-1], self.T),
                None if test is None else self._accuracy(test[1], self.T_test),
            )

    @property
    def start_step(self) -> int:
        """The step reset() and undo() go back to: 0, or the step given to start_from()."""
        return self._origin.step

    @property
    def done(self) -> bool:
        return self.stop_reason is not None

    @property
    def epoch(self) -> int:
        """The 1-based epoch of the last step taken (1 before any step)."""
        return _epoch_of_last_step(self.position) if self.step_count else 1

    @property
    def undo_replays(self) -> bool:
        """Whether undo() has to step on from an older saved state (the history is spent, or a
        fast run saved only every few steps), which costs as much as the steps in between;
        otherwise it is as cheap as one step."""
        if self._edit_saves and self.edits[-1].step == self.step_count:
            return False  # it takes back an edit made after the last step
        k, history = self.step_count, self._history
        if k - self._origin.step <= 1:
            return False
        if not self._edit_saves:  # undo() goes straight back to the state of step k - 2
            newest = next((saved.step for saved in reversed(history) if saved.step <= k - 2), None)
            return newest != k - 2 and k - 2 != self._origin.step
        # undo() goes back to step k - 1 and makes its record again from the state of step k - 2
        if not history or history[-1].step != k - 1:
            return True
        return k - 2 != self._origin.step and (len(history) < 2 or history[-2].step != k - 2)

    def _restore(self, state: _State) -> None:
        if state.era is not self._era:
            self._set_era(state.era)
        self.W, self.b, self.opt_state = state.W, state.b, state.opt
        self.step_count, self.position, self.stop_reason = state.step, state.pos, state.stop_reason
        self.best_train_loss = state.best
        del self.losses[state.step :]
        del self.train_losses[state.step :]
        del self.test_losses[state.step :]
        del self.train_accuracies[state.step :]
        del self.test_accuracies[state.step :]

    # -- edits ---------------------------------------------------------------------------

    def edit(
        self, what: str, new: Value = None, *, layer: int | None = None, index: Sequence[int] = ()
    ) -> Edit:
        """Change one number (or training point) of the state from the next step on, and
        return the Edit made (engine/edits.py says each kind). ``old`` is read from the state;
        an added point goes last (its index is N). ValueError for a place the run does not
        have, a value that is not finite (a learning rate <= 0), or a run that has stopped."""
        place = (len(self.X),) if what == "add_point" else tuple(int(i) for i in index)
        old = current(what, layer, place, self.W, self.b, self._era)
        edit = Edit(self.step_count, what, layer, place, old, check_new(what, new, self._era))
        self.apply_edit(edit)
        return edit

    def value_at(self, what: str, layer: int | None = None, index: Sequence[int] = ()) -> Value:
        """What an edit of ``what`` at (layer, index) would change, as the state holds it now
        (a Point for remove_point; None for add_point); ValueError for a place the run lacks."""
        return current(what, layer, tuple(int(i) for i in index), self.W, self.b, self._era)

    def apply_edit(self, edit: Edit) -> None:
        """Make ``edit`` (one recorded, or one ``edit()`` made): it must be for the step the run
        is at, and its ``old`` the value the state holds, to the bit (ValueError otherwise,
        saying which). The training-set loss is recomputed with it (the last of
        ``train_losses``, or ``initial_train_loss`` at step 0), and the test-set loss.
        A run on [data] features takes no data edit: its inputs are made from raw points."""
        if self.features is not None and edit.what in DATA_EDITS:
            raise ValueError(
                f"{edit.what}: the data of a run with [data] features cannot be edited (its inputs are "
                "features of the raw points)"
            )
        if self.done:
            raise ValueError(f"the run has stopped ({self.stop_reason}): step back to edit it")
        if edit.step != self.step_count:
            raise ValueError(
                f"{edit.place()}: the edit is for step {edit.step}, the run is at {self.step_count}"
            )
        now = current(edit.what, edit.layer, edit.index, self.W, self.b, self._era)
        if not same(edit.old, now):
            raise ValueError(f"{edit.place()}: the edit says it was {edit.old}, the run holds {now}")
        check_new(edit.what, edit.new, self._era)
        saved = self._state_now()
        train, test = self._last_losses()
        self._edit_saves += (_Saved(saved, train, test),)
        if edit.what in PARAMETERS:
            self.W, self.b = edited_parameters(edit, self.W, self.b)
            self._train_cache = None  # keyed by W, and b may have changed alone
        else:
            s = self.scenario
            self._set_era(edited_era(edit, self._era, s.batch, s.shuffle, s.seed))
            if edit.what in RESIZES:
                self.position = new_epoch(self.position)
        self.edits += (edit,)
        self._refresh_losses()

    def _last_losses(self) -> tuple[float, float | None]:
        """The training- and test-set losses of the state now: the last step's, or the initial ones."""
        if self.train_losses:
            return self.train_losses[-1], (self.test_losses[-1] if self.test_losses else None)
        return self.initial_train_loss, self.initial_test_loss

    def _refresh_losses(self) -> None:
        """The training- and test-set losses recomputed for the edited state (not on a step
        between evaluations of [training] evaluate_every, which has none)."""
        if self.train_losses and math.isnan(self.train_losses[-1]):
            return
        with np.errstate(all="ignore"):
            train = self._train_forward()[2] + self._penalty_of(self.W)
            test = self._test_loss()
        if not self.train_losses:
            self.initial_train_loss, self.initial_test_loss = train, test
            return
        self.train_losses[-1] = train
        if test is not None and self.test_losses:
            self.test_losses[-1] = test

    def _unedit(self) -> None:
        """Take back the last edit made since the start (or start_from()): the state before it."""
        saved = self._edit_saves[-1]
        self._edit_saves, self.edits = self._edit_saves[:-1], self.edits[:-1]
        self._restore(saved.state)
        self._train_cache = None
        if not self.train_losses:
            self.initial_train_loss, self.initial_test_loss = saved.train_loss, saved.test_loss
            return
        self.train_losses[-1] = saved.train_loss
        if saved.test_loss is not None and self.test_losses:
            self.test_losses[-1] = saved.test_loss

    def _edits_after_last_step(self) -> tuple[Edit, ...]:
        """The edits made since the start that follow the last step taken (undo takes them back first)."""
        made = self.edits[len(self.edits) - len(self._edit_saves) :]
        n = 0
        while n < len(made) and made[len(made) - 1 - n].step == self.step_count:
            n += 1
        return made[len(made) - n :]

    def _replay_to(self, step: int) -> None:
        """Run again from the start to ``step``, making the edits in effect at their steps (none
        after ``step`` is in effect when this is called)."""
        edits = self.edits[len(self._origin_edits) :]
        self.reset()
        for e in edits:
            self.run(e.step - self.step_count, record=False)
            self.apply_edit(e)
        self.run(step - self.step_count, record=False)

    def _set_era(self, era: Era) -> None:
        """Take the data, its schedule and the base learning rate of ``era``."""
        self._era = era
        self.X, self.T, self.schedule = era.X, era.T, era.schedule
        self._full_in_order = self.schedule.size == len(self.X) and not self.scenario.shuffle
        self.base_learning_rate = era.learning_rate
        self._train_cache = None

    # -- stepping ------------------------------------------------------------------------

    def step(self) -> StepRecord:
        """One forward pass, one backward pass and one update, on the next batch."""
        if self.done:
            raise TrainingStopped(f"the run has stopped: {self.stop_reason}")
        record = self._quiet_advance(True)
        assert record is not None
        return record

    def run(self, steps: int, record: bool = True) -> list[StepRecord]:
        """Up to ``steps`` more steps (fewer when the run stops by itself).

        Returns their records; with ``record=False`` it builds none and returns [].
        """
        records: list[StepRecord] = []
        advance = self._advance
        with np.errstate(all="ignore"):
            if not record and self._fast is not None and steps > 3 and self.stop_reason is None:
                # all but the last two steps in place; those save the states before them, so
                # that an undo and its record take no replay (engine/fastpath.py)
                self._fast.run(self, steps - 2, self._save_state)
                self._train_cache, steps = None, 2
            for _ in range(steps):
                if self.stop_reason is not None:
                    break
                r = advance(record)
                if r is not None:
                    records.append(r)
        return records

    def undo(self) -> StepRecord | None:
        """Return to the state before the last step, or before the last edit when it was made
        after the last step; the record of the step now current."""
        if self._edit_saves and self.edits[-1].step == self.step_count:
            self._unedit()
            return self.current_record()
        if self.step_count == self._origin.step:
            return self.last_record
        if not self._edit_saves and self.step_count - 2 >= self._origin.step:
            return self._redo_previous()
        self._back_to(self.step_count - 1)
        self.last_record = self._recompute_last()
        return self.last_record

    def _redo_previous(self) -> StepRecord | None:
        """undo() with no edit made since the start: straight back to the state before the
        previous step (k - 2), and that step taken again, which leaves its state (k - 1) and
        makes its record. Going back to k - 1 first, then to k - 2 for the record, stepped on
        twice from the saved state when it was older (SPARSE_EVERY). The saved states after
        k - 2 are dropped, as stepping back to k - 1 and then to k - 2 dropped them."""
        target = self.step_count - 2
        history = self._history
        while history and history[-1].step > target:
            history.pop()
        self._back_to(target)
        with np.errstate(all="ignore"):
            self.last_record = self._advance(record=True)
        return self.last_record

    def _back_to(self, target: int) -> None:
        """Go back to step ``target`` (before the current one): to the newest saved state, at
        or before it (a fast run saves one every few steps; the origin when none is left),
        then step on from there to ``target``, as the run went the first time."""
        if not self._history:
            self._replay_to(target)
            return
        self._restore(self._history.pop())
        self._train_cache = None
        if self.step_count < target:
            self._step_on_to(target)

    def _step_on_to(self, target: int) -> None:
        """Step on from the state restored to step ``target``, making again the edits made at
        the steps in between (those after the restored step: every edit in effect is at or
        before ``target`` when undo() comes here)."""
        n = 0
        while n < len(self._edit_saves) and self.edits[len(self.edits) - 1 - n].step > self.step_count:
            n += 1
        pending = self.edits[len(self.edits) - n :]
        if n:  # made again below, each at its step, which puts it back on the lists
            self.edits, self._edit_saves = self.edits[:-n], self._edit_saves[:-n]
        for e in pending:
            self.run(e.step - self.step_count, record=False)
            self.apply_edit(e)
        self.run(target - self.step_count, record=False)

    def _save_state(self) -> None:
        """Put the current state on the undo history."""
        self._history.append(self._state_now())

    def _state_now(self) -> _State:
        """The current state, as the undo history and the edits keep it."""
        return _State(
            self.W,
            self.b,
            self.opt_state,
            self.step_count,
            self.position,
            self.stop_reason,
            self.best_train_loss,
            self._era,
        )

    def current_record(self) -> StepRecord | None:
        """The record of the last step taken (None at step 0), computed again when that step
        was taken without one (``run(record=False)``): as cheap as one step while the history
        holds the state before it."""
        if self.last_record is not None and self.last_record.step == self.step_count:
            return self.last_record
        self.last_record = self._recompute_last()
        return self.last_record

    def _recompute_last(self) -> StepRecord | None:
        """The record of the step that led to the current state, computed again.

        Stepping is deterministic, so redoing the last step from the saved state before it
        rebuilds exactly the current state along with the record.
        """
        if self.step_count == self._origin.step:
            return self._origin_record  # None at step 0
        tail = self._edits_after_last_step()
        if tail:  # made after the step: taken back, the step redone, then made again
            for _ in tail:
                self._unedit()
        self._back_to(self.step_count - 1)
        with np.errstate(all="ignore"):
            record = self._advance(record=True)
        for e in tail:
            self.apply_edit(e)
        self.last_record = record
        return record

    def _train_forward(self) -> tuple[list[Array], list[Array], float, Array]:
        """z, a, loss and per-sample losses over the whole training set for the current weights."""
        cache = self._train_cache
        if cache is not None and cache[0] is self.W:
            return cache[1]
        zs, acts = self.network.forward(self.W, self.b, self.X)
        sample_losses = self.network.sample_losses(acts[-1], self.T, zs[-1])
        result = (zs, acts, _mean(sample_losses), sample_losses)
        if self._full_in_order:  # kept for the next step's batch, which is the training set
            self._train_cache = (self.W, result)
        return result

    def _test_loss(self) -> float | None:
        """The loss over the test set for the current weights; None without a test set."""
        test = self._test_pass()
        return None if test is None else test[0]

    def _test_pass(self) -> tuple[float, Array] | None:
        """The loss over the test set for the current weights and the outputs y (N_test, n_L)
        it came from; None without a test set."""
        if self.X_test is None or self.T_test is None:
            return None
        zs, acts = self.network.forward(self.W, self.b, self.X_test)
        loss = _mean(self.network.sample_losses(acts[-1], self.T_test, zs[-1])) + self._penalty_of(self.W)
        return loss, acts[-1]

    def _accuracy(self, y: Array, T: Array | None) -> float | None:
        """A classifier's accuracy of outputs y (N, n_L) against targets T (N, n_L); None when
        the run is not a classifier (or there is no T)."""
        if self.classifier is None or T is None:
            return None
        return self._score(self.classifier, y, T)

    def score(self, y: Array, T: Array) -> float:
        """A classifier's accuracy of outputs y (P, n_L) against targets T (P, n_L): what each
        evaluated step records (engine/fastpath.py counts with it too)."""
        assert self.classifier is not None
        return self._score(self.classifier, y, T)

    def _score(self, classifier: Classifier, y: Array, T: Array) -> float:
        """The accuracy of outputs y against targets T, the classes of T worked out once for
        each array (classifier.scorer): the hot path of every evaluated step."""
        kept = self._scorers.get(id(T))
        if kept is None or kept[0] is not T:  # a new array: T keeps its id while it is kept here
            if len(self._scorers) >= 4:  # data replaced (an edit): the old sets' scorers go
                self._scorers.clear()
            kept = self._scorers[id(T)] = (T, classifier.scorer(T))
        return kept[1](y)

    def _penalty_of(self, W: tuple[Array, ...]) -> float:
        """The l1/l2 penalty of weights W, 0.0 without regularisation."""
        return self.penalty(W) if self._penalised else 0.0

    def _add_penalty(
        self, W: tuple[Array, ...], grad_w: list[Array], step_w: list[Array]
    ) -> tuple[float, list[Array], list[Array]]:
        """P(W), and dP/dW added to the gradient and to the step the update takes (the same
        list unless the proportional split chose the step)."""
        dP = self.penalty.grad(W)
        new_grad_w = [g + d for g, d in zip(grad_w, dP, strict=True)]
        new_step_w = new_grad_w if step_w is grad_w else [g + d for g, d in zip(step_w, dP, strict=True)]
        return self.penalty(W), new_grad_w, new_step_w

    def _advance(self, record: bool) -> StepRecord | None:
        """One step, in the order the maths takes it: the batch and its forward pass, the
        backward pass, what the update descends, the update, the losses after it, whether the
        run stops, and (``record``) the StepRecord of it all."""
        W, b = self.W, self.b
        indices, next_pos = self.schedule.next_batch(self.position)
        x, t, zs, acts, sample_losses, loss = self._batch_forward(indices)
        deltas, grad_w, grad_b = self.network.backward(W, x, t, zs, acts)
        errors, step_w, step_b = None, grad_w, grad_b  # what the update descends: the gradient, or ...
        if self.proportional:  # ... the step the split errors ask for (engine/split.py)
            errors, step_w, step_b = split_gradients(
                self.network.activations, self.network.bias, W, x, t, zs, acts
            )
        penalty = 0.0
        if self._penalised:  # the loss and what the update descends include the weights' penalty
            penalty, grad_w, step_w = self._add_penalty(W, grad_w, step_w)
            loss += penalty
        rate = self.lr_schedule.rate(self.base_learning_rate, self.step_count)  # rate_of(step_count + 1)
        best = self._update(step_w, step_b, next_pos, rate)
        kept_w: list[Array | None] = grad_w  # type: ignore[assignment]
        if self._spend:  # those buffers hold the new W now: the record makes grad_w again
            kept_w = [None if spent else g for g, spent in zip(grad_w, self._spend, strict=True)]
        if self._evaluates():
            evaluation = self._evaluate(loss)
            self._check_stop(loss, evaluation[1], evaluation[0])
        else:
            evaluation = self._skip_evaluation(loss)
            self._check_stop_unevaluated(loss, zs)
        if not record:
            self.last_record = None
            return None
        passes = (x, t, zs, acts, sample_losses, deltas, kept_w, grad_b, errors)
        rec = self._record(indices, next_pos, W, b, passes, loss, penalty, best, evaluation, rate)
        self.last_record = rec
        return rec

    @np.errstate(all="ignore")  # as a decorator, errstate costs half of what a `with` block does
    def _quiet_advance(self, record: bool) -> StepRecord | None:
        """_advance with numpy's floating-point warnings off (step() pays for it every time)."""
        return self._advance(record)

    def _batch_forward(self, indices: Array) -> tuple[Array, Array, list[Array], list[Array], Array, float]:
        """The batch's inputs x (B, n_0) and targets t (B, n_L), z and a of every layer, the
        per-sample losses (B,) and their mean. The full batch in file order reuses the
        training-set forward pass the previous step computed for its train_loss."""
        if self._full_in_order:
            zs, acts, loss, sample_losses = self._train_forward()
            return self.X, self.T, zs, acts, sample_losses, loss
        x, t = self.X[indices], self.T[indices]
        zs, acts = self.network.forward(self.W, self.b, x)
        sample_losses = self.network.sample_losses(acts[-1], t, zs[-1])
        return x, t, zs, acts, sample_losses, _mean(sample_losses)

    def _update(self, step_w: list[Array], step_b: list[Array], next_pos: Position, rate: float) -> float:
        """The optimiser's update at the learning rate ``rate``: the state before it goes on the
        undo history, the new (read-only) parameters become current. Returns the best training
        loss before this step."""
        W, b, opt = self.W, self.b, self.opt_state
        new_W, new_b, new_opt = self.optimizer.step(W, b, step_w, step_b, opt, rate, self._spend)
        for arr in new_W:
            arr.setflags(write=False)
        for arr in new_b:
            arr.setflags(write=False)
        best = self.best_train_loss
        if self.step_count % self._save_every == 0:
            state = _State(W, b, opt, self.step_count, self.position, self.stop_reason, best, self._era)
            self._history.append(state)
        self.W, self.b, self.opt_state = new_W, new_b, new_opt
        self.step_count += 1
        self.position = next_pos
        return best

    def _evaluate(self, loss: float) -> _Evaluation:
        """The losses after the update: the batch loss ``loss`` goes on the record of losses,
        with the training-set loss (and its z per layer, (N, n_l)) and the test-set loss; a
        classifier's accuracies come from the same forward passes (engine/accuracy.py)."""
        train_zs, train_acts, train_loss, _ = self._train_forward()
        if self._penalised:
            train_loss += self.penalty(self.W)
        if train_loss < self.best_train_loss:
            self.best_train_loss = train_loss
        self.losses.append(loss)
        self.train_losses.append(train_loss)
        test = self._test_pass()
        test_loss = None if test is None else test[0]
        if test_loss is not None:
            self.test_losses.append(test_loss)
        classifier = self.classifier
        train_accuracy = test_accuracy = None
        if classifier is not None:
            train_accuracy = self._score(classifier, train_acts[-1], self.T)
            self.train_accuracies.append(train_accuracy)
            if test is not None and self.T_test is not None:
                test_accuracy = self._score(classifier, test[1], self.T_test)
                self.test_accuracies.append(test_accuracy)
        return train_zs, train_loss, test_loss, train_accuracy, test_accuracy

    def _evaluates(self) -> bool:
        """Whether the step just taken computes the training- and test-set losses: every
        evaluate_every-th step, and the last one max_steps allows."""
        k = self.step_count
        return self.evaluate_every == 1 or k % self.evaluate_every == 0 or k >= self.scenario.max_steps

    def _skip_evaluation(self, loss: float) -> _Evaluation:
        """A step between evaluations: its batch loss, and nan for the losses it did not compute."""
        self.losses.append(loss)
        self.train_losses.append(math.nan)
        test = None if self.X_test is None else math.nan  # no test set: no test loss nor accuracy
        if test is not None:
            self.test_losses.append(test)
        if self.classifier is None:
            return [], math.nan, test, None, None
        self.train_accuracies.append(math.nan)
        if test is not None:
            self.test_accuracies.append(test)
        return [], math.nan, test, math.nan, test

    def _check_stop_unevaluated(self, loss: float, zs: list[Array]) -> None:
        """Whether a step without the training-set loss ends the run: it diverged when its batch
        loss or its batch's z is not finite (no target_loss without the loss to compare). A weight
        or bias that the update made non-finite shows in the next step's z (see network.all_finite):
        checking the batch's z, (B, n_l) a layer, is far cheaper than every parameter."""
        if not (math.isfinite(loss) and all_finite(zs)):
            self.stop_reason = "diverged"
        elif self.step_count >= self.scenario.max_steps:
            self.stop_reason = "max_steps"

    def _check_stop(self, loss: float, train_loss: float, train_zs: list[Array]) -> None:
        """Whether this step ends the run: diverged, target_loss reached, target_accuracy
        reached (the training-set accuracy at or over it), or max_steps; the first that holds."""
        if train_loss > self.divergence_limit or not (
            math.isfinite(loss) and math.isfinite(train_loss) and all_finite(train_zs)
        ):
            self.stop_reason = "diverged"
        elif self.scenario.target_loss is not None and train_loss < self.scenario.target_loss:
            self.stop_reason = "target_loss"
        elif self._accuracy_reached():
            self.stop_reason = "target_accuracy"
        elif self.step_count >= self.scenario.max_steps:
            self.stop_reason = "max_steps"

    def _accuracy_reached(self) -> bool:
        """Whether the training-set accuracy of the step just taken is at or over target_accuracy."""
        target = self.target_accuracy
        return target is not None and bool(self.train_accuracies) and self.train_accuracies[-1] >= target

    def _record(
        self,
        indices: Array,
        next_pos: Position,
        W: tuple[Array, ...],
        b: tuple[Array, ...],
        passes: tuple,
        loss: float,
        penalty: float,
        best: float,
        evaluation: _Evaluation,
        rate: float,
    ) -> StepRecord:
        """The StepRecord of the step just taken from weights W, biases b at the learning rate
        ``rate``, made when it is first read (engine/record.py's LazyStepRecord) from the step's
        numbers and the state it left, kept as they are now."""
        taken = _Taken(
            self.network,
            self.step_count,
            next_pos,
            indices,
            (W, b, self.W, self.b, self.opt_state),
            passes,
            (loss, penalty, rate),
            evaluation,
            self.stop_reason,
            (best, self.initial_train_loss, self._zero_init, self._output_slope),
        )
        return LazyStepRecord.of(taken.record_fields)


class _Taken(NamedTuple):
    """One step as taken: what its record is made of, kept until the record is first read.

    The arrays are the step's own (fresh, or read-only parameters), which nothing changes
    afterwards; the rest are values as the step left them, so that the record made later is
    the one made at once."""

    network: Network
    step: int
    next_pos: Position
    indices: Array  # (B,) the batch's sample indices
    params: tuple  # W and b before the update, W and b after it, the optimiser's state after it
    # x, t, zs, acts, sample_losses, deltas, grad_w, grad_b, errors (or None); a grad_w the
    # update spent (SPENT_GRADIENT_BYTES) is None, made again from delta and a[l-1]
    passes: tuple
    losses: tuple[float, float, float]  # the batch loss (penalty included), the penalty, the rate
    evaluation: _Evaluation
    stop_reason: str | None
    run: tuple  # the best training loss before the step, the initial one, zero_init, output_slope

    def record_fields(self) -> tuple[dict, Callable[[], tuple]]:
        """The StepRecord's fields, by name, every array read-only, and the function that finds
        its warnings (engine/diagnostics.py)."""
        W, b, new_W, new_b, new_opt = self.params
        x, t, zs, acts, sample_losses, deltas, grad_w, grad_b, errors = self.passes
        loss, penalty, rate = self.losses
        train_zs, train_loss, test_loss, train_accuracy, test_accuracy = self.evaluation
        best, initial_train_loss, zero_init, output_slope = self.run
        activations = self.network.activations
        layers = tuple(
            LayerRecord(
                activation=activations[l].name,
                z=_frozen(zs[l]),
                a=_frozen(acts[l]),
                delta=_frozen(deltas[l]),
                grad_w=_frozen(grad_w[l] if grad_w[l] is not None else _made_again(deltas, acts, x, l)),
                grad_b=_frozen(grad_b[l]),
                w_before=W[l],
                b_before=b[l],
                w=new_W[l],
                b=new_b[l],
                **({} if errors is None else _split_fields(errors[l], W[l], b[l], new_W[l], new_b[l])),
                state=new_opt.layer(l),
            )
            for l in range(len(W))
        )
        diverged = self.stop_reason == "diverged"
        evaluated = bool(train_zs)
        # a step without the training-set loss has none to blame: only its own numbers
        checked_loss = train_loss if evaluated else 0.0
        nonfinite = find_nonfinite(layers, loss, checked_loss, train_zs) if diverged else None
        blowup = loss_blowup(train_loss, initial_train_loss) if diverged and nonfinite is None else None
        find = partial(
            step_warnings,
            layers,
            train_loss,
            nonfinite,
            blowup=blowup,
            train_zs=train_zs,
            best_train_loss=best,
            zero_init=zero_init,
            output_slope=output_slope,
        )
        fields = {
            "step": self.step,
            "epoch": _epoch_of_last_step(self.next_pos),
            "batch": tuple(self.indices.tolist()),
            "x": _frozen(x),
            "t": _frozen(t),
            "sample_losses": _frozen(sample_losses),
            "loss": loss,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "learning_rate": rate,
            "layers": layers,
            "stop_reason": self.stop_reason,
            "nonfinite": nonfinite,
            "blowup": blowup,
            "penalty": penalty,
            "evaluated": evaluated,
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
        }
        return fields, find


def divergence_limit(initial: float) -> float:
    """The training-set loss above which a step diverges: DIVERGENCE_FACTOR x max(initial, 1),
    where initial is the loss before the first step (inf when that is not finite: then only a
    non-finite number tells)."""
    return DIVERGENCE_FACTOR * max(initial, 1.0) if math.isfinite(initial) else math.inf


def loss_blowup(train_loss: float, initial: float) -> LossBlowUp | None:
    """Why a step with every number finite diverged, when its training-set loss is over
    divergence_limit(initial); None when it is not."""
    if train_loss > divergence_limit(initial):
        return LossBlowUp(train_loss, initial, DIVERGENCE_FACTOR)
    return None


def _made_again(deltas: list[Array], acts: list[Array], x: Array, l: int) -> Array:
    """grad_w of layer l, which the update spent, made again from the step's delta[l] and
    a[l-1] (x below the first layer) as the backward pass made it: the same bits."""
    return weight_gradient(deltas[l], acts[l - 1] if l else x, float(x.shape[0]))


def _split_fields(error: Array, w_before: Array, b_before: Array, w: Array, b: Array) -> dict[str, Array]:
    """A proportional-mode layer's extra record fields: its split error and the change applied."""
    return {"error": _frozen(error), "update_w": _frozen(w - w_before), "update_b": _frozen(b - b_before)}


def _losses(given: Sequence[float], k: int, last: float) -> list[float]:
    """The losses of steps 1..k: those given, nan for the ones missing, the k-th ``last``."""
    out = [float(x) for x in given[:k]] + [math.nan] * max(k - len(given), 0)
    if k:
        out[k - 1] = last
    return out


def _epoch_of_last_step(pos: Position) -> int:
    """A step that finished an epoch leaves the position at the start of the next one."""
    return pos.epoch - 1 if pos.offset == 0 else pos.epoch


def _mean(sample_losses: Array) -> float:
    """The batch loss: sum / B is np.mean bit for bit, and cheaper on a hot path (divided as
    Python floats: the same division of the same two numbers, without a numpy scalar)."""
    return float(_sum(sample_losses)) / sample_losses.size


def _frozen(x: Array) -> Array:
    """x, made read-only (``setflags`` costs half of setting ``flags.writeable``)."""
    x.setflags(write=False)
    return x
