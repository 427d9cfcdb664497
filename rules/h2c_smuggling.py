"""The client's `Upgrade` header forwarded as is where nginx enforces access: h2c smuggling.

## What it does
Reports a location that proxies with `proxy_pass` and forwards any `Upgrade`
value the client sends (`proxy_set_header Upgrade $http_upgrade`, or a map
that passes other values than `websocket`) together with a `Connection`
header that can say `upgrade`, as nginx builds them
(`nglint.semantics.upstream`), when nginx enforces access control
(`allow`/`deny`, `auth_basic`, `auth_request`, in force by inheritance:
`nglint.semantics.access`) in that location, or in another location of the
server proxying to the same upstream.  The finding names a request path that
reaches the location.

## Why is this bad?
A client sends `Upgrade: h2c` with `Connection: Upgrade, HTTP2-Settings`; an
upstream that speaks HTTP/2 over cleartext answers `101 Switching Protocols`,
and nginx then tunnels the connection without reading it.  Every request sent
over the tunnel reaches the upstream directly: nginx's `deny`, `auth_basic`
and `auth_request` on other paths no longer apply, and an `auth_request` on
this location is checked once, for the upgrade request only.  (Bishop Fox,
"h2c Smuggling: Request Smuggling Via HTTP/2 Cleartext", 2020.)

## Example
```nginx
map $http_upgrade $connection_upgrade { default upgrade; '' close; }
server {
    location /admin/ { deny all; proxy_pass http://app; }
    location / {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_pass http://app;
    }
}
```

## Use instead
nglint's strict upgrade idiom forwards `Upgrade` only for websockets:
```nginx
map $http_upgrade $websocket_upgrade { default ""; ~*^websocket$ websocket; }
        proxy_set_header Upgrade $websocket_upgrade;
```

## Fix safety
`--fix` sets `Upgrade` to `$websocket_upgrade` and adds its map (the strict
style of `nglint.upgrade`, whatever `upgrade-style` says): websockets keep
working, any other protocol upgrade is no longer forwarded.

## Sources
- Bishop Fox, "h2c Smuggling: Request Smuggling Via HTTP/2 Cleartext" (2020):
  https://bishopfox.com/blog/h2c-smuggling-request-smuggling-via-http-2-cleartext-h2c
- Semgrep rule `generic.nginx.security.possible-h2c-smuggling`:
  https://semgrep.dev/r/generic.nginx.security.possible-h2c-smuggling
- nginx WebSocket proxying: https://nginx.org/en/docs/http/websocket.html
- RFC 7540 section 3.2 (starting HTTP/2 for "http" URIs with `Upgrade: h2c`)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.fixes import fix_notes, make_fix, not_fixed, upgrade_header_fix
from nglint.semantics.access import access_controls
from nglint.semantics.inherit import Value
from nglint.semantics.samples import request_path
from nglint.semantics.tokens import nginx_token
from nglint.semantics.upstream import Header, split_target, upstream_for
from nglint.tree import Node, Tree
from nglint.upgrade import find_map

CODE = "NG221"
NAME = "h2c-smuggling"
SEVERITY = "warning"
FIXABLE = True
SECURITY_SEVERITY = 7.5

_DEPTH = 4


def _map_values(tree: Tree, variable: str) -> list[str] | None:
    """Every value the map defining ``variable`` gives ("" for a missing default)."""
    node = find_map(tree, variable)
    if node is None or not node.children:
        return None
    values = [nginx_token(entry.args[0]) for entry in node.children
              if not entry.is_comment and entry.args
              and entry.directive not in ("hostnames", "volatile", "include")]
    if not any(entry.directive == "default" for entry in node.children):
        values.append("")
    return values


def _passes_any_upgrade(tree: Tree, value: str, depth: int = 0) -> bool | None:
    """Whether ``value`` can carry an ``Upgrade`` other than ``websocket`` the client
    chose (None: a variable nglint cannot follow)."""
    if "$" not in value:
        return False  # empty (not sent) or hard-coded: not the client's choice
    if "$http_upgrade" in value:
        return True
    if depth >= _DEPTH or not value.startswith("$") or not value[1:].replace("_", "").isalnum():
        return None
    values = _map_values(tree, value)
    if values is None:
        return None
    answers = [_passes_any_upgrade(tree, v, depth + 1) for v in values]
    return True if True in answers else None if None in answers else False


def _may_say_upgrade(tree: Tree, headers: list[Header], depth: int = 0) -> bool:
    for header in headers:
        value = header.value
        if "upgrade" in value.lower() and "$" not in value:
            return True
        if "$http_connection" in value:
            return True
        if value.startswith("$"):
            values = _map_values(tree, value)
            if values is None or depth >= _DEPTH or _may_say_upgrade(
                    tree, [Header(header.name, v, header.node) for v in values], depth + 1):
                return True
    return False


def _authority(target: str) -> str | None:
    parts = split_target(target)
    return parts[1] if parts else None


def _guarded_elsewhere(context: Context, location: Node, authority: str
                       ) -> list[tuple[Node, list[Value]]]:
    server = location.enclosing("server")
    found: list[tuple[Node, list[Value]]] = []
    if server is None:
        return found
    named = {n.args[0]: n for n in server.directives("location") if n.args[:1]
             and n.args[0].startswith("@")}
    for other in server.subtree():
        if other is location or other.directive != "location" or not other.is_block:
            continue
        upstream = upstream_for(context.model, other)
        fallback = other.first("try_files")
        if upstream is None and fallback is not None and fallback.args \
                and fallback.args[-1] in named:
            # try_files ... @name: the named location proxies this location's requests
            upstream = upstream_for(context.model, named[fallback.args[-1]])
        if upstream is None or _authority(upstream.target) != authority:
            continue
        controls = access_controls(context.model, other)
        for limit in other.directives("limit_except"):
            controls += [c for c in access_controls(context.model, limit)
                         if c.directive == "deny" and c.node is not None
                         and c.node.parent is limit]
        if controls:
            found.append((other, controls))
    return found


def _path_to_named(context: Context, location: Node) -> str | None:
    """A request path reaching a named location through ``try_files ... @name``."""
    server = location.enclosing("server")
    name = location.args[0] if location.args else ""
    if server is None or not name.startswith("@"):
        return None
    for other in server.subtree():
        fallback = other.first("try_files") if other.directive == "location" else None
        if fallback is not None and fallback.args[-1:] == [name]:
            path = request_path(context.tree, other)
            if path:
                return path
    return None


def _describe(controls: list[Value]) -> str:
    return ", ".join(sorted({f"`{value.directive} {value.value}`".replace(" `", "`")
                             for value in controls}))


def check(context: Context) -> Iterator[Report]:
    for location in context.tree.blocks("location"):
        upstream = upstream_for(context.model, location)
        if upstream is None:
            continue
        forwarded = [h for h in upstream.may_send("Upgrade")
                     if _passes_any_upgrade(context.tree, h.value)]
        if not forwarded or not _may_say_upgrade(context.tree,
                                                 upstream.may_send("Connection")):
            continue
        here = access_controls(context.model, location)
        authority = _authority(upstream.target)
        elsewhere = _guarded_elsewhere(context, location, authority) if authority else []
        if not here and not elsewhere:
            continue
        header = forwarded[-1]
        path = request_path(context.tree, location) or _path_to_named(context, location)
        via = f"a request to {path}" if path else "a request to this location"
        guards = []
        if here:
            guards.append(f"this location's {_describe(here)} is checked once, for the "
                          "upgrade request only")
        for other, controls in elsewhere[:3]:
            guards.append(f"{_describe(controls)} on `location {' '.join(other.args)}` "
                          f"(line {other.line}) is bypassed")
        fix, why = make_fix("forward Upgrade only for websockets (strict style)",
                            upgrade_header_fix, context.model, context.tree, location,
                            "strict", "Upgrade", context.options.nginx_version)
        node = header.node if header.node is not None and \
            header.node.enclosing("location") is location else location
        yield Report(
            f"Upgrade {header.value} forwards any protocol the client asks for (h2c): "
            f"{via} with `Upgrade: h2c` can turn the connection into a tunnel to "
            f"{upstream.target} that nginx no longer inspects, so "
            + "; ".join(guards) + not_fixed(why),
            node=node, fix=fix, location=location,
            headline=f"Upgrade {header.value} allows h2c smuggling",
            notes=[*(f"access control: {g}" for g in guards), *fix_notes(fix, why)],
            related=[(header.node, "Upgrade set here")]
            if header.node is not None and header.node is not node else [])
