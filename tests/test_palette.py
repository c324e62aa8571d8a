"""Palettes for every eye: [display] palette, the C key, class markers and NO_COLOR.

A colour counts as red or green by its hue (HSV), when it is saturated and bright enough to be
seen as a colour at all; the colorblind palette may show neither a red beside a green, in its
definitions or on the screen, with every panel drawn.
"""

from __future__ import annotations

import colorsys
import dataclasses
import json
import re

import numpy as np
import pytest
from app_harness import drive
from rich.color import Color
from rich.style import Style
from rich.text import Text
from trace_schema import validate_trace

from tui_backprop import Trainer, load_scenario, write_trace
from tui_backprop.scenario.format_v1 import PALETTES
from tui_backprop.scenario.reader import ScenarioError
from tui_backprop.trace.reader import read_trace
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.control.keys import PANELS
from tui_backprop.tui.panels.base import Panel
from tui_backprop.tui.panels.boundary import BoundaryPanel
from tui_backprop.tui.panels.chart import LossChart
from tui_backprop.tui.widgets.numbers import SHADES, shade_line, style
from tui_backprop.tui.widgets.palette import (
    COLORBLIND,
    DEFAULT,
    MARKERS,
    MEANINGS,
    NEG_SHADES,
    PALETTE_OF,
    current,
)

Rgb = tuple[int, int, int]
PLOTEXT = {"orange": "color(208)"}  # plotext's colour names that Rich does not know, as plotext draws them


def hue_class(rgb: Rgb) -> str | None:
    """Whether ``rgb`` reads as red, as green (by its hue), or as neither (None)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    if s < 0.35 or v < 0.3:  # greys, and colours too dark to tell apart
        return None
    degrees = h * 360
    if degrees <= 15 or degrees >= 345:
        return "red"
    if 75 <= degrees <= 165:
        return "green"
    return None


def red_green_pair(colours: set[Rgb]) -> tuple[Rgb, Rgb] | None:
    reds = sorted(c for c in colours if hue_class(c) == "red")
    greens = sorted(c for c in colours if hue_class(c) == "green")
    return (reds[0], greens[0]) if reds and greens else None


def rgb(colour: Color | None) -> list[Rgb]:
    return [] if colour is None else [tuple(colour.get_truecolor())]  # type: ignore[list-item]


def defined_colours(name: str) -> set[Rgb]:
    """Every colour the palette ``name`` defines: its styles, classes, chart and series colours."""
    p = PALETTE_OF[name]
    out: set[Rgb] = set(p.classes)
    for spec in (*p.styles.values(), p.diverged):
        s = Style.parse(spec)
        out.update(rgb(s.color) + rgb(s.bgcolor))
    for c in (p.batch, p.train, p.test, *(f"color({k})" for k in p.series)):
        out.update(rgb(Color.parse(PLOTEXT.get(c, c))))
    return out


def screen_colours(svg: str) -> set[Rgb]:
    """The colours of a screenshot's text and cell backgrounds (not the window's frame buttons)."""
    found = re.findall(r"fill: #([0-9a-fA-F]{6})", svg) + re.findall(r'<rect fill="#([0-9a-fA-F]{6})"', svg)
    return {(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in found}


# -- the palettes themselves ---------------------------------------------------------------------


def test_the_classifier_tells_red_and_green_apart():
    assert hue_class((215, 0, 0)) == "red" and hue_class((95, 215, 95)) == "green"
    assert hue_class((0, 114, 178)) is None and hue_class((230, 159, 0)) is None  # blue, orange
    assert hue_class((128, 128, 128)) is None  # a grey has no hue to speak of


def test_every_palette_the_format_names_defines_every_style():
    assert tuple(PALETTE_OF) == PALETTES == ("default", "colorblind")
    for p in PALETTE_OF.values():
        assert set(p.styles) == set(MEANINGS), p.name
        assert len(set(p.classes)) == len(p.classes) and len(set(p.series)) == len(p.series), p.name
        assert len(p.signs) == 2 and p.signs[0] != p.signs[1]


def test_the_colorblind_palette_has_no_red_green_pair_and_the_default_has_one():
    assert red_green_pair(defined_colours("colorblind")) is None
    # the check can fail: the default's right (green) and wrong (red) are such a pair
    assert red_green_pair(defined_colours("default")) is not None


def test_the_signs_differ_in_lightness_as_well_as_hue_under_colorblind():
    """Blue and orange: told apart by hue for every eye, and not the same grey either."""
    pos, neg = (Style.parse(COLORBLIND.styles[k]).color for k in ("pos", "neg"))
    assert pos is not None and neg is not None
    grey = [colorsys.rgb_to_hls(*(c / 255 for c in x.get_truecolor()))[1] for x in (pos, neg)]
    assert grey[0] != pytest.approx(grey[1], abs=0.01)


def test_markers_are_one_cell_wide_and_distinct():
    from rich.cells import cell_len

    assert len(set(MARKERS)) == len(MARKERS) and all(cell_len(m) == 1 for m in MARKERS)


def test_a_scenario_names_its_palette_and_a_bad_one_is_refused(tmp_path):
    text = (
        '[scenario]\nname = "p"\n[network]\nlayers = [2, 1]\nactivations = ["sigmoid"]\n'
        "[data]\ninputs = [[0, 0], [1, 1]]\ntargets = [[0], [1]]\n"
        '[training]\nloss = "mse"\nlearning_rate = 0.5\n[display]\npalette = "{}"\n'
    )
    good = tmp_path / "good.toml"
    good.write_text(text.format("colorblind"))
    s = load_scenario(good)
    assert s.palette == "colorblind" and s.to_dict()["display"] == {"palette": "colorblind"}
    assert "display" not in dataclasses.replace(s, palette="default").to_dict()  # old traces keep their bytes
    bad = tmp_path / "bad.toml"
    bad.write_text(text.format("rainbow"))
    with pytest.raises(ScenarioError, match=r"bad\.toml: \[display\] palette: .*rainbow"):
        load_scenario(bad)


# -- every panel on the screen, under each palette ----------------------------------------------


def legend_of(boundary: BoundaryPanel) -> Text:
    """The boundary's legend (its bottom border, kept as markup)."""
    return Text.from_markup(str(boundary.border_subtitle))


def panel_colours(app: BackpropApp) -> set[Rgb]:
    """The colours of every span of every panel's whole content (scrolled out of view or not),
    of the loss chart and of the boundary's legend."""
    out: set[Rgb] = set()
    texts = [line for panel in app.query(Panel) for line in panel._lines]  # as test_boundary reads them
    drawn = app.query_one(LossChart).render()
    assert isinstance(drawn, Text)
    texts.append(drawn)
    for text in texts:
        for span in text.spans:
            st = span.style if isinstance(span.style, Style) else Style.parse(span.style)
            out.update(rgb(st.color) + rgb(st.bgcolor))
    for span in legend_of(app.query_one(BoundaryPanel)).spans:
        st = Style.parse(str(span.style))
        out.update(rgb(st.color))
    return out


@pytest.mark.parametrize("name", PALETTES)
async def test_every_panel_drawn_under_each_palette(name):
    app = BackpropApp(dataclasses.replace(load_scenario("circle"), palette=name))
    async with drive(app, size=(160, 45)) as s:
        assert app.palette == name == current().name
        await s.press("space")  # space: one step, so that every panel has numbers
        shown = {panel.id for panel in app.query(Panel) if panel.region.width and panel.region.height}
        # the neuron heatmaps (9) are shown zoomed only: tests/test_app_heatmaps.py draws them in each palette
        assert shown >= set(PANELS) - {"chart", "heatmaps"}, "every panel is on the screen at 160x45"
        seen = screen_colours(app.export_screenshot()) | panel_colours(app)
    assert current() is DEFAULT  # the app gives the palette back when it ends
    pos = Style.parse(PALETTE_OF[name].styles["pos"]).color
    assert pos is not None and tuple(pos.get_truecolor()) in seen  # the palette's own colours are drawn
    if name == "colorblind":
        assert red_green_pair(seen) is None, f"a red/green pair: {red_green_pair(seen)}"
    else:  # the default's negative salmon counts as red: the check sees what is drawn
        assert any(hue_class(c) == "red" for c in seen)


async def test_c_switches_the_palette_of_every_panel_and_back():
    app = BackpropApp(load_scenario("circle"))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space")  # space: one step
        boundary = app.query_one(BoundaryPanel)
        legend = legend_of(boundary).plain
        assert style("pos") == Style.parse(DEFAULT.styles["pos"])
        await s.press("C")  # C: the colorblind palette
        assert app.palette == "colorblind" and s.noted("palette: colorblind")
        assert style("pos") == Style.parse(COLORBLIND.styles["pos"])
        assert legend_of(boundary).plain == legend  # the same words and markers ...
        spans = {str(span.style) for span in legend_of(boundary).spans}
        assert "rgb(232,160,0)" in spans, spans  # ... in new colours: Okabe-Ito's orange, in steps of 4
        seen = screen_colours(app.export_screenshot())
        assert red_green_pair(seen) is None
        await s.press("C")  # C: back to the default palette
        assert app.palette == "default" and style("pos") == Style.parse(DEFAULT.styles["pos"])


# -- NO_COLOR ------------------------------------------------------------------------------------


async def test_no_color_draws_in_grey_and_signs_and_markers_still_carry_the_meaning(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = BackpropApp(load_scenario("circle"))
    async with drive(app, size=(160, 45)) as s:
        await s.press("space")  # space: one step
        assert app.no_color
        coloured = {c for c in screen_colours(app.export_screenshot()) if hue_class(c)}
        assert not coloured, f"colours drawn under NO_COLOR: {sorted(coloured)[:5]}"
        boundary = app.query_one(BoundaryPanel)
        legend = legend_of(boundary).plain
        assert "• inside=0" in legend and "▲ inside=1" in legend  # each class named by its marker
        assert "•" in boundary.text and "▲" in boundary.text  # and drawn with it
        numbers = re.findall(r"(?<![\w.])([+-])\d+\.\d{4}\b", app.query_one("#weights").text)
        assert {"+", "-"} <= set(numbers), "every number carries its sign"
        assert "line: signs: panel 5" in app.query_one("#network").text  # no colour names it cannot show


# -- the trace -----------------------------------------------------------------------------------


def test_a_trace_keeps_the_palette_and_a_default_one_keeps_its_bytes(tmp_path):
    base = load_scenario("xor")
    written = {}
    for name, palette in (("plain", None), ("default", "default"), ("colorblind", "colorblind")):
        s = base if palette is None else dataclasses.replace(base, palette=palette)
        trainer = Trainer(s)
        trainer.run(2)
        written[name] = write_trace(tmp_path / f"{name}.json", trainer)
    assert written["plain"].read_bytes() == written["default"].read_bytes()  # "default" is not written
    doc = json.loads(written["colorblind"].read_text())
    validate_trace(doc)
    assert doc["scenario"]["display"] == {"palette": "colorblind"}
    assert read_trace(written["colorblind"]).scenario.palette == "colorblind"  # a replay opens in it
    assert read_trace(written["plain"]).scenario.palette == "default"


def test_no_color_draws_a_heatmaps_negative_values_in_shades_of_their_own(monkeypatch):
    row = np.array([-1.0, -0.1, 0.0, 0.1, 1.0, np.nan])
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = shade_line(row, scale=1.0, selected=None).plain
    assert coloured == "█░·░█✖"  # the sign is the colour's alone
    monkeypatch.setenv("NO_COLOR", "1")
    grey = shade_line(row, scale=1.0, selected=None).plain
    assert grey == NEG_SHADES[4] + NEG_SHADES[1] + "·░█✖"  # same magnitudes, the negative ones apart
    assert set(NEG_SHADES[1:]).isdisjoint(SHADES)
