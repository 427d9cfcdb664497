"""PyPI's ``crossplane`` installed over ``ngxparse`` (both install module ``crossplane``):
nglint names the conflict and prints a repair command, and that command repairs.

A throwaway virtual environment gets ngxparse, then PyPI's crossplane over it (from
PyPI: skipped when it cannot be reached); a ``.pth`` file adds this environment's
site directories after its own, so nglint and its other dependencies are found
while ``crossplane`` resolves to the throwaway environment's files."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from nglint import CROSSPLANE_VERSION


def _python(env: Path) -> str:
    return str(env / ("Scripts" if os.name == "nt" else "bin") / "python")


@pytest.fixture
def clashing(tmp_path: Path) -> str:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = _python(env)
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", f"ngxparse=={CROSSPLANE_VERSION}"],
        capture_output=True, text=True, check=False)
    over = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "crossplane==0.5.8"],
                          capture_output=True, text=True, check=False)
    if installed.returncode or over.returncode:
        pytest.skip(f"PyPI not reachable: {(installed.stderr + over.stderr).strip()[-200:]}")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    ours = [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    ours.append(sysconfig.get_paths()["purelib"])
    (Path(purelib) / "zz-nglint-test.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in dict.fromkeys(ours))
        + "\n")
    return python


def _nglint(python: str, conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, "-m", "nglint", "check", "--no-cache", str(conf)],
                          capture_output=True, text=True, check=False, cwd=conf.parent)


def test_clash_is_named_and_the_repair_works(clashing: str, tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp {\n}\n")
    broken = _nglint(clashing, conf)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    [line] = broken.stderr.splitlines()
    assert line.startswith("nglint: error: the crossplane module is PyPI's crossplane 0.5.8, "
                           "installed over ngxparse")
    command = line.split("repair with: ", 1)[1]
    assert clashing in command
    repaired = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                              check=False)
    assert repaired.returncode == 0, repaired.stderr
    fixed = _nglint(clashing, conf)
    assert fixed.returncode == 0, fixed.stderr
    version = subprocess.run([clashing, "-c", "import crossplane; print(crossplane.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == CROSSPLANE_VERSION
