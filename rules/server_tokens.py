"""nginx tells every client its version (`server_tokens` on, the default).

## What it does
For each `http` block, asks the model which `server_tokens` is in force in every
server (and in every location that sets it) and reports, once for that `http`
block, where it is `on` (nginx's default) or `build`: the servers and locations
concerned and where the value was set.  In a fragment whose `http` block is not
in view (a `sites-available` file), only an explicit `server_tokens on|build`
is reported, since the main file may switch it off.

Opt-in: it runs when selected (`--select NG214`, `--select security`,
`--select ALL`, or `select` in the configuration), not in a default run.

## Why is this bad?
With `server_tokens on` every response carries `Server: nginx/1.22.1` and every
error page nginx generates ends with the version; `build` adds the build name.
It tells an attacker which published vulnerabilities apply without any probing.
Hiding it is not a fix for an old nginx, but it costs nothing.

## Example
```nginx
http {
    server {
        listen 80;
        server_name example.com;
    }
}
```

## Use instead
```nginx
http {
    server_tokens off;
    server {
        listen 80;
        server_name example.com;
    }
}
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#server_tokens
- nginx `src/http/ngx_http_header_filter_module.c` (the `Server` header) and
  `src/http/ngx_http_special_response.c` (the error page tail), both read the
  location's `server_tokens`
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.exposure import server_label
from nglint.tree import Node

CODE = "NG214"
NAME = "server-tokens"
SEVERITY = "info"
FIXABLE = False
SECURITY_SEVERITY = 2.0
# nearly every configuration keeps the default: run when selected (--select NG214,
# --select security, --select ALL), never as noise in a default run
OPT_IN = True
# its finding in a server lists every server_tokens of the tree (nglint.scope)
WHOLE_TREE = True

DISCLOSING = frozenset({"on", "build"})


def _servers(http: Node) -> list[Node]:
    return [n for n in http.directives("server") if n.is_block]


def check(context: Context) -> Iterator[Report]:
    model = context.model
    for http in context.tree.blocks("http"):
        in_view = not http.synthetic
        exposed: list[tuple[Node, str, Node | None]] = []  # block, value, where set
        servers = _servers(http)
        for server in servers:
            value = model.effective(server, "server_tokens")
            if value is not None and value.value in DISCLOSING and (in_view or not
                                                                    value.is_default):
                exposed.append((server, value.value, value.node))
        for node in context.tree.named("server_tokens"):
            block = node.parent
            if block is None or block.directive == "server" or block.directive == "http":
                continue
            if node.args and node.args[0] in DISCLOSING and http in node.ancestors():
                enclosing = block.enclosing("server")
                if enclosing is not None and not any(s is enclosing and w is node
                                                     for s, _, w in exposed):
                    exposed.append((block, node.args[0], node))
        if not exposed:
            continue
        explicit = [where for _, _, where in exposed if where is not None]
        anchor = explicit[0] if explicit else http
        if not in_view and not explicit:
            continue
        if anchor.synthetic:
            continue
        labels = list(dict.fromkeys(
            server_label(block) if block.directive == "server"
            else f"location {' '.join(block.args)}" for block, _, _ in exposed))
        shown = ", ".join(labels[:4]) + (f" and {len(labels) - 4} more" if len(labels) > 4
                                         else "")
        disclosed = exposed[0][1]
        origin = "nginx default" if not explicit else f"set at {explicit[0].path}:" \
            f"{explicit[0].line}"
        yield Report(
            f"server_tokens is {disclosed} ({origin}) for {shown}: every response's Server "
            "header and every error page name the nginx version"
            + (" and build" if disclosed == "build" else "") + "; "
            + ("set server_tokens off in http" if not explicit else "set it to off there"),
            node=anchor,
            headline=f"server_tokens {disclosed}: the nginx version is disclosed",
            notes=[f"{len(exposed)} of {len(servers)} server(s) or location(s) disclose it",
                   "server_tokens off; in the http block"])
