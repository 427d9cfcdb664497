"""nglint.semantics.taint: client control and line feeds, through set, map and captures."""

from __future__ import annotations

from nglint.semantics.taint import Taint, host_part_variables, literal_host
from nglint.tree import Node
from tests.helpers import load, write


def _tree(tmp_path, text):
    return load(write(tmp_path, text))[0]


def _node(tree, directive, index=0) -> Node:
    return tree.named(directive)[index]


def _controlled(tree, node, text):
    return [s.variable for s in Taint(tree).controlled(text, node)]


def test_builtins_and_their_kind(tmp_path):
    tree = _tree(tmp_path, "http { server { listen 80; server_name a.example;\n"
                 "location / { return 204; } } }\n")
    node = _node(tree, "return")
    taint = Taint(tree)
    assert [s.variable for s in taint.controlled("$arg_u$http_x_y$cookie_c", node)] == [
        "$arg_u", "$http_x_y", "$cookie_c"]
    assert taint.controlled("$remote_addr$server_name$scheme", node) == []
    # raw values cannot hold a line feed; the decoded URI can
    assert taint.newline("$request_uri$args$arg_x$http_x", node) == []
    assert [s.variable for s in taint.newline("$uri$document_uri", node)] == [
        "$uri", "$document_uri"]


def test_a_map_of_literals_is_a_whitelist_a_passthrough_is_not(tmp_path):
    tree = _tree(tmp_path, "http {\n"
                 "map $arg_r $fixed { default a.internal; us b.internal; }\n"
                 "map $arg_r $open { default a.internal; ~^x $arg_r; }\n"
                 "map $arg_r $capt { default a.internal; ~^(?<h>.+)$ $1; }\n"
                 "server { listen 80; location / { return 204; } } }\n")
    node = _node(tree, "return")
    assert _controlled(tree, node, "$fixed") == []
    assert _controlled(tree, node, "$open") == ["$arg_r"]
    assert len(_controlled(tree, node, "$capt")) == 1


def test_captures_open_groups_only_and_newline_by_character_class(tmp_path):
    tree = _tree(tmp_path, "http { server { listen 80;\n"
                 r"location ~ ^/a/(x|y)/([^/]+)/(.*)/(\w+)/(\s?)$ { return 204; } } }" "\n")
    node = _node(tree, "return")
    taint = Taint(tree)
    assert taint.variable("1", node, "controlled") == []
    assert taint.variable("2", node, "controlled") != []
    assert taint.variable("5", node, "controlled") == []  # one character at most
    assert taint.variable("2", node, "newline") != []
    assert taint.variable("3", node, "newline") == []  # '.' stops at a newline
    assert taint.variable("4", node, "newline") == []
    assert taint.variable("5", node, "newline") != []


def test_set_escapes_numbered_captures_but_not_after_a_rewrite(tmp_path):
    tree = _tree(tmp_path, "http { server { listen 80;\n"
                 "location ~ ^/a/([^/]+)$ { set $v $1; return 204; }\n"
                 "location ~ ^/b/ { rewrite ^/b/([^/]+)$ /c/$1; set $w $1; return 204; }\n"
                 "} }\n")
    taint = Taint(tree)
    assert taint.newline("$v", _node(tree, "return", 0)) == []
    # a rewrite before the set switches nginx's escaping off (regex_end_code)
    assert taint.newline("$w", _node(tree, "return", 1)) != []


def test_host_is_controlled_only_where_the_server_answers_any_host(tmp_path):
    tree = _tree(tmp_path, "http {\n"
                 "server { listen 80 default_server; return 444; }\n"
                 "server { listen 80; server_name a.example; location / { return 204; } }\n"
                 "server { listen 81; server_name b.example; location / { return 204; } }\n"
                 "}\n")
    assert _controlled(tree, _node(tree, "return", 1), "$host") == []
    assert _controlled(tree, _node(tree, "return", 2), "$host") == ["$host"]


def test_host_part_of_targets(tmp_path):
    tree = _tree(tmp_path, "http { server { listen 80; location / {\n"
                 'set $t "http://fixed$request_uri";\n'
                 "proxy_pass $t; } } }\n")
    node = _node(tree, "proxy_pass")
    taint = Taint(tree)
    names = lambda text: [n for n, _ in host_part_variables(text, node, taint)]  # noqa: E731
    assert names("http://a$request_uri") == []
    assert names("http://a/$arg_x") == []
    assert names("http://a$arg_x/") == ["arg_x"]
    assert names("$http_s://a/") == ["http_s"]
    assert names("$t") == []
    assert names("$cookie_h:9000") == ["cookie_h"]
    assert literal_host("http://app$request_uri") == "app"
    assert literal_host("http://$h/x") is None
    assert literal_host("http://app:8080/$1") == "app:8080"
