"""The generated variable table (nglint/data/variables.json) against the real nginx.

NG004 must never call a variable nginx defines unknown: every name of the table is
known to nglint, and a sample of them passes ``nginx -t`` while a made-up name
fails with ``unknown "..." variable``, on the installed nginx with its modules.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from nglint.semantics.variables import BUILTIN, PREFIXES, is_builtin
from tests.nginx_harness import NGINX

TABLE = Path(__file__).resolve().parent.parent / "nglint" / "data" / "variables.json"
MODULES = Path("/usr/lib/nginx/modules")


def _table() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def test_table_records_where_it_comes_from():
    data = _table()
    assert data["nginx"] and data["generated"] and "nginx -t" in data["source"]
    assert len(data["http"]) > 150 and len(data["stream"]) > 40
    for name in ("host", "request_uri", "upstream_http_", "ssl_client_s_dn", "geoip_country_code",
                 "echo_request_uri", "proxy_add_x_forwarded_for"):
        assert name.rstrip("_") in data["http"] or name in data["http_prefixes"], name


def test_every_name_nginx_defines_is_known_to_nglint():
    data = _table()
    built = [n for kind in ("http", "stream") for n, e in data[kind].items()
             if e.get("built", True)]
    assert [n for n in built if not is_builtin(n)] == []
    assert all(p in PREFIXES for p in data["http_prefixes"])
    assert not is_builtin("nglint_made_up_zz")
    assert "proxy_add_via" not in BUILTIN  # in the source, under #if 0: no build has it


def _nginx_t(names: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    modules = sorted(MODULES.glob("*.so"), key=lambda p: (not p.name.startswith("ndk_"),
                                                          p.name not in ("ngx_stream_module.so",
                                                                         "ngx_mail_module.so"),
                                                          p.name))
    loads = "".join(f"load_module {m};\n" for m in modules)
    sets = "".join(f"set $v{i} ${n};\n" for i, n in enumerate(names))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"{loads}pid {tmp_path}/nginx.pid;\nevents {{}}\n"
                    f"http {{ server {{ listen 127.0.0.1:1;\n{sets}}} }}\n", encoding="utf-8")
    (tmp_path / "logs").mkdir(exist_ok=True)
    return subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(conf),
                           "-g", "error_log /dev/null;"],
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_sample_agrees_with_the_installed_nginx(tmp_path):
    if NGINX is None or not MODULES.is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI is set but nginx or its modules are missing")
        pytest.skip("nginx with Debian's module packages is not installed")
    data = _table()
    names = sorted(n for n, e in data["http"].items() if e.get("built", True))
    sample = names[::5] + [p + "x_y" for p in data["http_prefixes"]]
    passed = _nginx_t(sample, tmp_path)
    assert passed.returncode == 0, passed.stderr
    failed = _nginx_t([*sample, "nglint_made_up_zz"], tmp_path)
    assert failed.returncode != 0 and 'unknown "nglint_made_up_zz" variable' in failed.stderr
