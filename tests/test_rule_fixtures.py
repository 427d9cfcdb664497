"""gixy-style fixtures: every rule has configurations that must fire and must stay silent."""

from __future__ import annotations

import pytest

from nglint.registry import all_rules
from tests.helpers import FIXTURES, findings

RULES_DIR = FIXTURES / "rules"


def _cases() -> list[tuple[str, str, bool]]:
    cases = []
    for rule in all_rules():
        folder = RULES_DIR / rule.name
        for path in sorted(folder.glob("*.conf")):
            if path.name.endswith(".fixed.conf"):
                continue
            cases.append((rule.code, str(path.relative_to(FIXTURES)),
                          not path.name.endswith("_fp.conf")))
    return cases


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.name)
def test_every_rule_has_firing_and_silent_fixtures(rule):
    folder = RULES_DIR / rule.name
    names = [p.name for p in folder.glob("*.conf") if not p.name.endswith(".fixed.conf")]
    assert any(not n.endswith("_fp.conf") for n in names), f"{folder}: no config that fires"
    assert any(n.endswith("_fp.conf") for n in names), f"{folder}: no *_fp.conf that is silent"


@pytest.mark.parametrize(("code", "relative", "fires"), _cases(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_fixture(code, relative, fires):
    # an opt-in rule runs only when selected (registry.select); the others with it
    rule = next(r for r in all_rules() if r.code == code)
    select = ("ALL",) if rule.opt_in else ()
    found = [f for f in findings(FIXTURES / relative, select=select) if f.code == code]
    if fires:
        assert found, f"{code} did not fire on {relative}"
        for finding in found:
            assert finding.line >= 1 and finding.column >= 1
    else:
        assert not found, f"{code} fired on {relative}: {[f.message for f in found]}"


def test_reference_configuration_is_clean():
    """The JupyterHub reference recipe with a long timeout: no finding from any rule but
    the security family's note on its `Host $http_host` (JupyterHub's docs write it; on
    port 443 alone `$host` would do, NG202 warns)."""
    found = findings(FIXTURES / "examples" / "jupyter-reference.conf")
    assert [(f.code, f.line, f.severity.name) for f in found if f.code == "NG202"] == [
        ("NG202", 18, "WARNING")]
    found = [f for f in found if f.code != "NG202"]
    assert found == [], [f"{f.code} {f.line}: {f.message}" for f in found]


def test_rule_docs_follow_the_rule_page_shape():
    for rule in all_rules():
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Sources"):
            assert heading in rule.doc, f"{rule.code} docstring lacks {heading!r}"
        assert rule.summary and not rule.summary.startswith("#")
