"""A fragment (a ``sites-available`` file no include reaches) counts the variables the
main tree whose folder holds it defines in its http block: enabled, it is included
there (``engine._lend_http_variables``, ``variables.http_variables``)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from nglint.cli import main

SNIPPET = ("location / {\n    proxy_pass http://127.0.0.1:8888;\n"
           "    proxy_set_header Connection $connection_upgrade;\n"
           "    proxy_set_header X-Set $from_server;\n}\n")


def _layout(root: Path, http: str = "") -> Path:
    for folder in ("sites-enabled", "sites-available", "snippets"):
        (root / folder).mkdir(parents=True)
    (root / "nginx.conf").write_text(f"events {{}}\nhttp {{\n{http}"
                                     "    include sites-enabled/*;\n}\n")
    (root / "snippets" / "jupyter.conf").write_text(SNIPPET)
    for name in ("a", "old"):
        (root / "sites-available" / f"{name}.conf").write_text(
            f"server {{\n    listen 80;\n    server_name {name}.example;\n"
            "    set $from_server 1;\n    include snippets/jupyter.conf;\n}\n")
    (root / "sites-enabled" / "a.conf").symlink_to("../sites-available/a.conf")
    return root


def _undefined(*paths: Path) -> list[tuple[str, str, str]]:
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json",
                                       "--select", "NG004", *map(str, paths)])
    return [(f["path"].rsplit("/", 2)[-2] + "/" + f["path"].rsplit("/", 1)[-1],
             f["severity"], f["message"].split(" ")[1])
            for f in json.loads(result.output)["findings"]]


MAP = ("    map $http_upgrade $connection_upgrade {\n        default upgrade;\n"
       "        ''      close;\n    }\n")


def test_a_disabled_site_sees_the_maps_of_the_http_block_it_would_join(
        tmp_path: Path) -> None:
    root = _layout(tmp_path / "nginx", MAP)
    # $connection_upgrade: the main tree's http map; $from_server: each server's own set
    assert _undefined(root) == []


def test_what_the_http_block_does_not_define_stays_undefined(tmp_path: Path) -> None:
    root = _layout(tmp_path / "nginx")  # no map anywhere
    found = _undefined(root)
    assert ("snippets/jupyter.conf", "error", "$connection_upgrade") in found
    assert ("snippets/jupyter.conf", "warning", "$connection_upgrade") in found  # old.conf
    assert all(name != "$from_server" for _p, _s, name in found)


def test_a_set_in_a_server_is_not_lent(tmp_path: Path) -> None:
    """Only the http block's own definitions: a ``set`` in the enabled site's server is
    not the disabled site's."""
    root = _layout(tmp_path / "nginx", MAP)
    (root / "sites-available" / "old.conf").write_text(
        "server {\n    listen 80;\n    server_name old.example;\n"
        "    include snippets/jupyter.conf;\n}\n")
    assert _undefined(root) == [("snippets/jupyter.conf", "warning", "$from_server")]


def test_a_fragment_outside_the_main_trees_folder_gets_nothing(tmp_path: Path) -> None:
    root = _layout(tmp_path / "nginx", MAP)
    elsewhere = tmp_path / "other" / "site.conf"
    elsewhere.parent.mkdir()
    elsewhere.write_text("server {\n    listen 80;\n    location / {\n"
                         "        proxy_set_header Connection $connection_upgrade;\n"
                         "    }\n}\n")
    assert _undefined(root, elsewhere) == [("other/site.conf", "warning",
                                            "$connection_upgrade")]


def test_fix_adds_the_map_once_to_the_http_block_both_sites_share(tmp_path: Path) -> None:
    """A snippet using ``$connection_upgrade``, included by an enabled and a disabled
    site, and no map: the map goes into nginx.conf's http block only (the disabled
    site joins that block once enabled), and afterwards neither tree reports it (a
    ``--fix`` round's scoped re-check keeps what the fragment was lent)."""
    root = _layout(tmp_path / "nginx")
    before = {path: path.read_bytes() for path in root.rglob("*.conf")}
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", "--select", "NG004",
                                       str(root)])
    changed = sorted(str(path.relative_to(root)) for path, data in before.items()
                     if path.read_bytes() != data)
    assert changed == ["nginx.conf"], result.output
    assert "map $http_upgrade $connection_upgrade" in (root / "nginx.conf").read_text()
    assert _undefined(root) == []


def test_a_fragment_joining_a_main_tree_is_not_given_a_map_of_its_own(
        tmp_path: Path) -> None:
    """Only the disabled site uses the variable: its finding says where the map
    belongs instead of adding one to the fragment."""
    root = _layout(tmp_path / "nginx")
    (root / "sites-available" / "a.conf").write_text(
        "server {\n    listen 80;\n    server_name a.example;\n}\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json",
                                       "--select", "NG004", str(root)])
    found = [f for f in json.loads(result.output)["findings"]
             if "$connection_upgrade" in f["message"]]
    assert len(found) == 1 and not found[0]["fixable"]
    assert f"joins the http block of {root / 'nginx.conf'}" in found[0]["message"]


def test_a_stream_fragment_is_not_lent_the_http_variables(tmp_path: Path) -> None:
    """A folder only the ``stream`` block includes from: its fragments would not join
    the http block, and nginx -t refuses the http map's variable there (review of
    2026-11-30)."""
    root = tmp_path / "nginx"
    (root / "stream.d").mkdir(parents=True)
    (root / "stream-available").mkdir()
    (root / "nginx.conf").write_text(
        "events {}\nhttp {\n    map $host $foo { default 1; }\n"
        "    server { listen 80; return 200 $foo; }\n}\n"
        "stream {\n    include stream.d/*.conf;\n}\n")
    (root / "stream-available" / "s.conf").write_text(
        "server {\n    listen 12345;\n    return $foo;\n}\n")
    assert _undefined(root) == [("stream-available/s.conf", "warning", "$foo")]


def test_a_disabled_site_is_lent_when_no_site_is_enabled(tmp_path: Path) -> None:
    """``include sites-enabled/*`` matching nothing: sites-available/ is still the
    folder whose files join the http block once linked (Debian's layout)."""
    root = _layout(tmp_path / "nginx", MAP)
    (root / "sites-enabled" / "a.conf").unlink()
    assert _undefined(root) == []
