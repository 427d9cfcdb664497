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
    per component (an include glob of 100,000 files in one folder).  The folders are
    walked up in a loop, not by recursion: a path 1,000 folders deep is one like any
    other."""
    found = _known.get(path)
    if found is not None:
        return found
    pending: list[str] = []  # paths resolved through their folder, the outermost last
    current = path
    while True:
        found = _known.get(current)
        if found is not None:
            break
        folder, name = os.path.split(current)
        if not folder or name in ("", ".", "..") or folder == current or _is_link(current):
            found = _known[current] = os.path.realpath(current)
            break
        pending.append(current)
        current = folder
    for later in reversed(pending):
        found = _known[later] = os.path.join(found, os.path.basename(later))
    return found


def _is_link(path: str) -> bool:
    """A symbolic link, or a path ``lstat`` cannot read (missing, unreadable, a NUL
    byte): either way ``os.path.realpath`` resolves it, as it would have."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return True


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
