"""Lint one document the way ``nglint check --within-tree PATH`` does.

The open documents are an overlay (real path -> bytes): what the editor holds is
what is linted, in the document and in every file of its tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from nglint.findings import Finding


def analyse(path: str, overlay: Mapping[str, bytes]) -> list[Finding]:
    """The findings in ``path``, linted inside the tree of the nearest ``nginx.conf``
    above it that includes it (else as a fragment), with its configuration file.

    Raises ``NglintError`` as ``check`` would (a bad ``.nglint.toml``)."""
    from nglint import config
    from nglint.discover import discover
    from nglint.engine import lint

    [(found, _)] = config.group([path])
    settings = config.settle(found)
    if settings.config.excluded(path):
        return []
    trees = discover([path], overlay=dict(overlay), exclude=settings.config.excluded,
                     within_tree=True, prefix_map=settings.options.prefix_map)
    real = os.path.realpath(path)  # the tree's other files are reported when open
    return [finding for finding in lint(trees, settings.rules, settings.options)
            if os.path.realpath(finding.path) == real]
