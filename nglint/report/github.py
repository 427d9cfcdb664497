"""``--format github``: workflow commands that GitHub Actions shows as annotations.

``::error file=F,line=L,col=C,title=T::message`` per finding.  A message escapes
``%``, CR and LF; a property value also ``:`` and ``,``, which would otherwise end
it (the rules of the Actions toolkit's ``issueCommand`` and the runner's
``ActionCommand``, which unescapes exactly these).  Every other character that could
act on a log viewer is then shown escaped by ``nglint.escape.visible``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nglint.escape import visible
from nglint.findings import Finding, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """A command's data: ``%``, CR and LF percent-encoded (the annotation keeps its
    lines), then the rest of ``visible``'s escapes."""
    encoded = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return visible(encoded, line_start=False)  # after "::error ...::": never a line's start


def escape_property(text: str) -> str:
    """A property value: as data, and ``:`` and ``,`` percent-encoded."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def line(finding: Finding) -> str:
    properties = [("file", finding.path), ("line", str(finding.line)),
                  ("col", str(finding.column))]
    # an annotation's end column only counts on its first line
    if finding.end_line == finding.line and finding.end_column > finding.column:
        properties += [("endLine", str(finding.end_line)),
                       ("endColumn", str(finding.end_column))]
    properties.append(("title", f"{finding.code} {finding.rule}"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {rendered}::{escape_data(finding.message)}"


def render(findings: Sequence[Finding]) -> str:
    """One workflow command per finding, each ending in a newline."""
    return "".join(line(f) + "\n" for f in findings)
