"""--export-code torch: the scenario as a script on torch.autograd and torch.optim.

The same lesson as the numpy script (code_export.py), with the backward pass left to autograd
and the update to torch.optim: SGD, SGD with momentum (dampening 0: v <- mu v + g, as the
engine's), or Adam, as the scenario says. Float64 throughout, so that its losses agree with the
engine's to about 1e-12. torch is the learner's to install: it is no dependency of backprop-tui.

With a second argument the script writes a trace as the numpy script does (its write_trace, at the
end), of what torch computed: the losses, each layer's z and a, the gradients autograd left in
W.grad and b.grad, the weights after torch.optim's step, and delta, read off autograd too: z[l]
asks to keep its gradient (retain_grad), and as the batch loss is the mean of the samples' losses,
each of which depends on its own row of z only, a sample's delta dl/dz is B times its row of dL/dz.
"""

from __future__ import annotations

from .code_export import batch_order, check, header, trace_part

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
    batch loss (the mean of the samples' losses), and z[l].grad becomes dL/dz[l] for each z[l]
    that asked for it (retain_grad)."""
    loss.backward()


def new_optimizer(W, b):
    params = W + (b if UPDATE_BIASES else [])
    return {optimizer}


def update(optimizer, W, b):
    """One step of the optimiser on the gradients backward() left, which are then cleared."""
    optimizer.step()
    for p in W + b:
        p.grad = None


def batches(epoch):
    """The sample indices of each batch of an epoch: the file order{shuffled}, cut into BATCH."""
    order = {order}
    return [order[k : k + BATCH] for k in range(0, len(order), BATCH)]


def evaluated(step):
    """Whether the app computes the training-set loss after this step: every EVALUATE_EVERY steps
    and at MAX_STEPS. Only then can the run stop at TARGET_LOSS; the trace has null between."""
    return step % EVALUATE_EVERY == 0 or step >= MAX_STEPS


def values(tensors):
    """Tensors as numpy arrays, copied (the optimiser changes W and b in place)."""
    return [p.detach().numpy().copy() for p in tensors]


def train(steps):
    """Train for up to ``steps`` steps, printing each step's losses; yields what torch computed
    in each: the batch, the losses, and per layer z, a, delta, the gradients and the new W, b.
    The run stops at MAX_STEPS at the latest, as the app's does."""
    steps = min(steps, MAX_STEPS)
    W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W0]
    # b's gradient is computed even when the biases stay (the trace records it); only the
    # optimiser's parameters change
    b = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in B0]
    optimizer = new_optimizer(W, b)
    X_all, T_all = torch.tensor(X), torch.tensor(T)
    step, epoch = 0, 1
    while step < steps:
        for batch in batches(epoch):
            rows = torch.as_tensor(batch)
            x, t = X_all[rows], T_all[rows]
            zs, acts = forward(W, b, x)
            for z in zs:
                z.retain_grad()  # autograd keeps dL/dz[l]: each sample's delta is B dL/dz[l]
            loss = sample_losses(acts[-1], t, zs[-1]).mean()
            backward(loss)
            computed = dict(z=values(zs), a=values(acts[1:]), grad_w=values(w.grad for w in W),
                            grad_b=values(p.grad for p in b))
            computed["delta"] = [len(batch) * d for d in values(z.grad for z in zs)]
            update(optimizer, W, b)
            step += 1
            with torch.no_grad():
                zs_all, acts_all = forward(W, b, X_all)
                train_loss = sample_losses(acts_all[-1], T_all, zs_all[-1]).mean().item()
            print(f"step {{step}}  loss {{loss.item()!r}}  train_loss {{train_loss!r}}")
            yield dict(step=step, epoch=epoch, batch=batch, loss=loss.item(), train_loss=train_loss,
                       w=values(W), b=values(b), **computed)
            if step >= steps or (TARGET_LOSS is not None and train_loss < TARGET_LOSS and evaluated(step)):
                return
        epoch += 1
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
        "",
        *trace_part(scenario),
    ]
    return "\n".join(parts)
