"""Human output: plain lines in a pipe or a CI log, colour through rich on a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO

from nglint.findings import Finding, Severity

# C0, DEL and C1 (U+0080-U+009F: a terminal may read U+009B as CSI, like ESC [)
CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c != 0x09}
STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def printable(text: str) -> str:
    """Configuration text as literal characters: control bytes shown escaped."""
    text = text.translate(CONTROL)
    if not text.isascii():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _colour(stream: IO[str]) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")  # no-color.org: non-empty


def console(stream: IO[str] | None = None):  # noqa: ANN201 - rich is imported lazily
    from rich.console import Console

    stream = stream or sys.stdout
    colour = _colour(stream)
    return Console(file=stream, no_color=not colour, force_terminal=colour or None,
                   color_system="auto" if colour else None, highlight=False,
                   emoji=False, markup=False, soft_wrap=True)


# a line of output: (text, rich style) pieces
Line = list[tuple[str, str]]


def _lines(findings: Sequence[Finding], files: int, quiet: bool,
           statistics: bool) -> list[Line]:
    from nglint.report.statistics import lines

    out: list[Line] = []
    for finding in findings:
        style = STYLES[finding.severity]
        out.append([(f"{printable(finding.path)}:{finding.line}:{finding.column}: ", "bold"),
                    (f"{finding.code} ", style), (f"[{finding.severity}] ", style),
                    (printable(finding.message), ""),  # literal: never parsed as markup
                    (f" ({finding.rule})", "dim")])
    if statistics:
        out.extend([(row, "")] for row in lines(findings))
    if quiet:
        return out
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
        out.append([(summary, "bold")])
    else:
        out.append([(f"No problems found in {files} file(s).", "green")])
    return out


def render(findings: Sequence[Finding], files: int, stream: IO[str] | None = None,
           quiet: bool = False, statistics: bool = False) -> None:
    """Findings and a summary; through rich on a colour terminal, as plain lines
    otherwise (a pipe, a CI log, NO_COLOR), which skips importing rich at all."""
    stream = stream or sys.stdout
    lines = _lines(findings, files, quiet, statistics)
    if not _colour(stream):
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.text import Text

    out = console(stream)
    for line in lines:
        styled = Text()
        for text, style in line:
            styled.append(text, style=style or None)
        out.print(styled)
