"""What a cached result depends on, and whether all of it still holds.

The state of a run (``state``) records every file read (its SHA-256 and stat
signature), every path gone through and the real path it resolved to, each include
pattern's matches and the files under each directory asked for; ``still_valid``
checks it again without parsing (see ``nglint.cache`` for the entry that holds it).
Real paths are ``nglint.paths.realpath``'s, resolved afresh for each check.
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nglint import paths as real_paths
from nglint.reader import read_file

if TYPE_CHECKING:
    from nglint.tree import Tree

# a file whose mtime or ctime is this close to the run's start (or later) may have
# been written in the same timestamp tick as it was read: hashed on every hit
RACY_NS = 2_000_000_000


def digest(path: str | None) -> str | None:
    """SHA-256 (hex) of a file's bytes (None when there is no file or it cannot be read)."""
    if path is None:
        return None
    try:
        return hashlib.sha256(read_file(path)).hexdigest()
    except OSError:
        return None


def _walk(paths: Sequence[str]) -> dict[str, list[str]]:
    """Files under each directory asked for: a new or removed file changes the answer."""
    listing: dict[str, list[str]] = {}
    for path in paths:
        if os.path.isdir(path):
            found: list[str] = []
            for folder, subfolders, files in os.walk(path):
                subfolders.sort()
                found.extend(os.path.join(folder, name) for name in sorted(files))
            listing[path] = found
    return listing


def _kind(path: str) -> str:
    return "dir" if os.path.isdir(path) else "file" if os.path.exists(path) else "missing"


def _matches(pattern: str) -> list[str] | str:
    """A glob's matches (files, sorted, as the loader takes them), else what the one
    path is."""
    if glob.has_magic(pattern):
        return sorted(t for t in glob.glob(pattern) if not os.path.isdir(t))
    return _kind(pattern)


def _signature(path: str, before: int) -> list[int] | None:
    """A file's stat signature, or None when it cannot be trusted to stand for the
    bytes read: missing, not a regular file, or changed since ``before`` (ns)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if (not stat.S_ISREG(status.st_mode) or status.st_mtime_ns >= before
            or status.st_ctime_ns >= before):
        return None
    return [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
            status.st_ctime_ns]


def _current(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
            status.st_ctime_ns]


def state(trees: Sequence[Tree], paths: Sequence[str], started: int) -> dict[str, Any]:
    """What the result depends on (see the module docstring); ``started``: the run's
    start (``time.time_ns()``), before any file was read."""
    walk = _walk(paths)
    linted = {real: source for tree in trees for real, source in tree.sources.items()}
    read = set(linted)
    real = real_paths.realpath  # as the run resolved them
    read.update(real(tree.entry) for tree in trees)
    named = {*paths, *(tree.entry for tree in trees),
             *(source.path for source in linted.values()),
             *(target for tree in trees for target in tree.resolved),
             *(path for found in walk.values() for path in found)}
    before = started - RACY_NS
    files = {}
    for path in sorted(read):
        # the bytes the findings were computed from, not a second read of the disk
        source = linted.get(path)
        sha = hashlib.sha256(source.raw).hexdigest() if source is not None else digest(path)
        files[path] = [sha, _signature(path, before) if sha is not None else None]
    return {
        "files": files,
        "links": {path: real(path) for path in sorted(named)},
        "includes": {p: _matches(p) for tree in trees for p in tree.includes},
        "walk": walk,
    }


def still_valid(state: dict[str, Any], paths: Sequence[str],
                 now: int | None = None) -> dict[str, list[int]] | None:
    """None when the entry no longer holds; else the stat signatures it can now record
    (files hashed and found unchanged, untouched for ``RACY_NS`` before ``now``: a
    checkout's or an edit's files, hashed on one hit, not on the next)."""
    links = state["links"]
    if any(path not in links for path in paths):
        return None  # an entry must name what it answers for
    real_paths.forget()  # the file system as it is now, not as an earlier run saw it
    real = real_paths.realpath
    if any(real(path) != resolved for path, resolved in links.items()):
        return None
    if any(_matches(pattern) != recorded for pattern, recorded in state["includes"].items()):
        return None
    if state["walk"] != _walk(paths):
        return None
    fresh: dict[str, list[int]] = {}
    for path, (sha, signature) in state["files"].items():
        if signature is not None and _current(path) == signature:
            continue  # the same file, unchanged since it was hashed: no read
        if sha is None:
            if digest(path) is not None:
                return None
            continue
        before = _signature(path, (now or time.time_ns()) - RACY_NS)
        if digest(path) != sha:
            return None
        if before is not None and _current(path) == before:  # not changed while hashed
            fresh[path] = before
    return fresh
