"""Effective values with provenance: standard, array and non-inherited directives."""

from __future__ import annotations

from nglint.semantics.inherit import Model
from nglint.semantics.upstream import Header, proxy_headers
from tests.helpers import load, write

CONFIG = """\
events {}
http {
    proxy_read_timeout 120s;
    proxy_set_header X-Http 1;
    add_header X-Frame-Options DENY;
    server {
        listen 80;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        location / {
            proxy_pass http://a;
        }
        location /ws/ {
            proxy_pass http://a;
            proxy_read_timeout 1d;
            proxy_set_header Upgrade $http_upgrade;
            if ($arg_x) {
                proxy_set_header X-If 1;
            }
            if ($arg_y) {
                return 204;
            }
            location /ws/inner/ {
                add_header X-Inner 1;
            }
        }
        location /static/ {
            add_header Cache-Control public;
        }
    }
}
"""


def _blocks(tmp_path):
    tree = load(write(tmp_path, CONFIG))[0]
    found = {}
    for node in tree.walk():
        if node.directive in ("location", "if", "server"):
            found[" ".join([node.directive, *node.args])] = node
    return tree, found


def test_standard_directive_inherits_innermost_wins(tmp_path):
    _, blocks = _blocks(tmp_path)
    model = Model()
    root = model.effective(blocks["location /"], "proxy_read_timeout")
    assert root.value == "120s" and root.node.line == 3
    ws = model.effective(blocks["location /ws/"], "proxy_read_timeout")
    assert ws.value == "1d" and ws.node.line == 15
    inner_if = model.effective(blocks["if $arg_x"], "proxy_read_timeout")
    assert inner_if.value == "1d"


def test_default_has_no_provenance_and_depends_on_version(tmp_path):
    _, blocks = _blocks(tmp_path)
    old = Model((1, 22, 1)).effective(blocks["location /"], "proxy_http_version")
    new = Model((1, 29, 7)).effective(blocks["location /"], "proxy_http_version")
    assert (old.value, old.is_default, old.where()) == ("1.0", True, "nginx default")
    assert new.value == "1.1"
    assert Model().effective(blocks["location /"], "proxy_http_version").value == "1.0"


def _headers(model: Model, block) -> dict[str, Header]:
    """The list nginx builds for a block, by lower-case name (one line per name here)."""
    found = proxy_headers(model, block)
    assert len({h.name.lower() for h in found}) == len(found), found
    return {h.name.lower(): h for h in found}


def test_array_directive_all_or_nothing(tmp_path):
    _, blocks = _blocks(tmp_path)
    model = Model()
    root = _headers(model, blocks["location /"])
    assert (root["host"].name, root["host"].value) == ("Host", "$http_host")
    assert root["x-forwarded-proto"].node.line == 9
    assert "x-http" not in root  # the server level replaces http's list
    ws = _headers(model, blocks["location /ws/"])
    assert ws["host"].value == "$proxy_host" and ws["host"].is_default
    assert "x-forwarded-proto" not in ws and ws["upgrade"].node.line == 16


def test_if_is_an_implicit_nested_location(tmp_path):
    _, blocks = _blocks(tmp_path)
    model = Model()
    with_own = _headers(model, blocks["if $arg_x"])
    assert {name for name, h in with_own.items() if not h.is_default} == {"x-if"}
    without = _headers(model, blocks["if $arg_y"])
    assert without["upgrade"].node.line == 16


def test_connection_close_default_only_before_1_29_7(tmp_path):
    _, blocks = _blocks(tmp_path)
    assert _headers(Model((1, 29, 6)), blocks["location /"])["connection"].value == "close"
    assert _headers(Model((1, 29, 7)), blocks["location /"])["connection"].blank


def test_handlers_do_not_inherit(tmp_path):
    _, blocks = _blocks(tmp_path)
    model = Model()
    assert model.effective(blocks["location /ws/inner/"], "proxy_pass") is None
    assert model.effective(blocks["location /ws/"], "proxy_pass").value == "http://a"
    assert model.handler(blocks["location /ws/inner/"]) is None


def test_add_header_inherit_merge_from_1_29_3(tmp_path):
    text = CONFIG.replace("add_header X-Frame-Options DENY;",
                          "add_header X-Frame-Options DENY;\n    add_header_inherit merge;")
    tree = load(write(tmp_path, text))[0]
    static = next(n for n in tree.walk() if n.args == ["/static/"])
    merged = [v.args[0] for v in Model((1, 29, 3)).array(static, "add_header")]
    assert merged == ["X-Frame-Options", "Cache-Control"]
    old = [v.args[0] for v in Model((1, 29, 2)).array(static, "add_header")]
    assert old == ["Cache-Control"]


def test_included_directives_count_at_the_include_site(tmp_path):
    write(tmp_path, "proxy_set_header Host $http_host;\nproxy_read_timeout 2h;\n",
          "snippets/proxy.conf")
    path = write(tmp_path, "events {}\nhttp { server { location / { proxy_pass http://a;\n"
                           "include snippets/proxy.conf; } } }\n")
    tree = load(path)[0]
    location = next(tree.blocks("location"))
    value = Model().effective(location, "proxy_read_timeout")
    assert value.value == "2h" and value.node.path.endswith("snippets/proxy.conf")
    assert value.node.line == 2


def test_add_header_inherit_off_stops_inheritance_without_own_headers(tmp_path):
    text = CONFIG.replace("location /static/ {\n",
                          "location /static/ {\n            add_header_inherit off;\n")
    text = text.replace("add_header Cache-Control public;", "")
    tree = load(write(tmp_path, text))[0]
    static = next(n for n in tree.walk() if n.args == ["/static/"])
    assert Model((1, 29, 3)).array(static, "add_header") == []
    assert [v.args[0] for v in Model((1, 29, 2)).array(static, "add_header")] == \
        ["X-Frame-Options"]


def test_if_uses_its_locations_proxy_pass(tmp_path):
    _, blocks = _blocks(tmp_path)
    assert Model().handler(blocks["if $arg_x"]).args == ["http://a"]
    assert Model().handler(blocks["location /ws/inner/"]) is None
