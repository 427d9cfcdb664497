"""Which servers nglint treats as Jupyter, and the base URLs it checks."""

from __future__ import annotations

from nglint.engine import Options
from nglint.semantics.inherit import Model
from nglint.semantics.jupyter import JupyterView
from tests.helpers import codes, load, write

BROKEN_LOCATION = """\
        location {path} {{
            proxy_pass {target};
            proxy_set_header Host $http_host;
        }}
"""


def _config(body: str, before_server: str = "") -> str:
    server = f"    server {{\n        listen 80;\n{body}    }}\n"
    return f"events {{}}\nhttp {{\n{before_server}{server}}}\n"


def _bases(tmp_path, text, prefixes=()):
    tree = load(write(tmp_path, text))[0]
    view = JupyterView(tree, Model(), prefixes)
    return [d.base for d in view.deployments]


def test_plain_application_is_not_jupyter(tmp_path):
    text = _config(BROKEN_LOCATION.format(path="/", target="http://127.0.0.1:3000"))
    assert _bases(tmp_path, text) == []


def test_port_8888_is_jupyter(tmp_path):
    text = _config(BROKEN_LOCATION.format(path="/", target="http://127.0.0.1:8888"))
    assert _bases(tmp_path, text) == ["/"]


def test_upstream_named_notebook_and_prefix_base(tmp_path):
    text = _config(BROKEN_LOCATION.format(path="/nb", target="http://notebook"),
                   "    upstream notebook { server 10.0.0.5:9999; }\n")
    assert _bases(tmp_path, text) == ["/nb/"]


def test_one_weak_sign_is_not_enough_two_are(tmp_path):
    one = _config(BROKEN_LOCATION.format(path="/", target="http://127.0.0.1:8000"))
    assert _bases(tmp_path, one) == []
    two = one.replace("listen 80;", "listen 80;\n        server_name hub.example.org;")
    assert _bases(tmp_path / "b", two) == ["/user/nglint/", "/user/nglint/nglint-named/"]


def test_marker_comment_makes_any_server_jupyter(tmp_path):
    text = _config("        # nglint: app=jupyter\n"
                   + BROKEN_LOCATION.format(path="/lab-proxy/", target="http://app:3000"))
    assert _bases(tmp_path, text) == ["/lab-proxy/"]
    assert "NG102" in codes(write(tmp_path, text))


def test_regex_location_gives_the_base_before_the_endpoint(tmp_path):
    text = _config(BROKEN_LOCATION.format(path="~ ^/team/api/kernels/",
                                          target="http://127.0.0.1:8888"))
    assert _bases(tmp_path, text) == ["/team/"]


def test_hub_regex_gives_user_servers(tmp_path):
    text = _config(BROKEN_LOCATION.format(
        path="~* /(user/[^/]*)/(api/kernels/[^/]+/channels|terminals/websocket)/?",
        target="http://127.0.0.1:8000"))
    assert _bases(tmp_path, text) == ["/user/nglint/", "/user/nglint/nglint-named/"]


def test_named_server_kernels_missed_by_the_2017_regex_are_reported(tmp_path):
    """The 2017 hub regex covers /user/<name>/api/kernels, not /user/<name>/<server>/..."""
    text = _config(
        "        location / { proxy_pass http://127.0.0.1:8000; "
        "proxy_set_header Host $http_host; }\n"
        "        location ~* /(user/[^/]*)/(api/kernels/[^/]+/channels|terminals/websocket)/? {"
        " proxy_pass http://127.0.0.1:8000; proxy_http_version 1.1;"
        " proxy_set_header Host $http_host; proxy_set_header Upgrade $http_upgrade;"
        " proxy_set_header Connection upgrade; }\n",
        "    # JupyterHub\n")
    path = write(tmp_path, text)
    from tests.helpers import findings

    ng102 = [f for f in findings(path) if f.code == "NG102" and f.line == 6]
    assert ng102 and "kernel channels" in ng102[0].message


def test_explicit_prefix_wins(tmp_path):
    text = _config(BROKEN_LOCATION.format(path="/", target="http://127.0.0.1:3000"))
    assert _bases(tmp_path, text, ("/notebooks/",)) == ["/notebooks/"]
    path = write(tmp_path, text)
    assert "NG102" in codes(path, options=Options(jupyter_prefixes=("/notebooks/",)))
    assert "NG102" not in codes(path)


def test_redirect_only_server_is_not_a_deployment(tmp_path):
    text = _config("        return 301 https://$host$request_uri;\n"
                   "        # JupyterHub redirect\n")
    assert _bases(tmp_path, text) == []
