"""The proportional error split (engine/split.py) against loops written from its formula.

e_i = sum_j e_j * w_ji / sum_k w_jk, from the output e = t - y back to layer 1, with
w_ji = W[l+1][j][i] (row j holds the weights into node j).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.explain import record_split
from tui_backprop.engine.split import proportional_errors


def split_by_loops(W, e_out):
    """The split, one sample, one node and one weight at a time."""
    errors = [np.array(e_out, dtype=float)]
    for Wl in reversed(W[1:]):  # W[l+1] hands layer l+1's error to layer l
        e_next = errors[0]
        n_to, n_from = len(Wl), len(Wl[0])
        e = np.zeros((len(e_next), n_from))
        for k in range(len(e_next)):
            for i in range(n_from):
                total = 0.0
                for j in range(n_to):
                    incoming = sum(Wl[j][m] for m in range(n_from))
                    total += e_next[k][j] * Wl[j][i] / incoming
                e[k][i] = total
        errors.insert(0, e)
    return errors


@st.composite
def networks(draw):
    layers = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    B = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # each row one sign, so that no row sums to near 0, where the split is undefined
    W = [
        rng.uniform(0.1, 2.0, size=(n, m)) * rng.choice([-1.0, 1.0], size=(n, 1))
        for m, n in zip(layers, layers[1:], strict=False)
    ]
    e_out = rng.normal(size=(B, layers[-1]))
    return W, e_out


@given(networks())
def test_split_matches_the_formula_loop(net):
    W, e_out = net
    got = proportional_errors(W, e_out)
    want = split_by_loops(W, e_out)
    assert len(got) == len(W)
    for l, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.shape == (len(e_out), W[l].shape[0])
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@given(networks())
def test_each_node_hands_back_exactly_its_error(net):
    # the shares of node j's error sum to 1, so every layer passes on the same total error
    W, e_out = net
    for e in proportional_errors(W, e_out):
        np.testing.assert_allclose(e.sum(axis=1), e_out.sum(axis=1), rtol=1e-9, atol=1e-9)


def test_the_output_error_is_returned_unchanged():
    e_out = np.array([[0.25, -1.5]])
    errors = proportional_errors([np.ones((3, 2)), np.ones((2, 3))], e_out)
    np.testing.assert_array_equal(errors[-1], e_out)
    assert errors[0].shape == (1, 3)


def test_a_node_whose_weights_sum_to_zero_has_no_proportions():
    W = [np.ones((2, 1)), np.array([[1.0, -1.0]])]
    (hidden, _) = proportional_errors(W, np.array([[1.0]]))
    assert not np.isfinite(hidden).any()


# -- the bundled proportional_2_3_1 --------------------------------------------------------------


@pytest.fixture(scope="module")
def prop():
    return load_scenario("proportional_2_3_1")


def test_output_error_two_split_by_the_output_weights(prop):
    W = [np.array(w, dtype=float) for w in prop.init.weights]
    w_out = W[1][0]
    hidden, out = proportional_errors(W, np.array([[2.0]]))
    np.testing.assert_array_equal(out, [[2.0]])
    # each hidden node gets 2 * w_j / (w_1 + w_2 + w_3)
    expected = [2.0 * w_out[i] / (w_out[0] + w_out[1] + w_out[2]) for i in range(3)]
    np.testing.assert_allclose(hidden[0], expected, rtol=1e-14)
    assert hidden.sum() == pytest.approx(2.0, rel=1e-14)


def test_the_first_step_error_of_proportional_2_3_1(prop):
    rec = Trainer(prop).step()
    y, t = rec.layers[-1].a, rec.t
    W = [lr.w_before for lr in rec.layers]
    hidden, out = proportional_errors(W, t - y)
    e = float(t[0, 0] - y[0, 0])
    w_out = [0.58, 0.21, 0.36]
    np.testing.assert_allclose(hidden[0], [e * w / sum(w_out) for w in w_out], rtol=1e-14)
    # not the backpropagated delta: opposite sign (y - t) and each node's slope a(1 - a)
    assert np.sign(hidden[0]).tolist() == (-np.sign(rec.layers[0].delta[0])).tolist()
    assert np.abs(hidden - rec.layers[0].delta).max() > 0.01


@pytest.mark.parametrize("name", ["proportional_2_3_1", "proportional_2_3_1_split"])
def test_the_first_step_has_an_output_error_of_exactly_two(name):
    s = load_scenario(name)
    rec = Trainer(s).step()
    # x = (0, 0) and no biases: every hidden a is sigmoid(0) = 0.5, the identity output is
    # y = 0.5 * (0.58 + 0.21 + 0.36) and the target is y + 2, exactly in float64
    np.testing.assert_array_equal(rec.x, [[0.0, 0.0]])
    np.testing.assert_array_equal(rec.layers[0].a, [[0.5, 0.5, 0.5]])
    e = rec.t - rec.layers[-1].a
    assert e.tolist() == [[2.0]]
    w = [float(v) for v in rec.layers[1].w_before[0]]
    assert w == [0.58, 0.21, 0.36]
    shares = [2.0 * w_j / (w[0] + w[1] + w[2]) for w_j in w]
    hidden, out = record_split(rec)  # recorded when training with the split, derived otherwise
    assert (rec.layers[0].error is not None) == (s.error_split == "proportional")
    assert out.tolist() == [[2.0]]
    np.testing.assert_allclose(hidden[0], shares, rtol=1e-15)
    # the true deltas beside them: (y - t) * w_j * a_j (1 - a_j), identity output
    deltas = [-2.0 * w_j * 0.25 for w_j in w]
    np.testing.assert_allclose(rec.layers[0].delta[0], deltas, rtol=1e-15)
    # what the description tells the learner to look for at step 1
    for value in shares:
        assert f"{value:.4f}" in s.description
    for value in deltas:
        assert f"{value:g}" in s.description
    assert "e = t - y = 2" in s.description
