"""A proxied request whose destination host the client chooses (SSRF).

## What it does
For every `proxy_pass`, `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` and
`grpc_pass`, reads the target up to the end of its host part (scheme,
authority), following `set` variables written into it, and reports a variable
there that the client controls: `$arg_*`, `$http_*`, `$cookie_*`,
`$args`, `$request_uri`, `$uri`, captures of an open-ended regex group over
the URI (`(.*)`, `([^/]+)`), `$host` in a server that answers any `Host`,
and anything a `map` or `set` passes them through (`nglint.semantics.taint`).
A map whose values are all literals is a whitelist: not reported.  Variables
that begin with `/` (`$request_uri`, `$uri`) after a literal host end the
host part: `http://backend$request_uri` is not reported.  Silent in an
`internal` location, which no client request reaches directly.  The finding
names the requests that reach the directive.

## Why is this bad?
nginx connects wherever the evaluated target says: a request such as
`/proxy/?url=http://169.254.169.254/latest/meta-data/` makes nginx fetch the
cloud metadata service, an admin interface on localhost or any internal host,
and hand the answer to the client (Server-Side Request Forgery).  A variable
in the host part also needs a `resolver`, whose answers the client then steers.

## Example
```nginx
location /proxy/ {
    proxy_pass $arg_url;
}
```

## Use instead
```nginx
map $arg_backend $backend {
    default  http://app1.internal;
    reports  http://reports.internal;
}
server {
    location /proxy/ {
        proxy_pass $backend;
    }
}
```
(a fixed set of destinations), or mark the location `internal` when only
`X-Accel-Redirect` from the application should reach it.

## Sources
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass
  ("Parameter value can contain variables. In this case, if an address is
  specified as a domain name, the name is searched among the described server
  groups, and, if not found, is determined using a resolver.")
- https://nginx.org/en/docs/http/ngx_http_core_module.html#internal
- https://nginx.org/en/docs/http/ngx_http_core_module.html#variables
- gixy's `ssrf` plugin (the same check; MPL-2.0), OWASP "Server Side Request Forgery".
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.taint import (
    URL_PASSES,
    Taint,
    describe_location,
    host_part_variables,
    is_internal,
)
from nglint.semantics.tokens import nginx_token

CODE = "NG201"
NAME = "ssrf"
SEVERITY = "error"
FIXABLE = False
SECURITY_SEVERITY = 8.6



def check(context: Context) -> Iterator[Report]:
    taint = Taint(context.tree)
    seen: set[tuple[str | None, int]] = set()
    for directive in URL_PASSES:
        for node in context.tree.named(directive):
            if not node.args or is_internal(node):
                continue
            if (node.path, node.line) in seen:
                continue  # the same line, included at another site
            seen.add((node.path, node.line))
            sources = taint.variables(
                host_part_variables(nginx_token(node.args[0]), node, taint), "controlled")
            if not sources:
                continue
            exposed = describe_location(node)
            shown = "; ".join(source.describe() for source in sources)
            yield Report(
                f"{directive} connects to a host the client chooses: the target's host part "
                f"comes from {shown}; {exposed} can make nginx reach any internal address "
                "(SSRF): map the client's choice to a fixed set of targets, or make the "
                "location internal",
                node=node,
                headline=f"{directive} target host is client-controlled (SSRF)",
                notes=[f"from {source.describe()}" for source in sources]
                + [f"exposed to {exposed}"])
