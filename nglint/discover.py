"""Turn command-line paths into loaded trees.

A directory holding ``nginx.conf`` is one tree rooted there.  Any other file
of a directory that no include reaches (an unenabled ``sites-available``
entry, a loose ``conf.d`` snippet) is linted on its own as a fragment, in the
context it was written for.  A file given by name is always linted.

With ``within_tree`` (``--within-tree``, what the pre-commit hooks use), a file
given by name is linted inside the tree it belongs to: the nearest folder above
it (up to the repository root) holding ``nginx.conf`` is loaded, and when that
tree includes the file, the file is analysed there (inherited settings, maps
and upstreams in view) instead of as a fragment.  ``targets`` then tells which
findings belong to the files that were named.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from nglint import paths as resolved
from nglint.errors import NglintError
from nglint.load import CONTEXTS, Loader, infer_context, parse_file
from nglint.source import SourceFile
from nglint.tree import Tree

MAIN_NAME = "nginx.conf"
ETC_NGINX = "/etc/nginx"  # the conf prefix of distribution packages (nginx -V)
# folders whose files are configuration whatever their names end with
CONFIG_FOLDERS = {"sites-available", "sites-enabled", "conf.d", "snippets", "http.d",
                  "servers", "vhosts", "vhosts.d", "stream.d"}
SKIP_FOLDERS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".venv"}
BACKUP_SUFFIXES = ("~", ".bak", ".orig", ".swp", ".dpkg-dist", ".dpkg-old", ".dpkg-new",
                   ".rpmnew", ".rpmsave")
MAIN_DIRECTIVES = {"http", "events", "stream", "mail"}


@dataclass
class Entry:
    """One tree to lint: its entry file, its context (``main``, or the context a
    fragment is inferred to be in), the prefix its includes are relative to, and
    whether the user named it (not found by walking a folder)."""

    path: str
    context: str
    conf_prefix: str
    explicit: bool


def _is_config_file(path: str) -> bool:
    name = os.path.basename(path)
    if name.startswith(".") or name.endswith(BACKUP_SUFFIXES):
        return False
    if name.endswith(".conf"):
        return True
    return os.path.basename(os.path.dirname(path)) in CONFIG_FOLDERS


def _unreadable(error: OSError) -> None:
    """os.walk's ``onerror``: a folder that cannot be listed ends the run (exit 2), as
    an unreadable file does, instead of being skipped without a word."""
    raise NglintError(f"cannot read folder: {error.strerror}", error.filename) from None


def _walk(directory: str) -> Iterator[str]:
    """The configuration files below ``directory``, sorted; raises NglintError for a
    folder that cannot be listed.  Anything that is not a regular file (a FIFO, a
    dangling symlink) is not linted on its own; a symlink loop is yielded, so that
    reading it says so."""
    # folders still to list, the next one last: no recursion, so that a folder 1,000
    # levels deep is listed like any other
    pending = [directory]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            _unreadable(error)
            return
        subfolders = []
        for entry in entries:  # (scandir's entries know their type: no stat per file)
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_FOLDERS:
                    subfolders.append(entry.path)
            elif _is_config_file(entry.path) and _regular_or_loop(entry):
                yield entry.path
        pending.extend(reversed(subfolders))


def _regular_or_loop(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # a symlink is followed; broken, it is not a file
    except OSError as error:
        return error.errno == errno.ELOOP


def _fragment_prefix(path: str) -> str:
    """Where a fragment's relative includes resolve: the folder above ``conf.d`` and its
    kind, else its own folder; relative when the path was, so included files are named
    in the form the user gave."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(folder) in CONFIG_FOLDERS:
        folder = os.path.dirname(folder)
    if os.path.isabs(path):
        return folder
    return os.path.relpath(folder) if folder != os.getcwd() else "."


def _is_main(path: str, overlay: Mapping[str, bytes] | None = None) -> bool:
    if os.path.basename(path) == MAIN_NAME:
        return True
    try:
        source = SourceFile.read(path, overlay)
    except OSError:
        return False
    return any(item["directive"] in MAIN_DIRECTIVES for item in parse_file(source).ast)


def _check_readable(path: str) -> None:
    """NglintError (exit 2) naming the path when it cannot be read: missing, a symlink
    loop ("too many levels of symbolic links", nginx's ELOOP), not permitted."""
    try:
        os.stat(path)
    except OSError as error:
        raise NglintError((error.strerror or "cannot read").lower(), path) from None
    if not os.access(path, os.R_OK):
        raise NglintError("permission denied", path)


def targets(paths: Iterable[str]) -> Callable[[str], bool]:
    """Whether a finding's file is one of ``paths`` or lies in one of their folders."""
    files: set[str] = set()
    folders: list[str] = []
    for path in paths:
        real = os.path.realpath(path)
        if os.path.isdir(real):
            folders.append(real.rstrip(os.sep) + os.sep)
        else:
            files.add(real)

    def wanted(path: str) -> bool:
        real = os.path.realpath(path)
        return real in files or any(real.startswith(folder) for folder in folders)

    return wanted


def discover(paths: Iterable[str], context: str | None = None,
             conf_prefix: str | None = None,
             overlay: Mapping[str, bytes] | None = None,
             exclude: Callable[[str], bool] | None = None,
             within_tree: bool = False,
             prefix_map: Sequence[tuple[str, str]] = ()) -> list[Tree]:
    """Load every tree the paths name: main configurations first, then fragments.

    ``exclude`` names files never linted on their own (configuration ``exclude``):
    they are still read when a tree includes them, as nginx would.
    """
    resolved.forget()  # a new run: symlinks are resolved as they are now
    excluded = exclude or (lambda path: False)
    if context is not None and context not in CONTEXTS:
        raise NglintError(f"unknown context {context!r}: use one of {', '.join(CONTEXTS)}")
    mains: list[Entry] = []
    candidates: list[Entry] = []
    for given in paths:
        if not (overlay and resolved.realpath(given) in overlay):  # stdin: not on disk
            _check_readable(given)
        if os.path.isdir(given):
            main = os.path.join(given, MAIN_NAME)
            files = list(_walk(given))
            if os.path.isfile(main):
                mains.append(Entry(main, "main", conf_prefix or given, True))
            elif not files:
                raise NglintError("no nginx configuration found (no nginx.conf, no *.conf)",
                                  given)
            prefix = conf_prefix or (given if os.path.isfile(main) else None)
            candidates.extend(Entry(f, context or "", prefix or _fragment_prefix(f), False)
                              for f in files if f != main and not excluded(f))
        elif context in (None, "main") and _is_main(given, overlay):
            mains.append(Entry(given, "main", conf_prefix or os.path.dirname(given) or ".",
                               True))
        elif not excluded(given):
            above = resolved.main_above(given, MAIN_NAME) \
                if within_tree and context is None else None
            if above is not None:
                mains.append(Entry(above, "main",
                                   conf_prefix or os.path.dirname(above) or ".", False))
            candidates.append(Entry(given, context or "",
                                    conf_prefix or _fragment_prefix(given), True))

    trees: list[Tree] = []
    reached: set[str] = set()
    loaders: dict[str, Loader] = {}

    def loader(prefix: str) -> Loader:
        # a linted folder holding nginx.conf stands for nginx's conf prefix: a repo copy
        # of /etc/nginx keeps `include /etc/nginx/sites-enabled/*;` inside the copy
        inferred = [] if any(old.rstrip("/") == ETC_NGINX for old, _ in prefix_map) or \
            not os.path.isfile(os.path.join(prefix, MAIN_NAME)) else [(ETC_NGINX, prefix)]
        return loaders.setdefault(prefix, Loader(prefix, overlay, [*prefix_map, *inferred]))

    loaded: set[str] = set()
    main_trees: list[tuple[str, Tree]] = []
    for entry in mains:
        if resolved.realpath(entry.path) in loaded:
            continue  # named twice, or the tree above several files given --within-tree
        loaded.add(resolved.realpath(entry.path))
        main_trees.append((resolved.realpath(entry.path),
                           loader(entry.conf_prefix).load(entry.path, "main")))
    # a file that reads like a main configuration (it holds `http`) but that another
    # given tree includes is analysed there, once (--within-tree nginx.conf conf.d/x.conf)
    for tree in _outermost(main_trees):
        trees.append(tree)
        reached.update(tree.sources)
        # an include that could not be read (a symlink loop, no permission) was
        # reported where it stands: not read again as a fragment of its own
        reached.update(tree.resolved.values())
    seen: set[str] = set()
    fragments: list[tuple[str, Tree]] = []
    for entry in candidates:
        real = resolved.realpath(entry.path)
        if real in reached or real in seen:
            continue  # analysed where a tree includes it
        seen.add(real)
        try:
            source = SourceFile.read(entry.path, overlay)
        except OSError as error:
            raise NglintError(f"cannot read: {error.strerror}", entry.path) from None
        fragment_context = entry.context or infer_context(source)
        fragments.append((real, loader(entry.conf_prefix).load(entry.path, fragment_context)))
    return trees + _outermost(fragments)


def _outermost(fragments: list[tuple[str, Tree]]) -> list[Tree]:
    """The fragments no other fragment includes (``conf.d/site.conf`` including
    ``snippets/proxy.conf``): a file another given file includes is analysed only
    there, with what the including file sets around it, as in a tree rooted at
    ``nginx.conf``.  Fragments that include each other keep the first, in order."""
    included = {real: {source for source in tree.sources if source != real}
                for real, tree in fragments}
    reached_by_others = {source for sources in included.values() for source in sources}
    kept = [(real, tree) for real, tree in fragments if real not in reached_by_others]
    covered = {source for real, tree in kept for source in (real, *tree.sources)}
    for real, tree in fragments:  # a cycle: nobody outside includes them
        if real not in covered:
            kept.append((real, tree))
            covered.update((real, *tree.sources))
    order = {id(tree): index for index, (_real, tree) in enumerate(fragments)}
    return [tree for _real, tree in sorted(kept, key=lambda pair: order[id(pair[1])])]
