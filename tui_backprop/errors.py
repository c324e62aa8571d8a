"""The one root of every error a user can cause: a title, then one line per problem."""

from __future__ import annotations


class BackpropError(Exception):
    """A problem with the user's input, reported as ``error: <title>: <problem>`` lines."""

    def __init__(self, title: str, problems: list[str] | str) -> None:
        self.title = title
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(str(self))

    def lines(self) -> list[str]:
        prefix = f"{self.title}: " if self.title else ""
        return [f"error: {prefix}{p}" for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())
