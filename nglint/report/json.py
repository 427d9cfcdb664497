"""``--format json``: exactly one JSON document per run."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from nglint import __version__
from nglint.findings import Finding

SURROGATE = re.compile("[\ud800-\udfff]")


def document(findings: Sequence[Finding], files: int) -> dict[str, Any]:
    by_severity = Counter(str(f.severity) for f in findings)
    return {
        "version": __version__,
        "findings": [f.as_dict() for f in findings],
        "summary": {
            "files": files,
            "findings": len(findings),
            "error": by_severity.get("error", 0),
            "warning": by_severity.get("warning", 0),
            "info": by_severity.get("info", 0),
            "fixable": sum(1 for f in findings if f.fixable),
            "files_with_findings": len({f.path for f in findings}),
        },
    }


def render(findings: Sequence[Finding], files: int, ascii_only: bool = False) -> str:
    """The document, indented; ``ascii_only`` for a stream that is not UTF-8 (every
    other character as a JSON escape, the data unchanged)."""
    text = json.dumps(document(findings, files), indent=2, ensure_ascii=ascii_only) + "\n"
    # a file name that is not UTF-8 holds lone surrogates (surrogateescape): escape them,
    # or the document could not be written as UTF-8
    return SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
