"""Exceptions that end a run with exit status 2, and syntax errors of one file."""

from __future__ import annotations


class NglintError(Exception):
    """A usage or environment error: reported on one line, exit status 2."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class NginxSyntaxError(Exception):
    """A syntax error nginx would refuse, at a line of the file being read."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
