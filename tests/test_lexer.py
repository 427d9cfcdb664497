"""The fast tokenizer gives exactly crossplane's tokens (values, lines, quoting, spans)."""

from __future__ import annotations

import pytest
from crossplane.errors import NgxParserBaseException
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nglint.lexer import _SLOW_PATH, _fast_tokens, lex
from nglint.source import SourceFile
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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    "server { ", "location ~ \\.php$ { ", "} ", "proxy_set_header X \"a b\"; ",
    "return 200 'it''s'; ", "# note\n", "if ($a) { ", "set $x \"\\\"q\\\"\"; ", "\n",
]), max_size=30).map("".join))
def test_generated_statements(text):
    _compare(text)
