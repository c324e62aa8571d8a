"""What P reads (tui/control/probe_input.py): a point, an optional target after an arrow, a
softmax network's class by name or index; every bad input refused in words that say what."""

from __future__ import annotations

import pytest

from tui_backprop.tui.control.probe_input import ProbeInput, probe_text, read_probe

XOR = (("x1", "x2"), ("y",))
IRIS = (("sepal_length", "sepal_width", "petal_length", "petal_width"), ("setosa", "versicolor", "virginica"))


@pytest.mark.parametrize(
    ("text", "x", "t"),
    [
        ("0.3, -1.2", (0.3, -1.2), None),
        ("  0.3   -1.2 ", (0.3, -1.2), None),
        ("0.3,-1.2->1", (0.3, -1.2), (1.0,)),
        ("1e-3, 2 → 0.5", (0.001, 2.0), (0.5,)),
        ("-0, +4 -> -7", (0.0, 4.0), (-7.0,)),
    ],
)
def test_a_point_and_an_optional_target_are_read(text, x, t):
    assert read_probe(text, *XOR) == ProbeInput(x, t)


@pytest.mark.parametrize(
    ("target", "t"),
    [
        ("versicolor", (0.0, 1.0, 0.0)),
        ("2", (0.0, 0.0, 1.0)),
        ("0.2, 0.3, 0.5", (0.2, 0.3, 0.5)),
    ],
)
def test_a_softmax_target_is_a_class_name_an_index_or_probabilities(target, t):
    read = read_probe(f"5.1 3.5 1.4 0.2 -> {target}", *IRIS, softmax=True)
    assert read.x == (5.1, 3.5, 1.4, 0.2) and read.t == t


def test_an_output_name_wins_over_an_index():
    read = read_probe("1 -> 1", ("x",), ("1", "0"), softmax=True)
    assert read.t == (1.0, 0.0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0.3", "the network has 2 inputs (x1, x2): got 1 number ('0.3')"),
        ("1, 2, 3", "the network has 2 inputs (x1, x2): got 3 numbers"),
        ("", "the network has 2 inputs"),
        ("1, abc", "x: 'abc' is not a number"),
        ("1, nan", "x: x2 = 'nan': a probe needs finite numbers"),
        ("inf, 0", "x: x1 = 'inf': a probe needs finite numbers"),
        ("1e999, 0", "x: x1 = '1e999': a probe needs finite numbers"),
        ("1, 2 ->", "no target after the arrow"),
        ("1, 2 -> 1 -> 2", "one arrow at most"),
        ("1, 2 -> 1, 2", "the network has 1 output (y): got 2 numbers"),
        ("1, 2 -> -inf", "t: y = '-inf': a probe needs finite numbers"),
        ("1, 2 -> yes", "t: 'yes' is not a number"),
        ("1, \x1b[31m", "'\\x1b[31m' is not a number"),
    ],
)
def test_bad_input_is_refused_in_words(text, words):
    with pytest.raises(ValueError) as e:
        read_probe(text, *XOR)
    assert words in str(e.value)
    assert "\x1b" not in str(e.value)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (
            "daisy",
            "the target is a class (setosa, versicolor, virginica, or its index 0..2) or 3 probabilities",
        ),
        ("3", "class 3 does not exist: the classes are 0..2 (setosa, versicolor, virginica)"),
        ("0.5, 0.5", "the network has 3 outputs (setosa, versicolor, virginica), or one class"),
    ],
)
def test_a_bad_class_is_refused_with_the_classes_named(target, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_probe(f"1 2 3 4 -> {target}", *IRIS, softmax=True)


@pytest.mark.parametrize(
    ("x", "t", "softmax"),
    [
        ((0.0, 1.0), (1.0,), False),
        ((0.25, -1.5e-07), None, False),
        ((1.0, 2.0, 3.0, 4.0), (0.0, 0.0, 1.0), True),
        ((1.0, 2.0, 3.0, 4.0), (0.5, 0.5, 0.0), True),
    ],
)
def test_the_offered_text_reads_back_as_the_same_point(x, t, softmax):
    names = IRIS if len(x) == 4 else XOR
    text = probe_text(x, t, names[1], softmax)
    assert read_probe(text, *names, softmax=softmax) == ProbeInput(x, t)
    if softmax and t == (0.0, 0.0, 1.0):
        assert text.endswith("-> virginica")
