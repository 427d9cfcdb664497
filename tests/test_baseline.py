"""``--write-baseline`` and ``--baseline``: only new findings, matched across moved lines."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from nglint.cli import main

CONF = """\
events {}
http {
    server {
        listen 80;
        location /app/ {
            proxy_pass http://127.0.0.1:8888;
            add_header X-Tenant $tenant;
        }
    }
}
"""


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", *args])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def codes(stdout: str) -> list[tuple[str, int]]:
    return [(f["code"], f["line"]) for f in json.loads(stdout)["findings"]]


def test_baseline_survives_moved_lines(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF)
    baseline = tmp_path / "baseline.json"
    status, _, _ = check(str(conf))
    assert status == 1
    status, out, err = check("--write-baseline", str(baseline), str(conf))
    assert status == 0 and codes(out) == [] and "recorded" in err
    recorded = json.loads(baseline.read_text())["findings"]
    assert {e["code"] for e in recorded} >= {"NG004"}
    # lines added above: every finding moves down, none is new
    conf.write_text("# deployed by ansible\n\n" + CONF.replace("listen 80;", "listen 80;\n"))
    status, out, err = check("--baseline", str(baseline), str(conf))
    assert (status, codes(out), err) == (0, [], "")
    # a new problem is reported, the old ones still are not
    conf.write_text(CONF.replace("add_header X-Tenant $tenant;",
                                 "add_header X-Tenant $tenant;\n"
                                 "            add_header X-Region $region;"))
    status, out, _ = check("--baseline", str(baseline), str(conf))
    assert status == 1
    found = json.loads(out)["findings"]
    assert [(f["code"], f["line"]) for f in found] == [("NG004", 8)]
    assert "$region" in found[0]["message"]


def test_fixed_findings_are_counted(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF)
    baseline = tmp_path / "baseline.json"
    check("--write-baseline", str(baseline), str(conf))
    conf.write_text(CONF.replace("            add_header X-Tenant $tenant;\n", ""))
    _, out, err = check("--baseline", str(baseline), str(conf))
    assert codes(out) == []
    assert "nglint: 1 finding of the baseline no longer occur (fixed)" in err
    assert "fixed since the baseline: nginx.conf: NG004 " in err


def test_identical_statements_count(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF)
    baseline = tmp_path / "baseline.json"
    check("--write-baseline", str(baseline), str(conf))
    # the same statement twice in the same block: the second one is new
    conf.write_text(CONF.replace("add_header X-Tenant $tenant;",
                                 "add_header X-Tenant $tenant;\n"
                                 "            add_header X-Tenant $tenant;"))
    _, out, _ = check("--baseline", str(baseline), str(conf))
    assert [code for code, _ in codes(out)] == ["NG004"]


def test_a_statement_moved_to_another_block_is_new(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF)
    baseline = tmp_path / "baseline.json"
    check("--write-baseline", str(baseline), str(conf))
    conf.write_text(CONF.replace("location /app/", "location /other/"))
    _, out, err = check("--baseline", str(baseline), str(conf))
    assert "NG004" in [code for code, _ in codes(out)]
    assert "no longer occur" in err


def test_bad_baseline_is_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for path in (str(bad), str(tmp_path / "missing.json")):
        status, _, err = check("--baseline", path, str(conf))
        assert status == 2 and err.count("\n") == 1 and err.startswith("nglint: error:")


def test_readme_commands(tmp_path: Path, monkeypatch) -> None:
    from tests.test_readme_sections import README

    block = README.split("\n### Baseline\n\n```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].split() for line in block.splitlines()]
    assert [c[:2] for c in commands] == [["nglint", "check"]] * 2
    (tmp_path / "etc" / "nginx").mkdir(parents=True)
    (tmp_path / "etc" / "nginx" / "nginx.conf").write_text(CONF)
    monkeypatch.chdir(tmp_path)
    results = []
    for command in commands:
        args = ["etc/nginx" if arg == "/etc/nginx" else arg for arg in command[2:]]
        results.append(CliRunner().invoke(main, ["check", "--no-cache", *args]).exit_code)
    assert results == [0, 0]
