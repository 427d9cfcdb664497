"""Strings a regex accepts, and a request path that reaches a block.

Two questions security rules ask the model:

- ``samples(regex)``: a few strings the (translated, ``nglint.semantics.pcre``)
  regex matches, one per choice of alternative, built from its parse: each
  quantifier taken its minimum number of times, each class its first
  character.  Every character says where it came from (a literal, an
  unescaped ``.``, or a class), so a rule can tell the fixed part of a host
  name from the parts a pattern leaves open.  Every sample is checked against
  the regex (lookarounds may refuse it) and dropped if it does not match.
- ``request_path(tree, node)``: a URI that nginx routes to the location around
  ``node`` (checked with ``nglint.semantics.locations``), or ``/`` for a
  server-level directive, so a finding can name the request that exposes it.

The walk over the parse uses Python's ``re`` parser (``re._parser``, CPython
3.11+; ``sre_parse`` before), as gixy's ``regexp.py`` does with its own
generator: https://github.com/yandex/gixy/blob/master/gixy/core/regexp.py.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from nglint.semantics.locations import location_info, router_for
from nglint.semantics.pcre import RegexTooCostly, search
from nglint.tree import Node, Tree

try:  # CPython 3.11+
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

LITERAL, ANY, CLASS = "literal", "any", "class"
_MAX_SAMPLES = 8
_NEGATED_CANDIDATES = "abcxyz019-_.:/ \t!~"


class CannotSample(Exception):
    """No string could be built for a part of the pattern (an empty class...)."""


class Sample(NamedTuple):
    """A string the regex matches; ``kinds[i]`` says where ``text[i]`` came from."""

    text: str
    kinds: tuple[str, ...]


def parse(regex: re.Pattern[bytes]) -> Any:
    """The ``re`` parse of a translated pattern (a ``SubPattern``)."""
    return _parser.parse(regex.pattern.decode("latin-1"), regex.flags & ~re.ASCII)


def _class_accepts(items: list[tuple[Any, Any]], char: str) -> bool:
    code = ord(char)
    negate = False
    found = False
    for op, value in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            found = found or value == code
        elif op is _c.RANGE:
            found = found or value[0] <= code <= value[1]
        elif op is _c.CATEGORY:
            name = str(value).lower()
            test = (char.isdigit() if "digit" in name else
                    (char.isalnum() or char == "_") if "word" in name else char.isspace())
            found = found or (test != ("not" in name))
    return found != negate


def _class_char(items: list[tuple[Any, Any]]) -> str:
    for op, value in items:
        if op is _c.NEGATE:
            break
        if op is _c.LITERAL:
            return chr(value)
        if op is _c.RANGE:
            return chr(value[0])
        if op is _c.CATEGORY:
            break
    for char in _NEGATED_CANDIDATES:
        if _class_accepts(items, char):
            return char
    raise CannotSample


def _generate(pattern: Any, choice: int, out: list[tuple[str, str]],
              groups: dict[int, list[tuple[str, str]]], once: bool = False) -> None:
    for op, value in pattern:
        if op is _c.LITERAL:
            out.append((chr(value), LITERAL))
        elif op is _c.NOT_LITERAL:
            out.append(("a" if value != ord("a") else "b", CLASS))
        elif op is _c.ANY:
            out.append((".", ANY))
        elif op is _c.IN:
            out.append((_class_char(value), CLASS))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = value
            for _ in range(min(max(low, 1), high) if once else low):
                _generate(sub, choice, out, groups, once)
        elif op is _c.SUBPATTERN:
            group, _add, _del, sub = value
            start = len(out)
            _generate(sub, choice, out, groups, once)
            if group is not None:
                groups[group] = out[start:]
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            _generate(value, choice, out, groups, once)
        elif op is _c.BRANCH:
            alternatives = value[1]
            _generate(alternatives[min(choice, len(alternatives) - 1)], choice, out, groups,
                      once)
        elif op is _c.GROUPREF:
            out.extend(groups.get(value, []))
        elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero-width: the match check afterwards judges lookarounds
        else:
            raise CannotSample


def _branch_count(pattern: Any) -> int:
    most = 1
    for op, value in pattern:
        if op is _c.BRANCH:
            most = max(most, len(value[1]), *(_branch_count(p) for p in value[1]))
        elif op is _c.SUBPATTERN:
            most = max(most, _branch_count(value[3]))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            most = max(most, _branch_count(value[2]))
    return most


def matches(regex: re.Pattern[bytes], text: str) -> bool | None:
    """Whether ``regex`` finds a match in ``text`` (None: too costly to tell)."""
    try:
        return search(regex, text.encode("latin-1", "replace")) is not None
    except RegexTooCostly:
        return None


def samples(regex: re.Pattern[bytes]) -> list[Sample]:
    """Strings ``regex`` matches: one per alternative index (see the module doc)."""
    try:
        parsed = parse(regex)
    except (re.error, RecursionError, OverflowError):
        return []
    found: list[Sample] = []
    choices = range(min(_branch_count(parsed), _MAX_SAMPLES))
    for choice, once in ((c, o) for c in choices for o in (False, True)):
        out: list[tuple[str, str]] = []
        try:
            _generate(parsed, choice, out, {}, once)
        except (CannotSample, RecursionError):
            continue
        sample = Sample("".join(c for c, _ in out), tuple(k for _, k in out))
        if sample not in found and matches(regex, sample.text):
            found.append(sample)
    return found


def _candidates(location: Node) -> list[str]:
    info = location_info(location)
    if info.modifier in ("", "=", "^~"):
        path = info.path if info.path.startswith("/") else "/" + info.path
        return [path] if info.modifier == "=" else [path, path.rstrip("/") + "/x"]
    if info.is_regex and info.regex is not None:
        texts = [s.text for s in samples(info.regex)]
        return [t if t.startswith("/") else "/" + t for t in texts]
    return []


def request_path(tree: Tree, node: Node) -> str | None:
    """A URI nginx routes to the location around ``node`` (``/`` at server level),
    or None (http level, a named location, or no URI found that reaches it)."""
    location = node if node.directive == "location" and node.is_block else \
        node.enclosing("location")
    server = node.enclosing("server")
    if server is None:
        return None
    if location is None:
        return "/"
    router = router_for(tree, server)
    for uri in _candidates(location):
        found = router.find(uri)
        if found.location is location and not found.unknown:
            return uri
    return None
