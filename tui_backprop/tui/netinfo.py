"""NetInfo: what the panels know about the network before any step (names, shapes, initial weights).

It is made once from the Scenario and the Trainer's initial parameters and never changes;
everything that changes arrives in StepRecords.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..common.escape import shown
from ..engine import StepRecord
from ..scenario.names import bias_label, node_names
from ..scenario.reader import Scenario
from .control.selection import Selection

Array = np.ndarray

BIG = 12  # a layer with more nodes than this is drawn as a heatmap, and elided in the diagram
MAX_DESCRIPTION = 2000  # characters of a scenario's description shown (the bundled ones: < 900)


@dataclass(frozen=True)
class NetInfo:
    layers: tuple[int, ...]  # n_0 .. n_L
    activations: tuple[str, ...]  # one per layer 1..L
    bias: bool
    loss: str
    names: tuple[tuple[str, ...], ...]  # node names of every layer, input layer first
    initial_W: tuple[Array, ...]  # W[1..L], each (n_l, n_{l-1})
    initial_b: tuple[Array, ...]  # b[1..L], each (n_l,) or (0,)
    bias_label: str = "b"  # the biases' label in b→h1: b, unless a node is called b (scenario/names.py)
    optimizer: str = "gd"  # the update rule: "gd", "momentum" or "adam" ...
    split: bool = False  # ... on the proportional split's step (error_split = "proportional")

    @classmethod
    def build(cls, scenario: Scenario, initial_W: tuple[Array, ...], initial_b: tuple[Array, ...]) -> NetInfo:
        layers = tuple(scenario.layers)
        # as the app shows them: a name from the file escaped (common/escape.py), which the loader has
        # made sure leaves every node a name of its own (scenario/names.py)
        named = node_names(layers, scenario.input_names, scenario.output_names)
        names = tuple(tuple(shown(n) for n in layer) for layer in named)
        return cls(
            layers=layers,
            activations=tuple(scenario.activations),
            bias=scenario.bias,
            loss=scenario.loss,
            names=names,
            bias_label=bias_label(names),
            optimizer=scenario.optimizer,
            split=scenario.error_split == "proportional",
            initial_W=tuple(initial_W),
            initial_b=tuple(initial_b),
        )

    @property
    def depth(self) -> int:
        """L, the number of layers after the input layer."""
        return len(self.layers) - 1

    def big(self, layer: int) -> bool:
        return self.layers[layer] > BIG

    def source_names(self, layer: int) -> tuple[str, ...]:
        """Column labels of W[layer]: the nodes of layer - 1, then the biases' label (b) when
        there are biases."""
        return self.names[layer - 1] + ((self.bias_label,) if self.bias else ())

    def weight_label(self, layer: int, j: int, i: int) -> str:
        """``W[1][0,1] x2→h1`` or ``b[1][0] →h1``."""
        dest = self.names[layer][j]
        if i == self.layers[layer - 1]:
            return f"b[{layer}][{j}] →{dest}"
        return f"W[{layer}][{j},{i}] {self.names[layer - 1][i]}→{dest}"

    def selection_label(self, sel: Selection, record: StepRecord | None) -> str:
        """``weight: W[1][0,1] x2→h1``, ``node: hidden node h2 (layer 1, index 1)``, ``sample: k=2 (#3)``."""
        if sel.mode == "weight":
            return "weight: " + self.weight_label(sel.layer, sel.j, sel.i)
        if sel.mode == "node":
            return "node: " + self.node_label(sel.node_layer, sel.node)
        return f"sample: k={sel.sample}" + (f" (#{record.batch[sel.sample]})" if record else "")

    def node_label(self, layer: int, node: int) -> str:
        kind = "input" if layer == 0 else ("output" if layer == self.depth else "hidden")
        return f"{kind} node {self.names[layer][node]} (layer {layer}, index {node})"


def about(scenario: Scenario) -> tuple[str, str]:
    """The scenario's name (with the flags that changed it, Scenario.title) and description as
    the app shows them: as in the file, but with every character a terminal would act on
    escaped (a description keeps its newlines), and cut."""
    return shown(scenario.title), shown(scenario.description, MAX_DESCRIPTION, keep_newlines=True)
