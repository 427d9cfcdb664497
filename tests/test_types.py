"""The project's style gates, run as tests so that CI keeps them: the annotations hold
(mypy, configured under ``[tool.mypy]`` in pyproject.toml) and the code is ruff clean
(``[tool.ruff]``).

An annotation nothing checks drifts from what the code does (a variable reused with a
second type, an ``Optional`` passed where a node is declared); session 11's mypyc
experiment found 38 such places (docs/performance.md, "seventh pass").  Each test also
runs its tool on a file with one planted error, so that a tool that checks nothing
(a configuration that excludes every file) fails too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLANTED = '''"""A module with one error of each tool's kind."""
import os


def length(text: str) -> int:
    return text
'''


def _mypy(tmp_path: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    # a cache of this run's own: nothing is written into the checkout
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file",
                           str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
                           *targets], cwd=REPO, capture_output=True, text=True, check=False)


def _ruff(*targets: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return subprocess.run([ruff, "check", "--no-cache", *targets], cwd=REPO,
                          capture_output=True, text=True, check=False)


def test_mypy_finds_no_error_in_nglint_and_its_rules(tmp_path: Path) -> None:
    found = _mypy(tmp_path)  # the files of [tool.mypy]
    assert found.returncode == 0, found.stdout + found.stderr
    # it read the package and the rules, not an empty selection
    assert "Success: no issues found in" in found.stdout
    checked = int(found.stdout.split("found in ")[1].split()[0])
    assert checked >= len(list((REPO / "nglint").rglob("*.py")))


def test_mypy_reports_a_planted_error(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(PLANTED)
    found = _mypy(tmp_path, str(planted))
    assert found.returncode == 1
    assert 'Incompatible return value type (got "str", expected "int")' in found.stdout


def test_ruff_is_clean() -> None:
    found = _ruff(".")
    assert found.returncode == 0, found.stdout + found.stderr


def test_ruff_reports_a_planted_error(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(PLANTED)
    found = _ruff(str(planted))
    assert found.returncode == 1
    assert "F401" in found.stdout  # `os` imported but unused
