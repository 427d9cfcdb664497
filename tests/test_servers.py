"""nglint.semantics.servers (server selection) and uri.validate_host.

Tables first, then the same behaviours on a running nginx: every server
answers its id (or ``$host``), requests go over raw sockets.  The address
group test binds a wildcard address, so it runs in a private network
namespace (``unshare -rn``) and is skipped where that is not allowed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from nglint.load import Loader
from nglint.semantics.servers import Selection, http_servers, merge_slashes, select, select_servers
from nglint.semantics.uri import normalize_uri, validate_host
from nglint.tree import Node, Tree
from tests.helpers import REPO
from tests.nginx_harness import http_get, nginx_launcher


def load(tmp_path, servers: str) -> Tree:
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp {\n" + textwrap.dedent(servers) + "\n}\n")
    tree = Loader(str(tmp_path)).load(str(path))
    assert not tree.problems, tree.problems
    return tree


def server_id(node: Node) -> str:
    directive = node.first("return")
    assert directive is not None, node
    return directive.args[1].strip('"')


def picked(tree: Tree, host: str | None, address: str | None = None,
           port: int | None = None) -> list[str]:
    return [server_id(selection.server) for selection in select(tree, host, address, port)]


# --------------------------------------------------------------------------- validate_host

HOSTS = [
    # (Host header value, what nginx looks servers up by; None: 400)
    ("Example.COM", "example.com"), ("example.com.", "example.com"), ("a.:80", "a"),
    ("a:80.", "a"), ("a.:8.0", "a."), ("example.com:8080", "example.com"), (".a", ".a"),
    ("[::1]:80", "[::1]"), ("[::1].", "[::1]"), ("[A.B]", "[a.b]"), ("[::1", "[::1"),
    ("a[b:1", "a[b"), ("a\\b", "a\\b"), ("caf\xe9", "caf\xe9"), ("a_b", "a_b"),
    ("a..b", None), ("a/b", None), ("a\x01b", None), ("a\x7fb", None), ("a b", None),
    ("a\tb", None), ("a:1..2", None), ("a:/", None), ("", None), (".", None), (":80", None),
    ("..", None), ("a..", None), ("[a..b]", None),
]


@pytest.mark.parametrize(("host", "expected"), HOSTS)
def test_validate_host(host, expected):
    assert validate_host(host) == expected


def test_validate_host_agrees_with_nginx(tmp_path_factory):
    """``$host`` is the validated Host (ngx_http_process_host); 400 when refused."""
    launcher = nginx_launcher(tmp_path_factory.mktemp("nginx"), "Host validation")
    rows = []
    try:
        with launcher.start('server { listen 127.0.0.1:PORT; return 200 "[$host]"; }') as nginx:
            for host, _expected in [*HOSTS, ("a\x00b", None)]:
                raw = host.encode("latin-1")
                response = http_get("127.0.0.1", nginx.port, b"/", raw)
                got = None if response.status == 400 else response.body.decode("latin-1")
                model = validate_host(raw.decode("utf-8", "surrogateescape"))
                model_text = None if model is None else "[" + model.encode(
                    "utf-8", "surrogateescape").decode("latin-1") + "]"
                if got != model_text:
                    rows.append(f"{host!r}: nginx={got!r} model={model_text!r}")
    finally:
        launcher.stop_all()
    assert not rows, "\n".join(rows)


# --------------------------------------------------------------------------- names

CONFLICTS = """
server { listen 127.0.0.1:PORT default_server; server_name default.test; return 200 "def"; }
server { listen 127.0.0.1:PORT; server_name *.a.test; return 200 "a-star"; }
server { listen 127.0.0.1:PORT; server_name .a.test b.test; return 200 "a-dot"; }
server { listen 127.0.0.1:PORT; server_name a.test; return 200 "a-exact"; }
server { listen 127.0.0.1:PORT; server_name c.test; return 200 "c-exact"; }
server { listen 127.0.0.1:PORT; server_name .c.test; return 200 "c-dot"; }
server { listen 127.0.0.1:PORT; server_name .d.test; return 200 "d-dot"; }
server { listen 127.0.0.1:PORT; server_name *.d.test D.TEST; return 200 "d-star"; }
server { listen 127.0.0.1:PORT; server_name www.e.*; return 200 "e-tail"; }
server { listen 127.0.0.1:PORT; server_name www.e.* www.e; return 200 "e-tail2"; }
server { listen 127.0.0.1:PORT; server_name *.f.test; return 200 "f-star"; }
server { listen 127.0.0.1:PORT; server_name f.test; return 200 "f-exact"; }
server { listen 127.0.0.1:PORT; server_name .g.test .g.test; return 200 "g-dot"; }
server { listen 127.0.0.1:PORT; server_name *.zz; return 200 "zz-star"; }
server { listen 127.0.0.1:PORT; server_name *.example.zz; return 200 "example-zz-star"; }
server { listen 127.0.0.1:PORT; server_name .yy; return 200 "yy-dot"; }
server { listen 127.0.0.1:PORT; server_name *.a.yy; return 200 "a-yy-star"; }
server { listen 127.0.0.1:PORT; server_name www.*; return 200 "www-tail"; }
server { listen 127.0.0.1:PORT; server_name ~^(?i)MAIL\\.h\\.test$; return 200 "h-regex"; }
server { listen 127.0.0.1:PORT; server_name ~^(?-i)CAPS\\.h\\.test$ ~^x(?i)Y\\.h\\.test$;
         return 200 "h-regex2"; }
"""

CONFLICT_HOSTS = {
    # host: the server nginx picks (checked on nginx by the test below)
    "a.test": "def",  # .a.test dropped for *.a.test, and it still claims a.test
    "x.a.test": "a-star", "b.test": "a-dot",  # the server keeps its other names
    "c.test": "c-exact", "x.c.test": "def",  # .c.test dropped whole
    "d.test": "d-dot", "x.d.test": "d-dot",  # *.d.test and d.test dropped
    "www.e.x": "e-tail", "www.e": "e-tail2",  # a tail and an exact name never conflict
    "f.test": "f-exact", "x.f.test": "f-star",
    "g.test": "g-dot", "x.y.g.test": "g-dot",
    "mail.h.test": "h-regex", "caps.h.test": "def", "xy.h.test": "h-regex2",
    # the longest leading wildcard; "*.x" never takes "x" itself, ".x" does
    "example.zz": "zz-star", "x.example.zz": "example-zz-star", "yy": "yy-dot",
    "a.yy": "yy-dot", "x.a.yy": "a-yy-star",
    # trailing wildcards come after leading ones and need a label for "*"
    "www": "def", "www.example": "www-tail", "www.example.zz": "example-zz-star",
    "nothing": "def",
}


@pytest.mark.parametrize(("host", "expected"), CONFLICT_HOSTS.items())
def test_conflicting_names_are_dropped_whole(tmp_path, host, expected):
    tree = load(tmp_path, CONFLICTS.replace("PORT", "8080"))
    assert picked(tree, host) == [expected]


def test_names_agree_with_nginx(tmp_path_factory):
    launcher = nginx_launcher(tmp_path_factory.mktemp("nginx"), "server names")
    rows = []
    try:
        with launcher.start(CONFLICTS) as nginx:
            for host in CONFLICT_HOSTS:
                got = nginx.get(b"/", host.encode()).body.decode()
                model = picked(nginx.tree, host)
                if [got] != model:
                    rows.append(f"{host!r}: nginx={got} model={model}")
            # nginx warns while reading the file, before its error_log is open
            log = (nginx.prefix / "stderr.log").read_text()
    finally:
        launcher.stop_all()
    assert not rows, "\n".join(rows)
    for name in (".a.test", "a.test", ".c.test", "*.d.test", "d.test", "www.e.*", ".g.test"):
        assert f'conflicting server name "{name}"' in log


def test_unknown_regex_is_reported(tmp_path):
    tree = load(tmp_path, r"""
        server { listen 80 default_server; server_name d; return 200 "d"; }
        server { listen 80; server_name ~^(?R)x$; return 200 "recursive"; }
        server { listen 80; server_name ~^x; return 200 "x"; }
        server { listen 80; server_name exact; return 200 "exact"; }
    """)
    [selection] = select(tree, "xyz")
    assert (server_id(selection.server), selection.unknown) == ("x", True)
    [selection] = select(tree, "q")
    assert (server_id(selection.server), selection.unknown) == ("d", True)
    [selection] = select(tree, "exact")  # names before regexes: sure
    assert (server_id(selection.server), selection.unknown) == ("exact", False)
    [selection] = select(tree, "")  # no Host: regexes are not tried
    assert (server_id(selection.server), selection.unknown) == ("d", False)
    assert [server_id(s) for s in select_servers(tree, "xyz")] == ["recursive", "x"]


# --------------------------------------------------------------------------- Selection

def test_selection_fields(tmp_path):
    tree = load(tmp_path, """
        server { listen 8080; server_name a; return 200 "a"; }
        server { listen 8080 default_server; server_name b; return 200 "b"; }
        server { listen 127.0.0.1:8080; server_name c; return 200 "c"; }
        server { listen 8081; server_name a; return 200 "a2"; }
    """)
    a, b, c, a2 = http_servers(tree)
    assert select(tree, "a") == [
        Selection(a, select(tree, "a")[0].listen, b),
        Selection(c, select(tree, "a")[1].listen, c),
        Selection(a2, select(tree, "a")[2].listen, a2)]
    assert [(s.listen.address, s.listen.port, s.listen.default) for s in select(tree, "a")] == [
        ("*", 8080, True), ("127.0.0.1", 8080, False), ("*", 8081, False)]
    assert [s.server for s in select(tree, None)] == [a, b, c, a2]
    assert [s.server for s in select(tree, None, port=8080)] == [a, b, c]
    bad = select(tree, "a..b", port=8080)
    assert [(s.server, s.default, s.status) for s in bad] == [(b, b, 400), (c, c, 400)]
    assert select_servers(tree, "a..b") == []
    assert picked(tree, " a ", port=8080) == ["a", "c"]  # header spaces are not the value


def test_request_address_picks_one_group(tmp_path):
    tree = load(tmp_path, """
        server { listen 8080; server_name a; return 200 "a"; }
        server { listen 127.0.0.1:8080; server_name b; return 200 "b"; }
        server { listen [::]:8080; server_name a; return 200 "v6"; }
        server { listen [::1]:8080; server_name a; return 200 "v6-local"; }
        server { listen 127.0.0.2:8081; server_name c; return 200 "c"; }
    """)
    assert picked(tree, "a", "127.0.0.1", 8080) == ["b"]  # the address's own group only
    assert picked(tree, "a", "127.0.0.2", 8080) == ["a"]  # the wildcard's
    assert picked(tree, "a", "0.0.0.0", 8080) == ["a"]
    assert picked(tree, "a", "::1", 8080) == ["v6-local"]
    assert picked(tree, "a", "[::2]", 8080) == ["v6"]
    assert picked(tree, "c", "127.0.0.2") == ["a", "c"]  # no port: each port's group
    assert picked(tree, "c", "127.0.0.3", 8081) == []  # nothing listens there


def test_unix_socket_group(tmp_path):
    tree = load(tmp_path, """
        server { listen unix:/run/a.sock; server_name a; return 200 "a"; }
        server { listen unix:/run/a.sock; server_name b; return 200 "b"; }
        server { listen 80; server_name b; return 200 "b80"; }
    """)
    assert picked(tree, "b", "unix:/run/a.sock") == ["b"]
    assert picked(tree, "zz", "unix:/run/a.sock") == ["a"]
    assert picked(tree, "b") == ["b", "b80"]


NETNS_SCRIPT = """
import json, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
sys.path.insert(0, sys.argv[1])
import tests.nginx_harness as harness
from tests.nginx_harness import Launcher, http_get
from pathlib import Path
# root of the namespace: nginx would chown its temp paths to nobody, unmapped here
harness.CONFIG = "user root root;\\n" + harness.CONFIG
servers, requests = json.loads(sys.stdin.read())
launcher = Launcher(sys.argv[2], Path(sys.argv[3]))
with launcher.start(servers, ports=[8080, 8081]) as nginx:
    answers = []
    for address, port, host, target in requests:
        response = http_get(address, port, target.encode(), host.encode())
        answers.append([response.status, response.body.decode()])
    print(json.dumps([str(nginx.prefix / "nginx.conf"), answers]))
"""

ADDRESSES = """
server { listen 8080; server_name a; merge_slashes off; return 200 "a $uri"; }
server { listen 127.0.0.1:8080; server_name b; return 200 "b $uri"; }
server { listen 127.0.0.1:8080 default_server; server_name c; merge_slashes off;
         return 200 "c $uri"; }
server { listen 8080; server_name c; return 200 "c-wild $uri"; }
server { listen 127.0.0.2:8081; server_name d; return 200 "d $uri"; }
server { listen 127.0.0.3:8081; server_name d; return 200 "d3 $uri"; }
"""


def test_address_groups_agree_with_nginx(tmp_path):
    """Wildcard and specific listens of one port, ``merge_slashes`` of the default server."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rn", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no private network namespace (unshare -rn) for a wildcard listen")
    launcher = nginx_launcher(tmp_path, "listen address groups")
    requests = [[address, port, host, "//x//y"]
                for address in ("127.0.0.1", "127.0.0.2", "127.0.0.3")
                for port in (8080, 8081) for host in ("a", "b", "c", "d", "zz")
                if port == 8080 or address != "127.0.0.1"]
    result = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", NETNS_SCRIPT, str(REPO), launcher.binary,
         str(tmp_path)], input=json.dumps([ADDRESSES, requests]), capture_output=True,
        text=True, timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    conf, answers = json.loads(result.stdout)
    tree = Loader(str(tmp_path)).load(conf)
    rows = []
    for (address, port, host, target), (status, body) in zip(requests, answers, strict=True):
        [selection] = select(tree, host, address, port)
        uri = normalize_uri(target, merge_slashes(selection.default))
        model = f"{server_id(selection.server).split(' ')[0]} {uri}"
        if status != 200 or body != model:
            rows.append(f"{address}:{port} {host!r}: nginx={status} {body!r} model={model!r}")
    assert not rows, "\n".join(rows)
