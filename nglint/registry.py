"""Rule discovery: every module in the top-level ``rules`` package is a rule.

A rule module defines ``CODE`` (``NG`` + three digits), ``NAME`` (kebab-case),
``SEVERITY`` (default level), ``FIXABLE`` and ``check(context)``, a generator
of ``Report`` objects.  Its docstring is its documentation: the first line is
the summary shown by ``nglint rules``, the whole text is what ``nglint explain``
prints.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from nglint.errors import NglintError
from nglint.findings import Severity

if TYPE_CHECKING:
    from nglint.engine import Context, Report


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    fixable: bool
    doc: str
    check: Callable[[Context], Iterable[Report]]
    options: dict[str, Any]

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


@cache
def all_rules() -> tuple[Rule, ...]:
    import rules as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"rules.{info.name}")
        found.append(Rule(
            code=module.CODE,
            name=module.NAME,
            severity=Severity.parse(module.SEVERITY),
            fixable=bool(getattr(module, "FIXABLE", False)),
            doc=inspect.cleandoc(module.__doc__ or ""),
            check=module.check,
            options=dict(getattr(module, "OPTIONS", {})),
        ))
    return tuple(sorted(found, key=lambda rule: rule.code))


def lookup(code_or_name: str) -> Rule:
    wanted = code_or_name.strip()
    for rule in all_rules():
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            return rule
    raise NglintError(f"unknown rule {wanted!r} (see `nglint rules`)")


def select(selected: Iterable[str] = (), ignored: Iterable[str] = ()) -> list[Rule]:
    """Rules chosen by code, name or code prefix (``NG1`` selects NG100-NG199)."""

    def matches(rule: Rule, token: str) -> bool:
        token = token.strip()
        return (token.upper() == "ALL" or rule.code.startswith(token.upper())
                or rule.name == token.lower())

    chosen = list(all_rules())
    selected = [t for t in selected if t.strip()]
    ignored = [t for t in ignored if t.strip()]
    for token in [*selected, *ignored]:
        if not any(matches(rule, token) for rule in chosen):
            raise NglintError(f"unknown rule {token!r} (see `nglint rules`)")
    if selected:
        chosen = [r for r in chosen if any(matches(r, t) for t in selected)]
    return [r for r in chosen if not any(matches(r, t) for t in ignored)]
