"""``--format junit``: JUnit XML for CI test reports (GitLab ``artifacts:reports:junit``,
Jenkins, Azure Pipelines).

One ``testsuite`` per file with findings, one failing ``testcase`` per finding
(``name`` is the rule, ``classname`` the file, the ``failure`` says where and what).
A run without findings is one passing ``testcase`` so the report is never empty.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from itertools import groupby

from nglint.escape import visible
from nglint.findings import Finding


def _text(value: str) -> str:
    """XML 1.0 cannot hold control characters: shown escaped (``nglint.escape.visible``)."""
    return visible(value)


def render(findings: Sequence[Finding], files: int) -> str:
    root = ET.Element("testsuites", name="nglint", tests=str(max(len(findings), 1)),
                      failures=str(len(findings)), errors="0")
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="nglint", tests="1", failures="0",
                              errors="0")
        ET.SubElement(suite, "testcase", name=f"{files} files checked", classname="nglint")
    ordered = sorted(findings, key=Finding.sort_key)
    for path, group in groupby(ordered, key=lambda f: f.path):
        found = list(group)
        suite = ET.SubElement(root, "testsuite", name=_text(path), tests=str(len(found)),
                              failures=str(len(found)), errors="0")
        for finding in found:
            case = ET.SubElement(suite, "testcase", name=f"{finding.code} {finding.rule}",
                                 classname=_text(path), file=_text(path),
                                 line=str(finding.line))
            failure = ET.SubElement(case, "failure", type=str(finding.severity),
                                    message=_text(finding.message))
            failure.text = _text(f"{finding.path}:{finding.line}:{finding.column}: "
                                 f"{finding.code} [{finding.severity}] {finding.message}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
