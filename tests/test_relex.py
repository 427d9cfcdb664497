"""Reading an edited file's tokens again around its edits (``nglint.relex``) gives
the tokens reading the whole text gives, or declines: on generated texts and edits,
on every fix ``--fix`` makes to the fixtures, and on the edits it must not decline."""

from __future__ import annotations

import random
from array import array

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nglint import load
from nglint.errors import NginxSyntaxError
from nglint.lexer import _SLOW_PATH, _fast_tokens
from nglint.parameter_limit import check_parameters
from nglint.relex import _moved, retokenize
from nglint.source import Tokens
from tests.edit_helpers import as_edits, change_cases, edited
from tests.fix_helpers import fix_paths
from tests.helpers import FIXTURES

PIECES = [
    " ", "\t", "\n", "\\", '"', "'", "#", "{", "}", ";", "$", "a", "b", "é", "\x0c",
    "location", "proxy_pass", "~*", "\\.", "\\\"", "\\\n", "${", "_by_lua_block", "\r",
    "server { ", "} ", "listen 80; ", "add_header X \"a b\";\n", "# note\n", "'q' ",
    "if ($a) { ", "set $x \"\\\"q\\\"\"; ", "location /api/ {\n  proxy_pass http://b;\n}\n",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


def _columns(tokens: Tokens) -> tuple:
    return (tokens.values, list(tokens.lines), bytes(tokens.quoted), list(tokens.starts),
            list(tokens.ends))


def _whole(text: str) -> Tokens | None:
    """The tokens ``tokenize`` gives on its own path, or None when it would read the
    text with crossplane's lexer or refuse it."""
    if _SLOW_PATH.search(text):
        return None
    try:
        tokens = _fast_tokens(text)
        if tokens is not None:
            check_parameters(text, tokens)
    except NginxSyntaxError:
        return None
    return tokens


def _check(old: str, changes: list[tuple[int, int, str]]) -> Tokens | None:
    before = _whole(old)
    if before is None:
        return None
    new = edited(old, changes)
    relexed = retokenize(before, old, new, as_edits(changes))
    whole = _whole(new)
    if relexed is None:
        return None
    again = relexed.tokens
    assert whole is not None, "read again where the whole text is not read so"
    assert _columns(again) == _columns(whole)
    assert again.fast
    moved = 0  # every token outside the windows is an old one, moved
    taken = 0
    for old_start, old_stop, new_start, new_stop in relexed.windows:
        assert old_start >= taken and new_start == old_start + moved
        assert again.values[taken + moved:new_start] == before.values[taken:old_start]
        moved += (new_stop - new_start) - (old_stop - old_start)
        taken = old_stop
    assert again.values[taken + moved:] == before.values[taken:]
    return again


_changes = change_cases(TEXTS, TEXTS, 6, max_points=8)


@settings(max_examples=2500, deadline=None)
@given(_changes)
@example(("a b;", [(1, 1, "c")]))  # a word extended where it ends
@example(("a b;\nc d;", [(4, 4, "#")]))  # a comment swallows the rest of a line
@example(("a 'b';", [(2, 2, "'")]))  # a quote that closes differently
@example(("a { b; }", [(4, 4, "} {")]))  # braces that dip within the window
@example(("a b;  ", [(6, 6, "c;")]))  # at the very end, after the blanks
@example(("a b;", [(0, 4, "")]))  # everything deleted
@example(("a; # note\n", [(5, 9, "")]))  # the last token, a comment, ends in a blank
def test_read_again_is_the_whole_reading(case):
    old, changes = case
    _check(old, changes)


STATEMENTS = st.lists(st.sampled_from([
    "server {\n    listen 80;\n}\n", "location ~ \\.php$ { return 204; }\n",
    "proxy_set_header X \"a b\";\n", "return 200 'it''s'; ", "# note\n", "\n",
    "if ($a) { set $x \"\\\"q\\\"\"; }\n", "listen 80;\n", "  ", "a\\\nb; ", "}", "{",
    "location /x/ {\n  proxy_pass http://b; # why\n}\n", "map $a $b { default 1; }\n",
]), max_size=25).map("".join)


# texts that mostly parse, edited with statements and with stray characters
_statement_changes = change_cases(STATEMENTS, st.one_of(STATEMENTS, TEXTS), 3)


@settings(max_examples=2500, deadline=None)
@given(_statement_changes)
def test_statements_edited_read_again_as_the_whole(case):
    old, changes = case
    _check(old, changes)


def test_settles_on_the_edits_fixes_make():
    old = ("server {\n    listen 80;\n    location /api/kernels/ {\n"
           "        proxy_pass http://127.0.0.1:8888;\n    }\n}\n")
    at = old.index("    }\n")
    changes = [(at, at, "        proxy_http_version 1.1;\n"),
               (at, at, '        proxy_set_header Upgrade $http_upgrade;\n'),
               (old.index("    listen"), old.index("    listen"), "    # added\n")]
    assert _check(old, changes) is not None


def test_declines_what_crossplane_lexer_reads():
    old = "a b;\nc d;\n"
    assert _check(old, [(5, 5, "x ${y};\n")]) is None
    assert _check(old, [(5, 5, "content_by_lua_block { }\n")]) is None
    assert _check("a b;\r\n", [(0, 0, "c;")]) is None
    assert _check(old, [(5, 5, "x '")]) is None  # a quote never closed


def test_declines_edits_that_overlap_or_do_not_make_the_text():
    old = "a b;\nc d;\n"
    before = _fast_tokens(old)
    assert before is not None
    overlapping = as_edits([(0, 3, "x"), (2, 4, "y")])
    assert retokenize(before, old, "xy\nc d;\n", overlapping) is None
    assert retokenize(before, old, "a z;\nc d;\n", as_edits([(2, 3, "b")])) is None


def test_many_random_edits_of_a_large_file_read_as_the_whole():
    rng = random.Random(7)
    block = ("server {{\n    listen {port};\n    server_name s{port}.example;\n"
             "    location /x/ {{\n        proxy_pass http://127.0.0.1:{port};\n"
             "        add_header X-A \"v {port}\";  # note\n    }}\n}}\n")
    old = "".join(block.format(port=8000 + i) for i in range(300))
    for _ in range(20):
        lines = [i for i, c in enumerate(old) if c == "\n"]
        points = sorted(rng.sample(lines, 15))
        changes = [(p + 1, p + 1, rng.choice(["    gzip on;\n", "#c\n", "  x 'a b' c;\n",
                                              "location /y/ { return 204; }\n"]))
                   for p in points]
        assert _check(old, changes) is not None
        old = edited(old, changes)


def test_every_fix_of_the_fixtures_reads_as_the_whole(monkeypatch):
    """``--fix`` over every fixture folder: each file a round edits is read again
    around the edits, and the tokens are those of the whole reading."""
    compared = []
    real = load.retokenize

    def checked(before, old, text, changes):  # type: ignore[no-untyped-def]
        relexed = real(before, old, text, changes)
        if relexed is not None:
            whole = _whole(text)
            assert whole is not None and _columns(relexed.tokens) == _columns(whole)
            compared.append(text)
        return relexed

    monkeypatch.setattr(load, "retokenize", checked)
    for folder in ("rules", "apps", "layouts"):
        fix_paths([FIXTURES / folder], unsafe=True)
    assert len(compared) > 20


def test_moved_adds_to_every_element_in_one_step():
    column = array("i", [0, 1, 5, 5, 2 ** 30])
    assert _moved(column, 7) == array("i", [7, 8, 12, 12, 2 ** 30 + 7])
    assert _moved(array("i", [3, 9, 12]), -3) == array("i", [0, 6, 9])
    assert _moved(column, 0) is column
    assert _moved(array("i"), 5) == array("i")
    with pytest.raises(ValueError):
        _moved(array("i", [2, 3]), -3)
    with pytest.raises(ValueError):
        _moved(array("i", [2 ** 31 - 2]), 5)
