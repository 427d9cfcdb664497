"""Answers shared across the versions of a target range (``versions.same_cell``) give the
findings that answers worked out afresh at every version give.

The engine runs a rule again at each version its model was compared with; memos of the
upstream request, the app view and its outcomes are reused at another version when that
version falls on the same side of every version the memo's answer depends on.  The
reference here turns the sharing off (an answer holds only at the version it was worked
out at) and the findings, with their messages, fixes and versions, must not change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nglint import versions
from nglint.versions import same_cell
from tests.helpers import FIXTURES, findings

ROOT = Path(__file__).resolve().parent.parent


def _shape(path: Path) -> list[tuple]:
    return [(f.code, f.path, f.line, f.column, f.severity.name, f.message, f.fixable,
             [(e.path, e.start, e.end, e.text) for e in f.fix.edits] if f.fix else None)
            for f in findings(path, select=("ALL",))]


def _inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    found = sorted(p for p in (FIXTURES / "rules").rglob("*.conf")
                   if not p.name.endswith(".fixed.conf"))
    found += sorted((FIXTURES / "examples").glob("*.conf"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate
    tree = tmp_path_factory.mktemp("generated")
    generate(tree, 40)
    return [*found, tree / "nginx.conf"]


def test_same_cell():
    assert same_cell((1, 18, 0), (1, 29, 6), {(1, 29, 7)})
    assert not same_cell((1, 18, 0), (1, 29, 7), {(1, 29, 7)})
    assert same_cell((1, 29, 7), (1, 31, 4), {(1, 29, 7), (1, 23, 0)})
    assert not same_cell((1, 29, 7), (1, 31, 4), {(1, 29, 7), (1, 31, 4)})
    assert same_cell((1, 18, 0), (1, 31, 4), set())


def test_sharing_changes_no_finding(tmp_path_factory, monkeypatch):
    inputs = _inputs(tmp_path_factory)
    shared = {str(path): _shape(path) for path in inputs}
    calls = []

    def never(built, now, consulted):
        calls.append((built, now))
        return tuple(built) == tuple(now)

    for module in ("nglint.engine", "nglint.apps.view", "nglint.semantics.upstream"):
        monkeypatch.setattr(f"{module}.same_cell", never)
    monkeypatch.setattr(versions, "same_cell", never)
    fresh = {str(path): _shape(path) for path in inputs}
    assert calls, "no answer was asked at a second version: the test compares nothing"
    for path in inputs:
        assert shared[str(path)] == fresh[str(path)], path
