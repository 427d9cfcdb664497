"""The security rules (NG210-NG214): what fixtures cannot say, and nginx as the oracle.

The differential tests run the real nginx (``tests/nginx_harness.py``): the request
each finding names must expose what the message says, and the requests the silent
configurations would need must not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nglint import registry
from nglint.engine import Options, lint
from nglint.semantics import access
from nglint.semantics.exposure import requests_to
from nglint.semantics.inherit import Model, Value
from nglint.versions import VersionRange
from tests.helpers import findings, load, write
from tests.nginx_harness import nginx_launcher


def _lint(path: Path, code: str, version: str | None = None) -> list[str]:
    options = Options()
    if version is not None:
        options = Options(nginx_version=VersionRange.parse(version))
    return [f.message for f in findings(path, select=(code,), options=options)]


# ----------------------------------------------------------------------------- model


def test_one_allow_drops_the_outer_deny_all(tmp_path: Path) -> None:
    path = write(tmp_path, "http { server { allow 10.0.0.0/8; deny all;\n"
                          "location /m { allow 192.0.2.7; } location /n { } } }\n")
    tree = load(path)[0]
    model = Model()
    m, n = list(tree.blocks("location"))
    assert [v.value for v in model.access(m)] == ["192.0.2.7"]
    assert [v.directive for v in model.access(n)] == ["allow", "deny"]
    assert model.access_source(n) is n.parent


def test_document_root_inherits_alias_and_root_together(tmp_path: Path) -> None:
    path = write(tmp_path, "http { server { root /srv; location /a/ { alias /x/;\n"
                          "location /a/b { } location /a/c { root /y; } } } }\n")
    tree = load(path)[0]
    a, b, c = list(tree.blocks("location"))
    model = Model()
    assert model.document_root(b).node is a.first("alias")
    assert model.document_root(c).directive == "root"


def test_access_rules_cover_by_cidr() -> None:
    def rule(directive: str, address: str) -> access.Rule:
        parsed = access.parse(Value(directive, (address,), None))
        assert parsed is not None
        return parsed

    assert rule("deny", "10.0.0.0/8").covers(rule("allow", "10.20.0.5"))
    assert not rule("deny", "10.20.0.5").covers(rule("allow", "10.0.0.0/8"))
    assert not rule("deny", "10.0.0.0/8").covers(rule("allow", "2001:db8::1"))
    assert rule("deny", "10.0.0.1/8").covers(rule("allow", "10.9.9.9"))  # masked as nginx
    assert not rule("deny", "unix:").covers(rule("allow", "10.0.0.1"))
    assert rule("deny", "all").covers(rule("allow", "unix:"))
    assert access.parse(Value("allow", ("example.com",), None)) is None


def test_requests_to_names_the_location(tmp_path: Path) -> None:
    path = write(tmp_path, "http { server { location /a/ { if ($x) { return 1; } }\n"
                          "location ~ \\.php$ { } location = /b { } } }\n")
    tree = load(path)[0]
    a, php, b = list(tree.blocks("location"))
    assert requests_to(a) == "requests to /a/..."
    assert requests_to(php) == "requests matching ~ \\.php$"
    assert requests_to(b) == "requests to = /b"
    assert requests_to(a.first("if")).endswith("when if ($x)")


# ----------------------------------------------------------------------------- rules


def test_add_header_inherit_merge_is_judged_per_version(tmp_path: Path) -> None:
    path = write(tmp_path, "http { add_header X-Frame-Options DENY;\n"
                          "server { location /a/ { add_header_inherit merge;\n"
                          "add_header Cache-Control no-store; } } }\n")
    assert _lint(path, "NG211", "1.29.3-") == []
    older = _lint(path, "NG211", "1.22")
    assert len(older) == 1 and "X-Frame-Options" in older[0]
    spanning = _lint(path, "NG211", "1.22-1.30")
    assert len(spanning) == 1 and spanning[0].startswith("on nginx 1.22\u20131.29.2")


def test_add_header_inherit_off_outside_is_not_a_silent_drop(tmp_path: Path) -> None:
    # "off" set where the outer headers are: the block inherits nothing by choice,
    # and the model says so (its array is its own headers only)
    path = write(tmp_path, "http { add_header X-Frame-Options DENY;\n"
                          "server { add_header_inherit off; location /a/ {\n"
                          "add_header Cache-Control no-store; } } }\n")
    assert _lint(path, "NG211", "1.29.3-") == []


def test_add_header_message_names_header_place_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, "http { server { add_header Referrer-Policy no-referrer;\n"
                          "location /dl/ { add_header X-A 1; } } }\n")
    [message] = _lint(path, "NG211")
    assert "Referrer-Policy" in message and "nginx.conf:1" in message
    assert "requests to /dl/" in message


def test_server_tokens_is_one_finding_per_http_block(tmp_path: Path) -> None:
    servers = "".join(f"server {{ listen {8000 + i}; server_name s{i}; }}\n" for i in range(6))
    path = write(tmp_path, f"events {{}}\nhttp {{\n{servers}}}\n")
    [message] = _lint(path, "NG214")
    assert "s0" in message and "2 more" in message


def test_server_tokens_is_opt_in(tmp_path: Path) -> None:
    path = write(tmp_path, "events {}\nhttp { server { listen 80; } }\n")
    assert [f.code for f in findings(path)] == []
    assert [f.code for f in findings(path, select=("security",))] == ["NG214"]


def test_if_with_return_after_a_header_is_silent(tmp_path: Path) -> None:
    path = write(tmp_path, "http { server { location / { try_files $uri /i;\n"
                          "if ($bad) { add_header X-Why bad; return 403; } } } }\n")
    assert _lint(path, "NG212") == []


# ----------------------------------------------------------------------------- nginx


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    started = nginx_launcher(tmp_path_factory.mktemp("nginx"), "the security rules")
    yield started
    started.stop_all()


FILES = {"www/static/a.txt": "static", "www/secret.txt": "SECRET",
         "www/img/i.txt": "img", "www/img-private/p.txt": "PRIVATE",
         "www/dl/d.txt": "dl", "www/safe/s.txt": "safe"}

ALIASES = """
server {
    listen 127.0.0.1:PORT;
    location /static { alias PREFIX/www/static/; }
    location /img { alias PREFIX/www/img; }
    location ~ ^/dl(.*)$ { alias PREFIX/www/dl/$1; }
    location /safe/ { alias PREFIX/www/safe/; }
    location /nest/ { alias PREFIX/www/safe/; location /nest/in { } }
}
"""


def test_alias_findings_name_requests_nginx_really_serves(launcher) -> None:
    with launcher.start(ALIASES, files=FILES) as instance:
        found = lint([instance.tree], registry.select(["NG210"]), Options())
        targets = [re.search(r"GET (\S+)", f.message).group(1) for f in found]  # type: ignore[union-attr]
        assert sorted(targets) == ["/dl../secret", "/img-private/", "/static../secret"]
        assert instance.get(b"/static../secret.txt").body == b"SECRET"
        assert instance.get(b"/dl../secret.txt").body == b"SECRET"
        assert instance.get(b"/img-private/p.txt").body == b"PRIVATE"
        # the silent ones: the same tricks do not leave the alias
        for target in (b"/safe../secret.txt", b"/nest/in../secret.txt"):
            assert instance.get(target).body != b"SECRET", target


HEADERS_AND_ACCESS = """
server {
    listen 127.0.0.1:PORT;
    root PREFIX/www;
    add_header X-Frame-Options DENY always;
    deny all;
    location /dl/ { add_header Cache-Control no-store; allow 192.0.2.7; }
    location /safe/ { }
}
"""


def test_dropped_headers_and_lost_deny_all_are_what_nginx_does(launcher) -> None:
    with launcher.start(HEADERS_AND_ACCESS, files=FILES) as instance:
        codes = sorted(f.code for f in lint([instance.tree],
                                            registry.select(["NG211", "NG213"]), Options()))
        assert codes == ["NG211", "NG213"]
        opened = instance.get(b"/dl/d.txt")
        assert opened.status == 200 and "x-frame-options" not in opened.headers
        assert instance.get(b"/safe/s.txt").status == 403


IF_IN_LOCATION = """
server {
    listen 127.0.0.1:PORT;
    root PREFIX/www;
    location /dl/ {
        if ($request_method = GET) { set $seen 1; }
        try_files $uri @fallback;
    }
    location /safe/ {
        if ($request_method = POST) { return 405; }
        try_files $uri @fallback;
    }
    location @fallback { return 200 "fallback"; }
}
"""


def test_if_loses_try_files_as_nginx_does(launcher) -> None:
    with launcher.start(IF_IN_LOCATION, files=FILES) as instance:
        found = lint([instance.tree], registry.select(["NG212"]), Options())
        # the /dl/ if, not the /safe/ one
        assert len(found) == 1 and "requests to /dl/" in found[0].message
        assert instance.get(b"/dl/missing").status == 404  # try_files not in force
        assert instance.get(b"/safe/missing").body == b"fallback"
