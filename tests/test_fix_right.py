"""Fixes that are right, not just applied (issue: step 12, point 4).

A misplaced ``map`` is moved into http; a run-on statement stops every fix of its
block; inherited headers from a snippet are kept by its ``include`` line; ``^~`` is
never offered where it takes URIs from another location; the fix log and the
summaries count the same fixes, in final positions.
"""

from __future__ import annotations

from pathlib import Path

from tests.fix_helpers import cli


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


RUN_ON = """events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_set_header
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1d;
        }
    }
}
"""


def test_run_on_statement_is_reported_at_its_line_and_nothing_hides_it(tmp_path: Path) -> None:
    conf = _write(tmp_path / "nginx.conf", RUN_ON)
    result = cli("check", "--no-cache", "--output-format", "full", str(conf))
    assert f"{conf}:8:13: NG017" in result.stdout
    assert "runs on into line 9" in result.stdout or "line 9 is read" in result.stdout
    # NG101 is still true (nginx uses HTTP/1.0 here) but no fix adds a second
    # proxy_http_version next to the swallowed one
    assert f"{conf}:6:9: NG101" in result.stdout
    assert "runs on into the next line (NG017): fix it first" in result.stdout
    diff = cli("check", "--no-cache", "--diff", str(conf))
    assert "+            proxy_http_version" not in diff.stdout
    assert conf.read_text() == RUN_ON


def test_statement_split_over_lines_is_not_run_on(tmp_path: Path) -> None:
    conf = _write(tmp_path / "nginx.conf", RUN_ON.replace(
        "            proxy_set_header\n            proxy_http_version 1.1;\n",
        "            proxy_http_version\n                1.1;\n"))
    result = cli("check", "--no-cache", "--select", "NG017,NG101", str(conf))
    assert result.exit_code == 0, result.stdout


MAP_ABOVE_HTTP = """events {}

map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}

http {
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8000;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }
    }
}
"""


def test_map_above_http_is_moved_into_http(tmp_path: Path) -> None:
    conf = _write(tmp_path / "nginx.conf", MAP_ABOVE_HTTP)
    before = cli("check", "--no-cache", str(conf))
    assert f"{conf}:3:1: NG007" in before.stdout
    cli("check", "--no-cache", "--fix", str(conf))
    text = conf.read_text()
    assert text.index("http {") < text.index("map $http_upgrade")
    after = cli("check", "--no-cache", str(conf))
    assert "NG007" not in after.stdout and "NG101" not in after.stdout


def test_map_at_main_level_with_a_stream_block_is_not_moved(tmp_path: Path) -> None:
    conf = _write(tmp_path / "nginx.conf",
                  MAP_ABOVE_HTTP + "stream {\n    server { listen 9000; proxy_pass a:1; }\n}\n")
    result = cli("check", "--no-cache", "--output-format", "full", "--select", "NG007",
                 str(conf))
    assert "stream block" in result.stdout
    assert cli("check", "--no-cache", "--diff", "--select", "NG007", str(conf)).stdout == ""


def test_map_in_a_sites_enabled_server_stays_in_its_file(tmp_path: Path) -> None:
    _write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include sites-enabled/*;\n}\n")
    site = _write(tmp_path / "sites-enabled" / "lab", """server {
    listen 80;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    location / {
        proxy_pass http://127.0.0.1:8888;
    }
}
""")
    cli("check", "--no-cache", "--fix", "--select", "NG007", str(tmp_path))
    assert site.read_text().startswith("map $http_upgrade $connection_upgrade {\n"
                                       "    default upgrade;\n")
    assert "map" not in (tmp_path / "nginx.conf").read_text()


HUB_SITE = """server {
    listen 80;
    server_name hub.example.org;
    client_max_body_size 100m;
    include snippets/hub-proxy.conf;

    location / {
        proxy_pass http://127.0.0.1:8000;
    }
}
"""


def _hub_tree(tmp_path: Path, snippet: str) -> Path:
    _write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include conf.d/*.conf;\n}\n")
    _write(tmp_path / "snippets" / "hub-proxy.conf", snippet)
    return _write(tmp_path / "conf.d" / "hub.conf", HUB_SITE)


def test_headers_of_a_snippet_are_kept_by_its_include_line(tmp_path: Path) -> None:
    site = _hub_tree(tmp_path, "proxy_set_header Host $host;\n"
                               "proxy_set_header X-Real-IP $remote_addr;\n")
    result = cli("check", "--no-cache", "--fix", str(tmp_path))
    text = site.read_text()
    assert "        include snippets/hub-proxy.conf;\n" \
           "        proxy_set_header Upgrade $websocket_upgrade;\n" in text
    assert "X-Real-IP" not in text  # not copied: the snippet stays the one place
    assert "kept the inherited headers of snippets/hub-proxy.conf" in result.stderr
    # a later edit of the snippet applies to the location too
    (tmp_path / "snippets" / "hub-proxy.conf").write_text(
        "proxy_set_header Host $host;\nproxy_set_header X-Forwarded-Host $host;\n")
    json_out = cli("check", "--no-cache", "--format", "json", str(tmp_path))
    assert '"NG005"' not in json_out.stdout


def test_a_snippet_with_more_than_headers_is_copied_and_the_log_says_so(tmp_path: Path) -> None:
    site = _hub_tree(tmp_path, "proxy_set_header Host $host;\n"
                               "proxy_set_header X-Real-IP $remote_addr;\n"
                               "proxy_buffering off;\n")
    result = cli("check", "--no-cache", "--fix", str(tmp_path))
    text = site.read_text()
    assert "include snippets/hub-proxy.conf;\n        proxy" not in text
    assert "        proxy_set_header Host $host;\n" \
           "        proxy_set_header X-Real-IP $remote_addr;\n" in text
    snippet = tmp_path / "snippets" / "hub-proxy.conf"
    assert (f"copied 2 inherited proxy_set_header lines ({snippet}:1, {snippet}:2)"
            in result.stderr)


def test_every_summary_counts_the_same_fixes(tmp_path: Path) -> None:
    _hub_tree(tmp_path, "proxy_set_header Host $host;\n")
    diff = cli("check", "--no-cache", "--diff", str(tmp_path))
    fixed = cli("check", "--no-cache", "--fix", str(tmp_path))
    logged = [line for line in fixed.stderr.splitlines() if line.startswith("fixed ")]
    assert f"{len(logged)} fixes in 2 files would be applied" in diff.stderr
    assert f"{len(logged)} fixes in 2 files applied" in fixed.stderr


FOUR_FIXES = """events {}
http {
    server {
        listen 80;
        server_name jupyter.example.com;
        client_max_body_size 100m;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_set_header Host $host;
        }
    }
}
"""


def test_fix_log_gives_final_positions(tmp_path: Path) -> None:
    conf = _write(tmp_path / "nginx.conf", FOUR_FIXES)
    fixed = cli("check", "--no-cache", "--fix", str(conf))
    logged = [line for line in fixed.stderr.splitlines() if line.startswith("fixed ")]
    assert len(logged) == 4
    lines = conf.read_text().splitlines()
    for entry in logged:
        line = int(entry.split(":")[1])
        assert lines[line - 1].strip() == "location / {", (entry, lines)


def test_check_and_fix_agree_on_what_is_fixable(tmp_path: Path) -> None:
    _write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include conf.d/*.conf;\n}\n")
    _write(tmp_path / "conf.d" / "lab.conf",
           "server {\n    listen 80;\n    location / {\n"
           "        proxy_pass http://127.0.0.1:8888;\n    }\n}\n")
    _write(tmp_path / "conf.d" / "broken.conf", "server {\n    listen 81\n")
    check = cli("check", "--no-cache", str(tmp_path))
    assert "fixable" not in check.stdout.splitlines()[-1]
    diff = cli("check", "--no-cache", "--diff", str(tmp_path))
    assert diff.stdout == ""


# --- advice that holds up: the upgrade style and the Host header ---------------------------

LAB = """events {}
http {
    upstream lab {
        server 127.0.0.1:8888;
KEEPALIVE    }
    server {
        listen LISTEN;
        client_max_body_size 100m;
        location / {
            proxy_pass http://lab;
            proxy_http_version 1.1;
            HOST
            proxy_read_timeout 1d;
        }
    }
}
"""


def _lab(tmp_path: Path, listen: str = "80", host: str = "proxy_set_header Host $host;",
         keepalive: bool = False, style: str | None = None) -> Path:
    text = (LAB.replace("LISTEN", listen).replace("HOST", host)
            .replace("KEEPALIVE", "        keepalive 8;\n" if keepalive else ""))
    if style is not None:
        _write(tmp_path / ".nglint.toml", f'upgrade-style = "{style}"\n')
    return _write(tmp_path / "nginx.conf", text)


def test_strict_style_forwards_only_websocket_upgrades(tmp_path: Path) -> None:
    conf = _lab(tmp_path)
    cli("check", "--no-cache", "--fix", str(conf))
    text = conf.read_text()
    assert "proxy_set_header Upgrade $websocket_upgrade;" in text
    assert "proxy_set_header Connection $websocket_connection;" in text
    assert "map $http_upgrade $websocket_upgrade {\n        default         \"\";\n" \
           "        ~*^websocket$   websocket;\n    }" in text
    assert "default         close;" in text
    assert cli("check", "--no-cache", str(conf)).exit_code == 0


def test_keepalive_upstream_gets_a_connection_map_without_close(tmp_path: Path) -> None:
    conf = _lab(tmp_path, keepalive=True)
    cli("check", "--no-cache", "--fix", str(conf))
    text = conf.read_text()
    assert "proxy_set_header Connection $websocket_connection_keepalive;" in text
    assert "close" not in text


def test_classic_style_is_selectable(tmp_path: Path) -> None:
    conf = _lab(tmp_path, style="classic")
    cli("check", "--no-cache", "--fix", str(conf))
    text = conf.read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "''      close;" in text


def test_unknown_style_is_a_usage_error(tmp_path: Path) -> None:
    conf = _lab(tmp_path, style="loose")
    result = cli("check", "--no-cache", str(conf))
    assert result.exit_code == 2
    assert "upgrade-style" in result.stderr and "strict, classic" in result.stderr


def _host_fix(tmp_path: Path, listen: str, host: str) -> tuple[str, str]:
    conf = _lab(tmp_path, listen=listen, host=host)
    found = cli("check", "--no-cache", "--output-format", "full", "--select", "NG106",
                str(conf)).stdout
    cli("check", "--no-cache", "--fix", "--select", "NG106", str(conf))
    written = next((line.strip() for line in conf.read_text().splitlines()
                    if "proxy_set_header Host" in line), "")
    return found, written


def test_host_on_default_ports_is_host(tmp_path: Path) -> None:
    found, written = _host_fix(tmp_path, "80", "proxy_set_header X-Real-IP $remote_addr;")
    assert "NG106" in found
    assert written == "proxy_set_header Host $host;"


def test_host_on_the_port_nginx_listens_on_keeps_the_port(tmp_path: Path) -> None:
    found, written = _host_fix(tmp_path, "8443", "proxy_set_header Host $host;")
    assert "drops the port 8443" in found
    assert written == "proxy_set_header Host $host:$server_port;"


def test_host_with_a_port_on_a_default_port_is_reported(tmp_path: Path) -> None:
    found, written = _host_fix(tmp_path, "80", "proxy_set_header Host $host:$server_port;")
    assert "adds a port the browser leaves out of Origin" in found
    assert written == "proxy_set_header Host $host;"


def test_http_host_only_where_nothing_else_holds(tmp_path: Path) -> None:
    found, written = _host_fix(tmp_path, "80; listen 8080",
                               "proxy_set_header X-Real-IP $remote_addr;")
    assert "NG106" in found
    assert written == "proxy_set_header Host $http_host;"
    conf = _lab(tmp_path / "b", listen="8443", host="proxy_set_header Host $host;")
    full = cli("check", "--no-cache", "--output-format", "full", str(conf)).stdout
    assert "port mapping" in full and "$http_host" in full  # the way out, explained
