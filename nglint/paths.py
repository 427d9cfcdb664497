"""Real paths, resolved once per run.

``os.path.realpath`` makes one ``lstat`` per component of a path; a tree of 2,000 files
in ``conf.d/`` asked it four times per file (discovery, the loader, the name a finding
gives, every edit of a fix).  ``realpath`` answers from a table that ``forget`` empties:
``discover`` calls it first, so each run (a ``--fix`` round, a language-server request)
sees the file system as it is when it starts reading.
"""

from __future__ import annotations

import os
import stat

_known: dict[str, str] = {}


def realpath(path: str) -> str:
    """``os.path.realpath(path)``, once per path and run.

    A path whose last component is not a symbolic link is its folder's real path (once
    per folder) joined with its name: one ``lstat``, where ``os.path.realpath`` makes one
    per component (an include glob of 100,000 files in one folder)."""
    found = _known.get(path)
    if found is None:
        found = _known[path] = _resolve(path)
    return found


def _resolve(path: str) -> str:
    folder, name = os.path.split(path)
    if folder and name not in ("", ".", "..") and folder != path:
        try:
            link = stat.S_ISLNK(os.lstat(path).st_mode)
        except (OSError, ValueError):  # missing, unreadable, a NUL byte: realpath's way
            link = True
        if not link:
            return os.path.join(realpath(folder), name)
    return os.path.realpath(path)


def forget() -> None:
    """Resolve every path again from now on (the start of a run)."""
    _known.clear()


def main_above(path: str, name: str = "nginx.conf") -> str | None:
    """The nearest ``name`` (``nginx.conf``) in a folder above ``path``, not past a
    repository root (``--within-tree``: the tree a fragment belongs to); relative when
    ``path`` was, so that findings name files as the user does.  Light on purpose: the
    result cache's key asks it before anything else is imported."""
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        main = os.path.join(folder, name)
        if os.path.isfile(main):
            return main if os.path.isabs(path) else os.path.relpath(main)
        parent = os.path.dirname(folder)
        if parent == folder or os.path.exists(os.path.join(folder, ".git")):
            return None
        folder = parent
