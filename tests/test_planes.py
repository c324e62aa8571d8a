"""Every neuron over the input plane (engine/planes.py): each layer's a at the grid's pixel centres,
checked against a forward pass written out in the test (conftest's reference, one point at a time),
the scale of each activation, the inputs transform shared with the boundary, and the cache that
keeps the planes of the same weight arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.activations import get_activation
from tui_backprop.engine.boundary import Extent, extent, output_grid
from tui_backprop.engine.losses import get_loss
from tui_backprop.engine.network import Network
from tui_backprop.engine.planes import PlaneCache, activation_planes, layer_scale


def centre(ext: Extent, cols: int, rows: int, r: int, c: int) -> np.ndarray:
    """The point at the centre of pixel (r, c): x1 to the right, x2 upwards from the top row."""
    x1 = ext.x1_lo + (c + 0.5) * (ext.x1_hi - ext.x1_lo) / cols
    x2 = ext.x2_hi - (r + 0.5) * (ext.x2_hi - ext.x2_lo) / rows
    return np.array([x1, x2])


@pytest.mark.parametrize("name", ["xor", "circle", "spiral"])
def test_every_layers_plane_is_the_forward_pass_at_each_pixel_centre(name, ref):
    s = load_scenario(name)
    trainer = Trainer(s)
    trainer.run(40, record=False)  # weights that have learned something
    ext, cols, rows = extent(trainer.X), 9, 7
    planes = activation_planes(trainer.network, trainer.W, trainer.b, ext, cols, rows)
    assert [a.shape for a in planes.a] == [(rows, cols, n) for n in s.layers[1:]]
    rng = np.random.default_rng(3)
    pixels = [(0, 0), (rows - 1, cols - 1), (0, cols - 1)] + [
        (int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(5)
    ]
    for r, c in pixels:
        _, acts = ref.forward_sample(trainer.W, trainer.b, s.activations, centre(ext, cols, rows, r, c))
        for l, a in enumerate(acts):
            np.testing.assert_allclose(planes.a[l][r, c], a, rtol=1e-12, atol=1e-15)
    # the last layer's plane is the decision boundary's grid
    np.testing.assert_array_equal(
        planes.a[-1], output_grid(trainer.network, trainer.W, trainer.b, ext, cols, rows)
    )


def test_the_planes_are_read_only():
    trainer = Trainer(load_scenario("circle"))
    planes = activation_planes(trainer.network, trainer.W, trainer.b, extent(trainer.X), 4, 4)
    with pytest.raises(ValueError):
        planes.a[0][0, 0, 0] = 1.0


def test_a_bounded_activation_is_drawn_on_its_own_range_any_other_on_the_layers():
    a = np.array([[[0.2, -3.0], [5.0, np.nan]]])
    assert layer_scale("sigmoid", a) == ((0.0, 1.0), True)
    assert layer_scale("softmax", a) == ((0.0, 1.0), True)
    assert layer_scale("tanh", a) == ((-1.0, 1.0), True)
    assert layer_scale("sine", a) == ((-1.0, 1.0), True)
    # relu, identity, ...: the layer's finite values, every node of it
    assert layer_scale("relu", a) == ((-3.0, 5.0), False)
    assert layer_scale("identity", np.full((2, 2, 1), 4.0)) == ((3.0, 5.0), False)  # constant: +-1
    assert layer_scale("elu", np.full((2, 2, 1), np.inf)) == ((-1.0, 1.0), False)  # nothing finite


def test_a_relu_layers_scale_is_its_range_over_the_plane():
    net = Network((get_activation("relu"),), get_loss("mse"), bias=True)
    W, b = (np.array([[1.0, 0.0], [0.0, -2.0]]),), (np.array([0.0, 1.0]),)
    ext = Extent(-1.0, 1.0, -1.0, 1.0)
    planes = activation_planes(net, W, b, ext, 4, 4)
    # a = relu(x1) and relu(1 - 2 x2) at the centres x1, x2 in {-0.75, -0.25, 0.25, 0.75}:
    # the lowest is 0, the highest 1 + 2 * 0.75 = 2.5
    assert planes.scale[0] == pytest.approx((0.0, 2.5)) and planes.bounded == (False,)


def test_the_raw_points_go_through_the_inputs_transform():
    # a network whose inputs are (x1, x2, x1 * x2), as [data] features would make them
    net = Network((get_activation("identity"),), get_loss("mse"), bias=False)
    W, b = (np.array([[0.0, 0.0, 1.0]]),), (np.zeros(0),)

    def inputs(P: np.ndarray) -> np.ndarray:
        return np.column_stack([P, P[:, 0] * P[:, 1]])

    ext = Extent(-2.0, 2.0, -1.0, 1.0)
    planes = activation_planes(net, W, b, ext, 5, 3, inputs)
    for r in range(3):
        for c in range(5):
            x1, x2 = centre(ext, 5, 3, r, c)
            assert planes.a[0][r, c, 0] == pytest.approx(x1 * x2)
    np.testing.assert_array_equal(planes.a[0], output_grid(net, W, b, ext, 5, 3, inputs))


def test_the_cache_computes_once_for_the_same_arrays_and_again_for_new_ones():
    trainer = Trainer(load_scenario("xor"))
    cache = PlaneCache(trainer.network, extent(trainer.X))
    first = cache.planes(trainer.W, trainer.b, 6, 6)
    assert cache.planes(list(trainer.W), list(trainer.b), 6, 6) is first  # the same arrays
    assert cache.computed == 1
    other = cache.planes(trainer.W, trainer.b, 4, 8)  # another size: its own planes
    assert cache.computed == 2 and other.a[0].shape == (8, 4, 3)
    assert cache.planes(trainer.W, trainer.b, 6, 6) is first  # both sizes kept
    # equal values in new arrays are not taken for the same weights
    copies = tuple(w.copy() for w in trainer.W)
    again = cache.planes(copies, trainer.b, 6, 6)
    assert again is not first and cache.computed == 3
    np.testing.assert_array_equal(again.a[1], first.a[1])
    trainer.step()  # an update makes new arrays
    stepped = cache.planes(trainer.W, trainer.b, 6, 6)
    assert cache.computed == 4 and not np.array_equal(stepped.a[1], first.a[1])


def test_the_cache_keeps_a_bounded_number_of_sizes():
    trainer = Trainer(load_scenario("xor"))
    cache = PlaneCache(trainer.network, extent(trainer.X), kept=2)
    for size in (2, 3, 4, 2):
        cache.planes(trainer.W, trainer.b, size, size)
    assert cache.computed == 4  # size 2 was dropped when 4 came, the third size
