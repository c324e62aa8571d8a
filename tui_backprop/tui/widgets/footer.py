"""The app's footer: Textual's, with the keys that only fit a wide enough screen left out.

The footer shows the keys marked shown in tui/control/keys.py. At 80 columns those just fit; ``x``
(the explain panel), which the tutorial uses from its first section and which below 150 columns
is the only way to see that panel, is shown from 100 columns on, where there is room; escape
back to the comparison (a variant's single-run view, whose header says it too) from 150 on.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# an action shown only on a screen at least this many columns wide
WIDE_ONLY = {"toggle_explain": 100, "back_to_comparison": 150}


class AppFooter(Footer):
    width = 0  # the screen's columns, set by the app on a resize, which then recomposes the footer

    def __init__(self) -> None:
        super().__init__()
        # the keys are composed with the footer, for the first frame: Textual's waits for the
        # screen's first bindings_changed and mounts them in a layout of their own
        self._bindings_ready = True
        self.composed: tuple = ()  # what compose showed: a bindings_changed to the same is no change

    def compose(self) -> ComposeResult:
        self.composed = self.shown()
        compact = self.compact
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                if self.width < WIDE_ONLY.get(widget.action, 0):
                    continue
                if not widget.has_class("-command-palette"):  # the one key Textual binds to nothing
                    # a key starts compact (Textual's default) and its data binding then sets it to
                    # the footer's value, a restyle of each key: made with that value, it needs none
                    widget.set_reactive(FooterKey.compact, compact)
                    widget.set_class(compact, "-compact", update=False)
            yield widget

    def shown(self) -> tuple:
        """The bindings the footer shows, enabled or not, and the command palette's key."""
        active = self.screen.active_bindings.values()
        keys = tuple((b.key, b.action, b.description, enabled) for _, b, enabled, _ in active if b.show)
        return (*keys, self.show_command_palette, self.width)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self.shown() == self.composed:
            return  # as composed: no new layout
        super().bindings_changed(screen)

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
