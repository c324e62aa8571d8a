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
