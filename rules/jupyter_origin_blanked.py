"""`proxy_set_header Origin ""` in front of Jupyter.

## What it does
Reports a Jupyter location whose effective `proxy_set_header` list blanks the
`Origin` header.

## Why is this bad?
Forum answers suggest it to silence `403 Cross origin websockets not allowed`
(logged as "Blocking Cross Origin WebSocket Attempt").  It works by switching
off Jupyter's cross-origin protection: any web page the user visits can then
open a websocket to their kernels and run code.  Fix the `Host` header instead
(see NG106 for the value that matches the browser's `Origin`).

## Example
```nginx
proxy_set_header Origin "";
```

## Use instead
```nginx
proxy_set_header Host $host;   # on ports 80 and 443; $host:$server_port on others
```

## Fix
Unsafe (`--unsafe-fixes`): removes the `Origin` line and sets `Host` to the value
NG106 recommends (`nglint.apps.origin`), unless the `Host` in force already
matches; the `Origin` line becomes the `Host` line when the location sets no `Host`.

## Sources
- jupyter_server `base/handlers.py` (`check_origin`: a request without Origin is
  allowed)
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
  (an empty value is not sent)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.apps.origin import host_for_origin, matches_origin, servers_of
from nglint.edits import Edit, EditError, Edits, remove_statement, replace_args
from nglint.engine import Context, Report
from nglint.fixes import fix_notes, make_fix, not_fixed, set_proxy_header, settings_block
from nglint.semantics.inherit import Model
from nglint.semantics.upstream import upstream_for
from nglint.tree import Node, Tree


def unblank(model: Model, location: Node, origin: Node | None, tree: Tree) -> list[Edit]:
    location = settings_block(location)
    if origin is None or origin.parent is not location:
        raise EditError("Origin is blanked at an outer level; change it there")
    if origin.source is not location.source or origin.via is not location.via:
        raise EditError(f"Origin is blanked in an included file ({origin.path}:{origin.line})")
    servers = servers_of(location, tree)
    server = location.enclosing("server")
    wanted = host_for_origin(*servers) if servers else "$http_host"
    host = next((n for n in location.directives("proxy_set_header")
                 if n.args and n.args[0].lower() == "host"), None)
    if host is None:  # the Origin line becomes the Host line: one edit, the list kept
        return [replace_args(origin, ["Host", wanted])]
    if server is not None and len(host.args) == 2 and matches_origin(host.args[1], server):
        return [remove_statement(origin)]
    return Edits([remove_statement(origin)]) + set_proxy_header(model, location, "Host",
                                                                  wanted)


CODE = "NG107"
NAME = "jupyter-origin-blanked"
SEVERITY = "warning"
FIXABLE = True
USES = ("apps",)


def check(context: Context) -> Iterator[Report]:
    for group in context.apps.proxied_groups(need="origin"):
        upstream = upstream_for(context.model, group.proxying)
        origins = upstream.named("Origin") if upstream is not None else []
        if not origins or not all(header.blank for header in origins):
            continue  # Origin passes through (or is set): Jupyter checks it
        origin = origins[-1]
        node = group.at(origin.node)
        fix, why = make_fix("stop blanking Origin, send the browser's Host", unblank,
                            context.model, group.proxying, origin.node, context.tree,
                            unsafe=True)
        yield Report(
            f"Origin is blanked ({origin.where()}): Jupyter's cross-origin check is off for "
            f"{group.describe()}; any web page can open a websocket to the user's kernels"
            + not_fixed(why),
            node=node, fix=fix,
            headline="Origin is blanked: Jupyter's cross-origin check is off",
            notes=[*([f'Origin "": set at {origin.where()}'] if node is not origin.node
                     else []), group.affected(),
                   "effect: any web page can open a websocket to the user's kernels",
                   *fix_notes(fix, why)],
            location=group.anchor,
            related=[(origin.node, "Origin blanked here")]
            if origin.node is not None and origin.node is not node else [],
        )
