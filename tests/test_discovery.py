"""Discovery on a realistic /etc/nginx tree: entry points, includes, fragments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nglint.discover import discover
from nglint.tree import Node, Tree


def put(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """An /etc/nginx-like tree; broken files are the ones nglint must never read."""
    root = tmp_path / "nginx"
    put(tmp_path, "shared/mime.types", "types {\n    text/html html;\n}\n")
    put(root, "nginx.conf", f"""\
user www-data;
events {{}}
http {{
    include {tmp_path}/shared/mime.types;
    include conf.d/*.conf;
    include sites-enabled/*;
    include nothing-here/*.conf;
    include snippets/headers.conf;
}}
""")
    # conf.d: included by the glob; includes a relative file itself
    put(root, "conf.d/gzip.conf", "gzip on;\ninclude snippets/gzip-types.conf;\n")
    put(root, "snippets/gzip-types.conf", "gzip_types text/css;\n")
    # decoy next to the including file: a relative include must NOT resolve here
    put(root, "conf.d/snippets/gzip-types.conf", "gzip_types application/decoy;\n")
    # included from http (nginx.conf) and from server (sites-available/app)
    put(root, "snippets/headers.conf", "add_header X-Shared 1;\n")
    put(root, "sites-available/app", """\
server {
    listen 8080;
    server_name app.example.com;
    include snippets/headers.conf;
    location / {
        include snippets/proxy.conf;
    }
}
""")
    put(root, "sites-available/snippets/headers.conf", "add_header X-Decoy 1;\n")
    put(root, "snippets/proxy.conf", "proxy_pass http://127.0.0.1:8888;\n")
    (root / "sites-enabled").mkdir()
    (root / "sites-enabled/app").symlink_to("../sites-available/app")
    # never enabled: a fragment of http context
    put(root, "sites-available/old",
        "server {\n    listen 81;\n    include snippets/old.conf;\n}\n")
    put(root, "snippets/old.conf", "return 410;\n")
    # included by nothing: a server-level snippet and a location-level snippet
    put(root, "snippets/server-extra.conf", "listen 443 ssl;\nserver_name extra;\n")
    put(root, "snippets/location-extra.conf", "proxy_read_timeout 1h;\n")
    # skipped: dot-files and backups (broken, so linting them would show)
    for name in ("conf.d/.hidden.conf", "conf.d/gzip.conf~", "sites-available/old~",
                 "sites-available/.app.swp", "sites-enabled/.hidden", "snippets/proxy.conf.bak"):
        put(root, name, "this is { not nginx\n")
    return root


def by_entry(trees: list[Tree]) -> dict[str, Tree]:
    return {os.path.realpath(tree.entry): tree for tree in trees}


def nodes(tree: Tree, directive: str) -> list[Node]:
    return [node for node in tree.walk() if node.directive == directive]


def parents(node: Node) -> list[str]:
    return [a.directive for a in node.ancestors() if a.parent is not None]


def outside_notes(items: list) -> list:
    """The info NG002 about `include {tmp_path}/shared/mime.types`, which leaves the linted
    tree on purpose here (what nglint says of such an include)."""
    return [i for i in items if (i.severity if hasattr(i, "severity") else i["severity"])
            == "info"]


def without_notes(items: list) -> list:
    return [i for i in items if i not in outside_notes(items)]


def run_check(*args: str, cwd: Path, expect: int) -> list[dict]:
    """The loader's findings only (NG001, NG002): other rules judge the proxying."""
    proc = subprocess.run([sys.executable, "-m", "nglint", "check", "--format", "json",
                           "--select", "NG001,NG002", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == expect, (proc.stdout, proc.stderr)
    return json.loads(proc.stdout)["findings"]


def test_main_tree_and_fragments(etc: Path) -> None:
    trees = discover([str(etc)])
    entries = by_entry(trees)
    main = entries.pop(os.path.realpath(etc / "nginx.conf"))
    assert main.context == "main"
    assert without_notes(main.problems) == []
    [note] = outside_notes(main.problems)
    assert "shared/mime.types" in note.message and "outside the linted tree" in note.message
    # fragments: only files no include from nginx.conf reaches; never dot-files or backups
    fragments = {
        os.path.realpath(etc / name) for name in (
            "sites-available/old", "snippets/server-extra.conf",
            "snippets/location-extra.conf",
            "sites-available/snippets/headers.conf", "conf.d/snippets/gzip-types.conf")
    }
    # snippets/old.conf is reached only from the fragment sites-available/old: either way
    optional = {os.path.realpath(etc / "snippets/old.conf")}
    assert fragments <= set(entries) <= fragments | optional
    assert all(not without_notes(tree.problems) for tree in trees), \
        [t.problems for t in trees]
    reached = set(main.sources)
    for name in ("conf.d/gzip.conf", "snippets/gzip-types.conf", "snippets/headers.conf",
                 "sites-available/app", "snippets/proxy.conf"):
        assert os.path.realpath(etc / name) in reached, name
    assert os.path.realpath(etc.parent / "shared/mime.types") in reached


def test_relative_include_in_included_file_uses_main_directory(etc: Path) -> None:
    main = by_entry(discover([str(etc)]))[os.path.realpath(etc / "nginx.conf")]
    assert [n.args for n in nodes(main, "gzip_types")] == [["text/css"]]
    assert os.path.realpath(nodes(main, "gzip_types")[0].path or "") == \
        os.path.realpath(etc / "snippets/gzip-types.conf")
    assert [n.args for n in nodes(main, "add_header")] == [["X-Shared", "1"]] * 2
    assert nodes(main, "proxy_pass")[0].args == ["http://127.0.0.1:8888"]


def test_file_included_from_two_contexts(etc: Path) -> None:
    main = by_entry(discover([str(etc)]))[os.path.realpath(etc / "nginx.conf")]
    shared = [n for n in main.walk()
              if n.path and os.path.realpath(n.path) == os.path.realpath(
                  etc / "snippets/headers.conf")]
    assert len(shared) == 2
    assert sorted(parents(n) for n in shared) == [["http"], ["server", "http"]]
    assert shared[0] is not shared[1]
    for node in shared:
        assert node.via is not None and node.via.directive == "include"
        assert node in (node.parent.children or [])  # type: ignore[union-attr]


def test_symlinked_file_is_named_as_the_file_it_points_to(etc: Path) -> None:
    """sites-enabled/app -> ../sites-available/app: reports name the file kept in git;
    the include it was reached through stays on the node (``via``)."""
    main = by_entry(discover([str(etc)]))[os.path.realpath(etc / "nginx.conf")]
    (server,) = [n for n in main.walk() if n.directive == "server" and n.is_block]
    assert server.path is not None
    assert Path(server.path).parent.name == "sites-available"
    assert Path(server.path).name == "app"
    assert server.via is not None and "sites-enabled" in " ".join(server.via.args)
    assert server.statement is not None


@pytest.mark.parametrize("given", ["absolute", "relative"])
def test_reported_paths_keep_the_form_the_tree_was_given_in(
        etc: Path, given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file reached through sites-enabled/ is named in the same form as the tree's
    other files: absolute for a tree given by an absolute path (it was relative to the
    working directory, sorted apart from the rest), relative for a relative one."""
    from nglint.source import report_name

    monkeypatch.chdir(etc.parent)
    root = str(etc) if given == "absolute" else etc.name
    names = {report_name(n.path) for tree in discover([root]) for n in tree.walk()
             if n.path is not None and "mime.types" not in n.path}  # (an absolute include)
    assert any(name.endswith("sites-available/app") for name in names)
    assert all(os.path.isabs(name) == (given == "absolute") for name in names), names


def test_glob_matching_nothing_is_not_an_error(etc: Path) -> None:
    main = by_entry(discover([str(etc)]))[os.path.realpath(etc / "nginx.conf")]
    (empty,) = [n for n in nodes(main, "include") if n.args == ["nothing-here/*.conf"]]
    assert without_notes(main.problems) == []
    assert empty.parent is not None and empty.parent.directive == "http"


def test_inferred_fragment_contexts(etc: Path) -> None:
    entries = by_entry(discover([str(etc)]))
    expected = {"sites-available/old": "http", "snippets/server-extra.conf": "server",
                "snippets/location-extra.conf": "location"}
    for name, context in expected.items():
        tree = entries[os.path.realpath(etc / name)]
        assert tree.context == context, name
        first = next(n for n in tree.walk() if n.source is not None)
        synthetic = [a.directive for a in first.ancestors() if a.parent is not None]
        assert synthetic == list(reversed(["http", "server", "location"][:len(synthetic)]))
        assert (synthetic[0] if synthetic else "main") == context


def test_context_option_overrides_inference(etc: Path) -> None:
    (tree,) = discover([str(etc / "snippets/location-extra.conf")], context="server")
    assert tree.context == "server"
    (node,) = nodes(tree, "proxy_read_timeout")
    assert parents(node) == ["server", "http"]
    (tree,) = discover([str(etc / "sites-available/old")], context="http")
    assert tree.context == "http"
    (inferred,) = discover([str(etc / "sites-available/old")])
    assert inferred.context == "http"


def test_fragment_includes_resolve_against_conf_prefix(etc: Path, tmp_path: Path) -> None:
    (tree,) = discover([str(etc / "sites-available/old")])
    assert tree.problems == []  # snippets/old.conf from the prefix /etc/nginx
    assert nodes(tree, "return")[0].path is not None
    elsewhere = tmp_path / "elsewhere"
    put(elsewhere, "snippets/old.conf", "return 418;\n")
    (tree,) = discover([str(etc / "sites-available/old")], conf_prefix=str(elsewhere))
    assert tree.problems == []
    assert [n.args for n in nodes(tree, "return")] == [["418"]]
    empty = tmp_path / "empty"
    empty.mkdir()
    (tree,) = discover([str(etc / "sites-available/old")], conf_prefix=str(empty))
    assert [p.kind for p in tree.problems] == ["include"]
    assert tree.problems[0].line == 3


def test_cli_directory(etc: Path) -> None:
    findings = run_check(str(etc), cwd=etc.parent, expect=0)
    assert without_notes(findings) == [] and len(outside_notes(findings)) == 1


def test_cli_relative_directory_paths(etc: Path) -> None:
    findings = run_check("nginx", cwd=etc.parent, expect=0)
    assert without_notes(findings) == []


def test_cli_context_and_conf_prefix(etc: Path, tmp_path: Path) -> None:
    old = str(etc / "sites-available/old")
    assert run_check(old, cwd=tmp_path, expect=0) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    (finding,) = run_check("--conf-prefix", str(empty), old, cwd=tmp_path, expect=1)
    assert finding["code"] == "NG002"
    assert finding["path"] == old
    assert finding["line"] == 3
    assert str(empty) in finding["message"]
    # a server block read as a location: nothing breaks, the tree is read as told
    assert run_check("--context", "location", old, cwd=tmp_path, expect=0) == []


def test_cli_reports_broken_included_file_once(etc: Path) -> None:
    """A file reached from nginx.conf is linted there, not again as a fragment."""
    (etc / "snippets/headers.conf").write_text("add_header X-Shared 1\n")  # no ';'
    findings = without_notes(run_check(str(etc), cwd=etc.parent, expect=1))
    assert [(f["code"], Path(f["path"]).name, f["line"]) for f in findings] == [
        ("NG001", "headers.conf", 1)]
