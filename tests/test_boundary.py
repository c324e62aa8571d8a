"""The decision boundary: engine/boundary.py evaluates the network over the input plane (checked
against outputs written out in the test), and the app's boundary panel colours it from the
current record's weights, with the training points on it, for two-input networks only."""

from __future__ import annotations

import numpy as np
import pytest
from app_harness import DIVERGE_2_2_1, drive, scenario_file
from rich.color import Color

from tui_backprop import Trainer, load_scenario, loads_scenario
from tui_backprop.engine.activations import get_activation
from tui_backprop.engine.boundary import Extent, extent, grid_points, output_grid, pixel_of
from tui_backprop.engine.losses import get_loss
from tui_backprop.engine.network import Network
from tui_backprop.tui.app import BackpropApp
from tui_backprop.tui.panels.boundary import PALETTE, STYLES_KEPT, BoundaryPanel, cell_style

# -- the engine ----------------------------------------------------------------------------------


def test_extent_is_the_data_range_plus_a_margin():
    X = np.array([[0.0, -2.0], [4.0, 2.0], [1.0, 0.0]])
    assert extent(X) == pytest.approx(Extent(-0.4, 4.4, -2.4, 2.4))
    assert extent(X, margin=0.0) == pytest.approx(Extent(0.0, 4.0, -2.0, 2.0))
    assert extent(np.array([[1.0, 5.0], [1.0, 5.0]])) == pytest.approx(Extent(0.0, 2.0, 4.0, 6.0))


def test_grid_points_are_pixel_centres_from_the_top_left():
    P = grid_points(Extent(0.0, 4.0, 0.0, 2.0), cols=4, rows=2)
    # row 0 is the top (x2 high), columns go right: centres at x1 = 0.5, 1.5, ..., x2 = 1.5 then 0.5
    expected = [[x1, x2] for x2 in (1.5, 0.5) for x1 in (0.5, 1.5, 2.5, 3.5)]
    np.testing.assert_allclose(P, expected)


def test_output_grid_of_a_linear_network_is_w_x_plus_b_at_each_centre():
    net = Network((get_activation("identity"),), get_loss("mse"), bias=True)
    W, b = (np.array([[2.0, -3.0]]),), (np.array([0.5]),)
    ext = Extent(-1.0, 1.0, -2.0, 2.0)
    Y = output_grid(net, W, b, ext, cols=5, rows=4)
    assert Y.shape == (4, 5, 1)
    for r in range(4):
        for c in range(5):
            x1 = -1.0 + (c + 0.5) * 2.0 / 5
            x2 = 2.0 - (r + 0.5) * 4.0 / 4
            assert Y[r, c, 0] == pytest.approx(2 * x1 - 3 * x2 + 0.5)


def test_output_grid_of_a_trained_network_matches_its_forward_pass():
    s = load_scenario("spiral")
    trainer = Trainer(s)
    trainer.run(50, record=False)
    ext = extent(s.inputs)
    Y = output_grid(trainer.network, trainer.W, trainer.b, ext, cols=7, rows=6)
    P = grid_points(ext, 7, 6)
    a = P
    for Wl, bl, f in zip(trainer.W, trainer.b, ("tanh", "tanh", "softmax"), strict=True):
        z = a @ Wl.T + bl
        a = np.tanh(z) if f == "tanh" else np.exp(z - z.max(axis=1, keepdims=True))
    a = a / a.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(Y.reshape(42, 2), a, rtol=1e-12)


def test_pixel_of_puts_each_point_in_the_pixel_whose_centre_it_is():
    ext = Extent(-3.0, 5.0, -1.0, 3.0)
    P = grid_points(ext, cols=8, rows=4)
    r, c = pixel_of(P, ext, cols=8, rows=4)
    assert r.tolist() == [k // 8 for k in range(32)] and c.tolist() == [k % 8 for k in range(32)]
    # the edges, and points outside, land in the outermost pixels
    r, c = pixel_of(np.array([[5.0, -1.0], [-9.0, 9.0]]), ext, cols=8, rows=4)
    assert (r.tolist(), c.tolist()) == ([3, 0], [7, 0])


# -- colours -----------------------------------------------------------------------------------


def panel_for(text_or_name: str) -> tuple[BoundaryPanel, Trainer]:
    s = load_scenario(text_or_name) if "\n" not in text_or_name else loads_scenario(text_or_name)
    trainer = Trainer(s)
    app = BackpropApp(s)
    return BoundaryPanel(app.net, trainer.network, trainer.X, trainer.T, "8"), trainer


def hue_of(colour: np.ndarray) -> int:
    """Which palette colour a shade was blended from (towards the dark base)."""
    base = np.array([34, 34, 34])
    d = colour - base
    cos = [(d @ (p - base)) / (np.linalg.norm(d) * np.linalg.norm(p - base) + 1e-12) for p in PALETTE]
    return int(np.argmax(cos))


def test_softmax_pixels_take_the_colour_of_the_arg_max_class_deeper_when_surer():
    panel, _ = panel_for("spiral")
    Y = np.array([[[0.9, 0.1], [0.2, 0.8], [0.55, 0.45]]])
    colours = panel.pixel_colours(Y)
    assert [hue_of(c) for c in colours[0]] == [0, 1, 0]
    # 0.9 is surer than 0.55: further from the undecided base
    assert np.linalg.norm(colours[0, 0] - 34) > np.linalg.norm(colours[0, 2] - 34)


def test_one_output_runs_from_the_lowest_target_to_the_highest():
    panel, trainer = panel_for("circle")  # sigmoid output, targets 0 and 1
    assert panel.t_range == (0.0, 1.0)
    colours = panel.pixel_colours(np.array([[[0.0], [0.5], [1.0], [0.8]]]))
    assert hue_of(colours[0, 0]) == 0 and hue_of(colours[0, 2]) == 1 and hue_of(colours[0, 3]) == 1
    np.testing.assert_array_equal(colours[0, 1], [32, 32, 32])  # undecided (the base, in steps of 4)
    points = panel.point_colours()
    inside = trainer.T[:, 0] == 1
    light = [np.rint((c + (255 - c) * 0.35) / 4) * 4 for c in PALETTE[:2]]  # lightened, in steps of 4
    assert (points[inside] == light[1]).all() and (points[~inside] == light[0]).all()


def test_the_styles_kept_stay_bounded_however_many_colours_a_long_run_meets(monkeypatch):
    panel, _ = panel_for("circle")
    rng = np.random.default_rng(0)
    last: list[np.ndarray] = []

    def new_colours(Y: np.ndarray) -> np.ndarray:  # each frame in colours mostly never seen before
        last[:] = [rng.integers(0, 64, size=(*Y.shape[:2], 3)) * 4]
        return last[0]

    monkeypatch.setattr(panel, "pixel_colours", new_colours)
    cell_style.cache_clear()
    met: set[tuple] = set()
    for _ in range(100):  # about 200 cells a frame
        lines = panel.build_lines(40)
        for line in lines:
            met.update((st.color, st.bgcolor) for st in _styles_of(line) if st is not None)
    assert len(met) > 2 * STYLES_KEPT  # many more colours than are kept
    assert cell_style.cache_info().currsize <= STYLES_KEPT
    rows, cols = panel.plane  # and the last frame is still drawn in its own colours
    assert len(lines) == rows
    for r, line in enumerate(lines):
        left = line.cell_len - cols  # the plane is centred in the panel
        for c, (ch, st) in enumerate(list(zip(line.plain, _styles_of(line), strict=True))[left:]):
            if ch == "▀":
                assert st.color.get_truecolor() == tuple(last[0][2 * r, c])
                assert st.bgcolor.get_truecolor() == tuple(last[0][2 * r + 1, c])


# -- the panel in the app ------------------------------------------------------------------------


def cell_styles(panel: BoundaryPanel) -> list[list[tuple[str, Color | None, Color | None]]]:
    """Each character of the plane with its foreground and background colours."""
    rows = []
    for line in panel._lines:
        cells = []
        for ch, span_style in zip(line.plain, _styles_of(line), strict=True):
            cells.append((ch, span_style.color, span_style.bgcolor))
        rows.append(cells)
    return rows


def _styles_of(line):
    out = [None] * len(line.plain)
    for span in line.spans:
        for k in range(span.start, span.end):
            out[k] = span.style
    return out


@pytest.mark.parametrize("size", [(100, 30), (160, 45)], ids=["100x30", "160x45"])
async def test_panel_draws_the_records_output_grid_and_the_points(size):
    app = BackpropApp(load_scenario("circle"))
    async with drive(app, size=size) as s:
        panel = app.query_one(BoundaryPanel)
        assert panel.display and panel.size.width >= 12 and panel.size.height >= 7
        assert "boundary" in str(panel.border_title) and "inside=0" in str(panel.border_subtitle)
        await s.press("f")  # f: 100 steps
        await s.until(
            lambda: app.record is not None and app.record.step == 100 and not app.playing, what="100 steps"
        )
        await s.pilot.pause()
        rec = app.record
        rows, cols = panel.plane
        assert len(panel._lines) == rows and panel._lines[0].cell_len >= cols
        W = tuple(lr.w for lr in rec.layers)
        b = tuple(lr.b for lr in rec.layers)
        Y = output_grid(app.trainer.network, W, b, panel.extent, cols, 2 * rows)
        np.testing.assert_array_equal(panel.grid, Y)  # the record's weights, after the update
        colours = panel.pixel_colours(Y)
        pr, pc = pixel_of(app.trainer.X, panel.extent, cols, 2 * rows)
        point_cells: dict[tuple[int, int], str] = {}  # the first point of a cell is drawn, by its class:
        for r, c, t in zip(pr, pc, app.trainer.T[:, 0], strict=True):  # • outside (0), ▲ inside (1)
            point_cells.setdefault((r // 2, c), "▲" if t == 1 else "•")
        left = panel._lines[0].cell_len - cols
        for r, line in enumerate(cell_styles(panel)):
            for c, (ch, fg, bg) in enumerate(line[left:]):
                if (r, c) in point_cells:
                    assert ch == point_cells[r, c]
                else:  # upper half block: the top pixel in front, the bottom one behind
                    assert ch == "▀"
                    assert fg.get_truecolor() == tuple(colours[2 * r, c])
                    assert bg.get_truecolor() == tuple(colours[2 * r + 1, c])


async def test_panel_follows_the_network_as_it_learns_and_steps_back():
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        panel = app.query_one(BoundaryPanel)
        await s.pilot.pause()
        initial = panel.grid.copy()
        shape = initial.shape
        Y0 = output_grid(
            app.trainer.network, app.net.initial_W, app.net.initial_b, panel.extent, shape[1], shape[0]
        )
        np.testing.assert_array_equal(initial, Y0)  # before the first step: the initial weights
        await s.press("space")  # space: step 1
        await s.pilot.pause()
        assert not np.array_equal(panel.grid, initial)
        await s.press("b")  # b: back to step 0
        await s.pilot.pause()
        np.testing.assert_array_equal(panel.grid, initial)


async def test_a_step_taken_by_phases_shows_the_weights_before_its_update():
    app = BackpropApp(load_scenario("circle"))
    async with drive(app) as s:
        panel = app.query_one(BoundaryPanel)
        await s.press("space")  # space: step 1
        await s.pilot.pause()
        after_1 = panel.grid.copy()
        await s.press("s")  # s: the first phase of step 2 (forward layer 1)
        await s.pilot.pause()
        np.testing.assert_array_equal(panel.grid, after_1)  # step 2's update is still to come
        await s.press("space")  # space: complete step 2
        await s.pilot.pause()
        assert not np.array_equal(panel.grid, after_1)


@pytest.mark.parametrize("name", ["mlp_error_signal", "linear_neuron_full"])  # iris: its confusion matrix
async def test_no_boundary_for_networks_without_two_inputs(name):
    app = BackpropApp(load_scenario(name))
    async with drive(app) as s:
        panel = app.query_one(BoundaryPanel)
        assert not panel.display and panel.extent is None
        await s.press("8")  # 8: zoom the boundary panel: there is none, a note says so
        await s.pilot.pause()
        assert app.screen.maximized is None
        assert s.noted("2 inputs")


async def test_zoom_8_shows_the_plane_with_its_axes():
    app = BackpropApp(load_scenario("spiral"))
    async with drive(app, size=(100, 30)) as s:
        await s.press("8")  # 8: zoom the boundary panel
        await s.pilot.pause()
        panel = app.query_one(BoundaryPanel)
        assert app.screen.maximized is panel
        lines = panel.text.splitlines()
        axes = next(k for k, line in enumerate(lines) if line.startswith("x1 "))
        assert "↑" in lines[axes]
        # a softmax network's confusion matrices beside the plane, zoomed (test_app_accuracy.py)
        assert "test: " in lines[0] and not lines[0].startswith("test")  # the short heading
        rows, cols = panel.plane
        e = panel.extent
        aspect = (e.x1_hi - e.x1_lo) / (e.x2_hi - e.x2_lo)
        assert panel.size.width > 50 and rows >= 20  # the whole screen
        assert abs(cols - 2 * rows * aspect) <= 1  # in the data's proportions: a pixel is half a cell tall
        assert "arm A" in str(panel.border_subtitle)


@pytest.mark.filterwarnings("error::RuntimeWarning")
async def test_a_diverged_network_still_draws_a_plane(tmp_path):
    app = BackpropApp(scenario_file(tmp_path, DIVERGE_2_2_1))
    async with drive(app) as s:
        await s.press("space")  # space: the step where the run diverges
        await s.pilot.pause()
        assert app.record is not None and app.record.diverged
        panel = app.query_one(BoundaryPanel)
        assert not np.isfinite(panel.grid).all()
        rows, cols = panel.plane
        assert len(panel._lines) == rows and all(line.cell_len >= cols for line in panel._lines)
