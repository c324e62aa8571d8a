"""What P reads: the point to probe and, when given, its target, as the user types them.

    0.3, -1.2                 x alone: the forward pass only
    0.3 -1.2 -> 1             x and a target t: the loss and the backward pass too
    5.1, 3.5, 1.4, 0.2 -> setosa      a softmax network: the class by its output name ...
    5.1, 3.5, 1.4, 0.2 -> 0           ... or by its index 0..n_L-1 (a name wins over an index)
    5.1, 3.5, 1.4, 0.2 -> 0.2, 0.3, 0.5   ... or n_L probabilities

Numbers are separated by commas or spaces; ``->`` or ``→`` starts the target. Every problem is
a ValueError whose message says what was expected and what was typed (escaped: common/escape.py),
for the app to show as a notification. No Textual here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...common.escape import quoted

ARROWS = ("->", "→")
MAX_TEXT = 400_000  # characters read of a typed point (784 inputs offered to 8 digits: some 10,000)


@dataclass(frozen=True)
class ProbeInput:
    """x (n_0 numbers) and t (n_L numbers, or None: forward only), as read from the text."""

    x: tuple[float, ...]
    t: tuple[float, ...] | None


def read_probe(text: str, inputs: Sequence[str], outputs: Sequence[str], softmax: bool = False) -> ProbeInput:
    """The point and target in ``text``, for a network whose input and output nodes are named
    ``inputs`` and ``outputs``; ``softmax``: the target may be a class (a name or an index)."""
    text = text[:MAX_TEXT]
    parts = re.split("|".join(map(re.escape, ARROWS)), text)
    if len(parts) > 2:
        raise ValueError(f"one arrow at most: x -> t, got {quoted(text)}")
    x = _numbers(parts[0], "x", inputs)
    if len(x) != len(inputs):
        raise ValueError(f"{_needs(inputs, 'input')}: got {_count(len(x))} ({quoted(parts[0].strip())})")
    if len(parts) == 1:
        return ProbeInput(x, None)
    return ProbeInput(x, _target(parts[1], outputs, softmax))


def _target(text: str, outputs: Sequence[str], softmax: bool) -> tuple[float, ...]:
    """t after the arrow: n_L numbers, or for a softmax network one class, by name or index."""
    word = text.strip()
    if not word:
        raise ValueError("no target after the arrow: give one, or leave out the arrow to probe forward only")
    if softmax and word in outputs:
        return _one_hot(outputs.index(word), len(outputs))
    if softmax and re.fullmatch(r"[0-9]+", word):
        k = int(word)
        if k >= len(outputs):
            raise ValueError(
                f"class {k} does not exist: the classes are 0..{len(outputs) - 1} ({_names(outputs)})"
            )
        return _one_hot(k, len(outputs))
    try:
        t = _numbers(text, "t", outputs)
    except ValueError:
        if softmax:
            raise ValueError(
                f"the target is a class ({_names(outputs)}, or its index 0..{len(outputs) - 1}) or "
                f"{len(outputs)} probabilities, got {quoted(word)}"
            ) from None
        raise
    if len(t) != len(outputs):
        classes = f", or one class ({_names(outputs)})" if softmax else ""
        raise ValueError(f"{_needs(outputs, 'output')}{classes}: got {_count(len(t))} ({quoted(word)})")
    return t


def _numbers(text: str, what: str, names: Sequence[str]) -> tuple[float, ...]:
    """The numbers of ``text``, separated by commas or spaces, each finite."""
    words = [w for w in re.split(r"[,\s]+", text.strip()) if w]
    out = []
    for n, word in enumerate(words):
        try:
            v = float(word)
        except ValueError:
            raise ValueError(f"{what}: {quoted(word)} is not a number") from None
        if not math.isfinite(v):
            name = names[n] if n < len(names) else f"{what}[{n}]"
            raise ValueError(f"{what}: {name} = {quoted(word)}: a probe needs finite numbers")
        out.append(v)
    return tuple(out)


def _one_hot(k: int, n: int) -> tuple[float, ...]:
    return tuple(1.0 if i == k else 0.0 for i in range(n))


def _needs(names: Sequence[str], kind: str) -> str:
    return f"the network has {len(names)} {kind}{'' if len(names) == 1 else 's'} ({_names(names)})"


def _names(names: Sequence[str], limit: int = 6) -> str:
    head = ", ".join(names[:limit])
    return head if len(names) <= limit else f"{head}, …"


def _count(n: int) -> str:
    return f"{n} number" + ("" if n == 1 else "s")


def probe_text(x: Sequence[float], t: Sequence[float] | None, outputs: Sequence[str], softmax: bool) -> str:
    """The text that read_probe reads back as ``x`` and ``t``: what P offers to edit (a sample of
    the batch on screen, or the last probe); a one-hot softmax target as its class name."""
    text = ", ".join(_number(v) for v in x)
    if t is None:
        return text
    hot = [i for i, v in enumerate(t) if v != 0.0]
    if softmax and len(hot) == 1 and t[hot[0]] == 1.0 and not any(a in outputs[hot[0]] for a in ARROWS):
        return f"{text} -> {outputs[hot[0]]}"
    return f"{text} -> " + ", ".join(_number(v) for v in t)


def _number(v: float) -> str:
    """A number to 8 significant digits (as typed: 1, 0.25, -1.5e-07)."""
    return f"{float(v):.8g}"
