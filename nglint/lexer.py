"""crossplane's tokens for a file, with exact spans, and its statements.

``tokenize`` fills a ``SourceFile``'s ``Tokens``: a regular expression gives exactly
the tokens crossplane's lexer would (``tests/test_lexer.py`` compares both on the
corpus and on generated text) about five times faster; what only crossplane's lexer
handles (``${``, Lua blocks) and any text the fast path finds malformed goes
through that lexer, with the characters it consumes counted.  ``statements`` groups
the tokens with crossplane's grammar and nginx's stricter rules.

Sources: crossplane ``lexer.py`` (``_lex_file_object``, ``_balance_braces``), nginx
``src/core/ngx_conf_file.c`` (``ngx_conf_read_token``).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from itertools import accumulate, compress, repeat
from operator import itemgetter, sub
from sys import intern

from crossplane.lexer import _balance_braces, _lex_file_object

from nglint.errors import NginxSyntaxError
from nglint.parameter_limit import check_parameters, unterminated
from nglint.source import SourceFile, Spans, Statement, Tokens

MAX_DEPTH = 200


def _clean(value: str) -> str:
    """Token value as crossplane would see it (undecodable bytes become U+FFFD)."""
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# One token per match, in crossplane's terms, with the blanks before it: a comment (a
# '#' where a token starts runs to the line end), a special character, a quoted string
# (backslash pairs kept), or a word (backslash pairs kept; quotes and '#' inside a word
# are plain).  No groups: findall then gives one string a match (a tuple of groups costs
# twice the time), and the matches put end to end are the text itself (less trailing
# blanks), which is how offsets are counted without asking each match.  Loops are
# unrolled (``[^"\\]*(?:\\.[^"\\]*)*``, not ``(?:\\.|[^"\\])*``): Python's re keeps a
# backtracking frame per repetition of a group, about 240 bytes a character, and a 10 MB
# quoted string cost 2.4 GB; a repeated character class keeps none.
_QUOTED = r"""(?:"[^"\\]*(?:\\[\s\S][^"\\]*)*"|'[^'\\]*(?:\\[\s\S][^'\\]*)*')"""
_TOKEN = re.compile(r"""
    \s*
    (?:
        \#[^\n]*
      | [{};]
      | """ + _QUOTED + r"""
      | (?:[^\s{};\\]|\\[\s\S])[^\s{};\\]*(?:\\[\s\S][^\s{};\\]*)*
    )
""", re.VERBOSE)
# a token that opens with a quote is a quoted string when the quoted form matches it
# whole; otherwise it is a word (the quote was never closed)
_QUOTED_TOKEN = re.compile(_QUOTED)
_TERMINATORS = frozenset({"{", ";", "}"})
_ESCAPE = re.compile(r"\\[\s\S]")
# what the fast path leaves to crossplane's own lexer: `${...}` (its own rule),
# Lua blocks (an extension lexer), and a backslash at the end of a comment
_SLOW_PATH = re.compile(r"\$\{|_by_lua_block|\#[^\n]*\\\r?\n")


def tokenize(source: SourceFile) -> Tokens:
    """Fill ``source.tokens`` with crossplane's tokens and their spans.

    A regular expression produces exactly the tokens crossplane's lexer would
    (tests/test_lexer.py compares both on the corpus and on generated text), about
    five times faster; files with constructs only crossplane's lexer handles, and
    any file the fast path finds malformed, go through crossplane's lexer itself.
    Raises crossplane's syntax errors (unbalanced braces, unterminated quote), and
    NginxSyntaxError for a token past nginx's length limit (``nglint.parameter_limit``).
    """
    if not _may_need_crossplane(source.text) or _SLOW_PATH.search(source.text) is None:
        tokens = _fast_tokens(source.text)
        if tokens is not None:
            source.tokens = tokens
            check_parameters(source.text, tokens)
            return tokens
    source.tokens = Tokens()
    for _ in lex(source):
        pass
    check_parameters(source.text, source.tokens)
    return source.tokens


def _may_need_crossplane(text: str) -> bool:
    """Whether ``_SLOW_PATH`` may find something in ``text``: each of its forms holds
    ``${``, ``_by_lua_block``, or a ``#`` and a backslash.  A text with none is not
    searched (the comment form scans every comment: 30 ms on 250,000 lines)."""
    return "${" in text or "_by_lua_block" in text or ("#" in text and "\\" in text)


def _unescape_quoted(inner: str, quote: str) -> str:
    """crossplane keeps backslash pairs in a quoted token, except the escaped quote."""
    return _ESCAPE.sub(lambda m: quote if m.group()[1] == quote else m.group(), inner)


def _fast_tokens(text: str) -> Tokens | None:
    """crossplane's tokens for ``text`` and their spans, or None where crossplane's
    lexer must decide (unbalanced braces, a character no token starts with), after
    ``unterminated`` for a quote never closed.

    Built a column at a time (C-level ``map``/``accumulate`` and a few comprehensions,
    no Python statement per token): offsets are running sums of the matches' lengths,
    lines running sums of their newlines."""
    matches = _TOKEN.findall(text)
    written = list(map(str.lstrip, matches))  # each token as written (\s is isspace)
    ends = list(accumulate(map(len, matches)))
    # a token's kind is its first character (each step is skipped when the text cannot
    # need it: a file of one line is read in a few microseconds)
    marks = "#" in text or "'" in text or '"' in text
    braces = "{" in text or "}" in text
    firsts = "".join(map(itemgetter(0), written)) if marks or braces else ""
    marked = [found.start() for found in _MARK.finditer(firsts)] if marks else []
    unclosed = _unclosed(written, marked) if marked else None
    if unclosed is not None:
        _unterminated_first(text, written, unclosed, ends[unclosed] - len(written[unclosed]))
        return None
    if (ends[-1] if ends else 0) != len(text.rstrip()):
        return None  # a character skipped (every one is consumed but trailing blanks)
    if braces:
        low, net = brace_depths(firsts)
        if low < 0 or net != 0:
            return None  # crossplane reports unbalanced braces, with its own message
    return columns(matches, written, ends, marked, text, 1)


# the first character of a quoted string or a comment (``_fast_tokens``'s ``firsts``)
_MARK = re.compile("[\"'#]")
_NOT_BRACE = re.compile("[^{}]+")
_STEP = {"{": 1, "}": -1}


def brace_depths(firsts: str) -> tuple[int, int]:
    """The lowest depth and the last one, counted from 0, of the braces among tokens
    whose first characters are ``firsts`` (a ``{`` or ``}`` first is that token: a word
    cannot start with one, a quoted string starts with its quote)."""
    braces = _NOT_BRACE.sub("", firsts)
    if not braces:
        return 0, 0
    depths = list(accumulate(map(_STEP.__getitem__, braces)))
    return min(0, min(depths)), depths[-1]


def _unclosed(written: list[str], marked: list[int]) -> int | None:
    """The first token that opens with a quote and is no quoted string (the quote is
    never closed), among the ``marked`` ones (those opening with a quote or ``#``)."""
    return next((i for i in marked if written[i][0] != "#"
                 and not _QUOTED_TOKEN.fullmatch(written[i])), None)


def columns(matches: list[str], written: list[str], ends: list[int], marked: list[int],
            chunk: str, line: int) -> Tokens:
    """The tokens of consecutive ``_TOKEN`` matches (``written``: each without its
    leading blanks; ``ends``: where each ends in its file; ``marked``: the indices of
    those opening with a quote or ``#``), which make up ``chunk`` and start on
    ``line``.  Every quote in them is closed (``_unclosed``)."""
    # newlines up to each token's start: those of every match up to its own, less those
    # inside the token itself (a quoted string or an escaped newline: rare)
    breaks = list(accumulate(map(str.count, matches, repeat("\n")), initial=line))
    del breaks[0]
    quoted_at = bool(marked) and any(written[i][0] != "#" for i in marked)
    if (quoted_at or "\\" in chunk) and "\n" in "".join(written):
        for index, token in enumerate(written):
            if "\n" in token:
                breaks[index] -= token.count("\n")
    # a 32-bit machine integer a token (memory: an int object a line cost as much again)
    lines = array("i", breaks)
    # one object per distinct word (memory: a tree repeats its directive names,
    # variables and values thousands of times; crossplane's payload shares them)
    values = list(map(intern, written))
    tokens = Tokens.of(values, lines, bytearray(len(values)),  # a byte a token
                       array("i", list(map(sub, ends, map(len, written)))), array("i", ends))
    tokens.fast = True
    flags = tokens.quoted
    for index in marked:
        token = written[index]
        if token[0] == "#":
            if token.endswith("\r"):  # a comment is its text without the CR of CRLF
                values[index] = token[:-1]
                tokens.ends[index] -= 1
            continue
        inner = token[1:-1]
        values[index] = _unescape_quoted(inner, token[0]) if "\\" in inner else inner
        flags[index] = 1
    if "\\\n" in chunk:
        # crossplane numbers a token from its first character pair: an escaped newline
        # there already counts
        for index, token in enumerate(written):
            if token.startswith("\\\n"):
                lines[index] = lines[index] + 1
    if not chunk.isascii():  # undecodable bytes: as crossplane sees them (rare)
        tokens.values = [_clean(value) for value in values]
    return tokens


def _unterminated_first(text: str, written: list[str], unclosed: int, start: int) -> None:
    """A quote opened at ``start`` (token ``unclosed``) is never closed: ``unterminated``
    raises past nginx's length limit, unless a ``}`` before it closes more blocks than
    were opened (crossplane reports that first, with its own message)."""
    depth = 0
    for token in written[:unclosed]:
        depth += 1 if token == "{" else -1 if token == "}" else 0
        if depth < 0:
            return
    unterminated(text, start, text.count("\n", 0, start) + 1)



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
        tokens.add(_clean(value), line, quoted, start, end)
        previous_end = end
        yield tokens.values[-1], line, quoted


def statements(source: SourceFile) -> list[Statement]:
    """Group ``source.tokens`` into statements with crossplane's grammar.

    Raises NginxSyntaxError for what nginx refuses but crossplane accepts with
    its checks off: a statement ended by ``}`` or by the end of the file, and
    a stray ``;`` or ``{`` where a directive name belongs.

    Only the tokens that end, open or close something are visited (unquoted ``;``,
    ``{``, ``}`` and comments, found column-wise): the words between them are a
    statement's directive and arguments.
    """
    tokens = source.tokens
    root, made = group(tokens, 0, len(tokens.values), "#" in source.text)
    tokens.spans = Spans(made)
    return root


def group(tokens: Tokens, begin: int, end: int,
          comments: bool = True) -> tuple[list[Statement], list[Statement]]:
    """``statements`` for the tokens ``begin`` to ``end`` (excluded), which must hold
    whole statements: the top-level ones, and every one in the order of their first
    tokens.  ``comments``: whether any token may be a comment (else none is looked
    for).  Raises NginxSyntaxError as ``statements`` does."""
    values, lines, quoted = tokens.values, tokens.lines, tokens.quoted
    count = end
    whole = begin == 0 and end == len(values)
    part = values if whole else values[begin:end]
    marks = list(compress(range(begin, end), map(_TERMINATORS.__contains__, part)))
    if comments:
        notes = list(compress(range(begin, end), map(str.startswith, part, repeat("#"))))
        if notes:
            marks = sorted(marks + notes)
    if any(quoted if whole else quoted[begin:end]):
        marks = [at for at in marks if not quoted[at]]
    made: list[Statement] = []  # in the order of their first tokens (``Spans``)

    def new(first: int) -> Statement:
        statement = Statement(tokens, first)
        statement.index = len(made)
        made.append(statement)
        return statement

    root: list[Statement] = []
    stack: list[list[Statement]] = [root]
    open_blocks: list[Statement] = []
    start = begin  # the first token of the statement being read
    current: Statement | None = None  # made early when a comment sits in its arguments
    between: list[Statement] = []  # those comments
    for at in marks:
        value = values[at]
        if value[0] == "#":
            if at == start:  # a comment where a directive belongs: a statement
                stack[-1].append(new(at))
                start = at + 1
            else:
                if current is None:
                    current = new(start)
                between.append(new(at))
            continue
        if at == start:  # a terminator where a directive belongs
            if value == "}":
                if not open_blocks:
                    raise NginxSyntaxError('unexpected "}"', lines[at])
                open_blocks.pop().closing = at
                stack.pop()
                start = at + 1
                continue
            raise NginxSyntaxError(f'unexpected "{value}"', lines[at])
        if value == "}":
            raise NginxSyntaxError('unexpected "}"', lines[at])
        statement = current if current is not None else new(start)
        statement.stop = at
        stack[-1].append(statement)
        if between:
            statement.skip = frozenset(c.first for c in between)
            stack[-1].extend(between)
            between = []
        current = None
        start = at + 1
        if value == "{":
            if len(open_blocks) >= MAX_DEPTH:
                raise NginxSyntaxError(
                    f"blocks nested deeper than {MAX_DEPTH} levels", lines[at]
                )
            open_blocks.append(statement)
            statement.children = []
            stack.append(statement.children)
    if start < count:
        raise NginxSyntaxError('unexpected end of file, expecting ";" or "}"', lines[start])
    if open_blocks:
        line = open_blocks[-1].directive.line
        raise NginxSyntaxError('unexpected end of file, expecting "}"', line)
    return root, made
