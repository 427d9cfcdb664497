"""The README's quick start stays true: two commands, the second is what CI runs."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
QUICK_START = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
COMMANDS = re.findall(r"```sh\n(.+?)\n```", QUICK_START)


def test_quick_start_is_two_commands():
    assert len(COMMANDS) == 2, COMMANDS
    assert all("\n" not in command for command in COMMANDS)


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = COMMANDS[1]
    assert "pytest" in test_command
    assert any(line.strip() == test_command for line in ci.splitlines()), test_command


def test_first_command_lints_a_shipped_example():
    install, run = COMMANDS[0].split(" && ")
    assert install.startswith("pip install .")
    argv = shlex.split(run)
    assert argv[:2] == ["nglint", "check"]
    target = REPO / argv[2]
    assert target.is_file(), target
    result = subprocess.run([sys.executable, "-m", "nglint", *argv[1:]], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr  # the seed has errors
    assert "NG102" in result.stdout and "NG103" in result.stdout


def test_rules_table_matches_the_registry():
    from nglint.registry import all_rules

    table = {}
    for line in README.split("## Rules", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"NG\d{3}", cells[0]):
            table[cells[0]] = (cells[1], cells[2])
    assert table == {r.code: (r.name, str(r.severity)) for r in all_rules()}


def test_what_it_finds_shows_real_output():
    block = README.split("nglint reports:\n\n```\n", 1)[1].split("```", 1)[0].splitlines()
    result = subprocess.run([sys.executable, "-m", "nglint", "check", "--no-cache",
                             "fixtures/examples/jupyter-seed.conf"], cwd=REPO,
                            capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "NO_COLOR": "1"})
    actual = result.stdout.splitlines()
    assert len(block) == len(actual)
    for shown, real in zip(block, actual, strict=True):
        assert real.startswith(shown.removesuffix(" …")), (shown, real)
