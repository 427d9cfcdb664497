"""The directive table (nglint/data/directives.json) and the validation rules NG006-NG012."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nglint import directives
from nglint.engine import Options
from nglint.findings import Severity
from tests.helpers import FIXTURES, REPO, SHARED, findings, write

CORPUS = SHARED / "corpus"
V1221 = (1, 22, 1)
LATEST = (1, 29, 6)
sys.path.insert(0, str(REPO / "tools"))
import build_directives  # noqa: E402


def test_table_covers_core_official_and_third_party_modules():
    table = directives.table()
    assert len(table) > 900
    meta = directives.raw_table()["_meta"]
    assert meta["probed_nginx"] == "1.22.1"
    modules = {v.module for found in table.values() for v in found}
    for module in ("ngx_http_core_module", "ngx_http_proxy_module", "ngx_stream_module",
                   "ngx_mail_module", "ngx_http_lua_module", "ngx_http_js_module",
                   "ngx_http_headers_more_filter_module", "ngx_http_geoip2_module"):
        assert module in modules, module
    for name, found in table.items():
        for variant in found:
            assert variant.contexts and variant.args and variant.source, name
            assert variant.contexts <= set(build_directives.CONTEXTS), (name, variant)


@pytest.mark.parametrize(("name", "added", "removed"), [
    ("http2", (1, 25, 1), None), ("keepalive_time", (1, 19, 10), None),
    ("add_header_inherit", (1, 29, 3), None), ("ssl", None, (1, 25, 1)),
    ("http3", (1, 25, 0), None), ("early_hints", (1, 29, 0), None),
])
def test_versions(name, added, removed):
    [variant, *_] = directives.variants(name)
    assert variant.added == added and variant.removed == removed


def test_availability_by_version():
    assert not directives.variants("http2", V1221)
    assert directives.variants("http2", LATEST)
    assert directives.variants("ssl", V1221)
    assert not directives.variants("ssl", LATEST)
    assert not directives.variants("health_check", LATEST)  # NGINX Plus only
    assert directives.variants("health_check")[0].plus


def test_contexts_and_arguments_match_nginx():
    [proxy_pass_http, proxy_pass_stream] = sorted(directives.variants("proxy_pass"),
                                                  key=lambda v: "stream" in v.module)
    assert proxy_pass_http.contexts == {"location", "if_in_location", "limit_except"}
    assert proxy_pass_stream.contexts == {"stream_server"}
    assert {c for v in directives.variants("map") for c in v.contexts} == {"http", "stream"}
    [add_header] = directives.variants("add_header")
    assert add_header.takes(2) and add_header.takes(3) and not add_header.takes(1)
    assert add_header.duplicate == "ok"
    [gzip] = directives.variants("gzip")
    assert gzip.flag and gzip.duplicate == "error"
    [location] = directives.variants("location")
    assert location.block and location.takes(1) and location.takes(2)
    assert not location.takes(3)
    assert "if_in_server" in directives.variants("return")[0].contexts
    assert "if_in_server" not in directives.variants("add_header")[0].contexts


def test_curated_entries_are_in_the_table():
    for entry in build_directives.CURATED:
        found = [v for v in directives.variants(entry["name"])
                 if v.contexts == set(entry["contexts"])]
        assert found, entry["name"]
        assert found[0].added == directives.parse_version(entry["added"])


def test_suggestion():
    assert directives.suggest("proxy_set_heder", LATEST) == "proxy_set_header"
    assert directives.suggest("client_max_body_sise", LATEST) == "client_max_body_size"
    assert directives.suggest("zzzz", LATEST) is None


def test_loaded_lazily_once():
    code = ("import nglint.registry as r, nglint.directives as d; r.all_rules(); "
            "print(d.raw_table.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout.strip()
    assert out == "0"
    directives.raw_table.cache_clear()
    directives.table.cache_clear()
    assert directives.table() is directives.table()


def test_shipped_as_package_data():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"nglint.data"' in pyproject and '"*.json"' in pyproject
    json.loads((REPO / "nglint" / "data" / "directives.json").read_text(encoding="utf-8"))


def _corpus_names() -> dict[str, str]:
    from nglint.discover import discover

    files = sorted(CORPUS.glob("*/*")) + sorted(FIXTURES.rglob("*.conf"))
    names: dict[str, str] = {}
    for path in files:
        if not path.is_file() or path.suffix == ".tsv":
            continue
        for tree in discover([str(path)]):
            for node in directives.checked_directives(tree.root, LATEST).nodes:
                names.setdefault(node.directive, str(path))
    return names


def test_every_directive_the_corpus_uses_is_in_the_table():
    """Fails when the corpus (or a fixture) uses a directive the table does not know."""
    if not CORPUS.exists():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    intended_unknown = {"proxy_set_heder", "zone", "health_check"}  # typo/Plus fixtures
    missing = {name: path for name, path in _corpus_names().items()
               if not directives.variants(name) and name not in intended_unknown}
    assert not missing, missing


# --------------------------------------------------------------------------- rules by version


def _codes(path: Path, version: tuple[int, int, int], **options: object) -> list[tuple]:
    found = findings(path, options=Options(nginx_version=version, **options))  # type: ignore[arg-type]
    return [(f.code, f.line, f.severity) for f in found if f.code in
            {"NG006", "NG007", "NG008", "NG010", "NG011", "NG012"}]


def test_new_directive_is_unknown_for_an_older_target(tmp_path):
    path = write(tmp_path, "events {}\nhttp {\n  server {\n    listen 443 ssl;\n"
                           "    http2 on;\n    ssl_certificate c.pem;\n"
                           "    ssl_certificate_key c.key;\n  }\n}\n")
    assert _codes(path, LATEST) == []
    assert _codes(path, V1221) == [("NG006", 5, Severity.ERROR)]
    [finding] = [f for f in findings(path, options=Options(nginx_version=V1221))
                 if f.code == "NG006"]
    assert "appeared in nginx 1.25.1" in finding.message


def test_ssl_on_is_deprecated_then_removed(tmp_path):
    path = write(tmp_path, "events {}\nhttp {\n  server {\n    listen 443;\n    ssl on;\n"
                           "    listen 8443 http2;\n  }\n}\n")
    assert _codes(path, V1221) == [("NG010", 5, Severity.WARNING)]
    assert sorted(_codes(path, LATEST)) == [("NG010", 5, Severity.ERROR),
                                            ("NG010", 6, Severity.WARNING)]


def test_extra_directives_are_declared_known(tmp_path):
    path = write(tmp_path, "rtmp {\n  server {\n    listen 1935;\n  }\n}\nevents {}\n"
                           "http {\n  vod_mode local;\n}\n")
    assert [c for c, *_ in _codes(path, LATEST)] == ["NG006", "NG006"]  # rtmp, vod_mode
    options = {"rule_options": {"unknown-directive": {"extra-directives": ["rtmp", "vod_*"]}}}
    assert _codes(path, LATEST, **options) == []


def test_unknown_directive_inside_if_and_fragments(tmp_path):
    path = write(tmp_path, "location / {\n  if ($x) {\n    proxy_pas http://a;\n  }\n}\n",
                 "site.conf")
    found = [f for f in findings(path, context="server") if f.code == "NG006"]
    assert [f.line for f in found] == [3]
    assert 'did you mean "proxy_pass"' in found[0].message


def test_map_entries_and_lua_bodies_are_not_directives(tmp_path):
    path = write(tmp_path, "events {}\nhttp {\n  map $a $b {\n    hostnames;\n    default 0;\n"
                           "    foo.example.com 1;\n  }\n  server {\n    location / {\n"
                           "      access_by_lua_block {\n        local x = 1\n      }\n"
                           "    }\n  }\n}\n")
    assert _codes(path, LATEST) == []


def test_directive_only_allowed_in_if_in_location(tmp_path):
    path = write(tmp_path, "events {}\nhttp {\n  server {\n    if ($x) {\n"
                           "      add_header X-A a;\n    }\n  }\n}\n")
    assert _codes(path, LATEST) == [("NG007", 5, Severity.ERROR)]


def test_no_probe_artefacts_in_the_table():
    """A probe whose modules nginx refused once made strings of the module binaries
    (`version`, `error`, `alloc`...) look like directives allowed everywhere, and
    misread `index` and `hash`.  No nginx directive is allowed in both main and events
    except `include`."""
    both = sorted(name for name, found in directives.table().items()
                  if any({"main", "events"} <= v.contexts for v in found))
    assert both == ["include"]
    for name in ("version", "error", "value", "alloc", "ndk_http_module"):
        assert not directives.variants(name), name
    [index] = directives.variants("index")
    assert index.contexts == {"http", "server", "location"}
    assert index.args == ("NGX_CONF_1MORE",)
    assert {c for v in directives.variants("hash") for c in v.contexts} == {
        "upstream", "stream_upstream"}
