"""The help screen: the scenario (its name and description), then every key (made from the
app's bindings), panel, symbol and colour."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...engine.activations import ACTIVATIONS, ALIASES
from ...scenario.notation import NOTATIONS, Vocabulary
from ..panels.plane_text import LEVELS
from ..widgets.numbers import SHADES, style
from ..widgets.palette import MARKERS, MEANINGS, NEG_SHADES, current, following

PANELS = [
    (
        "header",
        "scenario name; step taken / the step where the run stops by itself; epoch; the indices "
        "of the samples in the last batch (0-based, as in the data); learning rate (with a schedule: the "
        "rate the step on screen used, and the schedule's name); batch mode and loss; "
        "the last step's batch loss and the training-set loss after it; a classifier's accuracy "
        "(the share of the training set, and of the test set, classified right); what is running; "
        "the selection.",
    ),
    (
        "banner",
        "red, under the header, when the run diverged: the step and why, either where its first "
        "non-finite value appeared (that number is highlighted in its panel) or, every number still "
        "finite, the training-set loss that went over 1e8 x max(its initial value, 1).",
    ),
    (
        "edited",
        "under the header, after an edit (=, <, >, a click on the boundary) and until the next step: "
        "what changed since the step on screen. The panels show that step as it was computed; the "
        "header's learning rate and training-set loss, the chart's last loss and the boundary are "
        "the edited state's. b takes the last edit back.",
    ),
    ("footer", "the main keys; ctrl+p opens the command palette, where every action can be searched."),
    (
        "1 network",
        "the layers as columns of nodes, input on the left. Each node shows its activation a "
        "for the selected sample (x for inputs). Each line is a weight W[l][j,i] from node i to node j, "
        "as the step's forward pass used it (before the update). The +1 bias units sit on the bottom "
        "row: their lines are the biases b[l][j]. Two-input networks: where the panel has room, each "
        "hidden and output node has a small map of its a over the input plane beside it (as in 9).",
    ),
    (
        "2 forward",
        "for every layer, one row per sample of the batch (#k is the sample's index in the data): "
        "z = a[l-1]·W[l]ᵀ + b[l] and a = f(z); the output layer adds the target t and the sample's loss ℓ. "
        "The batch loss is the mean of ℓ.",
    ),
    (
        "3 backward",
        "delta[l] = ∂ℓ/∂z[l] per sample, from the output layer back: at the output ∂ℓ/∂y ⊙ f′(z), "
        "in hidden layers (delta[l+1]·W[l+1]) ⊙ f′(z[l]), with the weights before the update. "
        "Beside it e[l], the proportional error split: e[L] = t − y, handed back in proportion to "
        'the weights (what error_split = "proportional" trains with).',
    ),
    (
        "4 gradients",
        "grad_w[l] = delta[l]ᵀ·a[l-1] / B and grad_b[l] = the mean of delta[l] over the batch "
        "(rows: the node the weight goes into; columns: the node it comes from, then b).",
    ),
    (
        "5 weights",
        "every weight before → after the update, the direction (▲ up, ▼ down, = unchanged) and "
        "the change Δ. The title gives the rule the run applies: W ← W − η·∂L/∂W, or momentum's, "
        "adam's, or the proportional split's (error_split). Big layers show heatmaps of W and ΔW "
        "with their summary figures.",
    ),
    (
        "7 explain",
        "how the selected number came about, with the step's own numbers: for a weight the chain "
        "rule, each sample's contribution δ·a and their mean, then the update (with the weight at full "
        "precision); for a node its z term by term, a = f(z) and its delta (a hidden node also shows "
        "the proportional error split beside it); for a sample its loss. Each line of arithmetic is "
        "printed to as many digits as it takes to add up. While s reveals a step phase by phase it "
        "explains the phase; before the first step it shows the scenario's description. Beside the "
        "network at 150 columns and wider; x switches it (narrower, in the loss chart's place).",
    ),
    (
        "6 loss",
        "batch loss (before each update) and training-set loss (after it) against step; with many "
        "steps each column shows the lowest and highest loss of its steps. l switches to a log scale. "
        "With a test set, the test-set loss is a third line. A classifier's training-set (•) and "
        "test-set (+) accuracy are marked lines on their own axis, 0 to 100% on the right; A hides "
        "or shows them.",
    ),
    (
        "8 boundary",
        "two-input networks only, beside the loss chart: the network's output over the input plane "
        "(the data's range plus a tenth), two pixels a character, with the training points on it, "
        f"each class with its own marker ({' '.join(MARKERS[:5])} ...) as well as its colour. "
        "One output: orange at the lowest target, dark in the middle, blue at the highest; several "
        "(softmax): the colour of the most likely class, deeper where the network is surer. "
        "8 zooms it, with the range of each axis, and for softmax the confusion matrices beside it. "
        "A click on it adds a training point of the current class at that place (k: the next "
        "class), a click on a point removes it. With engineered features ([data] features) of two "
        "raw inputs, the plane is x1, x2, each point through the features. "
        "A softmax network with more inputs (iris) shows its confusion matrices here instead: "
        "samples by true class (rows) and predicted class (columns), the test set's and the "
        "training set's, the diagonal right.",
    ),
    (
        "9 heatmaps",
        "two-input networks only, shown when 9 zooms them: what each unit has learned. Every node of "
        "the selected node's layer (the node a selected weight goes into; an input shows layer 1) as "
        "a map of its activation a over the input plane, from the boundary's weights; the selected "
        "node's map larger, with the training points on it. The scale runs from orange (its low end) "
        "through dark to blue (its high end): the activation's range (sigmoid 0..1, tanh -1..1) or, "
        f"unbounded, the layer's range over the plane. NO_COLOR: shades {LEVELS[0]} (low) to "
        f"{LEVELS[-1]} (high). The arrows move the selection; 9 or escape goes back.",
    ),
]

SYMBOLS = [
    ("▸", "the selected sample (rows of forward and backward) or the selected weight's row"),
    ("#k", "the index of a sample in the data set"),
    ("→", "before → after an update; in labels, from node → to node"),
    ("▲ ▼ =", "a weight went up, down, or did not change"),
    ("⋮ n more", "nodes not drawn: a layer with more than 12 nodes shows its first and last five"),
    (
        SHADES,
        "heatmap: each character is the entry of largest magnitude of its group, "
        "shaded by |value| relative to the largest |value| in the matrix, coloured by sign",
    ),
    (NEG_SHADES, "heatmap with NO_COLOR set: a negative value's shade (the other shades are positive)"),
    ("✖", "a heatmap group holding a non-finite value"),
    ("●", "in a heatmap, the group of the selected weight"),
    (
        "hist ▕▁▃█▅▏",
        "beside a heatmap: its norm, min, max and a histogram of its values, twelve equal bins "
        "from min to max, each bar as high as its count against the fullest bin",
    ),
    ("⊙ ᵀ ′", "element-wise product, transpose, derivative"),
    ("·", "no value yet (before the first step, or before the phase that computes it)"),
    ("◂ this phase", "what the phase just taken with s computed (highlighted); later phases are named"),
    (
        "probe ◎",
        "a point probed with P, not a sample of the data: its row in the panels, and where it is "
        "on the boundary panel; nothing is trained on it (escape or a step key returns to the run)",
    ),
]


def activation_rows() -> list[tuple[str, str]]:
    """Each activation [network] activation takes, with f(z) and f'(z) as the engine writes them."""
    aliases = {name: alias for alias, name in ALIASES.items()}
    return [
        (
            f"{name}/{aliases[name]}" if name in aliases else name,
            f"f(z) = {act.formula};  f′(z) = {act.grad_formula}",
        )
        for name, act in ACTIVATIONS.items()
    ]


INTRO = (
    "One step = one forward pass, one backward pass and one update of every weight, on one batch. "
    "Select with the arrows: tab switches between selecting a weight, a node and a sample of the batch; "
    "[ and ] change the sample from any mode. A selected weight also marks what its gradient is made of: "
    "a[l-1] column i (forward) and delta[l] column j (backward). Click a number to select it. "
    "When a run diverges, it stops and a red banner says why: the first non-finite value, whose cell is "
    "highlighted, or a training-set loss that blew up. Step back works for any step (the last 10,000 "
    "from memory, older ones by replaying). "
    "Export writes every step up to the current one as a JSON trace."
)


GAP = 2  # spaces between a row's term and its text, at the least
MAX_TERM = 16  # a longer term has its text start on the next line


def wrapped(text: str, width: int, indent: str = "") -> str:
    """``text`` wrapped to ``width``, each of its lines a paragraph, every line led by ``indent``."""
    room = max(width, 20 + len(indent))
    return "\n".join(
        "\n".join(textwrap.wrap(line, room, initial_indent=indent, subsequent_indent=indent)) or ""
        for line in text.splitlines()
    )


def append_rows(t: Text, items: Iterable[tuple[str, str]], width: int, term_style: str = "bold") -> None:
    """Rows of a term and its text: the terms in a column as wide as the longest (up to MAX_TERM),
    the text wrapped to ``width`` beside it, every line of it starting in the same column, so that
    a term never runs into its text at any width."""
    items = list(items)
    column = 2 + min(max((len(term) for term, _ in items), default=0), MAX_TERM) + GAP
    room = max(width - column, 20)
    for term, text in items:
        lines = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
        t.append(f"  {term}", style(term_style))
        if 2 + len(term) + GAP > column:  # a term wider than the column: its text starts below
            t.append("\n" + " " * column)
        else:
            t.append(" " * (column - 2 - len(term)))
        t.append(("\n" + " " * column).join(lines) + "\n")


def help_text(
    keys: Sequence[tuple[str, str]],
    vocab: Vocabulary | None = None,
    about: tuple[str, str] = ("", ""),
    width: int = 100,
) -> Text:
    """``about``: the scenario's name and description, which the help starts with; ``width``:
    the columns to lay the rows out in."""
    t = Text()

    def heading(s: str) -> None:
        t.append(f"\n{s}\n", style("bold underline"))

    name, description = about
    if name:
        t.append(name, style("bold"))
        t.append("   (escape, q or ? closes)\n", style("dim"))
        if description:
            t.append(wrapped(description, width) + "\n")
        heading("backprop-tui help")
    else:
        t.append("backprop-tui help", style("bold"))
        t.append("   (escape, q or ? closes)\n\n", style("dim"))
    t.append(wrapped(INTRO, width) + "\n")

    def paragraph(text: str) -> None:
        t.append(wrapped(text, width, "  ") + "\n")

    heading("Keys (also in the command palette, ctrl+p)")
    append_rows(t, keys, width)
    heading("Panels (the number zooms it; press it again or escape to go back)")
    append_rows(t, PANELS, width)
    heading("Symbols")
    append_rows(t, SYMBOLS, width)
    heading("Activations ([network] activation)")
    append_rows(t, activation_rows(), width)
    if vocab is not None:
        others = ", ".join(n for n in NOTATIONS if n != vocab.notation)
        heading(f"Notation: {vocab.notation} (v switches to {others})")
        append_rows(t, vocab.legend(), width)
        paragraph(
            "Phases (s): forward layer 1 .. L, loss, output delta, hidden deltas L-1 .. 1, "
            "gradients, update; the part a phase computed is marked ◂ this phase."
        )
    palette = current()
    heading(f"Colours: the {palette} palette (C switches to {following(palette.name)})")
    column = 2 + len(" sample ") + GAP
    for name, meaning in MEANINGS.items():
        t.append("  ")
        t.append(" sample ", style(name))
        t.append(
            " " * GAP + ("\n" + " " * column).join(textwrap.wrap(meaning, max(width - column, 20))) + "\n"
        )
    t.append("  ")
    t.append(" line ", style("pos"))
    t.append(" ")
    t.append(" line ", style("neg"))
    t.append("\n")
    paragraph("network lines: positive and negative weights; thicker = larger |w|")
    paragraph(f"loss chart: {palette.batch} dots = batch loss, {palette.train} line = training-set loss")
    paragraph(f"({palette.test} line = test-set loss, when the scenario holds a test set out)")
    paragraph("every number is printed with its sign, so nothing depends on colour alone (NO_COLOR)")
    return t


class HelpText(Static):
    """Rows laid out for the width the text has on screen, again whenever that changes."""

    def __init__(self, build: Callable[[int], Text], **kwargs) -> None:
        """``build(width)``: the text laid out for ``width`` columns."""
        super().__init__(build(100), **kwargs)
        self._build = build
        self._width = 0

    def on_resize(self) -> None:
        width = self.content_region.width or self.size.width
        if width and width != self._width:
            self._width = width
            self.update(self._build(width))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 120; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(
        self,
        keys: Sequence[tuple[str, str]],
        vocab: Vocabulary | None = None,
        about: tuple[str, str] = ("", ""),
    ) -> None:
        super().__init__()
        self._keys, self._vocab, self._about = keys, vocab, about

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield HelpText(partial(help_text, self._keys, self._vocab, self._about), id="help-text")
