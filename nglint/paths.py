"""Real paths, resolved once per run.

``os.path.realpath`` makes one ``lstat`` per component of a path; a tree of 2,000 files
in ``conf.d/`` asked it four times per file (discovery, the loader, the name a finding
gives, every edit of a fix).  ``realpath`` answers from a table that ``forget`` empties:
``discover`` calls it first, so each run (a ``--fix`` round, a language-server request)
sees the file system as it is when it starts reading.
"""

from __future__ import annotations

import os

_known: dict[str, str] = {}


def realpath(path: str) -> str:
    """``os.path.realpath(path)``, once per path and run."""
    found = _known.get(path)
    if found is None:
        found = _known[path] = os.path.realpath(path)
    return found


def forget() -> None:
    """Resolve every path again from now on (the start of a run)."""
    _known.clear()
