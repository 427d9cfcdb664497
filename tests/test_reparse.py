"""Parsing an edited file again around its edits (``nglint.reparse``) gives what
parsing it whole gives (crossplane's payload, the statements with their token
indices, lines and numbers, the spans), or declines: on generated texts and
edits, and on every fix ``--fix`` makes to the fixtures."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from nglint import load
from nglint.load import Edited, ParsedFile, parse_file
from nglint.source import SourceFile, Statement
from tests.edit_helpers import as_edits, change_cases, edited
from tests.fix_helpers import fix_paths
from tests.helpers import FIXTURES


def _statement(statement: Statement, parsed: ParsedFile) -> tuple:
    assert statement.tokens is parsed.source.tokens
    children = statement.children
    return (statement.first, statement.stop, statement.closing,
            sorted(statement.skip) if statement.skip is not None else None,
            statement.index,
            [_statement(child, parsed) for child in children]
            if isinstance(children, list) else None)


def _shape(parsed: ParsedFile) -> tuple:
    """Everything the loader and the rules read of a parse."""
    spans = parsed.source.tokens.spans
    return (
        parsed.error, parsed.ast,
        None if parsed.statements is None else
        [_statement(statement, parsed) for statement in parsed.statements],
        None if parsed.made is None else [statement.first for statement in parsed.made],
        None if spans is None else (list(spans.first), list(spans.stop), list(spans.closing),
                                    spans.skip),
    )


def _whole(path: str, text: str) -> ParsedFile:
    return parse_file(SourceFile.from_bytes(path, text.encode("utf-8", "surrogateescape")))


def _check(old: str, changes: list[tuple[int, int, str]]) -> bool:
    """Whether the edited text was parsed again around the edits (it is compared with
    the whole parse either way)."""
    before = _whole("x.conf", old)
    if before.error is not None or before.statements is None:
        return False
    new = edited(old, changes)
    again = parse_file(SourceFile.from_bytes("x.conf", new.encode("utf-8", "surrogateescape")),
                       Edited(before.source, as_edits(changes), before))
    assert _shape(again) == _shape(_whole("x.conf", new))
    return before.statements is None  # taken over: it was parsed around the edits


UNITS = [
    "server {\n    listen 80;\n    location / {\n        return 204;\n    }\n}\n",
    "map $a $b {\n    default 1;\n    ~x 2;\n}\n", "# note\n", "user www;\n",
    "upstream u { server 127.0.0.1:1; }\n", "if ($a) { return 403; }\n",
    "location /x # why\n { proxy_pass http://u; }\n", "add_header X \"a; b\";\n",
    "events {}\n", "http {\n    server { listen 81; }\n}\n",
]
INSERTS = st.sampled_from([
    *UNITS, "    proxy_http_version 1.1;\n", "}", "{", "x y", "'", "# c\n", "\n", " z;",
    "location /y/ { return 200 '{{ x }}'; }\n", "a ${b};\n", ";",
])


_changes = change_cases(st.lists(st.sampled_from(UNITS), min_size=1, max_size=12).map("".join),
                   INSERTS, 3, min_points=1)


@settings(max_examples=1500, deadline=None)
@given(_changes)
@example(("user www;\nevents {}\n", [(10, 10, "    proxy_http_version 1.1;\n")]))
@example(("events {}\n# note\n", [(18, 18, "user www;\n")]))  # an insertion at the end
@example(("location /x # why\n { proxy_pass http://u; }\nuser a;\n",
          [(44, 44, "user b;\n")]))  # a comment between arguments, moved
def test_parsed_again_is_the_whole_parse(case):
    old, changes = case
    _check(old, changes)


def test_edits_of_some_servers_parse_only_those_again():
    old = "".join(UNITS[0].replace("80", str(8000 + n)) for n in range(30))
    at = [i for i in range(len(old)) if old.startswith("        return 204;\n", i)]
    changes = [(p, p, "        proxy_http_version 1.1;\n") for p in at[::4]]
    assert _check(old, changes)


def test_a_parse_that_is_not_aligned_is_parsed_whole():
    before = _whole("x.conf", "user www;\n")
    before.statements = before.made = None
    again = parse_file(SourceFile.from_bytes("x.conf", b"user www;\nuser b;\n"),
                       Edited(before.source, as_edits([(10, 10, "user b;\n")]), before))
    assert _shape(again) == _shape(_whole("x.conf", "user www;\nuser b;\n"))


def test_every_fix_of_the_fixtures_parses_as_the_whole(monkeypatch):
    """``--fix`` over every fixture folder: each file a round edits and parses again
    around the edits gives what parsing it whole gives."""
    from nglint import reparse as module

    compared = []
    real = module.reparse

    def checked(source, before, windows):  # type: ignore[no-untyped-def]
        text = source.text
        again = real(source, before, windows)
        if again is not None:
            assert _shape(again) == _shape(_whole(source.path, text))
            compared.append(source.path)
        return again

    monkeypatch.setattr(module, "reparse", checked)
    assert load.parse_file  # the loader imports reparse at call time
    for folder in ("rules", "apps", "layouts"):
        fix_paths([FIXTURES / folder], unsafe=True)
    assert len(compared) > 20
