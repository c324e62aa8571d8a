"""The app's colours, in one place: every panel, chart and screen asks the palette in use.

Two palettes, named by ``[display] palette`` (scenario/format_v1.py PALETTES) and switched by C:

    default     the colours the app has always had (signs blue and salmon, right green and
                wrong red, the playground's orange and blue classes)
    colorblind  no red/green pair (Okabe and Ito's colours): signs sky blue and orange, right
                blue and wrong vermilion, classes in hues that stay apart for every eye

Colour never carries a meaning alone: every number is printed with its sign, and the classes of
the decision boundary are drawn with their own marker characters (MARKERS), so the app still
reads under NO_COLOR (which Textual honours by drawing in grey).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ...scenario.format_v1 import PALETTES

RGB = tuple[int, int, int]

# the named styles and what they mean (the help screen shows this table, in the palette in use)
MEANINGS: dict[str, str] = {
    "pos": "positive value",
    "neg": "negative value",
    "zero": "exactly zero",
    "selected": "the selected weight, node or sample",
    "related": "the columns of the selected node, or of the two ends of the selected weight",
    "marked": "the selected sample's row (▸), the selected weight's line and its end nodes",
    "changed": "a weight this step changed",
    "bad": "a non-finite value (nan, inf)",
    "first_bad": "where the first non-finite value appeared",
    "warn": "a node that a warning of this step names (network diagram)",
    "dim": "labels and unchanged values",
    "right": "a number you answered (--answers, or a) and got right",
    "wrong": "a number you answered (--answers, or a) and got wrong",
}

# a heatmap's negative values under NO_COLOR, by magnitude as numbers.SHADES draws the positive ones
NEG_SHADES = "·-=≡▬"

# the decision boundary's class markers: class k is drawn as MARKERS[k % len(MARKERS)]
MARKERS = ("•", "▲", "■", "◆", "✚", "▼", "★", "●", "✖", "♦")


@dataclass(frozen=True, eq=False)  # hashed by identity: a key of the style cache
class Palette:
    name: str
    styles: Mapping[str, str]  # a Rich style for each name of MEANINGS
    classes: tuple[RGB, ...]  # the decision boundary's class colours (one output: [0] low, [1] high)
    batch: str  # plotext colour names of the loss chart: batch dots, training and test lines
    train: str
    test: str
    series: tuple[int, ...]  # 256-colour codes of the runs of a comparison
    diverged: str  # the comparison table's "YES" of a diverged run
    signs: tuple[str, str]  # the words of the sign colours, positive and negative (legends, help)

    def __str__(self) -> str:
        return self.name


DEFAULT = Palette(
    "default",
    {
        "pos": "#5fafff",
        "neg": "#ff875f",
        "zero": "#808080",
        "selected": "bold #000000 on #ffd75f",
        "related": "bold underline",
        "marked": "bold #ffd75f",
        "changed": "bold",
        "bad": "bold #ffffff on #870000",
        "first_bad": "bold #ffffff on #ff0000",
        "warn": "bold underline #ffaf00",
        "dim": "#808080",
        "right": "bold #000000 on #5fd75f",
        "wrong": "bold #ffffff on #d70000",
    },
    # the playground's orange and blue for the first two, then distinct hues
    (
        (245, 147, 34),
        (8, 119, 189),
        (60, 180, 75),
        (200, 70, 200),
        (230, 200, 40),
        (70, 200, 220),
        (220, 50, 50),
        (160, 110, 60),
        (150, 150, 150),
        (120, 90, 230),
    ),
    "orange",
    "cyan",
    "magenta",
    # blue, orange, green, pink, yellow, violet, ...
    (39, 208, 40, 199, 226, 141, 51, 160, 250, 94),
    "bold red",
    ("blue", "red"),
)

# Okabe and Ito's colours: orange E69F00, sky blue 56B4E9, blue 0072B2, yellow F0E442, vermilion
# D55E00, reddish purple CC79A7; no green, so no red/green pair whatever the eye
COLORBLIND = Palette(
    "colorblind",
    {
        **DEFAULT.styles,
        "pos": "#56b4e9",
        "neg": "#e69f00",
        "bad": "bold #ffffff on #5f3700",
        "first_bad": "bold #000000 on #d55e00",
        "right": "bold #ffffff on #0072b2",
        "wrong": "bold #000000 on #e69f00",
    },
    (
        (230, 159, 0),
        (0, 114, 178),
        (204, 121, 167),
        (240, 228, 66),
        (86, 180, 233),
        (213, 94, 0),
        (150, 150, 150),
        (120, 90, 230),
        (255, 255, 255),
        (110, 70, 40),
    ),
    "orange",
    "blue",
    "magenta",
    # blue, orange, sky blue, yellow, reddish purple, grey, violet, brown, white, dark blue
    (25, 214, 74, 227, 175, 245, 141, 94, 231, 18),
    "bold #d55e00",
    ("blue", "orange"),
)

PALETTE_OF: dict[str, Palette] = {p.name: p for p in (DEFAULT, COLORBLIND)}
assert tuple(PALETTE_OF) == PALETTES, "every palette the scenario format names is defined here"

_current = [DEFAULT]


def current() -> Palette:
    """The palette in use."""
    return _current[0]


def use(name: str) -> Palette:
    """Use the palette ``name`` (one of PALETTES) from now on; the panels are redrawn by the app."""
    _current[0] = PALETTE_OF[name]
    return _current[0]


def following(name: str) -> str:
    """The palette after ``name`` in PALETTES (what C switches to)."""
    return PALETTES[(PALETTES.index(name) + 1) % len(PALETTES)]


def no_colour() -> bool:
    """NO_COLOR is set (to anything, as Textual reads it): the app is drawn in greys, so what a
    colour alone would say is drawn otherwise (NEG_SHADES; the network diagram's legend)."""
    return "NO_COLOR" in os.environ


def marker(k: int) -> str:
    """The marker character of class ``k``."""
    return MARKERS[k % len(MARKERS)]
