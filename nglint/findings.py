"""Findings: what a rule reports, located in a file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from nglint.edits import Fix
    from nglint.tree import Node


class Related(NamedTuple):
    """Another place a finding is about: where the value in force was set, or the
    block that serves the request when the finding points at a directive in it.

    ``role`` is ``location`` for the serving block (a suppression written above it
    still covers the finding) and ``provenance`` otherwise.
    """

    path: str
    line: int
    column: int
    message: str
    role: str = "provenance"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column,
                "message": self.message, "role": self.role}


HEADLINE = 100  # characters a headline may take before the rest becomes a note


def split_message(message: str) -> tuple[str, list[str]]:
    """A long message of a rule that gives no headline: (its first clause, [the rest]),
    cut at the first ": " or "; " between 25 and 110 characters; else unchanged."""
    if len(message) <= HEADLINE:
        return message, []
    for separator in (": ", "; "):
        cut = message.find(separator, 25)
        if 0 < cut <= HEADLINE + 10:
            return message[:cut], [message[cut + len(separator):]]
    return message, []


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


@dataclass
class Finding:
    """One problem found: the rule (``code``, ``rule``), where it is (``path`` as
    reported, 1-based ``line``/``column`` to ``end_line``/``end_column``), what it says,
    and the fix that removes it, if any.  Equal findings compare by those fields only."""

    code: str
    rule: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fixable: bool = False
    node: Node | None = field(default=None, repr=False, compare=False)
    fix: Fix | None = field(default=None, repr=False, compare=False)
    unsafe_fixable: bool = field(default=False, compare=False)  # only with --unsafe-fixes
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # structured parts for readable output; ``message`` stays the whole text
    headline: str = field(default="", compare=False)
    notes: list[str] = field(default_factory=list, compare=False)
    related: list[Related] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        # from the cache (JSON): related locations come back as dicts
        self.related = [r if isinstance(r, Related) else Related(**r) for r in self.related]

    @property
    def title(self) -> str:
        """The headline, or the whole message for a rule that gives none."""
        return self.headline or self.message

    @property
    def via(self) -> str | None:
        """The include the file was reached through (``"nginx.conf:3"``), or None."""
        return next((f"{r.path}:{r.line}" for r in self.related if r.role == "include"),
                    None)

    @property
    def key(self) -> tuple[str, str, int, int, str]:
        return (self.path, self.code, self.line, self.column, self.message)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fixable": self.fixable,
            # the include the file was reached through ("nginx.conf:3"), or null
            "via": self.via,
            "headline": self.title,
            "notes": list(self.notes),
            "related": [r.as_dict() for r in self.related],
        }
