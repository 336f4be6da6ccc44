"""Error types shared by the steps (kept free of heavy imports so the CLI starts fast)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        """One line; control and invisible characters shown as escapes (`\\x1b`, `\\u202e`): an error
        message never obeys the data it quotes."""
        from xjtrade.textsafe import printable
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return printable(f"{where}: {self.message}")


class DataValidationError(ValueError):
    """Raised when a raw table breaks its schema; lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:25])
        more = f"\n  ... and {len(problems) - 25} more" if len(problems) > 25 else ""
        super().__init__(f"{len(problems)} problem(s) in the raw data:\n{shown}{more}")


class RunError(RuntimeError):
    """A notebook failed; the message names the notebook, the cell and the error."""

    def __init__(self, message: str, kept: Path | None = None):
        super().__init__(message)
        self.kept = kept


class ParameterError(ValueError):
    """Bad parameters: the message names the parameter (and the file) at fault; `fields` lists the
    parameters at fault (empty when the file itself is)."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.fields = tuple(fields)
