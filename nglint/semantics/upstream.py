"""What nginx sends upstream from a block that proxies: request line version and headers.

The header list nginx builds for a block (``ngx_http_proxy_init_headers`` in
``src/http/modules/ngx_http_proxy_module.c``):

1. every ``proxy_set_header`` line of the level in force (the array is all or
   nothing, see ``nglint.semantics.inherit``), **in order, duplicates kept**:
   two ``Host`` lines send two ``Host`` headers, and ``X ""`` after ``X v``
   does not remove the first;
2. then nginx's own defaults, each only when no line of step 1 has its name
   (case-insensitive): ``Host $proxy_host``, ``Connection close`` (nginx before
   1.29.7; empty from 1.29.7), ``Content-Length`` and ``Transfer-Encoding``
   (only for a request body), and ``TE``, ``Keep-Alive``, ``Expect``,
   ``Upgrade`` (and ``Proxy-Connection`` from 1.31.4) as empty values;
3. a header whose value is empty, written so or evaluated so at run time, is
   not sent (``ngx_http_proxy_create_request``: ``if (val_len == 0)``);
4. the client's own headers follow, unless ``proxy_pass_request_headers off``,
   except those whose name appears in steps 1-2 (empty or not): so ``Upgrade``
   and ``Connection`` never pass unless set.

From nginx 1.31.4 (commit "Upstream: special handling of the Host header in
proxy and gRPC") ``Host`` lines leave the list: the *last* ``Host`` line gives
one ``Host`` header, written first; when it is empty (with HTTP/1.1) or absent,
``$proxy_host`` is used.

Sources: nginx ``ngx_http_proxy_module.c`` at release-1.22.1, 1.29.7 and
1.31.4; https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header.
Checked against a running nginx by ``tests/test_request_nginx.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nglint.semantics.evaluate import client_headers
from nglint.semantics.inherit import (
    HOST_SEPARATE,
    HTTP_1_1_DEFAULT,
    PROXY_CONNECTION_DEFAULT,
    Model,
    Value,
    Version,
)
from nglint.semantics.tokens import nginx_token
from nglint.tree import Node
from nglint.versions import plain, recording, same_cell

__all__ = ["HOST_SEPARATE", "Header", "Upstream", "proxy_headers", "split_target",
           "upstream_for"]

_TARGET = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<authority>[^/]+)(?P<uri>/.*)?\Z",
                     re.IGNORECASE)


def split_target(target: str) -> tuple[str, str, str | None] | None:
    """A ``proxy_pass`` URL as (scheme, host[:port] or upstream name, URI part or None).

    None when it holds variables (nginx builds it per request) or is no URL.  A URI
    part replaces the matched location path before the request is passed
    (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass).
    """
    if "$" in target:
        return None
    found = _TARGET.match(target)
    if found is None:
        return None
    return found.group("scheme").lower(), found.group("authority"), found.group("uri")

# request-body headers: their variables are empty for a request without a body
_BODY_HEADERS = (("Content-Length", "$proxy_internal_body_length"),
                 ("Transfer-Encoding", "$proxy_internal_chunked"))


@dataclass(slots=True, unsafe_hash=True)
class Header:
    """One entry of the list nginx builds: a ``proxy_set_header`` line or a default.

    ``value`` is the value as nginx reads it (tokenizer escapes resolved);
    ``node`` is None for nginx's own defaults.  Read-only by convention, not ``frozen``
    (whose ``__init__`` costs twice a plain one's): one is built per header line of
    every proxying location.
    """

    name: str
    value: str
    node: Node | None

    @property
    def is_default(self) -> bool:
        return self.node is None

    @property
    def blank(self) -> bool:
        """Written empty: nginx never sends it, but its name blocks the client's header."""
        return self.value == ""

    def where(self) -> str:
        if self.node is None:
            return "nginx default"
        return f"{self.node.path}:{self.node.line}"


# lowercase name -> the default no version changed (one object each: every proxying
# block's list holds them)
_UNVERSIONED_DEFAULTS = {name.lower(): Header(name, value, None) for name, value in
                         (*_BODY_HEADERS, ("TE", ""), ("Keep-Alive", ""), ("Expect", ""),
                          ("Upgrade", ""))}
_CONNECTION_CLOSE = Header("Connection", "close", None)
_CONNECTION_BLANK = Header("Connection", "", None)
_HOST_BLANK = Header("Host", "", None)
_HOST_PROXY_HOST = Header("Host", "$proxy_host", None)
_PROXY_CONNECTION_BLANK = Header("Proxy-Connection", "", None)


def _default(name: str, version: Version) -> Header | None:
    """nginx's default entry for one header name (lowercase ``name``), or None.

    The version is compared only for the names whose default changed (Connection,
    Host, Proxy-Connection): a rule that asks for ``Upgrade`` then does not depend on
    the version, and runs once over a range."""
    if name in _UNVERSIONED_DEFAULTS:
        return _UNVERSIONED_DEFAULTS[name]
    if name == "connection":
        return _CONNECTION_CLOSE if version < HTTP_1_1_DEFAULT else _CONNECTION_BLANK
    if name == "host":
        return _HOST_BLANK if version >= HOST_SEPARATE else _HOST_PROXY_HOST
    if name == "proxy-connection" and version >= PROXY_CONNECTION_DEFAULT:
        return _PROXY_CONNECTION_BLANK
    return None


# the order nginx's list has its defaults in (ngx_http_proxy_headers)
_DEFAULT_ORDER = ("host", "connection", "proxy-connection", *_UNVERSIONED_DEFAULTS)


def proxy_headers(model: Model, block: Node) -> list[Header]:
    """The header list nginx builds for ``block`` (steps 1 and 2 above), in order.

    From 1.31.4 the ``Host`` lines are not in it (see ``Upstream.host``).
    """
    configured: list[Header] = []
    for value in model.array(block, "proxy_set_header"):
        if len(value.args) != 2:
            continue  # nginx -t refuses it; NG008 reports it
        name, text = (nginx_token(arg) for arg in value.args)
        if name.lower() == "host" and model.version >= HOST_SEPARATE:
            continue
        configured.append(Header(name, text, value.node))
    names = {header.name.lower() for header in configured}
    defaults = [found for found in (_default(name, model.version) for name in _DEFAULT_ORDER)
                if found is not None and found.name.lower() not in names]
    return configured + defaults


Evaluate = Callable[[str], "str | None"]


@dataclass(slots=True)
class Upstream:
    """What a proxying block sends upstream.

    ``headers`` is nginx's list for the block (see the module doc); ``sent``
    evaluates it for one request.  What depends on the nginx version (``http_version``,
    ``headers``, ``host_lines``) is worked out on first use and notes, at each use, the
    versions it depends on (``nglint.versions.Tracked``): a caller that only wants the
    target does not depend on them.
    """

    block: Node
    handler: Node  # the proxy_pass directive
    target: str  # its URL as nginx reads it
    model: Model = field(repr=False)
    pass_request_headers: bool = True
    # answer name -> the answer, when it depends on no version; else a _ByVersion list
    # of (answer, the versions it depends on, the version it was worked out at).  Shared
    # by the Upstream of this block at every version (``upstream_for``)
    _answers: dict[str, Any] = field(default_factory=dict, repr=False)

    def _lazy(self, name: str, compute: Callable[[], Any]) -> Any:
        known = self._answers.get(name, _MISSING)
        now = self.model.version
        if known is not _MISSING:
            if type(known) is not _ByVersion:
                return known  # the same at every version
            for value, consulted, built in known:
                if same_cell(built, now, consulted):
                    self.model.consulted |= consulted  # noted again, as if worked out now
                    return value
        with recording(self.model.consulted) as consulted:
            value = compute()
        if not consulted:
            self._answers[name] = value
        else:
            entries = known if type(known) is _ByVersion else _ByVersion()
            entries.append((value, frozenset(consulted), plain(now)))
            self._answers[name] = entries
        return value

    @property
    def version(self) -> Version:
        return self.model.version

    @property
    def http_version(self) -> Value:
        """``proxy_http_version`` in force (it has a default)."""
        return self._lazy("http_version",
                          lambda: self.model.effective(self.block, "proxy_http_version"))

    @property
    def headers(self) -> list[Header]:
        return self._lazy("headers", lambda: proxy_headers(self.model, self.block))

    @property
    def host_lines(self) -> list[Header]:
        """1.31.4+: the ``Host`` lines, in order (empty before)."""
        return self._lazy("host_lines", lambda: _host_lines(self.model, self.block))

    @property
    def keepalive(self) -> Value | None:
        """The ``keepalive`` in force in the ``upstream {}`` block the target names
        (``Model.upstream_keepalive``: on by default from nginx 1.29.7); None for a target
        that is an address or holds variables (nginx caches no connection to those)."""
        return self._lazy("keepalive", self._keepalive)

    def _keepalive(self) -> Value | None:
        parts = split_target(self.target)
        http = self.block.enclosing("http")
        if parts is None or http is None:
            return None
        name = parts[1]
        block = next((node for node in http.directives("upstream")
                      if node.args and node.args[0] == name and node.is_block), None)
        return self.model.upstream_keepalive(block) if block is not None else None

    def named(self, name: str) -> list[Header]:
        """Entries of the list with this name (case-insensitive), in order: those of
        ``headers`` with that name, worked out without building the whole list (the
        configured lines, else nginx's default for the name), so that the answer
        depends only on the versions at which that name's default changed."""
        wanted = name.lower()
        return self._lazy(_named_key(wanted), lambda: self._named(wanted))

    def _named(self, wanted: str) -> list[Header]:
        configured = [header for header in self._configured if header.name.lower() == wanted]
        if wanted == "host" and configured and self.model.version >= HOST_SEPARATE:
            configured = []  # 1.31.4+: Host lines are not in the list (``host_lines``)
        if configured:
            return configured
        default = _default(wanted, self.model.version)
        return _alone(default) if default is not None else []

    @property
    def _configured(self) -> list[Header]:
        """``proxy_set_header`` lines in force with two arguments, Host lines included
        (no version compared)."""
        return self._lazy("configured", self._read_configured)

    def _read_configured(self) -> list[Header]:
        values = [value for value in self.model.array(self.block, "proxy_set_header")
                  if len(value.args) == 2]
        # the blocks that inherit the same lines share one list (a server's lines are in
        # force in each of its locations): the same lines, the same headers
        shared: dict[tuple[Node | None, ...], list[Header]] = self.model.shared.setdefault(
            "configured", {})
        key = tuple(value.node for value in values)
        found = shared.get(key)
        if found is None:
            found = shared[key] = [
                Header(nginx_token(value.args[0]), nginx_token(value.args[1]), value.node)
                for value in values]
        return found

    def host(self, evaluate: Evaluate) -> str | None:
        """1.31.4+: the one ``Host`` value sent ('' when none; None when unknown)."""
        if not self.host_lines:
            return evaluate("$proxy_host")
        value = evaluate(self.host_lines[-1].value)
        if value == "" and self.http_version.value == "1.1":
            return evaluate("$proxy_host")
        return value

    def sent(self, evaluate: Evaluate,
             client: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str | None]]:
        """Every header line nginx sends, in order: (name, value or None when unknown).

        ``evaluate`` turns a value as written (``$host:$server_port``) into
        the request's value, or None; ``client`` is the client's headers in
        the order it sent them (those nginx drops as invalid are left out).
        """
        lines: list[tuple[str, str | None]] = []
        if self.version >= HOST_SEPARATE:
            host = self.host(evaluate)
            if host != "":
                lines.append(("Host", host))
        for header in self.headers:
            if header.blank:
                continue
            value = evaluate(header.value)
            if value != "":
                lines.append((header.name, value))
        if self.pass_request_headers:
            taken = {header.name.lower() for header in self.headers} | {"host"}
            kept = client_headers(client, self.block.enclosing("server"))
            lines += [(name, value) for name, value in kept if name.lower() not in taken]
        return lines

    def may_send(self, name: str) -> list[Header]:
        """Entries of ``name`` that can be sent: not written empty."""
        if self.version >= HOST_SEPARATE and name.lower() == "host":
            return [h for h in self.host_lines[-1:] if not h.blank] or \
                [Header("Host", "$proxy_host", None)]
        return [header for header in self.named(name) if not header.blank]

    def duplicates(self) -> list[list[Header]]:
        """Names with more than one entry that can be sent, each as its entries.

        A value that is a variable may evaluate empty and then is not sent, but
        two lines for one name are a mistake either way.
        """
        by_name: dict[str, list[Header]] = {}
        for header in self.headers:
            if not header.blank and header.node is not None:
                by_name.setdefault(header.name.lower(), []).append(header)
        found = [entries for entries in by_name.values() if len(entries) > 1]
        hosts = [header for header in self.host_lines if not header.blank]
        if len(hosts) > 1:  # 1.31.4+: one Host is sent, the last line's; the others are dead
            found.insert(0, hosts)
        return found


def upstream_for(model: Model, block: Node) -> Upstream | None:
    """The upstream request of ``block`` when its content handler is ``proxy_pass``
    (memoised per model and block; what it is built from, the handler and
    ``proxy_pass_request_headers``, is the same at every version, so the Upstream of
    another version lends its answers, each kept with the versions it depends on)."""
    handler = model.handler(block)  # the same at every version: nothing to note
    if handler is None or handler.directive != "proxy_pass" or not handler.args:
        return None
    # block -> its Upstream for this model (kept on the model, which it refers to)
    memo: dict[Node, Upstream] = model.memos.setdefault("upstream_for", {})
    found = memo.get(block)
    if found is not None:
        return found
    # block -> its Upstream at the version that first asked (Model.shared)
    others: dict[Node, Upstream] = model.shared.setdefault("upstreams", {})
    other = others.get(block)
    if other is not None:
        found = memo[block] = Upstream(block, other.handler, other.target, model,
                                       other.pass_request_headers, other._answers)
        return found
    with recording(model.consulted) as consulted:
        found = _upstream_for(model, block, handler)
    if not consulted:  # (never so today: kept correct should a versioned default come)
        memo[block] = others[block] = found
    return found


@lru_cache(maxsize=256)
def _named_key(name: str) -> str:
    """The key of ``Upstream.named``'s answer for a (lowercase) name: one string per
    name, not one per proxying block."""
    return "named:" + name


@lru_cache(maxsize=64)
def _alone(default: Header) -> list[Header]:
    """The answer of ``Upstream.named`` for a name set nowhere: its default, one list per
    default shared by every block (callers read answers, never change them)."""
    return [default]


class _ByVersion(list):  # type: ignore[type-arg]
    """An answer of ``Upstream`` that depends on the version: (answer, consulted, built)."""


_MISSING = object()


def _upstream_for(model: Model, block: Node, handler: Node) -> Upstream:
    passing = model.effective(block, "proxy_pass_request_headers")
    return Upstream(
        block=block, handler=handler, target=nginx_token(handler.args[0]), model=model,
        pass_request_headers=passing is None or passing.value != "off",
    )


def _host_lines(model: Model, block: Node) -> list[Header]:
    if model.version < HOST_SEPARATE:
        return []
    return [Header(nginx_token(value.args[0]), nginx_token(value.args[1]), value.node)
            for value in model.array(block, "proxy_set_header")
            if len(value.args) == 2 and nginx_token(value.args[0]).lower() == "host"]
