"""Parsing an edited file again only around its edits (``--fix`` rounds).

After ``nglint.relex`` has read the edited text's tokens, most of the file's
top-level statements (in a ``conf.d`` file, its server blocks) are the old ones:
the same tokens, moved.  A top-level statement is parsed on its own tokens alone
(crossplane's parser with its context checks off reads a block the same wherever it
stands, and ``nglint.lexer.group`` groups tokens the same way), so the statements no
window touches are the old ones, copied with their token indices and lines moved,
and only the statements a window touches are grouped and parsed again, together.
What is parsed again passes the checks a whole parse makes (crossplane's errors,
``_aligned``, template placeholders); anything else gives None, and the caller parses
the whole file (``nglint.load.parse_tokens``).  ``tests/test_reparse.py`` compares
the result with a whole parse on generated edits and on every fixture's fixes.

Sources: crossplane ``parser.py`` (``_parse``: a statement's dict is built from its
own tokens; ``line`` is its directive's), nginx ``ngx_conf_file.c`` (a block ends
at its ``}``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from nglint.errors import NginxSyntaxError
from nglint.lexer import group
from nglint.load import (
    _MAY_HOLD_PLACEHOLDER,
    ParsedFile,
    _aligned,
    _placeholder,
    crossplane_parse,
)
from nglint.relex import Window
from nglint.source import SourceFile, Spans, Statement, Tokens


def reparse(source: SourceFile, before: ParsedFile,
            windows: Sequence[Window]) -> ParsedFile | None:
    """The parse of ``source``, whose tokens are ``before``'s with ``windows`` read
    again (``nglint.relex.Relexed``), or None where it must be parsed whole:
    ``before`` has no aligned statements, or what is parsed again does not parse on
    its own.

    The parse takes ``before``'s over: once every window has parsed, the statements
    and payload no window touched are moved in place (their token indices, their
    lines) into the new parse, and ``before`` is left empty (``--fix`` replaces the
    parse of a file it edits: nothing reads the old one again)."""
    old_tree, old_made = before.statements, before.made
    if before.error is not None or old_tree is None or old_made is None or not old_tree \
            or len(old_tree) != len(before.ast) or not windows:
        return None
    units = _units(old_tree)
    dirty = _dirty(units, windows, len(before.source.tokens.values))
    may_hold = _MAY_HOLD_PLACEHOLDER.search(source.text) is not None
    parsed_again = []
    for first_unit, last_unit in dirty:
        again = _parse_again(source, _new_index(units[first_unit][0], windows),
                             _new_index(units[last_unit][1] + 1, windows), may_hold)
        if again is None:
            return None
        parsed_again.append(again)
    taken = _Taken(before, source.tokens, windows)
    done = 0  # the units before this one are taken
    for (first_unit, last_unit), (tree, made, ast) in zip(dirty, parsed_again, strict=True):
        for unit in units[done:first_unit]:
            taken.move(unit)
        taken.tree += tree
        taken.made += made
        taken.ast += ast
        done = last_unit + 1
    for unit in units[done:]:
        taken.move(unit)
    for index, statement in enumerate(taken.made):
        statement.index = index
    source.tokens.spans = Spans(taken.made)
    before.ast, before.statements, before.made = [], None, None
    source.drop_raw()
    return ParsedFile(source, taken.ast, taken.tree, made=taken.made)


class _Taken:
    """The new parse, built from the windows' parses and the old units, moved."""

    def __init__(self, before: ParsedFile, tokens: Tokens, windows: Sequence[Window]) -> None:
        assert before.statements is not None and before.made is not None
        self.old_tree, self.old_made, self.old_ast = before.statements, before.made, \
            before.ast
        self.old_lines = before.source.tokens.lines
        self.tokens = tokens
        self.windows = windows
        self.tree: list[Statement] = []
        self.made: list[Statement] = []
        self.ast: list[dict] = []

    def move(self, unit: _Unit) -> None:
        """A unit no window touched: its statements and payload, moved in place."""
        first, _, top, last_top = unit
        moved = _new_index(first, self.windows) - first
        lines = self.tokens.lines[first + moved] - self.old_lines[first]
        # its statements are the old ones numbered from its first top-level one's to
        # the next unit's (numbers follow first tokens; a unit's tokens are contiguous)
        low = self.old_tree[top].index
        high = self.old_tree[last_top + 1].index if last_top + 1 < len(self.old_tree) \
            else len(self.old_made)
        statements = self.old_made[low:high]
        tokens = self.tokens
        for statement in statements:
            statement.tokens = tokens
            if moved:
                statement.first += moved
                if statement.stop >= 0:
                    statement.stop += moved
                if statement.closing >= 0:
                    statement.closing += moved
                if statement.skip is not None:
                    statement.skip = frozenset(index + moved for index in statement.skip)
        self.made += statements
        self.tree += self.old_tree[top:last_top + 1]
        items = self.old_ast[top:last_top + 1]
        if lines:
            stack = list(items)
            while stack:
                item = stack.pop()
                item["line"] += lines
                block = item.get("block")
                if block:
                    stack += block
        self.ast += items


# (first token, last token, first top-level statement, last one): statements a top-level
# statement's tokens hold (a comment written between its arguments is its own
# top-level statement, listed after it)
_Unit = tuple[int, int, int, int]


def _units(tree: list[Statement]) -> list[_Unit]:
    """The file's top-level statements, grouped where their tokens interleave."""
    units: list[_Unit] = []
    for index, statement in enumerate(tree):
        end = statement.closing if statement.closing >= 0 else \
            statement.stop if statement.stop >= 0 else statement.first
        if units and statement.first <= units[-1][1]:
            first, last, top, _ = units[-1]
            units[-1] = (first, max(last, end), top, index)
        else:
            units.append((statement.first, end, index, index))
    return units


def _dirty(units: list[_Unit], windows: Sequence[Window], count: int) -> list[tuple[int, int]]:
    """The runs of units (first, last) a window touches: one holds a token it read
    again (every token is a unit's); an insertion after the last token touches the
    last unit."""
    starts = [unit[0] for unit in units]
    runs: list[tuple[int, int]] = []
    for old_start, old_stop, _, _ in windows:
        if old_start >= count:
            first = last = len(units) - 1
        else:
            first = bisect_right(starts, old_start) - 1
            last = bisect_right(starts, old_stop - 1) - 1
        if runs and first <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], last))
        else:
            runs.append((first, last))
    return runs


def _new_index(index: int, windows: Sequence[Window]) -> int:
    """Where old token ``index``, outside every window (or the end of one), is now."""
    shift = 0
    for old_start, old_stop, new_start, new_stop in windows:
        if old_stop > index:
            break
        shift += (new_stop - new_start) - (old_stop - old_start)
    return index + shift


def _parse_again(source: SourceFile, start: int, stop: int,
                 may_hold: bool) -> tuple[list[Statement], list[Statement], list[dict]] | None:
    """The top-level statements of tokens ``start`` to ``stop`` and crossplane's
    payload for them, or None when they do not parse as a whole parse would
    (``may_hold``: the text may hold a template placeholder)."""
    tokens = source.tokens
    try:
        tree, made = group(tokens, start, stop)
    except NginxSyntaxError:
        return None
    config = crossplane_parse(
        zip(tokens.values[start:stop], tokens.lines[start:stop],
            map(bool, tokens.quoted[start:stop]), strict=True), source.path, True)
    if config["errors"]:
        return None
    ast = config["parsed"]
    if not _aligned(ast, tree, tokens):
        return None
    if may_hold and _placeholder(tree) is not None:
        return None
    return tree, made, ast
