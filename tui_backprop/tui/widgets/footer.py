"""The app's footer: the keys of the screen's bindings on one line, drawn by one widget.

The footer shows the keys marked shown in tui/control/keys.py. At 80 columns those just fit; ``x``
(the explain panel), which the tutorial uses from its first section and which below 150 columns
is the only way to see that panel, is shown from 100 columns on, where there is room; escape
back to the comparison (a variant's single-run view, whose header says it too) from 150 on.

Textual's Footer makes a widget of each key: eleven on the main screen, a third of the app's
widgets, each styled, laid out and drawn on its own, which cost the first frame some 50 ms of CPU
on this project's 2-core machine (``benchmarks/app.py --no-tmux --clock cpu``: 0.180 and 0.184 s
with them, 0.128 and 0.130 s with this footer; docs/performance.md). This footer draws the same cells
in Textual's footer colours (the $footer-* variables of the theme) from one widget: normal and
compact spacing (below 120 columns), a disabled key dimmed, the command palette's key at the
right edge behind its rule. A key under the mouse is highlighted and shows its binding's tooltip;
a click presses it (a disabled key rings the bell). Textual's binding groups, which no screen of
this app uses, are shown as separate keys.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

# an action shown only on a screen at least this many columns wide
WIDE_ONLY = {"toggle_explain": 100, "back_to_comparison": 150}


class Key(NamedTuple):
    """One key the footer shows."""

    key: str  # what a click presses (App.simulate_key)
    display: str  # how the key is written (App.get_key_display)
    description: str
    action: str
    enabled: bool
    tooltip: str


class Place(NamedTuple):
    """Where a key is drawn on the line: columns [start, end)."""

    start: int
    end: int
    key: Key


class AppFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "app-footer--item",
        "app-footer--key",
        "app-footer--description",
        "app-footer--hover",
        "app-footer--rule",
    }
    DEFAULT_CSS = """
    AppFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        &:hover { pointer: pointer; }
        .app-footer--item { background: $footer-item-background; }
        .app-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .app-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .app-footer--hover { color: $footer-key-foreground; background: $block-hover-background; }
        .app-footer--rule { color: $foreground 20%; }
    }
    """

    compact = reactive(False, toggle_class="-compact")
    """Less space between the keys (below 120 columns)."""
    show_command_palette = reactive(True)
    """The command palette's key at the right edge (from 100 columns)."""
    hovered: reactive[str | None] = reactive(None)
    """The action of the key under the mouse."""

    width = 0  # the screen's columns, set by the app on a resize (fit)

    def __init__(self) -> None:
        super().__init__()
        self.composed: tuple = ()  # what the line shows (shown()): a bindings change to the same is none
        self.keys: list[Key] = []
        self.palette: Key | None = None
        self.places: list[Place] = []  # where render put each key, for the mouse

    # -- what it shows ----------------------------------------------------------------------

    def shown(self) -> tuple:
        """The bindings the footer shows, enabled or not, and the command palette's key."""
        active = self.screen.active_bindings.values()
        keys = tuple((b.key, b.action, b.description, enabled) for _, b, enabled, _ in active if b.show)
        return (*keys, self.show_command_palette, self.width)

    def gather(self) -> None:
        """The keys of the screen's active bindings: the first binding of each action shown
        (Textual's footer takes that one too), the wide-only ones left out below their width."""
        app, active = self.app, self.screen.active_bindings
        keys: dict[str, Key] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in keys and self.width >= WIDE_ONLY.get(binding.action, 0):
                display, action = app.get_key_display(binding), binding.action
                keys[action] = Key(binding.key, display, binding.description, action, enabled, tooltip)
        self.keys = list(keys.values())
        self.palette = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, _ = active[app.COMMAND_PALETTE_BINDING]
            tooltip = binding.tooltip or binding.description
            display = app.get_key_display(binding)
            self.palette = Key(binding.key, display, binding.description, binding.action, enabled, tooltip)
        self.composed = self.shown()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus or screen is not self.screen:
            return
        if self.keys and self.shown() == self.composed:
            return  # the same keys: nothing to draw again
        self.gather()
        self.refresh()

    def fit(self, width: int) -> bool:
        """Lay the footer out for a screen ``width`` columns wide: compact below 120 columns
        (at 80 every key still fits), the command palette's key from 100 (below, ctrl+p works
        all the same). Whether the keys shown changed (a footer drawn already)."""
        self.compact = width < 120
        palette = width >= 100
        changed = self.hidden(self.width) != self.hidden(width)  # WIDE_ONLY
        self.width = width
        if self.show_command_palette != palette or changed:
            self.show_command_palette = palette
            if self.is_attached:
                self.gather()
                self.refresh()
            return True
        return False

    def hidden(self, width: int) -> set[str]:
        """The actions left out at ``width`` columns."""
        return {action for action, least in WIDE_ONLY.items() if width < least}

    # -- the line ---------------------------------------------------------------------------

    def _piece(self, key: Key, compact: bool) -> Text:
        """One key as Textual's FooterKey draws it: the key, then its description, each in its
        own style over the item's (dimmed when disabled, highlighted under the mouse)."""
        style = self.get_component_rich_style
        key_style, description_style = style("app-footer--key"), style("app-footer--description")
        base = self.rich_style + style("app-footer--item")
        if key.action == self.hovered:
            hover = style("app-footer--hover")
            base += hover
            key_style += Style(bgcolor=hover.bgcolor)
            description_style += Style(bgcolor=hover.bgcolor)
        if not key.enabled:
            base += Style(dim=True)
        pad = "" if compact else " "
        if key.description:
            before = " " if compact else ""
            text = Text.assemble(
                (pad + key.display + pad, key_style), (before + key.description + pad, description_style)
            )
        else:
            text = Text(key.display, key_style)
        text.stylize_before(base)
        return text

    def render_line(self, y: int) -> Strip:
        """The line, each cell in the style given here, as Textual's footer draws it: the
        spaces between keys in the background colour alone."""
        width = self.size.width
        if y:
            return Strip.blank(width, Style(bgcolor=self.rich_style.bgcolor))
        line = self.line()
        return Strip(line.render(self.app.console), line.cell_len).crop(0, width)

    def line(self) -> Text:
        """The footer's line, ``size.width`` cells, and ``places`` where each key is on it."""
        if not self.composed:
            self.gather()
        compact, width = self.compact, self.size.width
        blank = Style(bgcolor=self.rich_style.bgcolor)  # Textual draws margins and the rest so
        line = Text(no_wrap=True, overflow="crop", end="")
        self.places = []
        right = Text(end="")
        if self.palette is not None:  # Textual binds no compact to this key: always drawn compact
            right.append("▏", self.rich_style + self.get_component_rich_style("app-footer--rule"))
            right.append_text(self._piece(self.palette, True))
            right.append(" ", blank)  # its right padding, or in compact spacing its margin
        room = max(0, width - right.cell_len)
        for key in self.keys:
            start = line.cell_len
            if start >= room:
                break
            line.append_text(self._piece(key, compact))
            self.places.append(Place(start, min(line.cell_len, room), key))
            if compact:
                line.append(" ", blank)  # a key's right margin
        line.truncate(room)
        line.append(" " * (room - line.cell_len), blank)
        if self.palette is not None:
            self.places.append(Place(room, width, self.palette))
            line.append_text(right)
        return line

    # -- the mouse --------------------------------------------------------------------------

    def key_at(self, x: int) -> Key | None:
        """The key drawn at column ``x``."""
        return next((place.key for place in self.places if place.start <= x < place.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        self.hovered = None if key is None else key.action

    def on_leave(self, event: events.Leave) -> None:
        self.hovered = None

    def watch_hovered(self, hovered: str | None) -> None:
        key = next((place.key for place in self.places if place.key.action == hovered), None)
        self.tooltip = (key.tooltip or None) if key is not None else None
        self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
