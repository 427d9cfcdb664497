"""``--format gitlab`` (validated against the documented Code Quality shape) and
``--format junit``; the README's GitLab CI job run as printed."""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from nglint.cli import main
from tests.test_readme_sections import README

SCHEMA = json.loads((Path(__file__).parent / "data" / "gitlab-codequality.schema.json")
                    .read_text(encoding="utf-8"))
CONF = """\
events {}
http {
    server {
        listen 80;
        location /app/ {
            proxy_pass http://127.0.0.1:8888;
            add_header X-Tenant $tenant;
            add_header X-Tenant $tenant;
        }
    }
}
"""


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nginx.conf").write_text(CONF)
    return tmp_path / "nginx.conf"


def test_gitlab_report_is_valid(conf: Path) -> None:
    status, out, _ = check("--format", "gitlab", str(conf))
    assert status == 1
    report = json.loads(out)
    jsonschema.Draft7Validator(SCHEMA).validate(report)
    tenant = [issue for issue in report if "$tenant" in issue["description"]]
    assert len(tenant) == 2
    assert len({issue["fingerprint"] for issue in report}) == len(report)  # two stay two
    first = tenant[0]
    assert first["check_name"] == "NG004 undefined-variable"
    assert first["severity"] == "major" and first["location"]["path"] == "nginx.conf"
    assert first["location"]["positions"]["begin"] == {"line": 7, "column": 13}


def test_gitlab_fingerprints_survive_moved_lines(conf: Path) -> None:
    before = json.loads(check("--format", "gitlab", str(conf))[1])
    conf.write_text("# a comment\n\n" + CONF)
    after = json.loads(check("--format", "gitlab", str(conf))[1])
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["positions"]["begin"]["line"] for i in after] == \
        [i["location"]["positions"]["begin"]["line"] + 2 for i in before]


def test_schema_rejects_what_gitlab_would() -> None:
    validator = jsonschema.Draft7Validator(SCHEMA)
    issue = {"description": "d", "check_name": "c", "fingerprint": "f", "severity": "minor",
             "location": {"path": "a.conf", "lines": {"begin": 1}}}
    assert validator.is_valid([issue])
    assert not validator.is_valid([{**issue, "severity": "error"}])
    assert not validator.is_valid([{**issue, "location": {"path": "/abs.conf",
                                                          "lines": {"begin": 1}}}])
    assert not validator.is_valid([{**issue, "location": {"path": "a.conf"}}])


def test_junit(conf: Path) -> None:
    status, out, _ = check("--format", "junit", str(conf))
    assert status == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("name") == "nglint"
    cases = root.findall("./testsuite/testcase")
    assert int(root.get("failures")) == len(cases) >= 2
    tenant = [c for c in cases if "$tenant" in c.find("failure").get("message")]
    assert [c.get("name") for c in tenant] == ["NG004 undefined-variable"] * 2
    assert tenant[0].get("line") == "7" and tenant[0].get("classname").endswith("nginx.conf")


def test_junit_without_findings(conf: Path) -> None:
    conf.write_text("events {}\n")
    status, out, _ = check("--format", "junit", str(conf))
    root = ET.fromstring(out)
    assert status == 0 and root.get("failures") == "0"
    assert [c.get("name") for c in root.iter("testcase")] == ["1 files checked"]


def test_readme_gitlab_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = README.split("For GitLab CI:\n\n```yaml\n", 1)[1].split("```", 1)[0]
    job = yaml.safe_load(block)["nglint"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy" / "nginx").mkdir(parents=True)
    (tmp_path / "deploy" / "nginx" / "nginx.conf").write_text(CONF)
    install, *commands = job["script"]
    assert install.startswith("python -m pip install ")
    statuses = []
    for command in commands:
        words = shlex.split(command)
        assert words[:2] == ["nglint", "check"]
        statuses.append(check(*words[2:])[0])
    assert statuses == [0, 1]  # the report never fails the job; the JUnit step gates
    reports = job["artifacts"]["reports"]
    jsonschema.Draft7Validator(SCHEMA).validate(
        json.loads((tmp_path / reports["codequality"]).read_text()))
    assert ET.parse(tmp_path / reports["junit"]).getroot().tag == "testsuites"
