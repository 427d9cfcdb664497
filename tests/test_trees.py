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


def test_included_snippet_is_analysed_once_through_its_include(tmp_path):
    docker_folder(tmp_path)
    result = nglint(tmp_path, "check", "site")
    lines = finding_lines(result.stdout)
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
    assert finding_lines(again.stdout) == [], again.stdout  # no NG004, no NG108


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
