"""Minimal text edits on configuration files, computed from exact token spans.

Every fix is a list of ``Edit``s: replace ``[start, end)`` of one file's text
with new text.  Nothing else in the file changes: inserted lines copy the
indentation of their neighbours and the file's newline style, stay inside their
block even when it is written on one line, and go after an inline comment
rather than between a directive and its comment.  New statements are rendered
with crossplane's builder (correct quoting); the user's own text is never
re-rendered.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

import crossplane

from nglint.source import SourceFile
from nglint.tree import Node


class EditError(Exception):
    """The edit cannot be made safely; the message says why."""


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` (character offsets) of the file at real path
    ``path`` with ``text``; ``start == end`` is an insertion.  Edits order by file and
    position."""

    path: str  # real path of the file
    start: int
    end: int
    text: str
    # where a later round would make an insertion if text were inserted at the same
    # point before it (``--fix`` orders two insertions at one point in one round by
    # this, as two rounds would have): ``tail``, after that text (after a block's last
    # statement, before an argument); else right after ``anchor``, the directive it
    # follows (after the last such statement, which that text may hold), or first in
    # the block when there is none
    tail: bool = field(default=False, compare=False)
    anchor: str = field(default="", compare=False)
    # may share its point with another insertion of the round (the builders that say
    # where a later round would put it); an edit made elsewhere waits for its round
    joins: bool = field(default=False, compare=False)


class Fix(NamedTuple):
    """The edits that resolve one finding."""

    description: str
    edits: tuple[Edit, ...]
    unsafe: bool = False


class Edits(list[Edit]):
    """A builder's edits with ``notes``: what a fix does beyond its description
    (headers it copied, and from where), kept when edits are concatenated."""

    def __init__(self, edits: Sequence[Edit] = (), notes: Sequence[str] = ()) -> None:
        super().__init__(edits)
        self.notes = list(notes)

    def __add__(self, other: Sequence[Edit]) -> Edits:  # type: ignore[override]
        return Edits([*self, *other], [*self.notes, *getattr(other, "notes", ())])

    def __radd__(self, other: Sequence[Edit]) -> Edits:
        return Edits([*other, *self], [*getattr(other, "notes", ()), *self.notes])


def render(directive: str, args: Sequence[str]) -> str:
    """One statement as nginx text, quoted where needed (crossplane's builder)."""
    return _render(directive, tuple(args))


@lru_cache(maxsize=4096)
def _render(directive: str, args: tuple[str, ...]) -> str:
    # a tree's fixes write the same few statements hundreds of times
    return crossplane.build([{"directive": directive, "args": list(args)}]).strip()


def _source(node: Node) -> SourceFile:
    if node.source is None:
        raise EditError("the block is implied by the fragment's context, not written")
    if not node.spanned:
        raise EditError(f"{node.path}: token spans do not align with crossplane's tree; "
                        "not editing this file")
    return node.source


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    """Offset of the newline (or CRLF) that ends the line holding ``offset``."""
    end = text.find("\n", offset)
    if end == -1:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _indent_at(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    stop = start
    while stop < len(text) and text[stop] in " \t":
        stop += 1
    return text[start:stop]


def _starts_line(text: str, offset: int) -> bool:
    return text[_line_start(text, offset):offset].strip() == ""


def own_statements(block: Node) -> list[Node]:
    """Directives written in the block's own file (not brought in by an include)."""
    return list(_own(block))


def _own(block: Node) -> Iterator[Node]:
    """``own_statements`` lazily: an http block may hold thousands of servers and the
    callers that want the first one stop there."""
    return (child for child in block.children or ()
            if child.source is block.source and child.via is block.via
            and child.spanned and not child.is_comment)


def opens_line(node: Node) -> bool:
    """Nothing but blanks before the statement on its line."""
    return node.spanned and node.source is not None and _starts_line(
        node.source.text, node.written().start)


def indent_unit(block: Node) -> str:
    """One level of indentation as the block's file writes it (a tab, four spaces...).

    Measured between a block's line and its first statement on a line of its own
    (this block first, then the blocks below it in the same file); when none shows
    it, a tab if the file indents with tabs, else four spaces.
    """
    source = block.source or next((n.source for n in block.walk() if n.source), None)
    if source is None:
        return "    "
    for node in block.walk():
        if node.source is not source or not node.is_block or not opens_line(node):
            continue
        outer = _indent_at(source.text, node.written().start)
        child = next((c for c in _own(node) if opens_line(c)), None)
        if child is not None:
            inner = _indent_at(source.text, child.written().start)
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer):]
    return "\t" if "\n\t" in source.text else "    "


def child_indent(block: Node) -> str:
    source = _source(block)
    text = source.text
    for child in _own(block):
        start = child.written().start
        if _starts_line(text, start):
            return _indent_at(text, start)
    return _indent_at(text, block.written().start) + indent_unit(block)


def _after(source: SourceFile, offset: int) -> tuple[int, bool]:
    """Where to insert after a statement ending at ``offset``, and whether on a new line.

    When only blanks or a comment follow on the line, the new line goes after the
    comment (it belongs to the statement); otherwise the block is written on one
    line and the new statement goes right after, on the same line.
    """
    text = source.text
    end = _line_end(text, offset)
    rest = text[offset:end].strip()
    if rest == "" or rest.startswith("#"):
        return end, True
    return offset, False


def _insertion_point(block: Node, after: Node | None, first: bool) -> tuple[SourceFile, int,
                                                                             bool]:
    source = _source(block)
    anchor = after
    if anchor is None and not first:  # the last own statement (an http block may hold
        anchor = next((child for child in reversed(block.children or ())  # thousands)
                       if child.source is block.source and child.via is block.via
                       and child.spanned and not child.is_comment), None)
    if anchor is not None:
        if anchor.source is not source or not anchor.spanned:
            raise EditError("the anchor statement is in another file")
        offset, new_line = _after(source, anchor.written().end)
    else:
        opener = block.statement.terminator  # type: ignore[union-attr]
        offset, new_line = _after(source, opener.end)  # type: ignore[union-attr]
    return source, offset, new_line


def insert_statements(block: Node, statements: Sequence[str],
                      after: Node | None = None, first: bool = False) -> Edit:
    """Insert whole statements into ``block`` after ``after`` (default: its last one,
    or with ``first`` right after the line that opens the block)."""
    source, offset, new_line = _insertion_point(block, after, first)
    if new_line:
        indent = child_indent(block)
        body = "".join(source.newline + indent + s for s in statements)
    else:
        body = "".join(" " + s for s in statements)
        if source.text[offset:offset + 1] == "}":
            body += " "  # an empty one-line block: {} becomes { statement; }
    return Edit(source.realpath(), offset, offset, body, tail=after is None and not first,
                anchor=after.directive if after is not None else "", joins=True)


def block_lines(header: str, body: Sequence[str], unit: str) -> list[str]:
    """A block statement as lines, its body indented by ``unit``."""
    return [header + " {", *(unit + line for line in body), "}"]


def insert_block(block: Node, header: str, body: Sequence[str], first: bool = False,
                 after: Node | None = None) -> Edit:
    """Insert the block statement ``header { body }`` into ``block`` (see insert_statements).

    On its own lines, indented as the file indents; on the block's line when the
    block is written on one line.
    """
    source, offset, new_line = _insertion_point(block, after, first)
    if not new_line:  # one line: the blanks that align the body's values go
        inline = " ".join(re.sub(r"^(\S+)\s+", r"\1 ", line) for line in body)
        return Edit(source.realpath(), offset, offset, f" {header} {{ {inline} }}",
                    tail=after is None and not first,
                    anchor=after.directive if after is not None else "", joins=True)
    indent = child_indent(block)
    lines = block_lines(header, body, indent_unit(block))
    return Edit(source.realpath(), offset, offset,
                "".join(source.newline + indent + line for line in lines),
                tail=after is None and not first,
                anchor=after.directive if after is not None else "", joins=True)


def insert_before(node: Node, lines: Sequence[str]) -> Edit:
    """Insert whole lines before the line holding ``node`` (same indentation; an empty
    string is an empty line)."""
    source = _source(node)
    text = source.text
    start = node.written().start
    if not _starts_line(text, start):
        raise EditError("the statement does not start its own line")
    indent = _indent_at(text, start)
    line_start = _line_start(text, start)
    body = "".join((indent + line if line else "") + source.newline for line in lines)
    return Edit(source.realpath(), line_start, line_start, body)


def follows_blank_line(node: Node) -> bool:
    """The statement starts the file or comes after an empty line."""
    text = _source(node).text
    start = _line_start(text, node.written().start)
    if start == 0:
        return True
    previous = _line_start(text, start - 1)
    return text[previous:start].strip() == ""


def replace_args(node: Node, args: Sequence[str]) -> Edit:
    """Replace a directive's arguments, keeping the directive name and terminator."""
    source = _source(node)
    span = node.statement
    assert span is not None
    rendered = render(node.directive, args)[len(node.directive):].rstrip(";").strip()
    if span.args:
        return Edit(source.realpath(), span.args[0].start, span.args[-1].end, rendered)
    offset = span.directive.end
    return Edit(source.realpath(), offset, offset, " " + rendered)


def _render_arg(value: str) -> str:
    return render("x", [value])[2:].rstrip(";").strip()


def replace_arg(node: Node, index: int, value: str) -> Edit:
    source = _source(node)
    span = node.statement
    assert span is not None
    token = span.args[index]
    return Edit(source.realpath(), token.start, token.end, _render_arg(value))


def insert_arg(node: Node, index: int, value: str) -> Edit:
    """Insert an argument before the ``index``-th one (``location ^~ /x/``)."""
    source = _source(node)
    span = node.statement
    assert span is not None
    token = span.args[index]
    return Edit(source.realpath(), token.start, token.start, _render_arg(value) + " ",
                tail=True, joins=True)


def statement_text(node: Node) -> str:
    """A statement as its author wrote it, when it is on one line; else rendered."""
    if node.source is not None and node.spanned:
        span = node.written()
        end = (span.terminator or (span.args[-1] if span.args else span.directive)).end
        written = node.source.text[span.start:end]
        if "\n" not in written and "\r" not in written:
            return written
    return render(node.directive, node.args)


def remove_statement(node: Node) -> Edit:
    """Delete a statement; its whole line when it stands alone on it."""
    source = _source(node)
    text = source.text
    span = node.statement
    assert span is not None
    start, end = span.start, span.end
    line_start = _line_start(text, start)
    line_end = _line_end(text, end)
    if text[line_start:start].strip() == "" and text[end:line_end].strip() == "":
        newline_end = text.find("\n", line_end)
        return Edit(source.realpath(), line_start,
                    len(text) if newline_end == -1 else newline_end + 1, "")
    return Edit(source.realpath(), start, end, "")


def apply(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits of one file.  Insertions at one point are written in
    the order given (the first given comes first in the text)."""
    pieces: list[str] = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        pieces.append(text[position:edit.start])
        pieces.append(edit.text)
        position = max(position, edit.end)
    pieces.append(text[position:])
    return "".join(pieces)


def overlaps(a: Edit, b: Edit) -> bool:
    if a.path != b.path:
        return False
    if a.start == a.end == b.start == b.end:
        return True  # two insertions at one point: their order would be arbitrary
    return a.start < b.end and b.start < a.end


def shifted(offset: int, edits: Sequence[Edit]) -> int:
    """Where ``offset`` of a text is once ``edits`` (of that text) are applied: text
    inserted or replaced before it moves it; a span it was in leaves it at the start."""
    moved = offset
    for edit in edits:
        if edit.end <= offset:
            moved += len(edit.text) - (edit.end - edit.start)
        elif edit.start < offset:
            moved -= offset - edit.start
    return moved


def shifter(edits: Sequence[Edit]) -> Callable[[int], int]:
    """``shifted(offset, edits)`` as a function of the offset, answering in O(log n)
    for edits that do not overlap (what ``apply`` takes): many offsets of one file are
    moved through the same edits (every finding a fix round fixed)."""
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end))
    ends = [edit.end for edit in ordered]
    if any(later.start < earlier.end for earlier, later in pairwise(ordered)):
        return lambda offset: shifted(offset, edits)  # overlapping: the plain loop
    deltas = [0]
    for edit in ordered:
        deltas.append(deltas[-1] + len(edit.text) - (edit.end - edit.start))

    def move(offset: int) -> int:
        done = bisect_right(ends, offset)  # the edits that end at or before it
        moved = offset + deltas[done]
        if done < len(ordered) and ordered[done].start < offset:
            moved -= offset - ordered[done].start  # inside a replaced span: its start
        return moved

    return move
