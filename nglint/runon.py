"""Run-on statements: a directive whose ``;`` (or arguments) is missing reads the next line.

nginx reads a statement up to its ``;`` or ``{`` whatever the lines
(``ngx_conf_read_token`` in ``src/core/ngx_conf_file.c`` treats a newline as
any blank).  So ``proxy_set_header`` left without its arguments, followed by
``proxy_http_version 1.1;``, is one statement: a header named
``proxy_http_version`` with the value ``1.1``, which nginx accepts, and the
HTTP version line the reader sees is not a directive at all.

A statement runs on when an argument that opens a later line is written as an
unquoted directive name nginx knows (``directives.table()``, every module nglint
knows).  Arguments spread over lines are common (``log_format`` strings,
``server_name`` lists), but none of them starts a line with a directive name.
"""

from __future__ import annotations

from functools import lru_cache

from nglint import directives
from nglint.source import Token
from nglint.tree import Node, Tree


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    return frozenset(directives.table())


def run_on(node: Node) -> Token | None:
    """The argument token of ``node`` that is really the next statement, or None.

    Only statements written in a file (not synthetic ones) and only their own
    arguments are read; comments never run on.
    """
    if node.span is None or node.source is None or node.is_comment:
        return None
    tokens = node.source.tokens
    spans = tokens.spans
    if spans is None:
        return None
    stop = spans.stop[node.span]
    if stop < 0:
        return None
    line = tokens.lines[spans.first[node.span]]
    if tokens.lines[stop] == line:
        return None  # the whole statement is on one line: nothing to swallow (asked of
        # every node: read from the columns, without building its Statement)
    span = node.statement
    assert span is not None
    names = _names()
    for token in span.args:
        if token.line != line and not token.quoted and token.value in names:
            return token
        line = token.line
    return None


def run_ons(tree: Tree) -> list[tuple[Node, Token]]:
    """Every run-on statement of the tree with the token that opens the swallowed line,
    in document order (a file included twice is listed per include site).  Found once
    per tree: NG017 reports them and the engine withholds fixes around them."""
    def find() -> list[tuple[Node, Token]]:
        found = []
        for node in tree.nodes:
            token = run_on(node)
            if token is not None:
                found.append((node, token))
        return found

    return tree.memo("run_ons", find)


def unclear_spans(tree: Tree) -> dict[str, list[tuple[int, int]]]:
    """By real path: the text spans of the blocks holding a run-on statement.

    What such a block means is unclear (the swallowed line may have been meant as
    the directive a fix would add), so no fix edits inside one.  A run-on statement
    at a file's top level makes the whole file unclear.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for node, _ in run_ons(tree):
        source = node.source
        if source is None:
            continue
        block = node.parent
        if block is not None and block.spanned and block.source is source:
            written = block.written()
            spans.setdefault(source.realpath(), []).append((written.start, written.end))
        else:
            spans.setdefault(source.realpath(), []).append((0, len(source.text)))
    return spans
