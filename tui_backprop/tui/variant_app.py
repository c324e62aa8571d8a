"""VariantApp: one variant of a comparison in the single-run view (``o`` in the comparison view).

It is the app on a fork of the variant's own trainer (Trainer.fork), so it opens at the step the
comparison has reached, diverged or stopped as it is there, and every key works as in the app of a
single run. What it does stays here: the comparison's trainer is not moved, so escape returns to
the comparison exactly as it was left. Escape sets ``back`` and ends this app; the command line
then opens the comparison again with its state (cli._open_compare). q quits both.
"""

from __future__ import annotations

from pathlib import Path

from ..engine import Trainer
from ..runs.vary import Variant
from .app import BackpropApp


class VariantApp(BackpropApp):
    def __init__(self, variant: Variant, trainer: Trainer, export_path: Path | None = None) -> None:
        """``trainer``: the comparison's trainer of ``variant``, forked here (never stepped)."""
        self.variant = variant
        self.back = False  # escape was pressed: the comparison opens again
        super().__init__(variant.scenario, export_path, trainer=trainer.fork())

    def status_activity(self) -> str:
        activity = super().status_activity()
        return f"{activity} · escape: back to the comparison" if activity == "paused" else activity

    def action_back_to_comparison(self) -> None:
        self.pause()
        self.back = True
        self.exit()
