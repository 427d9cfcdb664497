"""Jupyter proxied without the client's `Host` (and port).

## What it does
At the location that serves each Jupyter websocket endpoint, reads the
effective `Host` header sent upstream.  Reports nginx's default
`$proxy_host` (the upstream's address), a literal host, and `$host` when the
server listens on a port other than 80 or 443 (`$host` drops the port).
`$http_host` and `$host:$server_port` pass.

## Why is this bad?
Jupyter Server refuses a websocket whose `Origin` host and port differ from
the `Host` it receives: the browser gets `403 Cross origin websockets not allowed`
(Jupyter's log says "Blocking Cross Origin WebSocket Attempt"), and the
kernel never connects while pages and REST calls work.  It is a warning, not
an error, because a deployment that sets Jupyter's `allow_origin` accepts
any origin, and that setting is invisible to nglint.  A location that adds its
own `proxy_set_header` drops the server's `Host` line (see NG005): the usual
way this happens.

## Example
```nginx
server {
    listen 8443 ssl;
    location / {
        proxy_pass http://127.0.0.1:8888;
        proxy_set_header Host $host;
    }
}
```

## Use instead
```nginx
        proxy_set_header Host $http_host;
```

Not reported when `Host` is `$proxy_host` and the upstream is named after one of
the server's names on the default port (the nginx-proxy layout): the browser's
`Origin` then matches.

## Fix
Sets `proxy_set_header Host $http_host;` in the serving location.

## Sources
- jupyter_server `base/websocket.py` / `base/handlers.py` (`check_origin`,
  "Blocking Cross Origin WebSocket Attempt")
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
  (`Host $proxy_host` by default; `$host` has no port)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.fixes import fix_notes, make_fix, not_fixed, set_proxy_header
from nglint.semantics.evaluate import proxy_host
from nglint.semantics.servers import parse_listen
from nglint.semantics.tokens import nginx_token
from nglint.semantics.upstream import upstream_for
from nglint.tree import Node

CODE = "NG106"
NAME = "jupyter-host-header"
SEVERITY = "warning"
FIXABLE = True
DEFAULT_PORTS = {80, 443}


def listen_ports(server: Node) -> set[int]:
    """Ports the server listens on (80 when it has no listen directive), read by the
    routing model's ``parse_listen`` (unix sockets have none)."""
    listens = [parse_listen(node) for node in server.directives("listen")]
    ports = {listen.port for listen in listens if listen.port is not None}
    return ports or ({80} if not listens else set())


def _proxy_host_is_the_browsers(target: str, server: Node) -> bool:
    """``$proxy_host`` (an upstream named ``notes.example.com``, as nginx-proxy writes
    it) equals one of the server's names, and the server listens on the default
    port of the browser's scheme, so the browser's ``Origin`` carries that host and
    no port: Jupyter's check passes.  Sources: nginx ``$proxy_host`` (name and port
    of the proxied server as written in proxy_pass); nginx-proxy's ``nginx.tmpl``
    (``upstream {{ $vhost }}``)."""
    host = proxy_host(target)
    if host is None or ":" in host:
        return False
    names = {nginx_token(arg).lower() for node in server.directives("server_name")
             for arg in node.args}
    ports = listen_ports(server)
    ssl = any("ssl" in node.args for node in server.directives("listen"))
    return host.lower() in names and ports <= ({443} if ssl else {80})


def check(context: Context) -> Iterator[Report]:
    for group in context.apps.proxied_groups(need="origin"):
        upstream = upstream_for(context.model, group.location)
        if upstream is None:
            continue  # not proxy_pass: nglint does not model what it sends
        origins = upstream.named("Origin")
        if origins and all(header.blank for header in origins):
            continue  # Origin blanked: Jupyter skips the check (NG107 reports that)
        hosts = upstream.may_send("Host")
        if len(hosts) != 1:
            continue  # Host sent twice (NG015) or not at all: that is the defect to fix first
        host = hosts[0]
        value = host.value
        if "$http_host" in value or re.search(r"\$host:.+", value):
            continue
        where = "nginx default" if host.is_default else host.where()
        if value == "$host":
            odd = sorted(listen_ports(group.server) - DEFAULT_PORTS)
            if not odd:
                continue
            problem = (f"Host is $host ({where}), which drops the port {odd[0]} the browser "
                       "puts in Origin")
            short = f"Host is $host, which drops the port {odd[0]} the browser puts in Origin"
        elif value == "$proxy_host":
            if _proxy_host_is_the_browsers(upstream.target, group.server):
                continue  # nginx-proxy names the upstream after the host: Origin matches
            problem = f"Host is $proxy_host, the upstream's address ({where})"
            short = "Host is $proxy_host, the upstream's address"
        else:
            problem = f"Host is {value!r} ({where}), not the host the browser sees"
            short = f"Host is {value!r}, not the host the browser sees"
        location = group.location
        node = group.at(host.node)
        fix, why = make_fix("send Host $http_host", set_proxy_header, context.model, location,
                            "Host", "$http_host", context.tree)
        yield Report(
            f"{problem}: {group.describe()} are refused with 403 'Cross origin "
            "websockets not allowed'; send `proxy_set_header Host $http_host`" + not_fixed(why),
            node=node, fix=fix,
            headline=f"{short}: websockets refused with 403",
            notes=[f"Host {value}: {where}", group.affected(),
                   "effect: 403 'Cross origin websockets not allowed'; send "
                   "`proxy_set_header Host $http_host`", *fix_notes(fix, why)],
            location=group.anchor,
            related=[(host.node, "Host set here")]
            if host.node is not None and host.node is not node else [],
        )
