"""Differential tests: nglint's routing model against a running nginx.

Every generated location answers ``return 200 "<id>";`` (and sends its id in
an ``X-Loc`` header, which nginx also attaches to the 301 of an auto redirect,
whose location never runs its ``return``).  Requests go over a raw socket so
the request target reaches nginx byte for byte.  Any disagreement fails with
a table of (uri, nginx, model).

Skipped only when no nginx exists (``nginx`` on PATH or /usr/sbin/nginx) and
the CI environment variable is unset; with CI set, a missing nginx fails
(``tests/nginx_harness.py`` runs nginx and holds that rule).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import warnings
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nglint.semantics.routing import route
from nglint.semantics.servers import http_servers, select_servers
from nglint.semantics.uri import normalize_uri
from nglint.tree import Node, Tree
from tests.nginx_harness import CONFIG, Instance, nginx_launcher

# generated configurations (x10 generated URIs for normalization); a fixed seed by
# default so CI is reproducible, NGLINT_NGINX_RANDOM=1 to explore new examples
EXAMPLES = int(os.environ.get("NGLINT_NGINX_EXAMPLES", "100"))
DERANDOMIZE = not os.environ.get("NGLINT_NGINX_RANDOM")

# URIs where the model knowingly differs from nginx, with the reason; each must
# still differ (so the table cannot go stale).
LONG = "/" + "a" * 300  # 301 bytes: 301 % 256 == 45
TRUNCATED_LENGTH = (
    "nginx keeps a location name's length in a u_char (ngx_http_location_tree_node_t.len), "
    "so this 301-byte name is compared on 45 bytes only; the model answers unknown")
EXPECTED_DISAGREEMENTS: dict[str, str] = {
    LONG: TRUNCATED_LENGTH,
    LONG + "/q": TRUNCATED_LENGTH,
    "/" + "a" * 44: TRUNCATED_LENGTH,  # nginx: the 301-byte location
    "/" + "a" * 200: TRUNCATED_LENGTH,
    "/" + "a" * 44 + "b": TRUNCATED_LENGTH,
    "/short": "nginx routes it right, but the model abstains for every URI of a block "
              "holding a location name longer than 255 bytes (see above)",
}


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    started = nginx_launcher(tmp_path_factory.mktemp("nginx"), "the routing model")
    yield started
    started.stop_all()  # whatever happened to the tests


# --------------------------------------------------------------------------- comparing

def location_id(node: Node) -> str:
    directive = node.first("return")
    assert directive is not None, node
    return directive.args[1]


def observe(instance: Instance, uri: str) -> str:
    response = instance.get(uri.encode("utf-8", "surrogateescape"))
    if response.status == 400:
        return "400"
    if response.status == 200:
        return "200 " + response.body.decode("utf-8", "replace")
    if response.status == 301:
        return "301 " + response.headers.get("x-loc", "?")
    if response.status in (403, 404) and "x-loc" not in response.headers:
        return "none"  # the server's own configuration served it: no location
    return f"{response.status} ?"


def predict(tree: Tree, uri: str) -> str:
    if normalize_uri(uri) is None:
        return "400"
    [(_server, match)] = route(tree, uri)
    if match.unknown:
        return "unknown"
    if match.location is None:
        return "none"
    return ("301 " if match.redirect else "200 ") + location_id(match.location)


def shorten(uri: str) -> str:
    return repr(uri) if len(uri) <= 40 else f"{uri[:16]!r}... ({len(uri)} bytes)"


class ExpectedDisagreement(UserWarning):
    """Shown in pytest's warnings summary: a listed, explained difference from nginx."""


def compare(instance: Instance, uris: list[str], config: str) -> int:
    rows = []
    for uri in dict.fromkeys(uris):
        nginx, model = observe(instance, uri), predict(instance.tree, uri)
        expected_difference = uri in EXPECTED_DISAGREEMENTS
        if expected_difference and nginx != model:
            warnings.warn(ExpectedDisagreement(
                f"{shorten(uri)}: nginx={nginx} model={model}: {EXPECTED_DISAGREEMENTS[uri]}"),
                stacklevel=2)
        if (nginx != model) != expected_difference:
            rows.append((uri, nginx, model, EXPECTED_DISAGREEMENTS.get(uri, "")))
    if rows:
        width = max(len(shorten(uri)) for uri, *_ in rows)
        table = "\n".join(f"{shorten(uri):<{width}}  nginx={nginx:<12} model={model:<12} {why}"
                          for uri, nginx, model, why in rows)
        pytest.fail(f"{len(rows)} disagreement(s) with nginx:\n{table}\n\nconfig:\n{config}")
    return len(dict.fromkeys(uris))


# --------------------------------------------------------------------------- fixed cases

def loc(location_id: str, extra: str = "") -> str:
    return f'add_header X-Loc {location_id}; {extra} return 200 "{location_id}";'


TRICKY_SERVER = f"""
server {{
    listen 127.0.0.1:PORT;
    location = / {{ {loc("exact-root")} }}
    location / {{ {loc("root")} }}
    location /a {{ {loc("a")} }}
    location /a/ {{ {loc("a-slash")} }}
    location /a/b {{ {loc("a-b")} }}
    location /ab {{ {loc("ab")} }}
    location = /a/b/c {{ {loc("exact-abc")} }}
    location /documents/ {{ {loc("documents")} }}
    location ^~ /images/ {{ {loc("images")} }}
    location ~* \\.(gif|jpg|jpeg)$ {{ {loc("gif-jpg")} }}
    location ~ \\\\.php$ {{ {loc("php")} }}
    location ~ ^/CaSe {{ {loc("case")} }}
    location /nest/ {{ {loc("nest")}
        location /nest/in/ {{ {loc("nest-in")} }}
        location ^~ /nest/stop/ {{ {loc("nest-stop")} }}
        location = /nest/exact {{ {loc("nest-exact")} }}
        location ~ \\.css$ {{ {loc("nest-css")} }}
        location ~ \\.html$ {{ {loc("nest-html")}
            location ~ ^/nest/in/ {{ {loc("nest-html-in")} }}
        }}
    }}
    location ~ \\.(css|png)$ {{ {loc("css-png")} }}
    location ~ /rx {{ {loc("rx")}
        location /rx/dead/ {{ {loc("rx-dead")} }}
        location ~ \\.txt$ {{ {loc("rx-txt")} }}
    }}
    location /api/ {{ {loc("api", "proxy_pass http://127.0.0.1:9;")} }}
    location = /both/ {{ {loc("both-exact")} }}
    location /both/ {{ {loc("both-prefix", "fastcgi_pass 127.0.0.1:9;")} }}
    location /outer {{ {loc("outer")}
        location /outer/svc/ {{ {loc("outer-svc", "grpc_pass grpc://127.0.0.1:9;")} }}
    }}
    location =/glued {{ {loc("glued-exact")} }}
    location ^~/gl/ {{ {loc("glued-noregex")} }}
    location ~*\\.bmp$ {{ {loc("glued-bmp")} }}
    location "~" "^/q(?<name>u)(?'n2'o)te$" {{ {loc("named-groups")} }}
    location ~ ^/posix/[[:digit:]]+$ {{ {loc("posix")} }}
    location ~ "^/brace/x{{,2}}$" {{ {loc("brace")} }}
    location ~ ^/caf\\xc3\\xa9$ {{ {loc("cafe-bytes")} }}
    location /café/ {{ {loc("cafe")} }}
    location ~ ^/one/.$ {{ {loc("one-byte")} }}
    location ~ "%|\\?|#" {{ {loc("specials")} }}
    location @named {{ return 200 "named"; }}
}}
"""

TRICKY_URIS = [
    "/", "/index.html", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/c/", "/a/bc", "/ab",
    "/abc", "/aa", "/b", "/A", "/A/b", "//a", "/a//b", "/a/./b", "/a/../ab", "/x/../a/b/c",
    "/a/b/c?x=1", "/a/b/c#frag", "/a/b%2Fc", "/a%2Fb%2Fc", "/%61/b/c", "/a/b/%63", "/a/b/c/..",
    "/a/b/c/.", "/a/%2e%2e/ab", "/a/.%2E/ab", "/..", "/a/../..", "/%2e%2e", "/a/%2E%2E/%2E%2E",
    "/documents/document.html", "/documents/1.jpg", "/documents/1.JPG", "/documents/1.Gif",
    "/images/1.gif", "/images/x.php", "/images", "/x.php", "/x.PHP", "/a/x.php", "/x.php/y",
    "/x%2Ephp", "/x.ph%70", "/CaSe", "/case", "/CASE/x", "/CaSe.jpg", "/nest", "/nest/",
    "/nest/x", "/nest/in/x", "/nest/in/x.css", "/nest/in/x.html", "/nest/in/x.png",
    "/nest/stop/x.css", "/nest/stop/x.png", "/nest/stop/x.gif", "/nest/exact",
    "/nest/exact.css", "/nest/x.css", "/nest/x.html", "/nest/x.png", "/nest/x.jpg", "/x.css",
    "/x.png", "/rx", "/rx/dead/", "/rx/dead/x", "/rx/a.txt", "/rx/dead/a.txt", "/prefix/rx",
    "/api", "/api/", "/api/x", "/api?x=1", "/API", "/both", "/both/", "/both/x", "/outer",
    "/outer/svc", "/outer/svc/", "/outer/svc/x", "/outer/sv", "/glued", "/glued/", "/gl/x.gif",
    "/gl", "/x.bmp", "/x.BMP", "/quote", "/Quote", "/posix/123", "/posix/12a", "/brace/",
    "/brace/x", "/brace/xx", "/brace/x{,2}", "/caf%C3%A9", "/café", "/café/menu",
    "/caf%c3%a9/menu", "/one/e", "/one/é", "/one/%C3", "/a%25b", "/a%3Fb", "/a%23b", "/a?b",
    "/a#b", "/@named", "/named", "/a%00", "/a%zz", "/a%", "/a b", "/%20", "/a%20b",
    "/%2F%2Fa", "http://example.com/a/b/c", "/static", "/nothing/here", "/~",
    "/x.php%0A", "/x.php%0D", "/one/%0A", "/one/%0D", "/one/%09", "/a%0A/b", "/caf%C3%A9%0A",
]


def test_fixed_tricky_uris_agree_with_nginx(launcher):
    with launcher.start(TRICKY_SERVER) as instance:
        compared = compare(instance, TRICKY_URIS, TRICKY_SERVER)
    assert compared == len(set(TRICKY_URIS))


NO_CATCH_ALL = f"""
server {{
    listen 127.0.0.1:PORT;
    location /only/ {{ {loc("only")} }}
    location ~ \\.x$ {{ {loc("x")} }}
}}
"""


def test_no_location_is_a_404_without_id(launcher):
    uris = ["/", "/only", "/only/", "/other", "/other/", "/a.x", "/a.y", "/only/../other"]
    with launcher.start(NO_CATCH_ALL) as instance:
        compare(instance, uris, NO_CATCH_ALL)
        assert predict(instance.tree, "/other") == "none"


ECHO_URI = """
server {
    listen 127.0.0.1:PORT;
    location / { return 200 "$uri"; }
}
"""


@pytest.fixture(scope="module")
def echo(launcher):
    """One nginx answering with $uri, the normalized path it matched locations against."""
    with launcher.start(ECHO_URI) as instance:
        yield instance


def normalization_mismatch(instance: Instance, uri: str) -> str | None:
    response = instance.get(uri.encode("utf-8", "surrogateescape"))
    got = response.body if response.status == 200 else str(response.status).encode()
    model = normalize_uri(uri)
    want = b"400" if model is None else model.encode("utf-8", "surrogateescape")
    return None if got == want else f"{uri!r}: nginx={got!r} model={want!r}"


LONG_NAMES = f"""
server {{
    listen 127.0.0.1:PORT;
    location / {{ {loc("root")} }}
    location {LONG} {{ {loc("long")} }}
    location /short {{ {loc("short")} }}
}}
"""


def test_names_longer_than_255_bytes_are_listed_disagreements(launcher):
    uris = [LONG, LONG + "/q", "/" + "a" * 44, "/" + "a" * 200, "/" + "a" * 44 + "b", "/short"]
    with launcher.start(LONG_NAMES) as instance:
        compare(instance, uris, LONG_NAMES)
        assert instance.get(b"/" + b"a" * 44).body == b"long"  # the quirk itself
        assert all(predict(instance.tree, uri) == "unknown" for uri in uris)


def test_normalization_agrees_with_nginx_uri_variable(echo):
    rows = [row for uri in TRICKY_URIS + SAMPLE_URIS
            if (row := normalization_mismatch(echo, uri)) is not None]
    assert not rows, "\n".join(rows)


SERVER_NAMES = """
server { listen 127.0.0.1:PORT; server_name example.com www.example.com; return 200 "exact"; }
server { listen 127.0.0.1:PORT; server_name *.example.com; return 200 "head"; }
server { listen 127.0.0.1:PORT; server_name *.deep.example.com; return 200 "head-long"; }
server { listen 127.0.0.1:PORT; server_name .example.org; return 200 "dot"; }
server { listen 127.0.0.1:PORT; server_name www.*; return 200 "tail"; }
server { listen 127.0.0.1:PORT; server_name www.example.*; return 200 "tail-long"; }
server { listen 127.0.0.1:PORT; server_name ~^api\\d+\\.example\\.net$; return 200 "regex1"; }
server { listen 127.0.0.1:PORT default_server; server_name default.test; return 200 "default"; }
server { listen 127.0.0.1:PORT; server_name ~^(?<s>[a-z]+)\\.example\\.net$; return 200 "regex2"; }
server { listen 127.0.0.1:PORT; server_name ~^UPPER\\.test$; return 200 "upper"; }
server { listen 127.0.0.1:PORT; server_name ""; return 200 "empty"; }
server { listen 127.0.0.1:PORT; server_name example.com; return 200 "conflict"; }
"""

HOSTS = [
    "example.com", "EXAMPLE.COM", "example.com.", "example.com:8080", "www.example.com",
    "a.example.com", "a.b.example.com", "x.deep.example.com", "deep.example.com",
    "example.org", "x.example.org", "www.example.net", "www.other.test", "www.example.com.au",
    "api12.example.net", "api.example.net", "abc.example.net", "upper.test", "UPPER.test",
    "nothing.test", "www", "example.net",
]


def test_server_selection_agrees_with_nginx(launcher):
    with launcher.start(SERVER_NAMES) as instance:
        rows = []
        for host in HOSTS:
            response = instance.get(b"/", host=host.encode())
            got = response.body.decode()
            picked = select_servers(instance.tree, host, instance.port)
            model = [location_id(server) for server in picked]  # servers "return" their id
            if [got] != model:
                rows.append(f"{host!r}: nginx={got} model={model}")
        assert not rows, "\n".join(rows)
        assert len(http_servers(instance.tree)) == 12


# --------------------------------------------------------------------------- generated

SEGMENTS = ["a", "b", "ab", "A", "img", "api", "v1", "x.php", "f.gif", "p.PNG"]
REGEXES = [
    ("~", r"\.php$"), ("~", r"^/a"), ("~", r"b/"), ("~", r"(?<n>ab)"), ("~*", r"\.png$"),
    ("~", r"A"), ("~", r"/$"), ("~", r"^/api/v[0-9]+"), ("~*", r"^/IMG/"), ("~", r"^/[a-z]+$"),
    ("~", r"\.gif$"), ("~", r"^/a/b"), ("~", r"[[:upper:]]"), ("~", r"x{,2}"), ("~*", r"AB"),
    ("~", r"\."), ("~", r"%"), ("~", r"\?"),
]


@dataclass
class Spec:
    modifier: str
    name: str
    children: list[Spec] = field(default_factory=list)
    proxy: bool = False


def static_names(prefix: str) -> st.SearchStrategy[str]:
    tail = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=2).map("/".join)
    return st.builds(lambda body, slash: prefix + body + slash, tail,
                     st.sampled_from(["", "/"]))


@st.composite
def location_specs(draw, prefix: str = "/", depth: int = 0,
                   static: bool = True) -> list[Spec]:
    specs: list[Spec] = []
    exact: set[str] = set()
    inclusive: set[str] = set()
    for _ in range(draw(st.integers(0, 5 if depth == 0 else 3))):
        kind = draw(st.sampled_from(["prefix", "prefix", "^~", "=", "regex"]
                                    if static else ["regex", "regex", "dead"]))
        if kind == "regex":
            modifier, pattern = draw(st.sampled_from(REGEXES))
            spec = Spec(modifier, pattern)
            if depth < 2:
                spec.children = draw(location_specs(pattern, depth + 1, static=False))
            specs.append(spec)
            continue
        if kind == "dead":  # a prefix nested in a regex: it must start with the regex text
            name = prefix + "/z"
            if name not in inclusive:
                inclusive.add(name)
                specs.append(Spec("", name))
            continue
        name = draw(static_names(prefix if prefix.endswith("/") else prefix + "/")
                    if depth else static_names("/"))
        if kind == "=":
            if name not in exact:
                exact.add(name)
                specs.append(Spec("=", name, proxy=name.endswith("/") and draw(st.booleans())))
            continue
        if name in inclusive:
            continue
        inclusive.add(name)
        spec = Spec("^~" if kind == "^~" else "", name,
                    proxy=name.endswith("/") and draw(st.booleans()))
        if depth < 2 and draw(st.booleans()):
            spec.children = draw(location_specs(name, depth + 1, static=True))
        specs.append(spec)
    return specs


def render(specs: list[Spec], counter: list[int], indent: str = "    ") -> str:
    lines = []
    for spec in specs:
        counter[0] += 1
        ident = f"L{counter[0]}"
        name = '"' + spec.name + '"'  # regexes and dead names may hold { } ; or spaces
        head = f"location {spec.modifier} {name}" if spec.modifier else f"location {name}"
        extra = "proxy_pass http://127.0.0.1:9;" if spec.proxy else ""
        lines.append(f"{indent}{head} {{ {loc(ident, extra)}")
        if spec.children:
            lines.append(render(spec.children, counter, indent + "    "))
        lines.append(f"{indent}}}")
    return "\n".join(lines)


def all_names(specs: list[Spec]) -> list[str]:
    names = []
    for spec in specs:
        if spec.modifier not in ("~", "~*"):
            names.append(spec.name)
        names.extend(all_names(spec.children))
    return names


PIECES = ["a", "b", "ab", "A", "img", "IMG", "api", "v1", "v22", "x.php", "f.gif", "p.PNG",
          "p.png", "z", ".", "..", "", "%2F", "%2e", "%2E%2E", "%41", "%61", "%25", "%3F",
          "%23", "%20", "é", "%C3%A9", "%", "%zz", "~", "x", "xxx", "%00", "AB"]
SAMPLE_URIS = [
    "/a/b/../x.php", "/img/%2e%2e/api/v1", "/%2F/a", "/a%2F%2E%2E%2Fb", "/IMG/p.PNG?x",
    "/api/v22/x.php#f", "/A/ab/", "/ab/%61b", "/./.././a", "/a/..%2F..%2Fb",
]

free_uris = st.builds(
    lambda parts, tail: "/" + "/".join(parts) + tail,
    st.lists(st.sampled_from(PIECES), max_size=5),
    st.sampled_from(["", "", "", "/", "?q=/a/../b", "#frag", "/.", "/.."]))


def uris_for(names: list[str]) -> st.SearchStrategy[str]:
    if not names:
        return free_uris
    name = st.sampled_from(names)
    variants = st.one_of(
        name,
        name.map(lambda n: n.rstrip("/")),
        name.map(lambda n: n + "/"),
        name.map(lambda n: n + "x"),
        name.map(lambda n: n + "/x.php"),
        name.map(lambda n: n + ".PNG"),
        name.map(lambda n: n[:-1]),
        name.map(str.upper),
        name.map(lambda n: n.replace("/", "%2F", 2).replace("%2F", "/", 1)),
        name.map(lambda n: n.replace("/", "/./", 1)),
        name.map(lambda n: "/z/.." + n),
        name.map(lambda n: "/" + n),
        st.builds(lambda a, b: a.rstrip("/") + b, name, free_uris),
    )
    return st.one_of(variants, variants, free_uris)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_configs_agree_with_nginx(launcher, data):
    specs = data.draw(location_specs(), label="locations")
    named = data.draw(st.booleans(), label="named location")
    body = render(specs, [0])
    if named:
        body += '\n    location @named { return 200 "named"; }'
    servers = f"server {{\n    listen 127.0.0.1:PORT;\n{body}\n}}\n"
    uris = data.draw(st.lists(uris_for(all_names(specs)), min_size=25, max_size=60),
                     label="uris")
    with launcher.start(servers) as instance:
        compare(instance, uris, servers)


def test_expected_disagreements_are_explained():
    assert all(reason.strip() for reason in EXPECTED_DISAGREEMENTS.values())


def test_configs_are_valid_for_nginx_t(launcher, tmp_path):
    """The fixed configurations pass `nginx -t` (the launcher also fails on a bad one)."""
    for servers in (TRICKY_SERVER, NO_CATCH_ALL, SERVER_NAMES):
        conf = tmp_path / "nginx.conf"
        (tmp_path / "empty").mkdir(exist_ok=True)
        conf.write_text(CONFIG.format(prefix=tmp_path, http="",
                                      servers=servers.replace("PORT", "1")),
                        encoding="utf-8")
        result = subprocess.run([launcher.binary, "-t", "-p", str(tmp_path), "-c", str(conf)],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, textwrap.indent(result.stderr, "  ")


# request targets: printable ASCII, '%' escapes, a few raw UTF-8 and forbidden bytes
# (CR and LF are left out: they end the request line instead of being refused)
raw_targets = st.lists(
    st.one_of(
        st.sampled_from(["/", "/", ".", "..", "%", "?", "#", "%2F", "%2f", "%2E", "%2e", "%00",
                         "%25", "%3F", "%23", "%zz", "%4", " ", "\t", "\x7f", "\x01", "é"]),
        st.text(alphabet="abAB/.%0123456789efEF+~;=&", min_size=1, max_size=3),
    ),
    max_size=12,
).map(lambda parts: "/" + "".join(parts)).filter(
    # a trailing space is indistinguishable from the one before "HTTP/1.1"
    lambda target: not target.endswith(" "))


@settings(max_examples=EXAMPLES * 10, deadline=None, derandomize=DERANDOMIZE)
@given(uri=st.one_of(raw_targets, free_uris))
def test_generated_uris_normalize_like_nginx(echo, uri):
    mismatch = normalization_mismatch(echo, uri)
    assert mismatch is None, mismatch
