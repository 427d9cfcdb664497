"""What is in force at a block: effective directive values with provenance.

nginx merges every module's configuration from ``http`` down to ``server``,
``location``, ``if`` and ``limit_except``.  Three kinds of directive merge
differently, and every rule asks this module instead of walking parents itself:

- standard directives (``proxy_read_timeout``, ``proxy_http_version``, ...):
  the innermost level that sets the directive wins;
- array directives (``proxy_set_header``, ``add_header``, ...): inherited "if
  and only if there are no such directives defined on the current level", all
  or nothing (``add_header_inherit`` changes that for ``add_header`` only, from
  nginx 1.29.3);
- directives that never inherit: content handlers (``proxy_pass`` and the
  other ``*_pass``) and the rewrite module (``return``, ``rewrite``, ``set``,
  ``if``, ``break``), and ``try_files``.

Sources: https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
(inheritance and the two redefined headers),
https://nginx.org/en/docs/http/ngx_http_headers_module.html#add_header_inherit,
https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version
(1.1 by default since 1.29.7), nginx ``src/http/modules/ngx_http_proxy_module.c``
(``ngx_http_proxy_merge_loc_conf``, ``ngx_http_proxy_init_headers``) and
``src/http/ngx_http_core_module.c`` (``if`` creates an implicit location).

Every version at which a default of the model changes is a constant here, collected in
``MODEL_CHANGES`` (the default target must reach the newest: ``nglint.versions``).  A
``Model`` is of one version; given a ``Tracked`` one, every comparison with these
constants is noted, and a run over a target range asks the model again on the other
side of each (``nglint.across``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nglint.tree import Node
from nglint.versions import Version

# all or nothing: (headers-more's more_set_headers accumulates instead, and is not here)
ARRAY_DIRECTIVES = frozenset({
    "proxy_set_header", "add_header", "add_trailer", "fastcgi_param", "uwsgi_param",
    "scgi_param", "grpc_set_header", "allow", "deny", "error_page", "limit_conn",
    "limit_req", "ssl_conf_command", "sub_filter", "xslt_param", "proxy_hide_header",
    "proxy_pass_header",
    # ngx_http_ssl_merge_srv_conf: ngx_conf_merge_ptr_value on each list, independently
    "ssl_certificate", "ssl_certificate_key",
})
# (nginx carries a location's proxy_pass into its `if` and `limit_except` blocks, the
# "noname" locations: ``Model.handler`` answers for those through their location)
NOT_INHERITED = frozenset({
    "proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass",
    "return", "rewrite", "set", "if", "break", "try_files", "location", "limit_except",
    "include", "content_by_lua_block", "content_by_lua", "content_by_lua_file", "js_content",
    "stub_status",
})
# one list, both directives (Model.access)
ACCESS_DIRECTIVES = ("allow", "deny")
# blocks whose directives apply inside them: the levels of inheritance
LEVELS = frozenset({"http", "server", "location", "if", "limit_except"})
_UNKNOWN = object()  # not asked yet (a memo whose answers may be None)
HANDLERS = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass",
            "memcached_pass")

# a Model built without a version (library callers, tests): the last release before the
# HTTP/1.1 default.  A run lints its target range instead (nglint.versions.DEFAULT_RANGE)
DEFAULT_NGINX_VERSION: Version = (1, 29, 6)
# every repeated request header joined in $http_* (not only Cookie and X-Forwarded-For):
# CHANGES 1.23.0, src/http/ngx_http_variables.c
JOINED_HEADERS: Version = (1, 23, 0)
ADD_HEADER_INHERIT: Version = (1, 29, 3)  # CHANGES 1.29.3: add_header_inherit
# CHANGES 1.29.7 (stable 1.30.0): proxy_http_version 1.1 by default and no "Connection:
# close"; and "the keepalive directive in the upstream block is enabled by default":
# commit 4fbe4b627 "Upstream: enabled keepalive by default for explicit upstreams",
# ngx_http_upstream_keepalive_init_main_conf: an upstream{} block without "keepalive"
# caches 32 connections in "local" mode; "keepalive 0;" switches it off
HTTP_1_1_DEFAULT: Version = (1, 29, 7)
UPSTREAM_KEEPALIVE_DEFAULT: Version = (1, 29, 7)
# commit "Upstream: special handling of the Host header in proxy and gRPC" (1.31.4)
HOST_SEPARATE: Version = (1, 31, 4)
PROXY_CONNECTION_DEFAULT: Version = (1, 31, 4)  # Proxy-Connection sent empty by default
# ssl_protocols default: TLSv1 TLSv1.1 TLSv1.2 before 1.23.4; CHANGES 1.23.4 "now TLSv1.3
# protocol is enabled by default"; CHANGES 1.27.3 "now TLSv1 and TLSv1.1 protocols are
# disabled by default" (ngx_http_ssl_merge_srv_conf: NGX_SSL_DEFAULT_PROTOCOLS)
TLS13_DEFAULT: Version = (1, 23, 4)
TLS10_OFF_DEFAULT: Version = (1, 27, 3)
MODEL_CHANGES: tuple[Version, ...] = (JOINED_HEADERS, ADD_HEADER_INHERIT, HTTP_1_1_DEFAULT,
                                      UPSTREAM_KEEPALIVE_DEFAULT, HOST_SEPARATE,
                                      PROXY_CONNECTION_DEFAULT, TLS13_DEFAULT,
                                      TLS10_OFF_DEFAULT)


@dataclass(slots=True, unsafe_hash=True)
class Value:
    """A directive's arguments in force and where they were set (None: nginx default).

    Read-only by convention, not ``frozen``: a frozen dataclass's ``__init__`` costs
    twice a plain one's, and the model builds one per directive it reads."""

    directive: str
    args: tuple[str, ...]
    node: Node | None

    @property
    def is_default(self) -> bool:
        return self.node is None

    @property
    def value(self) -> str:
        return " ".join(self.args)

    def where(self) -> str:
        if self.node is None:
            return "nginx default"
        return f"{self.node.path}:{self.node.line}"


# defaults that changed: directive -> (first version of the new one, old, new)
VERSIONED_DEFAULTS = {"proxy_http_version": (HTTP_1_1_DEFAULT, ("1.0",), ("1.1",))}

# defaults that changed more than once: directive -> ((first version, value), ...), oldest
# first (the first entry's version is not compared)
STEPPED_DEFAULTS: dict[str, tuple[tuple[Version, tuple[str, ...]], ...]] = {
    "ssl_protocols": (((0, 0, 0), ("TLSv1", "TLSv1.1", "TLSv1.2")),
                      (TLS13_DEFAULT, ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")),
                      (TLS10_OFF_DEFAULT, ("TLSv1.2", "TLSv1.3"))),
}


def defaults(version: Version) -> dict[str, tuple[str, ...]]:
    """Defaults of the standard directives the rules and ``nglint route`` ask about."""
    return {
        "proxy_http_version": ("1.1",) if version >= HTTP_1_1_DEFAULT else ("1.0",),
        "proxy_read_timeout": ("60s",),
        "proxy_send_timeout": ("60s",),
        "proxy_connect_timeout": ("60s",),
        "proxy_buffering": ("on",),
        "proxy_request_buffering": ("on",),
        "client_max_body_size": ("1m",),
        "proxy_redirect": ("default",),
        "add_header_inherit": ("on",),
        "add_trailer_inherit": ("on",),
        # ngx_http_ssl_module.c: NGX_DEFAULT_CIPHERS, unchanged from 1.18 to 1.31.4
        "ssl_ciphers": ("HIGH:!aNULL:!MD5",),
        "server_tokens": ("on",),
    }


def levels(node: Node) -> list[Node]:
    """The node (when it is a level) and its enclosing levels, innermost first."""
    found = []
    level: Node | None = node
    while level is not None:  # a loop, not ancestors(): asked for every location often
        if level.children is not None and level.directive in LEVELS:
            found.append(level)
        level = level.parent
    return found


class Model:
    """Effective values for one target nginx version."""

    def __init__(self, version: Version = DEFAULT_NGINX_VERSION,
                 shared: dict[str, Any] | None = None) -> None:
        """``shared``: memos common to the models of one tree at other versions (the
        engine's ``Analysis``); an entry there holds the versions its answer depends on
        and is used at another version only on the same side of each
        (``versions.same_cell``)."""
        # a Tracked version notes every comparison (nglint.versions): the engine learns
        # which versions an answer depends on; a plain one is for library callers
        self.version = version
        self.consulted: set[Version] = getattr(version, "consulted", set())
        self._defaults = defaults(DEFAULT_NGINX_VERSION)
        self.shared: dict[str, Any] = shared if shared is not None else {}
        # block -> its handler: asked for every location by several rules, the same at
        # every version (a Node hashes by identity)
        self._handlers: dict[Node, Node | None] = self.shared.setdefault("handlers", {})
        # memos of the modules that answer from this model (upstream.upstream_for)
        self.memos: dict[str, Any] = {}

    def effective(self, block: Node, directive: str) -> Value | None:
        """The standard directive's value in force at ``block``, or its default."""
        if directive in ARRAY_DIRECTIVES:
            raise ValueError(f"{directive} is an array directive: ask Model.array")
        if directive in NOT_INHERITED:
            found = block.first(directive)
            return Value(directive, tuple(found.args), found) if found else None
        for level in levels(block):
            found = level.first(directive)
            if found is not None:
                return Value(directive, tuple(found.args), found)
        if directive in STEPPED_DEFAULTS:
            value = STEPPED_DEFAULTS[directive][0][1]
            for since, args in STEPPED_DEFAULTS[directive][1:]:
                if self.version >= since:
                    value = args
            return Value(directive, value, None)
        if directive in VERSIONED_DEFAULTS:
            since, old, new = VERSIONED_DEFAULTS[directive]
            return Value(directive, new if self.version >= since else old, None)
        default = self._defaults.get(directive)
        return Value(directive, default, None) if default is not None else None

    def upstream_keepalive(self, upstream: Node) -> Value:
        """The ``keepalive`` in force in an ``upstream {}`` block: its own directive, else
        nginx's default, ``32 local`` from 1.29.7 and ``0`` (no connection cached) before.

        Source: ``ngx_http_upstream_keepalive_module.c`` at release-1.29.7
        (``ngx_http_upstream_keepalive_init_main_conf``: ``max_cached = 32``, ``local = 1``
        when unset) and at release-1.22.1 (no cache without the directive)."""
        own = upstream.first("keepalive")
        if own is not None:
            return Value("keepalive", tuple(own.args), own)
        default = ("32", "local") if self.version >= UPSTREAM_KEEPALIVE_DEFAULT else ("0",)
        return Value("keepalive", default, None)

    def array(self, block: Node, directive: str) -> list[Value]:
        """All values of an array directive in force at ``block`` (all-or-nothing)."""
        merged: list[Value] = []
        # level -> its own values of the directive, the same at every version
        memo: dict[Node, list[Value]] = self.shared.setdefault("array", {}).setdefault(
            directive, {})
        for level in levels(block):
            if level.first(directive) is None:
                own: list[Value] = []
            else:
                own = memo.get(level)  # type: ignore[assignment]
                if own is None:
                    own = memo[level] = [Value(directive, tuple(n.args), n)
                                         for n in level.directives(directive)]
            mode = self._inherit_mode(level, directive)
            if own:
                merged = own + merged
                if mode != "merge":
                    return merged
            elif mode == "off":
                return merged  # inheritance switched off even without own directives
        return merged

    def _inherit_mode(self, level: Node, directive: str) -> str:
        """``add_header_inherit`` / ``add_trailer_inherit`` (1.29.3+): on, off or merge."""
        if directive not in ("add_header", "add_trailer") or self.version < ADD_HEADER_INHERIT:
            return "on"
        setting = self.effective(level, f"{directive}_inherit")
        return setting.value if setting is not None and setting.args else "on"

    def access(self, block: Node) -> list[Value]:
        """The ``allow``/``deny`` rules in force at ``block``, in order.

        The access module keeps both directives in one list per address family and
        inherits the outer lists only when the level has neither ``allow`` nor ``deny``
        (``ngx_http_access_merge_loc_conf``: ``conf->rules == NULL && conf->rules6 ==
        NULL && conf->rules_un == NULL``): one ``allow`` in a location drops the server's
        ``deny all``.  ``array`` asks one directive name, so it cannot answer this."""
        # level -> its own rules: the same at every version, asked for many locations
        # of one server (h2c, exposure)
        memo: dict[Node, list[Value]] = self.shared.setdefault("access", {})
        for level in levels(block):
            own = memo.get(level)
            if own is None:
                own = memo[level] = [Value(n.directive, tuple(n.args), n)
                                     for n in level.children or ()
                                     if n.directive in ACCESS_DIRECTIVES] \
                    if any(level.first(name) is not None for name in ACCESS_DIRECTIVES) else []
            if own:
                return list(own)
        return []

    def access_source(self, block: Node) -> Node | None:
        """The level whose ``allow``/``deny`` rules are in force at ``block``."""
        for level in levels(block):
            if any(level.first(name) is not None for name in ACCESS_DIRECTIVES):
                return level
        return None

    def document_root(self, block: Node) -> Value | None:
        """The ``root`` or ``alias`` in force at ``block`` (None: the default ``root
        html``).  Both inherit into nested locations, the innermost of either wins
        (``ngx_http_core_merge_loc_conf``: ``if (conf->root.data == NULL)`` copies
        ``alias`` and ``root`` together); an inherited ``alias`` replaces the name of
        the location that set it."""
        for level in levels(block):
            for child in level.directives():
                if child.directive in ("root", "alias"):
                    return Value(child.directive, tuple(child.args), child)
        return None

    def array_source(self, block: Node, directive: str) -> Node | None:
        """The level whose array directives are in force at ``block`` (None: none set)."""
        for level in levels(block):
            if level.first(directive) is not None:
                return level
        return None

    def handler(self, block: Node) -> Node | None:
        """The content handler of a location (``proxy_pass`` and friends), if any.

        An ``if`` or ``limit_except`` block without its own handler uses its
        location's (nginx's "noname" locations inherit it).
        """
        found = self._handlers.get(block, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._handlers[block] = self._handler(block)
        return found  # type: ignore[return-value]

    def _handler(self, block: Node) -> Node | None:
        for name in HANDLERS:
            found = block.first(name)
            if found is not None:
                return found
        if block.directive in ("if", "limit_except") and block.parent is not None:
            location = block.enclosing("location")
            return self.handler(location) if location is not None else None
        return None


def unread(block: Node) -> str:
    """Why the levels in force at ``block`` may hold directives nglint did not read
    ("" when none): a fragment linted without the ``http`` (or ``server``) around it,
    whose own directives and defaults nglint cannot see, or an ``include`` (not a glob)
    at one of the levels that brought nothing in (a file missing here)."""
    for level in levels(block):
        if level.synthetic:
            return f"this file is a fragment: the {level.directive} block around it is not linted"
        for node in level.directives("include"):
            pattern = node.args[0] if node.args else ""
            if any(char in pattern for char in "*?["):
                continue
            if not any(child.via is node for child in level.children or []):
                return f"include {pattern} (line {node.line}) was not read"
    return ""
