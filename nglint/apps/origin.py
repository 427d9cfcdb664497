"""The ``Host`` an app must receive for the browser's ``Origin`` to match it.

Jupyter Server (and the apps whose profile declares the "origin" need) refuses a
websocket whose ``Origin`` host and port differ from the ``Host`` header it
receives (jupyter_server ``base/websocket.py``, ``WebSocketMixin.check_origin``:
``origin == host``, both lower-cased, ``host`` taken from the request's
``Host`` header).  The browser writes ``Origin`` as ``scheme://host[:port]``
and leaves the port out when it is the scheme's default (RFC 6454 section 6.2;
RFC 3986 section 6.2.3), so the ``Host`` that matches is:

- ``$host`` when nginx listens on 80 or 443 only (the browser sends no port);
- ``$host:$server_port`` when every port nginx listens on is another one (the
  browser writes that port, the same one nginx accepted the connection on);
- ``$http_host`` (the client's header as sent) when the server listens on both
  kinds, or when a port mapping (``docker run -p 8443:443``) makes the port the
  browser uses differ from nginx's own: nginx's ``$server_port`` is then wrong.
  ``$http_host`` forwards what the client wrote, which Debian's ``proxy_params``
  and gixy warn about (an absolute-form request target may carry another host),
  so nglint writes it only where nothing else works.

Sources: nginx variables ``$host`` (no port), ``$server_port``, ``$http_host``
(https://nginx.org/en/docs/http/ngx_http_core_module.html#variables).
"""

from __future__ import annotations

import re

from nglint.semantics.servers import parse_listen
from nglint.tree import Node, Tree

DEFAULT_PORTS = frozenset({80, 443})


def listen_ports(server: Node) -> set[int]:
    """Ports the server listens on (80 when it has no listen directive), read by the
    routing model's ``parse_listen`` (unix sockets have none)."""
    listens = [parse_listen(node) for node in server.directives("listen")]
    ports = {listen.port for listen in listens if listen.port is not None}
    return ports or ({80} if not listens else set())


def host_for_origin(*servers: Node) -> str:
    """The ``proxy_set_header Host`` value nglint recommends for ``servers`` (a block
    included by several servers needs one value that holds in each)."""
    chosen = set()
    for server in servers:
        ports = listen_ports(server)
        odd = ports - DEFAULT_PORTS
        chosen.add("$host" if not odd else "$host:$server_port" if odd == ports
                   else "$http_host")
    return chosen.pop() if len(chosen) == 1 else "$http_host"


def servers_of(block: Node, tree: Tree) -> list[Node]:
    """Every server a block is in, counting each place its file is included from."""
    servers = [node.enclosing("server") for node in tree.sites(block)]
    found = [server for server in servers if server is not None]
    own = block.enclosing("server")
    return found or ([own] if own is not None else [])


def matches_origin(value: str, server: Node) -> bool:
    """Whether a ``Host`` value gives the app the host and port of the browser's
    ``Origin`` for every port ``server`` listens on (``$http_host`` always does)."""
    if "$http_host" in value:
        return True
    ports = listen_ports(server)
    odd = ports - DEFAULT_PORTS
    if value == "$host":
        return not odd
    if value == "$host:$server_port":
        return bool(ports) and odd == ports
    literal = re.fullmatch(r"\$host:(\d+)", value)
    return literal is not None and ports == {int(literal.group(1))}


def host_advice(*servers: Node) -> str:
    """One sentence: the value to send and, for a port-mapped setup, the way out."""
    value = host_for_origin(*servers)
    advice = f"send `proxy_set_header Host {value}`"
    if value != "$http_host":
        advice += (" (behind a port mapping, where the browser's port is not nginx's, "
                   "only `$http_host` matches)")
    else:
        advice += " (the location is served on default and other ports)"
    return advice
