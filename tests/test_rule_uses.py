"""A rule's ``USES``: the shared analyses it reads (``nglint.engine.SHARED``), which the
engine drops from a tree's analysis once the last rule using them has run there.

An undeclared use would not change a finding (the analysis is built again when asked)
but would build it twice; a declaration no rule needs would keep its memory to the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nglint import directives, engine, registry
from nglint.apps import view
from nglint.engine import Analysis, Context, Options, Report, lint
from nglint.findings import Severity
from nglint.tree import Node
from tests.helpers import FIXTURES, load

RULES = registry.select(["ALL"])
PATHS = sorted(p for folder in ("rules", "examples", "apps") for p in
               (FIXTURES / folder).rglob("*.conf") if not p.name.endswith(".fixed.conf"))


def _record(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Record, per rule code, which shared analyses are read while the rule runs."""
    reads: dict[str, set[str]] = {}
    running: list[str] = []
    run = engine._run

    def recorded_run(rule: registry.Rule, analysis: Analysis) -> Iterator:
        running.append(rule.code)
        try:
            yield from run(rule, analysis)
        finally:
            running.pop()

    def note(name: str) -> None:
        if running:
            reads.setdefault(running[-1], set()).add(name)

    apps = Analysis.apps.fget
    of = directives._TreeMemo.of.__func__  # type: ignore[attr-defined]

    def recorded_apps(self: Analysis) -> view.AppView:
        note("apps")
        return apps(self)  # type: ignore[misc]

    def recorded_of(cls: type[directives._TreeMemo], root: Node) -> type[directives._TreeMemo]:
        # every ``checked_directives`` call asks its memo first, however the caller
        # imported the function
        note("directives")
        return of(cls, root)  # type: ignore[no-any-return]

    monkeypatch.setattr(engine, "_run", recorded_run)
    monkeypatch.setattr(Analysis, "apps", property(recorded_apps))
    monkeypatch.setattr(directives._TreeMemo, "of", classmethod(recorded_of))
    return reads


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count how often each shared analysis is built (not answered from its memo)."""
    built: list[str] = []
    init = view.AppView.__init__
    checked = directives._checked

    def counted_init(self: view.AppView, *args: object, **kwargs: object) -> None:
        built.append("apps")
        init(self, *args, **kwargs)  # type: ignore[arg-type]

    def counted_checked(*args: object, **kwargs: object) -> directives.Targets:
        built.append("directives")
        return checked(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(view.AppView, "__init__", counted_init)
    monkeypatch.setattr(directives, "_checked", counted_checked)
    return built


def _found(path: Path, rules: list[registry.Rule]) -> list[tuple[str, str, int, int, str]]:
    return [(f.code, f.path, f.line, f.column, f.message)
            for f in lint(load(path), rules, Options())]


def test_every_rule_declares_what_it_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over every fixture and example: a rule reads only what its ``USES`` names, and
    each name it declares it reads on some fixture."""
    assert PATHS
    reads = _record(monkeypatch)
    for path in PATHS:
        lint(load(path), RULES, Options())
    for rule in RULES:
        assert reads.get(rule.code, set()) <= rule.uses, \
            f"{rule.code} reads {sorted(reads[rule.code] - rule.uses)}: add it to USES"
        assert rule.uses <= reads.get(rule.code, set()), \
            f"{rule.code} declares {sorted(rule.uses)} and reads {sorted(reads.get(rule.code, ()))}"
        assert rule.uses <= set(engine.SHARED)
    assert {name for rule in RULES for name in rule.uses} == set(engine.SHARED)


@pytest.mark.parametrize("select", [["ALL"], ["NG0"], ["NG1", "NG006"],
                                    ["NG011", "NG101", "NG221"]])
def test_dropping_them_changes_no_finding_and_builds_nothing_twice(
        monkeypatch: pytest.MonkeyPatch, select: list[str]) -> None:
    """Over every fixture and example, with all rules and with subsets: the same
    findings, and each analysis built as often, as when nothing is dropped before the
    end."""
    rules = registry.select(select)
    built = _builds(monkeypatch)
    dropping = {path: _found(path, rules) for path in PATHS}
    dropped_builds = list(built)
    built.clear()
    monkeypatch.setattr(Analysis, "forget", lambda self, name: None)
    assert {path: _found(path, rules) for path in PATHS} == dropping
    assert sorted(built) == sorted(dropped_builds)
    assert built


def _rule(code: str, uses: frozenset[str], seen: list[tuple[str, bool, bool]]
          ) -> registry.Rule:
    def check(context: Context) -> Iterator[Report]:
        analysis = context.analysis
        # what the rules before it left: the app view, the directive pass
        seen.append((code, bool(analysis._apps),
                     directives._TreeMemo.root is analysis.tree.root))
        if "apps" in uses:
            assert context.apps is not None
        if "directives" in uses:
            directives.checked_directives(analysis.tree.root, context.options.nginx_version)
        return iter(())

    return registry.Rule(code=code, name=f"rule-{code.lower()}", severity=Severity.INFO,
                         fixable=False, loaded_doc="a rule", loaded_check=check, options={},
                         uses=uses)


def test_each_is_dropped_after_the_last_rule_that_uses_it(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { server { location / { proxy_pass http://a; } } }\n")
    seen: list[tuple[str, bool, bool]] = []
    apps, both, none = frozenset({"apps"}), frozenset(engine.SHARED), frozenset()
    rules = [_rule("NG901", both, seen), _rule("NG902", apps, seen),
             _rule("NG903", none, seen), _rule("NG904", none, seen)]
    lint(load(conf), rules, Options())
    # (code, the app view held, the directive pass held) as each rule starts
    assert seen == [("NG901", False, False), ("NG902", True, False),
                    ("NG903", False, False), ("NG904", False, False)]
    # a rule that sees suppressions runs after the others: what it uses is kept for it
    seen.clear()
    late = registry.Rule(code="NG905", name="rule-ng905", severity=Severity.INFO,
                         fixable=False, loaded_doc="a rule",
                         loaded_check=_rule("NG905", apps, seen).check, options={},
                         uses=apps, sees_suppressions=True)
    lint(load(conf), [rules[1], rules[3], late], Options())
    assert seen == [("NG902", False, False), ("NG904", True, False), ("NG905", True, False)]


def test_an_unknown_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a shared analysis"):
        Analysis(load(FIXTURES / "examples" / "jupyter-seed.conf")[0], Options()).forget("x")
