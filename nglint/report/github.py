"""``--format github``: workflow commands that GitHub Actions shows as annotations.

``::error file=F,line=L,col=C,title=T::message`` per finding.  A message escapes
``%``, CR and LF; a property value also ``:`` and ``,``, which would otherwise end
it (the rules of the Actions toolkit's ``issueCommand``).
"""

from __future__ import annotations

from collections.abc import Sequence

from nglint.findings import Finding, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
# other control characters of configuration text (a log viewer would act on an ESC)
CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F] if c not in (0x09, 0x0A, 0x0D)}


def escape_data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escaped.translate(CONTROL)


def escape_property(text: str) -> str:
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
    # a file name that is not UTF-8 (surrogates) is written with escapes, not refused
    text = "".join(line(f) + "\n" for f in findings)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
