"""``--diff``'s unified diff of one file, from the edits that made it.

``difflib`` finds what two texts share by searching them (a tenth of a second on the
benchmark tree's 41 edited files).  ``--fix`` knows it already: every stretch of the
original no edit touched is in the edited text, moved.  ``kept`` follows those
stretches through the rounds' edits; the lines wholly inside one are the lines the
two texts share, and only the lines between them are compared by ``difflib`` (a
line an edit changed, next to the lines it inserted).  The hunks are then grouped
and written as ``difflib.unified_diff`` writes them (``diff -u``'s format: three
lines of context, ``@@ -start,count +start,count @@``).  Lines end at LF only and a
last line without one is marked, as ``patch`` and ``git apply`` read a diff.

Sources: ``difflib.unified_diff`` and ``SequenceMatcher.get_grouped_opcodes``
(CPython ``Lib/difflib.py``), whose hunk grouping ``_Known`` reuses; GNU diffutils
manual, "Incomplete Lines" (``\\ No newline at end of file``).
"""

from __future__ import annotations

import difflib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate

from nglint.edits import Edit, apply

# (original start, original end, start in the edited text): a stretch no edit touched
Stretch = tuple[int, int, int]
Opcode = tuple[str, int, int, int, int]


def kept(length: int, rounds: Sequence[Sequence[Edit]]) -> list[Stretch]:
    """The stretches of a text of ``length`` characters that ``rounds`` (each round's
    edits of the file, in the text the round before left) leave as they were, in
    order: where each is in the original and where it starts in the final text."""
    stretches: list[Stretch] = [(0, length, 0)] if length else []
    for edits in rounds:
        stretches = _cut(stretches, sorted(edits, key=lambda e: (e.start, e.end)))
    return stretches


def _cut(stretches: list[Stretch], edits: Sequence[Edit]) -> list[Stretch]:
    """``stretches`` (their third field: where each is now) after ``edits``: the
    characters an edit replaces are gone, an insertion inside a stretch splits it,
    and what follows an edit moves by what it inserted."""
    out: list[Stretch] = []
    k, shift = 0, 0
    for start, end, now in stretches:
        stop = now + end - start
        at = now
        while at < stop:
            while k < len(edits) and edits[k].end <= at:  # behind: moves what follows
                shift += len(edits[k].text) - (edits[k].end - edits[k].start)
                k += 1
            if k < len(edits) and edits[k].start <= at:  # replaces the character at ``at``
                at = edits[k].end
                continue
            piece = min(stop, edits[k].start) if k < len(edits) else stop
            begin = start + at - now
            if out and out[-1][1] == begin and out[-1][2] + out[-1][1] - out[-1][0] == \
                    at + shift:  # an edit that wrote what it replaced: still one stretch
                out[-1] = (out[-1][0], start + piece - now, out[-1][2])
            else:
                out.append((begin, start + piece - now, at + shift))
            at = piece
    return out


def opcodes(before: Sequence[str], after: Sequence[str],
            stretches: Sequence[Stretch]) -> list[Opcode]:
    """``SequenceMatcher.get_opcodes`` for the lines ``before`` and ``after`` (each
    with its line feed, as ``lines`` gives them), the lines wholly inside one of
    ``stretches`` being the lines they share.

    Inside a stretch both texts are the same characters, so they split into the same
    lines: only a stretch's first line (does it start a line in ``before`` too?) and
    its last (does it end where the stretch ends, in both?) are checked."""
    starts_before = list(accumulate(map(len, before), initial=0))
    starts_after = list(accumulate(map(len, after), initial=0))
    runs: list[tuple[int, int, int]] = []  # (line before, line after, count) shared
    for start, end, now in stretches:
        j = bisect_left(starts_after, now)
        last = bisect_right(starts_after, now + end - start) - 2  # the last line inside
        if last < j:
            continue
        offset = starts_after[j] - now + start
        i = bisect_left(starts_before, offset)
        if i >= len(before) or starts_before[i] != offset:
            j += 1  # the stretch starts inside a line of ``before``
            if last < j:
                continue
            offset = starts_after[j] - now + start
            i = bisect_left(starts_before, offset)
            if i >= len(before) or starts_before[i] != offset:
                continue
        end_line = i + last - j
        if end_line >= len(before) or starts_before[end_line + 1] - starts_before[end_line] \
                != starts_after[last + 1] - starts_after[last]:
            last -= 1
            end_line -= 1
        if last >= j:
            runs.append((i, j, last - j + 1))
    codes: list[Opcode] = []
    i = j = 0
    for a, b, count in [*runs, (len(before), len(after), 0)]:
        if a < i or b < j:
            continue
        found = _between(before, after, i, a, j, b) if a > i or b > j else []
        if count:
            found.append(("equal", a, a + count, b, b + count))
        for code in found:  # one opcode for a run of equal lines, as difflib gives
            if code[0] == "equal" and codes and codes[-1][0] == "equal":
                codes[-1] = ("equal", codes[-1][1], code[2], codes[-1][3], code[4])
            else:
                codes.append(code)
        i, j = a + count, b + count
    return codes


def _between(before: Sequence[str], after: Sequence[str], i: int, a: int, j: int,
             b: int) -> list[Opcode]:
    """The opcodes of the lines between two shared ones: an insertion, a deletion, or
    what ``difflib`` finds in those few lines."""
    if i == a:
        return [("insert", i, i, j, b)]
    if j == b:
        return [("delete", i, a, j, j)]
    matcher = difflib.SequenceMatcher(None, before[i:a], after[j:b], autojunk=False)
    return [(tag, i + i1, i + i2, j + j1, j + j2) for tag, i1, i2, j1, j2
            in matcher.get_opcodes()]


class _Known(difflib.SequenceMatcher):
    """A matcher whose opcodes are known: ``get_grouped_opcodes`` groups them."""

    def __init__(self, codes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._codes = codes

    def get_opcodes(self) -> list[Opcode]:  # type: ignore[override]
        return list(self._codes)


NO_NEWLINE = "\n\\ No newline at end of file\n"


def lines(text: str) -> list[str]:
    """A text's lines as ``patch`` and ``git apply`` count them, each with its line
    feed: split at LF only (``str.splitlines`` also splits at VT, FF, FS, GS, RS, NEL,
    U+2028, U+2029 and a CR, which would miscount a hunk)."""
    parts = text.split("\n")
    found = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        found.append(parts[-1])
    return found


def file_diff(before: str, after: str, rounds: Sequence[Sequence[Edit]], fromfile: str,
              tofile: str) -> Iterator[str]:
    """The unified diff of one file: ``before``, given the edits of ``rounds`` (each
    round's, in the text the round before left), is ``after``.  Should the edits not
    make ``after`` (never expected), ``difflib`` searches the two texts instead.  A
    line without a line feed (the last of a file) is followed by ``\\ No newline at
    end of file``, as ``diff -u`` writes it and ``patch`` reads it."""
    old, new = lines(before), lines(after)
    text = before
    for edits in rounds:
        text = apply(text, edits)
    if text == after:  # the edits made it: what they left is what both share
        found = unified(old, new, opcodes(old, new, kept(len(before), rounds)), fromfile,
                        tofile)
    else:
        found = difflib.unified_diff(old, new, fromfile, tofile)
    for line in found:
        yield line if line.endswith("\n") else line + NO_NEWLINE


def unified(before: Sequence[str], after: Sequence[str], codes: list[Opcode],
            fromfile: str, tofile: str, context: int = 3) -> Iterator[str]:
    """What ``difflib.unified_diff(before, after, fromfile, tofile, n=context)``
    writes when its matcher finds ``codes``."""
    if all(tag == "equal" for tag, *_ in codes):
        return
    yield f"--- {fromfile}\n"
    yield f"+++ {tofile}\n"
    for group in _Known(codes).get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in before[i1:i2]:
                    yield " " + line
                continue
            if tag in ("replace", "delete"):
                for line in before[i1:i2]:
                    yield "-" + line
            if tag in ("replace", "insert"):
                for line in after[j1:j2]:
                    yield "+" + line


def _range(start: int, stop: int) -> str:
    """A hunk's range as ``diff -u`` writes it (``difflib._format_range_unified``)."""
    beginning = start + 1
    length = stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"
