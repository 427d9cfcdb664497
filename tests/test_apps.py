"""App profiles applied to a tree (nglint.apps.view): attribution, base URLs from
evidence, landings, and the cases of ../shared/cases/apps as assertions (their inputs
are in fixtures/apps/, wrapped into whole configurations: lines are the case's + 3)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nglint.apps import by_name, profiles
from nglint.apps.view import AppView
from nglint.cli import main
from nglint.engine import Options
from nglint.semantics.inherit import Model
from tests.helpers import FIXTURES, codes, findings, load, write

APPS = FIXTURES / "apps"
WEBSOCKET_ERRORS = {"NG101", "NG102", "NG103", "NG104", "NG105"}


def found(name: str) -> list[tuple[str, int, str]]:
    return [(f.code, f.line, f.message) for f in findings(APPS / f"{name}.conf")]


def view_of(tmp_path, text: str, prefixes: tuple[str, ...] = ()) -> AppView:
    tree = load(write(tmp_path, text))[0]
    return AppView(tree, Model(), prefixes)


def deployments(tmp_path, text: str, prefixes: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(d.profile.name, d.base) for d in view_of(tmp_path, text, prefixes).deployments]


def config(body: str, before: str = "") -> str:
    return f"events {{}}\nhttp {{\n{before}    server {{\n        listen 80;\n{body}    }}\n}}\n"


def location(path: str, target: str) -> str:
    return (f"        location {path} {{\n            proxy_pass {target};\n"
            "            proxy_set_header Host $http_host;\n        }\n")


# -- the shared cases ---------------------------------------------------------------

def test_hub_under_a_prefix_with_a_stripping_proxy_pass():
    ng110 = [(code, line) for code, line, _ in found("hub-prefix-proxy-pass-uri")
             if code == "NG110"]
    assert ng110 == [("NG110", 10)]


def test_hub_services_are_checked_where_they_land():
    result = found("hub-services")
    errors = {(code, line) for code, line, _ in result if code in WEBSOCKET_ERRORS}
    assert errors == {("NG101", 10), ("NG102", 10), ("NG103", 10), ("NG104", 10)}
    ng102 = next(message for code, _, message in result if code == "NG102")
    assert "/services/<name>/" in ng102 and "JupyterHub" in ng102


def test_incidental_hub_words_leave_a_single_jupyter():
    result = found("incidental-hub-words")
    assert {(code, line) for code, line, _ in result if code in WEBSOCKET_ERRORS} == {
        ("NG101", 10), ("NG102", 10), ("NG103", 10), ("NG104", 10)}
    assert {"NG106", "NG110"} <= {code for code, _, _ in result}
    assert not any("/user/" in message for _, _, message in result)
    assert all("/jupyter/" in message for code, _, message in result
               if code in WEBSOCKET_ERRORS)


def test_two_apps_in_one_server_are_checked_each_as_itself():
    result = found("mixed-lab-and-rstudio")
    jupyter = [(code, line) for code, line, message in result if "Jupyter" in message]
    assert jupyter == []  # /team/ is correct, /rstudio/ is not Jupyter's
    rstudio = {(code, line) for code, line, message in result if "RStudio" in message}
    assert {("NG101", 19), ("NG102", 19), ("NG103", 19)} <= rstudio


def test_missing_tilde_base_is_the_prefix_not_root():
    result = found("subpath-missing-tilde")
    got = {(code, line) for code, line, _ in result}
    assert {("NG101", 11), ("NG102", 11), ("NG103", 11), ("NG104", 11), ("NG107", 15),
            ("NG110", 12), ("NG016", 18)} <= got
    assert "NG105" not in {code for code, _, _ in result}
    assert all("/jupyter/" in message for code, _, message in result
               if code in WEBSOCKET_ERRORS)


def test_upstream_named_after_the_host_keeps_the_default_host():
    result = found("upstream-named-after-host")
    got = {(code, line) for code, line, _ in result}
    assert ("NG105", 18) in got and ("NG103", 15) in got
    assert "NG106" not in {code for code, _, _ in result}


# -- attribution and base URLs --------------------------------------------------------

def test_plain_application_is_no_app(tmp_path):
    assert deployments(tmp_path, config(location("/", "http://127.0.0.1:3001"))) == []


def test_port_8888_is_jupyter_at_the_location_path(tmp_path):
    assert deployments(tmp_path, config(location("/", "http://127.0.0.1:8888"))) == [
        ("jupyter-server", "/")]


def test_upstream_named_notebook_and_prefix_base(tmp_path):
    text = config(location("/nb", "http://notebook"),
                  "    upstream notebook { server 10.0.0.5:9999; }\n")
    assert deployments(tmp_path, text) == [("jupyter-server", "/nb/")]


def test_one_weak_sign_is_not_enough_two_are(tmp_path):
    one = config(location("/", "http://127.0.0.1:8000"))
    assert deployments(tmp_path, one) == []
    two = one.replace("listen 80;", "listen 80;\n        server_name hub.example.org;")
    assert deployments(tmp_path / "b", two) == [("jupyterhub", "/")]


def test_ui_paths_cut_the_base(tmp_path):
    text = config(location("/team/lab", "http://127.0.0.1:8888")
                  + location("/jhub/hub/", "http://127.0.0.1:8081"))
    assert sorted(deployments(tmp_path, text)) == [("jupyter-server", "/team/"),
                                                   ("jupyterhub", "/jhub/")]


def test_anchored_regex_gives_its_literal_start_unanchored_gives_nothing(tmp_path):
    anchored = config(location("~ ^/team/api/kernels/", "http://127.0.0.1:8888"))
    assert deployments(tmp_path, anchored) == [("jupyter-server", "/team/")]
    loose = config(location("~ /api/kernels/", "http://127.0.0.1:8888"))
    view = view_of(tmp_path / "b", loose)
    assert view.deployments == [] and [u.profile.name for u in view.unresolved] == [
        "jupyter-server"]
    # NG202 (security) notes the `Host $http_host` of the recipe: not what this tests
    assert [c for c in codes(write(tmp_path / "c", loose)) if c != "NG202"] == ["NG111"]


def test_a_correct_regex_prefix_location_is_not_reported_at_root(tmp_path):
    text = config("        location ~ ^/jupyter/ {\n"
                  "            proxy_pass http://127.0.0.1:8888;\n"
                  "            proxy_http_version 1.1;\n"
                  "            proxy_set_header Host $http_host;\n"
                  "            proxy_set_header Upgrade $http_upgrade;\n"
                  "            proxy_set_header Connection $connection_upgrade;\n"
                  "            proxy_read_timeout 1d;\n"
                  "            client_max_body_size 100m;\n        }\n",
                  "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n")
    assert deployments(tmp_path, text) == [("jupyter-server", "/jupyter/")]
    assert [c for c in codes(write(tmp_path / "b", text)) if c != "NG202"] == []


def test_hub_regex_and_root_location_serve_the_hub_and_its_users(tmp_path):
    text = config(location("/", "http://127.0.0.1:8000")
                  + location("~* /(user/[^/]*)/(api/kernels/[^/]+/channels|terminals/websocket)/?",
                             "http://127.0.0.1:8000"),
                  "    # JupyterHub\n")
    view = view_of(tmp_path, text)
    assert [(d.profile.name, d.base) for d in view.deployments] == [("jupyterhub", "/")]
    uris = {landing.uri for landing in view.landings}
    assert "/user/nglint/api/kernels/0b6d3f50-9c1e-4c5e-8f3e-6a2f9d1c7b42/channels" in uris
    assert any(uri.startswith("/services/nglint-service/") for uri in uris)


def test_marker_with_a_base(tmp_path):
    text = config("        # nglint: app=jupyter base=/lab-proxy/\n"
                  + location("~ /", "http://app:3000"))
    assert deployments(tmp_path, text) == [("jupyter-server", "/lab-proxy/")]
    assert "NG102" in codes(write(tmp_path / "b", text))


def test_explicit_prefix_wins(tmp_path):
    text = config(location("/", "http://127.0.0.1:3001"))
    assert deployments(tmp_path, text, ("/notebooks/",)) == [("jupyter-server", "/notebooks/")]
    path = write(tmp_path / "b", text)
    assert "NG102" in codes(path, options=Options(jupyter_prefixes=("/notebooks/",)))
    assert "NG102" not in codes(path)


def test_redirect_only_server_is_no_deployment(tmp_path):
    text = config("        return 301 https://$host$request_uri;\n        # JupyterHub redirect\n")
    assert deployments(tmp_path, text) == []


# -- profiles and nglint apps ---------------------------------------------------------

def test_profiles_are_well_formed_and_named_once():
    names = [name for profile in profiles() for name in profile.names()]
    assert len(names) == len(set(names))
    assert by_name("jupyter").name == "jupyter-server" and by_name("JHub").name == "jupyterhub"
    for profile in profiles():
        assert profile.endpoints and profile.sources and profile.signs, profile.name
        for sign in profile.signs:
            assert sign.regex.pattern  # compiles


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_apps_command_shows_apps_bases_and_evidence(output_format):
    result = CliRunner().invoke(main, ["apps", str(APPS / "mixed-lab-and-rstudio.conf"),
                                       "--format", output_format])
    assert result.exit_code == 0, result.output
    if output_format == "text":
        assert "Jupyter at /team/" in result.output and "location /team/" in result.output
        return
    [server] = json.loads(result.output)
    apps = {loc["location"]: loc["app"] for loc in server["locations"]}
    assert apps["/team/"] == "jupyter-server"
    team = next(d for d in server["deployments"] if d["app"] == "jupyter-server")
    assert team["base"] == "/team/" and team["evidence"] == ["location /team/"]
    assert "/team/api/kernels/<id>/channels" in team["endpoints"]


def test_origin_rules_apply_only_to_apps_that_check_origin(tmp_path):
    """NG106 is for apps whose profile needs `origin` (Jupyter's check_origin): a Grafana
    behind `Host $host` on port 8443 is not told Jupyter's 403 story."""
    body = ("        listen 8443;\n"
            "        location /grafana/ {\n            proxy_pass http://grafana:3000;\n"
            "            proxy_set_header Host $host;\n        }\n"
            "        location /jupyter/ {\n            proxy_pass http://127.0.0.1:8888;\n"
            "            proxy_set_header Host $host;\n        }\n")
    path = write(tmp_path, config(body))
    ng106 = [f.line for f in findings(path) if f.code == "NG106"]
    assert ng106 == [12]  # at the Host line, not the location
    assert "origin" not in by_name("grafana").needs and "origin" in by_name("jupyter").needs
