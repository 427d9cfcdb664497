"""Linear-time searches with RE2 for the translated nginx regexes that allow them.

``nglint.semantics.pcre`` translates nginx's PCRE2 patterns into Python byte
patterns; Python's ``re`` backtracks, so a nested quantifier can take
exponential time.  RE2 (``google-re2``, the maintained binding of Google's
library: https://github.com/google/re2) runs in time linear in the subject and
takes most translations as they are: classes, alternations, counted repeats,
named groups, scoped ``(?i:...)`` / ``(?s:...)`` groups.  It refuses
lookarounds, backreferences, atomic groups and possessive quantifiers (the
translation's ``(?m)`` anchors among them): those stay with ``re`` and its time
budget.

RE2 reads the same pattern differently from Python in a few places
(https://github.com/google/re2/wiki/Syntax), so it answers only subjects where
the two agree:

- ``$`` (no ``m``) is the very end in RE2; Python's and PCRE's also match
  before a final newline: subjects with a newline go to ``re``;
- ``\\s`` in RE2 lacks the vertical tab (``\\x0b``), which Python's and
  PCRE2's hold: subjects with one go to ``re``;
- ``\\B`` matches the empty subject in RE2 and PCRE2, not in Python: the empty
  subject goes to ``re`` (which the rest of nglint was written against);
- bytes past ASCII: PCRE2 without UTF folds and classifies ASCII only, as
  Python's bytes patterns do; RE2's Latin-1 mode was not checked byte for byte,
  so subjects with such a byte go to ``re`` (URIs and Host values are ASCII
  nearly always);
- Python's ``\\Z`` is RE2's ``\\z`` (rewritten); ``\\0``-``\\9`` (octal or
  backreferences) are left to ``re``;
- a capturing group under a repeat (``(.*a*?)*``) may keep a different last
  iteration in RE2 than in ``re`` and PCRE: for such a pattern RE2 answers "no
  match" only, and ``re`` gives the groups of a match (``captures_repeated``).

tests/test_linear.py compares both engines on generated patterns and subjects.

Where PCRE2 itself runs past its match limit (10 million steps by default,
pcre2api "pcre2_set_match_limit"), nginx answers 500 (``pcre2_match() failed:
-47``); RE2 has no such limit and answers match or no match.  Measured with nginx
1.22.1: ``^/?(a+)+$`` on ``/aaaa...X`` (40 a) is a 500 in nginx and "no match"
here; the static-asset pattern ``^/(?:[\\w-]+/?)+\\.(?:png|css|js)$`` on the Jupyter
kernel channels URI takes PCRE2 2 ms (its auto-possessification), Python's re for
ever, RE2 microseconds, and all agree: no match.  Predicting PCRE2's step count
would take PCRE2 itself.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python's own regex parser (3.11+: re._parser; before: sre_parse)
    import re._constants as sre_constants  # type: ignore[import-not-found]
    import re._parser as sre_parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse as sre_parser  # type: ignore[no-redef]

import re2

__all__ = ["captures_repeated", "linear", "usable", "without_lookarounds"]

_NONE = object()
_compiled: dict[re.Pattern[bytes], Any] = {}  # re pattern -> RE2 regex, or _NONE
_PAIR = re.compile(rb"\\(.)", re.DOTALL)
_repeated: dict[re.Pattern[bytes], bool] = {}


def _options(caseless: bool) -> re2.Options:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # one byte is one character
    options.case_sensitive = not caseless
    options.log_errors = False  # a refused pattern is no news: re takes it
    return options


def _rewrite(pattern: bytes) -> bytes | None:
    """Python's syntax as RE2 reads it, or None when RE2 would read it differently."""
    def pair(found: re.Match[bytes]) -> bytes:
        char = found.group(1)
        if char.isdigit():
            raise ValueError  # octal or a backreference
        return b"\\z" if char == b"Z" else found.group()

    try:
        return _PAIR.sub(pair, pattern)
    except ValueError:
        return None


def linear(pattern: re.Pattern[bytes]) -> Any:
    """The RE2 regex equivalent to ``pattern`` (compiled once), or None when RE2
    cannot take it (see the module docstring)."""
    found = _compiled.get(pattern)
    if found is None:
        text = _rewrite(pattern.pattern)
        found = _NONE
        if text is not None:
            try:
                found = re2.compile(text, _options(bool(pattern.flags & re.IGNORECASE)))
            except re2.error:
                found = _NONE
        _compiled[pattern] = found
    return None if found is _NONE else found


def captures_repeated(pattern: re.Pattern[bytes]) -> bool:
    """Whether a capturing group sits inside a repeat (``*``, ``+``, ``?``, ``{m,n}``),
    read from Python's own parse of the translated pattern."""
    found = _repeated.get(pattern)
    if found is None:
        found = _repeated[pattern] = _walk(sre_parser.parse(pattern.pattern, pattern.flags),
                                           False)
    return found


def _walk(items: Any, repeated: bool) -> bool:
    for op, value in items:
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
                  getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
            if _walk(value[2], True):
                return True
        elif op is sre_constants.SUBPATTERN:
            if (repeated and value[0] is not None) or _walk(value[-1], repeated):
                return True
        elif op is sre_constants.BRANCH:
            if any(_walk(branch, repeated) for branch in value[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and \
                _walk(value[1], repeated):
            return True
    return False


def usable(subject: bytes) -> bool:
    """Whether RE2 and Python's ``re`` agree on every translated pattern for this
    subject: not empty, ASCII, no newline, no vertical tab."""
    return (bool(subject) and subject.isascii() and b"\n" not in subject
            and b"\x0b" not in subject)


def without_lookarounds(pattern: str) -> str:
    """``pattern`` (Python ``re`` syntax) with every ``(?=..)``, ``(?!..)``, ``(?<=..)``
    and ``(?<!..)`` removed (escapes and character classes skipped over): a pattern that
    matches wherever ``pattern`` does (a lookaround only narrows a match), which RE2,
    refusing lookarounds, can run as a prefilter."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), index):
            index = _group_end(pattern, index)
            continue
        if pattern[index] == "[":
            end = _class_end(pattern, index)
            out.append(pattern[index:end])
            index = end
            continue
        step = 2 if pattern[index] == "\\" else 1
        out.append(pattern[index:index + step])
        index += step
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index just past the character class opening at ``start`` (``[]...]`` and
    ``[^]...]`` hold a literal ``]``; escapes are skipped)."""
    index = start + (3 if pattern.startswith("[^]", start) else
                     2 if pattern.startswith("[]", start) else 1)
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index + 1
        index += 1
    return len(pattern)


def _group_end(pattern: str, start: int) -> int:
    """The index just past the group opening at ``start``."""
    depth, index = 0, start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(pattern)
