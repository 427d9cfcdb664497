"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, driven by the real pre-commit.

pre-commit clones this checkout (a committed copy of it) at a revision and
pip-installs it into its own environment, exactly as a user's repository would
use it.  The tests skip when pre-commit is not installed, except in CI, where
that is a failure (it is a test extra).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.clone import git, source_repository
from tests.helpers import FIXTURES, REPO

try:
    from pre_commit.clientlib import load_manifest
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI"):
        raise
    pytest.skip("pre-commit is not installed (pip install -e '.[test]')",
                allow_module_level=True)

MANIFEST = REPO / ".pre-commit-hooks.yaml"


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


def jupyter_fragment() -> str:
    """The seed's http body as a conf.d file: the classic broken Jupyter proxy."""
    seed = (FIXTURES / "examples" / "jupyter-seed.conf").read_text(encoding="utf-8")
    body = seed.split("http {\n", 1)[1].rsplit("}", 1)[0]
    return textwrap.dedent(body).strip() + "\n"


def deployment(tmp_path: Path, config: str) -> Path:
    """A repository with a tree whose conf.d/jupyter.conf is broken, and ``config``."""
    work = tmp_path / "deployment"
    (work / "nginx" / "conf.d").mkdir(parents=True)
    (work / "nginx" / "nginx.conf").write_text(
        "events {}\nhttp {\n    include conf.d/*.conf;\n}\n", encoding="utf-8")
    (work / "nginx" / "conf.d" / "jupyter.conf").write_text(jupyter_fragment(),
                                                            encoding="utf-8")
    (work / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "deployment")
    return work


def run_pre_commit(work: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PRE_COMMIT_HOME")}
    env["PRE_COMMIT_HOME"] = str(home)  # a fresh install
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=work,
                          capture_output=True, text=True, timeout=600, env=env)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def test_hooks_check_fix_and_pass(tmp_path: Path) -> None:
    source, revision = source_repository(tmp_path)
    work = deployment(tmp_path, textwrap.dedent(f"""\
        repos:
          - repo: {source}
            rev: {revision}
            hooks:
              - id: nglint
              - id: nglint-fix
        """))
    site = work / "nginx" / "conf.d" / "jupyter.conf"

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return run_pre_commit(work, tmp_path / "pre-commit-home", *args)

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


def test_readme_config_as_printed(tmp_path: Path) -> None:
    """The README's .pre-commit-config.yaml, only the repository URL replaced by a
    clone tagged with the README's ``rev``."""
    from tests.test_readme_sections import blocks, section

    (printed,) = blocks(section("pre-commit"), "yaml")
    url = "https://github.com/OWNER/nglint"
    assert printed.count(url) == 1
    rev = re.search(r"rev: (\S+)", printed)
    assert rev is not None
    source, _ = source_repository(tmp_path, tag=rev.group(1))
    work = deployment(tmp_path, printed.replace(url, str(source)))
    checked = run_pre_commit(work, tmp_path / "pre-commit-home", "--all-files")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "nginx/conf.d/jupyter.conf:9:5: NG101 [error]" in checked.stdout, checked.stdout
    assert "nglint --fix" not in checked.stdout  # the fix hook is commented out
