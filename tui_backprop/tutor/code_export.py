"""--export-code numpy: a scenario as a standalone script that a learner can read and run.

The script holds the scenario's data and initial weights inline, and one function each for
the forward pass, the backward pass and the update, written for reading (a loop over the
layers, the derivative beside its function). Run, it trains as the engine does and prints
each step's batch loss and training-set loss, the numbers of the app's header and chart:

    step 1  loss 0.2983711  train_loss 0.2910278

``python3 script.py 50`` runs 50 steps instead of the scenario's max_steps; ``python3 script.py
50 run.json`` also writes every number of every step to run.json, a trace in format 1 that keeps the
fields step, epoch, batch, loss, train_loss, z, a, delta, grad_w, grad_b, w and b (write_trace, at
the script's end). Its arithmetic is the engine's, operation for operation, so that the trace is
the engine's trace of the run (tests/test_code_trace.py), which --check recomputes and --answers
grades as a learner's own.

What the script does not model is refused before anything is written (NotExportable): an l1 or
l2 penalty, the proportional error split and target_accuracy (the script counts no accuracy).
Everything else (every activation and loss, batches, shuffling, gd, momentum, adam, frozen
biases, target_loss) is written out. The torch script, on autograd
and torch.optim, is code_torch.py; it shares ``header`` and ``batch_order`` with this one.
"""

from __future__ import annotations

import json
import pprint

import numpy as np

from ..common.errors import BackpropError
from ..common.escape import shown
from ..engine.network import initial_parameters


class NotExportable(BackpropError):
    """A scenario the script cannot train as the engine does."""


ACTIVATION_CODE = {
    "sigmoid": '''def sigmoid(z):
    """1 / (1 + e^-z), computed without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    r = 1.0 / (1.0 + e)
    return np.where(z < 0.0, e * r, r)  # e^z / (1 + e^z) for z < 0


def sigmoid_slope(z, a):
    return a * (1.0 - a)  # sigma'(z) = sigma(z) (1 - sigma(z))
''',
    "tanh": """def tanh(z):
    return np.tanh(z)


def tanh_slope(z, a):
    return 1.0 - a * a  # tanh'(z) = 1 - tanh(z)^2
""",
    "relu": """def relu(z):
    return np.maximum(z, 0.0)


def relu_slope(z, a):
    return (z > 0.0).astype(float)  # relu'(0) taken as 0
""",
    "leaky_relu": """def leaky_relu(z):
    return np.where(z > 0.0, z, 0.01 * z)


def leaky_relu_slope(z, a):
    return np.where(z > 0.0, 1.0, 0.01)
""",
    "identity": """def identity(z):
    return z


def identity_slope(z, a):
    return np.ones_like(z)
""",
    "elu": """def elu(z):
    return np.where(z > 0.0, z, np.expm1(np.minimum(z, 0.0)))  # alpha = 1


def elu_slope(z, a):
    return np.where(z > 0.0, 1.0, np.exp(np.minimum(z, 0.0)))  # e^z = a + 1 below 0
""",
    "softplus": '''def softplus(z):
    """ln(1 + e^z), computed without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def softplus_slope(z, a):
    return sigmoid(z)  # softplus'(z) = sigma(z)
''',
    "gelu": '''def gelu(z):
    """z/2 (1 + tanh u) = z sigma(2u), u = sqrt(2/pi) (z + 0.044715 z^3): the tanh form of gelu."""
    return z * sigmoid(2.0 * gelu_u(z))


def gelu_u(z):
    z = np.clip(z, -50.0, 50.0)  # beyond it sigma(2u) is 0 or 1 anyway, and z^3 cannot overflow
    return np.sqrt(2.0 / np.pi) * (z + 0.044715 * (z * z * z))


def gelu_slope(z, a):
    s, s_neg = sigmoid_pair(2.0 * gelu_u(z))  # sigma(2u) and 1 - sigma(2u)
    z = np.clip(z, -50.0, 50.0)
    du = np.sqrt(2.0 / np.pi) * (1.0 + 3.0 * 0.044715 * z * z)
    return s + 2.0 * z * s * s_neg * du  # d/dz [z sigma(2u)] = sigma(2u) + z 2 sigma'(2u) u'
''',
    "swish": """def swish(z):
    return z * sigmoid(z)  # z sigma(z)


def swish_slope(z, a):
    s, s_neg = sigmoid_pair(z)  # sigma(z) and 1 - sigma(z)
    return s + z * s * s_neg  # sigma + z sigma (1 - sigma)
""",
    "sine": """def sine(z):
    return np.sin(z)


def sine_slope(z, a):
    return np.cos(z)
""",
    "softmax": """def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_slope(z, a):
    raise ValueError("softmax is used with cross_entropy only: its delta is y - t")
""",
}

# what some activations are written with: the code of each, before theirs
HELPER_CODE = {
    "sigmoid_pair": '''def sigmoid_pair(x):
    """sigma(x) and 1 - sigma(x) = sigma(-x), each to full precision, from one exp."""
    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    return np.where(x < 0.0, e * r, r), np.where(x < 0.0, r, e * r)
''',
}
USES = {"softplus": ("sigmoid",), "gelu": ("sigmoid", "sigmoid_pair"), "swish": ("sigmoid", "sigmoid_pair")}

LOSS_CODE = {
    "mse": '''def sample_losses(y, t, z):
    """(1/n) sum_j (y_j - t_j)^2 for each sample."""
    e = y - t
    return (e * e).sum(axis=1) / y.shape[1]


def loss_slope(y, t):
    return (2.0 / y.shape[1]) * (y - t)  # dl/dy
''',
    "sse": '''def sample_losses(y, t, z):
    """sum_j (y_j - t_j)^2 for each sample."""
    e = y - t
    return (e * e).sum(axis=1)


def loss_slope(y, t):
    return 2.0 * (y - t)  # dl/dy
''',
    "half_sse": '''def sample_losses(y, t, z):
    """1/2 sum_j (y_j - t_j)^2 for each sample."""
    e = y - t
    return 0.5 * (e * e).sum(axis=1)


def loss_slope(y, t):
    return y - t  # dl/dy
''',
    "bce": '''def sample_losses(y, t, z):
    """-(1/n) sum_j [t ln y + (1 - t) ln(1 - y)], computed from z = ln(y / (1 - y)) so that
    it never takes the log of 0."""
    return (np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))).sum(axis=1) / z.shape[1]


def loss_slope(y, t):
    return (y - t) / (y * (1.0 - y) * y.shape[1])  # dl/dy
''',
    "cross_entropy": '''def sample_losses(y, t, z):
    """-sum_j t_j ln y_j with y = softmax(z), as sum_j t_j (logsumexp(z) - z_j)."""
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return (t * (lse - z)).sum(axis=1)


def loss_slope(y, t):
    return -t / y  # dl/dy
''',
}

FORWARD = '''def forward(W, b, x):
    """z[l] = a[l-1] W[l]^T + b[l] and a[l] = f(z[l]) for l = 1..L; a[0] = x, shape (B, n_0)."""
    zs, acts = [], [x]
    for l in range(len(W)):
        z = acts[-1] @ W[l].T + b[l]
        zs.append(z)
        acts.append(ACTIVATIONS[l](z))
    return zs, acts
'''

BACKWARD = '''def backward(W, zs, acts, t):
    """delta[l] = dl/dz[l] for each sample, shape (B, n_l), and the gradients of the batch loss,
    dL/dW[l] and dL/db[l] (means over the batch).

    At the output delta = dl/dy * f'(z) ({output_rule}); below it
    delta[l] = (delta[l+1] W[l+1]) * f'(z[l]), with W as it was before the update."""
    L, B = len(W), len(t)
    y = acts[-1]
    delta = {output_delta}
    deltas, grad_w, grad_b = [None] * L, [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        deltas[l] = delta
        grad_w[l] = delta.T @ acts[l] / B  # acts[l] is a[l-1] in the maths' numbering
        grad_b[l] = delta.sum(axis=0) / B
        if l > 0:
            delta = (delta @ W[l]) * SLOPES[l - 1](zs[l - 1], acts[l])
    return deltas, grad_w, grad_b
'''

UPDATES = {
    "gd": '''def update(W, b, grad_w, grad_b, state):
    """Gradient descent: W <- W - lr dL/dW (and b likewise{frozen})."""
    W = [w - LEARNING_RATE * g for w, g in zip(W, grad_w)]
    {b_line}
    return W, b, state


def new_state(W, b):
    return None
''',
    "momentum": '''def update(W, b, grad_w, grad_b, state):
    """Momentum: v <- mu v + dL/dW, W <- W - lr v (and b likewise{frozen})."""
    vw, vb = state
    vw = [MOMENTUM * v + g for v, g in zip(vw, grad_w)]
    W = [w - LEARNING_RATE * v for w, v in zip(W, vw)]
    if UPDATE_BIASES:
        vb = [MOMENTUM * v + g for v, g in zip(vb, grad_b)]
        b = [p - LEARNING_RATE * v for p, v in zip(b, vb)]
    return W, b, (vw, vb)


def new_state(W, b):
    return [np.zeros_like(w) for w in W], [np.zeros_like(p) for p in b]
''',
    "adam": '''def update(W, b, grad_w, grad_b, state):
    """Adam: running means m of the gradient and v of its square, corrected for starting at 0;
    W <- W - lr m^ / (sqrt(v^) + eps) (and b likewise{frozen})."""
    step, (mw, vw), (mb, vb) = state
    step += 1

    def adam(p, g, m, v):
        m = BETA1 * m + (1.0 - BETA1) * g
        v = BETA2 * v + (1.0 - BETA2) * (g * g)
        m_hat, v_hat = m / (1.0 - BETA1**step), v / (1.0 - BETA2**step)
        return p - LEARNING_RATE * m_hat / (np.sqrt(v_hat) + EPSILON), m, v

    W, mw, vw = (list(x) for x in zip(*[adam(*args) for args in zip(W, grad_w, mw, vw)]))
    if UPDATE_BIASES:
        b, mb, vb = (list(x) for x in zip(*[adam(*args) for args in zip(b, grad_b, mb, vb)]))
    return W, b, (step, (mw, vw), (mb, vb))


def new_state(W, b):
    zeros = lambda ps: [np.zeros_like(p) for p in ps]  # noqa: E731
    return 0, (zeros(W), zeros(W)), (zeros(b), zeros(b))
''',
}

MAIN = '''def batches(epoch):
    """The sample indices of each batch of an epoch: the file order{shuffled}, cut into BATCH."""
    order = {order}
    return [order[k : k + BATCH] for k in range(0, len(order), BATCH)]


def evaluated(step):
    """Whether the app computes the training-set loss after this step: every EVALUATE_EVERY steps
    and at MAX_STEPS. Only then can the run stop at TARGET_LOSS; the trace has null between."""
    return step % EVALUATE_EVERY == 0 or step >= MAX_STEPS


def train(steps):
    """Train for up to ``steps`` steps, printing each step's losses; yields what each step
    computed: the batch, the losses, and per layer z, a, delta, the gradients and the new W, b.
    The run stops at MAX_STEPS at the latest, as the app's does."""
    steps = min(steps, MAX_STEPS)
    W, b = [np.array(w) for w in W0], [np.array(p) for p in B0]
    state = new_state(W, b)
    step, epoch = 0, 1
    while step < steps:
        for batch in batches(epoch):
            x, t = X[batch], T[batch]
            zs, acts = forward(W, b, x)
            loss = sample_losses(acts[-1], t, zs[-1]).mean()
            deltas, grad_w, grad_b = backward(W, zs, acts, t)
            W, b, state = update(W, b, grad_w, grad_b, state)
            step += 1
            zs_all, acts_all = forward(W, b, X)
            train_loss = sample_losses(acts_all[-1], T, zs_all[-1]).mean()
            print(f"step {{step}}  loss {{float(loss)!r}}  train_loss {{float(train_loss)!r}}")
            yield dict(step=step, epoch=epoch, batch=batch, loss=loss, train_loss=train_loss,
                       z=zs, a=acts[1:], delta=deltas, grad_w=grad_w, grad_b=grad_b, w=W, b=b)
            if step >= steps or (TARGET_LOSS is not None and train_loss < TARGET_LOSS and evaluated(step)):
                return
        epoch += 1
'''

# the script's last part: the trace. SCENARIO (the scenario as a trace writes it) goes before it.
TRACE = '''LAYER_FIELDS = ["z", "a", "delta", "grad_w", "grad_b", "w", "b"]


def numbers(a):
    """An array as nested lists of floats, each written as the shortest decimal that reads back
    as itself (Python's repr); inf and nan, which JSON does not have, as null."""
    a = np.asarray(a, dtype=float)
    return a.tolist() if np.isfinite(a).all() else np.where(np.isfinite(a), a, None).tolist()


def layer(r, l):
    """Layer l of a step's record r, each field as the trace writes it; [] for the biases of a
    network without any."""
    return {f: numbers(r[f][l]) if BIAS or f not in ("grad_b", "b") else [] for f in LAYER_FIELDS}


def write_trace(path, records):
    """The run as a trace in backprop-tui's format 1 (its docs/traces.md): the scenario, the data,
    the initial weights, the fields each step keeps, one line a step, and a summary. Check it with
    backprop-tui --check PATH; grade it with backprop-tui SCENARIO --answers PATH."""
    header = {
        "format": "backprop-tui-trace",
        "version": 1,
        "scenario": SCENARIO,
        "data": {"inputs": numbers(X), "targets": numbers(T)},
        "initial": {"w": [numbers(w) for w in W0], "b": [numbers(p) if BIAS else [] for p in B0]},
        "fields": ["step", "epoch", "batch", "loss", "train_loss", *LAYER_FIELDS],
    }
    if TEST_DATA is not None:
        header["test_data"] = TEST_DATA
    with open(path + ".part", "w", encoding="utf-8") as f:  # renamed into place when complete
        f.write("{\\n")
        for key, value in header.items():
            f.write(f"{json.dumps(key)}: {json.dumps(value, allow_nan=False)},\\n")
        f.write('"steps": [')
        n, last = 0, float("nan")
        for r in records:
            step = {
                "step": r["step"],
                "epoch": r["epoch"],
                "batch": [int(k) for k in r["batch"]],
                "loss": numbers(r["loss"]),
                "train_loss": numbers(r["train_loss"]) if evaluated(r["step"]) else None,
                "layers": [layer(r, l) for l in range(len(W0))],
            }
            f.write((",\\n" if n else "\\n") + json.dumps(step, allow_nan=False))
            n, last = n + 1, r["train_loss"]
        if TARGET_LOSS is not None and last < TARGET_LOSS:
            stop = "target_loss"
        else:
            stop = "max_steps" if n >= MAX_STEPS else "steps"
        summary = {"steps": n, "final_loss": numbers(last), "stop_reason": stop}
        f.write('\\n],\\n"summary": ' + json.dumps(summary) + "\\n}\\n")
    os.replace(path + ".part", path)


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else MAX_STEPS
    records = train(steps)
    if len(sys.argv) > 2:
        write_trace(sys.argv[2], records)
    else:
        for _ in records:  # train, printing each step
            pass
'''


def _array(a: np.ndarray) -> str:
    """An array as a Python literal, every float to the digits that read back as itself."""
    return repr(np.asarray(a, dtype=float).tolist())


def check(scenario) -> None:  # noqa: ANN001 - a Scenario
    problems = []
    if scenario.l1 or scenario.l2:
        problems.append("[training] l1, l2: the script does not model a penalty")
    if scenario.error_split != "gradient":
        problems.append(
            "[training] error_split: the script backpropagates; it does not model the proportional split"
        )
    if scenario.schedule != "constant":
        problems.append(
            "[training] schedule: the script keeps one learning rate; it does not model a schedule"
        )
    if scenario.features is not None:
        problems.append(
            "[data] features: the script trains on the data's own inputs; it does not model features"
        )
    if getattr(scenario, "target_accuracy", None) is not None:  # it would train on past the stop
        problems.append(
            "[training] target_accuracy: the script does not count accuracy, so it would not stop there"
        )
    if problems:
        raise NotExportable(scenario.source or scenario.title, [f"--export-code: {p}" for p in problems])


def script(scenario) -> str:  # noqa: ANN001 - a Scenario
    """The standalone numpy script for ``scenario`` (see the module)."""
    check(scenario)
    acts = activations(scenario)
    out_act, loss = acts[-1], scenario.loss
    if (loss, out_act) == ("bce", "sigmoid"):
        rule, output_delta = "sigmoid with bce: (y - t) / n", "(y - t) / y.shape[1]"
    elif (loss, out_act) == ("cross_entropy", "softmax"):
        rule, output_delta = (
            "softmax with cross_entropy: y sum(t) - t",
            "y * t.sum(axis=1, keepdims=True) - t",
        )
    else:
        rule, output_delta = f"{loss} after {out_act}", "loss_slope(y, t) * SLOPES[-1](zs[-1], y)"
    learns_biases = learns(scenario)
    frozen = "" if learns_biases else "; the biases stay as they are"
    b_line = (
        "b = [p - LEARNING_RATE * g for p, g in zip(b, grad_b)]" if learns_biases else "# the biases stay"
    )
    parts = [
        *header(scenario, "numpy"),
        "",
        "# -- activations, each with its slope f'(z) beside it -------------------------------",
        *({**ACTIVATION_CODE, **HELPER_CODE}[name] + "\n" for name in functions(acts)),
        f"ACTIVATIONS = [{', '.join(acts)}]",
        f"SLOPES = [{', '.join(a + '_slope' for a in acts)}]",
        "",
        "",
        f"# -- the loss: {loss} -----------------------------------------------------------",
        LOSS_CODE[loss],
        "",
        "# -- one step: forward, backward, update ---------------------------------------------",
        FORWARD,
        "",
        BACKWARD.format(output_rule=rule, output_delta=output_delta),
        "",
        UPDATES[scenario.optimizer].format(frozen=frozen, b_line=b_line),
        "",
        MAIN.format(**batch_order(scenario)),
        "",
        *trace_part(scenario),
    ]
    return "\n".join(parts)


def trace_part(scenario) -> list[str]:  # noqa: ANN001 - a Scenario
    """The script's end: the scenario as a trace writes it (a Python literal of Scenario.to_dict(),
    every string escaped by repr), and write_trace with the __main__ that calls it."""
    as_written = json.loads(json.dumps(scenario.to_dict()))  # plain lists, floats and strings
    return [
        "# -- the run as a trace that backprop-tui reads (docs/traces.md) -----------------------",
        "# the scenario as backprop-tui's trace writes it",
        f"SCENARIO = {pprint.pformat(as_written, width=100, sort_dicts=False)}",
        "",
        *test_set(scenario),
        "",
        TRACE,
    ]


def test_set(scenario) -> list[str]:  # noqa: ANN001 - a Scenario
    """The held-out test set, which the script never trains on, for the trace's test_data."""
    if scenario.test_inputs is None or scenario.test_targets is None:
        return ["TEST_DATA = None  # the scenario holds no test set"]
    return [
        "# the held-out test set ([data] test_fraction): never trained on, written in the trace",
        f"TEST_DATA = {{'inputs': {_array(scenario.test_inputs)},",
        f"             'targets': {_array(scenario.test_targets)}}}",
    ]


def functions(acts: list[str]) -> list[str]:
    """The activations' code to write, each once, the functions some are written with first."""
    return list(dict.fromkeys(name for a in acts for name in (*USES.get(a, ()), a)))


def activations(scenario) -> list[str]:  # noqa: ANN001 - a Scenario
    return [("identity" if a == "linear" else a) for a in scenario.activations]


def learns(scenario) -> bool:  # noqa: ANN001 - a Scenario
    """Whether the biases learn (without biases, b stays 0 in the script)."""
    return bool(scenario.update_biases and scenario.bias)


def batch_order(scenario) -> dict[str, str]:  # noqa: ANN001 - a Scenario
    """The script's order of an epoch's samples: the engine's (engine/batching.py)."""
    if scenario.shuffle:
        return {
            "order": "np.random.default_rng([SEED, epoch]).permutation(len(X))",
            "shuffled": ", shuffled each epoch by a generator seeded with (SEED, epoch)",
        }
    return {"order": "np.arange(len(X))", "shuffled": ""}


def header(scenario, target: str) -> list[str]:  # noqa: ANN001 - a Scenario
    """The docstring, the imports and the scenario's settings, data and initial weights."""
    W, b = initial_parameters(scenario.layers, scenario.bias, scenario.init)
    batch = {"full": len(scenario.inputs), "sample": 1}.get(str(scenario.batch), scenario.batch)
    biases = [p.tolist() if p.size else [0.0] * w.shape[0] for p, w in zip(b, W, strict=True)]
    title = shown(scenario.title).replace('"""', "'''").replace("\\", "\\\\")
    imports = ["import numpy as np"] if target == "numpy" else ["import numpy as np", "import torch"]
    return [
        "#!/usr/bin/env python3",
        f'"""{title}: backpropagation one weight update at a time, in {target}.',
        "",
        f"Written by backprop-tui --export-code {target}. Run: python3 THIS_FILE [STEPS] [TRACE.json].",
        "Each line printed is one step's batch loss and the training-set loss after its update, as the",
        "app shows them; with TRACE.json every number of every step is also written there, as a trace",
        "that backprop-tui reads (--check TRACE.json, or SCENARIO --answers TRACE.json to grade it).",
        '"""',
        "",
        "import json",
        "import os",
        "import sys",
        "",
        *imports,
        "",
        "# -- the scenario -----------------------------------------------------------------",
        f"LAYERS = {list(scenario.layers)!r}",
        f"LEARNING_RATE = {float(scenario.learning_rate)!r}",
        f"BATCH = {int(batch)!r}  # samples a step",
        f"SEED = {int(scenario.seed)!r}",
        f"MAX_STEPS = {int(scenario.max_steps)!r}",
        f"TARGET_LOSS = {None if scenario.target_loss is None else float(scenario.target_loss)!r}",
        f"EVALUATE_EVERY = {int(scenario.evaluate_every)!r}  # steps between the app's training-set losses",
        f"BIAS = {bool(scenario.bias)!r}  # without biases, b stays 0 and the trace writes none",
        f"UPDATE_BIASES = {learns(scenario)!r}",
        f"MOMENTUM = {float(scenario.momentum)!r}",
        f"BETA1, BETA2 = {float(scenario.beta1)!r}, {float(scenario.beta2)!r}",
        f"EPSILON = {float(scenario.epsilon)!r}",
        "",
        "# the training set: one sample a row",
        f"X = np.array({_array(scenario.inputs)})",
        f"T = np.array({_array(scenario.targets)})",
        "",
        "# the initial weights W[l] (n_l, n_{l-1}) and biases b[l] (n_l,), l = 1..L",
        f"W0 = {[np.asarray(w).tolist() for w in W]!r}",
        f"B0 = {biases!r}",
        "",
    ]
