"""Lint one document the way ``nglint check --within-tree PATH`` does.

The open documents are an overlay (real path -> bytes): what the editor holds is
what is linted, in the document and in every file of its tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from nglint.findings import Finding
from nglint.tree import Tree


def lint_document(path: str, overlay: Mapping[str, bytes]) -> tuple[list[Tree], list[Finding]]:
    """The trees that hold ``path``, linted inside the tree of the nearest
    ``nginx.conf`` above it that includes it (else as a fragment) with its
    configuration file, and the findings in ``path``.

    Raises ``NglintError`` as ``check`` would (a bad ``.nglint.toml``)."""
    from nglint import config
    from nglint.discover import discover
    from nglint.engine import lint

    [(found, _)] = config.group([path])
    settings = config.settle(found)
    if settings.config.excluded(path):
        return [], []
    trees = discover([path], overlay=dict(overlay), exclude=settings.config.excluded,
                     within_tree=True, prefix_map=settings.options.prefix_map)
    real = os.path.realpath(path)  # the tree's other files are reported when open
    return trees, [finding for finding in lint(trees, settings.rules, settings.options)
                   if os.path.realpath(finding.path) == real]


def analyse(path: str, overlay: Mapping[str, bytes]) -> list[Finding]:
    """The findings in ``path`` (``lint_document``)."""
    return lint_document(path, overlay)[1]


def fix_all(path: str, overlay: Mapping[str, bytes]) -> dict[str, tuple[bytes, bytes]]:
    """Every safe fix of the findings in ``path``, to a fixed point as ``--fix`` does:
    {real path: (the bytes linted, the bytes fixed)} of each file that changes (a fix
    may edit the file that includes ``path``); none when the fixes do not settle
    (``fix_to_fixed_point`` refuses a text half way to its fixed point)."""
    from nglint.errors import NglintError
    from nglint.fix import fix_to_fixed_point

    try:
        result = fix_to_fixed_point(lambda edited: lint_document(path, {**overlay, **edited}))
    except NglintError:
        return {}
    return {real: (result.originals[real], result.edited[real]) for real in result.changed}
