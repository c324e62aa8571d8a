"""The engine's diagnostics of a step (StepRecord.warnings) in words, with node names.

No Textual here: the warnings bar, the explain panel and the network diagram share it. Nothing
here judges a step: the engine (engine/diagnostics.py) does, and records its Diagnostic objects
(kind, layer, nodes, message).
"""

from __future__ import annotations

from collections.abc import Sequence

from ...common.escape import shown
from ...engine import StepRecord
from ..netinfo import NetInfo

MAX_NODES = 6  # node names listed in one warning; more are counted
MAX_MESSAGE = 400  # characters of a warning's message (the engine's are one or two sentences)


def warnings_of(record: StepRecord | None) -> Sequence:
    """The record's diagnostics (none before the first step)."""
    return () if record is None else record.warnings


def warning_line(diagnostic, net: NetInfo) -> str:
    """``saturated · layer 1 (h1, h3): message``."""
    where = ""
    if diagnostic.layer is not None:
        names = net.names[diagnostic.layer]
        listed = [names[n] for n in diagnostic.nodes[:MAX_NODES]]
        more = f", … {len(diagnostic.nodes) - MAX_NODES} more" if len(diagnostic.nodes) > MAX_NODES else ""
        where = f" · layer {diagnostic.layer}" + (f" ({', '.join(listed)}{more})" if listed else "")
    return f"{diagnostic.kind}{where}: {shown(diagnostic.message, MAX_MESSAGE)}"  # a trace's words


def warned_nodes(record: StepRecord | None) -> set[tuple[int, int]]:
    """(layer, node) of every node a diagnostic of the record names."""
    return {(d.layer, n) for d in warnings_of(record) if d.layer is not None for n in d.nodes}
