"""Errors that point at the offending input: file, line (or record) and field."""

from __future__ import annotations

from pathlib import Path


class ProjectError(Exception):
    """What a user can fix (bad input, a hub that cannot be reached, an adapter that does not fit its base): every
    entry script turns it into one line and exit status 2 (``cli.run``), never a traceback."""


class DataError(ProjectError, ValueError):
    """Bad input that stops a command; the message names where it is and what to do."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.hint = hint
        where = []
        if self.path:
            where.append(self.path if line is None else f"{self.path}:{line}")
        if field:
            where.append(f"field {field!r}")
        text = f"{', '.join(where)}: {message}" if where else message
        if hint:
            text += f" ({hint})"
        super().__init__(text)
