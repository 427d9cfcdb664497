"""A content-hash cache of a run's findings, in the user's cache directory.

A warm re-run of an unchanged tree answers from here without parsing: the
entry is keyed by the nglint version, the options and the paths asked for, and
is valid only while every file the run read has the same bytes (SHA-256), every
include pattern matches the same files, every included path resolves to the
same file, and a directory walk finds the same files.  ``--no-cache`` bypasses
it; ``--fix`` and ``--diff`` never use it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import time
from collections.abc import Sequence
from typing import Any

from nglint import __version__
from nglint.findings import Finding, Severity
from nglint.reader import read_file
from nglint.tree import Tree

FORMAT = 4


def directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nglint")


def digest(path: str | None) -> str | None:
    """SHA-256 of a file's bytes (None when there is no file or it cannot be read)."""
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
            found = []
            for folder, subfolders, files in os.walk(path):
                subfolders.sort()
                found.extend(os.path.join(folder, name) for name in sorted(files))
            listing[path] = found
    return listing


def key(paths: Sequence[str], settings: Any) -> str:
    """The entry's name: version, nglint's own code, settings and the paths asked for."""
    text = json.dumps([FORMAT, __version__, code_fingerprint(),
                       [os.path.abspath(p) for p in paths], settings],
                      sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def code_fingerprint() -> list[tuple[str, int, int]]:
    """Name, size and modification time of every file of nglint and its rules: a
    changed rule answers differently even when the version number stays the same (an
    editable install, a patched package).  About a hundred stat calls."""
    import nglint
    import nglint.rules

    found = []
    walked: list[str] = []
    for package in (nglint, nglint.rules):
        for root in package.__path__:
            # installed from a wheel, nglint/rules/ is inside nglint/: walked already
            if any(os.path.realpath(root).startswith(os.path.join(done, ""))
                   for done in walked):
                continue
            walked.append(os.path.realpath(root))
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith((".py", ".json")):
                        path = os.path.join(folder, name)
                        stat = os.stat(path)
                        found.append((os.path.relpath(path, root), stat.st_size,
                                      stat.st_mtime_ns))
    return found


def _state(trees: Sequence[Tree], paths: Sequence[str]) -> dict[str, Any]:
    sources = sorted({real for tree in trees for real in tree.sources})
    return {
        "files": {real: digest(real) for real in sources},
        "includes": {p: t if glob.has_magic(p) else os.path.exists(p)
                     for tree in trees for p, t in tree.includes.items()},
        "resolved": {p: r for tree in trees for p, r in tree.resolved.items()},
        "walk": _walk(paths),
    }


def _still_valid(state: dict[str, Any], paths: Sequence[str]) -> bool:
    for real, recorded in state["files"].items():
        if digest(real) != recorded:
            return False
    for pattern, recorded in state["includes"].items():
        if glob.has_magic(pattern):
            now: Any = sorted(t for t in glob.glob(pattern) if not os.path.isdir(t))
        else:
            now = os.path.exists(pattern)  # a missing include may appear
        if now != recorded:
            return False
    for target, real in state["resolved"].items():
        if os.path.realpath(target) != real:
            return False
    return state["walk"] == _walk(paths)


def load(name: str, paths: Sequence[str]) -> tuple[list[Finding], list[str], int] | None:
    """The cached findings, each one's fail-on level and the file count, or None."""
    try:
        with open(os.path.join(directory(), f"{name}.json"), encoding="utf-8") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None
    if entry.get("format") != FORMAT or not _still_valid(entry["state"], paths):
        return None
    # "via" is derived from the related locations: not a field of its own
    findings = [Finding(**{**{k: v for k, v in f.items() if k != "via"},
                           "severity": Severity.parse(f["severity"]), "unsafe_fixable": unsafe})
                for f, unsafe in zip(entry["findings"], entry["unsafe"], strict=True)]
    return findings, entry["fail_on"], entry["files"]


def store(name: str, paths: Sequence[str], trees: Sequence[Tree],
          findings: Sequence[Finding], fail_on: Sequence[str], files: int) -> None:
    """Save the run's result; a cache that cannot be written is silently skipped."""
    entry = {"format": FORMAT, "state": _state(trees, paths), "files": files,
             "findings": [f.as_dict() for f in findings], "fail_on": list(fail_on),
             "unsafe": [f.unsafe_fixable for f in findings]}
    folder = directory()
    # a name no other process uses, created exclusively (tempfile would cost more
    # start-up than a small file's whole lint)
    temporary = os.path.join(folder, f".entry-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.makedirs(folder, exist_ok=True)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(entry, out)
        os.replace(temporary, os.path.join(folder, f"{name}.json"))
    except OSError:  # a read-only home or a full disk must not fail the lint
        with contextlib.suppress(OSError):
            os.unlink(temporary)
