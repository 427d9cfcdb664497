"""``--format sarif``: one SARIF 2.1.0 log, for GitHub code scanning and other viewers.

Every rule is described in ``tool.driver.rules`` (its name, summary, documentation
page and default level), so a viewer can show why a result matters without
nglint.  Columns are counted in Unicode code points, as nglint counts them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from nglint import __version__
from nglint.findings import Finding, Severity
from nglint.registry import Rule, all_rules, security_severity

SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
          "sarif-schema-2.1.0.json")
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def uri(path: str) -> str:
    """A path as a URI reference: relative stays relative (code scanning resolves it
    against the repository root), absolute becomes ``file://``; bytes that are not
    UTF-8 (kept as surrogates) are percent-encoded like everything else."""
    encoded = os.fsencode(path.replace(os.sep, "/"))
    if os.path.isabs(path):
        return "file://" + quote(encoded, safe="/")
    return quote(os.fsencode(os.path.normpath(path).replace(os.sep, "/")), safe="/")


def descriptor(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {"fixable": rule.fixable, "tags": ["nginx", rule.family]}
    score = security_severity(rule)
    if score is not None:  # GitHub code scanning ranks security results by it
        properties["security-severity"] = f"{score:.1f}"
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": properties,
    }


def region(finding: Finding) -> dict[str, Any]:
    area = {"startLine": finding.line, "startColumn": finding.column,
            "endLine": finding.end_line}
    # an empty span (a syntax error's position) has no end column: the region then
    # runs to the end of the line, which viewers underline instead of nothing
    if (finding.end_line, finding.end_column) > (finding.line, finding.column):
        area["endColumn"] = finding.end_column
    return area


def result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(finding.path)},
            "region": region(finding),
        }}],
        "properties": {"fixable": finding.fixable},
    }
    if finding.related:
        # where the value in force was set, the block that serves the requests
        entry["relatedLocations"] = [{
            "id": number,
            "physicalLocation": {
                "artifactLocation": {"uri": uri(related.path)},
                "region": {"startLine": related.line, "startColumn": related.column},
            },
            "message": {"text": related.message},
        } for number, related in enumerate(finding.related)]
    if finding.code in index:
        entry["ruleIndex"] = index[finding.code]
    return entry


def document(findings: Sequence[Finding]) -> dict[str, Any]:
    rules = all_rules()
    index = {rule.code: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nglint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [descriptor(rule) for rule in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [result(f, index) for f in findings],
        }],
    }


def render(findings: Sequence[Finding]) -> str:
    # ensure_ascii: a message or path holding lone surrogates stays encodable
    return json.dumps(document(findings), indent=2, ensure_ascii=True) + "\n"
