"""Every neuron over the input plane in the app: the zoom 9 (every node of the selected layer, the
selected node's map larger), the small maps beside the nodes of the network panel, and their
colours and shades under each palette and NO_COLOR.

Each map's cells are read back from the panel and compared with a forward pass over the plane
written out here in numpy (tanh and sigmoid of W x + b at each pixel centre), with the weights the
panel says it draws: the record's after its update in the zoom (as the boundary), before it in
the network panel (as its lines and node values)."""

from __future__ import annotations

import numpy as np
import pytest
from app_harness import DIVERGE_2_2_1, drive
from rich.text import Text

from tui_backprop import load_scenario
from tui_backprop.engine.boundary import Extent
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.network import NetworkView
from tui_backprop.tui.panels.plane_text import LEVELS, colours
from tui_backprop.tui.panels.planes import GAP, HEADING, HeatmapsPanel
from tui_backprop.tui.widgets.palette import COLORBLIND, DEFAULT

BASE = np.array([34.0, 34.0, 34.0])  # the dark middle of the scale
ACT = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0.0)}


def plane_values(W, b, activations, ext: Extent, cols: int, rows: int) -> list[np.ndarray]:
    """a[l] (rows, cols, n_l) at every pixel centre, one layer after the other, in plain numpy."""
    x1 = ext.x1_lo + (np.arange(cols) + 0.5) * (ext.x1_hi - ext.x1_lo) / cols
    x2 = ext.x2_hi - (np.arange(rows) + 0.5) * (ext.x2_hi - ext.x2_lo) / rows
    a = np.array([[xa, xb] for xb in x2 for xa in x1])
    out = []
    for Wl, bl, f in zip(W, b, activations, strict=True):
        z = a @ np.asarray(Wl).T + bl
        if f == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = ACT[f](z)
        out.append(a.reshape(rows, cols, -1))
    return out


def cells(line: Text) -> list[tuple[str, object]]:
    """Each character of a line with its style."""
    out: list[tuple[str, object]] = [(ch, None) for ch in line.plain]
    for span in line.spans:
        for k in range(span.start, span.end):
            out[k] = (out[k][0], span.style)
    return out


def read_map(lines: list[Text], top: int, left: int, rows: int, cols: int) -> list[list[tuple[str, object]]]:
    return [cells(lines[top + r])[left : left + cols] for r in range(rows)]


def assert_map_shows(drawn, values: np.ndarray, scale: tuple[float, float]) -> int:
    """Each half block of ``drawn`` holds the colours of two pixels of ``values`` (2 rows, cols);
    returns the cells compared (the training points' markers are skipped)."""
    expected = colours(values, scale)
    compared = 0
    for r, row in enumerate(drawn):
        for c, (ch, st) in enumerate(row):
            if ch != "▀":
                continue
            assert st.color.get_truecolor() == tuple(expected[2 * r, c]), (r, c)
            assert st.bgcolor.get_truecolor() == tuple(expected[2 * r + 1, c]), (r, c)
            compared += 1
    return compared


def zoom_weights(app: BackpropApp):
    rec = app.record
    if rec is None:
        return app.net.initial_W, app.net.initial_b
    return [lr.w for lr in rec.layers], [lr.b for lr in rec.layers]


def check_zoom(app: BackpropApp) -> None:
    """The zoom's large map and every small map are the selected layer's a, node by node."""
    panel = app.query_one(HeatmapsPanel)
    at, (layer, j) = panel.sizes, panel.shown
    ext = panel.planes.extent
    W, b = zoom_weights(app)
    acts = app.scenario.activations
    big = plane_values(W, b, acts, ext, at.cols, 2 * at.rows)[layer - 1]
    small = plane_values(W, b, acts, ext, at.small_cols, 2 * at.small_rows)[layer - 1]
    scale = panel.drawn.scale[layer - 1]
    lines = panel._lines
    assert lines[HEADING].plain.startswith(app.net.names[layer][j])  # the large map's title
    compared = assert_map_shows(read_map(lines, HEADING + 1, 0, at.rows, at.cols), big[:, :, j], scale)
    assert compared > at.rows * at.cols // 2  # most cells are the map, not points
    n = app.net.layers[layer]
    for node in range(n):
        block, k = divmod(node, at.per_row)
        top = HEADING + block * (at.small_rows + 1)
        left = at.cols + GAP + k * (at.small_cols + GAP)
        assert lines[top].plain[left:].startswith(app.net.names[layer][node])
        drawn = read_map(lines, top + 1, left, at.small_rows, at.small_cols)
        assert assert_map_shows(drawn, small[:, :, node], scale) == at.small_rows * at.small_cols


async def test_9_zooms_every_node_of_the_selected_layer_and_9_or_escape_goes_back(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        panel = app.query_one(HeatmapsPanel)
        assert not panel.display and panel.text == ""  # hidden until zoomed, and nothing built
        await s.press("f")  # f: 100 steps
        await s.until(lambda: app.record is not None and not app.playing, what="100 steps")
        await s.press("9")  # 9: zoom the neuron heatmaps
        assert app.screen.maximized is panel and panel.display
        assert "9 neuron heatmaps" in s.screen()
        # the selection is W[1][0,0], into h1: layer 1 (4 tanh nodes), h1 large
        assert panel.shown == (1, 0) and "layer 1 (hidden, tanh)" in panel.text
        assert "scale -1..1 (tanh's range)" in panel.text
        at = panel.sizes
        assert at.rows > at.small_rows and at.cols > at.small_cols  # the selected node's map is larger
        check_zoom(app)
        await s.press("9")  # 9: back
        assert app.screen.maximized is None and not panel.display
        await s.press("9")  # 9: zoomed again
        assert app.screen.maximized is panel
        await s.press("escape")  # escape: back
        assert app.screen.maximized is None and not panel.display


async def test_the_zoom_follows_the_selection_steps_back_and_reset(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        await s.press("9")  # 9: the heatmaps at step 0: the initial weights
        panel = app.query_one(HeatmapsPanel)
        assert "with the initial weights" in panel.text
        check_zoom(app)
        await s.press("space", "space")  # space x 2: steps 1 and 2
        assert "after step 2's update" in panel.text
        check_zoom(app)
        await s.press("down", "down")  # down x 2: W[1][2,0], into h3
        assert panel.shown == (1, 2) and panel._lines[HEADING].plain.startswith("h3")
        check_zoom(app)
        await s.press("tab")  # tab: select a node (input x1)
        await s.press("right", "right")  # right x 2: the output layer
        layer, node = app.selection.focus_node()
        assert layer == 2 and panel.shown == (2, node)
        assert "layer 2 (output, sigmoid)" in panel.text and "scale 0..1 (sigmoid's range)" in panel.text
        check_zoom(app)
        await s.press("left", "left")  # left x 2: an input selected: layer 1 is shown
        assert app.selection.focus_node()[0] == 0 and panel.shown == (1, 0)
        assert "input x1 selected: layer 1 shown" in panel.text
        await s.press("b")  # b: back to step 1
        assert app.record.step == 1 and "after step 1's update" in panel.text
        check_zoom(app)
        await s.press("r")  # r: reset
        assert app.record is None and "with the initial weights" in panel.text
        check_zoom(app)


async def test_a_relu_layer_states_its_range_over_the_plane(tmp_path):
    text = (
        '[scenario]\nname = "relu 2-3-1"\n\n'
        '[network]\nlayers = [2, 3, 1]\nactivations = ["relu", "sigmoid"]\n\n'
        '[init]\nmethod = "uniform"\nseed = 2\n\n[data]\ninputs = [[0, 0], [0, 1], [1, 0], [1, 1]]\n'
        'targets = [0, 1, 1, 0]\n\n[training]\nloss = "mse"\nlearning_rate = 0.5\n'
    )
    path = tmp_path / "relu.toml"
    path.write_text(text, encoding="utf-8")
    app = BackpropApp(load_scenario(str(path)))
    async with drive(app) as s:
        await s.press("9")  # 9: layer 1, relu
        panel = app.query_one(HeatmapsPanel)
        lo, hi = panel.drawn.scale[0]
        W, b = zoom_weights(app)
        at = panel.sizes
        relu = plane_values(W, b, ["relu", "sigmoid"], panel.planes.extent, at.cols, 2 * at.rows)[0]
        assert (lo, hi) == pytest.approx((relu.min(), relu.max()), rel=1e-12, abs=1e-15)
        assert hi > lo >= 0.0
        assert f"scale {lo:.3g}..{hi:.3g} (this layer's range over the plane)" in panel.text


@pytest.mark.parametrize(("name", "inputs"), [("mlp_error_signal", 3), ("iris", 4)])
async def test_a_network_without_two_inputs_says_the_heatmaps_need_two(name, inputs):
    app = BackpropApp(load_scenario(name))
    assert app.net.layers[0] == inputs
    async with drive(app) as s:
        await s.press("9")  # 9: refused, with the reason
        assert app.screen.maximized is None
        assert s.noted(f"the neuron heatmaps need a network with 2 inputs (this one has {inputs})")
        await s.press("1")  # 1: the network zoomed: no maps beside the nodes
        assert app.query_one(NetworkView).map_rows == 0


# -- the maps beside the nodes of the network panel ---------------------------------------------


def network_maps(app: BackpropApp) -> None:
    """Each hidden and output node's map beside its label is its a over the plane, with the
    weights the diagram's lines are (before the update)."""
    view = app.query_one(NetworkView)
    h = view.map_rows
    rec = app.record
    W = [lr.w_before for lr in rec.layers] if rec else app.net.initial_W
    b = [lr.b_before for lr in rec.layers] if rec else app.net.initial_b
    ext = view.planes.extent
    acts = app.scenario.activations
    planes = plane_values(W, b, acts, ext, 2 * h, 2 * h)
    lines = view._lines
    found = 0
    for l in range(1, len(app.net.layers)):
        scale = (-1.0, 1.0) if acts[l - 1] == "tanh" else (0.0, 1.0)
        for j, name in enumerate(app.net.names[l]):
            row = next(k for k, line in enumerate(lines) if f" {name} " in f" {line.plain} ")
            start = lines[row].plain.index(name)
            left = lines[row].plain.index("▀", start)
            drawn = read_map(lines, row, left, h, 2 * h)
            assert assert_map_shows(drawn, planes[l - 1][:, :, j], scale) == 2 * h * h
            found += 1
    assert found == sum(app.net.layers[1:])


async def test_the_network_panel_shows_each_nodes_map_where_it_fits(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        view = app.query_one(NetworkView)
        assert view.map_rows == 0  # 140x40, six panels: the rows of nodes are too close
        await s.press("1")  # 1: the network zoomed: room for maps
        assert view.map_rows >= 3
        assert "map: a over (x1, x2), 9 zooms" in view.text
        network_maps(app)
        await s.press("space", "space")  # space x 2: the maps follow the step
        network_maps(app)
        await s.press("b")  # b: and step back
        network_maps(app)


async def test_a_click_on_a_nodes_map_selects_it():
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        await s.press("1")  # 1: the network zoomed, with maps
        view = app.query_one(NetworkView)
        lines = view._lines
        row = next(k for k, line in enumerate(lines) if " h3 " in f" {line.plain} ")
        col = lines[row].plain.index("▀", lines[row].plain.index("h3"))
        region = view.scrollable_content_region
        await s.pilot.click(offset=(region.x + col + 1, region.y + row + 1))  # a cell inside h3's map
        await s.pilot.pause()
        assert (app.selection.mode, app.selection.node_layer, app.selection.node) == ("node", 1, 2)


# -- palettes and NO_COLOR ----------------------------------------------------------------------


def hue(colour: np.ndarray, palette) -> int:
    """The class colour of ``palette`` a cell was blended from (towards the dark middle)."""
    d = np.asarray(colour, dtype=float) - BASE
    cands = [np.asarray(p, dtype=float) - BASE for p in palette.classes[:2]]
    return int(np.argmax([d @ p / (np.linalg.norm(d) * np.linalg.norm(p) + 1e-12) for p in cands]))


@pytest.mark.parametrize("palette", [DEFAULT, COLORBLIND], ids=lambda p: p.name)
async def test_each_palette_draws_the_low_end_in_its_first_class_colour_and_the_high_end_in_its_second(
    monkeypatch, palette
):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        app.trainer.run(99, record=False)
        await s.press("space")  # space: step 100
        if palette is COLORBLIND:
            await s.press("C")  # C: the colorblind palette
        assert app.palette == palette.name
        await s.press("9")  # 9: the heatmaps, layer 1 (tanh)
        panel = app.query_one(HeatmapsPanel)
        at = panel.sizes
        W, b = zoom_weights(app)
        acts, ext = app.scenario.activations, panel.planes.extent
        a = plane_values(W, b, acts, ext, at.cols, 2 * at.rows)[0][:, :, 0]
        drawn = read_map(panel._lines, HEADING + 1, 0, at.rows, at.cols)
        ends = {0: 0, 1: 0}
        for r, row in enumerate(drawn):
            for c, (ch, st) in enumerate(row):
                if ch != "▀":
                    continue
                for colour, value in ((st.color, a[2 * r, c]), (st.bgcolor, a[2 * r + 1, c])):
                    if abs(value) > 0.3:  # clearly off the dark middle
                        side = int(value > 0)
                        assert hue(colour.get_truecolor(), palette) == side, (r, c, value)
                        ends[side] += 1
        assert ends[0] > 20 and ends[1] > 20  # h1 has learned a line: both ends are on the map
        # the scale's legend shows its ends in those colours
        legend = cells(panel._lines[1])
        swatches = [st.bgcolor.get_truecolor() for ch, st in legend if ch == "█" and st is not None]
        assert hue(swatches[0], palette) == 0 and hue(swatches[-1], palette) == 1


async def test_no_color_draws_each_cell_as_the_shade_of_its_place_on_the_scale(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        app.trainer.run(99, record=False)
        await s.press("space")  # space: step 100
        await s.press("9")  # 9: the heatmaps, layer 1 (tanh, -1..1)
        panel = app.query_one(HeatmapsPanel)
        at = panel.sizes
        W, b = zoom_weights(app)
        # one pixel a character under NO_COLOR
        acts, ext = app.scenario.activations, panel.planes.extent
        a = plane_values(W, b, acts, ext, at.cols, at.rows)[0]
        small = plane_values(W, b, acts, ext, at.small_cols, at.small_rows)[0]
        for node in range(4):
            left = at.cols + GAP + (node % at.per_row) * (at.small_cols + GAP)
            top = HEADING + (node // at.per_row) * (at.small_rows + 1) + 1
            for r in range(at.small_rows):
                row = panel._lines[top + r].plain[left : left + at.small_cols]
                # five equal bins of -1..1, from · (lowest) to █ (highest)
                want = "".join(LEVELS[min(int((v + 1) / 2 * 5), 4)] for v in small[r, :, node])
                assert row == want, (node, r)
        # the large map too, but for the training points' markers on it
        shades = {ch: k for k, ch in enumerate(LEVELS)}
        pairs = [
            (shades[ch], a[r, c, 0])
            for r in range(at.rows)
            for c, ch in enumerate(panel._lines[HEADING + 1 + r].plain[: at.cols])
            if ch in shades
        ]
        assert len(pairs) > at.rows * at.cols // 2
        assert all(level == min(int((v + 1) / 2 * 5), 4) for level, v in pairs)
        assert "· -1 … ▒ 0 … █ 1" in panel.text  # the scale, in shades
        await s.press("1")  # 1: the network zoomed: its maps in shades as well
        view = app.query_one(NetworkView)
        assert view.map_rows and not any("▀" in line.plain for line in view._lines)
        assert any(set(line.plain) & set(LEVELS[1:]) for line in view._lines)


async def test_panels_out_of_sight_during_a_zoom_build_nothing_and_catch_up_after_it():
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        forward = app.query_one("#forward")
        built: list[int] = []
        build = forward.build_lines
        forward.build_lines = lambda width: built.append(1) or build(width)  # type: ignore[method-assign]
        await s.press("space")  # space: step 1, every panel drawn
        assert built and "#" in forward.text
        await s.press("9")  # 9: the heatmaps fill the screen
        built.clear()
        await s.press("space", "space")  # space x 2: steps 2 and 3, the forward panel out of sight
        assert not built and forward.stale
        await s.press("escape")  # escape: the zoom ends; the forward panel draws step 3
        assert built and not forward.stale
        rec = app.record
        assert rec.step == 3 and all(f"#{i}" in forward.text for i in rec.batch[:3])


@pytest.mark.parametrize("size", [(60, 16), (80, 24), (200, 60)], ids=["60x16", "80x24", "200x60"])
async def test_a_diverged_network_and_any_size_draw_without_a_fault(monkeypatch, tmp_path, size):
    monkeypatch.delenv("NO_COLOR", raising=False)
    path = tmp_path / "diverges.toml"
    path.write_text(DIVERGE_2_2_1, encoding="utf-8")
    app = BackpropApp(load_scenario(str(path)))
    async with drive(app, size=size) as s:
        await s.press("space")  # space: step 1, where the run diverges
        assert app.record.diverged
        await s.press("9")  # 9: the heatmaps of numbers near 1e172 and beyond
        panel = app.query_one(HeatmapsPanel)
        assert app.screen.maximized is panel and panel.shown == (1, 0)
        lo, hi = panel.drawn.scale[0]  # identity: the finite range of the layer
        assert np.isfinite(lo) and np.isfinite(hi) and hi > lo
        assert "(this layer's range" in panel.text  # cut to the width at 60 columns
        await s.press("9", "1")  # 9, 1: the network zoomed, its maps if they fit
        assert app.screen.maximized is app.query_one(NetworkView)
