"""The one root of every error a user can cause: a title, then one line per problem."""

from __future__ import annotations

from .escape import shown

MAX_LINE = 1000  # characters of one problem: each name in it is cut far shorter (common/escape.py)


class BackpropError(Exception):
    """A problem with the user's input, reported as ``error: <title>: <problem>`` lines.

    The title and each problem are kept escaped (common/escape.py): whatever a message quotes from a
    file, it prints as one line that a terminal shows and does not act on."""

    def __init__(self, title: str, problems: list[str] | str) -> None:
        self.title = shown(title, None)
        given = [problems] if isinstance(problems, str) else list(problems)
        self.problems = [shown(p, MAX_LINE) for p in given]
        super().__init__(str(self))

    def lines(self) -> list[str]:
        prefix = f"{self.title}: " if self.title else ""
        return [f"error: {prefix}{p}" for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())
