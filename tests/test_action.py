"""``action.yml`` and the README's GitHub Actions workflow, their ``run:`` steps run
with bash as the runner would (``tests/actions.py``), against a committed, tagged
copy of this checkout in place of github.com/OWNER/nglint."""

from __future__ import annotations

import json
import os
import re
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

from tests.actions import Runner
from tests.clone import source_repository
from tests.test_formats import errors
from tests.test_readme_sections import section

WORKFLOW = section("GitHub Actions and code scanning")
URL = "https://github.com/OWNER/nglint"
BROKEN = """\
events {}
http {
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8888;
        }
    }
}
"""


def _tag() -> str:
    (uses,) = re.findall(r"uses: OWNER/nglint@(\S+)", WORKFLOW)
    return uses


def _deployment(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "deploy" / "nginx").mkdir(parents=True)
    (work / "deploy" / "nginx" / "nginx.conf").write_text(BROKEN)
    return work


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def _sarif_ok(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert errors(document) == []
    assert document["runs"][0]["results"]


def test_action_shape() -> None:
    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"paths", "args", "sarif", "python"}
    for step in action["runs"]["steps"]:
        if "run" in step:  # inputs reach scripts through env, never spliced into code
            assert "${{" not in step["run"]
            assert step["shell"] == "bash"
    runner = Runner(Path("."), Path("."), {}, {"sarif": "false"})
    assert [s["name"] for s in action["runs"]["steps"] if runner.condition(s.get("if"))] == \
        ["Install nglint", "Lint"]


def test_action_as_the_readme_uses_it(tmp_path: Path) -> None:
    source, _ = source_repository(tmp_path, tag=_tag())
    action = yaml.safe_load((source / "action.yml").read_text())
    (snippet,) = re.findall(r"```yaml\n(      - uses: actions/checkout@v4\n.*?)```", WORKFLOW,
                            re.DOTALL)
    uses = yaml.safe_load(snippet)[1]
    assert uses["uses"] == f"OWNER/nglint@{_tag()}"
    given = {k: str(v).lower() if isinstance(v, bool) else str(v)
             for k, v in uses["with"].items()}
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    assert set(given) <= set(inputs)
    inputs.update(given)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = Runner(_deployment(tmp_path), temp, _env(), inputs, action_path=source)
    ran = runner.run(action["runs"]["steps"])
    assert [r.step["name"] for r in ran] == ["Install nglint", "SARIF report", "Upload SARIF",
                                            "Lint"]
    install, report, upload, lint = ran
    assert install.returncode == 0, install.stderr
    assert report.returncode == 0, report.stderr
    sarif = Path(upload.with_["sarif_file"])
    assert sarif == temp / "nglint.sarif" and upload.with_["category"] == "nglint"
    _sarif_ok(sarif)
    assert lint.returncode == 1
    assert "::error file=deploy/nginx/nginx.conf,line=" in lint.stdout
    # the nglint that ran is the action's checkout, in the action's own environment
    assert runner.paths[0] == str(temp / "nglint-venv" / "bin")


def test_readme_workflow_as_printed(tmp_path: Path) -> None:
    (printed,) = re.findall(r"```yaml\n(# \.github/workflows/nginx\.yml\n.*?)```", WORKFLOW,
                            re.DOTALL)
    assert printed.count(URL) == 1
    source, _ = source_repository(tmp_path, tag=_tag())
    workflow = yaml.safe_load(printed.replace(URL, source.as_uri()))  # only the URL
    steps = workflow["jobs"]["nglint"]["steps"]
    assert f"@{_tag()}\"" in steps[2]["run"]  # the README pins the version it installs
    # actions/setup-python: a fresh interpreter environment first on PATH
    python = tmp_path / "setup-python"
    venv.create(python, with_pip=True)
    # as setup-python's: a current pip (an old bundled one rejects git+file:/// URLs)
    upgraded = subprocess.run([str(python / "bin" / "python"), "-m", "pip", "install", "-q",
                               "--upgrade", "pip"], capture_output=True, text=True, check=False)
    if upgraded.returncode:
        pytest.skip(f"PyPI not reachable: {upgraded.stderr.strip()[-200:]}")
    env = _env()
    env["PATH"] = os.pathsep.join([str(python / "bin"), env["PATH"]])
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    work = _deployment(tmp_path)
    ran = Runner(work, temp, env).run(steps)
    assert ran[2].returncode == 0, ran[2].stderr
    assert [r.step.get("uses", "run") for r in ran] == [
        "actions/checkout@v4", "actions/setup-python@v5", "run", "run",
        "github/codeql-action/upload-sarif@v3", "run"]
    install, report, upload, annotate = ran[2:]
    assert install.returncode == 0, install.stderr
    assert report.returncode == 0, report.stderr
    _sarif_ok(work / upload.with_["sarif_file"])
    assert annotate.returncode == 1 and "::error file=deploy/nginx/nginx.conf" in annotate.stdout


@pytest.mark.parametrize("expression", ["inputs.sarif == 'true'"])
def test_runner_reads_conditions(expression: str) -> None:
    assert Runner(Path("."), Path("."), {}, {"sarif": "true"}).condition(expression)
    assert not Runner(Path("."), Path("."), {}, {"sarif": "false"}).condition(expression)
