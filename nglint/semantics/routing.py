"""Which server and which location nginx picks for a request.

Everything here re-implements (never copies) nginx 1.22's own code paths and
was checked against a running nginx 1.22.1 (``tests/test_routing_nginx.py``):

URI normalization -- ``src/http/ngx_http_parse.c``:
  ``ngx_http_parse_request_line`` (control characters, space and DEL in the
  request target are a 400; '?' starts the arguments, '#' ends the path) and
  ``ngx_http_parse_complex_uri`` (the ``sw_usual / sw_slash / sw_dot /
  sw_dot_dot / sw_quoted / sw_quoted_second`` state machine).  A decoded
  ``%XX`` byte is fed back into the state it was read in, so ``%2F`` is a real
  slash (merged, and ``%2E%2E`` is a real ``..``); decoded ``%``, ``#`` and
  ``?`` are kept as plain characters; ``%00``, a bad or cut escape, and ``..``
  above the root are a 400.

Location selection -- ``src/http/ngx_http_core_module.c``:
  ``ngx_http_core_find_location`` and ``ngx_http_core_find_static_location``;
  the static trees are built in ``src/http/ngx_http.c``
  (``ngx_http_init_locations``, ``ngx_http_init_static_location_trees``,
  ``ngx_http_cmp_locations``, ``ngx_http_join_exact_locations``,
  ``ngx_http_create_locations_list``, ``ngx_http_create_locations_tree``) and
  the modifiers parsed in ``ngx_http_core_location``.  What that code does:

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

Server selection -- ``src/http/ngx_http.c`` (``ngx_http_add_listen``,
  ``ngx_http_add_addresses``, ``ngx_http_server_names``),
  ``src/http/ngx_http_request.c`` (``ngx_http_validate_host``,
  ``ngx_http_find_virtual_server``), ``ngx_http_core_server_name`` and
  ``ngx_http_core_merge_srv_conf`` (no ``listen`` means ``*:80`` when the
  master runs as root, ``*:8000`` otherwise; this model assumes 80).

Regexes: nginx compiles location regexes with PCRE2 and no UTF mode
  (``src/core/ngx_regex.c``, ``ngx_regex_compile``), so they match bytes with
  ASCII-only classes and case folding; ``translate_pcre`` turns them into
  Python byte patterns and refuses what Python would read differently.  nginx
  unescapes ``\\\\ \\" \\' \\t \\r \\n`` in every token before the regex compiler
  sees it (``ngx_conf_read_token`` in ``src/core/ngx_conf_file.c``).

Source read at https://github.com/nginx/nginx (and a 1.18 mirror for
``ngx_http.c``); every behaviour above was confirmed on the 1.22.1 binary.
PCRE2 syntax: https://www.pcre.org/current/doc/html/pcre2syntax.html.
Documentation:
  https://nginx.org/en/docs/http/ngx_http_core_module.html#location
  https://nginx.org/en/docs/http/request_processing.html
  https://nginx.org/en/docs/http/server_names.html
  https://nginx.org/en/docs/http/ngx_http_core_module.html#merge_slashes

Strings: a URI here is text decoded from its bytes as UTF-8 with
``surrogateescape``, the way nglint decodes configuration files, so location
names and URIs compare as the bytes nginx compares.
"""

from __future__ import annotations

import ipaddress
import re
import warnings
import weakref
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from nglint.tree import Node, Tree

__all__ = [
    "Listen",
    "LocationInfo",
    "Match",
    "ServerRouter",
    "http_servers",
    "location_info",
    "nginx_token",
    "normalize_uri",
    "parse_listen",
    "route",
    "router_for",
    "select_servers",
    "translate_pcre",
]

# handlers whose presence makes a prefix ending in "/" redirect the slash-less URI
# (each sets clcf->auto_redirect in its directive handler)
AUTO_REDIRECT_HANDLERS = frozenset(
    {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass", "grpc_pass"})


def _to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def nginx_token(arg: str) -> str:
    """An argument as nginx's tokenizer hands it to directives.

    ``ngx_conf_read_token`` turns ``\\\\``, ``\\"`` and ``\\'`` into the bare
    character and ``\\t \\r \\n`` into control characters, in quoted and bare
    tokens alike; crossplane keeps them (it only unescapes the enclosing quote).
    So ``location ~ \\\\.php$`` gives PCRE ``\\.php$``.
    """
    if "\\" not in arg:
        return arg
    out: list[str] = []
    i = 0
    while i < len(arg):
        char = arg[i]
        if char == "\\" and i + 1 < len(arg):
            nxt = arg[i + 1]
            if nxt in "\"'\\":
                out.append(nxt)
                i += 2
                continue
            if nxt in "trn":
                out.append({"t": "\t", "r": "\r", "n": "\n"}[nxt])
                i += 2
                continue
        out.append(char)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------
# URI normalization (ngx_http_parse_request_line + ngx_http_parse_complex_uri)
# ---------------------------------------------------------------------------

_USUAL, _SLASH, _DOT, _DOT_DOT, _QUOTED, _QUOTED_SECOND = range(6)
_SLASH_B, _DOT_B, _PERCENT_B, _QUESTION_B, _HASH_B = b"/.%?#"
# a byte that is never part of the URI: what the C loop reads after the last one
_END = -1
_ABSOLUTE_FORM = re.compile(
    rb"[A-Za-z][A-Za-z0-9+.-]*://"
    rb"(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]*\]|[A-Za-z0-9.-]*)(?::[0-9]*)?")


def _hex_value(byte: int) -> int | None:
    if 0x30 <= byte <= 0x39:
        return byte - 0x30
    lower = byte | 0x20
    if 0x61 <= lower <= 0x66:
        return lower - 0x61 + 10
    return None


def _back_to_parent(out: bytearray) -> bool:
    """Drop the last segment before a '..' as nginx does (``u -= 4`` loop)."""
    pos = len(out) - 4
    while True:
        if pos < 0:
            return False  # '..' above the root: 400
        if out[pos] == _SLASH_B:
            del out[pos + 1:]
            return True
        pos -= 1


def _parse_complex(path: bytes, merge_slashes: bool) -> bytes | None:
    out = bytearray()
    state = quoted_state = _USUAL
    decoded = 0
    i = 1
    ch = path[0]
    while i <= len(path):
        advance = True
        if state in (_USUAL, _SLASH, _DOT, _DOT_DOT):
            if ch in (_QUESTION_B, _HASH_B):  # arguments or fragment: the path ends
                if state == _DOT:
                    del out[-1:]
                elif state == _DOT_DOT and not _back_to_parent(out):
                    return None
                return bytes(out)
            if ch == _PERCENT_B:
                quoted_state, state = state, _QUOTED
            elif ch == _SLASH_B:
                if state == _SLASH:
                    if not merge_slashes:
                        out.append(ch)
                elif state == _DOT:
                    del out[-1:]  # "/./" -> "/"
                elif state == _DOT_DOT:
                    if not _back_to_parent(out):
                        return None
                else:
                    out.append(ch)
                state = _SLASH
            elif ch == _DOT_B and state == _SLASH:
                out.append(ch)
                state = _DOT
            elif ch == _DOT_B and state == _DOT:
                out.append(ch)
                state = _DOT_DOT
            else:
                out.append(ch)
                state = _USUAL
        elif state == _QUOTED:
            value = _hex_value(ch)
            if value is None:
                return None
            decoded = value
            state = _QUOTED_SECOND
        else:  # _QUOTED_SECOND
            value = _hex_value(ch)
            if value is None:
                return None
            ch = (decoded << 4) + value
            if ch == 0:
                return None
            if ch in (_PERCENT_B, _HASH_B, _QUESTION_B):
                # kept as data: a decoded '%', '#' or '?' is not syntax
                out.append(ch)
                state = _USUAL
            else:
                # any other decoded byte is read again in the state the escape
                # started in: "%2F" is a slash, "%2E%2E" a real ".."
                state = quoted_state
                advance = False
        if advance:
            ch = path[i] if i < len(path) else _END
            i += 1
    if state in (_QUOTED, _QUOTED_SECOND):
        return None
    if state == _DOT:
        del out[-1:]
    elif state == _DOT_DOT and not _back_to_parent(out):
        return None
    return bytes(out)


@lru_cache(maxsize=4096)
def normalize_uri(raw: str, merge_slashes: bool = True) -> str | None:
    """The path nginx matches locations against, or None when nginx answers 400.

    ``raw`` is the request target as sent (``/a/../b%20c?x=1``; the absolute
    form ``http://host/path`` is accepted too).  The query string and any
    fragment are dropped, ``%XX`` is decoded, ``.`` and ``..`` are resolved and,
    with ``merge_slashes`` (nginx's default), runs of slashes become one.
    """
    data = _to_bytes(raw)
    # nginx 1.21.1+ refuses control characters, space and DEL in the request line
    if not data or any(byte <= 0x20 or byte == 0x7F for byte in data):
        return None
    if data[0] != _SLASH_B:
        absolute = _ABSOLUTE_FORM.match(data)
        if absolute is None:
            return None
        data = data[absolute.end():] or b"/"
        if data[0] != _SLASH_B:
            return None
    path = _parse_complex(data, merge_slashes)
    return None if path is None else _from_bytes(path)


# ---------------------------------------------------------------------------
# PCRE2 -> Python re
# ---------------------------------------------------------------------------

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


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    class_start = 0  # index just after '[' or '[^' (where a literal ']' may stand)
    while i < n:
        char = pattern[i]
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
        if char == "(" and pattern[i + 1:i + 2] == "?":
            rest = pattern[i + 2:]
            named = re.match(r"<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)'", rest)
            if named:
                out.append(f"(?P<{named.group(1) or named.group(2)}>")
                i += 2 + named.end()
                continue
            if rest.startswith("#"):
                end = pattern.find(")", i)
                if end < 0:
                    raise _Unsupported("unterminated comment")
                i = end + 1  # a comment: drop it
                continue
            if rest.startswith("("):
                if not re.match(r"\(\d+\)", rest):
                    raise _Unsupported("conditional group on a name or an assertion")
            else:
                flags = re.match(r"([-a-zA-Z^]*)[:)]", rest)
                if flags and "x" in flags.group(1):
                    # comments and blanks: not worth a second parser for them
                    raise _Unsupported("extended mode (?x)")
        out.append(char)
        i += 1
    if in_class:
        raise _Unsupported("unterminated character class")
    return "".join(out)


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
        translated = _translate(pattern)
    except _Unsupported as error:
        return None, str(error)
    flags = re.IGNORECASE if caseless else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and friends
            compiled = re.compile(_to_bytes(translated), flags)
    except (re.error, OverflowError, RecursionError) as error:
        return None, f"Python re rejects it: {error}"
    return compiled, ""


# ---------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LocationInfo:
    """A ``location`` directive as nginx reads it."""

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
        return self.regex.search(_to_bytes(uri)) is not None


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


@dataclass(frozen=True)
class Match:
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
                level.exact.setdefault(_to_bytes(info.path), node)
            else:
                level.prefix.setdefault(_to_bytes(info.path), (node, info.modifier == "^~"))
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
            self._find(self._levels[id(self.server)], _to_bytes(uri), search)
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
            if regex.search(uri):
                search.location = node
                self._find(self._levels[id(node)], uri, search)
                return _OK
        return rc


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

def http_servers(tree: Tree) -> list[Node]:
    """``server`` blocks of the ``http`` context (includes expanded), in order."""
    return [node for node in tree.blocks("server")
            if node.parent is not None and node.parent.directive == "http"]


@dataclass(frozen=True)
class Listen:
    """A ``listen`` address as nginx reads it."""

    address: str  # "*", "127.0.0.1", "[::]", "unix:/path", a host name
    port: int | None
    default: bool  # default_server (or the old "default")

    @property
    def text(self) -> str:
        """As nginx prints it in messages: ``0.0.0.0:8081``, ``[::]:8081``."""
        if self.port is None:
            return self.address
        return f"{'0.0.0.0' if self.address == '*' else self.address}:{self.port}"


def parse_listen(node: Node) -> Listen:
    args = [nginx_token(arg) for arg in node.args]
    text = args[0] if args else ""
    default = any(arg in ("default_server", "default") for arg in args[1:])
    if text.startswith("unix:"):
        return Listen(text, None, default)
    address, port = "*", 80
    if text.startswith("["):
        end = text.find("]")
        address = _ipv6(text[1:end])
        rest = text[end + 1:]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif text.isdigit():
        port = int(text)
    elif ":" in text:
        host, _, number = text.rpartition(":")
        address = host.lower()
        port = int(number) if number.isdigit() else 80
    else:
        address = text.lower()
    if address in ("*", "0.0.0.0"):
        address = "*"
    return Listen(address, port, default)


def _ipv6(host: str) -> str:
    """``[::0]`` and ``[::]`` are one address: nginx compares the parsed sockaddr."""
    try:
        return f"[{ipaddress.IPv6Address(host)}]"
    except ValueError:
        return f"[{host.lower()}]"


def _listens(server: Node) -> list[Listen]:
    found = [parse_listen(node) for node in server.directives("listen")]
    # ngx_http_core_merge_srv_conf: no listen means *:80 (as root)
    return found or [Listen("*", 80, False)]


def _server_names(server: Node) -> list[str]:
    names = [nginx_token(arg) for node in server.directives("server_name") for arg in node.args]
    return names or [""]  # nginx's default server_name is ""


def _normalize_host(host: str) -> str:
    # ngx_http_validate_host: drop the port, one trailing dot, lower-case
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        host = host[:end + 1] if end >= 0 else host
    elif ":" in host:
        host = host[:host.index(":")]
    if host.endswith("."):
        host = host[:-1]
    return host


def _pick(servers: list[Node], default: Node, host: str) -> list[Node]:
    """ngx_http_find_virtual_server for one address:port, then the default."""
    exact: dict[str, Node] = {}
    heads: dict[str, Node] = {}  # "example.com" for "*.example.com" / ".example.com"
    tails: dict[str, Node] = {}  # "www" for "www.*"
    regexes: list[tuple[Node, re.Pattern[bytes] | None]] = []
    for server in servers:
        for name in _server_names(server):
            if name.startswith("~"):
                pattern = name[1:]
                # ngx_http_core_server_name: a pattern with capitals is caseless
                caseless = any("A" <= char <= "Z" for char in pattern)
                regexes.append((server, translate_pcre(pattern, caseless)[0]))
                continue
            name = name.lower()
            if name == "$hostname":
                import socket  # rare: not worth its import at start-up

                name = socket.gethostname().lower()
            # the first server to claim a name keeps it ("conflicting server name")
            if name.startswith("*."):
                heads.setdefault(name[2:], server)
            elif name.startswith("."):
                heads.setdefault(name[1:], server)
                exact.setdefault(name[1:], server)
            elif name.endswith(".*"):
                tails.setdefault(name[:-2], server)
            else:
                exact.setdefault(name, server)
    if host in exact:
        return [exact[host]]
    labels = host.split(".")
    for start in range(1, len(labels)):  # the longest suffix first
        suffix = ".".join(labels[start:])
        if suffix in heads:
            return [heads[suffix]]
    for end in range(len(labels) - 1, 0, -1):  # the longest prefix first
        prefix = ".".join(labels[:end])
        if prefix in tails:
            return [tails[prefix]]
    candidates: list[Node] = []
    subject = _to_bytes(host)
    for server, regex in regexes:
        if regex is None:
            # cannot tell: this server may be the one, keep looking for a sure match
            if server not in candidates:
                candidates.append(server)
            continue
        if host and regex.search(subject):
            return [*candidates, server] if server not in candidates else candidates
    if default not in candidates:
        candidates.append(default)
    return candidates


def select_servers(tree: Tree, host: str | None = None, port: int | None = None) -> list[Node]:
    """The servers that may receive a request for ``host`` (and ``port``).

    Without a host: every http server (on ``port`` when given).  With one: for
    every distinct ``listen`` address:port, the server nginx picks there (exact
    name, longest ``*.`` wildcard, longest ``.*`` wildcard, first matching
    regex, else that address's ``default_server``, else its first server).  A
    server_name regex nglint cannot evaluate adds its server as a possibility.
    """
    groups: dict[tuple[str, int | None], list[Node]] = {}
    defaults: dict[tuple[str, int | None], Node] = {}
    for server in http_servers(tree):
        for listen in _listens(server):
            if port is not None and listen.port != port:
                continue
            key = (listen.address, listen.port)
            members = groups.setdefault(key, [])
            if server not in members:
                members.append(server)
            if listen.default:
                defaults.setdefault(key, server)
    chosen: list[Node] = []
    for key, members in groups.items():
        if host is None:
            picked = members
        else:
            picked = _pick(members, defaults.get(key, members[0]), _normalize_host(host))
        chosen.extend(server for server in picked if server not in chosen)
    order = {id(server): index for index, server in enumerate(http_servers(tree))}
    return sorted(chosen, key=lambda server: order[id(server)])


def _merge_slashes(server: Node) -> bool:
    for block in (server, server.parent):
        if block is None:
            continue
        directive = block.first("merge_slashes")
        if directive is not None and directive.args:
            return nginx_token(directive.args[0]) != "off"
    return True


# routers per tree, dropped with the tree: Tree (an eq dataclass) is unhashable and
# Node has __slots__ without __weakref__, so neither fits a WeakKeyDictionary; a
# weak reference with a callback keyed by id(tree) gives the same lifetime
_ROUTERS: dict[int, tuple[weakref.ref[Tree], dict[int, ServerRouter]]] = {}


def router_for(tree: Tree, server: Node) -> ServerRouter:
    """The cached ``ServerRouter`` of a server of ``tree``."""
    key = id(tree)
    entry = _ROUTERS.get(key)
    if entry is None or entry[0]() is not tree:
        entry = (weakref.ref(tree, lambda _ref, key=key: _ROUTERS.pop(key, None)), {})
        _ROUTERS[key] = entry
    routers = entry[1]
    router = routers.get(id(server))
    if router is None or router.server is not server:
        router = routers[id(server)] = ServerRouter(server)
    return router


def route(tree: Tree, uri: str, host: str | None = None,
          port: int | None = None) -> list[tuple[Node, Match]]:
    """For each server that may get the request, the location serving ``uri``.

    ``uri`` is raw (as sent); servers for which nginx would answer 400 (see
    ``normalize_uri``) are left out.
    """
    results: list[tuple[Node, Match]] = []
    for server in select_servers(tree, host, port):
        normalized = normalize_uri(uri, _merge_slashes(server))
        if normalized is not None:
            results.append((server, router_for(tree, server).find(normalized)))
    return results
