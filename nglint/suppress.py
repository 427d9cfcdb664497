"""``# nglint: ignore[NG102] reason``: inline suppressions, applied in one place.

A suppression names rules by code or name, several separated by commas, and
should say why.  It covers:

* the line it is written on, when it follows something on that line
  (``proxy_set_header Origin ""; # nglint: ignore[NG107] same-origin only``);
* the next line, when it stands alone on its line;
* the whole block, when it is written on the block's opening line
  (``location /legacy/ { # nglint: ignore[NG102] no websockets here``).

The engine collects suppressions from the comment nodes of every tree, drops
the findings they cover and records which rule of which suppression was used;
NG009 (unused-suppression) and NG014 (invalid-suppression) read that record.
A file that does not parse has no comment nodes: its syntax errors cannot be
suppressed, only fixed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from nglint.edits import opens_line
from nglint.errors import NglintError
from nglint.findings import Finding
from nglint.registry import lookup
from nglint.tree import Node, Tree

MENTION = re.compile(r"^\s*nglint\s*:\s*ignore\b", re.IGNORECASE)
FORM = re.compile(r"^\s*nglint\s*:\s*ignore\[(?P<rules>[^\]]*)\](?P<reason>.*)$",
                  re.IGNORECASE | re.DOTALL)
# a reason is words, not the punctuation people put between the brackets and it
REASON_LEAD = " \t-:,;\u2014\u2013"  # dashes: em, en


@dataclass(eq=False)
class Suppression:
    """One ``# nglint: disable=...`` comment: the codes it names, its reason, and the
    lines it covers (``spans``: first and last line, inclusive)."""

    node: Node  # the comment, for locating NG009/NG014 findings
    path: str
    line: int
    codes: dict[str, str]  # rule code -> the token as written
    reason: str
    spans: list[tuple[int, int]]  # first and last line covered, inclusive
    problems: list[str] = field(default_factory=list)  # for NG014
    used: set[str] = field(default_factory=set)  # codes that suppressed a finding

    def covers(self, finding: Finding) -> bool:
        """The finding's line is covered, or, for a finding that points at a directive,
        the line of the block serving the requests (a suppression above a location
        keeps covering what it covered when findings pointed at the location)."""
        if finding.code not in self.codes:
            return False
        places = [(finding.path, finding.line)]
        places += [(r.path, r.line) for r in finding.related if r.role == "location"]
        return any(path == self.path and first <= line <= last
                   for path, line in places for first, last in self.spans)


def _alone_on_line(node: Node) -> bool:
    if node.source is None or not node.spanned:
        # no exact span: a comment sharing its line with the statement before it is inline
        siblings = node.parent.children if node.parent and node.parent.children else []
        return node.position == 0 or siblings[node.position - 1].line != node.line
    return opens_line(node)


def _block_span(block: Node, line: int) -> tuple[int, int] | None:
    """The lines of ``block`` when ``line`` is its opening line (directive to ``{``)."""
    statement = block.statement
    if (block.synthetic or not block.is_block or statement is None
            or statement.terminator is None or statement.close is None):
        return None
    if statement.directive.line <= line <= statement.terminator.line:
        return statement.directive.line, statement.close.line
    return None


def _spans(node: Node) -> list[tuple[int, int]]:
    if _alone_on_line(node):
        return [(node.line + 1, node.line + 1)]
    spans = [(node.line, node.line)]
    # "location / { # nglint: ..." is the block's first child; "location / # ...\n{" and
    # "server { listen 80; } # ..." put the comment after the block, in the parent
    candidates = [node.parent] if node.parent is not None else []
    siblings = node.parent.children if node.parent and node.parent.children else []
    if node.position > 0:
        candidates.append(siblings[node.position - 1])
    for block in candidates:
        span = _block_span(block, node.line) if block is not None else None
        if span:
            spans.append(span)
    return spans


def parse(node: Node) -> Suppression | None:
    """The suppression a comment node holds, or None when it holds none."""
    text = node.comment or ""
    if node.source is None or not MENTION.match(text):
        return None
    match = FORM.match(text)
    problems: list[str] = []
    codes: dict[str, str] = {}
    reason = ""
    if match is None:
        problems.append("malformed suppression: write '# nglint: ignore[CODE,...] reason'")
    else:
        reason = match.group("reason").strip().lstrip(REASON_LEAD).strip()
        tokens = [t.strip() for t in match.group("rules").split(",")]
        if not any(tokens):
            problems.append("suppression names no rule: write '# nglint: ignore[CODE] reason'")
        for token in filter(None, tokens):
            try:
                codes[lookup(token).code] = token
            except NglintError:
                problems.append(f"suppression names an unknown rule {token!r} "
                                "(see `nglint rules`)")
        if not reason and codes:
            problems.append("suppression without a reason: say why after the brackets, "
                            "e.g. '# nglint: ignore[NG107] same-origin deployment only'")
    return Suppression(node, node.source.path, node.line, codes, reason, _spans(node),
                       problems)


class Suppressions:
    """Every suppression of a run, one per comment even when a file is included twice."""

    def __init__(self) -> None:
        self._by_place: dict[tuple[str, int, int], Suppression] = {}
        self._by_tree: dict[int, list[Suppression]] = {}

    def collect(self, tree: Tree) -> list[Suppression]:
        found: list[Suppression] = []
        for node in tree.walk():
            if not node.is_comment:
                continue
            statement = node.statement
            place = (node.source.path if node.source else "", node.line,
                     statement.directive.start if statement else 0)
            known = self._by_place.get(place)
            if known is None:
                known = parse(node)
                if known is None:
                    continue
                self._by_place[place] = known
            found.append(known)
        self._by_tree[id(tree)] = found
        return found

    def of(self, tree: Tree) -> list[Suppression]:
        return self._by_tree.get(id(tree), [])

    def filter(self, findings: Iterable[Finding]) -> Iterator[Finding]:
        """The findings no suppression covers; covering ones mark their rule used."""
        by_path: dict[str, list[Suppression]] = {}
        for suppression in self._by_place.values():
            by_path.setdefault(suppression.path, []).append(suppression)
        for finding in findings:
            paths = {finding.path, *(r.path for r in finding.related if r.role == "location")}
            covering = [s for path in paths for s in by_path.get(path, ()) if s.covers(finding)]
            for suppression in covering:
                suppression.used.add(finding.code)
            if not covering:
                yield finding
