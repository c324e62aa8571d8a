"""The proportional error split: the output error handed back in proportion to the weights.

The picture many worked examples teach before backpropagation proper: node j of layer
l+1 passes its error e_j back to the nodes i that feed it, each getting the share of e_j
that its weight w_ji has in node j's incoming weights,

    e[l]_i = sum_j e[l+1]_j * w_ji / sum_k w_jk          e[L] = t - y

where w_ji = W[l+1][j, i] (row j of W[l+1] holds the weights into node j, so the
denominator is the sum of row j; biases are not weights here and take no share).
In matrix form, with S_j = sum_k W[l+1][j, k]:

    e[l] = (e[l+1] / S) @ W[l+1]        (B, n_{l+1}) / (n_{l+1},) @ (n_{l+1}, n_l) -> (B, n_l)

It is not the gradient: backpropagation sends delta[l+1] @ W[l+1] back undivided and
multiplies by each node's own slope f'(z[l]), and its deltas carry the sign of y - t.
A node whose incoming weights sum to 0 has no proportions: its share is inf or nan.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .activations import Activation

Array = np.ndarray


def proportional_errors(W: Sequence[Array], e_out: Array) -> list[Array]:
    """The split errors of every layer, e[1] .. e[L], each of shape (B, n_l).

    W: the weights W[1] .. W[L] as they were before the update, W[l] of shape
    (n_l, n_{l-1}). e_out: the output error t - y, shape (B, n_L); it is returned as
    the last element. The input layer gets no error.
    """
    e = np.asarray(e_out, dtype=float)
    errors: list[Array] = [e]
    for Wl in reversed(W[1:]):  # W[L] .. W[2] carry the error to layers L-1 .. 1
        with np.errstate(divide="ignore", invalid="ignore"):
            e = (e / Wl.sum(axis=1)) @ Wl
        errors.append(e)
    errors.reverse()
    return errors


def split_gradients(
    activations: Sequence[Activation],
    bias: bool,
    W: Sequence[Array],
    x: Array,
    t: Array,
    zs: Sequence[Array],
    acts: Sequence[Array],
) -> tuple[list[Array], list[Array], list[Array]]:
    """Training with the split: the errors e[l], and the step they ask for as a "gradient".

    Each layer learns from its own error, s[l] = e[l] * f'(z[l]) (B, n_l), as the output
    layer does under gradient descent on half_sse:

        dW[l] = lr * s[l].T @ a[l-1] / B        db[l] = lr * mean_k s[l][k]

    This returns e[l] (B, n_l), and g_w[l] = -s[l].T @ a[l-1] / B (n_l, n_{l-1}) and
    g_b[l] = -mean_k s[l][k] (n_l,), or (0,) without biases: handed to the update in place
    of the gradient, plain gradient descent W - lr g_w is exactly W + dW. A softmax output
    (only ever paired with cross_entropy) uses s = e = t - y, as its delta there is y - t.
    x (B, n_0) is a[0]; zs and acts are z[l] and a[l], l = 1..L, from the forward pass.
    """
    errors = proportional_errors(W, t - acts[-1])
    B = x.shape[0]
    grad_w: list[Array] = []
    grad_b: list[Array] = []
    for l, (e, act) in enumerate(zip(errors, activations, strict=True)):
        s = e if act.name == "softmax" else e * act.grad(zs[l], acts[l])
        a_prev = acts[l - 1] if l > 0 else x
        grad_w.append(-(s.T @ a_prev) / B)
        grad_b.append(-s.mean(axis=0) if bias else np.zeros(0))
    return errors, grad_w, grad_b
