"""``nginx -T`` dumps: split back into their files and loaded as the real tree.

``nginx -T`` tests the configuration and prints every file it read.  The format
is nginx's own, ``src/core/nginx.c`` (``main``, the ``ngx_dump_config`` branch,
unchanged from 1.9.2 to 1.27)::

    ngx_write_stdout("# configuration file ");
    ngx_write_fd(ngx_stdout, cd[i].name.data, cd[i].name.len);
    ngx_write_stdout(":" NGX_LINEFEED);
    ngx_write_fd(ngx_stdout, b->pos, b->last - b->pos);
    ngx_write_stdout(NGX_LINEFEED);

so each file is a marker line, the file's bytes exactly as read, and one LF that
nginx adds (whether or not the file ended with one).  ``cd[i].name`` is the name
nginx opened: the ``-c`` file first (the main configuration), then each include
in the order read, named as ``ngx_conf_full_name`` made it (the conf prefix, the
folder of the ``-c`` file, joined to a relative include).
``src/core/ngx_conf_file.c`` (``ngx_conf_add_dump``) keeps one copy per name: a
file included twice is dumped once.  The "syntax is ok" lines go to stderr; with
``2>&1`` they come first, and are skipped here.

The files are kept in memory (never written anywhere) and loaded by
``DumpLoader``: includes resolve against the dumped names, as nginx resolved
them, not against the local disk; findings name the dumped paths and the lines
of each file as it was dumped.  Oddities (a name given twice, a dumped file no
include reaches, a dump cut short, control characters in a name) become info
findings of NG002 on the dump itself, never an exception.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from nglint.load import Loader, ParsedFile, parse_file
from nglint.source import SourceFile
from nglint.tree import Problem, Tree

MARKER = b"# configuration file "
# a marker at the start of a line; the name runs to the last ':' of the line
_MARKER = re.compile(rb"^# configuration file ([^\n]*):(\r?)(?:\n|\Z)", re.MULTILINE)
# what nginx prints on stderr, found first when the dump was taken with 2>&1
_PREAMBLE = re.compile(rb"(?:(?:nginx: [^\n]*)?\r?\n)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
KEY_PREFIX = "nginx-T"  # no real path starts so: keys never meet a file on disk


@dataclass
class DumpedFile:
    name: str  # as the marker gives it (control characters escaped)
    data: bytes
    line: int  # the marker's line in the dump
    odd: str = ""  # why --fix never writes the original (empty: it may)


@dataclass
class Dump:
    """The files of one dump, by normalised name, in dump order."""

    path: str  # the dump's own name (a file, or the stdin name)
    index: int  # tells two dumps of one run apart
    files: dict[str, DumpedFile] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)

    @property
    def main(self) -> DumpedFile:
        return next(iter(self.files.values()))

    def key(self, name: str) -> str:
        """The file's key (what ``Tree.sources`` and edits use instead of a real path)."""
        return f"{KEY_PREFIX}#{self.index}:{normalise(name)}"

    def by_key(self, key: str) -> DumpedFile | None:
        prefix = f"{KEY_PREFIX}#{self.index}:"
        return self.files.get(key[len(prefix):]) if key.startswith(prefix) else None


def normalise(name: str) -> str:
    """A dumped name or include path as one spelling (no symlinks exist in a dump)."""
    return posixpath.normpath(name) if name else name


def is_dump(data: bytes) -> bool:
    """Whether ``data`` starts (after nginx's own stderr lines) with a dump marker."""
    start = _PREAMBLE.match(data)
    offset = start.end() if start else 0
    return _MARKER.match(data, offset) is not None


def split(data: bytes, path: str, index: int = 0) -> Dump:
    """The dump's files; call only when ``is_dump(data)``."""
    dump = Dump(path, index)
    markers = list(_MARKER.finditer(data))
    line = 1
    previous = 0
    for number, marker in enumerate(markers):
        line += data.count(b"\n", previous, marker.start())
        previous = marker.start()
        end = markers[number + 1].start() if number + 1 < len(markers) else len(data)
        body = data[marker.end():end]
        newline = marker.group(2) + b"\n"
        name = marker.group(1).decode("utf-8", "surrogateescape")
        odd = ""
        if _CONTROL.search(name) or not name.isprintable():
            name = name.encode("unicode_escape", "backslashreplace").decode("ascii")
            odd = "its name holds control characters"
            dump.notes.append(_note(dump, line, f"the marker names a file with control "
                                    f"characters ({name}): not a name nginx reads"))
        elif not name.strip():
            name = f"(unnamed file at line {line} of {path})"
            odd = "the dump gives it no name"
            dump.notes.append(_note(dump, line, "a marker names no file"))
        if body.endswith(newline):
            body = body[:-len(newline)]
        elif number + 1 == len(markers):
            dump.notes.append(_note(dump, line, f"the dump ends inside {name} (nginx ends "
                                    "every file with a newline): it may be truncated"))
        first = dump.files.get(normalise(name))
        if first is not None:
            # nginx dumps each name once; two spellings of one path (conf.d/../x) are
            # the same file, read twice
            if first.name == name:
                dump.notes.append(_note(dump, line, f"{name} is dumped twice (nginx dumps "
                                        "each file once): the first copy is linted"))
            elif first.data != body:
                dump.notes.append(_note(dump, line, f"{name} is {first.name}, dumped "
                                        "again with other contents: the first copy is "
                                        "linted"))
            continue
        dump.files[normalise(name)] = DumpedFile(name, body, line, odd)
    return dump


def _note(dump: Dump, line: int, message: str) -> Problem:
    return Problem("include", f"nginx -T dump: {message}", dump.path, line,
                   severity="info")


class DumpedSource(SourceFile):
    """A dumped file: its key stands for the real path (nothing on disk is read)."""

    __slots__ = ("key",)
    key: str  # set as soon as it is made (``DumpLoader``)

    def realpath(self) -> str:
        return self.key


def _segment_matches(pattern: str, name: str) -> bool:
    if glob.has_magic(pattern):
        # glob(3), as ngx_open_glob calls it: wildcards never match a leading dot
        if name.startswith(".") and not pattern.startswith("."):
            return False
        return fnmatch.fnmatchcase(name, pattern)
    return pattern == name


class DumpLoader(Loader):
    """A ``Loader`` over a dump: files come from the dump (or ``--fix``'s overlay,
    keyed like the dump), includes match the dumped names."""

    def __init__(self, dump: Dump, overlay: Mapping[str, bytes] | None = None) -> None:
        super().__init__(posixpath.dirname(dump.main.name), overlay)
        self.dump = dump
        self.folders: dict[str, list[str]] = {}
        for normal in dump.files:
            self.folders.setdefault(posixpath.dirname(normal), []).append(normal)

    def _realpath(self, path: str) -> str:
        return self.dump.key(path)

    def _matches(self, pattern: str) -> list[str]:
        normal = normalise(pattern)
        if not glob.has_magic(pattern):
            found = self.dump.files.get(normal)
            return [found.name if found else pattern]
        folder, base = posixpath.split(normal)
        if glob.has_magic(folder):
            parts = normal.split("/")
            candidates = [name for name in self.dump.files if len(name.split("/")) == len(parts)
                          and all(_segment_matches(p, n) for p, n in
                                  zip(parts, name.split("/"), strict=True))]
        else:
            candidates = [name for name in self.folders.get(folder, ())
                          if _segment_matches(base, posixpath.basename(name))]
        return sorted(self.dump.files[name].name for name in candidates)

    def parsed(self, path: str) -> ParsedFile:
        key = self._realpath(path)
        cached = self.cache.get(key)
        if cached is None:
            dumped = self.dump.files.get(normalise(path))
            if dumped is None:
                raise FileNotFoundError(errno.ENOENT, "not in the nginx -T dump", path)
            data = self.overlay.get(key) if self.overlay else None
            source = DumpedSource.from_bytes(dumped.name, dumped.data if data is None else data)
            source.key = key
            cached = self.cache[key] = parse_file(source)
        if cached.source.path != path:  # reached under another spelling: named so
            other = cached.source
            renamed = DumpedSource(path, other.raw, other.text, other.newline, other.tokens)
            renamed.key = key
            return ParsedFile(renamed, cached.ast, cached.statements, cached.error)
        return cached


def load(dump: Dump, overlay: Mapping[str, bytes] | None = None) -> Tree:
    """The dump as the tree nginx loaded: rooted at its first file, includes resolved
    against the dumped names; the dump's notes, and each dumped file no include
    reaches, are info findings of the tree."""
    main = dump.main
    tree = DumpLoader(dump, overlay).load(main.name, "main")
    tree.problems.extend(dump.notes)
    for normal, dumped in dump.files.items():
        if dump.key(normal) not in tree.sources:
            tree.problems.append(_note(dump, dumped.line, f"{dumped.name} is dumped but no "
                                       f"include of {main.name} reaches it: not linted"))
    return tree
