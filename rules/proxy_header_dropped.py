"""A block's own `proxy_set_header` drops the headers set at an outer level.

## What it does
Reports every proxying `location` (or `if` inside one) that sets at least one
`proxy_set_header` while an outer level (`server`, `http`, an enclosing
location) sets headers the block does not set again.  The message names the
headers lost and, in front of Jupyter, what that breaks.

## Why is this bad?
`proxy_set_header` directives are inherited "if and only if there are no
`proxy_set_header` directives defined on the current level".  Adding a single
`proxy_set_header Upgrade $http_upgrade;` to a location silently drops the
server's `Host`, `X-Forwarded-For`, `X-Forwarded-Proto` and every other header:
the upstream sees its own address as `Host` (Jupyter answers 403 to
websockets), wrong client addresses and the wrong scheme.

## Example
```nginx
server {
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    location /api/kernels/ {
        proxy_pass http://jupyter;
        proxy_set_header Upgrade $http_upgrade;   # Host and X-Forwarded-Proto are gone here
    }
}
```

## Use instead
Repeat the outer headers in the block, or move all of them into a snippet
included at each level:
```nginx
    location /api/kernels/ {
        proxy_pass http://jupyter;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
    }
```

## Fix
When another fix adds a header to such a block, the inherited ones are copied
in first.  On its own this rule is not fixed: which headers a block should
send is a decision.

## Sources
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.inherit import levels
from nglint.tree import Node

CODE = "NG005"
NAME = "proxy-header-dropped"
SEVERITY = "warning"
FIXABLE = False


def _proxies(block: Node) -> bool:
    """The block passes requests to a proxy itself, or is an `if` inside one that does."""
    if block.first("proxy_pass") is not None:
        return True
    location = block.enclosing("location") if block.directive == "if" else None
    return location is not None and location.first("proxy_pass") is not None


def check(context: Context) -> Iterator[Report]:
    model = context.model
    jupyter_servers = {id(d.server) for d in context.jupyter.deployments}
    tree = context.tree
    for block in [*tree.blocks("location"), *tree.blocks("if")]:
        own = {n.args[0].lower() for n in block.directives("proxy_set_header") if n.args}
        if not own or not _proxies(block):
            continue
        outer_levels = levels(block)[1:]
        if not outer_levels:
            continue
        outer = model.array(outer_levels[0], "proxy_set_header")
        lost = [v for v in outer if len(v.args) == 2 and v.args[0].lower() not in own]
        if not lost:
            continue
        source = model.array_source(outer_levels[0], "proxy_set_header")
        names = ", ".join(v.args[0] for v in lost)
        where = f"{source.directive} at {lost[0].where()}" if source else lost[0].where()
        message = (f"this {block.directive} sets its own proxy_set_header, so the header(s) "
                   f"set in {where} are not sent from here: {names}")
        server = block.enclosing("server")
        if server is not None and id(server) in jupyter_servers:
            lost_names = {v.args[0].lower() for v in lost}
            if "host" in lost_names:
                message += ("; Jupyter then sees the upstream address as Host and refuses "
                            "websockets with 403")
        yield Report(message, node=block)
