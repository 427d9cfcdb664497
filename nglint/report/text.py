"""Human output through rich: colour only on a terminal, configuration text literal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO

from nglint.findings import Finding, Severity

CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F] if c != 0x09}
STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def printable(text: str) -> str:
    """Configuration text as literal characters: control bytes shown escaped."""
    text = text.translate(CONTROL)
    if not text.isascii():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def console(stream: IO[str] | None = None):  # noqa: ANN201 - rich is imported lazily
    from rich.console import Console

    stream = stream or sys.stdout
    colour = stream.isatty() and not os.environ.get("NO_COLOR")  # no-color.org: non-empty
    return Console(file=stream, no_color=not colour, force_terminal=colour or None,
                   color_system="auto" if colour else None, highlight=False,
                   emoji=False, markup=False, soft_wrap=True)


def render(findings: Sequence[Finding], files: int, stream: IO[str] | None = None,
           quiet: bool = False, statistics: bool = False) -> None:
    from rich.text import Text

    from nglint.report.statistics import lines

    out = console(stream)
    for finding in findings:
        line = Text()
        line.append(f"{printable(finding.path)}:{finding.line}:{finding.column}: ", style="bold")
        line.append(f"{finding.code} ", style=STYLES[finding.severity])
        line.append(f"[{finding.severity}] ", style=STYLES[finding.severity])
        line.append(printable(finding.message))  # literal: never parsed as markup
        line.append(f" ({finding.rule})", style="dim")
        out.print(line)
    if statistics:
        for row in lines(findings):
            out.print(Text(row))
    if quiet:
        return
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    if findings:
        fixable = sum(1 for f in findings if f.fixable)
        unsafe = sum(1 for f in findings if f.unsafe_fixable)
        summary = (f"Found {len(findings)} problem(s) in {files} file(s): "
                   f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
                   f"{counts[Severity.INFO]} info")
        if fixable:
            summary += f"; {fixable} fixable with --fix"
        if unsafe:
            summary += f"; {unsafe} more with --unsafe-fixes"
        out.print(Text(summary, style="bold"))
    else:
        out.print(Text(f"No problems found in {files} file(s).", style="green"))
