"""Differential test: nglint's "nginx -t would fail" against the installed nginx's own -t.

For every fixture, every ``../shared/corpus`` file and several hundred mutations of
valid base configurations (a directive moved to another block, a misspelled name,
an argument dropped or added, a directive doubled, a flag set to ``yes``), the
verdict of nglint -- any error-severity finding of NG001-NG012, run with
``--nginx-version`` equal to the installed nginx -- must equal ``nginx -t``'s.

Every case is rewritten the same way for both (``stub``): certificates point at
one self-signed pair, ``include``/``load_module``/``pid``/``user`` and other
host-specific files go, logs, caches and temp paths move into a scratch directory,
host names nginx would resolve become 127.0.0.1, a fragment is wrapped in the
blocks of the context nglint infers for it, and ``events {}`` is added to a main
file without one.  Dynamic modules a case needs are loaded when installed
(``/usr/lib/nginx/modules``); a case needing a module this nginx lacks is not
comparable and is counted as such (never silently: the summary lists them).

Disagreements are listed in ``EXPECTED_DISAGREEMENTS`` with the reason; any
other one fails, and so does a listed one that no longer disagrees.  The
agreement rate is printed in the summary warning.

Skipped when nginx is missing, except in CI; the corpus part when the corpus is
missing, except in CI.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import crossplane
import pytest

from nglint import directives, registry
from nglint.discover import discover
from nglint.engine import Options, lint
from nglint.load import infer_context
from nglint.source import SourceFile
from tests.helpers import FIXTURES, SHARED

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                  else None)
MODULES_DIR = Path("/usr/lib/nginx/modules")
CORPUS = SHARED / "corpus"
IN_CI = bool(os.environ.get("CI"))
# the rules whose errors mean "nginx -t fails": NG001-NG012 and NG018
VERDICT_CODES = {f"NG{n:03d}" for n in (*range(1, 13), 18)}
MUTATIONS_PER_BASE = 70

REMOVED = {"include", "load_module", "pid", "user", "lock_file", "ssl_dhparam", "ssl_crl",
           "ssl_password_file", "ssl_stapling_file", "ssl_session_ticket_key",
           "working_directory", "env", "geoip_country", "geoip_city", "geoip_org"}
CERTIFICATES = {"ssl_certificate", "ssl_trusted_certificate", "ssl_client_certificate",
                "proxy_ssl_certificate", "proxy_ssl_trusted_certificate",
                "grpc_ssl_certificate", "uwsgi_ssl_certificate"}
KEYS = {"ssl_certificate_key", "proxy_ssl_certificate_key", "grpc_ssl_certificate_key",
        "uwsgi_ssl_certificate_key"}
LOGS = {"access_log", "error_log"}
PATHS = {"proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path",
         "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path",
         "scgi_temp_path"}
PASSES = {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass",
          "memcached_pass"}
OPAQUE = {"map", "geo", "types", "split_clients", "charset_map", "match"}

# Why nglint and nginx -t still disagree, by class (the test lists each case below).
HOSTS = ("nginx resolves host names at start-up (an upstream server named like its upstream, "
         "a parameter read as a host); the stub rewrites only plain host names")

# case id -> why nglint and nginx -t disagree there (each must still disagree)
EXPECTED_DISAGREEMENTS: dict[str, str] = {
    "corpus/general/getsentry__self-hosted__nginx.conf.conf": HOSTS,
    "core:add:51": HOSTS,  # host not found in resolver "on"
}

RESULTS: Counter[str] = Counter()
NOT_COMPARABLE: dict[str, str] = {}


# --------------------------------------------------------------------------- stubbing


@dataclass
class Env:
    binary: str
    version: tuple[int, int, int]
    work: Path
    cert: Path
    key: Path
    count: int = 0

    def scratch(self, kind: str) -> str:
        self.count += 1
        path = self.work / "scratch" / f"{kind}{self.count}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path)


def _host(value: str, upstreams: set[str]) -> str:
    match = re.match(r"^([a-z0-9]+://)?([^/:$\[\]]+)(.*)$", value)
    if not match or "$" in value or value.startswith("unix:"):
        return value
    scheme, host, rest = match.groups()
    if host in upstreams or host == "localhost" or re.fullmatch(r"[\d.]+", host):
        return value
    return (scheme or "") + "127.0.0.1" + rest


def _stub(items: list[dict], env: Env, upstreams: set[str]) -> list[dict]:
    out = []
    for item in items:
        name, args = item["directive"], list(item["args"])
        if name == "#" or name in REMOVED:
            continue
        new = {"directive": name, "args": args}
        if name in CERTIFICATES and args:
            new["args"] = [str(env.cert)]
        elif name in KEYS and args:
            new["args"] = [str(env.key)]
        elif name in LOGS and args and not args[0].startswith(
                ("off", "stderr", "syslog:", "memory:", "/dev/null")):
            new["args"] = [env.scratch("log"), *args[1:]]
        elif name in PATHS and args:
            new["args"] = [env.scratch("dir"), *args[1:]]
        elif (name in PASSES and args) or (name == "server" and "block" not in item and args):
            new["args"] = [_host(args[0], upstreams), *args[1:]]
        if "block" in item:
            new["block"] = (item["block"] if name in OPAQUE or name.endswith("_by_lua_block")
                            else _stub(item["block"], env, upstreams))
        out.append(new)
    return out


def _upstreams(items: list[dict]) -> set[str]:
    found: set[str] = set()
    for item in items:
        if item["directive"] == "upstream" and item["args"]:
            found.add(item["args"][0])
        found |= _upstreams(item.get("block", []))
    return found


WRAP = {"main": ("", ""), "http": ("http {\n", "}\n"),
        "server": ("http {\nserver {\n", "}\n}\n"),
        "location": ("http {\nserver {\nlocation / {\n", "}\n}\n}\n")}


def stub_text(text: str, env: Env, context: str) -> str:
    """The case as both sides see it: stubbed, wrapped, with an events block."""
    path = env.work / "parse.conf"
    path.write_text(text, encoding="utf-8")
    payload = crossplane.parse(str(path), single=True, comments=False, check_ctx=False,
                               check_args=False, catch_errors=True, ignore=("include",))
    config = payload["config"][0]
    if config["errors"] or (not config["parsed"] and text.strip()):
        body = text  # nglint reports the syntax error; nginx must refuse it too
        events = "events" in text
    else:
        items = _stub(config["parsed"], env, _upstreams(config["parsed"]))
        body = crossplane.build(items, header=False) + "\n"
        events = any(i["directive"] == "events" for i in items)
    before, after = WRAP[context]
    prefix = "" if context != "main" or events else "events {}\n"
    if context != "main":
        prefix = "events {}\n"
    return prefix + before + body + after


def needed_modules(text: str) -> tuple[list[str], list[str]]:
    """(dynamic modules to load, modules this machine lacks) for a stubbed text."""
    names = set(re.findall(r"(?m)^\s*([a-z][a-z0-9_]*)\b", text))
    wanted: list[str] = []
    for name in sorted(names):
        found = directives.variants(name)
        if not found or any("with " not in v.source for v in found if v.source.startswith(
                "probe")) or any(not v.source.startswith("probe") for v in found):
            continue
        for variant in found:
            module = variant.source.rsplit("with ", 1)[-1]
            if module not in wanted:
                wanted.append(module)
    if any("lua" in m or "set_misc" in m or "srcache" in m for m in wanted):
        wanted.insert(0, "ndk_http_module.so")
    if any(m.startswith("ngx_stream_") for m in wanted) and "ngx_stream_module.so" not in wanted:
        wanted.insert(0, "ngx_stream_module.so")
    order = {"ndk_http_module.so": 0, "ngx_stream_module.so": 1, "ngx_mail_module.so": 1}
    wanted.sort(key=lambda m: order.get(m, 2))
    missing = [m for m in wanted if not (MODULES_DIR / m).exists()]
    return [str(MODULES_DIR / m) for m in wanted if m not in missing], missing


# --------------------------------------------------------------------------- verdicts


def nginx_fails(env: Env, text: str, modules: list[str]) -> tuple[bool, str]:
    conf = env.work / "case.conf"
    conf.write_text("".join(f"load_module {m};\n" for m in modules) + text, encoding="utf-8")
    proc = subprocess.run(
        [env.binary, "-t", "-q", "-p", str(env.work), "-c", str(conf),
         "-g", f"pid {env.work}/nginx.pid; error_log stderr;"],
        capture_output=True, text=True, timeout=30, check=False)
    first = next((line for line in proc.stderr.splitlines() if "[emerg]" in line), "")
    return proc.returncode != 0, first.split("] ", 1)[-1]


def nglint_fails(env: Env, text: str) -> tuple[bool, str]:
    conf = env.work / "lint" / "nginx.conf"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(text, encoding="utf-8")
    found = lint(discover([str(conf)]), registry.select(sorted(VERDICT_CODES & {
        r.code for r in registry.all_rules()})),
                 Options(nginx_version=env.version))
    errors = [f for f in found if f.code in VERDICT_CODES and str(f.severity) == "error"]
    return bool(errors), "; ".join(f"{f.code} {f.line}: {f.message}" for f in errors[:2])


def compare(env: Env, case: str, text: str) -> str | None:
    """None when both agree, else a line describing the disagreement."""
    modules, missing = needed_modules(text)
    if missing:
        NOT_COMPARABLE[case] = f"needs {', '.join(missing)}, not installed"
        RESULTS["not comparable"] += 1
        return None
    nginx, why_nginx = nginx_fails(env, text, modules)
    ours, why_ours = nglint_fails(env, text)
    expected = case in EXPECTED_DISAGREEMENTS
    if nginx == ours:
        RESULTS["agree"] += 1
        if expected:
            return f"{case}: listed as a disagreement but both now say fail={nginx}"
        return None
    RESULTS["disagree"] += 1
    if expected:
        RESULTS["expected disagreement"] += 1
        warnings.warn(f"{case}: nginx fail={nginx} nglint fail={ours}: "
                      f"{EXPECTED_DISAGREEMENTS[case]}", stacklevel=2)
        return None
    return (f"{case}: nginx -t {'fails' if nginx else 'passes'} ({why_nginx}), nglint "
            f"{'fails' if ours else 'passes'} ({why_ours})\n{text}")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    if NGINX is None:
        if IN_CI:
            pytest.fail("CI is set but nginx is missing: nglint's validation cannot be "
                        "compared with nginx -t")
        pytest.skip("nginx is not installed (no `nginx` on PATH, no /usr/sbin/nginx)")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing: no certificate to stub ssl_certificate with")
    work = tmp_path_factory.mktemp("validation")
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=test", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=False).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    assert found, out
    version = (int(found[1]), int(found[2]), int(found[3]))
    return Env(NGINX, version, work, cert, key)


def _context(path: Path) -> str:
    if path.name == "nginx.conf":
        return "main"
    return infer_context(SourceFile.read(str(path)))


def _check_files(env: Env, files: list[Path], label: str) -> None:
    rows = []
    for path in files:
        case = f"{label}/{path.relative_to(path.parent.parent)}"
        text = stub_text(path.read_text(encoding="utf-8", errors="surrogateescape"), env,
                         _context(path))
        row = compare(env, case, text)
        if row:
            rows.append(row)
    assert not rows, f"{len(rows)} unexpected disagreement(s):\n\n" + "\n\n".join(rows)


def test_fixtures_agree_with_nginx(env: Env) -> None:
    files = sorted(p for p in FIXTURES.rglob("*.conf") if "rules" in p.parts
                   or "examples" in p.parts)
    _check_files(env, files, "fixtures")


def test_corpus_agrees_with_nginx(env: Env) -> None:
    files = sorted(CORPUS.glob("*/*.conf")) + sorted(
        p for p in CORPUS.glob("*/*") if p.is_file() and not p.name.endswith((".conf", ".tsv")))
    if not files:
        if IN_CI:
            pytest.fail(f"{CORPUS} is missing in CI")
        pytest.skip(f"shared corpus not found at {CORPUS}")
    _check_files(env, files, "corpus")


# --------------------------------------------------------------------------- mutations

BASES: dict[str, str] = {
    "proxy": """
worker_processes 1;
events { worker_connections 64; }
http {
    sendfile on;
    keepalive_timeout 65;
    gzip on;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    upstream app { server 127.0.0.1:8888; keepalive 8; }
    server {
        listen 8080 default_server;
        server_name example.com;
        client_max_body_size 10m;
        if ($host = old.example.com) { return 301 http://example.com$request_uri; }
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 3600s;
            proxy_buffering off;
        }
        location /static/ {
            root /srv/www;
            expires 7d;
            add_header Cache-Control public;
            limit_except GET { deny all; }
        }
        location = /health { access_log off; return 200 "ok"; }
    }
}
""",
    "static": """
events {}
http {
    include_stub_removed on;
    default_type application/octet-stream;
    tcp_nopush on;
    server_tokens off;
    log_format main '$remote_addr $request $status';
    server {
        listen 8443 ssl;
        ssl_certificate /etc/ssl/cert.pem;
        ssl_certificate_key /etc/ssl/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_timeout 1h;
        root /srv/www;
        index index.html;
        error_page 404 /404.html;
        location / { try_files $uri $uri/ =404; }
        location ~* \\.(css|js)$ { expires 30d; gzip_static on; }
        location ^~ /downloads/ { autoindex on; autoindex_exact_size off; }
    }
}
""",
    "php": """
events { worker_connections 128; }
http {
    limit_req_zone $binary_remote_addr zone=one:10m rate=5r/s;
    fastcgi_cache_path /var/cache/fcgi levels=1:2 keys_zone=fcgi:10m inactive=60m;
    server {
        listen 8081;
        root /srv/php;
        location / { try_files $uri /index.php$is_args$args; }
        location ~ \\.php$ {
            limit_req zone=one burst=10;
            fastcgi_pass 127.0.0.1:9000;
            fastcgi_index index.php;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_read_timeout 120s;
            fastcgi_cache fcgi;
            fastcgi_cache_valid 200 10m;
        }
        location = /status { stub_status; allow 127.0.0.1; deny all; }
    }
}
""",
    "core": """
worker_processes auto;
worker_rlimit_nofile 4096;
error_log stderr warn;
events { worker_connections 512; multi_accept on; }
http {
    types { text/html html; text/css css; }
    server_names_hash_bucket_size 64;
    client_body_timeout 10s;
    resolver 127.0.0.1 valid=30s;
    server {
        listen 8082;
        server_name _;
        set $backend 127.0.0.1:8888;
        location / { proxy_pass http://$backend; proxy_connect_timeout 5s; }
        location /api/ {
            rewrite ^/api/(.*)$ /$1 break;
            proxy_pass http://127.0.0.1:8889;
            proxy_next_upstream error timeout;
        }
    }
}
""",
}
BASES["static"] = BASES["static"].replace("    include_stub_removed on;\n", "")


def _blocks(items: list[dict], path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = [path]
    for index, item in enumerate(items):
        if "block" in item and item["directive"] not in OPAQUE:
            found += _blocks(item["block"], (*path, index))
    return found


def _get(items: list[dict], path: tuple[int, ...]) -> list[dict]:
    for index in path:
        items = items[index]["block"]
    return items


def _leaves(items: list[dict], path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = []
    for index, item in enumerate(items):
        if "block" in item:
            if item["directive"] not in OPAQUE:
                found += _leaves(item["block"], (*path, index))
        else:
            found.append((*path, index))
    return found


def _misspell(name: str, rng: random.Random) -> str:
    i = rng.randrange(len(name) - 1)
    choice = rng.randrange(3)
    if choice == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if choice == 1:
        return name[:i] + name[i + 1:]
    return name[:i] + name[i] + name[i:]


def mutations(base: str, text: str) -> list[tuple[str, str]]:
    """Deterministic mutants of one base configuration: (case id, text)."""
    parsed = crossplane.parse_string(text, check_ctx=False, check_args=False) \
        if hasattr(crossplane, "parse_string") else None
    assert parsed is not None and parsed["status"] == "ok", parsed
    original = parsed["config"][0]["parsed"]
    rng = random.Random(f"nglint-{base}")
    out = []
    kinds = ["move", "misspell", "drop", "add", "double", "flag"]
    for number in range(MUTATIONS_PER_BASE):
        items = crossplane_copy(original)
        kind = kinds[number % len(kinds)]
        leaves = _leaves(items)
        leaf = rng.choice(leaves)
        parent = _get(items, leaf[:-1])
        item = parent[leaf[-1]]
        if kind == "move":
            target = rng.choice([b for b in _blocks(items) if b != leaf[:-1]])
            destination = _get(items, target)
            parent.pop(leaf[-1])
            destination.insert(rng.randrange(len(destination) + 1), item)
        elif kind == "misspell":
            item["directive"] = _misspell(item["directive"], rng)
        elif kind == "drop":
            if item["args"]:
                item["args"].pop(rng.randrange(len(item["args"])))
            else:
                item["args"].append("x")
        elif kind == "add":
            item["args"].insert(rng.randrange(len(item["args"]) + 1),
                                rng.choice(["x", "on", "10s", "1k", "http2", "always"]))
        elif kind == "double":
            parent.insert(leaf[-1], crossplane_copy([item])[0])
        elif kind == "flag":
            flags = [p for p in leaves if _get(items, p[:-1])[p[-1]]["args"][:1] == ["on"]]
            spot = rng.choice(flags or leaves)
            args = _get(items, spot[:-1])[spot[-1]]["args"]
            args[:1] = [rng.choice(["yes", "1", "ON"])]
        out.append((f"{base}:{kind}:{number}", crossplane.build(items, header=False) + "\n"))
    return out


def crossplane_copy(items: list[dict]) -> list[dict]:
    return [{"directive": i["directive"], "args": list(i["args"]),
             **({"block": crossplane_copy(i["block"])} if "block" in i else {})}
            for i in items]


@pytest.mark.parametrize("base", sorted(BASES))
def test_bases_are_valid_for_nginx(env: Env, base: str) -> None:
    text = stub_text(BASES[base], env, "main")
    modules, missing = needed_modules(text)
    assert not missing
    fails, why = nginx_fails(env, text, modules)
    assert not fails, why
    ours, why_ours = nglint_fails(env, text)
    assert not ours, why_ours


@pytest.mark.parametrize("base", sorted(BASES))
def test_mutations_agree_with_nginx(env: Env, base: str) -> None:
    rows = []
    for case, text in mutations(base, BASES[base]):
        row = compare(env, case, stub_text(text, env, "main"))
        if row:
            rows.append(row)
    assert not rows, f"{len(rows)} unexpected disagreement(s):\n\n" + "\n\n".join(rows)


def test_expected_disagreements_are_explained() -> None:
    assert all(len(reason.strip()) > 20 for reason in EXPECTED_DISAGREEMENTS.values())


def test_zz_agreement_rate(env: Env) -> None:
    """Last: the summary (agreement rate, the cases that could not be compared)."""
    compared = RESULTS["agree"] + RESULTS["disagree"]
    if not compared:
        pytest.skip("no case was compared in this run")
    rate = RESULTS["agree"] / compared
    skipped = "; ".join(f"{case}: {why}" for case, why in sorted(NOT_COMPARABLE.items()))
    warnings.warn(f"nglint vs nginx -t ({'.'.join(map(str, env.version))}): "
                  f"{RESULTS['agree']}/{compared} agree ({rate:.1%}), "
                  f"{RESULTS['expected disagreement']} listed disagreement(s), "
                  f"{len(NOT_COMPARABLE)} not comparable{': ' + skipped if skipped else ''}",
                  stacklevel=1)
    assert rate >= 0.98  # 99.3% with nginx 1.22.1 (the listed cases above)


# --------------------------------------------------------------------------- keyword tables


def _keyword_cases() -> list[tuple[str, str, bool | None]]:
    """(case, config, whether nginx must accept it) for every value of NG008's keyword
    tables, its upper-case form, and values nginx refuses: each table is checked against
    the installed nginx, and the accepted values prove the check is not vacuous."""
    from nglint.rules import invalid_arguments as rule

    lines: list[tuple[str, bool | None]] = []
    for name, allowed in rule.ENUMS.items():
        lines += [(f"{name} {value};", True) for value in (*allowed, allowed[0].upper())]
        lines += [(f"{name} yes;", False), (f"{name} $arg_g;", False)]
    for name, allowed in rule.BITMASKS.items():
        lines += [(f"{name} {value};", None) for value in allowed]  # SSLv2: per OpenSSL
        lines += [(f"{name} {allowed[-1].upper()};", True),
                  (f"{name} {' '.join(allowed[-2:])};", True), (f"{name} bogus;", False)]
    for name, (word, _count) in rule.LAST_WORD.items():
        head = "X-A b" if name in ("add_header", "add_trailer") else "A b"
        lines += [(f"{name} {head} {word};", True), (f"{name} {head} {word.upper()};", False),
                  (f"{name} {head} bogus;", False), (f"{name} {head} $arg_a;", False)]
    lines += [(f"expires {value};", None) for value in (
        "epoch", "max", "off", "1h", "30d", "-1", "@15h30m", "@25h", "modified 1h",
        "modified epoch", "1k", "7d http2", "modified", "1h 2h", "$arg_e", "modified $arg_e",
        "modified @15h", "modified -1h", "@-1h", "-@1h")]
    lines += [(f"{verb} {value};", None) for verb in ("allow", "deny") for value in (
        "all", "unix:", "10.0.0.0/8", "1.2.3.4", "::1", "2001:db8::/32", "1", "ON", "yes",
        "10.0.0.0/33", "256.1.1.1", "1.2.3", "$remote_addr")]
    lines += [(f"limit_req {value};", None) for value in (
        "zone=one", "zone=one burst=5", "zone=one burst=5 nodelay", "zone=one burst=5 delay=2",
        "zone=one nodelay", "1", "burst=5", "zone=one x", "zone=one burst=0", "zone=one burst=x")]
    zone = "limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;"
    cases: list[tuple[str, str, bool | None]] = []
    for line, accepted in lines:
        # ssl_protocols is not allowed in a location: its cases go one level up
        server = f"  {line}\n" if line.startswith("ssl_protocols") else ""
        inner = "" if server else f"   {line}\n"
        cases.append((line, f"http {{\n {zone}\n server {{\n  listen 8080;\n{server}"
                      f"  location / {{\n{inner}  }}\n }}\n}}\n", accepted))
    levels = (*rule.LOG_LEVELS, "always", "WARN", "warn debug_http", "debug_http warn",
              "debug debug_http", "warn error", "debug_http debug_event")
    cases += [(f"error_log stderr {level};", f"error_log stderr {level};\n",
               None if level.startswith("debug_") else level in rule.LOG_LEVELS)
              for level in levels]
    return cases


def test_keyword_tables_agree_with_nginx(env: Env) -> None:
    rows = []
    for case, text, accepted in _keyword_cases():
        text = "events {}\n" + text
        nginx, why_nginx = nginx_fails(env, text, [])
        if accepted is not None and nginx == accepted:
            rows.append(f"{case}: the control failed: nginx -t "
                        f"{'fails' if nginx else 'passes'} ({why_nginx})")
        ours, why_ours = nglint_fails(env, text)
        if nginx != ours:
            rows.append(f"{case}: nginx -t {'fails' if nginx else 'passes'} ({why_nginx}), "
                        f"nglint {'fails' if ours else 'passes'} ({why_ours})")
    assert not rows, f"{len(rows)} disagreement(s):\n" + "\n".join(rows)
