"""--export-code torch: the scenario as a script on torch.autograd and torch.optim.

The same lesson as the numpy script (code_export.py), with the backward pass left to autograd
and the update to torch.optim: SGD, SGD with momentum (dampening 0: v <- mu v + g, as the
engine's), or Adam, as the scenario says. Float64 throughout, so that its losses agree with the
engine's to about 1e-12. torch is the learner's to install: it is no dependency of backprop-tui.
"""

from __future__ import annotations

from .code_export import batch_order, check, header

ACTIVATION_CODE = {
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "relu": "torch.relu",
    "leaky_relu": "leaky_relu",
    "identity": "identity",
    "softmax": "softmax",
    "elu": "elu",
    "softplus": "softplus",
    "gelu": "gelu",
    "swish": "torch.nn.functional.silu",
    "sine": "torch.sin",
}

HELPERS = """def leaky_relu(z):
    return torch.nn.functional.leaky_relu(z, 0.01)


def identity(z):
    return z


def softmax(z):
    return torch.softmax(z, dim=1)


def elu(z):
    return torch.nn.functional.elu(z, alpha=1.0)


def softplus(z):
    return torch.logaddexp(z, torch.zeros_like(z))  # ln(1 + e^z), with no threshold


def gelu(z):
    return torch.nn.functional.gelu(z, approximate="tanh")
"""

LOSS_CODE = {
    "mse": '''def sample_losses(y, t, z):
    """(1/n) sum_j (y_j - t_j)^2 for each sample."""
    return ((y - t) ** 2).sum(dim=1) / y.shape[1]
''',
    "sse": '''def sample_losses(y, t, z):
    """sum_j (y_j - t_j)^2 for each sample."""
    return ((y - t) ** 2).sum(dim=1)
''',
    "half_sse": '''def sample_losses(y, t, z):
    """1/2 sum_j (y_j - t_j)^2 for each sample."""
    return 0.5 * ((y - t) ** 2).sum(dim=1)
''',
    "bce": '''def sample_losses(y, t, z):
    """-(1/n) sum_j [t ln y + (1 - t) ln(1 - y)], from z so that it never takes the log of 0."""
    return (torch.clamp(z, min=0.0) - z * t + torch.log1p(torch.exp(-z.abs()))).sum(dim=1) / z.shape[1]
''',
    "cross_entropy": '''def sample_losses(y, t, z):
    """-sum_j t_j ln y_j with y = softmax(z), as sum_j t_j (logsumexp(z) - z_j)."""
    return (t * (torch.logsumexp(z, dim=1, keepdim=True) - z)).sum(dim=1)
''',
}

OPTIMIZER_CODE = {
    "gd": "torch.optim.SGD(params, lr=LEARNING_RATE)",
    "momentum": "torch.optim.SGD(params, lr=LEARNING_RATE, momentum=MOMENTUM)",
    "adam": "torch.optim.Adam(params, lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPSILON)",
}

BODY = '''def forward(W, b, x):
    """z[l] = a[l-1] W[l]^T + b[l] and a[l] = f(z[l]) for l = 1..L; a[0] = x, shape (B, n_0)."""
    zs, acts = [], [x]
    for l in range(len(W)):
        z = acts[-1] @ W[l].T + b[l]
        zs.append(z)
        acts.append(ACTIVATIONS[l](z))
    return zs, acts


def backward(loss):
    """Backpropagation by autograd: W[l].grad and b[l].grad become dL/dW[l] and dL/db[l], L the
    batch loss (the mean of the samples' losses)."""
    loss.backward()


def new_optimizer(W, b):
    params = W + (b if UPDATE_BIASES else [])
    return {optimizer}


def update(optimizer):
    """One step of the optimiser on the gradients backward() left, which are then cleared."""
    optimizer.step()
    optimizer.zero_grad()


def batches(epoch):
    """The sample indices of each batch of an epoch: the file order{shuffled}, cut into BATCH."""
    order = {order}
    return [order[k : k + BATCH] for k in range(0, len(order), BATCH)]


def main(steps):
    W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W0]
    b = [torch.tensor(p, dtype=torch.float64, requires_grad=UPDATE_BIASES) for p in B0]
    optimizer = new_optimizer(W, b)
    X_all, T_all = torch.tensor(X), torch.tensor(T)
    step, epoch = 0, 1
    while step < steps:
        for batch in batches(epoch):
            rows = torch.as_tensor(batch)
            x, t = X_all[rows], T_all[rows]
            zs, acts = forward(W, b, x)
            loss = sample_losses(acts[-1], t, zs[-1]).mean()
            backward(loss)
            update(optimizer)
            step += 1
            with torch.no_grad():
                zs_all, acts_all = forward(W, b, X_all)
                train_loss = sample_losses(acts_all[-1], T_all, zs_all[-1]).mean()
            print(f"step {{step}}  loss {{loss.item()!r}}  train_loss {{train_loss.item()!r}}")
            if step >= steps or (TARGET_LOSS is not None and train_loss.item() < TARGET_LOSS):
                return
        epoch += 1


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else MAX_STEPS)
'''


def torch_script(scenario) -> str:  # noqa: ANN001 - a Scenario
    """The standalone torch script for ``scenario`` (see the module)."""
    check(scenario)
    acts = [("identity" if a == "linear" else a) for a in scenario.activations]
    parts = [
        *header(scenario, "torch"),
        "",
        "# -- activations (autograd knows their derivatives) --------------------------------",
        HELPERS,
        f"ACTIVATIONS = [{', '.join(ACTIVATION_CODE[a] for a in acts)}]",
        "",
        "",
        f"# -- the loss: {scenario.loss} ---------------------------------------------------",
        LOSS_CODE[scenario.loss],
        "",
        "# -- one step: forward, backward (autograd), update (torch.optim) --------------------",
        BODY.format(optimizer=OPTIMIZER_CODE[scenario.optimizer], **batch_order(scenario)),
    ]
    return "\n".join(parts)
