"""Which server block nginx picks for a request: listen addresses and server names.

Re-implements (never copies) ``src/http/ngx_http.c`` (``ngx_http_add_listen``,
``ngx_http_add_addresses``, ``ngx_http_server_names``), ``src/core/ngx_hash.c``
(``ngx_hash_add_key``, ``ngx_hash_find_combined``, ``ngx_hash_find_wc_head``,
``ngx_hash_find_wc_tail``), ``src/http/ngx_http_request.c``
(``ngx_http_init_connection``, ``ngx_http_validate_host``,
``ngx_http_set_virtual_server``, ``ngx_http_find_virtual_server``),
``ngx_http_core_server_name`` and ``ngx_http_core_merge_srv_conf`` (no
``listen`` means ``*:80`` when the master runs as root, ``*:8000`` otherwise;
this model assumes 80).  What that code does:

* Servers are grouped by the address:port they listen on; a request arriving
  on an address with its own group is served by that group only, any other
  address of the port by the wildcard group (``ngx_http_init_connection``
  looks the local address up in the port's list, the wildcard last).
* A group's default server is its ``default_server``, else its first server.
* The Host is validated first (``ngx_http_validate_host``, a 400 at the
  default server when it fails); no Host (HTTP/1.0) looks up the empty name.
* Names, per group: the exact name, then the longest ``*.x`` / ``.x``
  wildcard, then the longest ``x.*`` wildcard, then regexes in configuration
  order (not for an empty host), else the default server.
* Conflicts (``ngx_hash_add_key``; nginx warns "conflicting server name ...
  ignored" and drops the later name WHOLE): an exact ``x`` with an earlier
  ``x`` or ``.x``; ``.x`` with an earlier ``x``, ``.x`` or ``*.x``; ``*.x``
  with an earlier ``*.x`` or ``.x``; ``x.*`` with an earlier ``x.*``.
  ``*.x`` and ``x`` never conflict.  A ``.x`` dropped for an earlier ``*.x``
  still claims ``x``: a later exact ``x`` is dropped too.

Documentation: https://nginx.org/en/docs/http/request_processing.html and
https://nginx.org/en/docs/http/server_names.html.  Checked against a running
nginx (``tests/test_servers.py``, ``tests/test_routing_nginx.py``).
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from nglint.semantics.pcre import RegexTooCostly, search, translate_pcre
from nglint.semantics.tokens import nginx_token
from nglint.semantics.uri import to_bytes, validate_host
from nglint.tree import Node, Tree


def http_servers(tree: Tree) -> list[Node]:
    """``server`` blocks of the ``http`` context (includes expanded), in order."""
    return [node for node in tree.blocks("server")
            if node.parent is not None and node.parent.directive == "http"]


class Listen(NamedTuple):
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
    """The address, port and default flag of a ``listen`` directive."""
    return _listen(tuple(node.args))


@lru_cache(maxsize=4096)
def _listen(written: tuple[str, ...]) -> Listen:
    # a tree repeats a few listen lines thousands of times, and each is asked for often
    args = [nginx_token(arg) for arg in written]
    text = args[0] if args else ""
    default = any(arg in ("default_server", "default") for arg in args[1:])
    if text.startswith("unix:"):
        return Listen(text, None, default)
    address, port = "*", 80
    if text.startswith("["):
        end = text.find("]")
        address = _ipv6(text[1:end])
        rest = text[end + 1:]
        if rest.startswith(":") and _digits(rest[1:]):
            port = _listen_port(rest[1:])
    elif _digits(text):
        port = _listen_port(text)
    elif ":" in text:
        host, _, number = text.rpartition(":")
        address = host.lower()
        port = _listen_port(number) if _digits(number) else 80
    else:
        address = text.lower()
    if address in ("*", "0.0.0.0"):
        address = "*"
    return Listen(address, port, default)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _listen_port(digits: str) -> int:
    """A listen port; one past 65535 (nginx -t: "invalid port") as 0, which no
    request arrives on (and no int() of thousands of digits)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 5 and int(digits) < 65536 else 0


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
    return names or [""]  # ngx_http_core_merge_srv_conf: the default server_name is ""


class Selection(NamedTuple):
    """The server that takes a request arriving on one address:port group."""

    server: Node  # the server block that takes the request
    listen: Listen  # the group (address "*" for the wildcard; default: it has a default_server)
    default: Node  # that group's default server (default_server, else its first server)
    unknown: bool = False  # a server_name regex nglint cannot evaluate could have taken it
    status: int | None = None  # 400 when nginx rejects the Host (server is then the default)


@dataclass
class _Names:
    """One group's virtual names as ``ngx_http_server_names`` builds them."""

    exact: dict[str, Node] = field(default_factory=dict)
    # "x" -> (server, dotted): "*.x" (dotted False) or ".x" (True, matches "x" itself too)
    heads: dict[str, tuple[Node, bool]] = field(default_factory=dict)
    tails: dict[str, Node] = field(default_factory=dict)  # "www" for "www.*"
    regexes: list[tuple[Node, re.Pattern[bytes] | None]] = field(default_factory=list)

    def add(self, server: Node, name: str, claimed: set[str]) -> bool:
        """``ngx_hash_add_key`` with ``NGX_HASH_WILDCARD_KEY``: False for a conflict.

        ``claimed`` is its ``keys_hash``: exact names, and ``x`` for each ``.x``
        (claimed before the wildcard check, so even by a ``.x`` then dropped).
        """
        if name.count("*") > 1 or ".." in name or "\0" in name:
            return True  # "invalid server name or wildcard": nginx refuses the file
        if len(name) > 1 and name.startswith("."):
            bare = name[1:]
            if bare in claimed:
                return False
            claimed.add(bare)
            if bare in self.heads:
                return False
            self.heads[bare] = (server, True)
        elif len(name) > 2 and name.startswith("*."):
            if name[2:] in self.heads:
                return False
            self.heads[name[2:]] = (server, False)
        elif len(name) > 2 and name.endswith(".*"):
            if name[:-2] in self.tails:
                return False
            self.tails[name[:-2]] = server
        elif "*" in name:
            return True  # "invalid server name or wildcard": nginx refuses the file
        else:
            if name in claimed:
                return False
            claimed.add(name)
            self.exact[name] = server
        return True

    def find(self, host: str) -> tuple[Node | None, list[Node]]:
        """``ngx_http_find_virtual_server``: the server, and the servers of regexes
        nglint cannot evaluate that come before it (any of them may take the host)."""
        if host in self.exact:
            return self.exact[host], []
        # ngx_hash_find_wc_head: the longest "*.x" / ".x"; ".x" also takes "x"
        head = self.heads.get(host)
        if head is not None and head[1]:
            return head[0], []
        labels = host.split(".")
        for start in range(1, len(labels)):
            head = self.heads.get(".".join(labels[start:]))
            if head is not None:
                return head[0], []
        # ngx_hash_find_wc_tail: the longest "x.*", at least one label left for "*"
        for end in range(len(labels) - 1, 0, -1):
            tail = self.tails.get(".".join(labels[:end]))
            if tail is not None:
                return tail, []
        unknown: list[Node] = []
        if not host:
            return None, unknown  # regexes are not tried on an empty name
        subject = to_bytes(host)
        for server, regex in self.regexes:
            try:
                found = search(regex, subject) if regex is not None else None
            except RegexTooCostly:
                regex = None
            if regex is None:
                if server not in unknown:
                    unknown.append(server)
            elif found:
                return server, [other for other in unknown if other is not server]
        return None, unknown


def _names(servers: list[Node]) -> _Names:
    """``ngx_http_server_names`` for one group: servers and names in config order."""
    names = _Names()
    claimed: set[str] = set()
    for server in servers:
        for name in _server_names(server):
            if name.startswith("~"):
                pattern = name[1:]
                # ngx_http_core_server_name: a pattern with capitals is caseless
                caseless = any("A" <= char <= "Z" for char in pattern)
                names.regexes.append((server, translate_pcre(pattern, caseless)[0]))
                continue
            if name.lower() == "$hostname":
                import socket  # rare: not worth its import at start-up

                name = socket.gethostname()
            # ngx_http_core_server_name lower-cases (ASCII) every name but regexes
            names.add(server, name.translate(_ASCII_LOWER), claimed)
    return names


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass
class _Group:
    """The servers listening on one address:port (``ngx_http_conf_addr_t``)."""

    listen: Listen
    servers: list[Node]
    default: Node | None = None  # the one with default_server
    _names: _Names | None = None

    @property
    def default_server(self) -> Node:
        return self.default if self.default is not None else self.servers[0]

    @property
    def names(self) -> _Names:
        if self._names is None:
            self._names = _names(self.servers)
        return self._names


# Node has __slots__ without __weakref__; the tree's weak reference drops its entry
_GROUPS: dict[int, tuple[weakref.ref[Tree], list[_Group]]] = {}


def _groups(tree: Tree) -> list[_Group]:
    """Every address:port group of the http servers, in config order (cached per tree)."""
    key = id(tree)
    entry = _GROUPS.get(key)
    if entry is not None and entry[0]() is tree:
        return entry[1]
    by_key: dict[tuple[str, int | None], _Group] = {}
    placed: set[tuple[int, str, int | None]] = set()  # (server, address, port): thousands
    for server in http_servers(tree):                # of servers share a group
        for listen in _listens(server):
            where = (listen.address, listen.port)
            group = by_key.get(where)
            if group is None:
                group = by_key[where] = _Group(Listen(listen.address, listen.port, False), [])
            if (id(server), *where) not in placed:
                placed.add((id(server), *where))
                group.servers.append(server)
            if listen.default and group.default is None:
                group.default = server
                group.listen = Listen(listen.address, listen.port, True)
    groups = list(by_key.values())

    def forget(_ref: weakref.ref[Tree]) -> None:  # the tree is gone: so is its entry
        _GROUPS.pop(key, None)

    _GROUPS[key] = (weakref.ref(tree, forget), groups)
    return groups


def _request_address(address: str) -> str:
    """A request's local address in ``Listen.address`` form."""
    if address in ("*", "0.0.0.0"):
        return "*"
    if address.startswith("unix:"):
        return address
    if address.startswith("[") or ":" in address:
        return _ipv6(address.strip("[]"))
    return address.lower()


def _receiving(tree: Tree, address: str | None, port: int | None) -> list[_Group]:
    """The groups a request to ``address:port`` can reach (``ngx_http_init_connection``):
    the group of exactly that address, else the port's wildcard group of its family."""
    groups = [group for group in _groups(tree) if port is None or group.listen.port == port]
    if address is None:
        return groups
    wanted = _request_address(address)
    if wanted.startswith("unix:"):
        return [group for group in groups if group.listen.address == wanted]
    wildcard = "[::]" if wanted.startswith("[") else "*"
    found: list[_Group] = []
    for number in dict.fromkeys(group.listen.port for group in groups
                                if group.listen.port is not None):
        same_port = [group for group in groups if group.listen.port == number]
        exact = [group for group in same_port if group.listen.address == wanted]
        found.extend(exact or [group for group in same_port if group.listen.address == wildcard])
    order = {id(group): index for index, group in enumerate(groups)}
    return sorted(found, key=lambda group: order[id(group)])


def _select(tree: Tree, host: str | None, address: str | None,
            port: int | None) -> list[tuple[Selection, list[Node]]]:
    results: list[tuple[Selection, list[Node]]] = []
    for group in _receiving(tree, address, port):
        default = group.default_server
        if host is None:
            results.extend((Selection(server, group.listen, default), [])
                           for server in group.servers)
            continue
        # ngx_http_parse_header_line drops the spaces around a header value; "" is no
        # Host at all (HTTP/1.0): ngx_http_process_request_header looks up the empty name
        name = validate_host(host.strip(" ")) if host.strip(" ") else ""
        if name is None:
            results.append((Selection(default, group.listen, default, status=400), []))
            continue
        server, unknown = group.names.find(name)
        picked = server if server is not None else default
        results.append((Selection(picked, group.listen, default, bool(unknown)), unknown))
    return results


def select(tree: Tree, host: str | None, address: str | None = None,
           port: int | None = None) -> list[Selection]:
    """One Selection per address:port group that can receive the request, in config order.

    ``host`` None: every server of every group (one Selection each); ``""``:
    a request without Host (HTTP/1.0; HTTP/1.1 without Host is a 400 nginx
    answers before any of this).  ``address`` / ``port`` None: any.  A
    request to a specific address uses the group listening on exactly that
    address:port when one exists, else the wildcard (``*``, ``[::]`` for IPv6)
    group of that port (nginx binds per port and looks up the local address:
    ``ngx_http_init_connection`` / ``ngx_http_add_addrs``).  The Host is
    validated first (``validate_host``); an invalid one gives status 400 at
    the group's default server.  ``listen`` host names are not resolved: such
    a group is only reached by that same name as ``address``.
    """
    return [selection for selection, _unknown in _select(tree, host, address, port)]


def select_servers(tree: Tree, host: str | None = None, port: int | None = None) -> list[Node]:
    """The servers that may receive a request for ``host`` (and ``port``), config order.

    Without a host: every http server (on ``port`` when given).  With one:
    for every address:port group, the server ``select`` picks there, plus the
    servers of server_name regexes nglint cannot evaluate that nginx would try
    first (each may be the one).  An invalid Host (nginx answers 400) gives none.
    """
    chosen: dict[int, Node] = {}  # id -> server: a tree has thousands of groups
    for selection, unknown in _select(tree, host, None, port):
        if selection.status is None:
            for server in [*unknown, selection.server]:
                chosen.setdefault(id(server), server)
    order = {id(server): index for index, server in enumerate(http_servers(tree))}
    return sorted(chosen.values(), key=lambda server: order[id(server)])


def merge_slashes(server: Node) -> bool:
    """``merge_slashes`` in force in ``server`` (on by default).

    nginx parses the request line, normalising the URI, before it reads the
    Host (``ngx_http_process_request_line``, ``ngx_http_process_request_uri``),
    so the value that counts is the address group's default server's: call it
    with ``Selection.default``.
    """
    for block in (server, server.parent):
        if block is None:
            continue
        directive = block.first("merge_slashes")
        if directive is not None and directive.args:
            return nginx_token(directive.args[0]) != "off"
    return True
