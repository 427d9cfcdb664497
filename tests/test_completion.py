"""The README's shell-completion lines, run as printed: each prints a script for its
shell, and the script's answers come from nglint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_readme_sections import README

SECTION = README.split("\n### Shell completion\n", 1)[1].split("\n### ", 1)[0]
BIN = str(Path(sys.executable).parent)  # the venv's console scripts: nglint


def line(shell: str) -> str:
    (found,) = re.findall(rf"```{shell}\n(.*?)\n```", SECTION, re.DOTALL)
    return found.split("#", 1)[0].strip() if shell != "fish" else found


def run(command: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
           "HOME": str(tmp_path)}
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env,
                          check=False)


def test_bash(tmp_path: Path) -> None:
    command = line("bash")
    assert command == 'eval "$(_NGLINT_COMPLETE=bash_source nglint)"'
    done = run(f"{command}\ncomplete -p nglint", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "_nglint_completion" in done.stdout
    # what the script asks nglint when the user types `nglint ch<TAB>`
    asked = run("_NGLINT_COMPLETE=bash_complete COMP_WORDS='nglint ch' COMP_CWORD=1 nglint",
                tmp_path)
    assert asked.stdout.split() == ["plain,check"]


def test_zsh(tmp_path: Path) -> None:
    command = line("zsh")
    assert command == 'eval "$(_NGLINT_COMPLETE=zsh_source nglint)"'
    script = run(command[len('eval "$('):-len(')"')], tmp_path)
    assert script.returncode == 0 and script.stdout.startswith("#compdef nglint\n")
    if shutil.which("zsh"):
        done = subprocess.run(["zsh", "-c", f"autoload -Uz compinit && compinit -u; {command}"],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"],
                                   "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stderr


def test_fish(tmp_path: Path) -> None:
    command = line("fish").strip()
    assert command.endswith("> ~/.config/fish/completions/nglint.fish")
    (tmp_path / ".config" / "fish" / "completions").mkdir(parents=True)
    done = run(command, tmp_path)
    assert done.returncode == 0, done.stderr
    script = (tmp_path / ".config" / "fish" / "completions" / "nglint.fish").read_text()
    assert script.startswith("function _nglint_completion")
    assert "complete --no-files --command nglint" in script


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_is_documented(shell: str) -> None:
    assert f"_NGLINT_COMPLETE={shell}_source nglint" in SECTION
