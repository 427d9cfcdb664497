"""A block's own `proxy_set_header` drops the headers set at an outer level.

## What it does
Reports every proxying `location` that sets at least one
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

CODE = "NG005"
NAME = "proxy-header-dropped"
SEVERITY = "warning"
FIXABLE = False
USES = ("apps",)


def check(context: Context) -> Iterator[Report]:
    model = context.model
    # locations that serve a Jupyter websocket: there a lost Host means 403
    serving = {id(g.location) for g in context.apps.proxied_groups(need="origin")}
    for block in context.tree.blocks("location"):
        # proxy_set_header is not allowed inside `if` (NG007), so only locations count
        own = {n.args[0].lower() for n in block.directives("proxy_set_header") if n.args}
        if not own or model.handler(block) is None or block.first("proxy_pass") is None:
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
        message = (f"this location sets its own proxy_set_header, so the header(s) set in "
                   f"{where} are not sent from here: {names}")
        if id(block) in serving and any(v.args[0].lower() == "host" for v in lost):
            message += ("; Jupyter then sees the upstream address as Host and refuses "
                        "websockets with 403")
        notes = [f"set in {where}, not sent from here"]
        if id(block) in serving and any(v.args[0].lower() == "host" for v in lost):
            notes.append("Jupyter then sees the upstream address as Host and refuses "
                         "websockets with 403")
        yield Report(message, node=block,
                     headline=f"this location's own proxy_set_header drops {names}",
                     notes=notes)
