"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

One JSON array of issues, the subset of the Code Climate spec GitLab reads
(https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format):
``description``, ``check_name``, ``fingerprint``, ``severity`` and ``location``
(``path`` relative to the project, ``positions.begin.line``/``column`` and the end).

GitLab shows issues with the same fingerprint once: a fingerprint is the
statement's (``nglint.baseline.fingerprint``: rule, directive, enclosing blocks,
message) with the file and an occurrence count, so it survives lines moving and two
identical findings stay two.  Severities: error is ``major``, warning ``minor``,
info ``info``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence

from nglint.baseline import fingerprint
from nglint.findings import Finding, Severity

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def _relative(path: str) -> str:
    """The path relative to the current directory (GitLab's project root) when under it."""
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        if not relative.startswith(os.pardir):
            path = relative
    return path.replace(os.sep, "/")


def issues(findings: Sequence[Finding]) -> list[dict]:
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for finding in findings:
        path = _relative(finding.path)
        mark = fingerprint(finding)
        seen[path, mark] += 1
        unique = hashlib.sha256(f"{path}\0{mark}\0{seen[path, mark]}".encode(
            "utf-8", "surrogateescape")).hexdigest()[:32]
        out.append({
            "type": "issue",
            "description": f"{finding.code} {finding.message}",
            "check_name": f"{finding.code} {finding.rule}",
            "fingerprint": unique,
            "severity": SEVERITIES[finding.severity],
            "location": {"path": path, "positions": {
                "begin": {"line": finding.line, "column": finding.column},
                "end": {"line": finding.end_line, "column": finding.end_column}}},
        })
    return out


def render(findings: Sequence[Finding]) -> str:
    # file names that are not UTF-8 (surrogateescape) are written as \udcxx escapes
    return json.dumps(issues(findings), indent=2, ensure_ascii=True) + "\n"
