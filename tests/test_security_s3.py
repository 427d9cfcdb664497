"""The security rules NG220-NG224 and the model pieces they ask: samples, access,
the ssl_protocols default by version, advisories by version, ReDoS confirmation."""

from __future__ import annotations

import pytest

from nglint.engine import Options
from nglint.security_data import load as load_data
from nglint.semantics.inherit import Model, unread
from nglint.semantics.pcre import translate_pcre
from nglint.semantics.samples import request_path, samples
from nglint.versions import VersionRange
from rules.known_cve import vulnerable
from rules.regex_redos import slow_subject
from rules.weak_tls import weak_ciphers
from tests.helpers import findings, load, write


def _regex(pattern: str):
    compiled, reason = translate_pcre(pattern)
    assert compiled is not None, reason
    return compiled


def test_samples_one_per_alternative_and_repeat_choice():
    texts = [s.text for s in samples(_regex(r"^https?://(www\.)?example\.(org|net)/"))]
    assert texts == ["http://example.org/", "https://www.example.org/",
                     "http://example.net/", "https://www.example.net/"]
    # an unescaped dot is marked as such
    sample = samples(_regex(r"^https://a.b$"))[0]
    assert sample.text == "https://a.b" and sample.kinds[9] == "any"


def test_request_path_reaches_the_location(tmp_path):
    path = write(tmp_path, "http { server { listen 80; location / { }\n"
                 "location ~ ^/api/v[0-9]+/ { return 204; }\n"
                 "location = /exact { } } }\n")
    tree = load(path)[0]
    locations = list(tree.blocks("location"))
    assert [request_path(tree, node) for node in locations] == ["/", "/api/v0/", "/exact"]


@pytest.mark.parametrize(("ciphers", "weak"), [
    ("HIGH:!aNULL:!MD5", []),
    ("ALL", ["ALL"]),
    ("ALL:!aNULL", []),
    ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-DES-CBC3-SHA", ["ECDHE-RSA-DES-CBC3-SHA"]),
    ("!3DES:ECDHE-RSA-DES-CBC3-SHA", []),
    ("RC4-SHA:EXP-RC4-MD5", ["RC4-SHA", "EXP-RC4-MD5"]),
])
def test_weak_ciphers(ciphers, weak):
    assert [entry for entry, _ in weak_ciphers(ciphers)] == weak


@pytest.mark.parametrize(("version", "protocols"), [
    ((1, 22, 1), ("TLSv1", "TLSv1.1", "TLSv1.2")),
    ((1, 23, 4), ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")),
    ((1, 27, 3), ("TLSv1.2", "TLSv1.3")),
])
def test_ssl_protocols_default_by_version(tmp_path, version, protocols):
    path = write(tmp_path, "http { server { listen 443 ssl; } }\n")
    server = load(path)[0].servers[0]
    value = Model(version).effective(server, "ssl_protocols")
    assert value is not None and value.is_default and value.args == protocols


def test_unread_levels(tmp_path):
    path = write(tmp_path, "http { server { listen 443 ssl; include missing.conf; } }\n")
    server = load(path)[0].servers[0]
    assert "missing.conf" in unread(server)
    fragment = write(tmp_path, "server { listen 443 ssl; }\n", "sites/site.conf")
    assert "fragment" in unread(load(fragment)[0].servers[0])


def _advisory(cve: str) -> dict:
    return next(a for a in load_data("advisories")["advisories"] if a["cve"] == cve)


@pytest.mark.parametrize(("cve", "version", "expected"), [
    ("CVE-2024-7347", (1, 18, 0), True),
    ("CVE-2024-7347", (1, 26, 1), True),
    ("CVE-2024-7347", (1, 26, 2), False),
    ("CVE-2024-7347", (1, 27, 0), True),
    ("CVE-2024-7347", (1, 27, 1), False),
    ("CVE-2024-24989", (1, 24, 0), False),  # HTTP/3 came in 1.25.0
    ("CVE-2024-24989", (1, 25, 3), True),
    ("CVE-2021-23017", (1, 20, 1), False),
    ("CVE-2021-23017", (1, 20, 0), True),
])
def test_advisories_by_version(cve, version, expected):
    assert vulnerable(version, _advisory(cve)) is expected


def test_known_cve_names_the_vulnerable_versions(tmp_path):
    path = write(tmp_path, "http { server { listen 80; location /v/ { mp4; } } }\n")
    found = findings(path, select=("NG224",))
    message = next(f.message for f in found if "CVE-2024-7347" in f.message)
    assert message.startswith("on nginx 1.18\u20131.26.1 and 1.27.0: CVE-2024-7347")
    assert "requests to /v/ reach it" in message
    newest = Options(nginx_version=VersionRange.parse("1.31.4"))
    assert findings(path, select=("NG224",), options=newest) == []


def test_redos_confirmed_only_when_slow():
    assert slow_subject(r"^/(a+)+$", False) is not None
    assert slow_subject(r"^/([a-z]+/)+[a-z]+$", False) is None
    assert slow_subject(r"\.(png|jpe?g)$", True) is None


def test_origin_https_only_option(tmp_path):
    path = write(tmp_path, "http { server { listen 80;\n"
                 "if ($http_origin !~ '^https?://example\\.org$') { return 403; } } }\n")
    assert findings(path, select=("NG220",)) == []
    strict = Options(rule_options={"origin-referer-regex": {"https-only": True}})
    assert [f.code for f in findings(path, select=("NG220",), options=strict)] == ["NG220"]


def test_h2c_needs_connection_upgrade(tmp_path):
    path = write(tmp_path, "http { server { listen 80; deny 10.0.0.1;\n"
                 "location / { proxy_set_header Upgrade $http_upgrade;\n"
                 "proxy_set_header Connection close; proxy_pass http://127.0.0.1:1; } } }\n")
    assert findings(path, select=("NG221",)) == []
    path.write_text(path.read_text().replace("Connection close", "Connection upgrade"))
    assert [f.code for f in findings(path, select=("NG221",))] == ["NG221"]


def test_weak_tls_reports_the_default_only_when_asked(tmp_path):
    path = write(tmp_path, "http { server { listen 443 ssl; } }\n")
    assert findings(path, select=("NG222",)) == []
    asked = Options(rule_options={"weak-tls": {"report-default": True}})
    found = findings(path, select=("NG222",), options=asked)
    assert [f.severity.name for f in found] == ["INFO"]
    assert found[0].message.startswith("on nginx 1.18\u20131.27.2: ssl_protocols")
