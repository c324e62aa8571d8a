"""The numpy engine: activations, losses, forward and backward passes, batching, Trainer.

It imports numpy and nothing else outside the standard library: no files, no JSON, no
terminal. Everything it computes reaches the outside world as immutable StepRecords.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .batching import BatchSchedule, Position, batch_size
from .diagnostics import Diagnostic
from .losses import LOSSES, Loss, get_loss, output_delta
from .network import Network, initial_parameters
from .record import LayerRecord, NonFinite, StepRecord
from .split import proportional_errors
from .trainer import Trainer, TrainingStopped

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Activation",
    "BatchSchedule",
    "Diagnostic",
    "LayerRecord",
    "Loss",
    "Network",
    "NonFinite",
    "Position",
    "StepRecord",
    "Trainer",
    "TrainingStopped",
    "batch_size",
    "get_activation",
    "get_loss",
    "initial_parameters",
    "output_delta",
    "proportional_errors",
]
