"""Table tests for nglint.semantics.routing (the nginx request-routing model).

The behaviours are nginx's; tests/test_routing_nginx.py checks the same model
against a running nginx.
"""

from __future__ import annotations

import gc
import itertools
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nglint.load import Loader
from nglint.semantics import locations
from nglint.semantics.locations import Match, ServerRouter, location_info, router_for
from nglint.semantics.routing import route
from nglint.semantics.servers import http_servers, select_servers
from nglint.semantics.tokens import nginx_token
from nglint.semantics.uri import normalize_uri
from nglint.tree import Node, Tree


def load(tmp_path, text: str, context: str = "main", name: str = "nginx.conf") -> Tree:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    tree = Loader(str(tmp_path)).load(str(path), context)
    assert not tree.problems, tree.problems
    return tree


def server_tree(tmp_path, body: str) -> Tree:
    return load(tmp_path, "events {}\nhttp {\n server {\n" + textwrap.dedent(body) + "\n }\n}\n")


def label(node: Node | None) -> str | None:
    return None if node is None else " ".join(node.args)


def served(tree: Tree, uri: str) -> str | None:
    """The location serving ``uri`` in the only server: its arguments, or markers."""
    results = route(tree, uri)
    if not results:
        return "400"
    assert len(results) == 1
    match = results[0][1]
    if match.unknown:
        assert match.location is None
        return "unknown"
    if match.redirect:
        return "301 " + (label(match.location) or "")
    return label(match.location)


def check_table(tree: Tree, table: list[tuple[str, str | None]]) -> None:
    got = [(uri, served(tree, uri)) for uri, _ in table]
    assert got == table


# --------------------------------------------------------------------------- normalize_uri

NORMALIZE = [
    ("/", "/"),
    ("/a/b", "/a/b"),
    ("/a/./b", "/a/b"),
    ("/a/../b", "/b"),
    ("/a/b/../../c", "/c"),
    ("//a///b", "/a/b"),
    ("/a/..", "/"),
    ("/a/.", "/a/"),
    ("/.", "/"),
    ("/./", "/"),
    ("/..", None),  # above the root: 400
    ("/../a", None),
    ("/a/b/../../..", None),
    ("/a/..b", "/a/..b"),  # not a dot segment
    ("/a/...", "/a/..."),
    ("/a?x=1", "/a"),  # the query string is not part of the path
    ("/a/..?x=/../..", "/"),
    ("/a#frag", "/a"),  # a fragment ends the path
    ("/a%20b", "/a b"),
    ("/%61%62c", "/abc"),
    ("/a%2Fb", "/a/b"),  # %2F is a real slash for nginx ...
    ("/a%2f%2fb", "/a/b"),  # ... merged like any other
    ("/a%2F..%2Fb", "/b"),
    ("/x/%2e%2e/y", "/y"),  # %2E%2E is a real ".."
    ("/x/.%2E", "/"),
    ("/%2E%2E/x", None),
    ("/a%23b", "/a#b"),  # a decoded '#', '?' or '%' is data
    ("/a%3Fb?c", "/a?b"),
    ("/a/.%3f", "/a/.?"),
    ("/a%25", "/a%"),
    ("/a%2525", "/a%25"),
    ("/a%00b", None),  # NUL: 400
    ("/a%zz", None),  # bad escapes: 400
    ("/a%", None),
    ("/a%2", None),
    ("/a b", None),  # space, control characters and DEL in the request line: 400
    ("/a\tb", None),
    ("/a\x7f", None),
    ("/a+b", "/a+b"),
    ("/caf%C3%A9", "/café"),
    ("/café", "/café"),
    ("/a%FF", "/a\udcff"),  # invalid UTF-8 survives as surrogateescape
    ("http://example.com/x/../y?z", "/y"),  # absolute form
    ("http://example.com:8080", "/"),
    ("a/b", None),
    ("", None),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZE)
def test_normalize_uri(raw, expected):
    assert normalize_uri(raw) == expected


def test_normalize_uri_without_merge_slashes():
    assert normalize_uri("//a//b", merge_slashes=False) == "//a//b"
    assert normalize_uri("/a//..", merge_slashes=False) == "/a/"


@given(st.text(alphabet="/.%2Ffe0a?#", max_size=20))
def test_normalize_uri_is_idempotent_on_its_output(raw):
    once = normalize_uri("/" + raw)
    # what decodes to a character a request line cannot carry is not sent again
    if once is not None and not any(char in "%?#\x7f" or char <= " " for char in once):
        assert normalize_uri(once) == once


# --------------------------------------------------------------------------- location_info

def test_location_info_modifiers(tmp_path):
    tree = server_tree(tmp_path, r"""
        location /x {}
        location = /x {}
        location =/y {}
        location ^~ /s/ {}
        location ^~/t/ {}
        location ~ \.php$ {}
        location ~\.py$ {}
        location ~* \.png$ {}
        location ~*\.jpg$ {}
        location @fallback {}
        location "~" /q {}
        location ~ \\.rb$ {}
        location "^~" /u/ {}
    """)
    infos = [location_info(node) for node in tree.blocks("location")]
    assert [(info.modifier, info.path) for info in infos] == [
        ("", "/x"), ("=", "/x"), ("=", "/y"), ("^~", "/s/"), ("^~", "/t/"),
        ("~", r"\.php$"), ("~", r"\.py$"), ("~*", r"\.png$"), ("~*", r"\.jpg$"),
        ("@", "@fallback"), ("~", "/q"), ("~", r"\.rb$"), ("^~", "/u/"),
    ]
    assert all(info.supported for info in infos)
    assert [info.regex is not None for info in infos] == [
        False, False, False, False, False, True, True, True, True, False, True, True, False]
    assert infos[7].matches("/A.PNG") is True
    assert infos[5].matches("/a.PHP") is False
    assert infos[11].matches("/a.rb") is True  # nginx unescaped \\ to \
    assert infos[0].matches("/x") is None


def test_location_info_invalid(tmp_path):
    tree = server_tree(tmp_path, "location != /x {}\nlocation a b c {}")
    first, second = (location_info(node) for node in tree.blocks("location"))
    assert not first.supported and "invalid location modifier" in first.reason
    assert not second.supported


@pytest.mark.parametrize(("arg", "expected"), [
    (r"\\.php", r"\.php"), (r"a\"b", 'a"b'), (r"a\'b", "a'b"), (r"a\tb", "a\tb"),
    (r"\.x", r"\.x"), ("plain", "plain"), ("end\\", "end\\"),
])
def test_nginx_token(arg, expected):
    assert nginx_token(arg) == expected


# --------------------------------------------------------------------------- routing

def test_nginx_documentation_example(tmp_path):
    tree = server_tree(tmp_path, r"""
        location = / { }
        location / { }
        location /documents/ { }
        location ^~ /images/ { }
        location ~* \.(gif|jpg|jpeg)$ { }
    """)
    check_table(tree, [
        ("/", "= /"),
        ("/index.html", "/"),
        ("/documents/document.html", "/documents/"),
        ("/images/1.gif", "^~ /images/"),
        ("/documents/1.jpg", r"~* \.(gif|jpg|jpeg)$"),
        ("/documents/1.JPG", r"~* \.(gif|jpg|jpeg)$"),
    ])


@pytest.mark.parametrize("order", list(itertools.permutations(["/a", "/a/b", "/a/b/c"])))
def test_longest_prefix_whatever_the_order(tmp_path, order):
    tree = server_tree(tmp_path, "\n".join(f"location {name} {{ }}" for name in order))
    check_table(tree, [
        ("/a/b/c/d", "/a/b/c"), ("/a/b/c", "/a/b/c"), ("/a/bx", "/a/b"), ("/a/b", "/a/b"),
        ("/ax", "/a"), ("/b", None),
    ])


def test_exact_ends_the_search(tmp_path):
    tree = server_tree(tmp_path, r"""
        location ~ . { }
        location = /x { }
        location /x { }
    """)
    check_table(tree, [("/x", "= /x"), ("/x/", "~ ."), ("/y", "~ .")])


def test_prefix_caret_tilde_skips_regexes_only_when_longest(tmp_path):
    tree = server_tree(tmp_path, r"""
        location ~ \.css$ { }
        location ^~ /static/ { }
        location /static/long/ { }
        location /plain/ { }
    """)
    check_table(tree, [
        ("/static/a.css", "^~ /static/"),
        ("/static/long/a.css", r"~ \.css$"),  # the longest prefix has no ^~
        ("/static/long/a.js", "/static/long/"),
        ("/plain/a.css", r"~ \.css$"),
    ])


def test_regexes_in_config_order(tmp_path):
    tree = server_tree(tmp_path, r"""
        location / { }
        location ~ \.php$ { }
        location ~ ^/admin/ { }
        location ~* \.PHP$ { }
    """)
    check_table(tree, [
        ("/admin/a.php", r"~ \.php$"),
        ("/admin/a.PHP", "~ ^/admin/"),
        ("/x/a.Php", r"~* \.PHP$"),
        ("/x/a.txt", "/"),
    ])


def test_case_sensitivity(tmp_path):
    tree = server_tree(tmp_path, r"""
        location /Static/ { }
        location ~ \.PNG$ { }
    """)
    # prefixes compare bytes (Linux file systems are case-sensitive)
    check_table(tree, [("/static/a", None), ("/Static/a", "/Static/"), ("/a.png", None),
                       ("/a.PNG", r"~ \.PNG$")])


def test_nested_prefix_inside_prefix(tmp_path):
    tree = server_tree(tmp_path, r"""
        location /a/ {
            location /a/b/ { }
            location = /a/exact { }
        }
        location /a/b/c/ { }
    """)
    check_table(tree, [
        ("/a/b/x", "/a/b/"), ("/a/c", "/a/"), ("/a/exact", "= /a/exact"),
        ("/a/b/c/x", "/a/b/c/"),
    ])


def test_nested_regex_searched_before_outer_regex(tmp_path):
    tree = server_tree(tmp_path, r"""
        location ~ \.php$ { }
        location /a/ {
            location ~ \.php$ { }
            location ~ \.html$ { }
        }
        location ~ \.txt$ { }
    """)
    nested = [node for node in tree.blocks("location") if node.parent.directive == "location"]
    results = {uri: route(tree, uri)[0][1].location for uri in ("/a/x.php", "/b/x.php")}
    assert results["/a/x.php"] is nested[0]
    assert results["/b/x.php"] is not nested[0] and label(results["/b/x.php"]) == r"~ \.php$"
    check_table(tree, [("/a/x.html", r"~ \.html$"), ("/a/x.txt", r"~ \.txt$"), ("/a/y", "/a/")])


def test_nested_caret_tilde_does_not_stop_outer_regexes(tmp_path):
    # only the ^~ of the prefix found at a level stops that level's regexes
    tree = server_tree(tmp_path, r"""
        location /p/ {
            location ^~ /p/q/ { }
            location ~ \.css$ { }
        }
        location ~ \.png$ { }
    """)
    check_table(tree, [
        ("/p/q/x.png", r"~ \.png$"), ("/p/q/x.css", "^~ /p/q/"), ("/p/x.css", r"~ \.css$"),
        ("/p/x", "/p/"),
    ])


def test_regex_location_with_nested_locations(tmp_path):
    tree = server_tree(tmp_path, r"""
        location ~ ^/img/ {
            location ~ \.png$ { }
            location ~ \.gif$ { }
        }
        location ~ /r {
            location /r/s/ { }
        }
    """)
    check_table(tree, [
        ("/img/a.png", r"~ \.png$"), ("/img/a.gif", r"~ \.gif$"), ("/img/a.jpg", "~ ^/img/"),
        # prefix locations nested in a regex location never match: nginx builds no
        # static tree below regex locations
        ("/r/s/x", "~ /r"),
    ])


def test_named_locations_never_match(tmp_path):
    tree = server_tree(tmp_path, """
        location @fallback { }
        location = /x { }
    """)
    check_table(tree, [("/@fallback", None), ("/fallback", None), ("/x", "= /x")])


def test_no_location_matches(tmp_path):
    tree = server_tree(tmp_path, r"""
        location /a/ { }
        location ~ \.php$ { }
    """)
    check_table(tree, [("/b", None), ("/a", None), ("/", None)])
    assert route(tree, "/b")[0][1] == Match(None)


def test_unsupported_regex_makes_the_answer_unknown(tmp_path):
    tree = server_tree(tmp_path, r"""
        location / { }
        location = /exact { }
        location ^~ /static/ { }
        location ~ \.html$ { }
        location ~ ^/files/\K.* { }
        location ~ \.php$ { }
    """)
    check_table(tree, [
        ("/exact", "= /exact"),  # decided before any regex
        ("/static/a.php", "^~ /static/"),  # regexes skipped
        ("/a.html", r"~ \.html$"),  # decided by an earlier regex
        ("/a.php", "unknown"),  # the \K regex is tried first
        ("/a.txt", "unknown"),
    ])


def test_auto_redirect(tmp_path):
    tree = server_tree(tmp_path, r"""
        location /api/ { proxy_pass http://127.0.0.1:9000; }
        location /plain/ { }
        location /both { }
        location /both/ { fastcgi_pass 127.0.0.1:9000; }
        location = /e/ { }
        location /e/ { grpc_pass grpc://127.0.0.1:9000; }
        location ~ ^/api$ { }
        location /n/ {
            location /n/deep/ { uwsgi_pass 127.0.0.1:9000; }
        }
    """)
    check_table(tree, [
        ("/api", "301 /api/"),  # before any regex
        ("/api/", "/api/"),
        ("/api/x", "/api/"),
        ("/plain", None),  # no *_pass: no redirect
        ("/both", "/both"),  # a location equal to the URI wins
        ("/e", "301 = /e/"),  # nginx joins "= /e/" and "/e/" and uses the "=" one
        ("/n/deep", "301 /n/deep/"),
    ])


def test_glued_modifiers_route(tmp_path):
    tree = server_tree(tmp_path, r"""
        location =/x { }
        location ^~/s/ { }
        location ~*\.png$ { }
    """)
    check_table(tree, [("/x", "=/x"), ("/s/a.png", "^~/s/"), ("/a.PNG", r"~*\.png$")])


def test_route_normalizes_first(tmp_path):
    tree = server_tree(tmp_path, r"""
        location /api/ { }
        location ~ \\.php$ { }
    """)
    check_table(tree, [
        ("/%61pi/x", "/api/"), ("/x/../api/y", "/api/"), ("//api//y", "/api/"),
        ("/a.php?x=/api/", r"~ \\.php$"), ("/a\\xphp", None), ("/..", "400"),
    ])


def test_merge_slashes_off(tmp_path):
    tree = load(tmp_path, """
        events {}
        http {
            merge_slashes off;
            server { location //a { } location /b/ { } }
        }
    """)
    check_table(tree, [("//a/x", "//a"), ("/b//x", "/b/")])


def test_fragment_in_server_context(tmp_path):
    tree = load(tmp_path, """
        location /a/ { }
        location ~ \\.php$ { }
    """, context="server", name="site.conf")
    check_table(tree, [("/a/x", "/a/"), ("/x.php", r"~ \.php$")])


def test_non_ascii_names(tmp_path):
    tree = server_tree(tmp_path, """
        location /café/ { }
        location ~ ^/.$ { }
    """)
    check_table(tree, [("/caf%C3%A9/menu", "/café/"), ("/café/x", "/café/"), ("/é", None),
                       ("/e", "~ ^/.$")])


# --------------------------------------------------------------------------- servers

def test_http_servers_only(tmp_path):
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "one.conf").write_text("server { server_name one; }\n")
    tree = load(tmp_path, """
        events {}
        http {
            upstream app { server 127.0.0.1:9000; }
            include sites/*.conf;
            server { server_name two; }
        }
        stream { server { listen 9001; } }
        mail { server { listen 25; } }
    """)
    assert [server.first("server_name").args for server in http_servers(tree)] == [
        ["one"], ["two"]]


SERVERS = """
    events {}
    http {
        server { listen 80; server_name first.example; }
        server { listen 80; server_name example.com www.example.com; }
        server { listen 80; server_name *.example.com; }
        server { listen 80; server_name *.a.example.com; }
        server { listen 80; server_name .example.org; }
        server { listen 80; server_name www.*; }
        server { listen 80; server_name www.example.*; }
        server { listen 80; server_name ~^api\\d+\\.example\\.net$ ~^(?<sub>.+)\\.regex$; }
        server { listen 80; server_name ~^API\\.upper$; }
        server { listen 80 default_server; server_name default.example; }
        server { listen 80; server_name ~^www\\.example\\.net$; }
        server { listen 80; server_name ""; }
        server { listen 8080; server_name example.com; }
        server { server_name nolisten.example; }
        server { listen 127.0.0.1:80; server_name local.example; }
    }
"""


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("example.com", 80, ["example.com"]),  # exact
    ("EXAMPLE.com.", 80, ["example.com"]),  # case, trailing dot
    ("www.example.com:80", 80, ["example.com"]),  # exact beats the wildcards
    ("x.example.com", 80, ["*.example.com"]),
    ("x.a.example.com", 80, ["*.a.example.com"]),  # longest leading wildcard
    ("a.example.com", 80, ["*.example.com"]),
    ("example.org", 80, [".example.org"]),
    ("x.y.example.org", 80, [".example.org"]),
    ("www.example.net", 80, ["www.example.*"]),  # longest trailing wildcard beats regex
    ("www.other.net", 80, ["www.*"]),
    ("api7.example.net", 80, ["~^api\\d+\\.example\\.net$"]),
    ("x.regex", 80, ["~^api\\d+\\.example\\.net$"]),  # the second name of that server
    ("api.upper", 80, ["~^API\\.upper$"]),  # a pattern with capitals is caseless
    ("unknown.example", 80, ["default.example"]),
    ("", 80, [""]),
    ("example.com", 8080, ["example.com"]),
    ("unknown.example", 8080, ["example.com"]),  # the first server of that address
    ("anything", 81, []),
])
def test_select_servers_by_name(tmp_path, host, port, expected):
    tree = load(tmp_path, SERVERS)
    picked = select_servers(tree, host, port)
    names = [server.first("server_name").args[0] for server in picked]
    # port 80 also has the 127.0.0.1:80 group: its only server is its pick
    if port == 80:
        assert names[-1] == "local.example"
        names = names[:-1]
    assert names == expected


def test_select_servers_groups(tmp_path):
    tree = load(tmp_path, SERVERS)
    assert len(select_servers(tree)) == len(http_servers(tree))
    assert [server.first("server_name").args for server in select_servers(tree, port=8080)] == [
        ["example.com"]]
    local = select_servers(tree, "local.example", 80)
    # *:80 falls back to its default server, 127.0.0.1:80 has only local.example
    assert [server.first("server_name").args for server in local] == [
        ["default.example"], ["local.example"]]


def test_select_servers_first_is_default_without_default_server(tmp_path):
    tree = load(tmp_path, """
        events {}
        http {
            server { server_name a; }
            server { server_name b; }
            server { listen 0.0.0.0:80; server_name c; }
        }
    """)
    picked = select_servers(tree, "zzz")
    assert [server.first("server_name").args for server in picked] == [["a"]]
    assert [s.first("server_name").args for s in select_servers(tree, "c")] == [["c"]]


def test_select_servers_unsupported_regex_name(tmp_path):
    tree = load(tmp_path, r"""
        events {}
        http {
            server { listen 80 default_server; server_name d; }
            server { listen 80; server_name ~^(?R)x$; }
            server { listen 80; server_name ~^x; }
        }
    """)
    names = [server.first("server_name").args[0] for server in select_servers(tree, "xyz")]
    assert names == ["~^(?R)x$", "~^x"]  # either may serve; never a guess
    names = [server.first("server_name").args[0] for server in select_servers(tree, "q")]
    assert names == ["d", "~^(?R)x$"]


def test_route_by_host(tmp_path):
    tree = load(tmp_path, """
        events {}
        http {
            server { listen 80; server_name a.example; location / { } }
            server { listen 80; server_name b.example; location /b/ { } }
        }
    """)
    [(server, match)] = route(tree, "/b/x", host="b.example", port=80)
    assert server.first("server_name").args == ["b.example"]
    assert label(match.location) == "/b/"
    assert len(route(tree, "/b/x")) == 2


# --------------------------------------------------------------------------- index and cache

def test_router_is_cached_per_tree(tmp_path):
    tree = server_tree(tmp_path, "location / { }")
    server = http_servers(tree)[0]
    assert router_for(tree, server) is router_for(tree, server)
    route(tree, "/")
    key = id(tree)
    assert key in locations._ROUTERS
    del tree, server
    gc.collect()
    assert key not in locations._ROUTERS


def big_server(tmp_path, names: list[str]) -> Node:
    body = "\n".join(f"location {name} {{ }}" for name in names)
    return http_servers(server_tree(tmp_path, body))[0]


def test_prefix_lookup_does_not_scan_locations(tmp_path):
    names = [f"/p{i:04d}/" for i in range(5000)]
    router = ServerRouter(big_server(tmp_path, names))
    uri = "/p4999/some/file"
    match = router.find(uri)
    assert label(match.location) == "/p4999/"
    # one probe for "=", one per distinct prefix length (all 7 here), one for the
    # auto-redirect table when it is not empty: nothing per location
    assert router.probes <= 3
    router.probes = 0
    assert router.find("/nothing/here").location is None
    assert router.probes <= 3


def synthetic_server(names: list[str]) -> Node:
    """A server block built in memory (loading 12 MB of names would only test crossplane)."""
    server = Node("server", [], 1, None, None, None, children=[])
    server.children = [Node("location", [name], i + 2, None, None, server, children=[])
                       for i, name in enumerate(names)]
    return server


def test_prefix_lookup_is_bounded_by_the_uri_length():
    # 5,000 locations over 250 distinct lengths (nginx garbles names over 255 bytes)
    names = [f"/{'a' * length}{last}"
             for length in range(1, 251) for last in "bcdefghijklmnopqrstu"]
    assert len(names) == 5000
    router = ServerRouter(synthetic_server(names))
    uri = "/" + "a" * 40 + "b/file"
    assert label(router.find(uri).location) == "/" + "a" * 40 + "b"
    # at most one probe per URI byte, whatever the number of locations
    assert router.probes <= len(uri) + 2


def test_names_longer_than_255_bytes_are_unknown():
    long_name = "/" + "a" * 300
    router = ServerRouter(synthetic_server([long_name, "/short"]))
    assert router.find("/short").unknown  # nginx compares such a name on len % 256 bytes
    nested = synthetic_server(["/n/"])
    nested.children[0].children = [Node("location", ["/n/" + "b" * 300], 3, None, None,
                                        nested.children[0], children=[])]
    assert ServerRouter(nested).find("/n/x").unknown
    assert not ServerRouter(nested).find("/other").unknown


def naive(locations: list[tuple[str, str]], uri: str) -> str | None:
    """Reference for flat, regex-free configurations: the docs, read literally."""
    for modifier, name in locations:
        if modifier == "=" and name == uri:
            return f"= {name}"
    best = None
    for modifier, name in locations:
        if modifier != "=" and uri.startswith(name) and (best is None or len(name) > len(best[1])):
            best = (modifier, name)
    return None if best is None else f"{best[0]} {best[1]}".strip()


segment = st.sampled_from(["a", "b", "ab", "a/", "b/", "/", "x.y"])


@settings(max_examples=200, deadline=None)
@given(
    locations=st.lists(
        st.tuples(st.sampled_from(["", "=", "^~"]),
                  st.lists(segment, min_size=0, max_size=4).map(lambda p: "/" + "".join(p))),
        max_size=12, unique_by=lambda item: (item[0] == "=", item[1])),
    uris=st.lists(st.lists(segment, max_size=5).map(lambda p: "/" + "".join(p)), max_size=10),
)
def test_index_agrees_with_a_linear_scan(tmp_path_factory, locations, uris):
    tmp_path = tmp_path_factory.mktemp("flat")
    server = big_server(tmp_path, [f"{m} {n}".strip() for m, n in locations])
    router = ServerRouter(server)
    for uri in uris:
        normalized = normalize_uri(uri)
        if normalized is None:
            continue
        assert label(router.find(normalized).location) == naive(locations, normalized), uri
