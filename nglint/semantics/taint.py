"""Which variables the client controls: the one place security rules ask.

Two questions, each answered for a variable *as used at one node* (captures
depend on the regex in force there):

``controlled``
    The client chooses the content freely (an open-ended string): ``$arg_*``,
    ``$http_*``, ``$cookie_*``, ``$args``/``$query_string``, ``$request_uri``,
    ``$uri``/``$document_uri``, ``$request``, ``$request_body``, regex captures
    of an unbounded group (``(.*)``, ``([^/]+)``; not ``(a|b)`` or ``(https?)``)
    over a controlled subject, and ``$host`` in a server that answers any
    ``Host`` (the default server of a port, or a catch-all name).
``newline``
    The value may hold a line feed: only *decoded* values can.  nginx decodes
    ``%0A`` in the URI path (``ngx_http_parse_complex_uri`` rejects only
    ``%00``), so ``$uri``, ``$document_uri`` and captures of location and
    rewrite regexes (matched against that URI) may; a raw request line or
    header cannot hold one (LF ends it), so ``$request_uri``, ``$args``,
    ``$arg_*`` and ``$http_*`` cannot.  A capture may only when its group can
    match ``\\n``: ``.`` does not (nginx compiles without ``PCRE_DOTALL``),
    ``[^/]``, ``\\W``, ``\\s`` do.

Both follow ``set`` (every ``set`` of the name in the server; numbered captures
in a ``set`` value are escaped by nginx, see ``_escapes_captures``), ``map`` (a map
whose values are all literals is not controlled, whatever its source; ``default
$src`` or a value with a controlled variable passes the source on) and named
captures.  Anything nglint cannot read answers "not shown" (None): rules never
guess.

Sources: https://nginx.org/en/docs/http/ngx_http_core_module.html#variables
(``$uri`` "current URI in request, normalized", ``$request_uri`` "full original
request URI (with arguments)"); nginx ``src/http/ngx_http_parse.c``
(``ngx_http_parse_complex_uri``), ``src/http/ngx_http_variables.c``,
``src/http/modules/ngx_http_map_module.c``, ``src/core/ngx_regex.c`` (options:
only caseless); pcre2pattern ("Full stop (period, dot)": not a newline unless
DOTALL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from nglint.semantics.locations import location_info
from nglint.semantics.pcre import translate_pcre
from nglint.semantics.servers import select_servers
from nglint.semantics.tokens import nginx_token
from nglint.semantics.variables import NAMED_CAPTURE
from nglint.tree import Node, Tree

try:  # Python 3.11+
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]

__all__ = ["URL_PASSES", "Source", "Taint", "describe_location", "host_part_variables",
           "is_internal", "literal_host", "serving_location", "variables_in"]

# the content handlers whose address may be a URL with variables, resolved per request
# (memcached_pass takes none): https://nginx.org/en/docs/http/ngx_http_proxy_module.html
# #proxy_pass, and the fastcgi, uwsgi, scgi and grpc modules' *_pass
URL_PASSES = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass")

VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([1-9])|([A-Za-z0-9_]+))")
DEPTH = 8  # set/map chains (and URL templates) followed
# an address no client can answer to: server selection for it gives the catch-all servers
UNKNOWN_HOST = "nglint-probe.invalid"

_URI_LIKE = {"uri": "the normalized, percent-decoded URI",
             "document_uri": "the normalized, percent-decoded URI"}
_RAW = {"request_uri": "the raw request URI", "args": "the query string",
        "query_string": "the query string", "request": "the request line",
        "request_body": "the request body"}
_PREFIXES = {"arg_": "query argument", "http_": "request header",
             "cookie_": "cookie"}


class Source(NamedTuple):
    """Why a variable is client-controlled: the built-in it comes from, and how."""

    variable: str  # the built-in the client writes: "$arg_url", "$uri", "$1 of ~ ^/p/(.*)"
    what: str  # readable: "the query argument url"
    via: tuple[str, ...] = ()  # the variables it went through ("$target", "$backend")

    def describe(self) -> str:
        path = " <- ".join(self.via)
        return f"{self.variable} ({self.what})" + (f", through {path}" if path else "")


def variables_in(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Each variable reference of ``text`` with its name (``"1"`` for ``$1``)."""
    for match in VARIABLE.finditer(text):
        yield match, next(group for group in match.groups() if group)


def serving_location(node: Node) -> Node | None:
    """The innermost ``location`` around ``node``."""
    return node.enclosing("location")


def describe_location(node: Node) -> str:
    """Which requests reach ``node``: the request path that exposes it."""
    location = serving_location(node)
    if location is None:
        server = node.enclosing("server")
        return "every request to this server" if server is not None else \
            "requests reaching this block"
    info = location_info(location)
    if info.modifier == "@":
        return f"requests redirected to {info.path} (try_files, error_page)"
    if info.is_regex:
        return f"requests whose URI matches `{info.modifier} {info.path}`"
    if info.modifier == "=":
        return f"requests to {info.path}"
    return f"requests to {info.path}" + ("..." if info.path.endswith("/") else "")


def is_internal(node: Node) -> bool:
    """Whether every location around ``node`` is ``internal`` (no client reaches it)."""
    for block in node.ancestors():
        if block.directive == "location" and block.first("internal") is not None:
            return True
    return False


# --------------------------------------------------------------------------- regexes

def _regex_holder_pattern(node: Node) -> tuple[str, bool, str] | None:
    """(regex, caseless, subject text) of a regex-bearing node."""
    if node.directive == "location":
        info = location_info(node)
        if info.is_regex:
            return info.path, info.modifier == "~*", "$uri"
        return None
    if node.directive == "rewrite" and node.args:
        return nginx_token(node.args[0]), False, "$uri"
    if node.directive == "if" and len(node.args) == 3 and node.args[1] in ("~", "~*"):
        return nginx_token(node.args[2]), node.args[1] == "~*", nginx_token(node.args[0])
    parent = node.parent
    if parent is not None and parent.directive == "map" and node.directive.startswith("~"):
        caseless = node.directive.startswith("~*")
        return (nginx_token(node.directive)[2 if caseless else 1:], caseless,
                nginx_token(parent.args[0]) if parent.args else "")
    return None


def _group(node: Node, key: int | str) -> tuple[Any, str] | None:
    """The parsed body of capture ``key`` in ``node``'s regex, and the subject text."""
    found = _regex_holder_pattern(node)
    if found is None:
        return None
    pattern, caseless, subject = found
    compiled, _ = translate_pcre(pattern, caseless)
    if compiled is None:
        return None
    try:
        parsed = sre_parse.parse(compiled.pattern.decode("latin-1"), compiled.flags & ~re.DEBUG)
    except (re.error, RecursionError):
        return None
    number = key if isinstance(key, int) else parsed.state.groupdict.get(key)
    if number is None:
        return None
    for op, av in _walk(parsed):
        if op is sre_parse.SUBPATTERN and av[0] == number:
            return av[3], subject
    return None


def _walk(items: Any) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        if op is sre_parse.SUBPATTERN:
            yield from _walk(av[3])
        elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT,
                    getattr(sre_parse, "POSSESSIVE_REPEAT", None)):
            yield from _walk(av[2])
        elif op is sre_parse.BRANCH:
            for branch in av[1]:
                yield from _walk(branch)
        elif op is getattr(sre_parse, "ATOMIC_GROUP", None):
            yield from _walk(av)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            continue  # lookarounds consume nothing


_NEWLINE_CATEGORIES = {sre_parse.CATEGORY_SPACE, sre_parse.CATEGORY_NOT_WORD,
                       sre_parse.CATEGORY_NOT_DIGIT, sre_parse.CATEGORY_LINEBREAK,
                       getattr(sre_parse, "CATEGORY_UNI_NOT_WORD", None)}


def _accepts_newline(op: Any, av: Any, dotall: bool) -> bool:
    if op is sre_parse.LITERAL:
        return av == 10
    if op is sre_parse.NOT_LITERAL:
        return av != 10
    if op is sre_parse.ANY:
        return dotall
    if op is sre_parse.CATEGORY:
        return av in _NEWLINE_CATEGORIES
    if op is sre_parse.IN:
        negate = any(item_op is sre_parse.NEGATE for item_op, _ in av)
        hit = False
        for item_op, item in av:
            hit = hit or (item_op is sre_parse.LITERAL and item == 10) \
                or (item_op is sre_parse.RANGE and item[0] <= 10 <= item[1]) \
                or (item_op is sre_parse.CATEGORY and item in _NEWLINE_CATEGORIES)
        return hit != negate
    return False


def group_may_hold_newline(body: Any, flags: int = 0) -> bool:
    dotall = bool(flags & re.DOTALL)
    return any(_accepts_newline(op, av, dotall) for op, av in _walk(body))


def group_is_open(body: Any) -> bool:
    """Whether the group matches arbitrarily long strings (an unbounded repeat)."""
    for op, av in _walk(body):
        if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT,
                  getattr(sre_parse, "POSSESSIVE_REPEAT", None)) \
                and av[1] is sre_parse.MAXREPEAT:
            return True
    return False


def _escapes_captures(setter: Node) -> bool:
    """Whether nginx percent-escapes numbered captures in this ``set`` value.

    The rewrite module runs its script with ``e->quote = 1``
    (``ngx_http_rewrite_handler``), and ``ngx_http_script_copy_capture_code``
    escapes ``$1``.. (``NGX_ESCAPE_ARGS``, control characters included) while it
    is set and the request URI had ``%`` escapes, which a decoded line feed needs.
    A ``rewrite`` run before resets it (``ngx_http_script_regex_start_code`` and
    ``_end_code``): then nglint does not count on it.  Named captures are
    variables and never escaped.  Checked on nginx 1.22.1
    (tests/test_security_nginx.py)."""
    child = setter
    block = setter.parent
    while block is not None:
        siblings = block.children or []
        if any(sibling.directive == "rewrite" for sibling in siblings[:child.position]):
            return False
        if block.directive in ("location", "server"):
            return True
        child = block
        block = block.parent
    return True


# --------------------------------------------------------------------------- taint

class Taint:
    """Client control of variables in one tree (cached per name and scope)."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._maps: dict[str, Node] | None = None
        self._setters: dict[str, list[Node]] | None = None  # set lines by variable
        self._named: dict[str, list[Node]] | None = None  # regexes by named capture

    # public ----------------------------------------------------------------
    def controlled(self, text: str, node: Node) -> list[Source]:
        """The client-controlled sources of the variables in ``text`` used at ``node``."""
        return self._text(text, node, "controlled", (), 0)

    def newline(self, text: str, node: Node) -> list[Source]:
        """The sources in ``text`` (used at ``node``) whose value may hold a line feed."""
        return self._text(text, node, "newline", (), 0)

    def variable(self, name: str, node: Node, prop: str) -> list[Source]:
        return self._variable(name, node, prop, (), 0)

    def text(self, text: str, node: Node, prop: str, escaped: bool = False) -> list[Source]:
        """The sources of every variable written in ``text`` at ``node``, once each
        (``escaped``: ``$1``.. are percent-escaped again and hold no line feed)."""
        return self._text(text, node, prop, (), 0, escaped)

    def variables(self, names: Iterable[tuple[str, Node]], prop: str) -> list[Source]:
        """The sources of ``(name, where it is read)`` pairs, once each."""
        found: list[Source] = []
        for name, at in names:
            for source in self._variable(name, at, prop, (), 0):
                if source not in found:
                    found.append(source)
        return found

    # internals -------------------------------------------------------------
    def _text(self, text: str, node: Node, prop: str, via: tuple[str, ...],
              depth: int, escaped: bool = False) -> list[Source]:
        found: list[Source] = []
        for _, name in variables_in(text):
            if escaped and name.isdigit():
                continue  # $1.. percent-escaped again (see _escapes_captures)
            for source in self._variable(name, node, prop, via, depth):
                if source not in found:
                    found.append(source)
        return found

    def _variable(self, name: str, node: Node, prop: str, via: tuple[str, ...],
                  depth: int) -> list[Source]:
        if depth > DEPTH:
            return []
        if name.isdigit():
            return self._capture(int(name), node, prop, via, depth)
        sets = self.sets(name, node)
        if sets:
            found: list[Source] = []
            for setter in sets:
                if len(setter.args) >= 2:
                    found += self._text(nginx_token(setter.args[1]), setter, prop,
                                        (*via, "$" + name), depth + 1,
                                        escaped=prop == "newline" and _escapes_captures(setter))
            return found
        block = self._map_block(name)
        if block is not None:
            return self._map(name, block, prop, via, depth)
        named = self._named_capture(name, node, prop, via, depth)
        if named is not None:
            return named
        return self._builtin(name, node, prop, via)

    def _builtin(self, name: str, node: Node, prop: str, via: tuple[str, ...]) -> list[Source]:
        if name in _URI_LIKE:
            return [Source("$" + name, _URI_LIKE[name], via)]
        if prop == "newline":
            return []
        if name in _RAW:
            return [Source("$" + name, _RAW[name], via)]
        for prefix, what in _PREFIXES.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                rest = name[len(prefix):]
                shown = rest.replace("_", "-") if prefix == "http_" else rest
                return [Source("$" + name, f"the {what} {shown}", via)]
        if name == "host" and self._host_is_free(node):
            return [Source("$host", "the request's host: this server answers any Host", via)]
        return []

    def _host_is_free(self, node: Node) -> bool:
        server = node.enclosing("server")
        if server is None:
            return False
        # the servers that answer a Host no server_name names: one selection per tree
        free = self.tree.memo("servers-for-any-host", lambda: {
            id(chosen) for chosen in select_servers(self.tree, UNKNOWN_HOST)})
        return id(server) in free

    def sets(self, name: str, node: Node) -> list[Node]:
        """The ``set $name`` lines that may run before ``node``: those in the blocks
        around it, else every one in its server (or anywhere outside a server)."""
        if self._setters is None:
            self._setters = {}
            for setter in self.tree.named("set"):
                if setter.args:
                    self._setters.setdefault(nginx_token(setter.args[0]).strip("${}"),
                                             []).append(setter)
        server = node.enclosing("server")
        found = [setter for setter in self._setters.get(name, [])
                 if server is None or setter.enclosing("server") is server]
        # the ones on the way to node (its location, the ifs around it, the server's own
        # level) run for this request; the others only after an internal redirect
        around = [block for block in (node, *node.ancestors())]
        own = [setter for setter in found if any(setter.parent is block for block in around)]
        return own or found

    def _map_block(self, name: str) -> Node | None:
        if self._maps is None:
            self._maps = {}
            for block in self.tree.blocks("map"):
                if len(block.args) == 2:
                    self._maps.setdefault(nginx_token(block.args[1]).lstrip("$").strip("{}"),
                                          block)
        return self._maps.get(name)

    def _map(self, name: str, block: Node, prop: str, via: tuple[str, ...],
             depth: int) -> list[Source]:
        found: list[Source] = []
        for entry in block.children or ():
            if entry.is_comment or not entry.args:
                continue
            key = nginx_token(entry.directive)
            if key in ("hostnames", "volatile", "include"):
                continue
            found += self._text(nginx_token(entry.args[-1]), entry, prop,
                                (*via, "$" + name), depth + 1)
        return found

    def _capture(self, key: int | str, node: Node, prop: str, via: tuple[str, ...],
                 depth: int) -> list[Source]:
        holder = self._capture_holder(node)
        return self._from_holder(key, holder, prop, via, depth) if holder is not None else []

    def _capture_holder(self, node: Node) -> Node | None:
        """The regex whose numbered captures are in force at ``node``: a map entry's
        own key, a ``rewrite`` earlier in the block, an enclosing ``if ~``, else the
        enclosing regex location."""
        parent = node.parent
        if parent is not None and parent.directive == "map":
            return node if node.directive.startswith("~") else None
        if node.directive == "rewrite":
            return node
        block: Node | None = node
        child = node
        while block is not None:
            if block is not node:
                siblings = block.children or []
                for sibling in reversed(siblings[:child.position]):
                    if sibling.directive == "rewrite":
                        return sibling
            if block.directive in ("if", "location") and block is not node \
                    and _regex_holder_pattern(block) is not None:
                return block
            child = block
            block = block.parent
        return None

    def _from_holder(self, key: int | str, holder: Node, prop: str, via: tuple[str, ...],
                     depth: int) -> list[Source]:
        found = _group(holder, key)
        if found is None:
            return []
        body, subject = found
        label = f"${key}"
        pattern = _regex_holder_pattern(holder)
        assert pattern is not None
        regex = pattern[0]
        if prop == "newline":
            if not group_may_hold_newline(body):
                return []
        elif not group_is_open(body):
            return []  # a fixed alternative: (a|b), (https?)
        inner = self._text(subject, holder, prop, (), depth + 1)
        return [Source(f"{label} (capture of `{regex}`)", f"part of {s.variable}: {s.what}",
                       via) for s in inner]

    def _named_capture(self, name: str, node: Node, prop: str, via: tuple[str, ...],
                       depth: int) -> list[Source] | None:
        if self._named is None:
            self._named = {}
            for directive in ("location", "rewrite", "if"):
                for holder in self.tree.named(directive):
                    found = _regex_holder_pattern(holder)
                    if found is not None and "(?" in found[0]:
                        for match in NAMED_CAPTURE.finditer(found[0]):
                            self._named.setdefault(match.group(1) or match.group(2),
                                                   []).append(holder)
        holders = self._named.get(name, [])
        if not holders:
            return None
        own = [holder for holder in holders if any(holder is up for up in node.ancestors())]
        holders = own or holders  # the regex around the use, else every one defining it
        result: list[Source] = []
        for holder in holders:
            result += self._from_holder(name, holder, prop, via, depth)
        return result


# --------------------------------------------------------------------------- targets

# variables whose value always begins with "/": after a literal host they end it
SLASHED = frozenset({"request_uri", "uri", "document_uri"})


def host_part_variables(text: str, node: Node, self_taint: Taint,
                        depth: int = 0) -> list[tuple[str, Node]]:
    """The variables (name, node they are read at) that make up the host part of a
    ``*_pass`` target: everything up to the first ``/``, ``?`` or ``#`` after the
    scheme.  A target that begins with a variable set to a URL (``set $t
    "http://backend$request_uri"``) is read through that ``set``; any other variable
    before ``://`` may hold a whole URL (``http://evil/#``) and counts."""
    found: list[tuple[str, Node]] = []
    # no scheme written (fastcgi_pass, grpc_pass host:port): the authority starts at once
    authority = "://" not in text and not text.startswith("$")
    last = 0
    started = False  # something written into the host part already
    for match, name in variables_in(text):
        literal = text[last:match.start()]
        last = match.end()
        if not authority:
            if "://" in literal:
                authority = True
                literal = literal.split("://", 1)[1]
            else:
                sets = self_taint.sets(name, node) if not name.isdigit() else []
                if match.start() == 0 and depth < DEPTH and sets and all(
                        len(s.args) >= 2 and "://" in s.args[1] for s in sets):
                    for setter in sets:  # a URL template: its own host part counts
                        found += host_part_variables(nginx_token(setter.args[1]), setter,
                                                     self_taint, depth + 1)
                    if "://" not in text[last:]:
                        return found
                    continue
                found.append((name, node))  # in the scheme: may hold a whole URL
                started = True
                continue
        if any(stop in literal for stop in "/?#"):
            return found
        if name in SLASHED and (literal or started):
            return found  # "/..." ends the host
        found.append((name, node))
        started = True
    return found


def literal_host(target: str) -> str | None:
    """The host of a ``*_pass`` target written literally (``app`` in
    ``http://app$request_uri``), None when variables make it."""
    rest = target.split("://", 1)[1] if "://" in target else target
    if rest.startswith("$"):
        return None
    for index, char in enumerate(rest):
        if char in "/?#":
            return rest[:index]
        if char == "$":
            following = VARIABLE.match(rest, index)
            name = next((g for g in following.groups() if g), "") if following else ""
            return rest[:index] if name in SLASHED else None
    return rest
