"""Comparisons: one scenario, one key varied (``--vary``), one run per value.

No Textual here: the headless table and the app's comparison view (tui/compare_app.py)
are both made from these Variants and Results, so they cannot disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..common.errors import BackpropError
from ..common.escape import shown
from ..common.percent import percent
from ..engine import Trainer
from ..scenario.overrides import Override, OverrideError
from ..scenario.reader import Scenario, ScenarioError, load_scenario, titled
from ..trace.sink import StepSink
from ..trace.writer import summary_stop_reason
from .headless import run_in_chunks


@dataclass(frozen=True)
class Variant:
    """One run of a comparison: the scenario with ``override`` applied (after every --set)."""

    override: Override
    scenario: Scenario

    @property
    def value(self) -> str:
        """The value as written on the command line: ``full``, ``0.01``, ``[2, 4, 1]``."""
        return self.override.text

    @property
    def label(self) -> str:
        """``batch=full``: the key's last name and the value (a file name's suffix, a legend entry)."""
        return f"{self.override.key}={shown(self.value)}"


@dataclass(frozen=True)
class Result:
    """Where a variant's run stands: what the table shows for it."""

    value: str
    steps: int
    final_loss: float  # training-set loss after the last step (before any step: the initial one)
    steps_to_target: int | None  # the step at which it reached target_loss, None if it has not
    diverged: bool
    stop_reason: str  # "" while the run could go on
    test_loss: float | None = None  # test-set loss after the last step; None without a test set
    # a classifier's training- and test-set accuracy after the last step (engine/accuracy.py);
    # None when it is not one (test_accuracy: or without a test set)
    train_accuracy: float | None = None
    test_accuracy: float | None = None

    @classmethod
    def of(cls, variant: Variant, trainer: Trainer) -> Result:
        reason = trainer.stop_reason or ""
        train_accuracy, test_accuracy = trainer.final_accuracies
        return cls(
            value=variant.value,
            steps=trainer.step_count,
            final_loss=trainer.final_train_loss,
            steps_to_target=trainer.step_count if reason in ("target_loss", "target_accuracy") else None,
            diverged=reason == "diverged",
            stop_reason=reason,
            test_loss=trainer.test_losses[-1] if trainer.test_losses else trainer.initial_test_loss,
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
        )


def comparison_title(variants: Sequence[Variant]) -> str:
    """The scenario's name with the --set flags that changed it, and not the --vary one, which
    differs from variant to variant and is shown beside it."""
    s = variants[0].scenario
    return titled(s.name, [o for o in s.overrides if not o.startswith("--vary ")])


def load_variants(path_or_name: str, sets: Sequence[Override], vary: Sequence[Override]) -> list[Variant]:
    """Every variant, validated before any runs; the problems of all of them together."""
    clash = next((s for s in sets if vary and s.name == vary[0].name), None)
    if clash is not None:
        raise OverrideError("--vary", f"{clash.name} is also given to --set: give it to one of them")
    variants, problems, title = [], [], str(path_or_name)
    for o in vary:
        try:
            variants.append(Variant(o, load_scenario(path_or_name, [*sets, o])))
        except ScenarioError as e:
            title = e.title
            problems += [p for p in e.problems if p not in problems]
    if problems:
        raise ScenarioError(title, problems)
    return variants


def run_variant(
    variant: Variant,
    steps: int | None,
    writer_for: Callable[[Trainer], StepSink | None] = lambda t: None,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[Trainer], None] = lambda t: None,
) -> tuple[Result, Trainer, Path | None]:
    """Run one variant headless: ``steps`` steps or until it stops by itself (or is cancelled);
    ``writer_for(trainer)`` opens its trace, or its CSV or npz export (None: none). Returns where
    it went."""
    trainer = Trainer(variant.scenario, history=1)
    total = min(steps, variant.scenario.max_steps) if steps else variant.scenario.max_steps
    writer = writer_for(trainer)
    try:
        run_in_chunks(trainer, total, writer, cancelled, progress)  # as for one run
        # as for one run: "user" after Ctrl+C, "steps" when --steps ended it
        reason = "user" if cancelled() else summary_stop_reason(trainer, "steps")
        written = None
        if writer:
            final = trainer.final_train_loss
            writer.write_last(trainer)
            written = writer.close(final, reason)
    finally:
        if writer:
            writer.abort()  # no-op once closed; removes the temporary file otherwise
    return replace(Result.of(variant, trainer), stop_reason=reason), trainer, written


# -- the table -----------------------------------------------------------------------------


def fmt_loss(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else ("nan" if math.isnan(x) else f"{x:g}")


def table_rows(key: str, results: Sequence[Result], running: str = "steps") -> list[tuple[str, ...]]:
    """The header and one row per result: value, steps, final loss (and test loss when the runs
    have a test set; accuracy and test accuracy when they are classifiers), steps to target,
    diverged, stop reason (``running``: what a run that has not stopped by itself shows
    there, "steps" after --steps)."""
    test = any(r.test_loss is not None for r in results)
    accuracy = any(r.train_accuracy is not None for r in results)
    rows: list[tuple[str, ...]] = [table_header(key, test, accuracy)]
    for r in results:
        target = str(r.steps_to_target) if r.steps_to_target is not None else "-"
        rows.append(
            (
                shown(r.value),  # the --vary text, as typed: escaped like anything a user gives
                str(r.steps),
                fmt_loss(r.final_loss),
                *((fmt_loss(r.test_loss) if r.test_loss is not None else "-",) if test else ()),
                *(_accuracy_cells(r, test) if accuracy else ()),
                target,
                "yes" if r.diverged else "no",
                r.stop_reason or running,
            )
        )
    return rows


def _accuracy_cells(r: Result, test: bool) -> tuple[str, ...]:
    """A classifier's accuracy (and test accuracy) as percentages; "-" for a run that has none."""
    cells = [r.train_accuracy, *((r.test_accuracy,) if test else ())]
    return tuple(percent(a) if a is not None else "-" for a in cells)


def table_header(key: str, test: bool, accuracy: bool = False) -> tuple[str, ...]:
    """The columns; ``test``: the runs have a test set, ``accuracy``: they are classifiers."""
    accuracies = ("accuracy", *(("test accuracy",) if test else ())) if accuracy else ()
    losses = ("final loss", *(("test loss",) if test else ()))
    return (key, "steps", *losses, *accuracies, "to target", "diverged", "stopped")


NUMERIC = ("steps", "final loss", "test loss", "accuracy", "test accuracy", "to target")


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Aligned columns, text left and numbers right, two spaces apart."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    numeric = [name in NUMERIC for name in rows[0]]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=False)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# -- file names ----------------------------------------------------------------------------


def _safe(text: str) -> str:
    """A value as part of a file name: ``[2, 4, 1]`` -> ``2_4_1``, ``"sample"`` -> ``sample``."""
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_") or "value"


def variant_path(base: Path, variant: Variant) -> Path:
    """``out.json`` -> ``out-batch=full.json``: the variants of one comparison sort together."""
    suffix = base.suffix or ".json"
    return base.with_name(f"{base.stem}-{variant.override.key}={_safe(variant.value)}{suffix}")


def export_base(given: str, scenario: Scenario) -> Path:
    """The path the variants' names are made from: ``given``, or the default name inside a folder."""
    from ..trace.paths import default_name  # no Textual in it: a pure choice of path

    base = Path(given)
    if base.is_dir():
        return base / default_name(scenario)
    if not base.parent.is_dir():
        raise BackpropError(given, f"no such folder: {base.parent}")
    return base
