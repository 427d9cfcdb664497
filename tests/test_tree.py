"""The Config tree: exact spans, links, comments; agreement with crossplane; JSON shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import crossplane
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nglint.load import Loader
from nglint.source import Token
from nglint.tree import Node, Tree

TRICKY = (
    "# top comment\r\n"
    "events {}\r\n"
    "http {\t# after brace\r\n"
    "\tmap $http_upgrade $connection_upgrade {\r\n"
    "\t\tdefault upgrade;\r\n"
    "\t\t''      close;\r\n"
    "\t}\r\n"
    "\tserver {\r\n"
    "\t\tlisten\t80 ;  # inline\r\n"
    "\t\tserver_name \"a\\\"b\" 'c d' plain;\r\n"
    "\t\tadd_header X-Note \"semi; {brace} # not a comment\";\r\n"
    "\t\tlocation =/x { return 200; }\r\n"
    "\t\tlocation ~*\\.png$ {\r\n"
    "\t\t\tif ($x) {}\r\n"
    "\t\t\texpires 1h # between args\r\n"
    "\t\t\t\t;\r\n"
    "\t\t}\r\n"
    "\t\tlocation /lua {\r\n"
    "\t\t\tcontent_by_lua_block { ngx.say(\"}\") }\r\n"
    "\t\t}\r\n"
    "\t}\r\n"
    "}\r\n"
)


def load_text(text: str | bytes, directory: Path, name: str = "nginx.conf") -> Tree:
    path = directory / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return Loader(str(directory)).load(str(path), "main")


def real_nodes(tree: Tree) -> list[Node]:
    return [node for node in tree.walk() if node.source is not None]


def span_text(node: Node, token: Token) -> str:
    assert node.source is not None
    return node.source.text[token.start:token.end]


def unquote(text: str) -> str:
    quote = text[0]
    assert quote in "\"'" and text[-1] == quote, text
    return text[1:-1].replace("\\" + quote, quote)


def check_spans(node: Node) -> None:
    statement = node.statement
    assert statement is not None, node
    if node.is_comment:
        assert span_text(node, statement.directive) == "#" + (node.comment or "")
        source = node.source
        assert source is not None
        assert source.line_col(statement.directive.start)[0] == node.line
        return
    name = span_text(node, statement.directive)
    assert (unquote(name) if statement.directive.quoted else name) == node.directive
    assert statement.directive.line == node.line
    texts = [span_text(node, token) for token in statement.args]
    if node.directive == "if":  # crossplane drops the parentheses
        joined = " ".join(texts)
        assert joined.startswith("(") and joined.endswith(")")
        assert joined[1:-1].strip().split() == " ".join(node.args).split()
        return
    assert len(statement.args) == len(node.args)
    for token, text, arg in zip(statement.args, texts, node.args, strict=True):
        if not token.quoted:
            assert text == arg
        elif node.directive.endswith("_by_lua_block"):
            assert text == "{" + arg + "}"
        else:
            assert unquote(text) == arg
    if statement.terminator is not None and statement.terminator.end > statement.terminator.start:
        assert span_text(node, statement.terminator) in (";", "{")
    if statement.close is not None:
        assert span_text(node, statement.close) == "}"


def check_links(tree: Tree) -> None:
    for node in tree.walk():
        for child in node.children or ():
            assert child.parent is node
        if node.parent is not None:
            assert node.parent.children is not None
            assert sum(1 for c in node.parent.children if c is node) == 1
        assert node.is_block == (node.children is not None)


def test_tricky_spans(tmp_path: Path) -> None:
    tree = load_text(TRICKY, tmp_path)
    assert tree.problems == []
    nodes = real_nodes(tree)
    for node in nodes:
        check_spans(node)
    check_links(tree)
    by_name = {n.directive: n for n in nodes}
    assert by_name["server_name"].args == ['a"b', "c d", "plain"]
    assert by_name["add_header"].args == ["X-Note", "semi; {brace} # not a comment"]
    assert [n.args for n in nodes if n.directive == "location"] == [
        ["=/x"], ["~*\\.png$"], ["/lua"]]
    assert by_name["if"].args == ["$x"]
    assert by_name["if"].children == []
    assert by_name["content_by_lua_block"].args == [' ngx.say("}") ']
    assert by_name[""].args == ["close"]  # map's '' entry
    assert by_name["expires"].args == ["1h"]
    # the first location's block closes on its own line
    location = next(n for n in nodes if n.args == ["=/x"])
    assert [c.directive for c in location.children or []] == ["return"]


def test_comments_kept_without_carriage_return(tmp_path: Path) -> None:
    tree = load_text(TRICKY, tmp_path)
    comments = [(n.comment, n.line, n.parent.directive if n.parent else None)
                for n in real_nodes(tree) if n.is_comment]
    assert comments == [
        (" top comment", 1, ""),
        (" after brace", 3, "http"),
        (" inline", 9, "server"),
        (" between args", 15, "location"),
    ]
    # a comment between arguments follows its statement
    expires = next(n for n in real_nodes(tree) if n.directive == "expires")
    siblings = expires.parent.children  # type: ignore[union-attr]
    assert siblings[siblings.index(expires) + 1].comment == " between args"


def test_comment_ending_in_backslash(tmp_path: Path) -> None:
    for newline in ("\n", "\r\n"):
        tree = load_text(f"# path C:\\{newline}events {{}}{newline}", tmp_path)
        assert tree.problems == []
        comment, events = real_nodes(tree)
        assert comment.comment == " path C:\\"
        check_spans(comment)
        assert (events.directive, events.line) == ("events", 2)


def test_spans_with_invalid_utf8(tmp_path: Path) -> None:
    raw = b"events {}\nhttp {\n  # caf\xe9\n  add_header X-A \"\xff\xfe\" b\xe9c;\n}\n"
    tree = load_text(raw, tmp_path)
    assert tree.problems == []
    for node in real_nodes(tree):
        assert node.statement is not None
        assert node.source is not None
        assert node.source.text.encode("utf-8", "surrogateescape") == raw
    header = next(n for n in real_nodes(tree) if n.directive == "add_header")
    assert header.args == ["X-A", "\ufffd\ufffd", "b\ufffdc"]


# --- property: agreement with crossplane.parse -------------------------------------------

BLANK = st.sampled_from([" ", "\t", "  ", "\n", "\r\n", " \t\r\n\t", "\n\n"])
OPTIONAL_BLANK = st.sampled_from(["", " ", "\t", "\r\n", "\n"])
NEWLINE = st.sampled_from(["\n", "\r\n"])
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True).filter(
    lambda n: n not in ("if", "include") and not n.endswith("_by_lua_block"))
WORD = st.from_regex(r"[A-Za-z0-9/$.=~*^:_@-][A-Za-z0-9/$.=~*^:_@#-]{0,8}", fullmatch=True)
# crossplane.parse drops a backslash that ends a comment (test_comment_ending_in_backslash)
COMMENT = st.from_regex(r"#([ A-Za-z0-9{};'\"\t#\\]{0,12}[ A-Za-z0-9{};'\"\t#])?",
                        fullmatch=True)


@st.composite
def quoted(draw: st.DrawFn) -> str:
    quote = draw(st.sampled_from(["\"", "'"]))
    pieces = draw(st.lists(st.one_of(
        st.from_regex(r"[ a-z0-9;{}#$\t]{1,6}", fullmatch=True),
        st.just("\\" + quote),
        st.just("\\\\"),
        st.just("\n"),
    ), max_size=4))
    return quote + "".join(pieces) + quote


ARG = st.one_of(WORD, quoted())


@st.composite
def separator(draw: st.DrawFn) -> str:
    """Blank between two tokens, sometimes holding a comment."""
    if draw(st.booleans()):
        return draw(BLANK)
    return draw(BLANK) + draw(COMMENT) + draw(NEWLINE) + draw(OPTIONAL_BLANK)


@st.composite
def header(draw: st.DrawFn) -> str:
    args = draw(st.lists(ARG, max_size=3))
    return draw(NAME) + "".join(draw(separator()) + arg for arg in args) + draw(OPTIONAL_BLANK)


@st.composite
def body(draw: st.DrawFn, depth: int) -> str:
    kinds = ["directive", "comment"] + (["block"] if depth < 4 else [])
    parts = []
    for kind in draw(st.lists(st.sampled_from(kinds), max_size=4)):
        blank = draw(BLANK)
        if kind == "comment":
            parts.append(blank + draw(COMMENT) + draw(NEWLINE))
        elif kind == "directive":
            parts.append(blank + draw(header()) + ";")
        else:
            opening = draw(header())
            if opening.endswith("$"):  # "${" continues a token, in nginx as in crossplane
                opening += " "
            parts.append(blank + opening + "{" + draw(body(depth + 1)) + draw(BLANK) + "}")
    return "".join(parts)


def crossplane_statements(path: str) -> list[tuple[Any, ...]]:
    payload = crossplane.parse(path, comments=True, check_ctx=False, check_args=False,
                               single=True)
    assert payload["errors"] == [], payload["errors"]
    found: list[tuple[Any, ...]] = []

    def walk(items: list[dict]) -> None:
        for item in items:
            # crossplane gives a comment between arguments its statement's line; nglint
            # gives every comment its own line (checked against the spans below)
            line = None if item["directive"] == "#" else item["line"]
            found.append((item["directive"], item["args"], item.get("comment"), line))
            walk(item.get("block", []))

    walk(payload["config"][0]["parsed"])
    return found


EXAMPLES = int(os.environ.get("NGLINT_HYPOTHESIS_EXAMPLES", "300"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=body(0), trailing=OPTIONAL_BLANK)
def test_agrees_with_crossplane(text: str, trailing: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        tree = load_text(text + trailing, directory)
        assert tree.problems == []
        nodes = real_nodes(tree)
        ours = [(n.directive, n.args, n.comment, None if n.is_comment else n.line)
                for n in nodes]
        assert ours == crossplane_statements(str(directory / "nginx.conf"))
        for node in nodes:
            check_spans(node)
        check_links(tree)


# --- the JSON contract --------------------------------------------------------------------

FINDING_KEYS = {"code", "rule", "severity", "path", "line", "column", "end_line",
                "end_column", "message", "fixable", "headline", "notes", "related", "via"}


def test_json_contract(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n    include missing.conf;\n    server {\n        listen 80\n"
        "    }\n}\n")
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-available/broken").write_text("server {\n")
    proc = subprocess.run([sys.executable, "-m", "nglint", "check", "--format", "json",
                           "nginx.conf", "sites-available/broken"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"version", "findings", "summary"}
    assert isinstance(document["version"], str) and document["version"]
    assert len(document["findings"]) >= 2
    for finding in document["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["code"].startswith("NG") and len(finding["code"]) == 5
        assert isinstance(finding["fixable"], bool)
        for key in ("line", "column", "end_line", "end_column"):
            assert isinstance(finding[key], int) and finding[key] >= 1
        assert (finding["end_line"], finding["end_column"]) >= (finding["line"],
                                                                finding["column"])
    paths = {f["path"] for f in document["findings"]}
    assert paths == {"nginx.conf", "sites-available/broken"}
    assert document["summary"]["findings"] == len(document["findings"])


def _shape(node: Node) -> list:
    return [(child.directive, child.args, child.line, _shape(child))
            for child in node.children or ()]


def test_payload_released_and_files_shared_across_sites(tmp_path: Path) -> None:
    """After a load, crossplane's payload of every file read is freed (the loader keeps no
    parse), a file included from two places is one parse expanded at both, and the same
    loader loads the tree again, parsing afresh, to the same nodes."""
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "proxy.conf").write_text(
        "proxy_set_header Host $host;\nproxy_http_version 1.1;\n")
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n  server {\n    location / { include snippets/proxy.conf; }\n"
        "    location /b { include snippets/proxy.conf; }\n  }\n}\n")
    loader = Loader(str(tmp_path))
    first = loader.load(str(tmp_path / "nginx.conf"))
    assert loader.cache == {}
    sites = [n for n in first.nodes if n.directive == "proxy_http_version"]
    assert len(sites) == 2 and sites[0].statement == sites[1].statement
    assert first.sites(sites[0]) == sites
    again = loader.load(str(tmp_path / "nginx.conf"))
    assert _shape(again.root) == _shape(first.root)
    assert [n.line for n in again.nodes] == [n.line for n in first.nodes]
