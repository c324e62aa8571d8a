"""The bundled worked examples, checked against their definitions.

Every expected number here is computed in the test from the formula the example teaches
(with this file's own numpy), never copied from an article or from a previous run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tui_backprop import Trainer, load_scenario
from tui_backprop.scenario.reader import InitSpec

TOL = 1e-12


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOL)


# -- XOR with identity activations and every weight 1 -----------------------------------------


@pytest.fixture
def identity_xor():
    s = load_scenario("xor_identity_worked")
    # the set-up the worked example describes
    assert s.layers == (2, 3, 1)
    assert set(s.activations) <= {"identity", "linear"}
    assert s.bias and s.update_biases
    assert (s.init.method, s.init.value, s.init.bias_value) == ("constant", 1.0, 1.0)
    assert (s.loss, s.learning_rate, s.batch, s.shuffle) == ("half_sse", 0.1, "sample", False)
    assert s.inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert s.targets.ravel().tolist() == [0, 1, 1, 0]
    return s


def test_identity_xor_first_step_on_0_0(identity_xor):
    lr = identity_xor.learning_rate
    rec = Trainer(identity_xor).step()
    assert rec.batch == (0,)

    x1, x2, target = 0.0, 0.0, 0.0
    h = 1.0 * x1 + 1.0 * x2 + 1.0  # each hidden unit: two weights of 1 and a bias of 1
    y = 3 * (1.0 * h) + 1.0  # three hidden units through weights of 1, plus the output bias
    error = y - target  # dl/dy of half_sse; the identity's slope is 1
    moved = 1.0 - lr * error  # an output weight: its input h is 1
    assert y == 4.0 and moved == pytest.approx(0.6)

    hidden, out = rec.layers
    close(out.w, np.full((1, 3), 1.0 - lr * error * h))
    close(out.b, [1.0 - lr * error])  # the weight from the bias unit into the output
    hidden_delta = error * 1.0  # delta_out times the output weight, times the slope 1
    close(hidden.b, np.full(3, 1.0 - lr * hidden_delta))
    for w in (out.w, out.b, hidden.b):
        close(w, np.full(w.shape, moved))
    # the weights from x1 and x2 see an input of 0: their gradient is 0 and they stay 1
    np.testing.assert_array_equal(hidden.grad_w, np.zeros((3, 2)))
    np.testing.assert_array_equal(hidden.w, np.ones((3, 2)))


def test_identity_xor_second_step_on_0_1(identity_xor):
    lr = identity_xor.learning_rate
    trainer = Trainer(identity_xor)
    first = trainer.step()
    second = trainer.step()
    assert second.batch == (1,)

    # the state after step 1, by hand: weights from x1 and x2 are 1, everything else moved
    w_in = 1.0
    moved = 1.0 - lr * 4.0
    b_h = v = c = moved  # hidden biases, output weights, output bias
    close(first.layers[1].w, np.full((1, 3), v))

    # step 2 on (0, 1) with target 1, written out per unit (all three hidden units are alike)
    x1, x2, target = 0.0, 1.0, 1.0
    h = w_in * x1 + w_in * x2 + b_h
    y = v * h + v * h + v * h + c
    error = y - target
    dh = error * v * 1.0  # the hidden delta: output delta times weight times identity slope
    hidden, out = second.layers
    close(out.z, [[y]])
    close(hidden.a, [[h, h, h]])
    close(out.delta, [[error]])
    close(hidden.delta, [[dh, dh, dh]])
    close(out.w, np.full((1, 3), v - lr * error * h))
    close(out.b, [c - lr * error])
    close(hidden.w, np.tile([w_in - lr * dh * x1, w_in - lr * dh * x2], (3, 1)))
    close(hidden.b, np.full(3, b_h - lr * dh))
    assert second.loss == pytest.approx(0.5 * error**2, abs=TOL)


# -- the sigmoid XOR network that learns ------------------------------------------------------


def test_xor_reaches_its_target_loss():
    s = load_scenario("xor")
    assert s.target_loss is not None and s.target_loss <= 0.01
    trainer = Trainer(s, history=1)
    trainer.run(s.max_steps, record=False)
    assert trainer.stop_reason == "target_loss"
    assert trainer.step_count < s.max_steps
    assert trainer.train_losses[-1] < s.target_loss
    # and it has learnt XOR: every prediction is on the right side of 0.5
    a = s.inputs
    for W, b in zip(trainer.W, trainer.b, strict=True):
        a = sigmoid(a @ W.T + b)
    np.testing.assert_array_equal(a > 0.5, s.targets > 0.5)


# -- the final error / error signal MLP ------------------------------------------------------


def test_mlp_error_signal_epoch_follows_the_formulas():
    s = load_scenario("mlp_error_signal")
    assert s.layers == (3, 4, 1) and not s.bias
    assert (s.loss, s.batch, s.learning_rate) == ("half_sse", "sample", 1.0)
    LR = s.learning_rate
    weight_ItoH = np.array(s.init.weights[0])  # (4, 3): row j holds the weights into hidden node j
    weight_HtoO = np.array(s.init.weights[1])[0]  # (4,)
    trainer = Trainer(s)

    for k in range(len(s.inputs)):  # one epoch, one sample a step, in file order
        rec = trainer.step()
        assert rec.batch == (k,)
        inp, target = s.inputs[k], s.targets[k, 0]

        preA_H = weight_ItoH @ inp
        postA_H = sigmoid(preA_H)
        preA_O = weight_HtoO @ postA_H
        out = sigmoid(preA_O)
        FE = out - target
        S_ERROR = FE * sigmoid(preA_O) * (1 - sigmoid(preA_O))
        gradient_HtoO = S_ERROR * postA_H
        fprime_H = sigmoid(preA_H) * (1 - sigmoid(preA_H))
        gradient_ItoH = S_ERROR * weight_HtoO[:, None] * fprime_H[:, None] * inp[None, :]

        hidden, output = rec.layers
        close(rec.loss, 0.5 * FE**2)
        close(output.delta, [[S_ERROR]])
        close(output.grad_w, gradient_HtoO[None, :])
        close(hidden.grad_w, gradient_ItoH)
        weight_HtoO = weight_HtoO - LR * gradient_HtoO
        weight_ItoH = weight_ItoH - LR * gradient_ItoH
        close(output.w, weight_HtoO[None, :])
        close(hidden.w, weight_ItoH)
        assert hidden.b.size == 0 and output.grad_b.size == 0


# -- the proportional error split, beside the true deltas ------------------------------------


def test_proportional_scenario_shows_the_true_hidden_deltas():
    s = load_scenario("proportional_2_3_1")
    assert s.layers == (2, 3, 1)
    assert s.activations == ("sigmoid", "identity")  # a linear output, so that t - y can be 2
    assert s.loss == "half_sse" and not s.bias
    w_out = np.array(s.init.weights[1])[0]
    np.testing.assert_array_equal(w_out, [0.58, 0.21, 0.36])
    assert w_out.sum() == pytest.approx(1.15)

    W1 = np.array(s.init.weights[0])
    trainer = Trainer(s)
    first, second = trainer.step(), trainer.step()
    for rec, w_hidden in ((first, W1), (second, first.layers[0].w)):
        x, t = s.inputs[rec.batch[0]], s.targets[rec.batch[0], 0]
        a = sigmoid(w_hidden @ x)
        y = rec.layers[1].w_before[0] @ a
        delta_out = y - t  # identity output: f'(z) = 1
        true_hidden = (delta_out * rec.layers[1].w_before[0]) * a * (1 - a)
        close(rec.layers[1].delta, [[delta_out]])
        close(rec.layers[0].delta, [true_hidden])

    # step 1 feeds x = (0, 0): every slope a(1 - a) is 0.25, so the true deltas keep the weights'
    # proportions; from step 2 each node's own slope reweights them
    x1 = s.inputs[first.batch[0]]
    np.testing.assert_array_equal(x1, [0.0, 0.0])
    a1 = first.layers[0].a[0]
    np.testing.assert_array_equal(a1 * (1 - a1), [0.25, 0.25, 0.25])
    shares = first.layers[0].delta[0] / first.layers[0].delta[0].sum()
    np.testing.assert_allclose(shares, w_out / w_out.sum(), rtol=1e-12)
    w2 = second.layers[1].w_before[0]
    shares = second.layers[0].delta[0] / second.layers[0].delta[0].sum()
    assert np.abs(shares - w2 / w2.sum()).max() > 1e-3


# -- one linear neuron: full batch, stochastic and mini-batch ---------------------------------

LINEAR = ("linear_neuron_full", "linear_neuron_sgd", "linear_neuron_minibatch")


@pytest.fixture(scope="module")
def linear():
    return {name: load_scenario(name) for name in LINEAR}


def test_linear_neurons_share_data_start_and_settings(linear):
    full, sgd, mini = (linear[n] for n in LINEAR)
    assert (full.batch, sgd.batch, mini.batch) == ("full", "sample", 4)
    for other in (sgd, mini):
        assert other.layers == full.layers == (1, 1)
        assert other.activations == full.activations
        np.testing.assert_array_equal(other.inputs, full.inputs)
        np.testing.assert_array_equal(other.targets, full.targets)
        assert other.init == full.init and full.init.method == "explicit"
        # the descriptions promise one learning rate and one stopping loss for all three
        assert other.learning_rate == full.learning_rate
        assert other.target_loss == full.target_loss
        assert other.loss == full.loss == "mse"


def least_squares(s):
    """The best line through the data: (w*, b*) and its mean squared error m*."""
    A = np.column_stack([s.inputs[:, 0], np.ones(len(s.inputs))])
    (w, b), *_ = np.linalg.lstsq(A, s.targets[:, 0], rcond=None)
    m = np.mean((A @ [w, b] - s.targets[:, 0]) ** 2)
    return w, b, m


@pytest.mark.parametrize("name", LINEAR)
def test_linear_neuron_converges(linear, name):
    s = linear[name]
    trainer = Trainer(s, history=1)
    trainer.run(s.max_steps, record=False)
    assert trainer.stop_reason == "target_loss"
    assert trainer.step_count < s.max_steps

    # Nothing fits the noise: the least-squares line leaves m*, and N m* / (N - 2) estimates
    # the noise variance sigma^2. Converged means that what the descent still leaves above m*
    # is small against the noise: under a tenth of sigma^2.
    w_star, b_star, m_star = least_squares(s)
    n = len(s.inputs)
    sigma2 = m_star * n / (n - 2)
    w, b = trainer.W[0][0, 0], trainer.b[0][0]
    final = np.mean((w * s.inputs[:, 0] + b - s.targets[:, 0]) ** 2)
    close(final, trainer.train_losses[-1])
    assert 0 <= final - m_star < 0.1 * sigma2
    # the line it found is the noisy line y = 2x + 1 the data were drawn from
    assert abs(w - 2) < 0.1 and abs(b - 1) < 0.1


def test_linear_loss_curves_match_their_descriptions(linear):
    curves = {}
    for name in LINEAR:
        trainer = Trainer(linear[name], history=1)
        trainer.run(linear[name].max_steps, record=False)
        curves[name] = np.array(trainer.train_losses)
    # full batch falls at every step; one sample at a time sometimes goes up
    assert (np.diff(curves["linear_neuron_full"]) < 0).all()
    assert (np.diff(curves["linear_neuron_sgd"]) > 0).any()


def one_sample_step(s, k, W, b):
    """The gradient of a step on sample k alone, taken at weights W, b by the engine."""
    init = InitSpec(method="explicit", weights=(tuple(map(tuple, W.tolist())),), biases=(tuple(b.tolist()),))
    alone = dataclasses.replace(s, inputs=s.inputs[k : k + 1], targets=s.targets[k : k + 1], init=init)
    layer = Trainer(alone).step().layers[0]
    return layer.grad_w, layer.grad_b


@pytest.mark.parametrize("steps_before", [0, 3])
def test_full_batch_gradient_is_the_mean_of_sample_gradients(linear, steps_before):
    full, sgd = linear["linear_neuron_full"], linear["linear_neuron_sgd"]
    trainer = Trainer(full)
    trainer.run(steps_before, record=False)
    layer = trainer.step().layers[0]
    W, b = layer.w_before, layer.b_before
    x, t = full.inputs[:, 0], full.targets[:, 0]

    per_sample = [one_sample_step(sgd, k, W, b) for k in range(len(x))]
    close(layer.grad_w, np.mean([g for g, _ in per_sample], axis=0))
    close(layer.grad_b, np.mean([g for _, g in per_sample], axis=0))

    # and both are the mse gradient by hand: dl/dw = 2 (w x + b - t) x, dl/db = 2 (w x + b - t)
    e = W[0, 0] * x + b[0] - t
    close(layer.grad_w, [[np.mean(2 * e * x)]])
    close(layer.grad_b, [np.mean(2 * e)])
    for k in (0, 7):
        close(per_sample[k][0], [[2 * e[k] * x[k]]])


def test_sgd_and_minibatch_steps_use_their_samples_gradients(linear):
    sgd, mini = linear["linear_neuron_sgd"], linear["linear_neuron_minibatch"]
    W0, b0 = np.array(sgd.init.weights[0]), np.array(sgd.init.biases[0])
    first_sgd = Trainer(sgd).step().layers[0]
    close(first_sgd.grad_w, one_sample_step(sgd, 0, W0, b0)[0])

    rec = Trainer(mini).step()
    assert rec.batch == (0, 1, 2, 3)
    grads = [one_sample_step(sgd, k, W0, b0) for k in rec.batch]
    close(rec.layers[0].grad_w, np.mean([g for g, _ in grads], axis=0))
    close(rec.layers[0].grad_b, np.mean([g for _, g in grads], axis=0))
