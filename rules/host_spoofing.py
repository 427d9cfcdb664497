"""A `Host` (or `X-Forwarded-Host`) sent upstream that the client wrote, not the host nginx served.

## What it does
Reads every `proxy_set_header` / `grpc_set_header` line for `Host` and
`X-Forwarded-Host` and reports a value built from a client-controlled
variable other than `$host` (`nglint.semantics.taint`): `$http_host`,
`$http_x_forwarded_host`, `$arg_*`, a `map` that passes one of them on.
`$host` is what nginx selected the server with; it is not reported here (NG201
reports it where it reaches a `proxy_pass` host).

A warning in general.  Where NG106 (jupyter-host-header) itself recommends
`$http_host`, a location served on default and other ports, where no other
value gives the application the browser's host and port, it is only
information: the trade-off is stated, NG106's advice is not contradicted.

## Why is this bad?
`$http_host` is the `Host` header exactly as the client sent it.  With an
absolute request target (`GET http://a.example.com/ HTTP/1.1` plus
`Host: evil.example`) nginx selects the server, and sets `$host`, from the
request line, while `$http_host` still says `evil.example`; behind a default
(catch-all) server any `Host` reaches the application.  Applications build
password-reset links, redirects and cache keys from `Host`: a spoofed one
poisons them.  `$host` also lower-cases and drops the port; `$http_host` keeps
whatever the client wrote.  Debian's own `proxy_params` sets
`Host $http_host`, so `include proxy_params;` is reported too.

## Example
```nginx
location / {
    proxy_set_header Host $http_host;
    proxy_pass http://app;
}
```

## Use instead
```nginx
location / {
    proxy_set_header Host $host;
    proxy_pass http://app;
}
```
(`$host:$server_port` when the port matters, and `server_name` listing only
the hosts the application serves, with a default server that rejects others).

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#var_host ("in this
  order of precedence: host name from the request line, or host name from the
  Host request header field, or the server name matching a request")
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
- RFC 9112, section 3.2.2 (absolute-form: the request target's authority wins)
- Debian nginx `proxy_params`; gixy's `host_spoofing` plugin (MPL-2.0).
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.apps.origin import host_for_origin, servers_of
from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.taint import Taint, describe_location
from nglint.semantics.tokens import nginx_token

CODE = "NG202"
NAME = "host-spoofing"
SEVERITY = "warning"
FIXABLE = False
SECURITY_SEVERITY = 5.3

HOST_HEADERS = frozenset({"host", "x-forwarded-host"})


def check(context: Context) -> Iterator[Report]:
    taint = Taint(context.tree)
    seen: set[tuple[str | None, int]] = set()
    for directive in ("proxy_set_header", "grpc_set_header"):
        for node in context.tree.named(directive):
            if len(node.args) < 2:
                continue
            if (node.path, node.line) in seen:
                continue  # the same line, included at another site
            seen.add((node.path, node.line))
            header = nginx_token(node.args[0])
            if header.lower() not in HOST_HEADERS:
                continue
            value = nginx_token(node.args[1])
            sources = [source for source in taint.controlled(value, node)
                       if source.variable != "$host"]
            if not sources:
                continue
            servers = servers_of(node, context.tree)
            needed = header.lower() == "host" and bool(servers) \
                and host_for_origin(*servers) == "$http_host" and "$http_host" in value
            exposed = describe_location(node)
            shown = "; ".join(source.describe() for source in sources)
            if needed:
                yield Report(
                    f"{directive} {header} {value}: the upstream gets the Host header the "
                    f"client wrote ({shown}), not the one nginx served; kept because this "
                    "location is served on default and other ports and only $http_host "
                    "carries the browser's host and port (NG106); make sure the "
                    "application does not trust it for links or cache keys",
                    node=node, severity=Severity.INFO,
                    headline=f"{header} comes from the client ($http_host): a trade-off here",
                    notes=[f"from {shown}", f"exposed to {exposed}"])
                continue
            yield Report(
                f"{directive} {header} {value}: the upstream gets a host the client wrote "
                f"({shown}), which an absolute request line or a catch-all server lets "
                f"differ from the host nginx served; {exposed} can poison links, redirects "
                "and caches built from it: send $host (or $host:$server_port)",
                node=node,
                headline=f"{header} comes from the client, not from the server nginx chose",
                notes=[f"from {shown}", f"exposed to {exposed}"])
