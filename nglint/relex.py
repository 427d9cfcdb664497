"""Reading an edited file's tokens again only around its edits (``--fix`` rounds).

A ``--fix`` round inserts a few statements into a file, and its next round needs all
of the file's tokens.  Away from the edits they are the old tokens, moved: the
tokenizer's expression (``nglint.lexer._TOKEN``) reads a text match after match,
and each match is decided by its own characters up to the one that ends it (a
blank, ``{``, ``;``, ``}``, the newline after a comment, the closing quote).  So
reading the new text from an old match boundary before an edit gives new matches
until one ends where an old match ended after the edit, in the same text: from
there on the two readings are the same, and the old tokens are taken, their
offsets moved by the characters the edits inserted and their lines by the
newlines.

``retokenize`` reads each edit's window that way and checks in it what the whole
reading checks in the whole file (a quote never closed, braces, a character no
token starts with, tokens long enough for nginx's limit, what only crossplane's
lexer reads); it gives up (None) wherever a window does not settle so simply, and
the caller then tokenizes the whole text (``nglint.lexer.tokenize``): the answer is
always the tokens ``tokenize`` gives (``tests/test_relex.py`` compares both on
generated texts and edits, and on every fix of the fixtures).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate, pairwise
from operator import attrgetter, itemgetter, sub
from sys import byteorder
from typing import NamedTuple

from nglint.edits import Edit, apply
from nglint.lexer import _MARK, _SLOW_PATH, _TOKEN, _unclosed, brace_depths, columns
from nglint.parameter_limit import NGX_CONF_BUFFER
from nglint.source import Tokens

# the old tokens ``[old_start, old_stop)`` read again as the new ``[new_start, new_stop)``
Window = tuple[int, int, int, int]


class Relexed(NamedTuple):
    """The new text's tokens, and the windows read again, in order: every other old
    token is a new one, moved by what the windows before it added."""

    tokens: Tokens
    windows: list[Window]


def retokenize(before: Tokens, old: str, text: str,
               edits: Sequence[Edit]) -> Relexed | None:
    """The tokens of ``text``, which is ``old`` with ``edits`` made (apart from one
    another: ``nglint.edits.apply``), from ``before``, the tokens of ``old``; None
    when they must be read whole (``tokenize``): ``before`` came from crossplane's
    lexer, a text holds a CR, two edits overlap, ``text`` is not ``old`` so edited,
    or a window does not settle (see the module doc)."""
    made = sorted((e for e in edits if e.start != e.end or e.text),
                  key=attrgetter("start", "end"))
    if not made or not before.fast or not before.values or "\r" in old \
            or any(later.start < earlier.end for earlier, later in pairwise(made)) \
            or apply(old, made) != text:
        return None
    ends = before.ends
    count = len(ends)
    # for each change: where its text starts and ends in ``text``, and how far it and
    # those before it move what follows (characters, lines)
    new_starts: list[int] = []
    new_ends: list[int] = []
    moved: list[tuple[int, int]] = []
    shift = lines = 0
    for edit in made:
        start, end, inserted = edit.start, edit.end, edit.text
        if "\r" in inserted:
            return None
        new_starts.append(start + shift)
        shift += len(inserted) - (end - start)
        lines += inserted.count("\n") - old.count("\n", start, end)
        new_ends.append(end + shift)
        moved.append((shift, lines))
    out = _Columns(before)
    windows: list[Window] = []
    copied = 0  # the old tokens before this one are taken or read again
    shift = lines = 0  # how far the old text after the last window has moved
    counted = newlines = 0  # the newlines of ``old`` before offset ``counted``
    k = 0  # the changes before this one are read
    while k < len(made):
        first = bisect_left(ends, made[k].start, copied)  # the first token it may touch
        boundary = ends[first - 1] if first > 0 else 0
        out.take(copied, first, shift, lines)
        newlines += old.count("\n", counted, boundary)
        counted = boundary
        window = boundary + shift  # in ``text``
        matches: list[str] = []
        position = window
        opened = k  # the window is read past the change that opened it, at least
        last = -1  # the old token whose end the window ends at, once settled
        for found in _TOKEN.finditer(text, window):
            if found.start() != position:
                return None  # a character no token starts with
            position = found.end()
            matches.append(found.group())
            while k < len(made) and new_starts[k] < position:
                k += 1
            if k == opened or new_ends[k - 1] > position:
                continue  # inside a change's text, or before it
            at = position - moved[k - 1][0]  # the same place in ``old``
            if k < len(made) and made[k].start <= at:
                continue  # the next change touches the token that ends here
            candidate = bisect_left(ends, at, first)
            if candidate < count and ends[candidate] == at:
                last = candidate
                break
        else:
            if position != len(text.rstrip()):
                return None  # a character no token starts with
            last = count - 1
            k = len(made)
        read = _read(matches, window, 1 + newlines + lines)
        if read is None or not _settles(before, first, last, read, text, window, position):
            return None
        windows.append((first, last + 1, len(out.values), len(out.values) + len(read)))
        out.add(read)
        copied = last + 1
        shift, lines = moved[k - 1]
    out.take(copied, count, shift, lines)
    tokens = out.tokens()
    if (tokens.ends[-1] if tokens.ends else 0) != len(text.rstrip()):
        return None  # the last token, a comment, takes the blanks that end the file
    return Relexed(tokens, windows)


def _read(matches: list[str], offset: int, line: int) -> Tokens | None:
    """The tokens of a window's matches (starting at ``offset``, on ``line``), or None
    when a quote in them is never closed."""
    written = list(map(str.lstrip, matches))
    firsts = "".join(map(itemgetter(0), written))
    marked = [found.start() for found in _MARK.finditer(firsts)]
    if _unclosed(written, marked) is not None:
        return None
    ends = list(accumulate(map(len, matches), initial=offset))
    del ends[0]
    return columns(matches, written, ends, marked, "".join(matches), line)


def _settles(before: Tokens, first: int, last: int, read: Tokens, text: str, window: int,
             position: int) -> bool:
    """Whether the window ``read`` (``text[window:position]``), taking the place of
    the old tokens ``first`` to ``last``, passes what the whole reading checks: the
    braces open and close as the old ones did (so every depth after it is the same, and
    none in it is lower than before); no token is long enough for nginx's limit to
    matter (``check_parameters`` reads it then); nothing only crossplane's lexer reads
    (``_SLOW_PATH``) is on the window's lines."""
    values, quoted = before.values, before.quoted
    old_firsts = "".join(value[0] for value, flag in zip(values[first:last + 1],
                                                         quoted[first:last + 1], strict=True)
                         if not flag and value in ("{", "}"))
    new_firsts = "".join(value[0] for value, flag in zip(read.values, read.quoted, strict=True)
                         if not flag and value in ("{", "}"))
    old_low, old_net = brace_depths(old_firsts)
    new_low, new_net = brace_depths(new_firsts)
    if new_net != old_net or new_low < old_low:
        return False
    if max(map(sub, read.ends, read.starts), default=0) >= NGX_CONF_BUFFER // 4:
        return False
    line_start = text.rfind("\n", 0, window) + 1
    line_end = text.find("\n", position)
    line_end = len(text) if line_end < 0 else line_end + 1
    return _SLOW_PATH.search(text, line_start, line_end) is None


class _Columns:
    """The new token columns, built from old runs (moved) and windows read again."""

    def __init__(self, before: Tokens) -> None:
        self.before = before
        self.values: list[str] = []
        self.lines = array("i")
        self.quoted = bytearray()
        self.starts = array("i")
        self.ends = array("i")

    def take(self, start: int, stop: int, shift: int, lines: int) -> None:
        """The old tokens ``start`` to ``stop`` (excluded), moved."""
        if start >= stop:
            return
        before = self.before
        self.values += before.values[start:stop]
        self.quoted += before.quoted[start:stop]
        self.lines += _moved(before.lines[start:stop], lines)
        self.starts += _moved(before.starts[start:stop], shift)
        self.ends += _moved(before.ends[start:stop], shift)

    def add(self, read: Tokens) -> None:
        self.values += read.values
        self.quoted += read.quoted
        self.lines += read.lines
        self.starts += read.starts
        self.ends += read.ends

    def tokens(self) -> Tokens:
        tokens = Tokens.of(self.values, self.lines, self.quoted, self.starts, self.ends)
        tokens.fast = True
        return tokens


def _moved(column: array[int], by: int) -> array[int]:
    """``column`` (non-decreasing, non-negative 32-bit integers: offsets or lines) with
    ``by`` added to each, in one step of C: the column's bytes read as one integer,
    each 32-bit lane a value, plus ``by`` in every lane.  No lane carries into the next
    or borrows from it, because every sum stays within 0 and 2**31 (checked at the
    ends, the column being in order).  An element at a time costs 0.1 microseconds,
    and a round moves nearly every token of every edited file."""
    if by == 0 or not column:
        return column
    if column[0] + by < 0 or column[-1] + by >= 2 ** 31:
        raise ValueError("moved out of a 32-bit column")
    ones = int.from_bytes(array("i", (1,)) * len(column), byteorder)
    total = int.from_bytes(column, byteorder) + by * ones
    out = array("i")
    out.frombytes(total.to_bytes(column.itemsize * len(column), byteorder))
    return out
