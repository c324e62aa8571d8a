"""The fields a trace's step and layer can hold, in the order they are written: what --fields names.

Apart from the writer so that the command line can list them (``--help``, ``--fields``,
``--completion``) without loading numpy: a module here imports nothing.
"""

from __future__ import annotations

STEP_FIELDS = (
    *("step", "epoch", "batch", "loss", "train_loss", "test_loss"),
    *("train_accuracy", "test_accuracy", "penalty"),
    *("learning_rate", "warnings"),  # learning_rate: a run with a [training] schedule
)
LAYER_FIELDS = (
    *("z", "a", "delta", "grad_w", "grad_b", "w", "b"),
    # error: the proportional split's e (update_w, update_b: error_split = "proportional" only)
    *("error", "update_w", "update_b"),
    *("velocity_w", "velocity_b", "m_w", "v_w", "m_b", "v_b"),  # the optimiser's state
)
FIELDS = STEP_FIELDS + LAYER_FIELDS
