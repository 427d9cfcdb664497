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
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives
from nglint.engine import Context, Report
from nglint.tree import Node

CODE = "NG011"
NAME = "duplicate-directive"
SEVERITY = "error"
FIXABLE = False


def _where(node: Node) -> str:
    return f"{node.path}:{node.line}" if node.path else f"line {node.line}"


def check(context: Context) -> Iterator[Report]:
    version = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    seen: dict[tuple[int, str], Node] = {}
    # (name, context, argument count) -> whether nginx takes it once per block
    once: dict[tuple[str, str, int], bool] = {}
    for node, (where, _known, allowed, stopped) in directives.checked_directives(
            context.tree.root, version, extra).rows():
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
