"""backprop-tui: see backpropagation work, number by number.

from tui_backprop import load_scenario, Trainer, write_trace
trainer = Trainer(load_scenario("xor"))
record = trainer.step()
write_trace("xor-trace.json", trainer)
"""

from .engine import LayerRecord, StepRecord, Trainer, TrainingStopped
from .errors import BackpropError
from .scenario import Scenario, ScenarioError, load_scenario, loads_scenario
from .trace import write_trace

__version__ = "0.1.0"

__all__ = [
    "BackpropError",
    "LayerRecord",
    "Scenario",
    "ScenarioError",
    "StepRecord",
    "Trainer",
    "TrainingStopped",
    "__version__",
    "load_scenario",
    "loads_scenario",
    "write_trace",
]
