"""The websocket upgrade idiom nglint writes: which headers, which maps, in which style.

A websocket handshake is an HTTP/1.1 request with ``Upgrade: websocket`` and
``Connection: Upgrade``; both are hop-by-hop, so nginx forwards them only when
told to (nginx docs, "WebSocket proxying").  Two styles:

``strict`` (the default)
    Forwards ``Upgrade`` only when the client asks for a websocket, through a map::

        map $http_upgrade $websocket_upgrade {
            default         "";
            ~*^websocket$   websocket;
        }
        map $http_upgrade $websocket_connection {
            default         close;      # "" when the upstream has keepalive
            ~*^websocket$   upgrade;
        }

    Any other ``Upgrade`` value (``h2c`` above all) is dropped, so a client
    cannot switch the upstream connection to another protocol past nginx's
    access rules: the h2c smuggling attack (Bishop Fox, "h2c Smuggling: Request
    Smuggling Via HTTP/2 Cleartext", 2020; Semgrep's
    ``possible-h2c-smuggling`` rule flags the classic idiom).

``classic``
    nginx's documented idiom: ``Upgrade $http_upgrade`` and
    ``map $http_upgrade $connection_upgrade { default upgrade; '' close; }``.
    Every ``Upgrade`` value is forwarded.

With either style, a location whose upstream block keeps connections alive
(``keepalive``, on by default for ``upstream {}`` blocks from nginx 1.29.7) gets a
``Connection`` map whose default is empty (nginx then sends no ``Connection``
header on plain requests): ``close`` would end every kept-alive connection, and
nginx's ``keepalive`` docs say to clear the header
(https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive).
A map's value may hold no variable here; nginx evaluates a map only when the
variable is used (``ngx_http_map_module``), so an unused map costs nothing.

Sources: https://nginx.org/en/docs/http/websocket.html,
https://nginx.org/en/docs/http/ngx_http_map_module.html, RFC 6455 section 4.1
(the handshake), RFC 9110 section 7.8 (``Upgrade``, hop-by-hop).
"""

from __future__ import annotations

from typing import NamedTuple

from nglint.semantics.inherit import UPSTREAM_KEEPALIVE_DEFAULT
from nglint.semantics.upstream import split_target
from nglint.tree import Node, Tree
from nglint.versions import VersionRange

STYLES = ("strict", "classic")
DEFAULT_STYLE = "strict"
WEBSOCKET = "~*^websocket$"


class UpgradeMap(NamedTuple):
    """One ``map $http_upgrade $variable { body }`` nglint may add (body: lines)."""

    variable: str  # with its "$"
    body: tuple[str, ...]

    @property
    def header(self) -> str:
        return f"map $http_upgrade {self.variable}"


class Idiom(NamedTuple):
    """What a location sends: the ``Upgrade`` and ``Connection`` values, and the maps
    they need (None: the value needs no map)."""

    upgrade: str
    upgrade_map: UpgradeMap | None
    connection: str
    connection_map: UpgradeMap


def idiom(style: str, keepalive: bool) -> Idiom:
    """The idiom of ``style`` ("strict" or "classic"; ValueError otherwise), for a
    location whose upstream keeps connections alive or not."""
    if style == "classic":
        if keepalive:
            return Idiom("$http_upgrade", None, "$connection_upgrade_keepalive", UpgradeMap(
                "$connection_upgrade_keepalive", ('default upgrade;', "''      \"\";")))
        return Idiom("$http_upgrade", None, "$connection_upgrade",
                     UpgradeMap("$connection_upgrade", ("default upgrade;", "''      close;")))
    if style != "strict":
        raise ValueError(f"unknown upgrade style {style!r}: expected one of {', '.join(STYLES)}")
    upgrade = UpgradeMap("$websocket_upgrade",
                         ('default         "";', f"{WEBSOCKET}   websocket;"))
    name = "$websocket_connection_keepalive" if keepalive else "$websocket_connection"
    default = '""' if keepalive else "close"
    connection = UpgradeMap(name, (f"default         {default};", f"{WEBSOCKET}   upgrade;"))
    return Idiom(upgrade.variable, upgrade, connection.variable, connection)


def keeps_alive(tree: Tree, target: str, versions: VersionRange) -> bool:
    """Whether connections to the ``upstream`` block a ``proxy_pass`` target names are
    kept alive on some version of ``versions``: its own ``keepalive`` (not ``0``), or
    none written and a version from 1.29.7, where an upstream block caches 32
    connections by default (``Model.upstream_keepalive``)."""
    parts = split_target(target)
    if parts is None:
        return False
    upstreams = tree.memo("upstreams", lambda: {
        block.args[0]: block for block in reversed(list(tree.blocks("upstream"))) if block.args})
    block = upstreams.get(parts[1])
    if block is None:
        return False
    own = block.first("keepalive")
    if own is not None:
        return own.args[:1] != ["0"]
    return versions.high >= UPSTREAM_KEEPALIVE_DEFAULT


def find_map(tree: Tree, variable: str) -> Node | None:
    """The map that defines ``variable`` (with its "$"), if the tree has one."""
    return next((node for node in tree.named("map")
                 if len(node.args) == 2 and node.args[1] == variable), None)
