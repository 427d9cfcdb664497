"""What the command line names: files and folders, stdin (``-``) and ``nginx -T`` dumps.

``-`` reads the configuration from stdin.  ``--stdin-filename PATH`` gives the
name reports use, where the configuration file is looked up from, and what
context inference and relative includes go by (a ``sites-available/x`` name is
a server-level fragment whose includes resolve above ``sites-available``);
without it the name is ``-`` and the working directory stands in for its
folder.  The text never touches the disk: it is an overlay entry (real path ->
bytes) the loader reads instead of the file.

A named file or stdin that starts with ``# configuration file PATH:`` is an
``nginx -T`` dump (``nglint.dump``): it is loaded as the tree nginx loaded.
``--fix`` writes a dumped file's fixes to the original only when that file
exists here, byte for byte as dumped; it never writes stdin.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from nglint.errors import NglintError
from nglint.reader import read_file

if TYPE_CHECKING:
    from nglint import dump as nginx_t
    from nglint.source import SourceFile
    from nglint.tree import Tree

STDIN = "-"
# a dump holds every file: more than one file's limit (nglint.reader.MAX_FILE_BYTES)
MAX_INPUT_BYTES = 256 * 1024 * 1024
HEAD_BYTES = 64 * 1024


def _read_limited(stream: BinaryIO, name: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise NglintError(f"more than {MAX_INPUT_BYTES // (1024 * 1024)} MiB: not read", name)
    return data


def _is_dump(data: bytes) -> bool:
    """``nglint.dump.is_dump``, which loads the parser: imported only for data that
    holds a dump's marker at all (a plain file's run, a warm one above all, never)."""
    if b"# configuration file " not in data:
        return False
    from nglint import dump as nginx_t

    return nginx_t.is_dump(data)


def _split(data: bytes, path: str, index: int) -> nginx_t.Dump:
    from nglint import dump as nginx_t

    return nginx_t.split(data, path, index)


def _starts_as_dump(path: str) -> bool:
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as handle:
            return _is_dump(handle.read(HEAD_BYTES))
    except OSError:
        return False  # discover says why it cannot be read


@dataclass
class Inputs:
    paths: list[str]  # as given, ``-`` replaced by the stdin name
    overlay: dict[str, bytes] = field(default_factory=dict)  # stdin: real path -> bytes
    dumps: dict[str, nginx_t.Dump] = field(default_factory=dict)  # by name in ``paths``

    @classmethod
    def read(cls, paths: Sequence[str], stdin_filename: str | None = None,
             stdin: BinaryIO | None = None) -> Inputs:
        if stdin_filename is not None and STDIN not in paths:
            raise NglintError("--stdin-filename names what - reads: give - as a path")
        if list(paths).count(STDIN) > 1:
            raise NglintError("- is given twice: stdin is read once")
        if stdin_filename is not None and os.path.isdir(stdin_filename):
            raise NglintError("--stdin-filename names a folder, not a file", stdin_filename)
        inputs = cls([])
        for path in paths:
            if path == STDIN:
                name = stdin_filename or STDIN
                data = _read_limited(stdin or sys.stdin.buffer, name)
                if _is_dump(data):
                    inputs.dumps[name] = _split(data, name, len(inputs.dumps))
                else:
                    inputs.overlay[os.path.realpath(name)] = data
                inputs.paths.append(name)
                continue
            if _starts_as_dump(path):
                try:
                    data = read_file(path, MAX_INPUT_BYTES)
                except OSError as error:
                    raise NglintError(f"cannot read: {error.strerror}", path) from None
                if len(data) > MAX_INPUT_BYTES:
                    raise NglintError(
                        f"more than {MAX_INPUT_BYTES // (1024 * 1024)} MiB: not read", path)
                inputs.dumps[path] = _split(data, path, len(inputs.dumps))
            inputs.paths.append(path)
        return inputs

    @property
    def special(self) -> bool:
        """Stdin or a dump: nothing the result cache can check on disk."""
        return bool(self.overlay or self.dumps)

    @property
    def stdin(self) -> bool:
        """Stdin that is not a dump: ``--fix`` has nowhere to write it."""
        return bool(self.overlay)

    def discover(self, paths: Iterable[str], overlay: Mapping[str, bytes] | None = None,
                 **options: Any) -> list[Tree]:
        """``nglint.discover.discover`` for plain paths, stdin read from the overlay,
        dumps loaded as the trees they dumped."""
        from nglint.discover import discover
        from nglint.load import Overlay

        paths = list(paths)
        plain = [path for path in paths if path not in self.dumps]
        kept = overlay if isinstance(overlay, Overlay) else None
        merged = Overlay(keep=kept is not None and kept.keep)
        merged.update(self.overlay)
        if overlay:  # --fix's edits, stdin's edits among them
            merged.update(overlay)
        if kept is not None:  # --fix: the parses its rounds keep (the first one's too)
            merged.parsed = kept.parsed
        trees = discover(plain, overlay=merged, **options) if plain else []
        if self.dumps:  # (the dump module, with its parser, only for a dump)
            from nglint import dump as nginx_t

            trees.extend(nginx_t.load(self.dumps[path], overlay) for path in paths
                         if path in self.dumps)
        return trees

    def _dumped(self, real: str) -> nginx_t.DumpedFile | None:
        for dump in self.dumps.values():
            found = dump.by_key(real)
            if found is not None:
                return found
        return None

    def original(self, real: str, source: SourceFile) -> bytes:
        """A file's bytes before ``--fix``: stdin's, the dumped copy, or the ones the
        analysis parsed (``source.raw``: never a second read of the disk)."""
        if real in self.overlay:
            return self.overlay[real]
        dumped = self._dumped(real)
        if dumped is not None:
            return dumped.data
        return source.raw

    def target(self, real: str, prefix_map: Sequence[tuple[str, str]] = ()) -> str:
        """Where ``--fix`` writes the file whose key is ``real``; NglintError naming the
        file when it must not: stdin, or a dumped file not here byte for byte.
        ``prefix_map`` (``--prefix-map``: deployed prefix -> here) maps a dumped name."""
        if real in self.overlay:
            raise NglintError("--fix does not write stdin: use --diff, or name the file")
        dumped = self._dumped(real)
        if dumped is None:
            return real
        why = dumped.odd
        here = _mapped(dumped.name, prefix_map)
        if not why:
            try:
                if not os.path.isfile(here):
                    why = "no such file here"
                elif os.path.getsize(here) != len(dumped.data):
                    why = "the file here differs from the dumped copy"
                else:
                    with open(here, "rb") as handle:
                        if handle.read(len(dumped.data) + 1) != dumped.data:
                            why = "the file here differs from the dumped copy"
            except OSError as error:
                why = f"cannot read it: {error.strerror}"
        if why:
            where = f" ({here} here)" if here != dumped.name else ""
            raise NglintError(f"cannot fix the nginx -T dump in place{where}: {why} "
                              "(nothing was written; --diff shows the fixes)", dumped.name)
        return os.path.realpath(here)


def _mapped(name: str, prefix_map: Sequence[tuple[str, str]]) -> str:
    """``name`` with the longest matching deployed prefix replaced by where it is here."""
    for old, new in sorted(prefix_map, key=lambda pair: -len(pair[0].rstrip("/"))):
        old = old.rstrip("/")
        if old and (name == old or name.startswith(old + "/")):
            return new.rstrip("/") + name[len(old):]
    return name
