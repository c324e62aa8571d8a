"""What the user has selected: a weight, a node, and a sample of the batch.

Pure data and navigation, no Textual: the app moves the selection with the keys and
hands it, with each StepRecord, to every panel.

    weight  W[layer][j, i]: row j is the node of ``layer`` the weight goes into, column i
            the node of ``layer - 1`` it comes from; i == n_{layer-1} selects the bias b[layer][j]
    node    node ``node`` of layer ``node_layer`` (0 is the input layer)
    sample  position ``sample`` in the current batch (row k of z, a, delta)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

MODES = ("weight", "node", "sample")
GOTO_FORMS = {  # what Selection.goto reads in each mode
    "weight": "j,i or layer:j,i (row j, column i of W[layer]) or just j",
    "node": "k or layer:k (node k of the layer; layer 0 is the input layer)",
    "sample": "k (position in the batch)",
}


def _check(what: str, value: int, high: int, note: str = "") -> None:
    if not 0 <= value <= high:
        raise ValueError(f"{what} = {value} is out of range 0..{high}{note}")


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(v, hi))


@dataclass(frozen=True, slots=True)
class Selection:
    mode: str = "weight"
    layer: int = 1
    j: int = 0
    i: int = 0
    node_layer: int = 0
    node: int = 0
    sample: int = 0

    def cycle(self, step: int = 1) -> Selection:
        """The next mode: weight -> node -> sample -> weight (or backwards)."""
        return replace(self, mode=MODES[(MODES.index(self.mode) + step) % len(MODES)])

    def move(self, layers: tuple[int, ...], bias: bool, dy: int, dx: int, batch_size: int) -> Selection:
        """Move by an arrow key in the current mode.

        weight: up/down change j, left/right change i and, past the bias column, the layer;
        node: up/down change the node, left/right the layer; sample: any arrow changes k.
        """
        if self.mode == "weight":
            return self._move_weight(layers, bias, dy, dx)
        if self.mode == "node":
            nl = _clamp(self.node_layer + dx, 0, len(layers) - 1)
            return replace(self, node_layer=nl, node=_clamp(self.node + dy, 0, layers[nl] - 1))
        return self.with_sample(self.sample + dy + dx, batch_size)

    def _move_weight(self, layers: tuple[int, ...], bias: bool, dy: int, dx: int) -> Selection:
        layer, j, i = self.layer, self.j + dy, self.i + dx
        last = len(layers) - 1

        def columns(l: int) -> int:  # columns of W[l], the bias column included
            return layers[l - 1] + (1 if bias else 0)

        if i >= columns(layer):
            if layer < last:
                layer, i = layer + 1, 0
            else:
                i = columns(layer) - 1
        elif i < 0:
            if layer > 1:
                layer -= 1
                i = columns(layer) - 1
            else:
                i = 0
        return replace(self, layer=layer, j=_clamp(j, 0, layers[layer] - 1), i=i)

    def with_sample(self, k: int, batch_size: int) -> Selection:
        return replace(self, sample=_clamp(k, 0, max(batch_size - 1, 0)))

    def with_weight(self, layer: int, j: int, i: int) -> Selection:
        return replace(self, mode="weight", layer=layer, j=j, i=i)

    def with_node(self, layer: int, node: int) -> Selection:
        return replace(self, mode="node", node_layer=layer, node=node)

    def goto(self, text: str, layers: tuple[int, ...], bias: bool, batch_size: int) -> Selection:
        """A typed index, for layers too big to walk with the arrows: in weight mode ``j,i``
        (``i`` = n_{l-1}: the bias) or ``j`` (same column), in node mode ``k``, either with a
        layer first (``2:j,i``, ``1:k``); in sample mode ``k``. ValueError says what is wrong."""
        m = re.fullmatch(r"\s*(?:(\d+)\s*:)?\s*(\d+)\s*(?:[,\s]\s*(\d+))?\s*", text)
        if not m:
            raise ValueError(f"{text!r}: expected {GOTO_FORMS[self.mode]}")
        layer_text, first, second = m.groups()
        if self.mode == "sample":
            if layer_text or second:
                raise ValueError(f"{text!r}: expected {GOTO_FORMS['sample']}")
            k = int(first)
            _check("sample k", k, batch_size - 1)
            return self.with_sample(k, batch_size)
        if self.mode == "node":
            if second:
                raise ValueError(f"{text!r}: expected {GOTO_FORMS['node']}")
            layer = self.node_layer if layer_text is None else int(layer_text)
            _check("layer", layer, len(layers) - 1)
            _check(f"k of layer {layer}", int(first), layers[layer] - 1)
            return self.with_node(layer, int(first))
        layer = self.layer if layer_text is None else int(layer_text)
        if not 1 <= layer <= len(layers) - 1:
            raise ValueError(f"layer = {layer} is out of range 1..{len(layers) - 1}")
        last_i = layers[layer - 1] - (0 if bias else 1)
        j, i = int(first), min(self.i, last_i) if second is None else int(second)
        _check(f"j of W[{layer}]", j, layers[layer] - 1)
        _check(f"i of W[{layer}]", i, last_i, f" ({last_i} is b)" if bias else "")
        return self.with_weight(layer, j, i)

    def is_bias(self, layers: tuple[int, ...]) -> bool:
        return self.i == layers[self.layer - 1]

    # -- what the panels highlight ----------------------------------------------------------

    def focus_node(self) -> tuple[int, int]:
        """The node whose z, a and delta columns the panels mark: the selected node, or the
        node a selected weight goes into."""
        return (self.layer, self.j) if self.mode == "weight" else (self.node_layer, self.node)
