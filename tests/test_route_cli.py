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
    assert kernels["location"] == {"file": str(path), "line": 11, "modifier": "~",
                                   "path": "/api/kernels/"}
    effective = kernels["effective"]
    assert effective["proxy_http_version"] == {"value": "1.1", "file": str(path), "line": 14}
    assert effective["proxy_read_timeout"] == {"value": "2h", "file": str(path), "line": 3}
    headers = effective["proxy_set_header"]
    assert headers["Upgrade"]["line"] == 13
    assert headers["Host"] == {"value": "$proxy_host", "file": None, "line": None}
    assert lab["location"]["path"] == "/"
    assert lab["effective"]["proxy_set_header"]["Host"]["line"] == 7
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
