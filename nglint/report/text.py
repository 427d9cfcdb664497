"""Human output: plain lines in a pipe or a CI log, colour through rich on a terminal."""

from __future__ import annotations

import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import IO

from nglint.escape import colour_wanted, pieces, visible
from nglint.findings import Finding, Severity
from nglint.reader import read_file

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _colour(stream: IO[str]) -> bool:
    return colour_wanted(stream)


def console(stream: IO[str] | None = None, colour: bool | None = None):  # noqa: ANN201 - lazy
    from rich.console import Console

    stream = stream or sys.stdout
    colour = _colour(stream) if colour is None else colour
    return Console(file=stream, no_color=not colour, force_terminal=colour or None,
                   color_system="auto" if colour else None, highlight=False,
                   emoji=False, markup=False, soft_wrap=True)


# a line of output: (text, rich style) pieces
Line = list[tuple[str, str]]


CONCISE_WIDTH = 120
EXCERPT_WIDTH = 100  # columns of source shown around the caret
TAB = "    "


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def summary(findings: Sequence[Finding], files: int) -> str:
    """``Found 2 problems in 1 file (3 files checked): 1 error, 1 warning; ...``."""
    checked = _plural(files, "file")
    if not findings:
        return f"No problems found ({checked} checked)."
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    kinds = [_plural(counts[s], str(s), "info" if s == Severity.INFO else None)
             for s in sorted(Severity, reverse=True) if counts[s]]
    with_findings = len({f.path for f in findings})
    text = (f"Found {_plural(len(findings), 'problem')} in {_plural(with_findings, 'file')} "
            f"({checked} checked): {', '.join(kinds)}")
    fixable = sum(1 for f in findings if f.fixable)
    unsafe = sum(1 for f in findings if f.unsafe_fixable)
    if fixable:
        text += f"; {fixable} fixable with --fix"
    if unsafe:
        text += f"; {unsafe} more with --unsafe-fixes"
    return text


def _head(finding: Finding) -> tuple[str, str]:
    return (f"{visible(finding.path)}:{finding.line}:{finding.column}: ",
            f"{finding.code} [{finding.severity}] ")


def sites(findings: Sequence[Finding]) -> list[str]:
    """For each finding, what tells it apart on its line: `` (via nginx.conf:3)``, the
    include its file was reached through, when another finding at the same place has
    the same headline (a snippet included by two sites gives a finding per site, which
    would print as one line twice); else ""."""
    seen = Counter((f.path, f.line, f.column, f.code, f.title) for f in findings)
    return [f" (via {f.via})"
            if f.via and seen[(f.path, f.line, f.column, f.code, f.title)] > 1 else ""
            for f in findings]


def concise(finding: Finding, width: int = CONCISE_WIDTH, site: str = "") -> str:
    """One line: ``path:line:col: CODE [severity] headline``, the headline cut at a word
    with `…` (``site``, from ``sites``, is kept whole after it)."""
    where, code = _head(finding)
    site = visible(site)
    line = where + code + visible(finding.title)
    if len(line) + len(site) <= width:
        return line + site
    keep = max(width - 2 - len(site), len(where + code) + 20)
    cut = line[:keep]
    space = cut.rfind(" ", len(where + code))
    if space > len(where + code):
        cut = cut[:space]
    return cut.rstrip(" ,;:(") + " …" + site


def _width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _cells(text: str) -> list[tuple[str, int]]:
    """Each character as shown (tabs as spaces, the rest as ``visible`` shows it) and
    its width in terminal columns."""
    cells = []
    for char, shown in pieces(text, line_start=False):  # after "  12 | "
        shown = TAB if char == "\t" else shown
        cells.append((shown, len(shown) if shown != char else _width(char)))
    return cells


def excerpt(text: str, column: int, end: int | None) -> tuple[str, str]:
    """The source line as shown and the caret line under columns ``column`` to ``end``
    (1-based code points, end exclusive; None: one caret)."""
    cells = _cells(text)
    first = min(max(column - 1, 0), len(cells))
    last = max(first + 1, min(end - 1, len(cells)) if end else first + 1)
    before = sum(w for _, w in cells[:first])
    under = max(1, sum(w for _, w in cells[first:last]))
    shown = "".join(c for c, _ in cells)
    start = 0
    if before > EXCERPT_WIDTH:  # a very long line: a window around the caret
        start = before - EXCERPT_WIDTH // 2
    if start:
        skipped, at = 0, 0
        while at < len(cells) and skipped < start:
            skipped += cells[at][1]
            at += 1
        shown = "…" + "".join(c for c, _ in cells[at:])
        before = before - skipped + 1
    if len(shown) > before + under + EXCERPT_WIDTH:
        shown = shown[:before + under + EXCERPT_WIDTH] + "…"
    return shown.rstrip(), " " * before + "^" * min(under, EXCERPT_WIDTH)


class Sources:
    """Lines of the files findings name: from the parsed source, else read once."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def line(self, finding: Finding) -> str | None:
        if finding.path not in self._lines:
            source = getattr(finding.node, "source", None)
            text: str | None = None
            if source is not None and source.path == finding.path:
                text = source.text
            else:
                try:  # the one bounded reader: regular files only, size-limited
                    text = read_file(finding.path).decode("utf-8", "surrogateescape")
                except (OSError, ValueError):
                    text = None
            # nginx splits lines at LF only (not at the other characters splitlines knows)
            self._lines[finding.path] = None if text is None else text.split("\n")
        lines = self._lines[finding.path]
        if lines is None or not 1 <= finding.line <= len(lines):
            return None
        return lines[finding.line - 1].removesuffix("\r")


def _full(finding: Finding, sources: Sources, site: str) -> list[Line]:
    where, code = _head(finding)
    style = STYLES[finding.severity]
    out: list[Line] = [[(where, "bold"), (code, style), (visible(finding.title + site), "")]]
    text = sources.line(finding)
    if text is not None:
        end = finding.end_column if finding.end_line == finding.line else None
        shown, caret = excerpt(text, finding.column, end)
        number = str(finding.line)
        out.append([(f"  {number} | ", "dim"), (shown, "")])
        out.append([(f"  {' ' * len(number)} | ", "dim"), (caret, style)])
    for note in finding.notes:
        out.append([("  = ", "dim"), (visible(note), "")])
    for related in finding.related:
        out.append([("  = ", "dim"), (visible(related.message), ""),
                    (f": {visible(related.path)}:{related.line}:{related.column}", "dim")])
    return out


def _lines(findings: Sequence[Finding], files: int, quiet: bool,
           statistics: bool, style: str) -> list[Line]:
    from nglint.report.statistics import lines

    out: list[Line] = []
    sources = Sources()
    for finding, site in zip(findings, sites(findings), strict=True):
        if style == "full":
            if out:
                out.append([])  # a blank line between findings
            out.extend(_full(finding, sources, site))
        else:
            # configuration text is printed literally: never parsed as markup
            out.append([(concise(finding, site=site), STYLES[finding.severity])])
    if style == "full" and findings and (statistics or not quiet):
        out.append([])
    if statistics:
        out.extend([(row, "")] for row in lines(findings))
    if quiet:
        return out
    out.append([(summary(findings, files), "bold" if findings else "green")])
    return out


def render(findings: Sequence[Finding], files: int, stream: IO[str] | None = None,
           quiet: bool = False, statistics: bool = False, style: str | None = None,
           color: str = "auto", to_file: bool = False) -> None:
    """Findings and a summary, ``full`` (headline, source line and caret, notes) or
    ``concise`` (one line each; by default when ``stream`` is not a terminal); through
    rich when coloured, as plain lines otherwise (which skips importing rich at all)."""
    stream = stream or sys.stdout
    style = style or ("full" if stream.isatty() else "concise")
    lines = _lines(findings, files, quiet, statistics, style)
    colour = colour_wanted(stream, color, to_file)
    if not colour:
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.text import Text

    out = console(stream, colour)
    for line in lines:
        styled = Text()
        for text, style in line:
            styled.append(text, style=style or None)
        out.print(styled)
