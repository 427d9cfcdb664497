"""Source files: bytes on disk, text for the lexer, and exact token spans.

crossplane's AST carries only the line of each directive name.  Reports need
columns and fixes need exact offsets, so the loader lexes every file once
(``nglint.lexer``), each token getting a ``[start, end)`` span in the decoded text,
and hands the same token stream to crossplane's parser: the spans describe exactly
the tokens the AST was built from.  This module holds what is kept of a file: its
text, its tokens and its statements, column-wise.

Text is decoded as UTF-8 with ``surrogateescape`` so that every byte of the
file, valid UTF-8 or not, maps to one character and encodes back to the same
byte: an edit elsewhere in the file never disturbs invalid bytes.
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import NamedTuple, TypeVar

from nglint import paths
from nglint.reader import MAX_FILE_BYTES, read_file


class Token(NamedTuple):
    """One token as crossplane reads it, with its span in the decoded text."""

    value: str
    line: int
    quoted: bool
    start: int  # offset in SourceFile.text
    end: int


class Tokens:
    """A file's tokens, stored column-wise.

    A large tree has hundreds of thousands of tokens, and reports and fixes need the
    spans of a few: one tuple and two int objects per token would be half of the
    memory of a run.  Values are the strings crossplane's payload shares; lines and
    offsets are 32-bit machine integers.  ``tokens[i]`` builds the ``Token`` on demand.
    """

    __slots__ = ("ends", "fast", "lines", "quoted", "spans", "starts", "values")

    def __init__(self) -> None:
        self.values: list[str] = []
        self.lines = array("i")
        self.quoted = bytearray()  # 1 for a quoted token: a byte each, not a pointer
        # 32-bit offsets: a file is at most MAX_FILE_BYTES (16 MiB) + 1 long (reader)
        self.starts = array("i")
        self.ends = array("i")
        self.spans: Spans | None = None  # the file's statements (``statements``)
        # read by ``nglint.lexer``'s regular expression, not crossplane's lexer: what
        # ``nglint.relex`` can read again around an edit
        self.fast = False

    @classmethod
    def of(cls, values: list[str], lines: array[int], quoted: bytearray, starts: array[int],
           ends: array[int]) -> Tokens:
        """Tokens from their columns, as built."""
        tokens = cls.__new__(cls)
        tokens.values, tokens.lines, tokens.quoted = values, lines, quoted
        tokens.starts, tokens.ends = starts, ends
        tokens.spans = None
        tokens.fast = False
        return tokens

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> Token:
        return Token(self.values[index], self.lines[index], self.quoted[index] == 1,
                     self.starts[index], self.ends[index])

    def __iter__(self) -> Iterator[Token]:
        return map(Token, self.values, self.lines, map(bool, self.quoted), self.starts,
                   self.ends)

    def add(self, value: str, line: int, quoted: bool, start: int, end: int) -> None:
        self.values.append(value)
        self.lines.append(line)
        self.quoted.append(quoted)
        self.starts.append(start)
        self.ends.append(end)

    def for_crossplane(self) -> Iterator[tuple[str, int, bool]]:
        """The (value, line, quoted) stream crossplane's parser reads."""
        return zip(self.values, self.lines, map(bool, self.quoted), strict=True)

    def statement(self, index: int) -> Statement:
        """The file's statement number ``index`` (in the order of their first tokens),
        built from the columns of ``spans``."""
        spans = self.spans
        assert spans is not None
        statement = Statement(self, spans.first[index], spans.stop[index])
        statement.closing = spans.closing[index]
        statement.skip = spans.skip.get(index)
        statement.index = index
        return statement


class Spans:
    """A file's statements, stored column-wise: token indices of each one's directive,
    terminator and closing brace, and the comments written between its arguments.

    A tree keeps one statement per directive for reports and fixes; an object with two
    int objects and a children list per statement was a fifth of the memory of a run.
    ``Tokens.statement`` gives a ``Statement`` on demand.
    """

    __slots__ = ("closing", "first", "skip", "stop")

    def __init__(self, made: list[Statement]) -> None:
        self.first = array("i", [statement.first for statement in made])
        self.stop = array("i", [statement.stop for statement in made])
        self.closing = array("i", [statement.closing for statement in made])
        self.skip = {index: statement.skip for index, statement in enumerate(made)
                     if statement.skip is not None}


class Statement:
    """One statement as written: directive, arguments and terminator tokens.

    Holds token indices, not tokens (see ``Tokens``); the properties give ``Token``s.
    ``statements`` builds them with their ``children`` to group a file; a tree keeps
    only their columns (``Spans``), and ``Tokens.statement`` builds one again (without
    children): two are equal when they are the same statement of the same tokens.
    """

    __slots__ = ("children", "closing", "first", "index", "skip", "stop", "tokens")

    def __init__(self, tokens: Tokens, first: int, stop: int = -1) -> None:
        self.tokens = tokens
        self.first = first  # the directive (or comment) token
        self.stop = stop  # the terminator ('{' or ';'); -1 for a comment
        self.closing = -1  # the '}' closing a block
        self.skip: frozenset[int] | None = None  # comments written between arguments
        self.children: list[Statement] | tuple[()] = ()
        self.index = -1  # its number in the file's ``Spans``

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Statement) and other.tokens is self.tokens \
            and other.first == self.first

    def __hash__(self) -> int:
        return hash((id(self.tokens), self.first))

    @property
    def directive(self) -> Token:
        return self.tokens[self.first]

    @property
    def args(self) -> list[Token]:
        if self.stop < 0:
            return []
        skip = self.skip
        return [self.tokens[i] for i in range(self.first + 1, self.stop)
                if skip is None or i not in skip]

    @property
    def terminator(self) -> Token | None:
        return self.tokens[self.stop] if self.stop >= 0 else None

    @property
    def close(self) -> Token | None:
        return self.tokens[self.closing] if self.closing >= 0 else None

    @property
    def start(self) -> int:
        return self.tokens.starts[self.first]

    @property
    def end(self) -> int:
        last = self.closing if self.closing >= 0 else self.stop
        if last < 0:
            last = self.first  # a comment
        return self.tokens.ends[last]


_Source = TypeVar("_Source", bound="SourceFile")  # SourceFile or a subclass (DumpedSource)


@dataclass(slots=True)
class SourceFile:
    """One configuration file as read: its text (decoded as UTF-8 with surrogate
    escapes, so it encodes back to the same bytes), its newline style and its tokens."""

    path: str  # as reached (given on the command line or resolved through include)
    _raw: bytes | None  # dropped once parsed (memory): the text encodes back to it exactly
    text: str
    newline: str
    tokens: Tokens = field(default_factory=Tokens)
    # offset just past each "\n" of ``text``, built on the first ``line_col``
    _newlines: array | None = field(default=None, repr=False, compare=False)

    @classmethod
    def read(cls: type[_Source], path: str, overlay: Mapping[str, bytes] | None = None
             ) -> _Source:
        """Read a file; ``overlay`` (real path -> bytes) holds edited, unwritten content.

        Reads through ``nglint.reader.read_file``: a regular file only, at most
        ``MAX_FILE_BYTES + 1`` bytes (``too_large`` then tells); raises its ``OSError``s.
        """
        if overlay:
            edited = overlay.get(os.path.realpath(path))
            if edited is not None:
                return cls.from_bytes(path, edited)
        return cls.from_bytes(path, read_file(path))

    @classmethod
    def from_bytes(cls: type[_Source], path: str, raw: bytes) -> _Source:
        text = raw.decode("utf-8", "surrogateescape")
        newline = "\r\n" if "\r\n" in text[:65536] else "\n"
        return cls(path=path, _raw=raw, text=text, newline=newline)

    @property
    def raw(self) -> bytes:
        """The file's bytes (surrogateescape makes text -> bytes exact, PEP 383)."""
        if self._raw is not None:
            return self._raw
        return self.text.encode("utf-8", "surrogateescape")

    def drop_raw(self) -> None:
        self._raw = None

    @property
    def too_large(self) -> bool:
        return len(self.raw) > MAX_FILE_BYTES

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset.

        A binary search in the offsets of the file's newlines (indexed once, 8 bytes a
        line): counting the newlines before each offset made a finding per line of a
        100,000-line block quadratic.
        """
        if self._newlines is None:  # where each line after the first starts
            lines = self.text.split("\n")
            lines.pop()
            self._newlines = array("q", list(accumulate([len(line) + 1 for line in lines])))
        line = bisect_right(self._newlines, offset)
        line_start = self._newlines[line - 1] if line else 0
        return line + 1, offset - line_start + 1

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def realpath(self) -> str:
        return paths.realpath(self.path)


def report_name(path: str) -> str:
    """The name findings, diffs and fix logs give a file: the file itself, not a symlink
    on the way to it (``sites-enabled/x`` -> ``sites-available/x``, the file kept in
    git), in the form the path was given: absolute, or relative to the working directory
    when it lies below it (else absolute).  A path with no symlink on the way is kept
    as it was given."""
    real = paths.realpath(path)
    if real == path or real == os.path.abspath(path):  # (abspath normalises)
        return path
    if os.path.isabs(path):  # as the other files of a tree given by an absolute path
        return real
    cwd = os.getcwd()
    if real.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(real, cwd)
    return real
