"""The wheel works on its own: built, installed in a fresh venv, run outside the checkout.

The top-level ``rules`` package is found through the import system, so a wheel that
forgets it installs fine and fails only when run: ``nglint rules`` must list NG001 and
NG002 from the installed copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import nglint

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "examples" / "jupyter-seed.conf"
IGNORED = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", ".venv", "__pycache__",
                                 ".hypothesis", ".ruff_cache", ".pytest_cache", ".tox")


def clean_env() -> dict[str, str]:
    """No PYTHONPATH, no virtual environment leaking in from the test run."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}


def build_wheel(tmp_path: Path) -> Path:
    # a copy: the build writes build/ and *.egg-info next to pyproject.toml, and other
    # checkouts' runs must not race on them
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=IGNORED, symlinks=True)
    dist = tmp_path / "dist"
    errors = []
    for extra in ([], ["--no-isolation"]):
        proc = subprocess.run([sys.executable, "-m", "build", "--wheel", *extra, "--outdir",
                               str(dist), str(source)], capture_output=True, text=True,
                              timeout=180, env=clean_env(), cwd=tmp_path)
        wheels = sorted(dist.glob("nglint-*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[-1]
        errors.append(proc.stdout[-2000:] + proc.stderr[-2000:])
    pytest.fail("building the wheel failed:\n" + "\n----\n".join(errors))


def make_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    try:
        proc = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                              text=True, timeout=120, env=clean_env())
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot create a virtual environment: {error}")
    if proc.returncode != 0 or not (venv / "bin" / "python").exists():
        pytest.skip(f"cannot create a virtual environment: {proc.stderr.strip()[-500:]}")
    return venv


def test_wheel_in_fresh_venv(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("nglint/__init__.py", "nglint/cli.py", "nglint/report/json.py",
                   "rules/__init__.py", "rules/syntax_error.py", "rules/include_not_found.py"):
        assert module in names, (module, names)
    assert any(n.endswith("entry_points.txt") for n in names)

    venv = make_venv(tmp_path)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)],
                             capture_output=True, text=True, timeout=240, env=clean_env(),
                             cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(list(command), capture_output=True, text=True, timeout=60,
                              env=clean_env(), cwd=outside)
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return proc

    # the installed copy, not the checkout
    where = run(str(python), "-c", "import nglint, rules; print(nglint.__file__); "
                "print(rules.__file__)")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), where.stdout

    check = run(str(venv / "bin" / "nglint"), "check", "--format", "json", str(SEED))
    assert check.returncode in (0, 1), check.stderr  # 1: findings of the seed's rules
    document = json.loads(check.stdout)
    assert set(document) == {"version", "findings", "summary"}
    assert document["version"] == nglint.__version__
    assert document["summary"]["files"] == 1
    assert not [f for f in document["findings"] if f["code"] in ("NG001", "NG002")]

    rules = run(str(python), "-m", "nglint", "rules")
    assert rules.returncode == 0, rules.stderr
    codes = {line.split()[0] for line in rules.stdout.splitlines() if line.strip()}
    assert {"NG001", "NG002"} <= codes

    version = run(str(venv / "bin" / "nglint"), "--version")
    assert version.returncode == 0
    assert nglint.__version__ in version.stdout
