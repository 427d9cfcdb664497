"""Jupyter proxied without the client's `Host` (and port).

## What it does
At the location that serves each Jupyter websocket endpoint, reads the
effective `Host` header sent upstream.  Reports nginx's default
`$proxy_host` (the upstream's address), a literal host, `$host` when the
server listens on a port other than 80 or 443 (`$host` drops the port), and
`$host:$server_port` when it listens on 80 or 443 (the browser leaves that port
out of `Origin`).  `$http_host` passes.

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
        proxy_set_header Host $host:$server_port;
```

`$host` on the default ports 80 and 443; `$host:$server_port` when nginx
itself listens on the port the browser uses; `$http_host` (the client's header
as sent) only where nothing else works: a server on default and other ports, or
a port mapping (`docker run -p 8443:443`) that makes the browser's port differ
from nginx's.  Debian's `proxy_params` and gixy warn against `$http_host`: with
an absolute-form request target the client chooses the host it carries.

Not reported when `Host` is `$proxy_host` and the upstream is named after one of
the server's names on the default port (the nginx-proxy layout): the browser's
`Origin` then matches.

## Fix
Sets `proxy_set_header Host` to the value above (`nglint.apps.origin`) in the
serving location.

## Sources
- jupyter_server `base/websocket.py` (`WebSocketMixin.check_origin`: the netloc of
  the lower-cased `Origin` must equal the `Host` header; "Blocking Cross Origin
  WebSocket Attempt")
- RFC 6454 section 6.2 (`Origin` omits the scheme's default port)
- Debian nginx `proxy_params` (security note against `$http_host`)
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
  (`Host $proxy_host` by default; `$host` has no port)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.apps.origin import (
    DEFAULT_PORTS,
    host_advice,
    host_for_origin,
    listen_ports,
    matches_origin,
    servers_of,
)
from nglint.engine import Context, Report
from nglint.fixes import fix_notes, make_fix, not_fixed, set_proxy_header
from nglint.semantics.evaluate import proxy_host
from nglint.semantics.tokens import nginx_token
from nglint.semantics.upstream import upstream_for
from nglint.tree import Node

CODE = "NG106"
NAME = "jupyter-host-header"
SEVERITY = "warning"
FIXABLE = True
USES = ("apps",)


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
        upstream = upstream_for(context.model, group.proxying)
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
        if matches_origin(value, group.server):
            continue
        where = "nginx default" if host.is_default else host.where()
        ports = listen_ports(group.server)
        odd = sorted(ports - DEFAULT_PORTS)
        if value == "$host":
            problem = (f"Host is $host ({where}), which drops the port {odd[0]} the browser "
                       "puts in Origin")
            short = f"Host is $host, which drops the port {odd[0]} the browser puts in Origin"
        elif value.startswith("$host:"):
            plain = sorted(ports & DEFAULT_PORTS)
            shown = plain[0] if plain else "nginx's"
            problem = (f"Host is {value} ({where}), which adds the port {shown} the browser "
                       "leaves out of Origin")
            short = f"Host is {value}, which adds a port the browser leaves out of Origin"
        elif value == "$proxy_host":
            if _proxy_host_is_the_browsers(upstream.target, group.server):
                continue  # nginx-proxy names the upstream after the host: Origin matches
            problem = f"Host is $proxy_host, the upstream's address ({where})"
            short = "Host is $proxy_host, the upstream's address"
        else:
            problem = f"Host is {value!r} ({where}), not the host the browser sees"
            short = f"Host is {value!r}, not the host the browser sees"
        location = group.proxying
        node = group.at(host.node)
        servers = servers_of(location, context.tree)
        wanted = host_for_origin(*servers)
        advice = host_advice(*servers)
        fix, why = make_fix(f"send Host {wanted}", set_proxy_header, context.model, location,
                            "Host", wanted, context.tree)
        yield Report(
            f"{problem}: {group.describe()} are refused with 403 'Cross origin "
            f"websockets not allowed'; {advice}" + not_fixed(why),
            node=node, fix=fix,
            headline=f"{short}: websockets refused with 403",
            notes=[f"Host {value}: {where}", group.affected(),
                   f"effect: 403 'Cross origin websockets not allowed'; {advice}",
                   *fix_notes(fix, why)],
            location=group.anchor,
            related=[(host.node, "Host set here")]
            if host.node is not None and host.node is not node else [],
        )
