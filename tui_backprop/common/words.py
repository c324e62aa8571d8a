"""Counted nouns in what the program prints: ``1 step``, ``2 steps``, never ``1 steps``."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one: count(1, "step") is "1 step",
    count(3, "sample") "3 samples"; ``plural`` when it is not the noun with an s."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
