"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, driven by the real pre-commit.

pre-commit clones this checkout (a committed copy of it) at a revision and
pip-installs it into its own environment, exactly as a user's repository would
use it.  The tests skip when pre-commit is not installed, except in CI, where
that is a failure (it is a test extra).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, REPO

try:
    from pre_commit.clientlib import load_manifest
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI"):
        raise
    pytest.skip("pre-commit is not installed (pip install -e '.[test]')",
                allow_module_level=True)

MANIFEST = REPO / ".pre-commit-hooks.yaml"
SHIPPED = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "nglint", "rules"]


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=nglint tests", "-c",
                           "user.email=tests@nglint.invalid", "-c", "commit.gpgsign=false",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=True)
    return proc.stdout.strip()


def hook(name: str) -> dict:
    return next(h for h in load_manifest(str(MANIFEST)) if h["id"] == name)


def test_manifest_is_valid_for_pre_commit() -> None:
    hooks = {h["id"]: h for h in load_manifest(str(MANIFEST))}
    assert set(hooks) == {"nglint", "nglint-fix"}
    # full: pre-commit shows the output to a person (a pipe would default to concise)
    assert hooks["nglint"]["entry"] == "nglint check --within-tree --output-format full"
    assert hooks["nglint-fix"]["entry"] == (
        "nglint check --within-tree --fix --output-format full")
    for entry in hooks.values():
        assert entry["language"] == "python" and entry["require_serial"]


@pytest.mark.parametrize(("path", "wanted"), [
    ("nginx.conf", True),
    ("deploy/nginx/nginx.conf", True),
    ("deploy/jupyter.conf", True),
    ("etc/nginx/sites-available/jupyter", True),
    ("etc/nginx/sites-enabled/default", True),
    ("etc/nginx/conf.d/upstreams", True),
    ("conf.d/a.conf", True),
    ("README.md", False),
    ("sites-available", False),
    ("etc/nginx/mime.types", False),
    ("etc/nginx/conf.d/a.conf.bak", False),
    ("etc/nginx/sites-available/default~", False),
    ("etc/nginx/sites-available/default.dpkg-dist", False),
])
def test_hook_file_patterns(path: str, wanted: bool) -> None:
    for name in ("nglint", "nglint-fix"):
        entry = hook(name)
        chosen = (re.search(entry["files"], path) is not None
                  and re.search(entry["exclude"], path) is None)
        assert chosen == wanted, (name, path)


def source_repository(tmp_path: Path) -> tuple[Path, str]:
    """This checkout's shipped files, committed in a repository of their own."""
    source = tmp_path / "nglint-src"
    source.mkdir()
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SHIPPED:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignored)
        else:
            shutil.copy2(origin, source / name)
    git(source, "init", "-q")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "nglint")
    return source, git(source, "rev-parse", "HEAD")


def jupyter_fragment() -> str:
    """The seed's http body as a conf.d file: the classic broken Jupyter proxy."""
    seed = (FIXTURES / "examples" / "jupyter-seed.conf").read_text(encoding="utf-8")
    body = seed.split("http {\n", 1)[1].rsplit("}", 1)[0]
    return textwrap.dedent(body).strip() + "\n"


def test_hooks_check_fix_and_pass(tmp_path: Path) -> None:
    source, revision = source_repository(tmp_path)
    work = tmp_path / "deployment"
    (work / "nginx" / "conf.d").mkdir(parents=True)
    (work / "nginx" / "nginx.conf").write_text(
        "events {}\nhttp {\n    include conf.d/*.conf;\n}\n", encoding="utf-8")
    site = work / "nginx" / "conf.d" / "jupyter.conf"
    site.write_text(jupyter_fragment(), encoding="utf-8")
    (work / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""\
        repos:
          - repo: {source}
            rev: {revision}
            hooks:
              - id: nglint
              - id: nglint-fix
        """), encoding="utf-8")
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "deployment")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PRE_COMMIT_HOME")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")  # a fresh install

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=work,
                              capture_output=True, text=True, timeout=600, env=env)
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        return proc

    broken = site.read_text(encoding="utf-8")
    checked = pre_commit("nglint", "--all-files")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "nginx/conf.d/jupyter.conf:9:5: NG101 [error]" in checked.stdout, checked.stdout
    assert "NG004" not in checked.stdout  # the tree is in view: no fragment guesses

    fixed = pre_commit("nglint-fix", "--all-files")
    assert fixed.returncode == 1, fixed.stdout  # pre-commit fails a hook that edits files
    assert "files were modified by this hook" in fixed.stdout
    after = site.read_text(encoding="utf-8")
    assert after != broken and "proxy_set_header Upgrade $websocket_upgrade;" in after
    assert "$websocket_connection" in (work / "nginx" / "nginx.conf").read_text(encoding="utf-8")

    again = pre_commit("nglint", "--all-files")
    assert again.returncode == 0, again.stdout + again.stderr
    # the fragment alone, as pre-commit passes it when only it changed: linted in its tree
    alone = pre_commit("nglint", "--files", "nginx/conf.d/jupyter.conf")
    assert alone.returncode == 0, alone.stdout + alone.stderr
