"""Which variables exist: definitions, built-ins, captures; and uses."""

from __future__ import annotations

import pytest

from nglint.semantics.variables import defined, is_builtin, undefined, uses
from tests.helpers import load, write


@pytest.mark.parametrize("name", ["host", "http_upgrade", "sent_http_etag", "arg_q",
                                  "cookie_sid", "upstream_http_location", "ssl_protocol",
                                  "1", "9", "request_id", "proxy_add_x_forwarded_for"])
def test_builtins(name):
    assert is_builtin(name)


@pytest.mark.parametrize("name", ["connection_upgrade", "backend", "hostx", "upgrade"])
def test_not_builtins(name):
    assert not is_builtin(name)


def test_definitions_and_uses(tmp_path):
    path = write(tmp_path, """\
events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    map $uri $section { ~^/(?<top>[a-z]+)/ $top; default $missing_in_map; }
    geo $remote_addr $office { default 0; }
    split_clients "${remote_addr}" $variant { 50% a; * b; }
    server {
        server_name ~^(?<sub>.+)\\.example\\.com$;
        set $backend http://127.0.0.1:3000;
        location ~ ^/u/(?P<user>[a-z]+)/ {
            return 200 "$user $sub $variant $office $section";
        }
        location / {
            if ($request_uri ~ ^/old/(.*)$) { return 301 /new/$1$undefined_one; }
            proxy_set_header Connection $connection_upgrade;
            proxy_pass $backend;
            content_by_lua_block { local x = "$not_a_variable" }
        }
    }
}
""")
    tree = load(path)[0]
    names = set(defined(tree))
    assert {"connection_upgrade", "section", "office", "variant", "backend", "user", "sub",
            "top"} <= names
    used = {u.name for u in uses(tree)}
    assert "not_a_variable" not in used  # Lua code is not nginx text
    missing = sorted({u.name for u in undefined(tree)})
    assert missing == ["missing_in_map", "undefined_one"]


def test_connection_upgrade_without_map_is_reported(tmp_path):
    path = write(tmp_path, "events {}\nhttp { server { location / {\n"
                           "proxy_set_header Connection $connection_upgrade; } } }\n")
    [use] = list(undefined(load(path)[0]))
    assert use.name == "connection_upgrade" and use.node.line == 3


def test_auth_request_set_and_geoip2_define_variables(tmp_path):
    path = write(tmp_path, """\
events {}
http {
    geoip2 /usr/share/GeoIP/GeoLite2-Country.mmdb {
        $geoip2_country_code country iso_code;
        $visitor_country country names en;
    }
    server {
        location / {
            auth_request /oauth2/auth;
            auth_request_set $user $upstream_http_x_auth_request_user;
            proxy_set_header X-User $user;
            proxy_set_header X-Country $visitor_country;
        }
    }
}
""")
    assert list(undefined(load(path)[0])) == []
