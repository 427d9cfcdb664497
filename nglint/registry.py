"""Rule discovery: every module in the ``nglint.rules`` package is a rule.

The modules live in the repository's top-level ``rules/`` folder, which is installed
(wheel and editable install alike) as ``nglint.rules``; they are only ever imported
under that name, never as a top-level ``rules``, which would pick up whatever
``rules`` package or folder comes first on ``sys.path`` (the current directory, for
``python -m nglint``).

A rule module defines ``CODE`` (``NG`` + three digits), ``NAME`` (kebab-case),
``SEVERITY`` (default level), ``FIXABLE`` and ``check(context)``, a generator
of ``Report`` objects.  Its docstring is its documentation: the first line is
the summary shown by ``nglint rules``, the whole text is what ``nglint explain``
prints.

Rules are grouped by family, read from the code: ``NG0xx`` validation (what nginx
accepts), ``NG1xx`` websockets and apps, ``NG2xx`` security.  A family's name selects
it like a code prefix (``--select security`` is ``--select NG2``).  A security rule
may set ``SECURITY_SEVERITY`` (0.0-10.0, CVSS-like: SARIF's ``security-severity``,
which GitHub code scanning ranks by); by default it follows the level (error 7.5,
warning 5.0, info 2.0).

Optional: ``OPTIONS`` (option name -> default, settable in the configuration
under ``[tool.nglint.rules.<name>]``), ``OPTION_KINDS`` (option name -> ``time``,
``size`` or ``text``: how the configuration validates a value; when absent the
kind is inferred from the default) and ``SEES_SUPPRESSIONS`` (the rule reads
which ``# nglint: ignore`` comments were used, so it runs after the others and
its own findings cannot be suppressed), ``OPT_IN`` (the rule runs only when a
selection names it: its code, name, a code prefix, its family or ``ALL``; a
hardening preference such as ``server_tokens`` that would otherwise flag nearly
every configuration).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
    option_kinds: dict[str, str] = field(default_factory=dict)
    sees_suppressions: bool = False
    security_severity: float | None = None
    opt_in: bool = False

    @property
    def family(self) -> str:
        """``validation``, ``websocket`` or ``security`` (see FAMILIES)."""
        return FAMILIES.get(self.code[:3], "other")

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


FAMILIES = {"NG0": "validation", "NG1": "websocket", "NG2": "security"}
DEFAULT_SECURITY_SEVERITY = {Severity.ERROR: 7.5, Severity.WARNING: 5.0, Severity.INFO: 2.0}


def security_severity(rule: Rule) -> float | None:
    """SARIF ``security-severity`` of a security rule (None for the other families)."""
    if rule.family != "security":
        return None
    if rule.security_severity is not None:
        return rule.security_severity
    return DEFAULT_SECURITY_SEVERITY[rule.severity]


@cache
def all_rules() -> tuple[Rule, ...]:
    import nglint.rules as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append(Rule(
            code=module.CODE,
            name=module.NAME,
            severity=Severity.parse(module.SEVERITY),
            fixable=bool(getattr(module, "FIXABLE", False)),
            doc=inspect.cleandoc(module.__doc__ or ""),
            check=module.check,
            options=dict(getattr(module, "OPTIONS", {})),
            option_kinds=dict(getattr(module, "OPTION_KINDS", {})),
            sees_suppressions=bool(getattr(module, "SEES_SUPPRESSIONS", False)),
            security_severity=getattr(module, "SECURITY_SEVERITY", None),
            opt_in=bool(getattr(module, "OPT_IN", False)),
        ))
    return tuple(sorted(found, key=lambda rule: rule.code))


def lookup(code_or_name: str) -> Rule:
    wanted = code_or_name.strip()
    for rule in all_rules():
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            return rule
    raise NglintError(f"unknown rule {wanted!r} (see `nglint rules`)")


def matches(rule: Rule, token: str) -> bool:
    """A selection token names the rule: ``ALL``, its code, a code prefix, its name or
    its family (``security``)."""
    token = token.strip()
    return (token.upper() == "ALL" or rule.code.startswith(token.upper())
            or rule.name == token.lower() or rule.family == token.lower())


def unknown(tokens: Iterable[str]) -> list[str]:
    """The tokens that name no rule at all (a typo must not silently select nothing)."""
    return [t for t in tokens if t.strip() and not any(matches(r, t) for r in all_rules())]


def select(selected: Iterable[str] = (), ignored: Iterable[str] = ()) -> list[Rule]:
    """Rules chosen by code, name or code prefix (``NG1`` selects NG100-NG199)."""
    selected = [t for t in selected if t.strip()]
    ignored = [t for t in ignored if t.strip()]
    for token in unknown([*selected, *ignored]):
        raise NglintError(f"unknown rule {token!r} (see `nglint rules`)")
    chosen = list(all_rules())
    if selected:
        chosen = [r for r in chosen if any(matches(r, t) for t in selected)]
    else:  # an opt-in rule runs only when a token names it (code, name, family, ALL)
        chosen = [r for r in chosen if not r.opt_in]
    return [r for r in chosen if not any(matches(r, t) for t in ignored)]
