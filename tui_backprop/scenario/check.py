"""A scenario file checked, every key and every number, without numpy: ``backprop-tui --check``.

    checked = check_scenario("xor")     # Checked: ScenarioError lists every problem of the file
    str(checked)                        # 'XOR, 2-3-1 sigmoid (2-3-1, mse, lr=2, batch=full)'

Every problem in a file is collected before anything is raised, so that one run of
``backprop-tui --check`` lists them all; each names the file, the table and the key, what was
expected and what was found. This is the one check of a scenario: scenario/reader.py's
load_scenario is this check, then the arrays made from the Checked (scenario/arrays.py), which
cannot fail. So --check says ok exactly when loading would succeed, with the same messages. A
rule that only drawn numbers can answer is run on them, with numpy, for the few scenarios that
need one (Reader.defer; docs/cli.md names them). Nothing here makes the Scenario itself, whose
class is costly to define: the check answers within 3x a bare interpreter (benchmarks/startup.py).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..common.errors import BackpropError
from ..common.escape import quoted
from ..common.escape import shown as escaped
from ..common.files import SCENARIO_LIMIT, Unreadable, not_utf8, read_resource, size_text
from .data_plan import DataPlan
from .declare import read_table
from .format_v1 import KEYS, MAX_PASS, SCENARIO
from .listing import bundled_names, bundled_root
from .problems import MAX_UNKNOWN, Reader, close_match, shown
from .tables import check_target_accuracy, data_fields, display, init_fields, network, training_fields

if TYPE_CHECKING:
    from .overrides import Override


class ScenarioError(BackpropError):
    """A scenario file that cannot be used; ``problems`` holds one line per defect."""


def titled(name: str, overrides: Sequence[str]) -> str:
    """``name (--set a.b=1 --vary c.d=2)``: a scenario's name with the flags that changed it."""
    return f"{name} ({' '.join(overrides)})" if overrides else name


def summary(title: str, layers: Sequence[int], loss: str, learning_rate: float, batch: str | int) -> str:
    """``XOR, 2-3-1 sigmoid (2-3-1, mse, lr=0.5, batch=full)``: a scenario in one line."""
    arch = "-".join(str(n) for n in layers)
    return f"{escaped(title)} ({arch}, {loss}, lr={learning_rate:g}, batch={batch})"


class Checked(NamedTuple):
    """A scenario file read and checked, before its arrays: the Scenario's other fields ([init]'s
    as a dict), and the plan of its data (scenario/data_plan.py). ``str`` is the Scenario's;
    scenario/reader.py makes the Scenario of it."""

    fields: dict[str, Any]
    plan: DataPlan

    def __str__(self) -> str:
        f = self.fields
        title = titled(f["name"], f["overrides"])
        return summary(title, f["layers"], f["loss"], f["learning_rate"], f["batch"])

    def overridden(self, flags: tuple[str, ...]) -> Checked:
        return self._replace(fields={**self.fields, "overrides": flags})


def check_document(doc: dict[str, Any], source: str | None = None, base: Any = None) -> Checked:
    """A parsed TOML document checked, every key and every number; ScenarioError lists every
    problem. numpy is loaded only when one of them needs drawn numbers (Reader.defer).

    ``base``: the folder that a [data] csv path is relative to (None: the current directory).
    """
    r = Reader(doc, KEYS)
    unknown = [table for table in doc if table not in KEYS]
    for table in unknown[:MAX_UNKNOWN]:
        hint = close_match(table, list(KEYS))
        also = f" (did you mean [{hint}]?)" if hint else f" (known tables: {', '.join(KEYS)})"
        r.problems.append(f"[{shown(table)}]: unknown table{also}")
    if len(unknown) > MAX_UNKNOWN:
        more = len(unknown) - MAX_UNKNOWN - 1
        r.problems.append(f"[{shown(unknown[MAX_UNKNOWN])}]: unknown table, and {more:,} more after it")

    meta = read_table(r, r.table("scenario", required=True), SCENARIO)
    name: str | None = meta["name"]
    if name is not None and not name.strip():
        r.problem("scenario", "name", "must not be empty")
    description = meta["description"] or ""

    layers, activations, bias = network(r)
    init = init_fields(r, layers, bias)  # the fields of reader.InitSpec
    training = training_fields(r, activations)
    data = data_fields(r, layers, activations, training.get("loss"), base)
    plan, (inputs, targets, drawn) = data.pop("plan"), data.pop("read")
    check_target_accuracy(r, training, activations, targets, drawn)
    n_train = plan.samples - plan.n_test if plan is not None else inputs.n if inputs is not None else 0
    if layers and n_train * sum(layers) > MAX_PASS:
        too_many = f"{n_train:,} samples x {sum(layers):,} nodes is more than {MAX_PASS:,} numbers"
        r.problems.append(f"[data]: {too_many} in one pass over the training set")
    display_fields = display(r)

    problems = r.every_problem()
    if problems or name is None or plan is None:
        raise ScenarioError(source or "<scenario>", problems)
    fields = {
        "name": name,
        "description": description,
        "layers": layers,
        "activations": activations,
        "bias": bias,
        "init": init,
        "source": source,
        "overrides": (),
        **data,
        **display_fields,
        **training,
    }
    return Checked(fields, plan)


# -- files and bundled scenarios -------------------------------------------------------------


def _read(path: Any, label: str) -> bytes:
    """A scenario file's bytes: a regular file, at most SCENARIO_LIMIT (common/files.py)."""
    try:
        return read_resource(path, SCENARIO_LIMIT, "scenario file", label)
    except Unreadable as e:
        raise ScenarioError(label, e.reason) from e.__cause__ or e


def checks_scenario(
    data: bytes | str, source: str = "<scenario>", overrides: Sequence[Override] = (), base: Any = None
) -> Checked:
    """Scenario text checked (reader.loads_scenario without the arrays: numpy only where
    Reader.defer). Errors are titled with ``source``; ``overrides`` (``--set``) change keys of the
    parsed document before it is checked (see scenario/overrides.py); a [data] csv path is relative
    to ``base`` (None: the current directory)."""
    if len(data) > SCENARIO_LIMIT:  # bytes that were not read from a file by _read (common/files.py)
        raise ScenarioError(
            source, f"is larger than {size_text(SCENARIO_LIMIT)}, the limit for a scenario file"
        )
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            message = "UTF-16 text (it begins with a UTF-16 byte-order mark): save it as UTF-8"
            raise ScenarioError(source, message)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ScenarioError(source, f"{not_utf8(data, e)}: a scenario file is TOML") from e
    else:
        text = data
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark, which some editors write
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(source, f"not valid TOML: {e}{_the_line(text, str(e))}") from e
    except RecursionError as e:  # tomllib parses nested arrays and inline tables recursively
        raise ScenarioError(source, "not valid TOML for a scenario: nested too deeply") from e
    except ValueError as e:  # an integer of more than 4300 digits, which Python will not read
        raise ScenarioError(source, f"not valid TOML for a scenario: {str(e).split(';')[0]}") from e
    if overrides:
        return _checked_overridden(doc, source, overrides, base)
    return check_document(doc, source, base)


def _the_line(text: str, message: str) -> str:
    """``: the line reads 'foo bar'``: the line of ``text`` that a TOML error message points at
    (``... (at line 2, column 5)``), escaped and cut to a readable length; "" when it names none."""
    m = re.search(r"\(at line (\d+), column \d+\)$", message)
    if m is None:
        return ""
    n = int(m[1])
    start = 0
    for _ in range(n - 1):  # the n-th line, found without splitting a large file into lines
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    line = text[start : end if end >= 0 else len(text)].rstrip("\r")
    return f": the line reads {quoted(line)}" if line.strip() else ""


def _checked_overridden(
    doc: dict[str, Any], source: str, overrides: Sequence[Override], base: Any = None
) -> Checked:
    from .overrides import apply_overrides, blame

    doc, problems = apply_overrides(doc, overrides, KEYS)
    if problems:
        raise ScenarioError(source, problems)
    try:
        checked = check_document(doc, source, base)
    except ScenarioError as e:
        raise ScenarioError(source, blame(e.problems, overrides)) from e
    last = {o.name: o for o in overrides if o.table != "scenario"}  # the name's own table aside
    flags = tuple(str(o) for o in last.values())  # one a key: the last given, which is applied
    return checked.overridden(flags) if flags else checked


def check_scenario(path_or_name: str | Path, overrides: Sequence[Override] = ()) -> Checked:
    """A scenario file path, or the name of a bundled scenario (``"xor"``), checked with
    ``overrides`` (``--set``) applied: reader.load_scenario without making the arrays, which is
    ``backprop-tui --check``. numpy is loaded only for a rule that drawn numbers answer."""
    path = Path(path_or_name)
    label = str(path_or_name)
    if not path.exists() and isinstance(path_or_name, str) and path.suffix == "" and "/" not in label:
        names = bundled_names()
        if label in names:
            root = bundled_root()
            data = _read(root.joinpath(f"{label}.toml"), f"{label}.toml")
            return checks_scenario(data, f"{label}.toml", overrides, root)
        raise ScenarioError(label, f"no such file or bundled scenario (bundled: {', '.join(names)})")
    return checks_scenario(_read(path, label), label, overrides, path.parent)
