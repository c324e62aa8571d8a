"""The numpy engine: activations, losses, forward and backward passes, batching, Trainer.

It imports numpy and nothing else outside the standard library: no files, no JSON, no
terminal. Everything it computes reaches the outside world as immutable StepRecords.
"""

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
