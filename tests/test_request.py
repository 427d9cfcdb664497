"""The request model (nglint.semantics.request, upstream, evaluate): each kind of fault the
differential test found against nginx, as a table test.  The configurations are in
fixtures/model/; the expected values are what a running nginx 1.22 did with them
(tests/test_request_nginx.py checks the same kinds on generated configurations)."""

from __future__ import annotations

import textwrap

import pytest

from nglint.load import Loader
from nglint.semantics.evaluate import Evaluator, proxy_host
from nglint.semantics.inherit import Model
from nglint.semantics.request import (
    Request,
    branches,
    parse_listen_option,
    parse_target,
    requests_for,
    served,
    simulate,
)
from nglint.semantics.upstream import upstream_for
from nglint.tree import Tree
from tests.helpers import FIXTURES, findings

MODEL = FIXTURES / "model"
NGINX_1_22 = Model((1, 22, 1))
WEBSOCKET = (("Upgrade", "websocket"), ("Connection", "Upgrade"))


def tree_of(name: str) -> Tree:
    tree = Loader(str(MODEL)).load(str(MODEL / name))
    assert not tree.problems, tree.problems
    return tree


def load_text(tmp_path, text: str) -> Tree:
    path = tmp_path / "nginx.conf"
    path.write_text(textwrap.dedent(text))
    tree = Loader(str(tmp_path)).load(str(path))
    assert not tree.problems, tree.problems
    return tree


def sent(tree: Tree, request: Request, model: Model = NGINX_1_22) -> list[tuple[str, str | None]]:
    [outcome] = served(tree, request, model)
    assert outcome.upstream is not None, outcome
    return outcome.sent()


# -- 1. a header set twice at one level -------------------------------------------------

def test_every_header_line_is_sent_in_order():
    tree = tree_of("duplicate-header-name.conf")
    request = Request("/x", host="h.example:8443", headers=WEBSOCKET)
    assert sent(tree, request) == [("Host", "h.example"), ("Host", "h.example:8443"),
                                   ("Upgrade", "websocket"), ("Connection", "upgrade")]


def test_header_list_keeps_lines_and_their_provenance():
    tree = tree_of("duplicate-header-name.conf")
    [outcome] = served(tree, Request("/x"), NGINX_1_22)
    upstream = outcome.upstream
    assert upstream is not None
    own = [(h.name, h.value, h.node.line) for h in upstream.headers if h.node is not None]
    assert own == [("Host", "$host", 12), ("Host", "$http_host", 13),
                   ("Upgrade", "$http_upgrade", 14), ("Connection", "$connection_upgrade", 15),
                   ("Upgrade", "", 16)]
    # nginx's defaults follow, only for names not set: no second Connection or Upgrade
    defaults = [h.name for h in upstream.headers if h.node is None]
    assert "Connection" not in defaults and "Upgrade" not in defaults and "Host" not in defaults
    assert [[h.line for h in (e.node for e in entries)] for entries in upstream.duplicates()] \
        == [[12, 13]]


def test_from_1_31_4_only_the_last_host_line_is_sent():
    tree = tree_of("duplicate-header-name.conf")
    request = Request("/x", host="h.example:8443", headers=WEBSOCKET)
    assert sent(tree, request, Model((1, 31, 4)))[:2] == [("Host", "h.example:8443"),
                                                           ("Upgrade", "websocket")]


def test_duplicate_host_is_a_finding_and_no_upgrade_error():
    found = findings(MODEL / "duplicate-header-name.conf")
    # the default target spans 1.31.4, where only the last Host line is sent: an error
    # before it, a warning from it, each naming its versions
    assert [(f.code, f.line, f.severity.name.lower(), f.message.split(":")[0]) for f in found
            if f.code in ("NG015", "NG102")] == [
        ("NG015", 13, "error", "on nginx 1.18\u20131.31.3"),
        ("NG015", 13, "warning", "on nginx 1.31.4")]


def test_blank_value_blocks_the_client_header():
    tree = tree_of("duplicate-header-name.conf")
    request = Request("/x", host="h.example", headers=(("Upgrade", "websocket"),
                                                       ("X-Client", "1")))
    names = [name for name, _ in sent(tree, request)]
    assert names.count("Upgrade") == 1 and names[-1] == "X-Client"


# -- 2. try_files ... @name whatever the content handler ------------------------------

def test_try_files_reaches_the_named_location_before_proxy_pass():
    tree = tree_of("try-files-named.conf")
    [outcome] = served(tree, Request("/lab/tree", host="lab.example"), NGINX_1_22)
    assert outcome.block is not None and outcome.block.args == ["@jupyter"]
    assert [(s.kind, s.target, s.node.line) for s in outcome.steps] == [
        ("try_files", "@jupyter", 10)]
    assert outcome.upstream is not None and outcome.upstream.target == "http://127.0.0.1:8888"


def test_try_files_named_rules_check_the_named_location():
    found = findings(MODEL / "try-files-named.conf")
    websocket = [(f.code, f.line, f.severity.name.lower()) for f in found
                 if f.code in ("NG101", "NG102", "NG103")]
    assert websocket == [("NG103", 18, "warning")]  # the hard-coded Connection line


def test_try_files_named_mirror_is_reported_on_the_named_location():
    found = findings(MODEL / "try-files-named-mirror.conf")
    websocket = {(f.code, f.line) for f in found if f.code in ("NG101", "NG102", "NG103")}
    assert websocket == {("NG101", 17), ("NG102", 17), ("NG103", 17)}


# -- 3. proxy_pass inside if ----------------------------------------------------------

def test_if_switches_the_upstream_and_its_default_host():
    tree = tree_of("if-proxy-pass.conf")
    assert sent(tree, Request("/api/x?debug=1", host="a")) == [
        ("Host", "127.0.0.1:9002"), ("Connection", "close")]
    assert sent(tree, Request("/api/x", host="a")) == [
        ("Host", "127.0.0.1:9001"), ("Connection", "close")]


def test_branches_list_each_if_with_its_condition_and_upstream():
    tree = tree_of("if-proxy-pass.conf")
    [outcome] = served(tree, Request("/api/x", host="a"), NGINX_1_22)
    [branch] = branches(outcome, NGINX_1_22)
    assert branch.condition == "($arg_debug)" and branch.holds is False
    assert branch.upstream is not None and branch.upstream.target == "http://127.0.0.1:9002"


def test_rules_check_an_if_branch_that_serves_websockets(tmp_path):
    path = tmp_path / "nginx.conf"
    path.write_text(textwrap.dedent("""\
        events {}
        http {
            map $http_upgrade $connection_upgrade { default upgrade; '' close; }
            server {
                listen 80;
                location /jupyter/ {
                    proxy_pass http://127.0.0.1:8888;
                    proxy_http_version 1.1;
                    proxy_set_header Host $http_host;
                    proxy_set_header Connection $connection_upgrade;
                    proxy_read_timeout 1d;
                    if ($arg_node) {
                        proxy_pass http://127.0.0.1:8889;
                    }
                }
            }
        }
        """))
    found = findings(path, select=("NG102",))
    # the location and its if branch both lack Upgrade: one finding each
    assert sorted(f.line for f in found) == [6, 12]


def test_unknown_condition_forks(tmp_path):
    tree = load_text(tmp_path, """\
        events {}
        http {
            server {
                listen 80;
                location / {
                    set $x 1;
                    if ($x) { return 403; }
                    proxy_pass http://127.0.0.1:9001;
                }
            }
        }
        """)
    outcomes = simulate(tree, Request("/", host="a"), NGINX_1_22)
    assert sorted(((o.status or 0), o.holds) for o in outcomes) == [(0, None), (403, None)]
    [one] = served(tree, Request("/", host="a"), NGINX_1_22)
    assert one.unknown


# -- 4. merge_slashes from the default server of the address ---------------------------

def test_merge_slashes_comes_from_the_default_server():
    tree = tree_of("merge-slashes-default.conf")
    [outcome] = served(tree, Request("//a//b", host="second.example"), NGINX_1_22)
    assert outcome.uri == "//a//b"
    assert outcome.location is not None and outcome.location.args == ["/"]
    assert outcome.server is not None and outcome.server.line == 11


# -- 7. an invalid Host -----------------------------------------------------------------

@pytest.mark.parametrize("host", ["a/b", "a..b", "a\x00b"])
def test_invalid_host_is_a_400(host):
    tree = tree_of("if-proxy-pass.conf")
    [outcome] = served(tree, Request("/api/x", host=host), NGINX_1_22)
    assert outcome.status == 400 and outcome.upstream is None


# -- rewrite phase, error_page, loops ---------------------------------------------------

def test_rewrite_last_error_page_and_redirect_cycles(tmp_path):
    tree = load_text(tmp_path, """\
        events {}
        http {
            server {
                listen 80;
                location /old/ { rewrite ^/old/(.*)$ /new/$1 last; }
                location /new/ { proxy_pass http://127.0.0.1:9001; }
                location /perm/ { rewrite ^ /new/ permanent; }
                location /gone/ { error_page 404 /new/404.html; return 404; }
                location /text/ { error_page 404 /new/404.html; return 404 "no"; }
                location /loop/ { rewrite ^ /loop/again last; }
                location /missing/ { try_files $uri =410; }
                location /static/ { root /srv; }
            }
        }
        """)

    def one(uri: str):
        [outcome] = served(tree, Request(uri, host="a"), NGINX_1_22)
        return outcome

    moved = one("/old/x")
    assert moved.uri == "/new/x" and moved.upstream is not None
    assert one("/perm/x").status == 301
    gone = one("/gone/x")
    assert gone.uri == "/new/404.html" and gone.upstream is not None
    assert [s.kind for s in gone.steps] == ["return", "error_page"]
    assert one("/text/x").status == 404  # a return with text is sent as is
    assert one("/loop/x").status == 500  # rewrite or internal redirection cycle
    assert one("/missing/x").status == 410
    assert one("/static/x").status == 404 and one("/static/").status == 404
    assert one("/").status == 403  # the root directory exists; it has no index file


def test_map_variables_and_condition_operators(tmp_path):
    tree = load_text(tmp_path, """\
        events {}
        http {
            map $http_upgrade $connection_upgrade { default upgrade; '' close; }
            map $uri $kind { ~^/api/ api; /exact exact; default other; }
            server { listen 80; server_name first.example second.example; }
        }
        """)
    [server] = tree.servers
    request = Request("/api/x?a=1&b=", host="H.example:81", headers=(("Upgrade", "ws"),),
                      remote_addr="10.0.0.1")
    evaluate = Evaluator(tree, request, server, "/api/x", "http://backend:8080/x", port=81)
    assert evaluate("$connection_upgrade") == "upgrade"
    assert evaluate("$kind/$arg_a/$arg_b/$args") == "api/1//a=1&b="
    assert evaluate("$host|$http_host|$server_name") == "h.example|H.example:81|first.example"
    assert evaluate("$proxy_host $proxy_port") == "backend:8080 8080"
    assert evaluate("$proxy_add_x_forwarded_for") == "10.0.0.1"
    assert evaluate("$set_by_someone") is None
    assert evaluate.condition(["$arg_a"]) is True
    assert evaluate.condition(["$arg_b"]) is False
    assert evaluate.condition(["$request_method", "=", "GET"]) is True
    assert evaluate.condition(["$uri", "~*", "^/API/(x)"]) is True
    assert evaluate("$1") == "x"
    assert evaluate.condition(["!-f", "$request_filename"]) is True


@pytest.mark.parametrize(("target", "expected"), [
    ("http://127.0.0.1:9001", "127.0.0.1:9001"),
    ("http://backend", "backend"),
    ("http://backend:80/x/", "backend"),
    ("https://h:443", "h"),
    ("http://$upstream", None),
])
def test_proxy_host(target, expected):
    assert proxy_host(target) == expected


# -- 8. route's request parsing ---------------------------------------------------------

def test_targets_and_listen_options():
    assert parse_target("/a?b") == {"uri": "/a?b"}
    assert parse_target("http://h.example:8080/p?q") == {
        "uri": "/p?q", "host": "h.example:8080", "scheme": "http", "port": 8080}
    assert parse_target("https://h.example") == {
        "uri": "/", "host": "h.example", "scheme": "https", "port": 443}
    for bad in ("api/x", "", "ftp://x/", "h.example/x"):
        with pytest.raises(ValueError, match="must start with '/'"):
            parse_target(bad)
    assert parse_listen_option("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen_option("[::1]:443") == ("[::1]", 443)
    assert parse_listen_option("8080") == (None, 8080)
    for bad in ("foo", "1.2.3.4:", "1.2.3.4:99999"):
        with pytest.raises(ValueError):
            parse_listen_option(bad)
    [request] = requests_for(["/x"], "h", None, 80, ["Upgrade: websocket"])
    assert request.headers == (("Upgrade", "websocket"),)
    with pytest.raises(ValueError):
        requests_for(["http://a/x"], "h", None, None)
    with pytest.raises(ValueError):
        requests_for(["/x"], None, None, None, ["no colon"])


def test_upstream_for_only_models_proxy_pass(tmp_path):
    tree = load_text(tmp_path, """\
        events {}
        http {
            server {
                listen 80;
                location / { fastcgi_pass 127.0.0.1:9000; }
            }
        }
        """)
    location = next(tree.blocks("location"))
    assert upstream_for(NGINX_1_22, location) is None


# -- kinds the differential test found (each checked on nginx 1.22.1) --------------------

KINDS = """\
events {}
http {
    merge_slashes off;  # read from the default server: the request line comes first
    server {
        listen 127.0.0.1:8080 default_server;
        server_name first.example;
        location / { return 204; }
    }
    server {
        listen 127.0.0.1:8080;
        server_name .second.example;
        root /nonexistent;
        location /static/ { }
        location /old/ { rewrite ^/old(/.*)$ $1 last; }
        location /d//e/ { return 202; }
        location /echo/ {
            proxy_pass http://127.0.0.1:9001;
            proxy_set_header X-Cookie $http_cookie;
            proxy_set_header X-Accept $http_accept;
            proxy_set_header X-Name $server_name;
            proxy_set_header X-Request-Uri $request_uri;
            proxy_set_header X-Arg $arg_x;
        }
    }
}
"""


def _one(tree: Tree, uri: str, host: str = "second.example", model: Model = NGINX_1_22,
         headers: tuple[tuple[str, str], ...] = ()):
    [outcome] = served(tree, Request(uri, host=host, address="127.0.0.1", port=8080,
                                     headers=headers), model)
    return outcome


def test_static_directories_do_not_exist_but_the_root_does(tmp_path):
    tree = load_text(tmp_path, KINDS)
    assert _one(tree, "/static/").status == 404
    assert _one(tree, "/static/x").status == 404


def test_a_bad_target_is_answered_by_the_default_server(tmp_path):
    tree = load_text(tmp_path, KINDS)
    outcome = _one(tree, "/../x")
    assert outcome.status == 400 and outcome.server is not None and outcome.server.line == 4


def test_rewrite_result_is_used_as_is(tmp_path):
    tree = load_text(tmp_path, KINDS)
    outcome = _one(tree, "/old/d//e/")
    assert outcome.uri == "/d//e/" and outcome.status == 202


def test_invalid_client_headers_are_dropped_and_repeated_ones_joined(tmp_path):
    tree = load_text(tmp_path, KINDS)
    headers = (("Cookie", "a=1"), ("Cookie", "b=2"), ("Accept", "x"), ("Accept", "y"),
               ("X_Under", "v"))
    old = dict(_one(tree, "/echo/", headers=headers).sent())
    assert old["X-Cookie"] == "a=1; b=2" and old["X-Accept"] == "x"
    assert "X_Under" not in old
    new = dict(_one(tree, "/echo/", headers=headers, model=Model((1, 23, 0))).sent())
    assert new["X-Accept"] == "x, y"


def test_server_name_request_uri_and_fragments(tmp_path):
    tree = load_text(tmp_path, KINDS)
    sent_ = dict(_one(tree, "/echo/?x=1#f").sent())
    assert sent_["X-Name"] == "second.example"  # the leading dot dropped
    assert sent_["X-Request-Uri"] == "/echo/?x=1#f"  # the fragment kept
    assert sent_["X-Arg"] == "1"  # but not in the arguments
    assert "X-Arg" not in dict(_one(tree, "/echo/#f?x=1").sent())  # no arguments at all
