"""backprop-tui: see backpropagation work, number by number.

from tui_backprop import load_scenario, Trainer, write_trace
trainer = Trainer(load_scenario("xor"))
record = trainer.step()
write_trace("xor-trace.json", trainer)

The names below are imported when first used, so that ``backprop-tui --version`` and a module
that needs one part of the package do not load the others.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any


def _version() -> str:
    """pyproject.toml's version, as installed (importlib.metadata costs some 40 ms to import:
    read only when __version__ is asked for, not on every start)."""
    from importlib import metadata

    try:
        return metadata.version("backprop-tui")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


_WHERE = {
    "BackpropError": ".common.errors",
    "LayerRecord": ".engine",
    "StepRecord": ".engine",
    "Trainer": ".engine",
    "TrainingStopped": ".engine",
    "Scenario": ".scenario.reader",
    "ScenarioError": ".scenario.reader",
    "load_scenario": ".scenario.reader",
    "loads_scenario": ".scenario.reader",
    "write_trace": ".trace.writer",
}

__all__ = [  # the names of _WHERE, and the version
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

if TYPE_CHECKING:
    __version__: str
    from .common.errors import BackpropError
    from .engine import LayerRecord, StepRecord, Trainer, TrainingStopped
    from .scenario.reader import Scenario, ScenarioError, load_scenario, loads_scenario
    from .trace.writer import write_trace


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = version = _version()
        return version
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
