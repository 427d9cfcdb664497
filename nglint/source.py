"""Source files: bytes on disk, text for the lexer, and exact token spans.

crossplane's AST carries only the line of each directive name.  Reports need
columns and fixes need exact offsets, so the loader lexes every file once with
crossplane's own lexer while counting the characters it consumes: each token
gets a ``[start, end)`` span in the decoded text, and the same token stream is
handed to crossplane's parser.  The spans therefore describe exactly the tokens
the AST was built from.

Text is decoded as UTF-8 with ``surrogateescape`` so that every byte of the
file, valid UTF-8 or not, maps to one character and encodes back to the same
byte: an edit elsewhere in the file never disturbs invalid bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from crossplane.lexer import _balance_braces, _lex_file_object

from nglint.errors import NginxSyntaxError

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 200


class Token(NamedTuple):  # a tuple: a large file has hundreds of thousands of them
    value: str
    line: int
    quoted: bool
    start: int  # offset in SourceFile.text
    end: int


@dataclass(slots=True)
class Statement:
    """One statement as written: directive, arguments and terminator tokens."""

    directive: Token
    args: list[Token]
    terminator: Token | None  # ';', '{' or None for a comment
    close: Token | None = None  # the '}' closing a block
    children: list[Statement] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.directive.start

    @property
    def end(self) -> int:
        last = self.close or self.terminator or (self.args[-1] if self.args else self.directive)
        return last.end


@dataclass(slots=True)
class SourceFile:
    path: str  # as reached (given on the command line or resolved through include)
    raw: bytes
    text: str
    newline: str
    tokens: list[Token] = field(default_factory=list)

    @classmethod
    def read(cls, path: str, overlay: Mapping[str, bytes] | None = None) -> SourceFile:
        """Read a file; ``overlay`` (real path -> bytes) holds edited, unwritten content."""
        if overlay:
            edited = overlay.get(os.path.realpath(path))
            if edited is not None:
                return cls.from_bytes(path, edited)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        return cls.from_bytes(path, raw)

    @classmethod
    def from_bytes(cls, path: str, raw: bytes) -> SourceFile:
        text = raw.decode("utf-8", "surrogateescape")
        newline = "\r\n" if "\r\n" in text[:65536] else "\n"
        return cls(path=path, raw=raw, text=text, newline=newline)

    @property
    def is_binary(self) -> bool:
        return b"\x00" in self.raw

    @property
    def too_large(self) -> bool:
        return len(self.raw) > MAX_FILE_BYTES

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.text.count("\n", 0, offset) + 1, offset - line_start + 1

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def realpath(self) -> str:
        return os.path.realpath(self.path)


def _clean(value: str) -> str:
    """Token value as crossplane would see it (undecodable bytes become U+FFFD)."""
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# One token per match, in crossplane's terms: the blanks before it, then a comment (a
# '#' where a token starts runs to the line end), a special character, a quoted string
# (backslash pairs kept), or a word (backslash pairs kept; quotes and '#' inside a word
# are plain).  The groups of all matches put end to end are the text itself (less
# trailing blanks), which is how offsets are counted without asking each match.
_TOKEN = re.compile(r"""
    (\s*)
    (?:
        (\#[^\n]*)
      | ([{};])
      | ("(?:\\[\s\S]|[^"\\])*"|'(?:\\[\s\S]|[^'\\])*')
      | ((?:\\[\s\S]|[^\s{};\\])+)
    )
""", re.VERBOSE)
_ESCAPE = re.compile(r"\\[\s\S]")
# what the fast path leaves to crossplane's own lexer: `${...}` (its own rule),
# Lua blocks (an extension lexer), and a backslash at the end of a comment
_SLOW_PATH = re.compile(r"\$\{|_by_lua_block|\#[^\n]*\\\r?\n")


def tokenize(source: SourceFile) -> list[Token]:
    """Fill ``source.tokens`` with crossplane's tokens and their spans.

    A regular expression produces exactly the tokens crossplane's lexer would
    (tests/test_lexer.py compares both on the corpus and on generated text), about
    five times faster; files with constructs only crossplane's lexer handles, and
    any file the fast path finds malformed, go through crossplane's lexer itself.
    Raises crossplane's syntax errors (unbalanced braces, unterminated quote).
    """
    if _SLOW_PATH.search(source.text) is None:
        tokens = _fast_tokens(source.text)
        if tokens is not None:
            source.tokens = tokens
            return tokens
    source.tokens = []
    for _ in lex(source):
        pass
    return source.tokens


def _unescape_quoted(inner: str, quote: str) -> str:
    """crossplane keeps backslash pairs in a quoted token, except the escaped quote."""
    return _ESCAPE.sub(lambda m: quote if m.group()[1] == quote else m.group(), inner)


def _fast_tokens(text: str) -> list[Token] | None:
    tokens: list[Token] = []
    append = tokens.append
    make = tuple.__new__  # Token(...) without the Python-level __new__ of a NamedTuple
    # undecodable bytes are rare: test the whole text once instead of every token
    clean = (lambda value: value) if text.isascii() else _clean
    line = 1
    depth = 0
    position = 0
    # findall gives each match's groups as strings, far cheaper than match objects;
    # a character no token can start with is skipped by findall and caught below
    for blanks, comment, special, quoted, word in _TOKEN.findall(text):
        if blanks:
            newlines = blanks.count("\n")
            if newlines:  # tokens of one line share one int object (memory)
                line += newlines
            position += len(blanks)
        start = position
        if special:
            position += 1
            if special == "{":
                depth += 1
            elif special == "}":
                depth -= 1
                if depth < 0:
                    return None  # crossplane reports it, with its own message
            append(make(Token, (special, line, False, start, position)))
        elif word:
            if word[0] in "\"'":
                return None  # an unterminated quote: crossplane reports it
            position += len(word)
            # crossplane numbers a token from its first character pair: an escaped
            # newline there already counts
            first_line = line + 1 if word.startswith("\\\n") else line
            append(make(Token, (clean(word), first_line, False, start, position)))
            newlines = word.count("\n")
            if newlines:
                line += newlines
        elif comment:
            position += len(comment)
            if comment.endswith("\r"):  # the text without the CR of a CRLF line end
                append(make(Token, (clean(comment[:-1]), line, False, start, position - 1)))
            else:
                append(make(Token, (clean(comment), line, False, start, position)))
        else:
            position += len(quoted)
            inner = quoted[1:-1]
            if "\\" in inner:
                inner = _unescape_quoted(inner, quoted[0])
            append(make(Token, (clean(inner), line, True, start, position)))
            newlines = quoted.count("\n")
            if newlines:
                line += newlines
    # every character consumed, but the trailing blanks: nothing was skipped
    if depth != 0 or position != len(text.rstrip()):
        return None
    return tokens


def lex(source: SourceFile) -> Iterator[tuple[str, int, bool]]:
    """Yield crossplane's tokens for ``source`` and record their spans.

    The spans are appended to ``source.tokens`` as the tokens are produced.
    Raises crossplane's syntax errors (unbalanced braces, unterminated quote).
    """
    text = source.text
    position = [0]
    size = len(text)

    def characters() -> Iterator[str]:
        for index, char in enumerate(text):
            position[0] = index
            yield char
        position[0] = size

    tokens = source.tokens
    previous_end = 0
    stream = _balance_braces(_lex_file_object(characters(), source.path), source.path)
    for value, line, quoted in stream:
        pointer = position[0]
        if value in ("{", ";", "}") and not quoted:
            if pointer < size and text[pointer] == value:
                start, end = pointer, pointer + 1
            else:  # the ';' crossplane adds after a lua block: zero width
                start = end = previous_end
        else:
            start = previous_end
            while start < size and text[start].isspace():
                start += 1
            end = pointer + 1 if quoted else pointer
            if not quoted and value.startswith("#"):
                # a comment is its text up to the line end, without the CR of a CRLF
                # line end (crossplane keeps the CR and drops a backslash before LF)
                if end > start + 1 and text[end - 1] == "\r":
                    end -= 1
                value = text[start:end]
        tokens.append(Token(_clean(value), line, quoted, start, end))
        previous_end = end
        yield tokens[-1].value, line, quoted


def statements(source: SourceFile) -> list[Statement]:
    """Group ``source.tokens`` into statements with crossplane's grammar.

    Raises NginxSyntaxError for what nginx refuses but crossplane accepts with
    its checks off: a statement ended by ``}`` or by the end of the file, and
    a stray ``;`` or ``{`` where a directive name belongs.
    """
    tokens = source.tokens
    root: list[Statement] = []
    stack: list[list[Statement]] = [root]
    open_blocks: list[Statement] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        index += 1
        if not token.quoted and token.value == "}":
            if not open_blocks:
                raise NginxSyntaxError('unexpected "}"', token.line)
            open_blocks.pop().close = token
            stack.pop()
            continue
        if not token.quoted and token.value.startswith("#"):
            stack[-1].append(Statement(token, [], None))
            continue
        if not token.quoted and token.value in ("{", ";"):
            raise NginxSyntaxError(f'unexpected "{token.value}"', token.line)
        statement = Statement(token, [], None)
        comments: list[Statement] = []
        while index < count:
            arg = tokens[index]
            index += 1
            if not arg.quoted and arg.value in ("{", ";", "}"):
                statement.terminator = arg
                break
            if not arg.quoted and arg.value.startswith("#"):
                comments.append(Statement(arg, [], None))
            else:
                statement.args.append(arg)
        terminator = statement.terminator
        if terminator is None:
            raise NginxSyntaxError('unexpected end of file, expecting ";" or "}"', token.line)
        if terminator.value == "}":
            raise NginxSyntaxError('unexpected "}"', terminator.line)
        stack[-1].append(statement)
        stack[-1].extend(comments)
        if terminator.value == "{":
            if len(open_blocks) >= MAX_DEPTH:
                raise NginxSyntaxError(
                    f"blocks nested deeper than {MAX_DEPTH} levels", terminator.line
                )
            open_blocks.append(statement)
            stack.append(statement.children)
    if open_blocks:
        line = open_blocks[-1].directive.line
        raise NginxSyntaxError('unexpected end of file, expecting "}"', line)
    return root
