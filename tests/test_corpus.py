"""Real configurations from public projects (../shared/corpus): no crash, and accuracy.

The corpus is test data kept outside the project; these tests skip with a reason
when it is absent, except in CI, where its absence is a failure.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import SHARED, findings

CORPUS = SHARED / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"

if not MANIFEST.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CORPUS} is missing in CI: the corpus tests cannot run")
    pytest.skip(f"shared corpus not found at {CORPUS}", allow_module_level=True)

with MANIFEST.open(encoding="utf-8") as handle:
    ENTRIES = list(csv.DictReader(handle, delimiter="\t"))

# What each broken file's note says is wrong, as the rule codes that describe it.
BROKEN = {
    "ComputeCanada__puppet-jupyterhub": {"NG001"},  # Puppet EPP template
    "jamesfolberth__jupyterhub_AWS_deployment": {"NG102", "NG103"},  # events via location /
    "jupyter__tmpnb-deploy": {"NG001"},  # Jinja template
    "config-examples.md@1729762": {"NG004", "NG102"},  # no map; location / without Upgrade
    "config-examples.md@89331d1": {"NG004"},  # $connection_upgrade without its map
    "config-proxy.md@e243812": {"NG101"},  # no proxy_http_version 1.1
    "ProfessorKazarinoff__jupyterhub-engr101": {"NG101"},  # '#proxy_http_version 1.1;'
}
# Warnings on correct files that their notes document (or that are true and explained).
DOCUMENTED_WARNINGS = {
    "NG104": "notes of correct files document the 60 s default read timeout",
    "NG103": "hard-coded Connection \"upgrade\" is documented in the notes",
    "NG107": "ml-workspace blanks Origin (documented)",
    "NG108": "1m client_max_body_size: uploads over ~1 MB fail with 413 (true, not in notes)",
}


def _expected(name: str) -> set[str]:
    for key, codes in BROKEN.items():
        if key in name:
            return codes
    raise AssertionError(f"no expectation recorded for broken corpus file {name}")


def _ids(entries):
    return [e["file"].split("/")[-1][:60] for e in entries]


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_no_crash_and_one_json_document(entry):
    path = CORPUS / entry["file"]
    result = subprocess.run([sys.executable, "-m", "nglint", "check", "--format", "json",
                             str(path)], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"version", "findings", "summary"}
    if "TEMPLATE" in entry["note"]:
        syntax = [f for f in document["findings"] if f["code"] == "NG001"]
        assert syntax and all(f["line"] >= 1 for f in syntax)


BROKEN_ENTRIES = [e for e in ENTRIES if e["category"] == "jupyter-broken"]
CORRECT_ENTRIES = [e for e in ENTRIES if e["category"] == "jupyter-correct"]
GENERAL_ENTRIES = [e for e in ENTRIES if e["category"] == "general"]


@pytest.mark.parametrize("entry", BROKEN_ENTRIES, ids=_ids(BROKEN_ENTRIES))
def test_broken_jupyter_configs_are_caught(entry):
    found = findings(CORPUS / entry["file"])
    errors = {f.code for f in found if str(f.severity) == "error"}
    assert errors & ({"NG001"} | {c for c in errors if c.startswith("NG1")}), found
    missing = _expected(entry["file"]) - {f.code for f in found}
    assert not missing, f"the defect in the note is not reported: {missing}; found {found}"


@pytest.mark.parametrize("entry", CORRECT_ENTRIES, ids=_ids(CORRECT_ENTRIES))
def test_correct_jupyter_configs_have_no_jupyter_errors(entry):
    found = [f for f in findings(CORPUS / entry["file"]) if f.code.startswith("NG1")]
    errors = [f for f in found if str(f.severity) == "error"]
    assert not errors, [(f.code, f.line, f.message) for f in errors]
    unexplained = [f for f in found if f.code not in DOCUMENTED_WARNINGS]
    assert not unexplained, [(f.code, f.line, f.message) for f in unexplained]


@pytest.mark.parametrize("entry", GENERAL_ENTRIES, ids=_ids(GENERAL_ENTRIES))
def test_general_configs_have_no_jupyter_findings(entry):
    found = [f for f in findings(CORPUS / entry["file"]) if f.code.startswith("NG1")]
    assert not found, [(f.code, f.line, f.message) for f in found]
