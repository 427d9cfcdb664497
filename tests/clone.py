"""A committed copy of this checkout's shipped files: what pre-commit, pip's
``git+`` URLs and ``uses:`` of the action fetch from the real repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers import REPO

SHIPPED = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "action.yml", "nglint",
           "rules"]


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=nglint tests", "-c",
                           "user.email=tests@nglint.invalid", "-c", "commit.gpgsign=false",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=True)
    return proc.stdout.strip()


def source_repository(tmp_path: Path, tag: str | None = None) -> tuple[Path, str]:
    """This checkout's shipped files, committed in a repository of their own (and
    tagged ``tag``); (its path, the commit)."""
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
    if tag:
        git(source, "tag", tag)
    return source, git(source, "rev-parse", "HEAD")
