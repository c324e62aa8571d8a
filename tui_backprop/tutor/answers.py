"""An answers file: the numbers a learner computed, each as written, read and checked.

Two kinds of file are answers files. TOML written by hand, one table per answered number or array:

    [[answer]]
    step = 1               # the step (1-based) whose number this is
    name = "delta[2]"      # z[l] a[l] delta[l] error[l] grad_w[l] grad_b[l] w[l] b[l] loss train_loss
    index = [0, 1]         # optional: (sample, node), (j, i) or (j,); without it, value is the whole array
    value = 0.1385         # the number as written, or nested lists of them for a whole array

and a trace in format 1 (JSON), whole or partial (--every, --fields), as a learner's own code writes
it: every number it holds is an answer, at full precision.

``read_answers`` reads a file into ``Answers`` (its numbers each with the text written, so that
grading knows how many digits the learner gave); ``check_against`` then checks each number against
the run (its step, layer and index in range), naming every problem with the file and the key:
``answers.toml: answer[3].name: unknown name "dleta[2]" (did you mean "delta[2]"?)``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from ..common.errors import BackpropError
from ..common.escape import shown
from ..common.files import SCENARIO_LIMIT, Unreadable, read_regular
from ..common.values import describe
from ..engine.record import StepRecord

ANSWERS_LIMIT = SCENARIO_LIMIT  # a hand-written answers file: 4 MB (a trace has the trace's limit)
MAX_NUMBERS = 100_000  # numbers of one answers file
MAX_PROBLEMS = 20  # problems named one by one (then counted)
LAYERED = ("z", "a", "delta", "error", "grad_w", "grad_b", "w", "b")
PER_SAMPLE = ("z", "a", "delta", "error")  # (B, n_l): index (sample, node)
WEIGHT_SHAPED = ("grad_w", "w")  # (n_l, n_{l-1}): index (j, i)
BIAS_SHAPED = ("grad_b", "b")  # (n_l,): index (j,)
SCALARS = ("loss", "train_loss")
KEYS = ("step", "name", "index", "value")
_NAME = re.compile(r"^(z|a|delta|error|grad_w|grad_b|w|b)\[(\d{1,6})\]$")


class AnswersError(BackpropError):
    """An answers file that cannot be graded: every problem, each with its key."""


@dataclass(frozen=True, slots=True)
class Written:
    """A number as the learner wrote it: its value, its text, and the decimal place of its last
    digit (``0.1385`` -> -4, ``1.5e-3`` -> -4, ``12.0`` -> -1); ``place`` is None for a number
    taken as exact: an integer (``0``, ``4``) and every number of a trace."""

    value: float
    text: str
    place: int | None

    @property
    def exact(self) -> Decimal:
        return Decimal(self.text) if self.place is not None else Decimal(self.value)


@dataclass(frozen=True, slots=True)
class Number:
    """One answered number: where it is in the run, and what the learner wrote."""

    key: str  # where it is in the answers file: answer[3], answer[3].value[1][0], steps[0].layers[1].z[0][1]
    step: int  # 1-based
    quantity: str  # one of LAYERED or SCALARS
    layer: int | None  # 1-based; None for loss and train_loss
    index: tuple[int, ...]  # () for a scalar
    written: Written

    @property
    def name(self) -> str:
        """``delta[2][0, 1]``, ``loss``: the number as the trace names it."""
        if self.layer is None:
            return self.quantity
        where = f"[{', '.join(map(str, self.index))}]" if self.index else ""
        return f"{self.quantity}[{self.layer}]{where}"


@dataclass(frozen=True)
class Answers:
    source: str  # the path as given, for messages
    numbers: tuple[Number, ...]

    @property
    def last_step(self) -> int:
        return max((n.step for n in self.numbers), default=0)


# -- reading -------------------------------------------------------------------------------------


class _FloatText(str):
    """A TOML float's text, as tomllib hands it to parse_float."""


def read_answers(path: str | Path) -> Answers:
    """The answers of a TOML file or of a trace (a file that begins with "{"); AnswersError names
    every problem with the file and the key."""
    label = str(path)
    head = _head(path)
    if head.startswith(b"{"):
        return _from_trace(path, label)
    try:
        data = read_regular(path, ANSWERS_LIMIT, "answers file", label)
    except Unreadable as e:
        raise AnswersError(label, e.reason) from e.__cause__ or e
    return loads_answers(data, label)


def _head(path: str | Path) -> bytes:
    from ..common.files import peek

    got = peek(path, 64)
    return b"" if got is None else got.lstrip(b"\xef\xbb\xbf \t\r\n")


def loads_answers(data: bytes | str, source: str = "<answers>") -> Answers:
    """Answers from the text of a TOML answers file; errors are titled with ``source``."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AnswersError(source, f"not UTF-8 text (byte {e.start}): an answers file is TOML") from e
    try:
        doc = tomllib.loads(data.removeprefix("\ufeff"), parse_float=_FloatText)
    except tomllib.TOMLDecodeError as e:
        raise AnswersError(source, f"not valid TOML: {e}") from e
    except (RecursionError, ValueError) as e:
        raise AnswersError(
            source, "not valid TOML for an answers file: nested too deeply, or a huge integer"
        ) from e
    problems: list[str] = []
    numbers = _parse_doc(doc, problems)
    if problems:
        raise AnswersError(source, _capped(problems))
    if not numbers:
        raise AnswersError(source, "answer: no answers (an answers file holds [[answer]] tables)")
    return Answers(source, tuple(numbers))


def _parse_doc(doc: dict[str, Any], problems: list[str]) -> list[Number]:
    for key in doc:
        if key != "answer":
            problems.append(f"{shown(key)}: unknown key (an answers file holds [[answer]] tables only)")
    tables = doc.get("answer", [])
    if not isinstance(tables, list):
        problems.append(f"answer: expected [[answer]] tables, got {_described(tables)}")
        return []
    numbers: list[Number] = []
    for i, t in enumerate(tables):
        where = f"answer[{i}]"
        if not isinstance(t, dict):
            problems.append(f"{where}: expected a table, got {_described(t)}")
            continue
        numbers += _parse_answer(t, where, problems)
        if len(numbers) > MAX_NUMBERS:
            problems.append(f"{where}: more than {MAX_NUMBERS:,} numbers in one answers file")
            break
    return numbers


def _parse_answer(t: dict[str, Any], where: str, problems: list[str]) -> list[Number]:
    before = len(problems)
    for key in t:
        if key not in KEYS:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else f" (known keys: {', '.join(KEYS)})"
            problems.append(f"{where}.{shown(key)}: unknown key{also}")
    for key in ("step", "name", "value"):
        if key not in t:
            problems.append(f"{where}.{key}: required key is missing")
    step = t.get("step")
    if "step" in t and (type(step) is not int or not 1 <= step <= 10**9):
        problems.append(f"{where}.step: expected a step number, 1 or more, got {_described(step)}")
    name = t.get("name")
    parsed = None
    if "name" in t:
        parsed = _parse_name(name)
        if parsed is None:
            problems.append(f"{where}.name: unknown name {_quoted(name)}{_name_hint(name)}")
    index: tuple[int, ...] | None = None
    if "index" in t:
        raw = t["index"]
        if not isinstance(raw, list) or not raw or not all(type(i) is int and 0 <= i < 10**9 for i in raw):
            problems.append(f"{where}.index: expected a list of indices (0 or more), got {_described(raw)}")
        else:
            index = tuple(raw)
            if parsed is not None:
                want = _index_length(parsed[0])
                if len(index) != want:
                    problems.append(f"{where}.index: {_index_words(parsed[0])}, got {len(index)} indices")
    values: list[tuple[tuple[int, ...], str, Written]] = []
    if "value" in t:
        if index is not None or (parsed is not None and parsed[0] in SCALARS):
            got = _written(t["value"])
            if got is None:
                problems.append(f"{where}.value: expected a finite number, got {_described(t['value'])}")
            else:
                values = [((), f"{where}", got)]
        else:
            values = _array(t["value"], f"{where}.value", problems)
    if len(problems) > before or parsed is None or type(step) is not int:
        return []
    quantity, layer = parsed
    return [
        Number(key, step, quantity, layer, (index or ()) + sub, w)  # index given: sub is ()
        for sub, key, w in values
    ]


def _parse_name(name: Any) -> tuple[str, int | None] | None:
    if not isinstance(name, str):
        return None
    if name in SCALARS:
        return name, None
    m = _NAME.match(name)
    if m is None or int(m[2]) < 1:
        return None
    return m[1], int(m[2])


def _name_hint(name: Any) -> str:
    if not isinstance(name, str):
        return ""
    layer = re.search(r"\[(\d{1,6})\]", name)
    l = layer[1] if layer else "1"
    candidates = [f"{q}[{l}]" for q in LAYERED] + list(SCALARS)
    hint = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if hint:
        return f' (did you mean "{hint[0]}"?)'
    return " (names: z[l], a[l], delta[l], error[l], grad_w[l], grad_b[l], w[l], b[l], loss, train_loss)"


def _index_length(quantity: str) -> int:
    return 1 if quantity in BIAS_SHAPED else 0 if quantity in SCALARS else 2


def _index_words(quantity: str) -> str:
    if quantity in SCALARS:
        return f"{quantity} is one number: it takes no index"
    if quantity in BIAS_SHAPED:
        return f"{quantity}[l] takes one index (node j)"
    if quantity in WEIGHT_SHAPED:
        return f"{quantity}[l] takes two indices (j, i: the weight into node j from node i)"
    return f"{quantity}[l] takes two indices (sample, node)"


def parse_written(text: str) -> Written | None:
    """A number typed by the learner (in the app), read as a TOML number is: its value and its
    digits; None when it is no finite number."""
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return _written(int(text))
    if not re.fullmatch(r"[+-]?(\d+(\.\d+)?|\.\d+|\d+\.)([eE][+-]?\d+)?", text):
        return None
    return _float_text(text)


def _written(v: Any) -> Written | None:
    """A number of the file with its text, or None when it is no finite number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        if abs(v) > 10**300:
            return None
        return Written(float(v), str(v), None)  # an integer is exact: 4.0 claims one decimal
    if isinstance(v, _FloatText):
        return _float_text(str(v))
    return None


def _float_text(text: str) -> Written | None:
    """``0.1385`` -> Written(0.1385, "0.1385", -4); inf and nan -> None."""
    plain = text.replace("_", "")
    mantissa, _, exponent = plain.lower().partition("e")
    try:
        exact = Decimal(plain)
    except InvalidOperation:
        return None
    if not exact.is_finite():
        return None
    _, _, fraction = mantissa.partition(".")
    try:
        shift = int(exponent) if exponent else 0
    except ValueError:
        return None
    value = float(exact)
    if not np.isfinite(value) or abs(shift) > 400:
        return None
    return Written(value, plain, shift - len(fraction))


def _array(v: Any, key: str, problems: list[str]) -> list[tuple[tuple[int, ...], str, Written]]:
    """The numbers of a value without an index: one number, a list, or a list of lists."""
    one = _written(v)
    if one is not None:
        return [((), key, one)]
    if not isinstance(v, list) or not v:
        problems.append(f"{key}: expected a number, or a list (of lists) of numbers, got {_described(v)}")
        return []
    if all(isinstance(row, list) for row in v):
        out: list[tuple[tuple[int, ...], str, Written]] = []
        for k, row in enumerate(v):
            for j, x in enumerate(row):
                w = _written(x)
                if w is None:
                    problems.append(f"{key}[{k}][{j}]: expected a finite number, got {_described(x)}")
                    return []
                out.append(((k, j), f"{key}[{k}][{j}]", w))
        return out
    out = []
    for j, x in enumerate(v):
        w = _written(x)
        if w is None:
            problems.append(f"{key}[{j}]: expected a finite number, got {_described(x)}")
            return []
        out.append(((j,), f"{key}[{j}]", w))
    return out


def _described(v: Any) -> str:
    if isinstance(v, _FloatText):
        return f"{shown(str(v))}"
    return describe(v, toml=True)


def _quoted(name: Any) -> str:
    return f'"{shown(name)}"' if isinstance(name, str) else _described(name)


def _capped(problems: Sequence[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return list(problems)
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS:,} more problems"]


# -- a trace as an answers file ---------------------------------------------------------------------


def _from_trace(path: str | Path, label: str) -> Answers:
    from ..trace.reader import read_trace

    try:
        recording = read_trace(path, whole=False)
    except BackpropError as e:
        raise AnswersError(label, e.problems) from e
    numbers: list[Number] = []
    full = lambda x: Written(float(x), repr(float(x)), None)  # noqa: E731
    for i, kept in enumerate(recording.kept):
        where = f"steps[{i}]"
        for q in SCALARS:
            v = kept.values.get(q)
            if v is not None and np.isfinite(v):
                numbers.append(Number(f"{where}.{q}", kept.step, q, None, (), full(v)))
        for l, fields in enumerate(kept.layers, start=1):
            for q in LAYERED:
                if q not in fields:
                    continue
                arr = np.asarray(fields[q], dtype=float)
                for idx in np.ndindex(arr.shape):
                    key = f"{where}.layers[{l - 1}].{q}" + "".join(f"[{k}]" for k in idx)
                    numbers.append(Number(key, kept.step, q, l, tuple(int(k) for k in idx), full(arr[idx])))
                if len(numbers) > MAX_NUMBERS:
                    raise AnswersError(
                        label, f"{where}: more than {MAX_NUMBERS:,} numbers in one answers file"
                    )
    if not numbers:
        raise AnswersError(label, "steps: the trace holds no step's numbers to grade")
    return Answers(label, tuple(numbers))


# -- checking against the run --------------------------------------------------------------------


def shape_of(number: Number, record: StepRecord) -> tuple[int, ...]:
    """The shape of the array the number belongs to, in the step's record."""
    if number.layer is None:
        return ()
    lr = record.layers[number.layer - 1]
    if number.quantity in PER_SAMPLE:
        return lr.z.shape
    return getattr(lr, number.quantity).shape


def check_against(
    answers: Answers, layers: Sequence[int], records: dict[int, StepRecord], stopped: str
) -> Answers:
    """The answers with each number's place checked against the run, or AnswersError naming every
    number the run has no place for: a layer the network does not have, a step the run did not
    reach (``stopped`` says why it stopped), an index out of range, or a whole array of the wrong
    shape. A single number given without an index for an array of one element is its element."""
    problems: list[str] = []
    L = len(layers) - 1
    groups: dict[str, list[Number]] = {}
    for n in answers.numbers:
        groups.setdefault(_group(n.key), []).append(n)
    kept: list[Number] = []
    for head, numbers in groups.items():
        n = numbers[0]
        if n.layer is not None and n.layer > L:
            problems.append(
                f"{head}.name: layer {n.layer} is not in this network (layers 1..{L} after the input)"
            )
            continue
        record = records.get(n.step)
        if record is None:
            problems.append(f"{head}.step: the run has no step {n.step} ({stopped})")
            continue
        shape = shape_of(n, record)
        if n.quantity in BIAS_SHAPED and shape == (0,):
            problems.append(f"{head}.name: this network has no biases (bias = false)")
            continue
        if len(numbers) == 1 and n.index == () and shape and int(np.prod(shape)) == 1:
            numbers = [Number(n.key, n.step, n.quantity, n.layer, (0,) * len(shape), n.written)]
        if head.startswith("steps[") or ".value" in n.key or (n.index == () and shape):
            given = [m.index for m in numbers]
            if given != list(np.ndindex(shape)):
                where = head if head.startswith("steps[") else f"{head}.value"
                problems.append(f"{where}: expected {_shape_words(n.quantity, shape)}")
                continue
        elif len(n.index) != len(shape) or any(i >= s for i, s in zip(n.index, shape, strict=True)):
            problems.append(
                f"{head}.index: {list(n.index)} is outside {n.quantity}[{n.layer}], "
                + _shape_words(n.quantity, shape)
            )
            continue
        kept += numbers
    if problems:
        raise AnswersError(answers.source, _capped(problems))
    return Answers(answers.source, tuple(kept))


def _group(key: str) -> str:
    """The answer a number belongs to: ``answer[3]`` of ``answer[3].value[0][1]``,
    ``steps[0].layers[1].z`` of ``steps[0].layers[1].z[0][1]``."""
    if key.startswith("steps["):
        return re.sub(r"(\[\d+\])+$", "", key)
    return key.split(".value")[0]


def _shape_words(quantity: str, shape: tuple[int, ...]) -> str:
    if quantity in PER_SAMPLE:
        return (
            f"{shape[0]} x {shape[1]} (a row of {shape[1]} for each of the {shape[0]} samples of the batch)"
        )
    if quantity in WEIGHT_SHAPED:
        return f"{shape[0]} x {shape[1]} (row j: the weights into node j)"
    return f"{shape[0]} numbers (one per node)"
