"""nginx regexes (PCRE2, no UTF mode) as Python byte patterns.

nginx compiles location and server_name regexes with PCRE2 and no UTF mode
(``src/core/ngx_regex.c``, ``ngx_regex_compile``), so they match bytes with
ASCII-only classes and case folding; ``translate_pcre`` turns them into
Python byte patterns and refuses what Python would read differently.  nginx
unescapes ``\\\\ \\" \\' \\t \\r \\n`` in every token before the regex compiler
sees it (``nglint.semantics.tokens``).

Searches go through ``search``: PCRE2 gives up on a match past its match
limit (nginx then answers 500), Python's ``re`` backtracks for ever.  A
translation RE2 can take runs there, in time linear in the subject
(``nglint.semantics.linear``, ``google-re2``); the rest (lookarounds,
backreferences, atomic groups, possessive quantifiers) run in ``re`` under a
budget of ``SEARCH_SECONDS``, after which ``RegexTooCostly`` is raised and the
caller answers unknown (NG013 says why).  A pattern that ran out once raises at
once for every later subject: it costs its budget once per run.

PCRE2 syntax: https://www.pcre.org/current/doc/html/pcre2syntax.html and
https://www.pcre.org/current/doc/html/pcre2pattern.html.
"""

from __future__ import annotations

import re
import signal
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from nglint.semantics.linear import captures_repeated, linear, usable
from nglint.semantics.uri import to_bytes

__all__ = ["RegexTooCostly", "ran_out", "search", "translate_pcre"]

# how long one search may run: PCRE2 stops a match at its match limit (10 million
# steps by default, pcre2api "pcre2_set_match_limit"), nginx then answers 500; Python's
# re has no such limit, and a pattern such as ^/(a+)+$ backtracks for ever on
# "/aaaa...X"
SEARCH_SECONDS = 0.2

# escapes with the same meaning in PCRE2 (no UTF) and in Python bytes patterns
_SAME_ESCAPES = frozenset("AbBdDsSwWafnrt0123456789")
_SAME_CLASS_ESCAPES = frozenset("dDsSwWbafnrt01234567")
_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
    "lower": "a-z", "space": "\\t\\n\\x0b\\f\\r ", "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~", "xdigit": "0-9A-Fa-f", "word": "\\w",
    "cntrl": "\\x00-\\x1f\\x7f", "print": " -~", "graph": "!-~",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUANTIFIER = re.compile(r"\{\d+(?:,\d*)?\}")


_TEMPLATE_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|(?<!\\[pP])\{[A-Z][A-Z0-9_]+\}")


class _Unsupported(Exception):
    pass


class _Options(NamedTuple):
    """The PCRE2 options this translation follows: caseless, dotall, multiline."""

    i: bool = False
    s: bool = False
    m: bool = False

    def apply(self, text: str) -> _Options:
        """The options after ``(?text)`` / ``(?text:``: pcre2pattern, "Internal option setting".

        ``(?^)`` unsets i, m, n, s, x first; letters before ``-`` set, after it unset.
        ``x``, ``xx``, ``n``, ``J``, ``U`` and anything unusual are refused.
        """
        if not _OPTION_TEXT.fullmatch(text) or text in ("", "-", "^-") or (
                text.startswith("^") and "-" in text):
            raise _Unsupported(f"inline option setting (?{text}) (only i, s, m are translated)")
        on, _, off = text.removeprefix("^").partition("-")
        current = _Options() if text.startswith("^") else self
        return _Options(
            i=("i" in on or current.i) and "i" not in off,
            s=("s" in on or current.s) and "s" not in off,
            m=("m" in on or current.m) and "m" not in off)

    def python_switch(self, target: _Options) -> str:
        """A Python scoped group opening ``(?i-s:`` that turns these i/s options into target's.

        ``m`` is never handed to Python: ``^`` and ``$`` are rewritten instead.
        """
        on = "".join(flag for flag in "is" if getattr(target, flag) and not getattr(self, flag))
        off = "".join(flag for flag in "is" if getattr(self, flag) and not getattr(target, flag))
        return f"(?{on}{'-' if off else ''}{off}:" if on or off else ""


_OPTION_TEXT = re.compile(r"\^?[ims]*(?:-[ims]*)?")
_OPTION_SETTING = re.compile(r"([-a-zA-Z^]*)([:)])")
# PCRE2 with (?m): '^' after an internal newline only (not after a final one, unlike
# Python's MULTILINE), '$' before any newline or at the end (pcre2pattern, "Circumflex
# and dollar")
_MULTILINE_CARET = r"(?:\A|(?<=\n)(?!\Z))"
_MULTILINE_DOLLAR = r"(?=\n|\Z)"


@dataclass
class _Group:
    """An open group while translating: where option settings inside it stop applying.

    In PCRE2 an option setting lasts to the end of its group, later alternatives
    included (``a(?i)b|c`` is ``a(?i:b)|(?i:c)``); Python only has scoped
    ``(?i:...)`` groups past the start, so each alternative after a setting is
    wrapped in one (``opened`` counts the wrappers of the current alternative).
    """

    start: _Options  # in force where the group opened (and in Python at each '|')
    options: _Options  # in force now
    opened: int = 0


def _translate(pattern: str, caseless: bool = False) -> str:
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    class_start = 0  # index just after '[' or '[^' (where a literal ']' may stand)
    top = _Options(i=caseless)
    groups = [_Group(top, top)]
    while i < n:
        char = pattern[i]
        group = groups[-1]
        if char == "\\":
            if i + 1 >= n:
                raise _Unsupported("pattern ends with a backslash")
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                if in_class:
                    raise _Unsupported("\\Q...\\E inside a character class")
                out.append(re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if not (nxt.isascii() and nxt.isalnum()):
                out.append(pattern[i:i + 2])  # an escaped symbol (or byte) is itself
            elif in_class:
                if nxt == "x" and pattern[i + 2:i + 3] != "{":
                    out.append("\\x")
                elif nxt in _SAME_CLASS_ESCAPES:
                    out.append(pattern[i:i + 2])
                else:
                    raise _Unsupported(f"\\{nxt} inside a character class")
            elif nxt in _SAME_ESCAPES:
                out.append(pattern[i:i + 2])
            elif nxt == "x" and pattern[i + 2:i + 3] != "{":
                out.append("\\x")  # Python insists on two hex digits; it rejects fewer
            elif nxt == "z":
                out.append("\\Z")  # PCRE \z is the very end, Python's \Z
            elif nxt == "Z":
                out.append("(?=\\n?\\Z)")  # PCRE \Z also matches before a final newline
            elif nxt == "k" and i + 2 < n and pattern[i + 2] in "<'{":
                close = {"<": ">", "'": "'", "{": "}"}[pattern[i + 2]]
                end = pattern.find(close, i + 3)
                name = pattern[i + 3:end] if end > 0 else ""
                if not _NAME.fullmatch(name):
                    raise _Unsupported("\\k with a malformed name")
                out.append(f"(?P={name})")
                i = end + 1
                continue
            else:
                what = "\\x{...}" if nxt == "x" else f"\\{nxt}"
                raise _Unsupported(f"{what} has no Python equivalent")
            i += 2
            continue
        if in_class:
            if char == "]" and i != class_start:
                in_class = False
            elif char == "[" and pattern[i + 1:i + 2] in (":", ".", "="):
                kind = pattern[i + 1]
                end = pattern.find(kind + "]", i + 2)
                if end < 0:
                    out.append("\\[")  # a lone '[' is a literal in both
                    i += 1
                    continue
                name = pattern[i + 2:end]
                if kind != ":" or name not in _POSIX_CLASSES:
                    raise _Unsupported(f"POSIX class [{kind}{name}{kind}]")
                out.append(_POSIX_CLASSES[name])
                i = end + 2
                continue
            elif char == "[":
                out.append("\\[")  # literal in PCRE; Python would warn about nesting
                i += 1
                continue
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            start = i + 1
            if pattern[start:start + 1] == "^":
                start += 1
            if pattern[start:start + 1] == ":" and re.match(r":\^?[a-z]+:\]", pattern[start:]):
                raise _Unsupported("POSIX class outside brackets (a PCRE error)")
            class_start = start
            out.append(pattern[i:start])
            i = start
            continue
        if char == "{" and not _QUANTIFIER.match(pattern, i):
            out.append("\\{")  # PCRE2 10.42 reads "{,3}" as text; Python as a quantifier
            i += 1
            continue
        if char == "|":
            out.append(")" * group.opened + "|")
            switch = group.start.python_switch(group.options)
            out.append(switch)
            group.opened = 1 if switch else 0
            i += 1
            continue
        if char == ")":
            if len(groups) == 1:
                raise _Unsupported("unmatched closing parenthesis")
            out.append(")" * group.opened + ")")
            groups.pop()
            i += 1
            continue
        if char == "^" and group.options.m:
            out.append(_MULTILINE_CARET)
            i += 1
            continue
        if char == "$" and group.options.m:
            out.append(_MULTILINE_DOLLAR)
            i += 1
            continue
        if char == "(" and pattern[i + 1:i + 2] == "?":
            rest = pattern[i + 2:]
            named = re.match(r"<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)'", rest)
            if named:
                out.append(f"(?P<{named.group(1) or named.group(2)}>")
                groups.append(_Group(group.options, group.options))
                i += 2 + named.end()
                continue
            if rest.startswith("#"):
                end = pattern.find(")", i)
                if end < 0:
                    raise _Unsupported("unterminated comment")
                i = end + 1  # a comment: drop it
                continue
            if rest.startswith("(") and not re.match(r"\(\d+\)", rest):
                raise _Unsupported("conditional group on a name or an assertion")
            setting = _OPTION_SETTING.match(rest)
            if setting and (setting.group(1) or setting.group(2) == ")"):
                if setting.group(1) == "R":
                    raise _Unsupported("recursion (?R)")
                if "x" in setting.group(1):
                    # comments and blanks: not worth a second parser for them
                    raise _Unsupported("extended mode (?x)")
                options = group.options.apply(setting.group(1))
                switch = group.options.python_switch(options)
                if setting.group(2) == ")":  # (?i): to the end of the enclosing group
                    out.append(switch)
                    group.opened += 1 if switch else 0
                    group.options = options
                else:  # (?i:...): that group only
                    out.append(switch or "(?:")
                    groups.append(_Group(options, options))
                i += 2 + setting.end()
                continue
        if char == "(":
            groups.append(_Group(group.options, group.options))
        out.append(char)
        i += 1
    if in_class:
        raise _Unsupported("unterminated character class")
    if len(groups) > 1:
        raise _Unsupported("missing closing parenthesis")
    out.append(")" * groups[0].opened)
    return "".join(out)


class RegexTooCostly(Exception):
    """A search ran past ``SEARCH_SECONDS`` (catastrophic backtracking): the caller
    answers unknown, as for a regex it cannot translate."""


_costly: dict[re.Pattern[bytes], bytes] = {}  # patterns that ran out -> the subject
_risky: dict[re.Pattern[bytes], bool] = {}
_ESCAPED = re.compile(rb"\\.", re.DOTALL)
_QUANTIFIERS = re.compile(rb"[*+?{]")
SHORT_SUBJECT = 512  # bytes: a pattern with one quantifier and no '|' is quick on these


def _may_backtrack(pattern: re.Pattern[bytes]) -> bool:
    """Whether a search could run long on a short subject: two quantifiers or more
    (nested or in a row), or one with an alternation (``(a|aa)*``).  Rough on purpose:
    a pattern counted here that is quick only costs the timer."""
    risky = _risky.get(pattern)
    if risky is None:
        count = len(_QUANTIFIERS.findall(_ESCAPED.sub(b"", pattern.pattern)))
        risky = _risky[pattern] = count >= 2 or (count == 1 and b"|" in pattern.pattern)
    return risky


def _expired(signum: int, frame: object) -> None:
    raise RegexTooCostly


def ran_out(pattern: re.Pattern[bytes]) -> bytes | None:
    """The subject on which a search with ``pattern`` ran past the budget in this
    process, or None."""
    return _costly.get(pattern)


def search(pattern: re.Pattern[bytes], subject: bytes) -> re.Match[bytes] | None:
    """``pattern.search(subject)`` in bounded time; the match object is ``re``'s or
    RE2's (``group``, ``groups``, ``span`` alike).

    RE2 answers when it can take the pattern and reads this subject as ``re`` does
    (``nglint.semantics.linear``): linear time, any thread.  Otherwise ``re``
    searches under a SIGALRM timer of ``SEARCH_SECONDS`` (Python's re checks for
    signals while it backtracks); RegexTooCostly is raised when it fires, and at once
    for any later search with a pattern that already ran out.  Outside the main
    thread (or while someone else's timer runs) no timer can be set: a search that
    could backtrack (``_may_backtrack``) raises RegexTooCostly at once, so a
    language server's worker thread answers unknown where the command line might
    know, but never hangs.
    """
    if usable(subject):
        fast = linear(pattern)
        if fast is not None:
            found = fast.search(subject)
            if found is None or not captures_repeated(pattern):
                return found  # type: ignore[no-any-return]
            # a repeated group's capture is re's (PCRE's) to say: re takes the match
    if _costly and pattern in _costly:
        raise RegexTooCostly
    if len(subject) <= SHORT_SUBJECT and not _may_backtrack(pattern):
        return pattern.search(subject)
    if (not hasattr(signal, "setitimer") or threading.current_thread() is not
            threading.main_thread() or signal.getitimer(signal.ITIMER_REAL)[0]):
        raise RegexTooCostly
    previous = signal.signal(signal.SIGALRM, _expired)
    try:
        signal.setitimer(signal.ITIMER_REAL, SEARCH_SECONDS)
        try:
            return pattern.search(subject)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except RegexTooCostly:
        _costly[pattern] = subject
        raise
    finally:
        signal.signal(signal.SIGALRM, previous)


@lru_cache(maxsize=4096)
def translate_pcre(pattern: str, caseless: bool = False) -> tuple[re.Pattern[bytes] | None, str]:
    """Compile an nginx (PCRE2, no UTF) regex for Python, matching bytes.

    Returns ``(pattern, "")``, or ``(None, reason)`` when Python's ``re``
    rejects the translation or could read it differently from PCRE2
    (``\\K``, recursion, ``(*VERB)``, ``\\g``, ``\\h``, ``\\v``, named
    conditions, ``(?x)``...).  Named groups ``(?<n>`` / ``(?'n'``, ``\\Q..\\E``,
    ``\\z``, ``\\Z``, POSIX classes, atomic groups and possessive quantifiers
    are translated.
    """
    placeholder = _TEMPLATE_PLACEHOLDER.search(pattern)
    if placeholder:
        # `${user_name}` is an envsubst placeholder: the file is a template rendered before
        # nginx reads it, so the raw pattern says nothing about the deployed one
        return None, f"template placeholder {placeholder.group()} in the pattern"
    try:
        translated = _translate(pattern, caseless)
    except _Unsupported as error:
        return None, str(error)
    flags = re.IGNORECASE if caseless else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and friends
            compiled = re.compile(to_bytes(translated), flags)
    except (re.error, OverflowError, RecursionError) as error:
        return None, f"Python re rejects it: {error}"
    return compiled, ""
