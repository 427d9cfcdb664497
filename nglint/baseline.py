"""Baselines: ``--write-baseline FILE`` records the findings of today, ``--baseline
FILE`` reports only the findings that are not in it.

A finding is matched by its rule, its file (relative to the baseline's folder) and
a fingerprint of the statement it is about: the directive and its arguments and
those of every enclosing block in the same file, plus the message with its digits
blanked (messages quote line numbers).  Line numbers are left out, so adding or
removing lines above a finding keeps it matched; changing the statement (or
moving it to another block) makes it new.  Identical statements in one block count:
the baseline holds one entry per finding, and each entry matches one finding.

Entries that match nothing are findings fixed since the baseline was written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Sequence

from nglint import __version__
from nglint.errors import NglintError
from nglint.findings import Finding
from nglint.tree import Node

FORMAT = 1
DIGITS = re.compile(r"\d+")

Key = tuple[str, str, str]  # code, path relative to the baseline, fingerprint


def _statements(node: Node | None) -> list[list[str]]:
    """The node's directive and arguments, then each enclosing block's in its file."""
    chain: list[list[str]] = []
    source = node.source if node is not None else None
    while node is not None and node.source is source and source is not None:
        chain.append([node.directive, *node.args])
        node = node.parent
    return chain


def fingerprint(finding: Finding) -> str:
    data = [finding.code, _statements(finding.node), DIGITS.sub("#", finding.message)]
    return hashlib.sha256(json.dumps(data).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def _relative(path: str, folder: str) -> str:
    return os.path.relpath(os.path.realpath(path), folder).replace(os.sep, "/")


def _key(finding: Finding, folder: str) -> Key:
    return finding.code, _relative(finding.path, folder), fingerprint(finding)


def _folder(baseline: str) -> str:
    return os.path.dirname(os.path.realpath(baseline))


def write(baseline: str, findings: Sequence[Finding]) -> None:
    """Record ``findings`` in ``baseline`` (replaced)."""
    folder = _folder(baseline)
    entries = []
    for finding in findings:
        code, path, mark = _key(finding, folder)
        entries.append({"code": code, "rule": finding.rule, "path": path, "fingerprint": mark,
                        "message": finding.message})
    document = {"nglint-baseline": FORMAT, "version": __version__, "findings": entries}
    try:
        with open(baseline, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(json.dumps(document, indent=2) + "\n")
    except OSError as error:
        raise NglintError(f"cannot write the baseline: {error.strerror}", baseline) from None


def _load(baseline: str) -> list[dict[str, str]]:
    try:
        with open(baseline, encoding="utf-8", errors="surrogateescape") as handle:
            document = json.load(handle)
    except OSError as error:
        raise NglintError(f"cannot read the baseline: {error.strerror}", baseline) from None
    except ValueError as error:
        raise NglintError(f"not a baseline (invalid JSON: {error})", baseline) from None
    entries = document.get("findings") if isinstance(document, dict) else None
    if (not isinstance(document, dict) or document.get("nglint-baseline") != FORMAT
            or not isinstance(entries, list)
            or not all(isinstance(e, dict) and all(isinstance(e.get(k), str) for k in
                                                   ("code", "path", "fingerprint"))
                       for e in entries)):
        raise NglintError("not an nglint baseline (write one with --write-baseline)", baseline)
    return entries


def subtract(baseline: str, findings: Sequence[Finding]
             ) -> tuple[list[Finding], list[dict[str, str]]]:
    """(the findings not in ``baseline``, the baseline entries no finding matched)."""
    entries = _load(baseline)
    folder = _folder(baseline)
    left = Counter((e["code"], e["path"], e["fingerprint"]) for e in entries)
    new = []
    for finding in findings:
        key = _key(finding, folder)
        if left[key] > 0:
            left[key] -= 1
        else:
            new.append(finding)
    fixed = []
    for entry in reversed(entries):
        key = (entry["code"], entry["path"], entry["fingerprint"])
        if left[key] > 0:
            left[key] -= 1
            fixed.append(entry)
    return new, fixed[::-1]
