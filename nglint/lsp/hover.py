"""Hover texts: a directive's entry in the directive table, a rule's page."""

from __future__ import annotations

import re

from nglint.directives import format_version, label, variants
from nglint.suppress import MENTION

WORD = re.compile(r"[A-Za-z0-9_\-]+")
# where a directive name stands: the line start, or after ; { } on the line
STATEMENT_START = re.compile(r"(?:^|[;{}])\s*$")


def _word_at(line: str, column: int) -> tuple[str, int] | None:
    for match in WORD.finditer(line):
        if match.start() <= column <= match.end():
            return match.group(), match.start()
    return None


def directive_page(name: str) -> str | None:
    """Markdown for a directive: each variant's module, contexts, arguments, versions."""
    found = variants(name)
    if not found:
        return None
    parts = [f"**{name}**"]
    for variant in found:
        lines = [f"- module: `{variant.module}`" + (" (NGINX Plus)" if variant.plus else ""),
                 "- contexts: " + ", ".join(sorted(label(c) for c in variant.contexts)),
                 f"- arguments: {variant.describe_args()}"
                 + (", then a block" if variant.block else "")]
        for word, version in (("added in", variant.added), ("deprecated in", variant.deprecated),
                              ("removed in", variant.removed)):
            if version is not None:
                lines.append(f"- {word} nginx {format_version(version)}")
        if variant.note:
            lines.append(f"- {variant.note}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def rule_page(token: str) -> str | None:
    """Markdown for a rule code or name: ``nglint explain``'s page."""
    from nglint.errors import NglintError
    from nglint.registry import lookup

    try:
        rule = lookup(token)
    except NglintError:
        return None
    fix = "fixable with --fix" if rule.fixable else "not fixable automatically"
    return f"# {rule.code} {rule.name} ({rule.severity}, {fix})\n\n{rule.doc}"


def hover_text(line: str, column: int) -> str | None:
    """What to show for the character ``column`` (0-based) of ``line``, if anything."""
    comment = line.find("#")
    if comment != -1 and column > comment:
        if not MENTION.match(line[comment + 1:]):
            return None
        bracket = line.find("[", comment)
        close = line.find("]", bracket)
        if bracket == -1 or not bracket < column <= max(close, bracket):
            return None
        found = _word_at(line, column)
        return rule_page(found[0]) if found else None
    found = _word_at(line, column)
    if found is None:
        return None
    word, start = found
    if not STATEMENT_START.search(line[:start]):
        return None
    return directive_page(word)
