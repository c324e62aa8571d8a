"""Text from files and from the user, shown as it is written: never read as Textual markup.

Textual reads a ``str`` handed to a notification, a Static, a border title or a DataTable label
as markup, so a scenario name, a path, a node name or an error message that holds ``[init]`` or
``[b]`` would lose those words, or restyle what follows them. Backslash escapes do not round-trip
text that itself holds a backslash; Content (and Rich's Text) take text as it is, so every such
place hands Textual one of those.

    plain(text)               a Content that shows ``text`` as it is
    PlainNotifications        an App mixin: every notification of the app is plain text
"""

from __future__ import annotations

from textual.app import App, ReturnType
from textual.content import Content
from textual.notifications import SeverityLevel


def plain(text: str) -> Content:
    """``text`` exactly as written (no markup), for a Static, a border title or a label."""
    return Content(text)


class PlainNotifications(App[ReturnType]):
    """Notifications of the app show their message as written: they carry file names, paths,
    scenario and node names, error messages naming ``[table] key`` and what the user typed."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
