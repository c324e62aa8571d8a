"""The three vocabularies the app can speak, in one table: what each quantity is called.

    symbols  z, a, δ, η, ∂L/∂W: the textbook symbols (the default)
    signals  S_preA, S_postA, FE = S_postA,O − T, S_ERROR, gradient_HtoO, LR: the
             multilayer-perceptron worked example's names. Layers are tagged I (inputs), H
             (the hidden layer; H1, H2, ... when there are several) and O (outputs); the weights
             into layer l are weight_<tag(l-1)>to<tag(l)>, their gradient gradient_<...>
    delta    z, f′(z), delta_0 = w · delta_1 · f′(z), α: the XOR worked example's names.
             The layers after the inputs are numbered from 0 (z_0, a_0, delta_0 are the first
             hidden layer; the output layer is L-1); the inputs are x

``vocabulary(notation, L)`` gives the names for a network of L layers after the input layer.
No Textual and no numpy here: the scenario loader, the panels and the help screen share it.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTATIONS = ("symbols", "signals", "delta")
DEFAULT = "symbols"


@dataclass(frozen=True)
class Vocabulary:
    notation: str
    L: int  # layers after the input layer

    # -- names of whole quantities of layer l (0 = the inputs) ------------------------------

    def tag(self, l: int) -> str:
        """signals: I, H (H1, H2, ...), O."""
        if l == 0:
            return "I"
        if l == self.L:
            return "O"
        return "H" if self.L == 2 else f"H{l}"

    def z(self, l: int) -> str:
        return {"symbols": f"z[{l}]", "signals": f"S_preA,{self.tag(l)}", "delta": f"z_{l - 1}"}[
            self.notation
        ]

    def a(self, l: int) -> str:
        if l == 0:
            return {"symbols": "x", "signals": "input", "delta": "x"}[self.notation]
        return {"symbols": f"a[{l}]", "signals": f"S_postA,{self.tag(l)}", "delta": f"a_{l - 1}"}[
            self.notation
        ]

    def delta(self, l: int) -> str:
        if self.notation == "signals":
            return "S_ERROR" if l == self.L else f"S_ERROR,{self.tag(l)}"
        return f"δ[{l}]" if self.notation == "symbols" else f"delta_{l - 1}"

    def w(self, l: int) -> str:
        return {
            "symbols": f"W[{l}]",
            "signals": f"weight_{self.tag(l - 1)}to{self.tag(l)}",
            "delta": f"w_{l - 1}",
        }[self.notation]

    def b(self, l: int) -> str:
        return {"symbols": f"b[{l}]", "signals": f"bias_{self.tag(l)}", "delta": f"b_{l - 1}"}[self.notation]

    def grad_w(self, l: int) -> str:
        return {
            "symbols": f"∂L/∂W[{l}]",
            "signals": f"gradient_{self.tag(l - 1)}to{self.tag(l)}",
            "delta": f"∂E/∂w_{l - 1}",
        }[self.notation]

    def grad_b(self, l: int) -> str:
        return {
            "symbols": f"∂L/∂b[{l}]",
            "signals": f"gradient_bias_{self.tag(l)}",
            "delta": f"∂E/∂b_{l - 1}",
        }[self.notation]

    def el(self, quantity: str, l: int, index: str) -> str:
        """One entry of a quantity of layer l: symbols index it (δ_j, w_ji); the worked examples'
        vocabularies name the layer's quantity and leave the node to the words around it."""
        if self.notation == "symbols":
            return {"z": "z", "a": "a", "delta": "δ", "w": "w", "b": "b"}[quantity] + "_" + index
        return getattr(self, quantity)(l)

    def el_grad(self, l: int, index: str, bias: bool = False) -> str:
        """The gradient of one weight: ∂L/∂w_ji, gradient_HtoO, ∂E/∂w_0."""
        if self.notation == "symbols":
            return f"∂L/∂{'b' if bias else 'w'}_{index}"
        return self.grad_b(l) if bias else self.grad_w(l)

    def fprime(self, l: int) -> str:
        return f"f′({self.z(l)})"

    @property
    def lr(self) -> str:
        return {"symbols": "η", "signals": "LR", "delta": "α"}[self.notation]

    @property
    def loss(self) -> str:
        """The batch loss."""
        return {"symbols": "L", "signals": "loss", "delta": "E"}[self.notation]

    @property
    def sample_loss(self) -> str:
        return {"symbols": "ℓ", "signals": "loss_k", "delta": "E_k"}[self.notation]

    @property
    def target(self) -> str:
        return "T" if self.notation == "signals" else "t"

    @property
    def output(self) -> str:
        return self.a(self.L) if self.notation == "signals" else "y"

    @property
    def dl_dy(self) -> str:
        return {"symbols": "∂ℓ/∂y", "signals": "∂loss/∂S_postA,O", "delta": "∂E/∂y"}[self.notation]

    @property
    def final_error(self) -> str:
        """y − t under its name (signals: FE)."""
        return "FE" if self.notation == "signals" else f"({self.output} − {self.target})"

    # -- panel titles ----------------------------------------------------------------------

    def update_rule(self, optimizer: str = "gd", split: bool = False) -> str:
        """The weights panel's rule, the one the run applies: plain gradient descent, momentum or
        adam (engine/optimizers.py), each on the gradient or, with error_split = "proportional",
        on the step the proportional split asks for (engine/split.py)."""
        W, lr, g, s = {
            "symbols": ("W", "η", "∂L/∂W", "(e ⊙ f′(z))ᵀ·a / B"),
            "signals": ("weight", "LR", "gradient", "e·f′(S_preA)·S_postA"),
            "delta": ("w", "α", "∂E/∂w", "e·f′(z)·a"),
        }[self.notation]
        step = f"−{s}" if split else g  # what the optimiser is handed in place of the gradient
        if self.notation == "signals":
            minus, plus = f"{W} −= {lr}·", f"{W} += {lr}·"
        else:
            minus, plus = f"{W} ← {W} − {lr}·", f"{W} ← {W} + {lr}·"
        if optimizer == "momentum":
            return f"{minus}v, v ← μ·v {'− ' + s if split else '+ ' + g}"
        if optimizer == "adam":
            return f"{minus}m̂/(√v̂ + ε)" + (f", m̂ and v̂ of {step}" if split else "")
        return f"{plus}{s}" if split else f"{minus}{g}"

    def titles(self) -> dict[str, str]:
        """The border titles of the panels, by panel id (without the zoom key)."""
        if self.notation == "signals":
            L = self.L
            return {
                "forward": "forward: S_preA = Σ weight·S_postA, S_postA = f(S_preA)",
                "backward": "backward: S_ERROR = FE·f′(S_preA,O)",
                "gradients": f"gradients: {self.grad_w(L)} = S_ERROR·{self.a(L - 1)}",
                "weights": f"weights: {self.update_rule()}",
                "explain": "explain (signals)",
            }
        if self.notation == "delta":
            return {
                "forward": "forward: z = w·a + b, a = f(z)",
                "backward": "backward: delta_0 = w·delta_1·f′(z)",
                "gradients": "gradients: ∂E/∂w = delta·a",
                "weights": f"weights: {self.update_rule()}",
                "explain": "explain (delta)",
            }
        return {
            "forward": "forward: z = a·Wᵀ + b, a = f(z)",
            "backward": "backward: δ = ∂ℓ/∂z (delta)",
            "gradients": "gradients: ∂L/∂W = δᵀ·a / B (grad_w)",
            "weights": f"weights: {self.update_rule()}",
            "explain": "explain (symbols)",
        }

    def legend(self) -> list[tuple[str, str]]:
        """(name in this notation, what it is and its name in the trace) for the help screen."""
        L = self.L
        rows = [
            (self.a(0), "the inputs, a[0] in the trace's terms"),
            (self.z(1), "pre-activations of layer 1 (trace: z)"),
            (self.a(1), "activations of layer 1 (trace: a)"),
            (self.delta(L), "the output layer's error signal ∂ℓ/∂z (trace: delta)"),
            (self.w(L), f"the weights into the output layer (trace: w of layer {L})"),
            (self.grad_w(L), "their gradient (trace: grad_w)"),
            (self.lr, "the learning rate"),
            (self.loss, "the batch loss, the mean of the samples' losses"),
            (self.target, "the target"),
        ]
        if self.notation == "signals":
            rows.insert(4, ("FE", "the final error S_postA,O − T (∂loss/∂S_postA,O for half_sse)"))
        if L > 1:
            rows.insert(4, (self.delta(L - 1), f"a hidden layer's error signal (layer {L - 1})"))
        return rows


def vocabulary(notation: str, L: int) -> Vocabulary:
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r}; expected one of {', '.join(NOTATIONS)}")
    return Vocabulary(notation, L)


def next_notation(notation: str) -> str:
    """The notation after ``notation``, in the order of NOTATIONS, round again after the last."""
    return NOTATIONS[(NOTATIONS.index(notation) + 1) % len(NOTATIONS)]
