"""The generated rule index (``nglint/rules/_index.py``): it says what the modules
say, choosing rules imports none of them, and a stale index is never used silently."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from nglint.rules._index import RULES

from nglint import registry
from nglint.errors import NglintError

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("rule_index", ROOT / "tools" / "rule_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_index_is_what_the_tool_writes():
    """Out of date after a rule's metadata changed: run ``python tools/rule_index.py``."""
    assert (ROOT / "rules" / "_index.py").read_text(encoding="utf-8") == _tool().render()


def test_the_index_names_every_module_with_its_metadata():
    assert sorted(entry["module"] for entry in RULES) == registry.module_names()
    for entry in RULES:
        module = importlib.import_module(f"nglint.rules.{entry['module']}")
        assert registry.metadata(module) == entry


def _imported_rules(code: str) -> list[str]:
    """Rule modules in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(m for m in sys.modules " \
             "if m.startswith('nglint.rules.') and m != 'nglint.rules._index')))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_choosing_rules_imports_none():
    assert _imported_rules(
        "from nglint import registry\n"
        "registry.select(['security'], ['NG201']); registry.lookup('if-is-evil')\n"
        "print(len(registry.all_rules()))") == []


def test_a_rule_is_imported_when_it_runs_or_is_read():
    assert _imported_rules(
        "from nglint import registry\nrule = registry.lookup('if-is-evil')\n"
        "assert callable(rule.check) and rule.summary") == ["nglint.rules.if_is_evil"]


def test_a_stale_index_stops_the_rule_with_an_error(monkeypatch):
    rule = registry.lookup("if-is-evil")
    stale = registry.Rule(rule.code, rule.name, registry.Severity.ERROR, rule.fixable, None,
                          None, rule.options, module=rule.module)
    with pytest.raises(NglintError, match="rule index is out of date"):
        stale.check  # noqa: B018 - the property imports and compares


def test_a_module_the_index_lacks_is_still_a_rule(monkeypatch):
    """A rule added without regenerating the index: every module is read instead."""
    monkeypatch.setattr("nglint.rules._index.RULES", RULES[1:])
    registry.all_rules.cache_clear()
    try:
        rules = registry.all_rules()
        assert {rule.code for rule in rules} == {entry["code"] for entry in RULES}
        assert all(rule.loaded_check is not None for rule in rules)
    finally:
        registry.all_rules.cache_clear()
