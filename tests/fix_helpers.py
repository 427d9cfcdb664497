"""Helpers shared by the fixer's tests: run ``nglint check --fix`` in process, fix in memory."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from nglint import registry
from nglint.discover import discover
from nglint.engine import Options, lint
from nglint.findings import Finding
from nglint.fix import FixResult, Lint, fix_to_fixed_point
from nglint.tree import Tree
from tests.helpers import FIXTURES

RULES_DIR = FIXTURES / "rules"
SEED = FIXTURES / "examples" / "jupyter-seed.conf"
# fixture folders whose rule's fix changes behaviour beyond the finding: their
# *.fixed.conf is the output of `check --fix --unsafe-fixes`
UNSAFE_FOLDERS = frozenset({"jupyter-origin-blanked", "jupyter-static-shadowed"})
# single fixtures whose fix is unsafe in a folder whose other fixes are not
UNSAFE_FILES = frozenset({"removed-directive/listen_http2.conf"})
# fixtures whose fix writes a directive older nginx does not know: fixed only for a target
# range where every version has it (the default, 1.18-1.31.4, withholds it)
TARGETS = {"removed-directive/listen_http2.conf": "1.25.1-"}


def cli(*args: str) -> Result:
    """``nglint ARGS`` in this process (stdout and stderr kept apart)."""
    from nglint.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def expected_path(fixture: Path) -> Path:
    return fixture.with_name(fixture.name[: -len(".conf")] + ".fixed.conf")


def fix_args(fixture: Path) -> list[str]:
    unsafe = (fixture.parent.name in UNSAFE_FOLDERS
              or f"{fixture.parent.name}/{fixture.name}" in UNSAFE_FILES)
    target = TARGETS.get(f"{fixture.parent.name}/{fixture.name}")
    return (["--unsafe-fixes"] if unsafe else []) + (["--nginx-version", target] if target
                                                      else [])


def firing_fixtures() -> list[Path]:
    """Every fixture that must fire (fixtures/rules/*/*.conf but *_fp), and the seed."""
    found = [p for p in sorted(RULES_DIR.glob("*/*.conf"))
             if not p.name.endswith(("_fp.conf", ".fixed.conf"))]
    return [*found, SEED]


def copy_fixture(fixture: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / fixture.name
    shutil.copyfile(fixture, target)
    return target


def linter(paths: Sequence[str], options: Options | None = None,
           select: Sequence[str] = ()) -> Lint:
    """What ``nglint check`` lints, as the callable ``fix_to_fixed_point`` takes."""
    rules = registry.select(list(select))
    chosen = options or Options()

    def run(overlay: dict[str, bytes]) -> tuple[list[Tree], list[Finding]]:
        trees = discover(list(paths), overlay=overlay)
        return trees, lint(trees, rules, chosen, scope=getattr(overlay, "scope", None))

    return run


def fix_paths(paths: Sequence[str | Path], unsafe: bool = False,
              options: Options | None = None, select: Sequence[str] = ()) -> FixResult:
    """``check --fix`` without writing: the fixed-point result, in memory."""
    return fix_to_fixed_point(linter([str(p) for p in paths], options, select), unsafe=unsafe)


def write_result(result: FixResult) -> None:
    from nglint.transaction import Change, commit

    commit([Change(real, result.originals[real], result.edited[real])
            for real in result.changed])
