"""The app's footer: Textual's, with the keys that only fit a wide enough screen left out.

The footer shows the keys marked shown in tui/control/keys.py. At 80 columns those just fit; ``x``
(the explain panel), which the tutorial uses from its first section and which below 150 columns
is the only way to see that panel, is shown from 100 columns on, where there is room; escape
back to the comparison (a variant's single-run view, whose header says it too) from 150 on.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# an action shown only on a screen at least this many columns wide
WIDE_ONLY = {"toggle_explain": 100, "back_to_comparison": 150}


class AppFooter(Footer):
    width = 0  # the screen's columns, set by the app on a resize, which then recomposes the footer

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and self.width < WIDE_ONLY.get(widget.action, 0):
                continue
            yield widget

    def fit(self, width: int) -> bool:
        """Lay the footer out for a screen ``width`` columns wide: compact below 120 columns
        (at 80 every key still fits), the command palette's key from 100 (below, ctrl+p works
        all the same). Whether its keys must be composed again (a footer composed already)."""
        self.compact = width < 120
        palette = width >= 100
        changed = self.hidden(self.width) != self.hidden(width)  # WIDE_ONLY
        self.width = width
        if self.show_command_palette != palette or changed:
            self.show_command_palette = palette
            return True
        return False

    def hidden(self, width: int) -> set[str]:
        """The actions left out at ``width`` columns."""
        return {action for action, least in WIDE_ONLY.items() if width < least}
