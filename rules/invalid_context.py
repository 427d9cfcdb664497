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

## Fix
A declaration that means the same anywhere in `http` (`map`, `geo`,
`split_clients`, `upstream`, `log_format`, the `*_zone` and `*_cache_path`
directives) is moved, as written, to the top of the `http` block (in a
sites-enabled fragment, above the server that held it).  It is not moved from
the main level of a tree with a `stream` block (it may be meant for stream), out
of a file included from several places, or next to a map of the same variable.

## Sources
- each directive's "Context:" line in https://nginx.org/en/docs/
- nginx `src/core/ngx_conf_file.c` (`ngx_conf_handler`: `is not allowed here`), the
  `NGX_*_CONF` flags of every module's `ngx_command_t` table
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives
from nglint.engine import Context, Report
from nglint.fixes import HTTP_DECLARATIONS, fix_notes, make_fix, move_into_http, not_fixed

CODE = "NG007"
NAME = "invalid-context"
SEVERITY = "error"
FIXABLE = True
USES = ("directives",)


def check(context: Context) -> Iterator[Report]:
    version = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    for node, (where, known, allowed_here, stopped) in directives.checked_directives(
            context.tree.root, version, extra, context.tree.scope).rows():
        if not known or allowed_here or stopped:
            continue
        name = node.directive
        allowed = ", ".join(directives.allowed_contexts(known))
        message = (f'"{name}" directive is not allowed here (in {directives.label(where)}); '
                   f"nginx allows it in: {allowed}")
        fix, why = None, ""
        if name in HTTP_DECLARATIONS and where != "http" and \
                any("http" in variant.contexts for variant in known):
            fix, why = make_fix(f"move {name} into the http block", move_into_http,
                                node, context.tree)
        yield Report(message + not_fixed(why), node=node, fix=fix,
                     notes=fix_notes(fix, why))
