"""The numpy engine: activations, losses, forward and backward passes, batching, Trainer.

It imports numpy and nothing else outside the standard library: no files, no JSON, no
terminal. Everything it computes reaches the outside world as immutable StepRecords.

The names below load with the module that defines them, on first use: importing a module of
the package that needs no numpy (engine/names.py, engine/terms.py, engine/schedule.py) then
loads no numpy either, which is what lets ``backprop-tui --check`` read a scenario without it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .activations import ACTIVATIONS, Activation, get_activation
    from .batching import BatchSchedule, Position, batch_size
    from .diagnostics import Diagnostic
    from .edits import Edit, Point
    from .losses import LOSSES, Loss, get_loss, output_delta
    from .network import Network, initial_parameters
    from .optimizers import OPTIMIZERS, Optimizer, OptimizerState, make_optimizer, optimizer_for
    from .probe import ProbeRecord, probe
    from .record import LayerRecord, LossBlowUp, NonFinite, StepRecord
    from .regularization import Penalty
    from .split import proportional_errors
    from .trainer import Trainer, TrainingStopped

# each public name and the module of the package that defines it
_HOMES = {
    "activations": ("ACTIVATIONS", "Activation", "get_activation"),
    "batching": ("BatchSchedule", "Position", "batch_size"),
    "diagnostics": ("Diagnostic",),
    "edits": ("Edit", "Point"),
    "losses": ("LOSSES", "Loss", "get_loss", "output_delta"),
    "network": ("Network", "initial_parameters"),
    "optimizers": ("OPTIMIZERS", "Optimizer", "OptimizerState", "make_optimizer", "optimizer_for"),
    "probe": ("ProbeRecord", "probe"),
    "record": ("LayerRecord", "LossBlowUp", "NonFinite", "StepRecord"),
    "regularization": ("Penalty",),
    "split": ("proportional_errors",),
    "trainer": ("Trainer", "TrainingStopped"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """A public name of the engine, imported from its module the first time it is asked for."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "Activation",
    "BatchSchedule",
    "Diagnostic",
    "Edit",
    "LayerRecord",
    "Loss",
    "LossBlowUp",
    "Network",
    "NonFinite",
    "Optimizer",
    "OptimizerState",
    "Penalty",
    "Point",
    "Position",
    "ProbeRecord",
    "StepRecord",
    "Trainer",
    "TrainingStopped",
    "batch_size",
    "get_activation",
    "get_loss",
    "initial_parameters",
    "make_optimizer",
    "optimizer_for",
    "output_delta",
    "probe",
    "proportional_errors",
]
