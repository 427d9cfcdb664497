"""A content-hash cache of a run's findings, in the user's private cache directory.

A warm re-run of an unchanged tree answers from here without parsing.  The entry's
name (``key``) covers nglint's version and code (every source file of nglint, its
rules and crossplane), the options, the paths asked for and the current directory
(paths in findings are relative to it).  The entry itself records what the result
depends on (``_state``), and is answered from only while all of it still holds:

- ``files``: every file read (each tree's entry and every source): real path and
  SHA-256 of its bytes (None when it could not be read);
- ``links``: every path the run went through (the paths asked for, each tree's
  entry, each source as named, each include target, each file a directory walk
  found) and the real path it resolves to: a symlink retargeted on the way is seen;
- ``includes``: each include pattern's matches (a glob) or what the path is (file,
  directory or missing), so a new ``conf.d/*.conf`` or an include that appears
  invalidates;
- ``walk``: the files under each directory asked for.

An entry that is not exactly of this shape (``_fits``), does not name every path
asked for, or cannot be read safely (``nglint.cachedir``) is a miss, and the run
rewrites it.  ``--no-cache`` bypasses the cache; ``--fix`` and ``--diff`` never use it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

from nglint import __version__
from nglint.cachedir import Store, default_directory
from nglint.findings import Finding, Severity
from nglint.reader import read_file
from nglint.tree import Tree

FORMAT = 5


def directory() -> str:
    """Where entries live (see ``nglint.cachedir``)."""
    return default_directory()


def private_store() -> Store | None:
    """The cache directory, created 0700 and checked private; None when it cannot be
    created or opened (caching silently off).  Raises ``cachedir.NotPrivate`` (its
    message is the one-line note) when another user owns it or others can write to it."""
    store = Store(directory())
    return store if store.check() else None


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


def key(paths: Sequence[str], settings: Any) -> str | None:
    """The entry's name: SHA-256 (hex) over the entry format, nglint's version and
    code, the current directory, the paths asked for and ``settings`` (JSON, or repr
    where not JSON).  None when the current directory is gone (nothing to cache)."""
    try:
        here = os.getcwd()
    except OSError:
        return None
    text = json.dumps([FORMAT, __version__, code_fingerprint(), here, list(paths), settings],
                      sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def code_fingerprint() -> list[tuple[str, int, int]]:
    """Name, size and modification time (ns) of every file of nglint, its rules and
    crossplane: a changed rule answers differently even when the version number stays
    the same (an editable install, a patched package).  About a hundred stat calls."""
    import crossplane

    import nglint
    import nglint.rules

    found = []
    walked: list[str] = []
    for package in (nglint, nglint.rules, crossplane):
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
                        status = os.stat(path)
                        found.append((os.path.relpath(path, root), status.st_size,
                                      status.st_mtime_ns))
    return found


def _kind(path: str) -> str:
    return "dir" if os.path.isdir(path) else "file" if os.path.exists(path) else "missing"


def _matches(pattern: str) -> list[str] | str:
    """A glob's matches (files, sorted, as the loader takes them), else what the one
    path is."""
    if glob.has_magic(pattern):
        return sorted(t for t in glob.glob(pattern) if not os.path.isdir(t))
    return _kind(pattern)


def _state(trees: Sequence[Tree], paths: Sequence[str]) -> dict[str, Any]:
    walk = _walk(paths)
    read = {real for tree in trees for real in tree.sources}
    read.update(os.path.realpath(tree.entry) for tree in trees)
    named = {*paths, *(tree.entry for tree in trees),
             *(source.path for tree in trees for source in tree.sources.values()),
             *(target for tree in trees for target in tree.resolved),
             *(path for found in walk.values() for path in found)}
    return {
        "files": {real: digest(real) for real in sorted(read)},
        "links": {path: os.path.realpath(path) for path in sorted(named)},
        "includes": {p: _matches(p) for tree in trees for p in tree.includes},
        "walk": walk,
    }


def _still_valid(state: dict[str, Any], paths: Sequence[str]) -> bool:
    links = state["links"]
    if any(path not in links for path in paths):
        return False  # an entry must name what it answers for
    if any(os.path.realpath(path) != real for path, real in links.items()):
        return False
    if any(_matches(pattern) != recorded for pattern, recorded in state["includes"].items()):
        return False
    if state["walk"] != _walk(paths):
        return False
    return all(digest(real) == recorded for real, recorded in state["files"].items())


# --- the entry's shape -------------------------------------------------------------------

class MapOf:
    """A JSON object of any keys: every key a string, every value of ``value``'s shape."""

    def __init__(self, value: Any) -> None:
        self.value = value


SEVERITIES = frozenset(str(s) for s in Severity)
TEXT_OR_NONE = (str, None)
RELATED = {"path": str, "line": int, "column": int, "message": str, "role": str}
FINDING = {"code": str, "rule": str, "severity": SEVERITIES, "path": str, "line": int,
           "column": int, "end_line": int, "end_column": int, "message": str,
           "fixable": bool, "via": TEXT_OR_NONE, "headline": str, "notes": [str],
           "related": [RELATED]}
ENTRY = {
    "format": int, "files": int, "findings": [FINDING], "fail_on": [SEVERITIES],
    "unsafe": [bool],
    "state": {"files": MapOf(TEXT_OR_NONE), "links": MapOf(str),
              "includes": MapOf(([str], str)), "walk": MapOf([str])},
}


def _fits(value: Any, shape: Any) -> bool:
    """Whether JSON ``value`` has ``shape``: a type (``int`` excludes ``bool``), None,
    a frozenset of allowed strings, a tuple of alternatives, ``[item shape]``, ``{key:
    shape}`` (exactly these keys) or ``MapOf``."""
    if shape is None:
        return value is None
    if isinstance(shape, type):
        return type(value) is shape
    if isinstance(shape, frozenset):
        return isinstance(value, str) and value in shape
    if isinstance(shape, tuple):
        return any(_fits(value, option) for option in shape)
    if isinstance(shape, list):
        return isinstance(value, list) and all(_fits(item, shape[0]) for item in value)
    if isinstance(shape, MapOf):
        return isinstance(value, dict) and all(_fits(item, shape.value)
                                               for item in value.values())
    return (isinstance(value, dict) and value.keys() == shape.keys()
            and all(_fits(value[name], part) for name, part in shape.items()))


def _entry(data: bytes) -> dict[str, Any] | None:
    """The entry in ``data``, if it is JSON of exactly the expected shape."""
    try:
        entry = json.loads(data)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
        return None
    if not _fits(entry, ENTRY) or entry["format"] != FORMAT or entry["files"] < 0:
        return None
    if not len(entry["findings"]) == len(entry["fail_on"]) == len(entry["unsafe"]):
        return None
    return entry


def load(store: Store, name: str,
         paths: Sequence[str]) -> tuple[list[Finding], list[str], int] | None:
    """The cached findings, each one's fail-on level and the file count, or None (no
    entry, an entry that is unreadable, of another shape, or no longer valid)."""
    data = store.read(f"{name}.json")
    entry = _entry(data) if data is not None else None
    if entry is None or not _still_valid(entry["state"], paths):
        return None
    # "via" is derived from the related locations: not a field of its own
    findings = [Finding(**{**{k: v for k, v in f.items() if k != "via"},
                           "severity": Severity.parse(f["severity"]), "unsafe_fixable": unsafe})
                for f, unsafe in zip(entry["findings"], entry["unsafe"], strict=True)]
    return findings, entry["fail_on"], entry["files"]


def store(cache: Store, name: str, paths: Sequence[str], trees: Sequence[Tree],
          findings: Sequence[Finding], fail_on: Sequence[str], files: int) -> None:
    """Save the run's result; a cache that cannot be written is silently skipped."""
    entry = {"format": FORMAT, "state": _state(trees, paths), "files": files,
             "findings": [f.as_dict() for f in findings], "fail_on": list(fail_on),
             "unsafe": [f.unsafe_fixable for f in findings]}
    # ASCII: a file name that is not UTF-8 (surrogates) is kept as a JSON escape
    cache.write(f"{name}.json", json.dumps(entry).encode("ascii"))
