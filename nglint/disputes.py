"""When the users of one text disagree on its fix: the span is left as written.

Two ways they can.  Trees: ``nglint check DIR`` lints a file no include reaches
(``sites-available/b.conf``, not enabled) as a tree of its own (``nglint.discover``), so
a snippet that it and an enabled site both include is read by two trees, each fixing
it for its own sites; ``withhold_disputed`` keeps a fix of such a file only where
every tree that reads it asks for the same edit.  Rounds: a fix blind to a site can
still undo another fix round after round; ``nglint.fix`` finds the cycle (a round
that brings every file back to an earlier round's text), and ``withhold_contested``
keeps the fixes of the spans it edited from being made again (``Contest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from nglint.edits import Edit, overlaps
from nglint.findings import Finding
from nglint.fixes import Fix, withhold
from nglint.source import SourceFile
from nglint.tree import Tree


def withhold_disputed(trees: Sequence[Tree], found: Sequence[Sequence[Finding]]) -> None:
    """No fix for a finding whose fix edits a file another tree reads too, unless that
    tree asks for the same edits of the file (a finding of the same rule whose fix
    edits it alike).  ``found``: each tree's findings, before they are deduplicated.

    ``nglint check DIR`` lints a file no include reaches (``sites-available/b.conf``,
    not enabled) as a tree of its own (``nglint.discover``), so a snippet that it and an
    enabled site both include is read by two trees, and each tree's fix sees only its
    own include sites (``Tree.sites``).  As a block included from several places of one
    tree is changed only when every place inherits the same headers
    (``_check_copy_is_safe``), a file shared by trees is changed only when every tree
    asks for that change: a fix made for one tree would change the other's
    configuration.  NG106 wants ``Host $host`` for a site on port 80 and
    ``$host:$server_port`` for one on 8080 (``nglint.apps.origin``): each ``--fix``
    round undid the last one's edit of the shared line.
    """
    readers: dict[str, list[int]] = {}
    for index, tree in enumerate(trees):
        for real in tree.sources:
            readers.setdefault(real, []).append(index)
    shared = {real for real, indexes in readers.items() if len(indexes) > 1}
    if not shared:
        return
    # per tree: (rule, shared file) -> the edits of that file each of its fixes makes
    asked: list[dict[tuple[str, str], list[tuple[frozenset[Edit], str]]]] = []
    for findings in found:
        mine: dict[tuple[str, str], list[tuple[frozenset[Edit], str]]] = {}
        for finding in findings:
            if finding.fix is not None:
                for real in {edit.path for edit in finding.fix.edits} & shared:
                    mine.setdefault((finding.code, real), []).append(
                        (_edits_of(finding.fix, real), finding.fix.description))
        asked.append(mine)
    for index, findings in enumerate(found):
        for finding in findings:
            if finding.fix is not None:
                reason = _disputed(trees, index, finding.code, finding.fix, readers, asked)
                if reason:
                    withhold(finding, reason)


def _disputed(trees: Sequence[Tree], index: int, code: str, fix: Fix,
              readers: dict[str, list[int]],
              asked: Sequence[dict[tuple[str, str], list[tuple[frozenset[Edit], str]]]]
              ) -> str:
    """Why tree ``index``'s fix must not be made: a file it edits is read by another
    tree that asks for other edits of it, or none (empty: every reader agrees)."""
    for real in sorted({edit.path for edit in fix.edits}):
        edits = _edits_of(fix, real)
        for other in readers.get(real, ()):
            theirs = asked[other].get((code, real), [])
            if other != index and edits not in {asks for asks, _ in theirs}:
                return _dispute(trees, index, other, real, fix, theirs)
    return ""


def merge_fixes(kept: Finding, other: Finding) -> None:
    """``kept`` stands for ``other`` too (one finding at one place, from two trees):
    its fix makes both trees' edits.  They agree on the files both trees read
    (``withhold_disputed``), but each may also edit a file of its own (the ``map``
    each tree's ``http`` block needs): keeping one tree's fix alone rewrote the shared
    snippet to use a variable the other tree's http block never got, and nginx -t
    failed there (review of 2026-11-30).  Two edits of one file that differ and
    overlap cannot both be made: the finding is not fixed."""
    if kept.fix is None or other.fix is None or kept.fix.edits == other.fix.edits:
        return
    mine = set(kept.fix.edits)
    added = [edit for edit in other.fix.edits if edit not in mine]
    clash = next((edit for edit in added for own in kept.fix.edits if overlaps(edit, own)),
                 None)
    if clash is not None:
        withhold(kept, f"the trees that read {clash.path} ask for different edits there")
        return
    kept.fix = Fix(kept.fix.description, (*kept.fix.edits, *added),
                   kept.fix.unsafe or other.fix.unsafe)


def _edits_of(fix: Fix, real: str) -> frozenset[Edit]:
    return frozenset(edit for edit in fix.edits if edit.path == real)


def _dispute(trees: Sequence[Tree], index: int, other: int, real: str, fix: Fix,
             theirs: Sequence[tuple[frozenset[Edit], str]]) -> str:
    """Why a fix of tree ``index`` is not made in ``real``, which tree ``other`` reads."""
    source = trees[index].sources[real]
    reader = trees[other]
    there = reader.sources.get(real)
    site = reader.memo(f"include site {real}", lambda: next(
        (node.via for node in reader.nodes if node.source is there and node.via is not None),
        None))
    name = f"{site.path}:{site.line}" if site is not None else reader.entry
    mine = _edits_of(fix, real)
    rival = sorted({f"`{description}`" for edits, description in theirs
                    if any(overlaps(a, b) for a in edits for b in mine)})
    wants = f"asks for another edit there ({'; '.join(rival)})" if rival \
        else "does not ask for this one"
    return (f"{source.path} is shared with {name}, which {wants}: a fix for one site would "
            "change the other's; change it by hand")


class Contest(NamedTuple):
    """A span of a file that fixes of different users of the file undo each other in.

    A snippet shared by sites may need other text at one span for each: NG106 wants
    ``Host $host`` for a server on port 80 and ``Host $host:$server_port`` for one on
    8080 (``nglint.apps.origin``).  A fix that sees one site writes its text, the
    other site's fix writes its own, and so on: no round is the last.  Builders look
    at every include site of their tree (``Tree.sites``) and a file other trees read
    is edited only where they all ask for it (``fixes.withhold_disputed``); a cycle
    is what gets past them (a builder blind to a site, a fix writing the text already
    there).  The span is left as written for everyone, as a fix whose builder sees
    the sites disagree is refused (``fixes.set_proxy_header``: included from several
    places that inherit different headers).  Offsets are in the file's text before
    any fix (``origin``)."""

    real: str
    start: int
    end: int
    code: str  # the rule whose fix edited it: only its fixes are withheld there
    description: str  # the fix's
    site: str  # the include that brought the file in for that fix ("a.conf:4")
    shown: str  # the file as the trees name it


def cycle_contests(rounds: Sequence[dict[str, list[Edit]]], made: Sequence[Sequence[Finding]],
              since: int, sources: dict[str, SourceFile]) -> list[Contest]:
    """The contests of the cycle made by rounds ``since`` to the last: every edit
    they made, placed in the original text, once per fix that asked for it."""
    found = []
    for index in range(since, len(rounds)):
        for finding in made[index]:
            site = finding.via or finding.path
            for edit in finding.fix.edits:  # type: ignore[union-attr]
                if edit not in rounds[index].get(edit.path, ()):
                    continue  # its file would not have parsed: not made
                start, end = origin(edit, rounds[:index])
                source = sources.get(edit.path)
                found.append(Contest(edit.path, start, end, finding.code,
                                      finding.fix.description,  # type: ignore[union-attr]
                                      site, source.path if source else edit.path))
    return found


def origin(edit: Edit, rounds: Sequence[dict[str, list[Edit]]]) -> tuple[int, int]:
    """Where ``edit``'s span, in the text ``rounds`` left, was before them."""
    start, end = edit.start, edit.end
    for earlier in reversed(rounds):
        edits = earlier.get(edit.path)
        if edits:
            start, end = _before(start, edits, False), _before(end, edits, True)
    return start, end


def _before(offset: int, edits: Sequence[Edit], closing: bool) -> int:
    """Where ``offset`` of the text ``edits`` (by position, as ``apply`` makes them)
    wrote was before them: inside a text an edit wrote, that edit's start (or end,
    for the ``closing`` end of a span: a span widens to what the edit replaced)."""
    delta = 0
    for edit in edits:
        start = edit.start + delta
        end = start + len(edit.text)
        if offset <= start:
            return offset - delta
        if offset < end or (closing and offset == end):
            return edit.end if closing else edit.start
        delta += len(edit.text) - (edit.end - edit.start)
    return offset - delta


def _touches(start: int, end: int, other: Contest) -> bool:
    """Two spans overlap; an empty one (an insertion point) touches one it is in."""
    if start == end or other.start == other.end:
        return start <= other.end and other.start <= end
    return start < other.end and other.start < end


def withhold_contested(findings: Sequence[Finding], contests: Sequence[Contest],
                        rounds: Sequence[dict[str, list[Edit]]]) -> None:
    """No fix for a finding whose rule's fix edits a contested span: the finding says
    which fixes undo each other there, for which sites."""
    if not contests:
        return
    for finding in findings:
        fix = finding.fix
        if fix is None:
            continue
        for edit in fix.edits:
            mine = [c for c in contests if c.real == edit.path and c.code == finding.code]
            if not mine:
                continue
            start, end = origin(edit, rounds)
            hit = next((c for c in mine if _touches(start, end, c)), None)
            if hit is not None:
                withhold(finding, _contest_reason(hit, contests))
                break


def _contest_reason(hit: Contest, contests: Sequence[Contest]) -> str:
    """Why a contested span is not fixed: the fixes that undo each other there."""
    rival = [c for c in contests if c.real == hit.real and _touches(c.start, c.end, hit)]
    uses = "; ".join(sorted({f"`{c.description}` for {c.site}" for c in rival}))
    if len({c.site for c in rival}) > 1:
        return (f"{hit.shown} is shared by sites that need different text here ({uses}): "
                "each fix would undo another; change it by hand")
    return (f"fixes of this text bring it back to an earlier text ({uses}): they do not "
            "settle; change it by hand")
