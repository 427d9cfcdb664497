"""Which server block nginx picks for a request: listen addresses and server names.

Re-implements (never copies) ``src/http/ngx_http.c`` (``ngx_http_add_listen``,
``ngx_http_add_addresses``, ``ngx_http_server_names``),
``src/http/ngx_http_request.c`` (``ngx_http_validate_host``,
``ngx_http_find_virtual_server``), ``ngx_http_core_server_name`` and
``ngx_http_core_merge_srv_conf`` (no ``listen`` means ``*:80`` when the
master runs as root, ``*:8000`` otherwise; this model assumes 80).

Documentation: https://nginx.org/en/docs/http/request_processing.html and
https://nginx.org/en/docs/http/server_names.html.  Checked against a running
nginx (``tests/test_routing_nginx.py``, ``tests/test_request_nginx.py``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from nglint.semantics.pcre import translate_pcre
from nglint.semantics.tokens import nginx_token
from nglint.semantics.uri import to_bytes
from nglint.tree import Node, Tree


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
    subject = to_bytes(host)
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


def merge_slashes(server: Node) -> bool:
    for block in (server, server.parent):
        if block is None:
            continue
        directive = block.first("merge_slashes")
        if directive is not None and directive.args:
            return nginx_token(directive.args[0]) != "off"
    return True
