"""Gate controls, rule pages, ``--within-tree`` and the progress bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nglint.cli import main
from tests.helpers import FIXTURES, write
from tests.test_output import ESC, environment, run_tty

SEED = FIXTURES / "examples" / "jupyter-seed.conf"
# only warnings: Upgrade and Connection hard-coded in the one proxying location
WARNINGS_ONLY = """events {}
http {
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade "websocket";
            proxy_set_header Connection "Upgrade";
            proxy_read_timeout 1d;
            client_max_body_size 100m;
        }
    }
}
"""


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def found(out: str) -> list[str]:
    return [f["code"] for f in json.loads(out)["findings"]]


def test_fail_on_and_exit_zero(tmp_path: Path) -> None:
    conf = str(write(tmp_path, WARNINGS_ONLY))
    status, out, _ = check("--format", "json", "--select", "NG1", conf)
    assert status == 0 and found(out)  # warnings only: not failing by default
    assert all(f["severity"] == "warning" for f in json.loads(out)["findings"])
    assert check("--select", "NG1", conf)[0] == 0
    assert check("--select", "NG1", "--fail-on", "warning", conf)[0] == 1
    assert check("--select", "NG1", "--fail-on", "info", conf)[0] == 1
    assert check("--select", "NG1", "--fail-on", "info", "--exit-zero", conf)[0] == 0
    assert check("--exit-zero", str(SEED))[0] == 0
    assert check(str(SEED))[0] == 1


def test_quiet_prints_findings_only() -> None:
    _, out, _ = check("--quiet", str(SEED))
    assert "NG102" in out and "Found" not in out
    _, out, _ = check(str(SEED))
    assert "Found 9 problems in 1 file (1 file checked): 3 errors, 6 warnings" in out


def test_select_and_ignore_on_the_command_line() -> None:
    _, out, _ = check("--format", "json", "--select", "NG102,NG103", str(SEED))
    assert set(found(out)) == {"NG102", "NG103"}
    _, out, _ = check("--format", "json", "--select", "NG1", "--ignore",
                      "websocket-upgrade-header", "--ignore", "NG103", str(SEED))
    assert set(found(out)) == {"NG101", "NG104", "NG108"}
    status, _, err = check("--select", "NG999", str(SEED))
    assert status == 2 and "unknown rule 'NG999'" in err


@pytest.mark.parametrize("name", ["NG009", "ng009", "unused-suppression"])
def test_explain_by_code_or_name(name: str) -> None:
    result = CliRunner().invoke(main, ["explain", name])
    assert result.exit_code == 0
    assert result.stdout.startswith("# NG009 unused-suppression (info")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in result.stdout


def test_rules_json_lists_every_rule_with_options() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    rules = {rule["code"]: rule for rule in json.loads(result.stdout)}
    assert rules["NG009"]["name"] == "unused-suppression" and rules["NG009"]["severity"] == "info"
    assert rules["NG014"]["severity"] == "warning"
    assert rules["NG104"]["options"] == {"threshold": "60s", "fix-value": "1d"}


def test_rich_is_imported_only_for_a_terminal(tmp_path: Path) -> None:
    """Machine formats, and text written to a pipe (a CI log, a pre-commit hook),
    never import rich: it costs a tenth of a second at start-up."""
    conf = write(tmp_path / "many", WARNINGS_ONLY, "a.conf")
    for index in range(25):  # enough for a progress bar, were stderr a terminal
        write(tmp_path / "many", WARNINGS_ONLY, f"site{index}.conf")
    for output_format in ("json", "sarif", "github", "text"):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "nglint", "check",
                               "--format", output_format, str(conf.parent)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        imported = [line for line in proc.stderr.splitlines() if "import time:" in line]
        assert imported, "the control: -X importtime lists imports"
        assert not [line for line in imported if "rich" in line.split("|")[-1]]


def test_progress_bar_only_on_a_terminal_and_for_many_trees(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for index in range(25):
        write(folder, WARNINGS_ONLY, f"site{index}.conf")
    status, output = run_tty("check", "--format", "json", "many", cwd=tmp_path)
    assert status == 0
    assert "Linting" in output and ESC in output
    piped = subprocess.run([sys.executable, "-m", "nglint", "check", "--format", "json",
                            "many"], capture_output=True, text=True, timeout=120,
                           cwd=tmp_path, env=environment())
    assert piped.returncode == 0 and piped.stderr == ""
    few = tmp_path / "few"
    for index in range(3):
        write(few, WARNINGS_ONLY, f"site{index}.conf")
    status, output = run_tty("check", "--format", "json", "few", cwd=tmp_path)
    assert status == 0 and "Linting" not in output


MAIN = "events {}\nhttp {\n    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n    include conf.d/*.conf;\n}\n"  # noqa: E501
SITE = """server {
    listen 80;
    location / {
        proxy_pass http://127.0.0.1:8888;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1d;
        client_max_body_size 100m;
    }
}
"""


ABOUT = ("--select", "NG003,NG004,NG1")  # others may fire on the samples as rules are added


def test_within_tree_sees_what_the_tree_defines(tmp_path: Path) -> None:
    root = tmp_path / "repo" / "nginx"
    write(root, MAIN)
    site = write(root / "conf.d", SITE, "jupyter.conf")
    write(root / "conf.d", "server { listen 81; location / { proxy_read_timeout 5x; } }\n",
          "other.conf")
    # alone, the fragment lacks the http-level map: a false NG004
    _, out, _ = check("--format", "json", *ABOUT, str(site))
    assert found(out) == ["NG004"]
    # within its tree: clean, and other.conf's NG003 is not this file's business
    status, out, _ = check("--format", "json", *ABOUT, "--within-tree", str(site))
    assert status == 0 and found(out) == []
    # the whole tree named: other.conf's finding is reported
    status, out, _ = check("--format", "json", *ABOUT, "--within-tree", str(root))
    assert found(out) == ["NG003"]


def test_within_tree_file_not_included_stays_a_fragment(tmp_path: Path) -> None:
    root = tmp_path / "nginx"
    write(root, "events {}\nhttp { }\n")
    site = write(root / "sites-available", SITE, "jupyter")
    _, out, _ = check("--format", "json", *ABOUT, "--within-tree", str(site))
    assert found(out) == ["NG004"]  # linted on its own, as without the option
    _, out, _ = check("--format", "json", *ABOUT, "--within-tree", str(root / "nginx.conf"))
    assert found(out) == []


def test_within_tree_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path, MAIN)  # above the repository: not this repository's tree
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    site = write(repo / "conf.d", SITE, "jupyter.conf")
    _, out, _ = check("--format", "json", *ABOUT, "--within-tree", str(site))
    assert found(out) == ["NG004"]


def _many_servers(count: int) -> str:
    """A tree with ``count`` broken Jupyter servers: hundreds of findings."""
    servers = "".join(f"""
    server {{
        listen 80;
        server_name lab{index}.example.com;
        location / {{
            proxy_pass http://127.0.0.1:8888;
            proxy_set_header Host $host;
        }}
    }}""" for index in range(count))
    return f"events {{}}\nhttp {{{servers}\n}}\n"


def test_the_program_leaves_only_after_its_output_is_complete(tmp_path: Path) -> None:
    """The program exits with os._exit (no interpreter teardown): everything it
    prints or writes must be complete first, and a reader that goes away early
    must not cause a traceback."""
    conf = write(tmp_path, _many_servers(300))
    expected = json.loads(CliRunner().invoke(main, ["check", "--no-cache", "--format", "json",
                                                    str(conf)]).stdout)
    assert len(expected["findings"]) > 600  # the control: a large output
    program = [sys.executable, "-m", "nglint", "check", "--no-cache", "--format", "json"]
    proc = subprocess.run([*program, str(conf)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == expected
    target = tmp_path / "report.json"
    proc = subprocess.run([*program, "--output", str(target), str(conf)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(target.read_text()) == expected
    # a reader that stops after the first bytes (| head -c 10)
    reader = subprocess.Popen([*program, str(conf)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.read(10)
    reader.stdout.close()
    error = reader.stderr.read().decode()
    assert reader.wait(timeout=120) in (1, 2)
    assert "Traceback" not in error


@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["streamed", "rendered"])
def test_a_reader_that_goes_away_keeps_the_status_and_statistics(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: list[str]) -> None:
    """``| head -c 10`` under ``pipefail``: the JSON report written as it is encoded
    (no cache) or whole (from the cache's rendering) ends the same way, with the
    findings' status and ``--statistics`` on stderr."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = write(tmp_path, _many_servers(300))
    program = [sys.executable, "-m", "nglint", "check", *cache, "--format", "json",
               "--statistics"]
    for extra, status in (([], 1), (["--exit-zero"], 0)):
        reader = subprocess.Popen([*program, *extra, str(conf)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=os.environ)
        assert reader.stdout is not None and reader.stderr is not None
        assert reader.stdout.read(10) == b'{\n  "versi'
        reader.stdout.close()
        error = reader.stderr.read().decode()
        assert reader.wait(timeout=120) == status, error
        assert "Traceback" not in error and "  NG" in error  # the statistics table
