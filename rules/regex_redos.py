"""A location or map regex with catastrophic backtracking on some request (ReDoS).

## What it does
Looks at every `location ~`/`~*` regex and every regex key of a `map` for the
two shapes that make a backtracking engine exponential (the "star height"
heuristic of safe-regex and the ambiguity classes of Weideman et al.):

- a repeated group whose body repeats too and can match one string in
  several ways: `(a+)+`, `(\\w+/?)+` (the `/?` may be skipped, so the `\\w+`
  runs can be split anywhere); `(\\w+/)+` is not reported, its `/` separates
  the runs;
- a repeated alternation whose alternatives can start with the same
  character: `(\\w|\\d)+`, `(.|\\s)*`.

Each candidate is then confirmed: nglint builds a request (the regex's literal
start, the repeated part 24 times, then a character that makes the match fail)
and reports the regex only if Python's backtracking `re` takes more than 0.1 s
on it.  The finding names that request.

## Why is this bad?
nginx matches with PCRE2 (with JIT when built so), a backtracking engine.
PCRE2's match limit (10,000,000 by default) stops the search, so a worker
does not hang: it burns CPU up to the limit on every such request and nginx
logs `pcre2_match() failed: -47` and answers 500 (a location regex) or treats
the map as not matching.  A few requests per second keep workers busy.

## Example
```nginx
location ~ ^/files/(\\w+/?)+\\.png$ {
    root /srv;
}
```

## Use instead
```nginx
location ~ ^/files/(\\w+/)*\\w+\\.png$ {
    root /srv;
}
```

## Sources
- OWASP, "Regular expression Denial of Service - ReDoS":
  https://owasp.org/www-community/attacks/Regular_expression_Denial_of_Service_-_ReDoS
- safe-regex (star height > 1): https://github.com/davisjam/safe-regex
- N. Weideman et al., "Analyzing Matching Time Behavior of Backtracking
  Regular Expression Matchers by Using Ambiguity of NFA" (CIAA 2016)
- PCRE2 match limit: https://www.pcre.org/current/doc/html/pcre2api.html#SEC20;
  nginx `ngx_regex_exec_array`/`ngx_http_regex_exec` (`src/core/ngx_regex.c`,
  `src/http/ngx_http_variables.c`): a failure other than "no match" is an error
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from nglint.engine import Context, Report
from nglint.semantics.locations import location_info
from nglint.semantics.pcre import translate_pcre
from nglint.semantics.samples import CannotSample, parse
from nglint.semantics.tokens import nginx_token
from nglint.semantics.variables import map_regexes

try:  # CPython 3.11+
    from re import _constants as _c  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]

CODE = "NG223"
NAME = "regex-redos"
SEVERITY = "warning"
FIXABLE = False
SECURITY_SEVERITY = 5.3

PUMPS = 30
BUDGET = 0.1  # seconds of Python re on the built request
TOTAL = 0.3  # seconds of tries per regex, whatever the number of requests built
_REPEATS = tuple(op for op in (_c.MAX_REPEAT, _c.MIN_REPEAT) if op is not None)
_FAILERS = ("!", "\x00", " ", "/!", "~")


class _Slow(Exception):
    pass


def _first_chars(items: Any) -> set[int] | None:
    """Bytes a sequence can start with (None: it may match empty / unknown)."""
    for op, value in items:
        if op is _c.AT:
            continue
        if op is _c.LITERAL:
            return {value}
        if op is _c.ANY:
            return set(range(256)) - {10}
        if op is _c.IN:
            from nglint.semantics.samples import _class_accepts
            return {c for c in range(256) if _class_accepts(value, chr(c))}
        if op is _c.SUBPATTERN:
            return _first_chars(value[3])
        if op in _REPEATS:
            return _first_chars(value[2]) if value[0] >= 1 else None
        if op is _c.BRANCH:
            sets = [_first_chars(b) for b in value[1]]
            return None if any(s is None for s in sets) else set().union(*sets)  # type: ignore[arg-type]
        return None
    return None


def _text(items: Any) -> str:
    """One string a sequence matches (each repeat once, first alternative)."""
    out = []
    for op, value in items:
        if op is _c.LITERAL:
            out.append(chr(value))
        elif op is _c.ANY:
            out.append("a")
        elif op is _c.IN:
            from nglint.semantics.samples import _class_char
            out.append(_class_char(value))
        elif op is _c.SUBPATTERN:
            out.append(_text(value[3]))
        elif op in _REPEATS:
            out.append(_text(value[2]) * value[0])
        elif op is _c.BRANCH:
            out.append(_text(value[1][0]))
    return "".join(out)


def _candidates(items: Any, tail: str = "") -> Iterator[tuple[str, str]]:
    """(pump, tail) for the repeats with an ambiguous body (see the module doc): the
    pump repeated, then the text the rest of the pattern matches (PCRE2 fails at once
    on a subject lacking a literal the pattern requires, so the attack keeps them)."""
    items = list(items)
    for index, (op, value) in enumerate(items):
        after = _text(items[index + 1:]) + tail
        if op in _REPEATS:
            _low, high, body = value
            pump = _ambiguous(body) if high > 1 else None
            if pump:
                yield pump, after
            yield from _candidates(body, after)
        elif op is _c.SUBPATTERN:
            yield from _candidates(value[3], after)
        elif op is _c.BRANCH:
            for branch in value[1]:
                yield from _candidates(branch, after)


def _unwrap(body: Any) -> list[tuple[Any, Any]]:
    items = list(body)
    while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        items = list(items[0][1][3])
    return items


def _pick(chars: set[int]) -> str:
    printable = sorted(c for c in chars if 32 <= c < 127)
    return chr(printable[0] if printable else min(chars))


def _ambiguous(body: Any) -> str | None:
    """A string the repeated ``body`` can match in several ways, or None."""
    items = _unwrap(body)
    inner = [i for i, (op, value) in enumerate(items) if op in _REPEATS and value[1] > 1]
    for index in inner:
        chars = _first_chars(items[index][1][2]) or set()
        rest = [item for i, item in enumerate(items) if i != index]
        # another element the runs must cross and cannot consume: the runs are split there
        separated = any(not (op in _REPEATS and value[0] == 0)
                        and (_first_chars([(op, value)]) or set()) - chars
                        for op, value in rest)
        if not separated:
            return _text(items) or _text(items[index][1][2]) or None
    if len(items) == 1 and items[0][0] is _c.BRANCH:
        sets = [_first_chars(b) for b in items[0][1][1]]
        for i, first in enumerate(sets):
            for other in sets[i + 1:]:
                if first is not None and other is not None and first & other:
                    return _pick(first & other)
    return None


def _prefix(items: Any) -> str:
    out = []
    for op, value in items:
        if op is _c.AT:
            continue
        if op is not _c.LITERAL:
            break
        out.append(chr(value))
    return "".join(out)


def _expired(signum: int, frame: object) -> None:
    raise _Slow


def _slow(regex: re.Pattern[bytes], subject: bytes) -> bool:
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "setitimer") or signal.getitimer(signal.ITIMER_REAL)[0]:
        return False  # no timer here: say nothing rather than hang
    previous = signal.signal(signal.SIGALRM, _expired)
    try:
        signal.setitimer(signal.ITIMER_REAL, BUDGET)
        try:
            regex.search(subject)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Slow:
        return True
    finally:
        signal.signal(signal.SIGALRM, previous)
    return False


_memo: dict[tuple[str, bool], str | None] = {}


def slow_subject(pattern: str, caseless: bool) -> str | None:
    """A subject on which the regex backtracks past the budget, or None."""
    key = (pattern, caseless)
    if key in _memo:
        return _memo[key]
    found = None
    regex, _reason = translate_pcre(pattern, caseless)
    if regex is not None:
        try:
            parsed = parse(regex)
            pumps = list(dict.fromkeys(_candidates(parsed)))
            prefix = _prefix(parsed)
        except (re.error, RecursionError, CannotSample):
            pumps, prefix = [], ""
        started = time.monotonic()
        for pump, tail in pumps[:4]:
            if not pump or time.monotonic() - started > TOTAL:
                continue
            for failer in _FAILERS:
                for subject in (prefix + pump * PUMPS + failer + tail,
                                prefix + pump * PUMPS + tail + failer):
                    if _slow(regex, subject.encode("latin-1", "replace")):
                        found = subject
                        break
                if found:
                    break
            if found:
                break
    _memo[key] = found
    return found


def _shown(subject: str) -> str:
    return subject.encode("unicode_escape").decode("ascii")


def check(context: Context) -> Iterator[Report]:
    for node in context.tree.blocks("location"):
        info = location_info(node)
        if not info.is_regex or info.regex is None:
            continue
        subject = slow_subject(info.path, info.modifier == "~*")
        if subject is not None:
            yield Report(
                f"the location regex {info.path!r} backtracks catastrophically: a request "
                f"to {_shown(subject)!r} makes PCRE2 run to its match limit (CPU burn on "
                "every such request, then a 500 and `pcre2_match() failed` in the error "
                "log)", node=node, headline=f"regex {info.path!r} is open to ReDoS")
    for key in map_regexes(context.tree):
        subject = slow_subject(key.pattern, key.caseless)
        if subject is not None:
            yield Report(
                f"the map key {nginx_token(key.entry.directive)!r} on {key.source} "
                f"backtracks catastrophically on {_shown(subject)!r}: PCRE2 runs to its "
                "match limit on every such value (CPU burn; nginx logs `pcre2_match() "
                "failed` and the key does not match)", node=key.entry,
                headline=f"map regex {key.pattern!r} is open to ReDoS")
