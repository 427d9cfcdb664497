"""``--format json``: exactly one JSON document per run."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from nglint import __version__
from nglint.findings import Finding

SURROGATE = re.compile("[\ud800-\udfff]")


def summary(findings: Sequence[Finding], files: int) -> dict[str, Any]:
    """The document's ``summary``: counts by severity, fixable, files."""
    by_severity = Counter(str(f.severity) for f in findings)
    return {
        "files": files,
        "findings": len(findings),
        "error": by_severity.get("error", 0),
        "warning": by_severity.get("warning", 0),
        "info": by_severity.get("info", 0),
        "fixable": sum(1 for f in findings if f.fixable),
        "files_with_findings": len({f.path for f in findings}),
    }


def document(findings: Sequence[Finding], files: int) -> dict[str, Any]:
    """The document as one value: ``{"version", "findings": [Finding.as_dict()...],
    "summary"}``."""
    return {"version": __version__, "findings": [f.as_dict() for f in findings],
            "summary": summary(findings, files)}


def pieces(findings: Sequence[Finding], files: int, ascii_only: bool = False
           ) -> Iterator[str]:
    """``document``, indented by two spaces (as ``json.dumps(..., indent=2)``), in
    pieces of a few thousand of the encoder's strings each, with a final newline;
    ``ascii_only`` for a stream that is not UTF-8 (every other character as a JSON
    escape, the data unchanged).

    The indenting encoder is pure Python: ``json.dumps`` would hold every small string
    it yields in one list, several times the size of the text, until the join.  Written
    piece by piece, the whole text is never held at all (one encoder: each ``dumps``
    call leaves a reference cycle, and the CLI runs with the collector off)."""
    chunks = json.JSONEncoder(indent=2, ensure_ascii=ascii_only).iterencode(
        document(findings, files))
    while piece := "".join(islice(chunks, 4096)):
        # a file name that is not UTF-8 holds lone surrogates (surrogateescape): escape
        # them, or the document could not be written as UTF-8 (one character each: no
        # escape is cut between pieces)
        yield SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", piece)
    yield "\n"


def render(findings: Sequence[Finding], files: int, ascii_only: bool = False) -> str:
    """``pieces`` as one text (what the result cache stores)."""
    return "".join(pieces(findings, files, ascii_only))
