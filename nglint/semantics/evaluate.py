"""The value of nginx variables and ``if`` conditions for one request.

Only what the request and the configuration decide is evaluated; anything else
(``set`` results, ``$remote_addr`` when the request does not say it, file
tests on a real disk, ``map ... { hostnames; }``, modules' variables) is
``None``: unknown, and callers say so instead of guessing.

One assumption is made and documented wherever it shows: **no file exists
under any root** (``try_files``, ``-f``/``-e``/``-d``): the endpoints nglint
asks about are dynamic URLs, never files on disk.

Sources (variables): https://nginx.org/en/docs/http/ngx_http_core_module.html#variables,
https://nginx.org/en/docs/http/ngx_http_proxy_module.html#variables,
``src/http/ngx_http_variables.c`` (``$host``: the request line's host, else the
Host header, else the server's first ``server_name``; ``$http_*`` with ``-``
as ``_``, case-insensitive; ``$arg_*`` unescaped never, the first argument of
that name) and ``src/http/modules/ngx_http_map_module.c`` (exact keys, then
regexes in order, else ``default``, else empty).  Conditions:
https://nginx.org/en/docs/http/ngx_http_rewrite_module.html#if (a variable is
false when it is empty or "0"; ``=``, ``!=``, ``~``, ``~*``, ``!~``, ``!~*``;
file tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from nglint.semantics.inherit import DEFAULT_NGINX_VERSION, JOINED_HEADERS, Version
from nglint.semantics.pcre import RegexTooCostly, search, translate_pcre
from nglint.semantics.tokens import nginx_token
from nglint.semantics.uri import to_bytes, validate_host
from nglint.tree import Node, Tree

__all__ = ["Evaluator", "client_headers", "proxy_host"]

# ngx_http_script_compile: "$" and one digit 1-9 is a capture ("$12" is capture 1 and
# "2"; checked on nginx 1.22: "${1}" is an unknown variable there, and so is "$0")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([1-9])|([A-Za-z0-9_]+))")
FILE_TESTS = ("-f", "-d", "-e", "-x")
VARIABLE_DEPTH = 100  # ngx_http_variable_depth
_VALID_NAME = re.compile(r"[A-Za-z0-9-]+\Z")
_VALID_NAME_UNDERSCORE = re.compile(r"[A-Za-z0-9_-]+\Z")


def _flag(server: Node | None, directive: str, default: bool) -> bool:
    for block in (server, server.parent if server is not None else None):
        found = block.first(directive) if block is not None else None
        if found is not None and found.args:
            return nginx_token(found.args[0]) == "on"
    return default


def client_headers(headers: Sequence[tuple[str, str]],
                   server: Node | None) -> list[tuple[str, str]]:
    """The client's headers nginx keeps: with ``ignore_invalid_headers on`` (the
    default) a name with a character other than a letter, digit or ``-`` (``_`` too
    with ``underscores_in_headers on``) is dropped (``ngx_http_parse_header_line``,
    ``ngx_http_process_request_headers``)."""
    if not _flag(server, "ignore_invalid_headers", True):
        return list(headers)
    valid = _VALID_NAME_UNDERSCORE if _flag(server, "underscores_in_headers", False) \
        else _VALID_NAME
    return [(name, value) for name, value in headers if valid.match(name)]


def proxy_host(target: str) -> str | None:
    """``$proxy_host`` for a ``proxy_pass`` URL: host, and the port unless the scheme's own.

    None when the URL holds variables (resolved per request by nginx).
    """
    if "$" in target:
        return None
    try:
        parts = urlsplit(target)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return None
    netloc = parts.netloc.rpartition("@")[2]
    default = 80 if parts.scheme == "http" else 443
    if port is None or port == default:
        return netloc.rsplit(":", 1)[0] if port is not None else netloc
    return netloc


class Evaluator:
    """Variables of one request at one block.

    ``request`` is a ``nglint.semantics.request.Request``; ``uri`` the
    current (normalized, possibly rewritten) URI; ``target`` the
    ``proxy_pass`` URL when the block proxies.  Call it with text as written
    in the configuration (``"$scheme://$host"``) to get the value, or None.
    """

    def __init__(self, tree: Tree, request: object, server: Node | None, uri: str | None,
                 target: str | None = None, captures: Sequence[str] = (),
                 port: int | None = None,
                 version: Version = DEFAULT_NGINX_VERSION) -> None:
        self.tree = tree
        self.version = version
        self.request = request
        self.server = server
        self.uri = uri
        self.target = target
        self.captures = list(captures)
        self.port = port
        self._maps: dict[str, Node] | None = None
        self._resolving: set[str] = set()  # maps being evaluated (a cycle: unknown)

    # -- text ---------------------------------------------------------------
    def __call__(self, text: str) -> str | None:
        out: list[str] = []
        last = 0
        for match in VARIABLE.finditer(text):
            braced, capture, name = match.groups()
            value = self.variable(capture) if capture else self.variable(braced or name,
                                                                         braced=bool(braced))
            if value is None:
                return None
            out.append(text[last:match.start()])
            out.append(value)
            last = match.end()
        out.append(text[last:])
        return "".join(out)

    def _client(self, name: str) -> str | None:
        """``$http_<name>``: before 1.23 the first line, but ``Cookie`` joined with
        ``; `` and ``X-Forwarded-For`` with ``, ``; from 1.23.0 every repeated
        header is joined with ``, `` (``ngx_http_variable_unknown_header``)."""
        wanted = name.lower().replace("_", "-")
        if wanted == "host":
            host: str | None = getattr(self.request, "host", None)
            return host
        values = [value for header, value in
                  client_headers(getattr(self.request, "headers", ()), self.server)
                  if header.lower() == wanted]
        if not values:
            return ""
        if wanted == "cookie":
            return "; ".join(values)
        if wanted == "x-forwarded-for" or self.version >= JOINED_HEADERS:
            return ", ".join(values)
        return values[0]

    def _query(self) -> str:
        """``$args``: after the first ``?`` up to a ``#``; none when ``#`` comes first
        (checked on nginx 1.22: ``/a#f?x=1`` has no arguments, ``/a?x=#f`` has ``x=``)."""
        target: str = getattr(self.request, "target", "")
        before_fragment = target.partition("#")[0]
        return before_fragment.partition("?")[2]

    def variable(self, name: str, braced: bool = False) -> str | None:
        """One variable's value, or None when the model cannot know it (``$1``..``$9``:
        a capture, empty past the last; any other digits name no variable)."""
        request = self.request
        if name.isdigit():
            if braced or len(name) != 1 or name == "0":
                return None  # nginx -t: unknown variable
            index = int(name)
            return self.captures[index - 1] if index <= len(self.captures) else ""
        if name.startswith("http_"):
            return self._client(name[5:])
        if name.startswith("arg_"):
            wanted = name[4:]
            for pair in self._query().split("&"):
                key, _, value = pair.partition("=")
                if key.lower() == wanted.lower():
                    return value
            return ""
        simple: dict[str, Callable[[], str | None]] = {
            "host": self._host,
            "args": self._query,
            "query_string": self._query,
            "is_args": lambda: "?" if self._query() else "",
            "request_uri": lambda: getattr(request, "path_and_query", None),
            "uri": lambda: self.uri,
            "document_uri": lambda: self.uri,
            "request_method": lambda: getattr(request, "method", "GET"),
            "scheme": lambda: getattr(request, "scheme", "http"),
            "server_port": lambda: str(self.port) if self.port is not None else None,
            "server_name": self._server_name,
            "remote_addr": lambda: getattr(request, "remote_addr", None),
            "proxy_host": lambda: proxy_host(self.target) if self.target else None,
            "proxy_port": self._proxy_port,
            "proxy_add_x_forwarded_for": self._forwarded_for,
            "proxy_internal_body_length": lambda: "",  # GET without a body
            "proxy_internal_chunked": lambda: "",
        }
        if name in simple:
            return simple[name]()
        return self._map(name)

    def _host(self) -> str | None:
        host = getattr(self.request, "host", None)
        if host is None:
            return None
        valid = validate_host(host) if host else ""
        if valid:
            return valid
        return self._server_name()

    def _server_name(self) -> str | None:
        """The server's first name, without the leading dot of ``.example.com``
        (``ngx_http_core_merge_srv_conf``); a regex keeps its ``~``."""
        if self.server is None:
            return None
        for node in self.server.directives("server_name"):
            for arg in node.args:
                name = nginx_token(arg)
                if name.lower() == "$hostname":
                    return None
                return name if name.startswith("~") else name.lower().removeprefix(".")
        return ""

    def _proxy_port(self) -> str | None:
        if not self.target or "$" in self.target:
            return None
        try:
            parts = urlsplit(self.target)
            return str(parts.port or (443 if parts.scheme == "https" else 80))
        except ValueError:
            return None

    def _forwarded_for(self) -> str | None:
        remote = getattr(self.request, "remote_addr", None)
        if remote is None:
            return None
        previous = [value for name, value in
                    client_headers(getattr(self.request, "headers", ()), self.server)
                    if name.lower() == "x-forwarded-for"]
        return ", ".join([*previous, remote])

    # -- map ----------------------------------------------------------------
    def _map(self, name: str) -> str | None:
        if self._maps is None:
            self._maps = {}
            for node in self.tree.blocks("map"):
                if len(node.args) == 2:
                    self._maps.setdefault(nginx_token(node.args[1]).lstrip("$"), node)
        block = self._maps.get(name)
        if block is None:
            return None
        if name in self._resolving or len(self._resolving) >= VARIABLE_DEPTH:
            # a map whose value leads back to itself, or maps 100 deep: nginx stops
            # with "cycle while evaluating variable" (ngx_http_get_indexed_variable,
            # ngx_http_variable_depth); the model answers unknown
            return None
        self._resolving.add(name)
        try:
            return self._map_value(block)
        finally:
            self._resolving.discard(name)

    def _map_value(self, block: Node) -> str | None:
        source = self(nginx_token(block.args[0]))
        if source is None:
            return None
        default = ""
        regexes: list[tuple[str, str]] = []
        for entry in block.children or ():
            if entry.is_comment:
                continue
            key = nginx_token(entry.directive)
            args = [nginx_token(arg) for arg in entry.args]
            if key in ("hostnames", "include"):
                return None  # wildcard names or entries nglint cannot see
            if key == "volatile" or not args:
                continue
            if key == "default":
                default = args[0]
            elif key.startswith("~"):
                regexes.append((key, args[0]))
            elif key.replace("\\~", "~", 1) == source:
                return self(args[0])
        for key, value in regexes:
            caseless = key.startswith("~*")
            pattern, _ = translate_pcre(key[2:] if caseless else key[1:], caseless)
            if pattern is None:
                return None
            try:
                if search(pattern, to_bytes(source)):
                    return self(value)
            except RegexTooCostly:
                return None
        return self(default)

    # -- conditions -----------------------------------------------------------
    def condition(self, args: Sequence[str]) -> bool | None:
        """Whether an ``if`` condition holds (crossplane drops its parentheses)."""
        words = [nginx_token(arg) for arg in args]
        if len(words) == 1:
            value = self(words[0])
            return None if value is None else value not in ("", "0")
        if len(words) != 2 and len(words) != 3:
            return None
        if len(words) == 2:
            test = words[0]
            if test.lstrip("!") in FILE_TESTS:
                return test.startswith("!")  # no file exists (see the module doc)
            return None
        left, operator, right = words
        value = self(left)
        if value is None:
            return None
        if operator in ("=", "!="):
            other = self(right)
            if other is None:
                return None
            return (value == other) == (operator == "=")
        if operator in ("~", "~*", "!~", "!~*"):
            pattern, _ = translate_pcre(right, operator.endswith("*"))
            if pattern is None:
                return None
            try:
                found = search(pattern, to_bytes(value))
            except RegexTooCostly:
                return None
            if found is not None and not operator.startswith("!"):
                self.captures = [group.decode("utf-8", "surrogateescape") if group else ""
                                 for group in found.groups()]
            return (found is not None) != operator.startswith("!")
        return None
