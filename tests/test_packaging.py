"""The wheel works on its own: built, installed in a fresh venv, run outside the checkout.

The rules live in the repository's top-level ``rules/`` folder but are installed as
``nglint.rules`` (``package-dir`` in pyproject.toml).  A top-level ``rules`` package in
site-packages would collide with PyPI's ``rules``, and nglint importing ``rules`` would
run whatever ``rules/`` folder sits in the directory ``python -m nglint`` is started from
(Python puts the current directory first on ``sys.path``).  So the tests here check:

- the wheel holds ``nglint/rules/<module>.py`` for every rule module and nothing at the
  top level but ``nglint``; installed in a fresh venv, run outside the checkout, it lists
  every rule, explains them and checks a shipped fixture;
- run from a directory holding a hostile ``rules/`` package (which leaves a marker file
  and raises when imported), the installed wheel, a fresh editable install and the
  environment the tests run in (an editable install in CI) all use nglint's own rules;
- an editable install maps ``nglint.rules`` to the checkout's ``rules/`` folder, and a
  rule file dropped there is picked up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import nglint
from nglint.registry import all_rules, lookup

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "examples" / "jupyter-seed.conf"
IGNORED = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", ".venv", "__pycache__",
                                 ".hypothesis", ".ruff_cache", ".mypy_cache", ".pytest_cache",
                                 ".tox", ".benchmarks")
RULE_MODULES = sorted(p.stem for p in (REPO / "rules").glob("*.py") if not p.stem.startswith("_"))
CODES = {rule.code for rule in all_rules()}
MARKER = "HOSTILE-RULES-PACKAGE-IMPORTED"
HOSTILE = f'''"""Not nglint's rules: a stranger's rules/ folder in the current directory."""
import pathlib
import sys

(pathlib.Path(__file__).resolve().parent.parent / "{MARKER}").write_text("imported")
print("{MARKER}")
print("{MARKER}", file=sys.stderr)
raise RuntimeError("{MARKER}")
'''
DROPPED = '''"""A rule dropped into rules/ after the editable install."""
CODE = "NG999"
NAME = "dropped-in-rule"
SEVERITY = "info"


def check(context):
    return iter(())
'''

Runner = Callable[..., subprocess.CompletedProcess[str]]


def clean_env() -> dict[str, str]:
    """No PYTHONPATH, no virtual environment leaking in from the test run."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}


def copy_source(tmp_path: Path) -> Path:
    # a copy: building writes build/ and *.egg-info next to pyproject.toml, and other
    # checkouts' runs must not race on them
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=IGNORED, symlinks=True)
    return source


def build_wheel(tmp_path: Path) -> Path:
    source = copy_source(tmp_path)
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


def pip_install(venv: Path, *args: str, cwd: Path) -> None:
    errors = []
    # build isolation first (the editable build needs the pinned setuptools); without it
    # when the index cannot be reached
    for extra in ([], ["--no-build-isolation"]):
        proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install",
                               "--quiet", *extra, *args], capture_output=True, text=True,
                              timeout=300, env=clean_env(), cwd=cwd)
        if proc.returncode == 0:
            return
        errors.append(proc.stdout[-2000:] + proc.stderr[-2000:])
    pytest.fail("pip install failed:\n" + "\n----\n".join(errors))


def hostile_folder(tmp_path: Path) -> Path:
    """A directory whose rules/ package raises (and leaves a marker file) when imported."""
    folder = tmp_path / "hostile"
    (folder / "rules").mkdir(parents=True)
    (folder / "rules" / "__init__.py").write_text(HOSTILE)
    (folder / "rules" / "syntax_error.py").write_text(HOSTILE)
    return folder


def runner(cwd: Path) -> Runner:
    def run(*command: str | Path, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                              timeout=60, env=env or clean_env(), cwd=cwd)
        output = proc.stdout + proc.stderr
        assert "Traceback" not in output, output
        assert MARKER not in output, output
        assert not (cwd / MARKER).exists(), f"{cwd}/rules was imported"
        return proc
    return run


def listed_codes(proc: subprocess.CompletedProcess[str]) -> set[str]:
    assert proc.returncode == 0, proc.stderr
    words = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    return {word for word in words if word != "CODE"}  # the table's heading


def assert_checks_seed(proc: subprocess.CompletedProcess[str]) -> None:
    """The seed example has findings of several rules: the rules really ran."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"version", "findings", "summary"}
    assert document["version"] == nglint.__version__
    assert document["summary"]["files"] == 1
    found = {f["code"] for f in document["findings"]}
    assert found and found <= CODES, found
    assert not found & {"NG001", "NG002"}  # no syntax or include errors in the seed


def assert_uses_own_rules(python: Path, hostile: Path, *, also_on_path: bool = True) -> None:
    """``python -m nglint`` started in ``hostile`` ignores its rules/ package."""
    run = runner(hostile)
    assert listed_codes(run(python, "-m", "nglint", "rules")) == CODES
    assert_checks_seed(run(python, "-m", "nglint", "check", "--format", "json", SEED))
    if also_on_path:  # a "rules" package anywhere on sys.path (PyPI's, say) is no matter
        env = {**clean_env(), "PYTHONPATH": str(hostile)}
        assert listed_codes(run(python, "-m", "nglint", "rules", env=env)) == CODES


def test_rule_modules_are_found() -> None:
    """The control for the tests below: every rule module of the checkout is registered."""
    assert len(CODES) == len(RULE_MODULES) == len(all_rules())
    assert {rule.check.__module__ for rule in all_rules()} == {
        f"nglint.rules.{name}" for name in RULE_MODULES}


def test_wheel_has_rules_inside_nglint(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("nglint/__init__.py", "nglint/cli.py", "nglint/report/json.py",
                   "nglint/rules/__init__.py",
                   *(f"nglint/rules/{name}.py" for name in RULE_MODULES)):
        assert module in names, (module, names)
    dist_info = f"nglint-{nglint.__version__}.dist-info"
    assert {name.split("/")[0] for name in names} == {"nglint", dist_info}, names
    assert not [name for name in names if name.startswith("rules/")]
    assert f"{dist_info}/entry_points.txt" in names
    top_level = f"{dist_info}/top_level.txt"
    if top_level in names:
        assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["nglint"]

    venv = make_venv(tmp_path)
    python = venv / "bin" / "python"
    pip_install(venv, str(wheel), cwd=tmp_path)
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True, env=clean_env()).stdout.strip())
    assert (site_packages / "nglint" / "rules" / "syntax_error.py").is_file()
    assert not (site_packages / "rules").exists()

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = runner(outside)

    # the installed copy, not the checkout, and no top-level rules package at all
    where = run(python, "-c", "import nglint, nglint.rules.syntax_error as rule; "
                "print(nglint.__file__); print(rule.__file__)")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(site_packages.resolve()), where.stdout
    missing = subprocess.run([str(python), "-c", "import rules"], capture_output=True,
                             text=True, env=clean_env(), cwd=outside)
    assert "No module named 'rules'" in missing.stderr

    assert listed_codes(run(venv / "bin" / "nglint", "rules")) == CODES
    assert listed_codes(run(python, "-m", "nglint", "rules")) == CODES
    assert_checks_seed(run(venv / "bin" / "nglint", "check", "--format", "json", SEED))
    assert_checks_seed(run(python, "-m", "nglint", "check", "--format", "json", SEED))
    explain = run(venv / "bin" / "nglint", "explain", "NG101")
    assert explain.returncode == 0, explain.stderr
    assert lookup("NG101").summary in explain.stdout

    version = run(venv / "bin" / "nglint", "--version")
    assert version.returncode == 0
    assert nglint.__version__ in version.stdout

    # started from a directory that holds its own rules/ package
    hostile = hostile_folder(tmp_path)
    assert_uses_own_rules(python, hostile)
    console = runner(hostile)(venv / "bin" / "nglint", "rules",
                              env={**clean_env(), "PYTHONPATH": str(hostile)})
    assert listed_codes(console) == CODES


def test_editable_install_maps_rules_folder(tmp_path: Path) -> None:
    """``pip install -e .``, as CI does, serves nglint.rules from the checkout's rules/."""
    source = copy_source(tmp_path)
    venv = make_venv(tmp_path)
    python = venv / "bin" / "python"
    pip_install(venv, "-e", str(source), cwd=tmp_path)

    hostile = hostile_folder(tmp_path)
    run = runner(hostile)
    where = run(python, "-c", "import nglint.rules.syntax_error as rule; print(rule.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()) == source / "rules" / "syntax_error.py"
    assert_uses_own_rules(python, hostile)

    # a rule file dropped into rules/ is a rule, without installing again
    (source / "rules" / "dropped_in_rule.py").write_text(DROPPED)
    assert listed_codes(run(python, "-m", "nglint", "rules")) == CODES | {"NG999"}
    assert listed_codes(run(venv / "bin" / "nglint", "rules")) == CODES | {"NG999"}


def test_this_environment_ignores_a_rules_folder(tmp_path: Path) -> None:
    """The interpreter running the tests (an editable install of this checkout in CI)."""
    hostile = hostile_folder(tmp_path)
    where = subprocess.run([sys.executable, "-c", "import nglint; print(nglint.__file__)"],
                           capture_output=True, text=True, env=clean_env(), cwd=hostile)
    if where.returncode != 0:
        pytest.skip("nglint is not installed in this environment (pip install -e '.[test]')")
    run = runner(hostile)
    rule = run(sys.executable, "-c",
               "import nglint.rules.syntax_error as rule; print(rule.__file__)")
    assert rule.returncode == 0, (
        "nglint.rules cannot be imported: an editable install older than the "
        "nglint.rules mapping? pip install -e '.[test]' again\n" + rule.stderr)
    if Path(where.stdout.strip()).resolve().is_relative_to(REPO):
        assert Path(rule.stdout.strip()).resolve() == REPO / "rules" / "syntax_error.py"
    assert_uses_own_rules(Path(sys.executable), hostile)
