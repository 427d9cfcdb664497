"""Which location of a server block serves a (normalized) URI.

Re-implements (never copies) ``src/http/ngx_http_core_module.c``:
``ngx_http_core_find_location`` and ``ngx_http_core_find_static_location``;
the static trees are built in ``src/http/ngx_http.c``
(``ngx_http_init_locations``, ``ngx_http_init_static_location_trees``,
``ngx_http_cmp_locations``, ``ngx_http_join_exact_locations``,
``ngx_http_create_locations_list``, ``ngx_http_create_locations_tree``) and
the modifiers parsed in ``ngx_http_core_location``.  Every behaviour below was
confirmed on a running nginx (``tests/test_routing_nginx.py``).  What that code does:

* ``=`` equal to the URI ends the search (``NGX_OK``).
* Otherwise the longest prefix (plain or ``^~``) is remembered and its
  nested locations are searched first, recursively (``NGX_AGAIN``).
* Then, unless that prefix is ``^~``, this level's regexes are tried in
  config order; the first match wins and its own nested regexes are searched.
  Only the ``^~`` of the prefix found *at this level* counts: a nested ``^~``
  does not stop the outer level's regexes.
* Prefix and exact locations nested in a regex location are never matched:
  static trees are only built below static locations.
* Auto redirect (``auto_redirect``, ``NGX_DONE``): when no location equals the
  URI and a location named URI + "/" uses ``proxy_pass``, ``fastcgi_pass``,
  ``uwsgi_pass``, ``scgi_pass``, ``memcached_pass`` or ``grpc_pass``, nginx
  answers 301 to URI + "/" straight from the find-config phase: regexes are
  not tried and that location's handlers never run, but its configuration is
  the one in force (its ``add_header`` is sent with the 301).  ``find``
  reports it as ``Match(location=that location, redirect=True)``; when an
  ``=`` and a prefix location share the name, nginx uses the ``=`` one.
* Prefixes compare bytes with ``ngx_filename_cmp``: case-sensitive on
  Linux (case-insensitive only on case-insensitive file systems).
* Not modelled, answered as unknown: a block holding a prefix or ``=``
  location longer than 255 bytes.  The tree node keeps the length in a
  ``u_char`` (``ngx_http_location_tree_node_t``), so nginx compares only the
  length modulo 256 bytes (a 301-byte name matches any URI sharing its first
  45 bytes).

Documentation: https://nginx.org/en/docs/http/ngx_http_core_module.html#location
"""

from __future__ import annotations

import re
import weakref
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from nglint.semantics.pcre import RegexTooCostly, translate_pcre
from nglint.semantics.pcre import search as regex_search
from nglint.semantics.tokens import nginx_token
from nglint.semantics.uri import to_bytes
from nglint.tree import Node, Tree

__all__ = ["AUTO_REDIRECT_HANDLERS", "LocationInfo", "Match", "ServerRouter", "literal_prefix",
           "location_info", "router_for"]

# handlers whose presence makes a prefix ending in "/" redirect the slash-less URI
# (each sets clcf->auto_redirect in its directive handler)
AUTO_REDIRECT_HANDLERS = frozenset(
    {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass", "grpc_pass"})


# ---------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------

@dataclass(slots=True, unsafe_hash=True)
class LocationInfo:
    """A ``location`` directive as nginx reads it.

    Read-only by convention, not ``frozen``: a frozen dataclass's ``__init__`` costs
    twice a plain one's, and rules ask this of every location many times."""

    node: Node
    modifier: str  # '', '=', '^~', '~', '~*', '@' (or what was written, when invalid)
    path: str  # the prefix, exact URI, regex source or @name (nginx-unescaped)
    regex: re.Pattern[bytes] | None  # compiled over bytes, like PCRE without UTF
    supported: bool  # False: an invalid location, or a regex Python cannot evaluate
    reason: str = ""  # why not supported

    @property
    def is_regex(self) -> bool:
        return self.modifier in ("~", "~*")

    def matches(self, uri: str) -> bool | None:
        """Whether this regex location matches a normalized URI (None: unknown)."""
        if self.regex is None:
            return None
        try:
            return regex_search(self.regex, to_bytes(uri)) is not None
        except RegexTooCostly:
            return None


# regex metacharacters: where the literal part of a pattern ends (literal_prefix)
REGEX_META = set(".[](){}*+?|^$\\")


def _top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


def literal_prefix(pattern: str) -> str | None:
    """The literal text every match of an anchored regex starts with, or None."""
    if not pattern.startswith("^") or _top_level_alternation(pattern):
        return None
    out: list[str] = []
    index = 1
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and not pattern[index + 1].isalnum():
            out.append(pattern[index + 1])
            index += 2
        elif char in REGEX_META:
            if char in "*?{" and out:
                out.pop()  # the last literal is optional
            break
        else:
            out.append(char)
            index += 1
    return "".join(out)


def location_info(node: Node) -> LocationInfo:
    """Modifier and path of a location, glued (``=/x``, ``~*\\.png$``) or not."""
    return LocationInfo(node, *_location_parts(tuple(node.args)))


_Parts = tuple[str, str, "re.Pattern[bytes] | None", bool, str]


@lru_cache(maxsize=8192)
def _location_parts(written: tuple[str, ...]) -> _Parts:
    """What ``location_info`` says of a location's arguments (asked by several rules)."""
    args = [nginx_token(arg) for arg in written]
    if len(args) == 2:
        modifier, path = args
        if modifier not in ("=", "^~", "~", "~*"):
            return modifier, path, None, False, f'invalid location modifier "{modifier}"'
    elif len(args) == 1:
        name = args[0]
        # ngx_http_core_location: a modifier may be glued to the name
        if name.startswith("="):
            modifier, path = "=", name[1:]
        elif name.startswith("^~"):
            modifier, path = "^~", name[2:]
        elif name.startswith("~*"):
            modifier, path = "~*", name[2:]
        elif name.startswith("~"):
            modifier, path = "~", name[1:]
        elif name.startswith("@"):
            modifier, path = "@", name
        else:
            modifier, path = "", name
    else:
        return "", " ".join(args), None, False, \
            'invalid number of arguments in "location" directive'
    if modifier in ("~", "~*"):
        compiled, reason = translate_pcre(path, modifier == "~*")
        return modifier, path, compiled, compiled is not None, reason
    return modifier, path, None, True, ""


class Match(NamedTuple):
    """The location serving a URI in one server."""

    location: Node | None  # None: no location matches (the server's own config serves)
    unknown: bool = False  # a regex nglint cannot evaluate could have decided
    redirect: bool = False  # nginx answers 301 to URI + "/" (auto redirect), see module doc


@dataclass
class _Level:
    """The locations directly inside a server or a location, indexed."""

    exact: dict[bytes, Node] = field(default_factory=dict)
    prefix: dict[bytes, tuple[Node, bool]] = field(default_factory=dict)  # name -> (node, ^~)
    lengths: list[int] = field(default_factory=list)  # distinct prefix lengths, ascending
    redirect: dict[bytes, Node] = field(default_factory=dict)  # name ending in '/' -> node
    regexes: list[tuple[Node, re.Pattern[bytes] | None]] = field(default_factory=list)
    too_long: bool = False  # a name longer than 255 bytes: nginx's tree garbles it


def _child_locations(block: Node) -> Iterator[Node]:
    # "location" is not allowed inside "if" or "limit_except": only direct children count
    return (child for child in block.directives("location") if child.is_block)


def _auto_redirects(node: Node) -> bool:
    return any(child.directive in AUTO_REDIRECT_HANDLERS for child in node.directives())


class _UnknownMatch(Exception):
    pass


_OK, _DONE, _AGAIN, _DECLINED = range(4)


@dataclass
class _Search:
    """A location search's result: the location found (None: none) and whether nginx
    answers with its auto redirect to URI + "/" (see the module docstring)."""

    location: Node | None = None
    redirect: bool = False


class ServerRouter:
    """Location lookup for one server block, indexed once.

    Each level (the server, and every location holding locations) keeps its
    ``=`` locations and its prefix locations in dicts keyed by name, plus the
    sorted set of prefix lengths: the longest prefix of a URI is found with at
    most one dict probe per distinct prefix length not longer than the URI,
    whatever the number of locations.  Regexes are tried in order, as nginx
    does.  ``probes`` counts the candidates examined (dict probes and regex
    tests), so tests can check that the work does not grow with the config.
    """

    def __init__(self, server: Node) -> None:
        self.server = server
        self.probes = 0
        self._levels: dict[int, _Level] = {}
        self._infos: dict[int, LocationInfo] = {}
        self._build(server, static=True)

    def _build(self, block: Node, static: bool) -> _Level:
        level = _Level()
        self._levels[id(block)] = level
        for node in _child_locations(block):
            info = location_info(node)
            self._infos[id(node)] = info
            if info.is_regex:
                level.regexes.append((node, info.regex))  # regex None: unsupported
                # a regex location never gets a static tree: its nested prefix
                # and "=" locations are dead (ngx_http_init_static_location_trees)
                self._build(node, static=False)
            elif not info.supported or info.modifier == "@" or not static:
                continue  # refused by nginx, named, or dead (see above)
            elif info.modifier == "=":
                # a duplicate is refused by nginx ("duplicate location"): keep the first
                level.exact.setdefault(to_bytes(info.path), node)
            else:
                level.prefix.setdefault(to_bytes(info.path), (node, info.modifier == "^~"))
        for node, _noregex in level.prefix.values():
            self._build(node, static=True)
        level.lengths = sorted({len(name) for name in level.prefix})
        # ngx_http_location_tree_node_t stores a name's length in a u_char: a name
        # (part) longer than 255 bytes is compared on its length modulo 256 only
        level.too_long = any(len(name) > 255 for name in (*level.exact, *level.prefix))
        # ngx_http_join_exact_locations makes one tree node of "= /x/" and "/x/": it
        # redirects when either has a *_pass, and reports the "=" one
        for name in {*level.exact, *level.prefix}:
            both = [node for node in (level.exact.get(name), level.prefix.get(name, (None,))[0])
                    if node is not None]
            if name.endswith(b"/") and any(_auto_redirects(node) for node in both):
                level.redirect[name] = both[0]
        return level

    def info(self, node: Node) -> LocationInfo:
        return self._infos.get(id(node)) or location_info(node)

    def find(self, uri: str) -> Match:
        """The location serving an already normalized URI (see ``normalize_uri``)."""
        search = _Search()
        try:
            self._find(self._levels[id(self.server)], to_bytes(uri), search)
        except _UnknownMatch:
            return Match(None, unknown=True)
        return Match(search.location, redirect=search.redirect)

    def _static(self, level: _Level, uri: bytes, search: _Search) -> tuple[int, bool]:
        """ngx_http_core_find_static_location: (result, whether the prefix is ^~)."""
        if level.too_long:
            raise _UnknownMatch  # not worth emulating a truncated length: abstain
        self.probes += 1
        exact = level.exact.get(uri)
        if exact is not None:
            search.location = exact
            return _OK, False
        found: tuple[Node, bool] | None = None
        found_length = -1
        # the longest prefix: one probe per distinct prefix length, longest first
        for index in range(bisect_right(level.lengths, len(uri)) - 1, -1, -1):
            self.probes += 1
            found_length = level.lengths[index]
            found = level.prefix.get(uri[:found_length])
            if found is not None:
                break
        if found is not None and found_length == len(uri):
            search.location = found[0]
            return _AGAIN, found[1]
        # nginx's tree walk meets the node named uri + "/" exactly when no location
        # equals the URI; it sits below the longest prefix, where the walk ends
        if level.redirect:
            self.probes += 1
            target = level.redirect.get(uri + b"/")
            if target is not None:
                search.location = target
                search.redirect = True
                return _DONE, False
        if found is not None:
            search.location = found[0]
            return _AGAIN, found[1]
        return _DECLINED, False

    def _find(self, level: _Level, uri: bytes, search: _Search) -> int:
        """ngx_http_core_find_location, one level (server or location) at a time."""
        rc, noregex = self._static(level, uri, search)
        if rc == _AGAIN:
            # the nested locations of the longest prefix come before this level's regexes
            assert search.location is not None
            rc = self._find(self._levels[id(search.location)], uri, search)
        if rc in (_OK, _DONE) or noregex:
            return rc
        for node, regex in level.regexes:
            self.probes += 1
            if regex is None:
                raise _UnknownMatch
            try:
                found = regex_search(regex, uri)
            except RegexTooCostly:
                raise _UnknownMatch from None
            if found:
                search.location = node
                self._find(self._levels[id(node)], uri, search)
                return _OK
        return rc


# routers per tree, dropped with the tree: Tree (an eq dataclass) is unhashable and
# Node has __slots__ without __weakref__, so neither fits a WeakKeyDictionary; a
# weak reference with a callback keyed by id(tree) gives the same lifetime
_ROUTERS: dict[int, tuple[weakref.ref[Tree], dict[int, ServerRouter]]] = {}


def router_for(tree: Tree, server: Node) -> ServerRouter:
    """The cached ``ServerRouter`` of a server of ``tree``."""
    key = id(tree)
    entry = _ROUTERS.get(key)
    if entry is None or entry[0]() is not tree:
        def forget(_ref: weakref.ref[Tree]) -> None:  # the tree is gone: so is its entry
            _ROUTERS.pop(key, None)

        entry = (weakref.ref(tree, forget), {})
        _ROUTERS[key] = entry
    routers = entry[1]
    router = routers.get(id(server))
    if router is None or router.server is not server:
        router = routers[id(server)] = ServerRouter(server)
    return router
