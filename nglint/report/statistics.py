"""``--statistics``: how many findings each rule produced, most frequent first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from nglint.findings import Finding


def rows(findings: Sequence[Finding]) -> list[tuple[int, str, str, int]]:
    """(count, code, rule name, fixable count), most frequent first, then by code."""
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fixable)
    names = {f.code: f.rule for f in findings}
    return sorted(((n, code, names[code], fixable[code]) for code, n in counts.items()),
                  key=lambda row: (-row[0], row[1]))


def lines(findings: Sequence[Finding]) -> list[str]:
    width = max((len(str(row[0])) for row in rows(findings)), default=1)
    return [f"{count:>{width}}  {code}  {name}" + (f"  ({fixes} fixable)" if fixes else "")
            for count, code, name, fixes in rows(findings)]
