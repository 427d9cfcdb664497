"""A directive set twice in one block where nginx takes it only once.

## What it does
Reports the second (and later) occurrence of a directive in the same block
when nginx refuses it with `"root" directive is duplicate`: every directive
stored by nginx's generic slots (`on`/`off` flags, numbers, sizes, times,
strings, paths: `root`, `proxy_pass`, `client_max_body_size`, `gzip`,
`proxy_read_timeout`, ...) and the ones whose handlers check it themselves
(`keepalive_timeout`, `alias`).  Array directives (`add_header`,
`proxy_set_header`, `listen`, `server_name`, `allow`, `error_page`, ...) may
repeat and are never reported.  Statements brought in by an `include` count
in the block of the include.  Which directives nginx refuses twice is taken
from the directive table (probed on a real nginx, see
`tools/build_directives.py`).

It also reports the values nginx takes only once, even from directives that
may repeat: the same `listen` address twice in one server (`listen 8081;` and
`listen *:8081;` are both `0.0.0.0:8081`), two servers that are both the
`default_server` of one address (two `sites-enabled` files copied from the
default site), a `log_format` name defined twice
(`combined` is predefined), and a `limit_req_zone` or `limit_conn_zone` zone
name declared twice.

## Why is this bad?
`nginx -t` fails with `"proxy_read_timeout" directive is duplicate`.  Usually
a value was copied into a block that already set it (often through an
included snippet), and which of the two was meant is unclear.

## Example
```nginx
location / {
    proxy_read_timeout 60s;
    include snippets/proxy.conf;   # also sets proxy_read_timeout 3600s;
}
```

## Use instead
```nginx
location / {
    include snippets/proxy.conf;
}
```

## Sources
- nginx `src/core/ngx_conf_file.c` (`ngx_conf_set_flag_slot`, `ngx_conf_set_str_slot`,
  `ngx_conf_set_msec_slot`, ...: `return "is duplicate"`)
- nginx `src/http/ngx_http.c` (`ngx_http_add_server`: `a duplicate listen`;
  `ngx_http_add_addresses`: `a duplicate default server`),
  `src/http/modules/ngx_http_log_module.c` (`duplicate "log_format" name`),
  `ngx_http_limit_req_module.c` / `ngx_http_limit_conn_module.c` (`is already bound
  to key`), `src/core/ngx_cycle.c` (`ngx_shared_memory_add`: `already declared for a
  different use`); each message checked against `nginx -t` in
  `tests/test_validation_nginx.py`
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives
from nglint.engine import Context, Report
from nglint.semantics.servers import parse_listen
from nglint.tree import Node

CODE = "NG011"
NAME = "duplicate-directive"
SEVERITY = "error"
FIXABLE = False
USES = ("directives",)


def _where(node: Node) -> str:
    return f"{node.path}:{node.line}" if node.path else f"line {node.line}"


def check(context: Context) -> Iterator[Report]:
    version = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    seen: dict[tuple[int, str], Node] = {}
    # (name, context, argument count) -> whether nginx takes it once per block
    once: dict[tuple[str, str, int], bool] = {}
    for node, (where, _known, allowed, stopped) in directives.checked_directives(
            context.tree.root, version, extra, context.tree.scope).rows():
        if not allowed or node.parent is None:
            continue
        name = node.directive
        kind = (name, where, len(node.args))
        unique = once.get(kind)
        if unique is None:
            found = [v for v in allowed if v.takes(kind[2])]
            unique = once[kind] = bool(found) and all(v.duplicate == "error" for v in found)
        if not unique:
            continue
        key = (id(node.parent), name)
        first = seen.get(key)
        if first is None:
            seen[key] = node
            continue
        if stopped:
            continue
        yield Report(f'"{name}" directive is duplicate: already set at {_where(first)}; '
                     "nginx takes it once per block", node=node)
    yield from _value_duplicates(context)


def _zone(node: Node) -> str | None:
    return next((arg[len("zone="):].rpartition(":")[0] or arg[len("zone="):]
                 for arg in node.args if arg.startswith("zone=")), None)


def _value_duplicates(context: Context) -> Iterator[Report]:
    """Values nginx takes once even from directives that may repeat."""
    tree = context.tree
    defaults: dict[str, Node] = {}  # address -> the listen that made a server its default
    for server in tree.blocks("server"):
        if server.parent is None or server.parent.directive != "http":
            continue
        listening: dict[str, Node] = {}
        for listen in server.directives("listen"):
            if not listen.args or "$" in listen.args[0]:
                continue
            address = parse_listen(listen)
            key = address.text
            first = listening.setdefault(key, listen)
            if first is not listen:
                yield Report(f"a duplicate listen {key}: this server already listens there "
                             f"({_where(first)})", node=listen)
                continue
            if address.default:
                default = defaults.setdefault(key, listen)
                if default is not listen and default.parent is not server:
                    yield Report(f"a duplicate default server for {key}: the server at "
                                 f"{_where(default)} is already the default there", node=listen)
    formats: dict[str, Node | None] = {"combined": None}  # predefined by nginx
    for node in tree.named("log_format"):
        if not node.args or node.parent is None or node.parent.directive != "http":
            continue
        name = node.args[0]
        if name in formats:
            earlier = formats[name]
            where = f"already at {_where(earlier)}" if earlier else "nginx predefines it"
            yield Report(f'duplicate "log_format" name "{name}" ({where})', node=node)
        else:
            formats[name] = node
    zones: dict[str, Node] = {}
    for directive in ("limit_req_zone", "limit_conn_zone"):
        for node in tree.named(directive):
            zone = _zone(node)
            if not zone or "$" in zone or node.parent is None \
                    or node.parent.directive != "http":
                continue
            first = zones.setdefault(zone, node)
            if first is node:
                continue
            if first.directive == directive:
                yield Report(f'{directive} "{zone}" is already declared at {_where(first)}: '
                             "nginx refuses a zone bound twice", node=node)
            else:
                yield Report(f'the shared memory zone "{zone}" is already declared for a '
                             f"different use ({first.directive} at {_where(first)})", node=node)
