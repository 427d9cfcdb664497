"""`nglint route`: the serving location and effective proxy settings, with provenance."""

from __future__ import annotations

import json

from click.testing import CliRunner

from nglint.cli import main
from tests.helpers import write

CONFIG = """\
events {}
http {
    proxy_read_timeout 2h;
    server {
        listen 80;
        server_name a.example.com;
        proxy_set_header Host $http_host;
        location / {
            proxy_pass http://127.0.0.1:8888;
        }
        location ~ /api/kernels/ {
            proxy_pass http://127.0.0.1:8888;
            proxy_set_header Upgrade $http_upgrade;
            proxy_http_version 1.1;
        }
    }
    server {
        listen 80;
        server_name b.example.com;
        location = /x { return 204; }
    }
}
"""


def _route(tmp_path, *args):
    path = write(tmp_path, CONFIG)
    result = CliRunner().invoke(main, ["route", str(path), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return path, json.loads(result.output)


def test_route_json_with_host(tmp_path):
    path, answers = _route(tmp_path, "/api/kernels/1/channels", "/lab", "--host",
                           "a.example.com")
    assert [a["uri"] for a in answers] == ["/api/kernels/1/channels", "/lab"]
    kernels, lab = answers
    assert kernels["server"] == {"file": str(path), "line": 4, "names": ["a.example.com"]}
    assert kernels["location"] == {"kind": "location", "file": str(path), "line": 11,
                                   "modifier": "~", "path": "/api/kernels/"}
    assert kernels["listen"] == "0.0.0.0:80"
    effective = kernels["effective"]
    assert effective["proxy_http_version"] == {"value": "1.1", "file": str(path), "line": 14}
    assert effective["proxy_read_timeout"] == {"value": "2h", "file": str(path), "line": 3}
    headers = effective["proxy_set_header"]
    # the list nginx builds: the level's own lines in order, then its defaults
    assert [(h["name"], h["line"]) for h in headers][:3] == [
        ("Upgrade", 13), ("Host", None), ("Connection", None)]
    assert headers[1] == {"name": "Host", "value": "$proxy_host", "sent": True,
                          "file": None, "line": None}
    assert lab["location"]["path"] == "/"
    assert [h["line"] for h in lab["effective"]["proxy_set_header"] if h["name"] == "Host"] \
        == [7]
    # what is sent: the Host of the request through $http_host, and no Upgrade (the
    # request has none)
    assert lab["upstream"]["sent"] == [{"name": "Host", "value": "a.example.com"},
                                       {"name": "Connection", "value": "close"}]
    assert lab["effective"]["proxy_http_version"] == {"value": "1.0", "file": None,
                                                      "line": None}


def test_route_without_host_considers_every_server(tmp_path):
    _, answers = _route(tmp_path, "/x")
    assert [a["server"]["names"] for a in answers] == [["a.example.com"], ["b.example.com"]]
    assert answers[1]["location"]["modifier"] == "="


def test_route_text_output(tmp_path):
    path = write(tmp_path, CONFIG)
    result = CliRunner().invoke(main, ["route", str(path), "/lab", "--host", "a.example.com"])
    assert result.exit_code == 0
    assert "location / " in result.output and "nginx default" in result.output


def test_route_reads_the_configured_nginx_version(tmp_path):
    path = write(tmp_path, CONFIG)
    (tmp_path / ".nglint.toml").write_text('nginx-version = "1.29.7"\n')
    result = CliRunner().invoke(main, ["route", str(path), "/lab", "--host", "a.example.com",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    [answer] = json.loads(result.output)
    assert answer["effective"]["proxy_http_version"]["value"] == "1.1"
    override = CliRunner().invoke(main, ["route", str(path), "/lab", "--host", "a.example.com",
                                         "--format", "json", "--nginx-version", "1.22"])
    assert json.loads(override.output)[0]["effective"]["proxy_http_version"]["value"] == "1.0"


MODEL_CASES = """\
events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:8080;
        server_name h.example;
        root /nonexistent;
        location / {
            proxy_pass http://127.0.0.1:9001;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Upgrade "";
        }
        location /lab/ {
            try_files $uri @jupyter;
            proxy_pass http://127.0.0.1:9001;
        }
        location /api/ {
            if ($arg_debug) {
                proxy_pass http://127.0.0.1:9002;
            }
            proxy_pass http://127.0.0.1:9001;
        }
        location /gone/ {
            error_page 404 = @jupyter;
            return 404;
        }
        location @jupyter {
            proxy_pass http://127.0.0.1:8888;
        }
    }
    server {
        listen 8080 default_server;
        server_name other.example;
        location / { return 204; }
    }
}
"""


def _answers(tmp_path, *args, code=0):
    path = write(tmp_path, MODEL_CASES)
    result = CliRunner().invoke(main, ["route", str(path), *args, "--format", "json"])
    assert result.exit_code == code, result.output
    return path, (json.loads(result.output) if code == 0 else result.output)


def test_route_lists_every_header_line_in_order(tmp_path):
    _, [answer] = _answers(tmp_path, "/x", "--host", "h.example:8080", "--listen",
                           "127.0.0.1:8080", "--header", "Upgrade: websocket")
    lines = [(h["name"], h["value"], h["line"]) for h in answer["effective"]["proxy_set_header"]
             if h["line"] is not None]
    assert lines == [("Host", "$host", 11), ("Host", "$http_host", 12),
                     ("Upgrade", "$http_upgrade", 13), ("Connection", "$connection_upgrade", 14),
                     ("Upgrade", "", 15)]
    assert answer["upstream"]["sent"] == [
        {"name": "Host", "value": "h.example"}, {"name": "Host", "value": "h.example:8080"},
        {"name": "Upgrade", "value": "websocket"}, {"name": "Connection", "value": "upgrade"}]


def test_route_follows_try_files_and_error_page_to_named_locations(tmp_path):
    _, answers = _answers(tmp_path, "/lab/tree", "/gone/x", "--host", "h.example",
                          "--listen", "127.0.0.1:8080")
    lab, gone = answers
    assert [(s["kind"], s["target"], s["line"]) for s in lab["steps"]] == [
        ("try_files", "@jupyter", 18)]
    assert lab["serving"]["path"] == "@jupyter" and lab["location"]["path"] == "/lab/"
    assert lab["upstream"]["target"] == "http://127.0.0.1:8888"
    assert [s["kind"] for s in gone["steps"]] == ["return", "error_page"]
    assert gone["status"] is None and gone["serving"]["path"] == "@jupyter"


def test_route_shows_if_branches_with_their_upstream(tmp_path):
    _, [plain, debug] = _answers(tmp_path, "/api/x", "/api/x?debug=1", "--host", "h.example",
                                 "--listen", "127.0.0.1:8080")
    assert plain["upstream"]["target"] == "http://127.0.0.1:9001"
    [branch] = plain["branches"]
    assert branch["condition"] == "($arg_debug)" and branch["holds"] is False
    assert branch["upstream"]["target"] == "http://127.0.0.1:9002"
    assert branch["upstream"]["sent"][0] == {"name": "Host", "value": "127.0.0.1:9002"}
    assert debug["serving"]["kind"] == "if" and debug["branches"] == []
    assert debug["upstream"]["sent"][0] == {"name": "Host", "value": "127.0.0.1:9002"}


def test_route_answers_400_for_a_host_nginx_rejects(tmp_path):
    _, answers = _answers(tmp_path, "/x", "--host", "a..b")
    assert {a["status"] for a in answers} == {400}
    assert all(a["upstream"] is None for a in answers)


def test_route_listen_and_full_url_pick_the_address_group(tmp_path):
    _, [answer] = _answers(tmp_path, "http://other.example:8080/x", "--listen",
                           "127.0.0.2:8080")
    assert answer["listen"] == "0.0.0.0:8080" and answer["status"] == 204
    _, [answer] = _answers(tmp_path, "http://nobody.example:8080/x", "--listen",
                           "127.0.0.1:8080")
    assert answer["server"]["names"] == ["h.example"]  # the only server of 127.0.0.1:8080


def test_route_refuses_a_uri_without_a_slash(tmp_path):
    _, output = _answers(tmp_path, "api/x", code=2)
    assert "must start with '/'" in output and "Traceback" not in output


def test_route_on_a_tree_lists_only_servers_nginx_loads(tmp_path):
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n    include sites-enabled/*;\n}\n")
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-enabled" / "on").write_text(
        "server { listen 80; server_name on.example; location / { return 204; } }\n")
    (tmp_path / "sites-available" / "off").write_text(
        "server { listen 80; server_name off.example; location / { return 204; } }\n")
    result = CliRunner().invoke(main, ["route", str(tmp_path), "/x", "--format", "json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)
    assert [a["server"]["names"] for a in answers] == [["on.example"]]
    assert all(a["server"]["file"] for a in answers)


def test_route_says_when_nothing_listens_where_the_request_arrives(tmp_path):
    _, [answer] = _answers(tmp_path, "https://h.example/x")  # 443: nothing listens there
    assert answer["server"] is None and answer["reason"] == "no server listens on *:443"
    path = write(tmp_path, MODEL_CASES)
    result = CliRunner().invoke(main, ["route", str(path), "/x", "--listen", "10.1.2.3:9"])
    assert result.exit_code == 0
    assert "no server listens on 10.1.2.3:9: nginx refuses the connection" in result.output
