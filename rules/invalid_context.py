"""A directive in a block where nginx refuses it.

## What it does
Checks every known directive against the contexts nginx allows it in, in some
version of the target (`--nginx-version`, a range: an error only when no version
allows it there): `map`, `log_format`, `upstream` or `limit_req_zone` inside
`server`; `proxy_pass` at `http` level; `location` inside `if`; `server_name` in
`location`; `add_header` inside an `if` at server level (only `if` in a
location takes it), and so on.  Blocks inside `if` follow nginx's own lists
(`NGX_HTTP_SIF_CONF`, `NGX_HTTP_LIF_CONF`).  What an unknown or misplaced
block holds is not checked (nginx stops at the block).

## Why is this bad?
`nginx -t` fails with `"map" directive is not allowed here` and the
configuration is not loaded.  The directive usually works one level up or down,
so the fix is to move it.

## Example
```nginx
server {
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
}
```

## Use instead
```nginx
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
server {
}
```

## Sources
- each directive's "Context:" line in https://nginx.org/en/docs/
- nginx `src/core/ngx_conf_file.c` (`ngx_conf_handler`: `is not allowed here`), the
  `NGX_*_CONF` flags of every module's `ngx_command_t` table
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives
from nglint.engine import Context, Report

CODE = "NG007"
NAME = "invalid-context"
SEVERITY = "error"
FIXABLE = False


def check(context: Context) -> Iterator[Report]:
    version = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    for node, (where, known, allowed_here, stopped) in directives.checked_directives(
            context.tree.root, version, extra).rows():
        if not known or allowed_here or stopped:
            continue
        name = node.directive
        allowed = ", ".join(directives.allowed_contexts(known))
        yield Report(f'"{name}" directive is not allowed here (in {directives.label(where)}); '
                     f"nginx allows it in: {allowed}", node=node)
