"""NG203 and NG202 against the real nginx: the line feeds and hosts they assume.

Each case is one location answering a redirect or a header built from a
variable; a request with ``%0D%0A`` in its path tells whether nginx really
writes a header of the client's choosing, and nglint's NG203 must fire exactly
where it does.  The NG202 case checks that ``$http_host`` differs from ``$host``
for an absolute request line.
"""

from __future__ import annotations

import pytest

from nglint.engine import Options, lint
from nglint.registry import select
from tests.nginx_harness import exchange, nginx_launcher

# (path prefix, location text): the request is "<prefix>a%0D%0AX-Injected:%201"
CASES = [
    ("/dot/", "location ~ ^/dot/(.*) { return 302 http://x/$1; }"),
    ("/cls/", "location ~ ^/cls/([^/]+) { return 302 http://x/$1; }"),
    ("/nonl/", r"location ~ ^/nonl/([^\r\n]+) { return 302 http://x/$1; }"),
    ("/uri/", "location /uri/ { return 302 http://x$uri; }"),
    ("/raw/", "location /raw/ { return 302 http://x$request_uri; }"),
    ("/hdr/", "location /hdr/ { add_header X-Path $uri always; return 204; }"),
    ("/rnum/", "location /rnum/ { rewrite ^/rnum/([^/]*)$ http://x/$1 redirect; }"),
    ("/rnamed/", "location /rnamed/ { rewrite ^/rnamed/(?<t>[^/]*)$ http://x/$t redirect; }"),
    ("/set/", "location ~ ^/set/([^/]+)$ { set $v $1; add_header X-V $v always; return 204; }"),
    ("/rw/", "location /rw/ { rewrite ^/rw/([^/]+)$ /in/$1; set $w $1; add_header X-W $w always;"
             " return 204; }"),
    ("/setn/", "location ~ ^/setn/(?<n>[^/]+)$ { set $v $n; return 302 http://x/$v; }"),
]


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    started = nginx_launcher(tmp_path_factory.mktemp("nginx"), "response splitting")
    yield started
    started.stop_all()


def test_ng203_fires_exactly_where_nginx_splits(launcher):
    servers = "server {\n    listen 127.0.0.1:PORT;\n" + "".join(
        f"    {text}\n" for _, text in CASES) + "}\n"
    with launcher.start(servers) as nginx:
        split = {}
        for prefix, _ in CASES:
            request = f"GET {prefix}a%0D%0AX-Injected:%201 HTTP/1.0\r\n\r\n".encode()
            response = exchange("127.0.0.1", nginx.port, request)
            assert response is not None
            split[prefix] = "x-injected" in response.headers
        findings = lint([nginx.tree], select(["NG203"]), Options())
    texts = nginx.tree.root.subtree()
    fired = set()
    for finding in findings:
        node = [n for n in texts if n.line == finding.line and n.directive != "#"][-1]
        location = node.enclosing("location")
        assert location is not None
        fired.add(next(p for p, _ in CASES if location.args[-1].lstrip("^").startswith(p)
                       or location.args[-1] == p))
    assert split["/cls/"] and not split["/raw/"], split  # the harness sees splitting
    assert fired == {p for p, did in split.items() if did}, (fired, split)


def test_http_host_differs_from_host_for_an_absolute_request_line(launcher):
    servers = ("server { listen 127.0.0.1:PORT; server_name good.example;\n"
               "  location / { add_header X-Host $host always;"
               " add_header X-Http-Host $http_host always; return 204; } }\n")
    with launcher.start(servers) as nginx:
        request = (b"GET http://good.example/ HTTP/1.1\r\nHost: evil.example\r\n"
                   b"Connection: close\r\n\r\n")
        response = exchange("127.0.0.1", nginx.port, request)
    assert response is not None
    assert response.headers["x-host"] == "good.example"
    assert response.headers["x-http-host"] == "evil.example"
