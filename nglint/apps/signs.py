"""Where a location's texts show an app: the signs of every profile searched in a
location's path, its proxy target (with the servers of the upstream it names), the
comments about it and its server's own settings, and the ``# nglint: app=`` marker.

``nglint.apps.view`` scores a location with what ``hits`` finds here.  One RE2 set
names the signs a text may hold and Python's ``re`` confirms them (``_search_hits``;
``tests/test_app_profiles.py`` compares it hit for hit with Python alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from nglint.apps import by_name, profiles
from nglint.apps.profile import SERVER, Profile, Sign
from nglint.semantics import linear
from nglint.semantics.upstream import split_target
from nglint.tree import COMMENT as COMMENT_NODE
from nglint.tree import Node, Tree

MARKER = re.compile(r"nglint:\s*app\s*=\s*([A-Za-z0-9_.-]+)(?:\s+base\s*=\s*(\S+))?",
                    re.IGNORECASE)


def hits(kind: str, text: str) -> tuple[tuple[int, int, str], ...]:
    """(profile index, weight, why) of every sign of ``kind`` found in ``text``, in
    profile order.  Cached (a large estate repeats the same paths, targets and
    comments) but for a server's own settings, asked once per server (``_find``)."""
    if kind != SERVER:
        return _cached_hits(kind, text)
    return _search_hits(kind, text)


@lru_cache(maxsize=4096)
def _cached_hits(kind: str, text: str) -> tuple[tuple[int, int, str], ...]:
    return _search_hits(kind, text)


def _search_hits(kind: str, text: str) -> tuple[tuple[int, int, str], ...]:
    if not text:
        return ()
    if text.isascii() and "\n" not in text:  # RE2's $, \b and \w are Python's there
        compiled = _sign_set(kind)
        if compiled is not None:
            found, signs = compiled
            maybe = found.Match(text)
            if not maybe:
                return ()  # no sign can match: the usual answer, from RE2 in microseconds
            # Python's re confirms each candidate (the set's patterns lost their
            # lookarounds); indexes ascend in profile order, then each profile's order
            return tuple((index, sign.weight, sign.why)
                         for index, sign in (signs[i] for i in sorted(maybe))
                         if sign.regex.search(text))
    return _python_hits(kind, text)


def _python_hits(kind: str, text: str) -> tuple[tuple[int, int, str], ...]:
    """``_search_hits`` with Python's ``re`` alone (a text RE2 would read otherwise)."""
    if not _any_sign(kind, None).search(text):
        return ()
    # one app's signs are a short alternation: a search rules out the others
    return tuple((index, sign.weight, sign.why) for index, profile in enumerate(profiles())
                 if _any_sign(kind, index).search(text)
                 for sign in profile.signs if sign.kind == kind and sign.regex.search(text))


@lru_cache(maxsize=16)
def _sign_set(kind: str) -> tuple[Any, tuple[tuple[int, Sign], ...]] | None:
    """Every sign of ``kind`` in one RE2 set, each without its lookarounds (a pattern
    that matches wherever the sign does: a lookaround only narrows a match), and
    (profile index, sign) for each of the set's indexes.  One pass over a text names
    the signs that may be in it; on an ASCII text without a newline RE2's ``$``, ``\\b``,
    ``\\w`` and case folding are Python's.  Python's ``re`` takes some 40 us to find which
    app's signs a proxy target holds, RE2 a few.  None when there is no sign of
    ``kind`` or RE2 refuses one (then ``_python_hits`` answers)."""
    import re2  # google-re2, as nglint.semantics.linear

    signs = tuple((index, sign) for index, profile in enumerate(profiles())
                  for sign in profile.signs if sign.kind == kind)
    if not signs:
        return None
    found = re2.Set.SearchSet()
    try:
        for _index, sign in signs:
            found.Add("(?i)" + linear.without_lookarounds(sign.pattern))
        found.Compile()
    except re2.error:
        return None
    return found, signs


@lru_cache(maxsize=256)
def _any_sign(kind: str, index: int | None) -> re.Pattern[str]:
    """One pattern for every sign of ``kind`` (of profile ``index``, or of all): most
    texts hold none, or only one app's, and one search tells so."""
    chosen = profiles() if index is None else (profiles()[index],)
    patterns = [f"(?:{sign.pattern})" for profile in chosen for sign in profile.signs
                if sign.kind == kind]
    return re.compile("|".join(patterns) or "(?!)", re.IGNORECASE)


def comments_about(node: Node) -> Iterator[str]:
    for comment in node.comments_before():
        yield comment.comment or ""
    for child in node.children or ():
        if not child.is_comment:
            break
        yield child.comment or ""
    after = node.next_sibling()
    if after is not None and after.is_comment and after.line == node.line:
        yield after.comment or ""


def marker(node: Node) -> tuple[Profile | None, str | None, str | None]:
    """``# nglint: app=NAME [base=/x/]`` on, above or atop a block: (profile, base, name)."""
    for text in comments_about(node):
        found = MARKER.search(text)
        if found:
            base = found.group(2)
            if base is not None and not base.endswith("/"):
                base += "/"
            return by_name(found.group(1)), base, found.group(1)
    return None, None, None


def upstream_index(tree: Tree) -> dict[str, str]:
    """Upstream name -> the text of its servers (addresses and ports), built once."""
    index: dict[str, str] = {}
    for node in tree.blocks("upstream"):
        if node.args:
            text = " ".join(" ".join(s.args) for s in node.directives("server"))
            index.setdefault(node.args[0], text)
    return index


def target_text(upstreams: dict[str, str], target: str) -> str:
    """A proxy target with the servers of the upstream it names (ports, names count)."""
    parts = split_target(target)
    name = parts[1].split(":")[0] if parts is not None else ""
    return f"{target} {upstreams[name]}" if name in upstreams else target


def server_texts(server: Node) -> tuple[list[Node], str, str]:
    """One walk of a server: its locations with a block (nested ones too), the text
    of its own settings (not of its locations), and its comments."""
    found: list[Node] = []
    texts: list[str] = []
    comments = list(comments_about(server))
    _own_text(server, found, texts, comments)
    return found, " ".join(texts), " ".join(comments)


# module-level, not closures: a recursive closure is a reference cycle (the function,
# its cell), which the CLI, running without the cyclic collector, would keep per server


def _own_text(block: Node, found: list[Node], texts: list[str], comments: list[str]) -> None:
    for child in block.children or ():
        if child.directive == "location":
            if child.children is not None:
                found.append(child)
                _nested_locations(child, found)
        elif child.directive == COMMENT_NODE:
            comments.append(child.comment or "")
        else:
            texts.append(" ".join(child.args))
            if child.children:
                _own_text(child, found, texts, comments)


def _nested_locations(block: Node, found: list[Node]) -> None:
    for child in block.children or ():
        if child.directive == "location" and child.children is not None:
            found.append(child)
            _nested_locations(child, found)
        elif child.children:
            _nested_locations(child, found)  # `if`, `limit_except`: no locations, but cheap
