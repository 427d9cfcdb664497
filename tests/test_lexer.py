"""The fast tokenizer gives exactly crossplane's tokens (values, lines, quoting, spans),
and statements are grouped as a token-at-a-time reading groups them."""

from __future__ import annotations

import pytest
from crossplane.errors import NgxParserBaseException
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nglint.errors import NginxSyntaxError
from nglint.lexer import (
    _SLOW_PATH,
    MAX_DEPTH,
    _fast_tokens,
    _may_need_crossplane,
    lex,
    statements,
    tokenize,
)
from nglint.source import SourceFile, Statement
from tests.helpers import FIXTURES, SHARED


def _slow(text: str):
    source = SourceFile.from_bytes("x.conf", text.encode("utf-8", "surrogateescape"))
    try:
        list(lex(source))
    except NgxParserBaseException:
        return None
    return source.tokens


def _compare(text: str) -> None:
    if _SLOW_PATH.search(text):
        return  # tokenize() hands these to crossplane's lexer itself
    fast = _fast_tokens(text)
    slow = _slow(text)
    if fast is None:
        return  # the fast path declined: crossplane's lexer is used, nothing to compare
    assert slow is not None, "fast path accepted text crossplane's lexer rejects"
    assert [(t.value, t.line, t.quoted, t.start, t.end) for t in fast] == \
           [(t.value, t.line, t.quoted, t.start, t.end) for t in slow]


def _files():
    paths = sorted(FIXTURES.rglob("*.conf"))
    corpus = SHARED / "corpus"
    if corpus.exists():
        paths += sorted(corpus.rglob("*.conf"))
    return paths


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name[:50])
def test_real_files(path):
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    _compare(text)


PIECES = st.sampled_from([
    " ", "\t", "\n", "\r\n", "\\", "\\\\", '"', "'", "#", "{", "}", ";", "$", "a", "b",
    "location", "proxy_pass", "~*", "^/x$", "\\.", "\\\"", "\\'", "é", "\x0c", "\u2003",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
@example('"')  # a quote never closed and no quoted token (the column-wise count)
@example("a 'b' \"c")
@example("}{ \"x")  # a brace closes too many before the open quote
def test_generated_text(text):
    _compare(text)
    # tokenize searches _SLOW_PATH only where it may find something
    assert _SLOW_PATH.search(text) is None or _may_need_crossplane(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    "server { ", "location ~ \\.php$ { ", "} ", "proxy_set_header X \"a b\"; ",
    "return 200 'it''s'; ", "# note\n", "if ($a) { ", "set $x \"\\\"q\\\"\"; ", "\n",
]), max_size=30).map("".join))
def test_generated_statements(text):
    _compare(text)


def _reference_statements(source: SourceFile) -> list[Statement]:
    """The grouping as first written, a token at a time: the reference for
    ``statements``, which visits only the tokens that end, open or close something."""
    tokens = source.tokens
    values, lines, quoted = tokens.values, tokens.lines, tokens.quoted
    made: list[Statement] = []

    def new(first: int) -> Statement:
        statement = Statement(tokens, first)
        statement.index = len(made)
        made.append(statement)
        return statement

    root: list[Statement] = []
    stack, open_blocks, index, count = [root], [], 0, len(values)
    while index < count:
        first = index
        value = values[index]
        index += 1
        if not quoted[first]:
            if value == "}":
                if not open_blocks:
                    raise NginxSyntaxError('unexpected "}"', lines[first])
                open_blocks.pop().closing = first
                stack.pop()
                continue
            if value[0] == "#":
                stack[-1].append(new(first))
                continue
            if value in ("{", ";"):
                raise NginxSyntaxError(f'unexpected "{value}"', lines[first])
        statement, comments, stop = new(first), [], -1
        while index < count:
            at = index
            index += 1
            if not quoted[at]:
                if values[at] in ("{", ";", "}"):
                    stop = at
                    break
                if values[at][0] == "#":
                    comments.append(new(at))
        if stop < 0:
            raise NginxSyntaxError('unexpected end of file, expecting ";" or "}"',
                                   lines[first])
        if values[stop] == "}":
            raise NginxSyntaxError('unexpected "}"', lines[stop])
        statement.stop = stop
        stack[-1].append(statement)
        if comments:
            statement.skip = frozenset(c.first for c in comments)
            stack[-1].extend(comments)
        if values[stop] == "{":
            if len(open_blocks) >= MAX_DEPTH:
                raise NginxSyntaxError(f"blocks nested deeper than {MAX_DEPTH} levels",
                                       lines[stop])
            open_blocks.append(statement)
            statement.children = []
            stack.append(statement.children)
    if open_blocks:
        raise NginxSyntaxError('unexpected end of file, expecting "}"',
                               open_blocks[-1].directive.line)
    return root


def _grouped(group, text: str):
    """What ``group`` makes of ``text``: its statements' columns, or its error."""
    source = SourceFile.from_bytes("x.conf", text.encode("utf-8", "surrogateescape"))
    try:
        tokenize(source)
    except (NgxParserBaseException, NginxSyntaxError):
        return "not tokenized"

    def shape(found: list[Statement]) -> list[tuple]:
        return [(s.first, s.stop, s.closing, s.skip, s.index, shape(list(s.children)))
                for s in found]
    try:
        return shape(group(source))
    except NginxSyntaxError as error:
        return (error.message, error.line)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([
    "server", " { ", "location", " ~ ", "\\.php$", " } ", "}", "{", ";", " ; ", "a", " b",
    '"x y"', '";"', '"{"', '"#q"', "'}'", "# note\n", "#c\n", "\n", " ", "if ($a)",
    "return 200", "'#'", "set $x \"\\\"q\\\"\"",
]), max_size=40).map("".join))
@example("a #c\n b;")  # a comment among the arguments, before the statement is known
@example("a #c\n")  # ... and the statement never ended
@example("# only\n")
@example("} a;")
def test_statements_group_as_the_reference(text: str) -> None:
    assert _grouped(statements, text) == _grouped(_reference_statements, text)


def test_statements_group_deep_blocks_as_the_reference() -> None:
    for depth in (MAX_DEPTH, MAX_DEPTH + 1):
        text = "a {" * depth + "}" * depth
        assert _grouped(statements, text) == _grouped(_reference_statements, text)
