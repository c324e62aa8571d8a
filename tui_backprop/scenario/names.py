"""The names of a network's nodes, as the app and the error messages use them.

    inputs    [data] input_names (or the CSV's column names), or x1, x2, ...
    hidden    h1, h2, ... for a single hidden layer; h1.1, h1.2, ..., h2.1, ... for several
    outputs   [data] output_names (or the CSV's), or y (one output), y1, y2, ...
    biases    b: the column of b in a weight matrix, the rows b→h1 of the weights panel; "+1"
              (the bias unit's value) when a node is itself called b (see ``bias_label``)

Every node needs a name of its own: the weights panel labels a weight "source→target" and the
panels head their columns by name, so two nodes of one name would give rows that read the
same. ``name_problems`` says which given names break that; the loader refuses them. A node
called b is allowed (a CSV column often is): the biases then take another label.
No Textual and no numpy here: the scenario loader and the app's NetInfo share it. A name in a
message is quoted and escaped (common/escape.py), as every name from a file is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..common.escape import quoted, shown

BIAS_LABELS = ("b", "+1", "bias")  # the bias's label: the first that no node is called


def node_names(
    layers: Sequence[int], input_names: Sequence[str] = (), output_names: Sequence[str] = ()
) -> tuple[tuple[str, ...], ...]:
    """The names of every layer's nodes, input layer first (given names of the wrong count are
    not used: the loader refuses them)."""
    L = len(layers) - 1
    names: list[tuple[str, ...]] = []
    for l, n in enumerate(layers):
        if l == 0:
            given, default = tuple(input_names), tuple(f"x{k + 1}" for k in range(n))
        elif l == L:
            given, default = tuple(output_names), ("y",) if n == 1 else tuple(f"y{k + 1}" for k in range(n))
        else:
            prefix = "h" if L == 2 else f"h{l}."
            given, default = (), tuple(f"{prefix}{k + 1}" for k in range(n))
        names.append(given if len(given) == n else default)
    return tuple(names)


def bias_label(names: Iterable[Sequence[str]]) -> str:
    """How the biases are labelled (b→h1): b, or, when a node is called b, the first of
    BIAS_LABELS that no node is called (with primes added while every one is taken)."""
    taken = {name for layer in names for name in layer}
    primes = 0
    while True:
        for label in BIAS_LABELS:
            if label + "′" * primes not in taken:
                return label + "′" * primes
        primes += 1


def name_problems(
    layers: Sequence[int], input_names: Sequence[str], output_names: Sequence[str]
) -> list[tuple[str, str]]:
    """(key, problem) for each given name that is blank, given twice or also another node's
    name, each name once; key is "input_names" or "output_names". An output named like an
    input is blamed on output_names, the later of the two."""
    names = node_names(layers, input_names, output_names)
    L = len(layers) - 1
    # each name as shown (escaped and cut, common/escape.py: two long names alike in their first 80
    # characters read the same): the nodes that have it, in words
    holders: dict[str, list[str]] = {}
    for l, layer in enumerate(names):
        for k, name in enumerate(layer):
            where = "an input" if l == 0 else "an output" if l == L else f"hidden node {k + 1} of layer {l}"
            holders.setdefault(shown(name), []).append(where)
    problems: list[tuple[str, str]] = []
    said: set[str] = set()
    given_lists = (
        ("output_names", output_names, L, "an output"),
        ("input_names", input_names, 0, "an input"),
    )
    for key, given, index, mine in given_lists:
        if not given or tuple(given) != names[index]:
            continue  # not given, or the wrong count (said elsewhere)
        for name in given:
            others = [w for w in holders[shown(name)] if w != mine]
            if shown(name) in said:
                continue
            if not name.strip():
                problem = f"{quoted(name)}: a name must not be blank"
            elif len(holders[shown(name)]) - len(others) > 1:
                problem = f"{quoted(name)} is given twice: each node needs a name of its own"
            elif others:
                problem = f"{quoted(name)} is also the name of {others[0]}: each node needs a name of its own"
            else:
                continue
            said.add(shown(name))
            problems.append((key, problem))
    problems.reverse()  # in the file's order: input_names, then output_names
    return problems
