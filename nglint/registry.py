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

The metadata below is also recorded in a generated index, ``rules/_index.py``
(``python tools/rule_index.py`` writes it; ``tests/test_rule_index.py`` fails while
it is out of date): choosing rules, validating a configuration file and a warm run
from the result cache read the index, and a rule's module is imported only when
the rule runs or its documentation is read.  A module the index does not name (a
rule just added) makes every module be read instead; a module whose metadata
differs from its index entry stops the run with an error naming the tool.

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
every configuration), ``WHOLE_TREE`` (a finding of the rule in one server may
count what every server of the tree does: a ``--fix`` round after the first then
re-checks whole trees, ``nglint.scope``), ``TRIGGERS`` (directive names: the rule
cannot report on a tree that holds none of them, so the engine neither imports nor
runs it there, ``Rule.triggered``; ``tests/test_triggers.py`` checks each name
against the rule's fixtures and the findings against a run that ignores them), ``USES``
(the shared analyses the rule reads, of ``nglint.engine.SHARED``: ``apps``, the app
view, and ``directives``, the validation rules' pass over every directive; the engine
drops each from a tree's analysis once the last rule that uses it has run there, so
that what the later rules build reuses its memory; ``tests/test_rule_uses.py`` checks
the declarations against what each rule reads on its fixtures).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from nglint.errors import NglintError
from nglint.findings import Severity

if TYPE_CHECKING:
    from nglint.engine import Context, Report
    from nglint.tree import Tree

PACKAGE = "nglint.rules"


@dataclass(frozen=True)
class Rule:
    """A rule's metadata, and its documentation and ``check`` function.

    Built from the generated index (``nglint/rules/_index.py``) the rule's module
    is imported only when ``doc`` or ``check`` is first asked for: choosing rules,
    validating a configuration and answering from the result cache import none.
    ``loaded_doc`` and ``loaded_check`` are the values themselves when the rule was
    built from its module (or by hand), None to read them from ``module``."""

    code: str
    name: str
    severity: Severity
    fixable: bool
    loaded_doc: str | None
    loaded_check: Callable[[Context], Iterable[Report]] | None
    options: dict[str, Any]
    option_kinds: dict[str, str] = field(default_factory=dict)
    sees_suppressions: bool = False
    security_severity: float | None = None
    opt_in: bool = False
    whole_tree: bool = False  # WHOLE_TREE (see the module doc)
    triggers: frozenset[str] | None = None  # TRIGGERS (see the module doc); None: any tree
    uses: frozenset[str] = frozenset()  # USES (see the module doc)
    module: str = ""  # the module's name in the package (``if_is_evil``)

    @property
    def doc(self) -> str:
        """The module's docstring, cleaned (``inspect.cleandoc``): the rule's page."""
        if self.loaded_doc is not None:
            return self.loaded_doc
        return inspect.cleandoc(_module(self).__doc__ or "")

    @property
    def check(self) -> Callable[[Context], Iterable[Report]]:
        """The module's ``check(context)``: a generator of ``Report`` objects."""
        if self.loaded_check is not None:
            return self.loaded_check
        return _module(self).check  # type: ignore[no-any-return]

    def triggered(self, tree: Tree) -> bool:
        """Whether the rule may report on ``tree``: it has no ``TRIGGERS``, or the tree
        holds a directive of one of their names (the tree's index by name)."""
        return self.triggers is None or any(tree.named(name) for name in self.triggers)

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


def metadata(module: Any) -> dict[str, Any]:
    """A rule module's metadata as the index records it (JSON-like values only)."""
    return {
        "module": module.__name__.rpartition(".")[2],
        "code": module.CODE,
        "name": module.NAME,
        "severity": str(Severity.parse(module.SEVERITY)),
        "fixable": bool(getattr(module, "FIXABLE", False)),
        "options": dict(getattr(module, "OPTIONS", {})),
        "option_kinds": dict(getattr(module, "OPTION_KINDS", {})),
        "sees_suppressions": bool(getattr(module, "SEES_SUPPRESSIONS", False)),
        "security_severity": getattr(module, "SECURITY_SEVERITY", None),
        "opt_in": bool(getattr(module, "OPT_IN", False)),
        "whole_tree": bool(getattr(module, "WHOLE_TREE", False)),
        "triggers": (sorted(module.TRIGGERS) if getattr(module, "TRIGGERS", None) is not None
                     else None),
        "uses": sorted(getattr(module, "USES", ())),
    }


def _rule(entry: dict[str, Any], module: Any = None) -> Rule:
    return Rule(
        code=entry["code"], name=entry["name"], severity=Severity.parse(entry["severity"]),
        fixable=entry["fixable"],
        loaded_doc=None if module is None else inspect.cleandoc(module.__doc__ or ""),
        loaded_check=None if module is None else module.check,
        options=dict(entry["options"]), option_kinds=dict(entry["option_kinds"]),
        sees_suppressions=entry["sees_suppressions"],
        security_severity=entry["security_severity"], opt_in=entry["opt_in"],
        whole_tree=entry.get("whole_tree", False), module=entry["module"],
        triggers=None if entry.get("triggers") is None else frozenset(entry["triggers"]),
        uses=frozenset(entry.get("uses", ())))


def _module(rule: Rule) -> Any:
    """Import the rule's module, checking that the index still says what it says."""
    module = importlib.import_module(f"{PACKAGE}.{rule.module}")
    if metadata(module) != _rule_entry(rule):
        raise NglintError(f"the rule index is out of date for {PACKAGE}.{rule.module}: "
                          "regenerate it with `python tools/rule_index.py`")
    return module


def _rule_entry(rule: Rule) -> dict[str, Any]:
    return {"module": rule.module, "code": rule.code, "name": rule.name,
            "severity": str(rule.severity), "fixable": rule.fixable,
            "options": rule.options, "option_kinds": rule.option_kinds,
            "sees_suppressions": rule.sees_suppressions,
            "security_severity": rule.security_severity, "opt_in": rule.opt_in,
            "whole_tree": rule.whole_tree,
            "triggers": None if rule.triggers is None else sorted(rule.triggers),
            "uses": sorted(rule.uses)}


def module_names() -> list[str]:
    """The rule modules in the package folder(s), sorted (one listdir each)."""
    import nglint.rules as package

    found: set[str] = set()
    for folder in package.__path__:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found.update(name[:-3] for name in names
                     if name.endswith(".py") and not name.startswith("_"))
    return sorted(found)


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, by code.  From the generated index when it names exactly the
    modules in the folder (nothing imported until a rule runs); otherwise (a rule
    added, the index not regenerated) every module is imported to read its metadata."""
    from nglint.rules._index import RULES

    names = module_names()
    if sorted(entry["module"] for entry in RULES) == names:
        found = [_rule(entry) for entry in RULES]
    else:
        found = []
        for name in names:
            module = importlib.import_module(f"{PACKAGE}.{name}")
            found.append(_rule(metadata(module), module))
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
