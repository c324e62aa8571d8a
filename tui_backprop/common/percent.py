"""An accuracy as people read it: a percentage, never rounded up to 100% when it is not.

percent(0.975) == "97.5%"    percent(29 / 30) == "96.7%"    percent(1.0) == "100%"
percent(0.9996) == "99.9%"   percent(float("nan")) == "–"   percent(None) == "–"
"""

from __future__ import annotations

import math

NONE = "–"  # no value: not a classifier, or a step that did not evaluate it


def percent(fraction: float | None) -> str:
    """``fraction`` (0..1) as a percentage with one decimal; 100% only when it is exactly 1, and
    0% only when it is exactly 0 (so that one sample wrong, or right, out of thousands shows)."""
    if fraction is None or math.isnan(fraction):
        return NONE
    if fraction >= 1.0:
        return "100%"
    if fraction <= 0.0:
        return "0%"
    tenths = min(max(round(fraction * 1000), 1), 999)
    return f"{tenths / 10:.1f}%"
