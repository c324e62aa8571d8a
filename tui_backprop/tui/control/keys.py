"""The key map: every binding of the app, with a footer label and a one-line explanation.

The footer shows the labels of the bindings marked shown; the help screen and the command
palette are generated from this same table (see ``key_rows``), so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding, BindingType

# zoomed by 1..9 (boundary and heatmaps: networks with 2 inputs only; heatmaps is shown zoomed only)
PANELS = (
    *("network", "forward", "backward", "gradients", "weights", "chart", "explain", "boundary"),
    "heatmaps",
)

# key(s), action, footer label, in the footer, what it does
# fmt: off
_KEYS: list[tuple[str, str, str, bool, str]] = [
    ("space", "step", "Step", True, "Take one step: forward, backward, update"),
    ("n", "step", "Step", False, "Take one step: forward, backward, update"),
    ("s", "substep", "Phase", False,
     "Take the next phase of a step: forward layer by layer, loss, deltas from the output back, "
     "gradients, update (space completes the step)"),
    ("b", "step_back", "Back", True, "Step back: return to the state before the last step"),
    ("p", "play", "Play", True, "Play (step at the play rate) or pause"),
    ("plus", "faster", "Faster", False, "Play faster: 1, 2, 5, 10 ... steps a second"),
    ("minus", "slower", "Slower", False, "Play slower"),
    ("equals_sign", "edit", "Edit", False,
     "Edit the selected number: a weight or bias (weight mode), or an input of the selected sample "
     "(sample mode); the run goes on from the new value (b takes the edit back)"),
    ("less_than_sign", "learning_rate(0.5)", "η ÷ 2", False, "Halve the learning rate η from the next step"),
    ("greater_than_sign", "learning_rate(2)", "η × 2", False,
     "Double the learning rate η from the next step"),
    ("k", "point_class", "Point class", False,
     "The class of the points a click on the boundary panel adds: the next class (at first, the "
     "selected sample's); a click on a point removes it"),
    ("f", "run(100)", "+100", True, "Run 100 steps as fast as possible"),
    ("F", "run(1000)", "+1000", False, "Run 1000 steps as fast as possible"),
    ("r", "reset", "Reset", True, "Reset: back to the initial weights, step 0"),
    ("e", "export", "Export", True, "Export the trace of every step up to this one (JSON)"),
    ("W", "save_scenario", "Save state", False,
     "Save the state on screen as a new scenario file that starts there: its weights and biases "
     "(explicit), its learning rate and its training data, edits included"),
    ("D", "save_data", "Save data", False,
     "Save the training data, edits included, as a CSV file (a scenario's csv key reads it)"),
    ("R", "reload", "Reload", False,
     "Reload the scenario file: a changed file starts a new run; a bad one is reported, the run goes on"),
    ("c", "continue_training", "Continue", True,
     "Replay: continue training live from the recorded step on screen (b at that step returns)"),
    ("tab", "cycle(1)", "Select", True,
     "Select a weight, a node or a sample of the batch; the arrows move the selection"),
    ("shift+tab", "cycle(-1)", "Select mode", False, "Previous selection mode"),
    ("up", "move(-1, 0)", "Up", False, "Selection up: the row j of a weight, the node, or the sample"),
    ("down", "move(1, 0)", "Down", False, "Selection down"),
    ("left", "move(0, -1)", "Left", False,
     "Selection left: the column i of a weight (then the layer before), or the layer of a node"),
    ("right", "move(0, 1)", "Right", False,
     "Selection right: the column i of a weight (past b, the next layer), or the layer of a node"),
    ("g", "goto", "Go to", False,
     "Go to a typed index: a weight j,i (or layer:j,i), a node k (or layer:k) or a sample k"),
    ("a", "answer", "Answer", False,
     "Quiz: type your value of the number the next phase (s) computes at the selection; it is "
     "checked, marked right or wrong, and a wrong one diagnosed (docs/check-my-work.md)"),
    ("P", "probe", "Probe", False,
     "Probe a point: type x (and -> t for the backward pass too); the panels show the passes there, "
     "nothing is trained or recorded (escape or a step key returns to the run)"),
    ("w", "neuron", "Neuron", False,
     "Neuron view: every incoming weight of the selected neuron, as a grid and as numbers"),
    ("left_square_bracket", "sample(-1)", "Prev sample", False, "Previous sample of the batch, in any mode"),
    ("right_square_bracket", "sample(1)", "Next sample", False, "Next sample of the batch, in any mode"),
    ("l", "log_scale", "Log scale", False, "Loss chart: log scale on or off"),
    ("A", "toggle_accuracy", "Accuracy", False,
     "Loss chart: a classifier's training- and test-set accuracy (• and +, right axis 0 to 100%) "
     "shown or hidden"),
    ("v", "notation", "Notation", False,
     "Notation: symbols (z, a, δ, η), signals (S_preA, S_postA, S_ERROR, LR) or delta (z, delta_0, α)"),
    ("C", "palette", "Palette", False,
     "Palette: default or colorblind (no red/green pair; signs blue and orange), for every panel"),
    ("x", "toggle_explain", "Explain", True,
     "Explain panel on or off (below 150 columns it takes the loss chart's place)"),
    ("pageup", "scroll_panels(-1)", "Page up", False, "Scroll the panels up (on small screens they stack)"),
    ("pagedown", "scroll_panels(1)", "Page down", False, "Scroll the panels down"),
    *(
        (str(k), f"zoom('{name}')", f"Zoom {name}", False, f"Zoom the {name} panel to the screen, or back")
        for k, name in enumerate(PANELS, 1)
    ),
    ("escape", "leave_probe", "Leave probe", False, "Leave the probe: the run on the panels again"),
    ("escape", "back_to_comparison", "Comparison", True,
     "Back to the comparison, as it was left (a variant opened with o in the comparison view)"),
    ("question_mark", "help", "Help", True, "Help: every key, panel, symbol and colour"),
    ("q", "quit", "Quit", True, "Quit"),
]
# fmt: on

# the screen binds tab and shift+tab to focus: the app's own must come first
_PRIORITY = {"tab", "shift+tab"}

BINDINGS: list[BindingType] = [
    Binding(keys, action, label, show=show, priority=keys in _PRIORITY, tooltip=explanation)
    for keys, action, label, show, explanation in _KEYS
]


def key_rows(bindings: list[BindingType], display: Callable[[Binding], str]) -> list[tuple[str, str, str]]:
    """(action, keys as shown, explanation) for every action, in the order of ``bindings``;
    ``display`` is the app's ``get_key_display``."""
    seen: dict[str, tuple[list[str], str]] = {}
    for b in bindings:
        if not isinstance(b, Binding):
            continue
        keys, _ = seen.setdefault(b.action, ([], b.tooltip or b.description))
        keys.extend(display(Binding(key.strip(), b.action)) for key in b.key.split(","))
    return [(action, " ".join(keys), explanation) for action, (keys, explanation) in seen.items()]
