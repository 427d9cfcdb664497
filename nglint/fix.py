"""``--fix`` and ``--diff``: apply fixes to a fixed point, in memory.

Each round lints the configuration as it would be after the edits so far (kept
in memory, never on disk), takes every fix whose edits are compatible with the
edits already chosen this round (``_compatible``: apart, the same edit made once,
or insertions at one point of different statements, each placed where a later
round would have put it), and applies them.  Rounds repeat until no fix is left:
a second ``--fix`` then changes nothing; rounds that have not settled after
``MAX_ROUNDS`` end the run with an error, and nothing is written.  The first round
lints every tree; a later one re-parses only the files an edit changed
(``Overlay``) and re-checks only the servers the last edits can affect
(``nglint.scope``).  A file whose edited text no longer parses is left as it was.
Each file's original is the bytes the round that first edited it parsed (never a
second read of the disk), so the writer (``nglint.transaction``, one transaction
over every file; a symlink is written through, at its target) can check the file
still holds them.
"""

from __future__ import annotations

import functools
import hashlib
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nglint import patch
from nglint.disputes import Contest, cycle_contests, withhold_contested
from nglint.edits import Edit, apply, overlaps, shifter
from nglint.errors import NglintError
from nglint.escape import visible
from nglint.findings import Finding
from nglint.load import Edited, Overlay, parse_file
from nglint.scope import Changes, full_relint
from nglint.source import SourceFile
from nglint.tree import Tree

MAX_ROUNDS = 25
Lint = Callable[[dict[str, bytes]], tuple[list[Tree], list[Finding]]]


@dataclass
class FixResult:
    originals: dict[str, bytes] = field(default_factory=dict)  # real path -> bytes on disk
    edited: dict[str, bytes] = field(default_factory=dict)  # real path -> bytes after fixes
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    # every edit kept, in order: (real path, the edits of one round, in that round's text)
    applied: list[tuple[str, tuple[Edit, ...]]] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return sorted(p for p, data in self.edited.items() if data != self.originals.get(p))


@functools.lru_cache(maxsize=4096)
def _statements(text: str) -> tuple[tuple[str, ...], ...] | None:
    """The top-level statements an insertion writes, each as its directive and
    arguments (a block's too); None when the text does not parse on its own."""
    parsed = parse_file(SourceFile.from_bytes("inserted", text.encode("utf-8",
                                                                      "surrogateescape")))
    if parsed.error is not None:
        return None
    return tuple((item["directive"], *item.get("args", ())) for item in parsed.ast
                 if item["directive"] != "#")


def _directives(text: str) -> set[str]:
    return {words[0] for words in _statements(text) or ()}


def _statement_keys(text: str) -> set[str] | None:
    """The statements an insertion writes, to tell two insertions at one point apart:
    a simple statement by its directive and first argument (``proxy_set_header
    Upgrade``), a block by its directive and every argument; None: unknown."""
    found = _statements(text)
    if found is None:
        return None
    return {" ".join(words[:2]) if words[0] != "map" else " ".join(words)
            for words in found}


def _compatible(edit: Edit, other: Edit) -> bool:
    """Two edits of one round may both be made: they do not overlap; or they are the
    same edit (fixes of several servers that each add the one ``map`` they all need:
    it is made once, as the later fixes, computed once it is there, would not make
    it); or both insert at one point statements that write different directives
    (``_in_order`` places them as two rounds would).  Two insertions of one directive
    wait for the next round: the first may settle the second."""
    if edit == other or not overlaps(edit, other):
        return True
    if edit.start == edit.end == other.start == other.end and edit.joins and other.joins:
        mine, theirs = _statement_keys(edit.text), _statement_keys(other.text)
        return mine is not None and theirs is not None and not mine & theirs
    return False


def _choose(findings: Sequence[Finding], unsafe: bool) -> list[Finding]:
    """The fixes of one round, in the findings' order: each one whose edits are all
    compatible (``_compatible``) with the edits already chosen."""
    chosen: list[Finding] = []
    taken: dict[str, list[Edit]] = {}  # by file: edits in two files never overlap
    seen: set[tuple[Edit, ...]] = set()
    for finding in findings:
        fix = finding.fix
        if fix is None or (fix.unsafe and not unsafe) or not fix.edits:
            continue
        key = tuple(sorted(fix.edits))
        if key in seen:
            continue  # the same file reached from two include sites
        if not all(_compatible(edit, other) for edit in fix.edits
                   for other in taken.get(edit.path, ())):
            continue  # next round, on the text this round produces
        seen.add(key)
        for edit in fix.edits:
            if edit not in taken.get(edit.path, ()):
                taken.setdefault(edit.path, []).append(edit)
        chosen.append(finding)
    return chosen


def _in_order(edits: Sequence[Edit]) -> list[Edit]:
    """One file's edits of a round, once each, by position.

    Insertions at one point, taken in the order they were chosen, go where a later
    round would put each, on the text the ones before it wrote: fixes insert a
    statement after the last one of its kind, so right after the last of them that
    writes a directive it writes; else, as its own round chose (``Edit.tail``,
    ``Edit.anchor``), after them all, after the last that writes its anchor's
    directive, or before them all."""
    unique = list(dict.fromkeys(edits))
    points: dict[int, list[Edit]] = {}
    for edit in unique:
        if edit.start != edit.end:
            continue
        group = points.setdefault(edit.start, [])
        own = _directives(edit.text)
        written = [_directives(other.text) for other in group]
        at = next((len(group) - i for i, names in enumerate(reversed(written))
                   if names & own), None)
        if at is None and edit.tail:
            at = len(group)
        if at is None:
            at = next((len(group) - i for i, names in enumerate(reversed(written))
                       if edit.anchor in names), 0)
        group.insert(at, edit)
    ordered = [e for e in unique if e.start != e.end] + [e for g in points.values() for e in g]
    return sorted(ordered, key=lambda edit: (edit.start, edit.end))


def fix_to_fixed_point(lint: Lint, unsafe: bool = False,
                       original: Callable[[str, SourceFile], bytes] | None = None) -> FixResult:
    """``original`` gives a file's bytes before the fixes (default: the bytes the
    round parsed, ``source.raw``; stdin and ``nginx -T`` dumps give theirs).

    Fixes that undo each other (``_attempt`` finds the cycle) are withheld and the
    rounds start again from the files as they were, so that a contested span is
    never edited, not even once: its findings stay, saying why (``disputes.Contest``).
    Raises NglintError when ``MAX_ROUNDS`` rounds leave a fix to make: a text half
    way to a fixed point is never returned, so nothing is written (exit status 2)."""
    contests: list[Contest] = []
    for _ in range(MAX_ROUNDS):  # each start withholds at least one more fix
        result, cycle = _attempt(lint, unsafe, original or _parsed_bytes, contests)
        if cycle is None:
            return result
        new = [contest for contest in cycle if contest not in contests]
        if not new:
            raise NglintError("fixes undo each other where nglint cannot tell them "
                              "apart: nothing written")
        contests.extend(new)
    raise NglintError(f"fixes kept undoing each other after {MAX_ROUNDS} starts: "
                      "nothing written")


def _attempt(lint: Lint, unsafe: bool, original: Callable[[str, SourceFile], bytes],
             contests: Sequence[Contest]) -> tuple[FixResult, list[Contest] | None]:
    """Rounds from the files as they are, the fixes that touch ``contests`` withheld:
    the result and None, or the contests of a cycle (a round that gives every file the
    text an earlier round left: the fixes of the rounds between undo each other, and
    rounds would repeat them until ``MAX_ROUNDS``)."""
    result = FixResult()
    overlay = Overlay(keep=True)  # every round's parses, for the next
    marks: list[_Mark] = []  # where each fixed finding was, in its round's text
    rounds: list[dict[str, list[Edit]]] = []  # each round's edits, by file
    made: list[list[Finding]] = []  # each round's chosen findings
    digests: dict[str, bytes] = {}  # real path -> digest of its text, where edited
    # the files' texts -> the number of rounds that left them
    states: dict[frozenset[tuple[str, bytes]], int] = {frozenset(): 0}
    for _ in range(MAX_ROUNDS):
        trees, findings = lint(overlay)
        withhold_contested(findings, contests, rounds)
        chosen = _choose(findings, unsafe)
        if not chosen:
            result.trees, result.remaining = trees, findings
            break
        sources = {real: source for tree in trees for real, source in tree.sources.items()}
        by_file: dict[str, list[Edit]] = {}
        for finding in chosen:
            for edit in finding.fix.edits:  # type: ignore[union-attr]
                by_file.setdefault(edit.path, []).append(edit)
        applied: set[str] = set()
        for real, edits in by_file.items():
            source = sources[real]
            if real not in result.originals:
                result.originals[real] = original(real, source)
            edits = _in_order(edits)
            text = apply(source.text, edits)
            data = text.encode("utf-8", "surrogateescape")
            before = overlay.parsed.get(real)
            parsed = parse_file(SourceFile.from_bytes(source.path, data), Edited(
                source, edits, before if before is not None and before.source is source
                else None))
            if parsed.error is not None:
                continue  # never leave a file nginx cannot parse
            overlay.put(real, data, parsed)
            applied.add(real)
            result.applied.append((real, tuple(edits)))
            if data == result.originals[real]:
                digests.pop(real, None)
            else:
                digests[real] = hashlib.sha256(data).digest()
        rounds.append({real: _in_order(by_file[real]) for real in applied})
        made.append(chosen)
        if not full_relint():  # the next round re-checks what these edits can affect
            overlay.scope = Changes(rounds[-1], findings, trees).servers
        by_name = {source.path: (real, source) for real, source in sources.items()}
        lines: dict[str, list[int]] = {}  # real path -> where each line starts
        for finding in chosen:
            if all(e.path in applied for e in finding.fix.edits):  # type: ignore[union-attr]
                finding.node = None  # the round's tree is done with: let it go
                result.fixed.append(finding)
                if finding.path in by_name:
                    real, source = by_name[finding.path]
                    starts = lines.get(real)
                    if starts is None:
                        starts = lines[real] = _line_starts(source.text)
                    marks.append(_Mark(finding, real, len(rounds) - 1,
                                       _offset(starts, len(source.text), finding.line,
                                               finding.column),
                                       _offset(starts, len(source.text), finding.end_line,
                                               finding.end_column)))
        if not applied:
            result.trees, result.remaining = trees, findings
            break
        state = frozenset(digests.items())
        if state in states:  # back to an earlier round's text: a cycle
            since = states[state]
            return result, cycle_contests(rounds, made, since, sources)
        states[state] = len(rounds)
    else:  # MAX_ROUNDS edited: the text they left must need no further fix
        trees, findings = lint(overlay)
        withhold_contested(findings, contests, rounds)
        if _choose(findings, unsafe):
            raise NglintError(f"the fixes did not settle in {MAX_ROUNDS} rounds (each "
                              "round's edits called for more): nothing written")
        result.trees, result.remaining = trees, findings
    result.edited = {real: data for real, data in overlay.items()
                     if data != result.originals.get(real)}
    _final_positions(marks, rounds, overlay)
    return result, None


@dataclass
class _Mark:
    finding: Finding
    real: str
    round: int
    start: int
    end: int


def _line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts (index 0: line 1)."""
    starts = [0]
    at = text.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def _offset(starts: Sequence[int], length: int, line: int, column: int) -> int:
    """The offset of 1-based ``line`` and ``column`` in a text of ``length`` characters
    whose lines start at ``starts``."""
    if line - 1 >= len(starts):
        return length
    return min(starts[line - 1] + column - 1, length)


def _final_positions(marks: Sequence[_Mark], rounds: Sequence[dict[str, list[Edit]]],
                     overlay: Overlay) -> None:
    """Give every fixed finding its position in the files as written: a finding fixed
    in a later round was found in a text that earlier rounds' edits had moved, and the
    edits of its own and later rounds move it again (the fix log reads one set of
    coordinates, the files nglint leaves).  Each file is decoded and indexed once, and
    each round's edits of a file become one ``shifter``: linear in the fixes, not in
    fixes times file size (a file with thousands of fixes)."""
    moves: dict[tuple[int, str], Callable[[int], int]] = {}
    texts: dict[str, tuple[list[int], int]] = {}  # real path -> (line starts, length)
    for mark in marks:
        start, end = mark.start, mark.end
        for index in range(mark.round, len(rounds)):
            edits = rounds[index].get(mark.real)
            if not edits:
                continue
            move = moves.get((index, mark.real))
            if move is None:
                move = moves[(index, mark.real)] = shifter(edits)
            start, end = move(start), move(end)
        data = overlay.get(mark.real)
        if data is None:
            continue
        known = texts.get(mark.real)
        if known is None:
            text = data.decode("utf-8", "surrogateescape")
            known = texts[mark.real] = (_line_starts(text), len(text))
        finding = mark.finding
        finding.line, finding.column = _line_column(known[0], start)
        finding.end_line, finding.end_column = _line_column(known[0], max(start, end))


def _line_column(starts: Sequence[int], offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in a text whose lines start at ``starts``."""
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def _parsed_bytes(real: str, source: SourceFile) -> bytes:
    return source.raw


def unified_diff(result: FixResult, display: dict[str, str] | None = None) -> str:
    """One unified diff over every edited file, as ``diff -u`` would print it
    (``nglint.patch.file_diff``, from the edits each file was given).

    The ``---``/``+++`` headers name each file as ``nglint.escape.visible`` shows it
    (a newline or tab in a name cannot end or split a header); the lines themselves
    are the files' exact text, so that the diff applies."""
    chunks: list[str] = []
    for real in result.changed:
        name = (display or {}).get(real, real).lstrip("/")
        chunks.extend(patch.file_diff(
            result.originals[real].decode("utf-8", "surrogateescape"),
            result.edited[real].decode("utf-8", "surrogateescape"),
            [edits for path, edits in result.applied if path == real],
            visible(f"a/{name}"), visible(f"b/{name}")))
    return "".join(chunks)
