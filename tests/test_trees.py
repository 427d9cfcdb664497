"""Real layouts (issue "Real trees"): a Docker conf.d folder without nginx.conf, and
Debian's sites-enabled symlinks.  Inputs written here, modelled on
../shared/cases/trees/ (docker-confd-without-nginx-conf, sites-enabled-symlink-paths)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SERVER = """\
server {
    listen 80;
    server_name notebook.example.org;
    client_max_body_size 100m;
    include snippets/jupyter-locations.conf;
}
"""
SNIPPET = """\
location / {
    proxy_pass http://127.0.0.1:8888;
    proxy_set_header Host $http_host;
}
"""
SITE = """\
server {
    listen 80;
    location / {
        proxy_pass http://127.0.0.1:8888;
        proxy_set_header Host $http_host;
    }
}
"""


def nglint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nglint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def docker_folder(root: Path) -> Path:
    folder = root / "site"
    (folder / "conf.d").mkdir(parents=True)
    (folder / "snippets").mkdir()
    (folder / "conf.d" / "jupyter.conf").write_text(SERVER)
    (folder / "snippets" / "jupyter-locations.conf").write_text(SNIPPET)
    return folder


def finding_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": NG" in line]


def findings_of(cwd: Path, *args: str) -> list[dict]:
    """The findings of `nglint check --format json` (messages whole, whatever the terminal)."""
    import json

    result = nglint(cwd, "check", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["findings"]


def test_included_snippet_is_analysed_once_through_its_include(tmp_path):
    docker_folder(tmp_path)
    result = nglint(tmp_path, "check", "site")
    # NG202 (security) also notes the snippet's `Host $http_host`: not what this tests
    lines = [line for line in finding_lines(result.stdout) if " NG202 " not in line]
    codes = sorted(line.split()[1] for line in lines)
    assert codes == ["NG101", "NG102", "NG103", "NG104"], result.stdout
    # each once, in the form the user gave (relative), never the snippet alone
    assert all(line.startswith("site/snippets/jupyter-locations.conf:") for line in lines)
    assert "NG108" not in result.stdout  # the including server sets 100m


def test_fix_of_a_docker_folder_leaves_nothing_behind(tmp_path):
    docker_folder(tmp_path)
    fixed = nglint(tmp_path, "check", "--fix", "site")
    assert fixed.returncode in (0, 1), fixed.stderr
    again = nglint(tmp_path, "check", "site")
    left = [line for line in finding_lines(again.stdout) if " NG202 " not in line]
    assert left == [], again.stdout  # no NG004, no NG108


def symlinked_repo(root: Path) -> Path:
    repo = root / "repo"
    (repo / "nginx" / "sites-available").mkdir(parents=True)
    (repo / "nginx" / "sites-enabled").mkdir()
    (repo / "nginx" / "nginx.conf").write_text(
        "events {}\nhttp {\n    include sites-enabled/*;\n}\n")
    (repo / "nginx" / "sites-available" / "jupyter").write_text(SITE)
    os.symlink("../sites-available/jupyter", repo / "nginx" / "sites-enabled" / "jupyter")
    return repo


def test_findings_name_the_file_a_symlink_points_to(tmp_path):
    repo = symlinked_repo(tmp_path)
    result = nglint(repo, "check", "--format", "github", "nginx")
    assert "file=nginx/sites-available/jupyter," in result.stdout
    assert "sites-enabled" not in result.stdout


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("patch") is None,
                    reason="needs git and patch")
def test_diff_applies_with_git_apply_and_patch(tmp_path):
    repo = symlinked_repo(tmp_path)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q", "."], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=repo, check=True, env=env)
    diff = nglint(repo, "check", "--diff", "nginx")
    assert "+++ b/nginx/sites-available/jupyter" in diff.stdout, diff.stdout
    (repo / "fix.patch").write_text(diff.stdout)
    git = subprocess.run(["git", "apply", "--check", "fix.patch"], cwd=repo,
                         capture_output=True, text=True)
    assert git.returncode == 0, git.stderr
    patch = subprocess.run(["patch", "-p1", "--dry-run", "-i", "fix.patch"], cwd=repo,
                           capture_output=True, text=True)
    assert patch.returncode == 0, patch.stdout + patch.stderr
    fixed = nglint(repo, "check", "--fix", "nginx")
    assert "rewrote nginx/sites-available/jupyter" in fixed.stdout + fixed.stderr
    assert os.path.islink(repo / "nginx" / "sites-enabled" / "jupyter")


def test_repo_copy_of_etc_nginx_resolves_absolute_includes_inside_the_copy(tmp_path):
    etc = tmp_path / "repo" / "etc" / "nginx"
    (etc / "sites-enabled").mkdir(parents=True)
    (etc / "nginx.conf").write_text(
        "events {}\nhttp {\n"
        "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
        "    include /etc/nginx/sites-enabled/*;\n}\n")
    (etc / "sites-enabled" / "hub").write_text(
        "server {\n    listen 80;\n    server_name hub.example.org;\n"
        "    include /etc/letsencrypt/options-ssl-nginx.conf;\n"
        "    location / {\n        proxy_pass http://127.0.0.1:3001;\n"
        "        proxy_set_header Connection $connection_upgrade;\n    }\n}\n")
    found = findings_of(tmp_path, "repo/etc/nginx")
    # the site is part of the tree (the map is in view: no NG004), never the host's files
    assert not [f for f in found if f["code"] == "NG004"]
    assert not [f for f in found if "sites-enabled/default" in f["path"]]
    [certbot] = [f for f in found if f["code"] == "NG002"]
    assert certbot["severity"] == "warning" and "certbot" in certbot["message"]


def test_an_include_leaving_the_linted_tree_is_named(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "extra.conf").write_text("gzip on;\n")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "nginx.conf").write_text(
        f"events {{}}\nhttp {{\n    include {tmp_path}/outside/extra.conf;\n}}\n")
    [note] = [f for f in findings_of(tmp_path, "tree") if f["code"] == "NG002"]
    assert note["severity"] == "info" and "outside the linted tree" in note["message"]
    assert str(tmp_path / "outside" / "extra.conf") in note["message"]


def test_prefix_map_option_and_key(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "shared-conf").mkdir()
    (tmp_path / "shared-conf" / "upgrade.conf").write_text(
        "map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n")
    (tmp_path / "tree" / "nginx.conf").write_text(
        "events {}\nhttp {\n    include /srv/shared/upgrade.conf;\n"
        "    server { listen 80; location / { proxy_pass http://127.0.0.1:3001;\n"
        "        proxy_set_header Connection $connection_upgrade; } }\n}\n")
    unmapped = findings_of(tmp_path, "tree")
    assert {f["code"] for f in unmapped} >= {"NG002", "NG004"}
    mapped = findings_of(tmp_path, "--prefix-map", "/srv/shared=shared-conf", "tree")
    assert mapped == [], mapped
    (tmp_path / ".nglint.toml").write_text('prefix-map = ["/srv/shared=shared-conf"]\n')
    assert findings_of(tmp_path, "tree") == []
    bad = nglint(tmp_path, "check", "--prefix-map", "relative=x", "tree")
    assert bad.returncode == 2 and "--prefix-map" in bad.stderr and "Traceback" not in bad.stderr


def test_findings_keep_the_include_they_were_reached_through(tmp_path):
    repo = symlinked_repo(tmp_path)
    found = findings_of(repo, "nginx")
    assert found and all(f["path"] == "nginx/sites-available/jupyter" for f in found)
    assert {f["via"] for f in found} == {"nginx/nginx.conf:3"}
    assert all(any(r["role"] == "include" and "sites-enabled" in r["message"]
                   for r in f["related"]) for f in found)


def test_within_tree_reports_an_included_file_that_reads_like_a_main_once(tmp_path):
    """nginx.conf includes conf.d/full.conf, which holds `events` and `http` itself: named
    both with --within-tree (the pre-commit hook), it is analysed through the include,
    once, and named as given (no "./")."""
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include conf.d/*.conf; }\n")
    (tmp_path / "conf.d" / "full.conf").write_text(
        "events {}\nhttp {\n    server {\n        listen 80;\n"
        "        location / { proxy_pass http://127.0.0.1:8888; }\n    }\n}\n")
    found = findings_of(tmp_path, "--within-tree", "--select", "NG007,NG101", "nginx.conf",
                        "conf.d/full.conf")
    assert sorted((f["code"], f["path"], f["line"]) for f in found) == [
        ("NG007", "conf.d/full.conf", 1), ("NG007", "conf.d/full.conf", 2),
        ("NG101", "conf.d/full.conf", 5)]
