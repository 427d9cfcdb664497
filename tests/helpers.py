"""Shared test helpers: load configuration text and lint it through the real pipeline."""

from __future__ import annotations

from pathlib import Path

from nglint import registry
from nglint.discover import discover
from nglint.engine import Options, lint
from nglint.findings import Finding
from nglint.tree import Tree

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"


def write(directory: Path, text: str, name: str = "nginx.conf") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path | str, context: str | None = None) -> list[Tree]:
    return discover([str(path)], context=context)


def findings(path: Path | str, select: tuple[str, ...] = (), context: str | None = None,
             options: Options | None = None) -> list[Finding]:
    rules = registry.select(list(select))
    return lint(load(path, context), rules, options or Options())


def codes(path: Path | str, **kwargs: object) -> list[str]:
    return [f.code for f in findings(path, **kwargs)]  # type: ignore[arg-type]
