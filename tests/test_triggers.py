"""A rule's ``TRIGGERS``: the engine skips it on a tree holding none of those
directives (``Rule.triggered``), which must change no finding."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nglint import registry
from nglint.engine import Options, lint
from tests.helpers import FIXTURES, load

TRIGGERED = [rule for rule in registry.all_rules() if rule.triggers is not None]


def _found(path, rules):
    return [(f.code, f.path, f.line, f.column, f.message)
            for f in lint(load(path), rules, Options())]


def test_some_rules_have_triggers():
    assert {rule.name for rule in TRIGGERED} >= {"alias-traversal", "resolver-public-dns"}


def _triggers(monkeypatch, triggers):
    """Make ``Rule.triggered`` read ``triggers`` (code -> names, None: any tree)."""
    def triggered(rule, tree):
        names = triggers.get(rule.code, rule.triggers)
        return names is None or any(tree.named(name) for name in names)

    monkeypatch.setattr(registry.Rule, "triggered", triggered)


@pytest.mark.parametrize(("rule", "name"), [(rule, name) for rule in TRIGGERED
                                            for name in sorted(rule.triggers)],
                         ids=lambda value: getattr(value, "name", value))
def test_each_trigger_is_needed_by_a_fixture(monkeypatch, rule, name):
    """Without ``name`` in its triggers, the rule misses a finding of its own fixtures
    (so the fixture tests fail): every name is one it reports on."""
    paths = [path for path in sorted((FIXTURES / "rules" / rule.name).glob("*.conf"))
             if not path.name.endswith(("_fp.conf", ".fixed.conf"))]
    found = {path: _found(path, [rule]) for path in paths}
    _triggers(monkeypatch, {rule.code: rule.triggers - {name}})
    missed = [path.name for path in paths if found[path] and not _found(path, [rule])]
    assert missed, f"removing {name!r} from {rule.code}'s TRIGGERS loses no finding"


def test_triggers_change_no_finding(monkeypatch):
    """Every fixture and example: the same findings as a run that ignores TRIGGERS."""
    rules = registry.select(["ALL"])
    paths = sorted(p for folder in ("rules", "examples", "apps") for p in
                   (FIXTURES / folder).rglob("*.conf") if not p.name.endswith(".fixed.conf"))
    assert paths
    with_triggers = {path: _found(path, rules) for path in paths}
    _triggers(monkeypatch, {rule.code: None for rule in rules})
    for path in paths:
        assert _found(path, rules) == with_triggers[path], path


def test_an_untriggered_rule_is_not_imported(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { server { listen 80; location / { return 204; } } }\n")
    code = ("import sys\nfrom nglint.cli import main\n"
            "try:\n    main(['check', '--no-cache', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('nglint.rules.')))")
    out = subprocess.run([sys.executable, "-c", code, str(conf)], capture_output=True,
                         text=True, check=True).stdout
    assert "nglint.rules.alias_traversal" not in out
    assert "nglint.rules.resolver_public_dns" not in out
    assert "nglint.rules.syntax_error" in out  # the others still run
