"""The README's configuration, suppression, pre-commit and workflow examples stay true."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nglint import config
from nglint.cli import check
from tests.helpers import REPO, findings, write

README = (REPO / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def test_every_check_option_is_documented() -> None:
    usage = section("Usage")
    for parameter in check.params:
        for option in parameter.opts:
            if option.startswith("--"):
                assert f"`{option}" in usage, f"{option} is not in the README's Usage"


def test_configuration_example_is_valid(tmp_path: Path) -> None:
    (example,) = blocks(section("Configuration"), "toml")
    path = write(tmp_path, example, "pyproject.toml")
    loaded = config.load(str(path))
    assert loaded.select == ["NG0", "NG1"] and loaded.fail_on == "warning"
    assert loaded.rule_options["websocket-read-timeout"] == {"threshold": "1h",
                                                             "fix-value": "1d"}
    table = section("Configuration").split("| key | value |", 1)[1]
    for key in config.KEYS:
        assert f"`{key}`" in table or f"`[{key}" in table, f"{key} is not documented"


def test_suppression_examples_are_well_formed(tmp_path: Path) -> None:
    (example,) = blocks(section("Suppressions"), "nginx")
    path = write(tmp_path, f"events {{}}\nhttp {{\nserver {{\n{example}}}\n}}\n")
    found = findings(path)
    assert not [f for f in found if f.code == "NG014"], [f.message for f in found]
    assert not [f for f in found if f.code == "NG004"]  # the line-above form works


def test_pre_commit_and_workflow_examples() -> None:
    yaml = pytest.importorskip("yaml")  # comes with pre-commit
    (hooks,) = blocks(section("pre-commit"), "yaml")
    ids = {h["id"] for repo in yaml.safe_load(hooks)["repos"] for h in repo["hooks"]}
    manifest = {h["id"] for h in yaml.safe_load(
        (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert ids <= manifest
    workflow = blocks(section("GitHub Actions and code scanning"), "yaml")[0]  # then the action
    steps = yaml.safe_load(workflow)["jobs"]["nglint"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("--format sarif" in r and "--output nglint.sarif" in r for r in runs)
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "nglint.sarif"


def test_route_example_prints_what_the_readme_shows() -> None:
    """The `nglint route` example, run exactly as printed, prints the block below it."""
    import shlex
    import subprocess
    import sys

    usage = section("Usage").split("### nglint route", 1)[1]
    (command,) = blocks(usage, "sh")
    after = usage.split(command, 1)[1].split("```\n", 1)[1]  # past the sh block's fence
    shown = re.findall(r"```\n(.*?)```", after, re.DOTALL)[0]
    argv = shlex.split(command.strip())
    assert argv[:2] == ["nglint", "route"]
    result = subprocess.run([sys.executable, "-m", "nglint", *argv[1:]], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown


def test_route_json_keys_are_documented() -> None:
    """Every key of `nglint route --format json` is named in the README's description."""
    import json

    from click.testing import CliRunner

    from nglint.cli import main

    usage = section("Usage").split("### nglint route", 1)[1]
    result = CliRunner().invoke(main, ["route", str(REPO / "fixtures/model/if-proxy-pass.conf"),
                                       "/api/x", "--format", "json"])
    assert result.exit_code == 0, result.output
    [answer] = json.loads(result.output)
    keys = set(answer) | set(answer["branches"][0]) | set(answer["upstream"])
    keys |= set(answer["effective"]["proxy_set_header"][0]) | set(answer["server"])
    missing = sorted(key for key in keys if f"`{key}`" not in usage and key not in usage)
    assert not missing, missing


def test_apps_example_runs_as_printed() -> None:
    """The `nglint apps` example of the README runs as printed and finds Jupyter."""
    import shlex
    import subprocess
    import sys

    text = README.split("### Which app a location serves", 1)[1].split("\n## ", 1)[0]
    (command,) = blocks(text, "sh")
    argv = shlex.split(command.strip())
    assert argv[:2] == ["nglint", "apps"]
    result = subprocess.run([sys.executable, "-m", "nglint", *argv[1:]], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Jupyter at / " in result.stdout and "try_files ... @jupyter" in result.stdout


def test_stdin_and_dump_example_runs_as_printed() -> None:
    """The dump example: the files, lines, codes and severities printed, from the file
    and from stdin."""
    from click.testing import CliRunner

    from nglint.cli import main

    text = section("Usage").split("### Lint stdin and an `nginx -T` dump", 1)[1]
    text = text.split("\n### ", 1)[0]
    (commands,) = blocks(text, "sh")
    printed = "\n".join(line for line in text.splitlines() if line.startswith("/etc/"))
    assert "nginx -T 2>/dev/null | nglint check -\n" in commands
    assert "nglint check fixtures/examples/nginx-T.txt\n" in commands
    expected = [line.split("] ", 1)[0] + "]" for line in printed.splitlines()]
    dump = REPO / "fixtures/examples/nginx-T.txt"
    for path, stdin in ((str(dump), None), ("-", dump.read_bytes())):
        result = CliRunner().invoke(main, ["check", "--format", "json", path], input=stdin)
        assert result.exit_code == 0, result.output  # warnings only
        got = [f"{f['path']}:{f['line']}:{f['column']}: {f['code']} [{f['severity']}]"
               for f in json.loads(result.stdout)["findings"]]
        assert got == expected


@pytest.mark.parametrize("command", blocks(section("Real layouts"), "sh"))
def test_real_layout_examples_run_as_printed(command: str) -> None:
    """Each layout example runs as printed on the shipped fixtures: the copy of
    /etc/nginx and the single site are clean (the map is found in the copy), the
    Docker folder reports its snippet's defects once, through the include."""
    import json
    import shlex
    import subprocess
    import sys

    argv = shlex.split(command.strip())
    assert argv[:2] == ["nglint", "check"]
    result = subprocess.run([sys.executable, "-m", "nglint", *argv[1:], "--format", "json"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr
    found = json.loads(result.stdout)["findings"]
    # the layouts proxy with `Host $http_host` on port 80 only, where $host would do:
    # the security family's NG202 notes it (a warning; the README says so)
    spoofing = [f for f in found if f["code"] == "NG202"]
    assert spoofing and all(f["severity"] == "warning" for f in spoofing)
    found = [f for f in found if f["code"] != "NG202"]
    if "docker" in command:
        assert result.returncode == 1
        assert sorted(f["code"] for f in found) == ["NG101", "NG102", "NG103", "NG104"]
        assert {f["path"] for f in found} == {
            "fixtures/layouts/docker/snippets/jupyter-locations.conf"}
        assert {f["via"] for f in found} == {"fixtures/layouts/docker/conf.d/jupyter.conf:6"}
    else:
        assert (result.returncode, found) == (0, [])  # a warning does not fail the run


def test_performance_commands_run_as_printed(tmp_path: Path) -> None:
    """The Performance section: the benchmark's options exist (its runs take minutes,
    so they are not run here), its crossplane command is the benchmark's baseline, and
    the GNU time commands run as printed (only /tmp/nglint-tree moved into tmp_path)
    and report the peak memory of nglint and of the parse."""
    import os
    import shlex
    import shutil
    import subprocess
    import sys

    benchmark, by_hand = blocks(section("Performance"), "sh")
    usage = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--help"],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    for line in benchmark.splitlines():
        argv = shlex.split(line)
        assert argv[:2] == ["python", "benchmarks/run.py"], line
        for word in argv[2:]:
            assert not word.startswith("--") or word in usage, word
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from run import PARSE, SECTIONS
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    assert all(f"`{name}`" in section("Performance") for name in SECTIONS)
    lines = by_hand.splitlines()
    assert shlex.split(lines[2])[4] == PARSE
    if shutil.which("/usr/bin/time") is None:
        pytest.skip("GNU time is not installed")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    results = [subprocess.run(["bash", "-c", line.replace("/tmp/nglint-tree", str(tmp_path))],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
               for line in lines]
    assert results[0].returncode == 0 and int(results[0].stdout) > 60_000, results[0].stderr
    assert results[1].returncode == 1  # the benchmark tree has findings
    assert results[2].returncode == 0, results[2].stderr
    for result in results[1:]:
        assert "Maximum resident set size" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
