"""`proxy_pass` with a URI part where nginx refuses one.

## What it does
Reports a `proxy_pass` whose target has a URI part (anything after the host and
port, `/` included) in a location given by a regular expression (`~`, `~*`), in a
named location (`@name`), inside `if`, or inside `limit_except`.  A target built
from variables is not checked: nginx allows it there.

## Why is this bad?
`nginx -t` fails: `"proxy_pass" cannot have URI part in location given by regular
expression, or inside named location, or inside "if" statement, or inside
"limit_except" block`.  In those places nginx has no matched prefix to replace
with the URI part, so it refuses the configuration instead of guessing.

## Example
```nginx
location ~ ^/accounts(.*)$ {
    proxy_pass http://127.0.0.1:8056/accounts;
}
```

## Use instead
```nginx
location ^~ /accounts {
    proxy_pass http://127.0.0.1:8056/accounts;
}
```
or `proxy_pass http://127.0.0.1:8056;` (the request's URI is passed unchanged), or
`rewrite` before a `proxy_pass` without a URI part.

## Sources
- nginx `src/http/modules/ngx_http_proxy_module.c`, `ngx_http_proxy_pass`
  (release-1.22.1): the check on `clcf->named`, `clcf->regex` and `clcf->noname`
  (`if` and `limit_except` blocks) when `plcf->vars.uri.len` is not zero.
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass
  ("the part of a normalized request URI matching the location is replaced")
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.locations import location_info
from nglint.semantics.upstream import split_target

CODE = "NG018"
NAME = "proxy-pass-uri-forbidden"
SEVERITY = "error"
FIXABLE = False


def _where(block: str, modifier: str) -> str | None:
    """Why a URI part is refused in this block, or None when it is allowed."""
    if block in ("if", "limit_except"):
        return f'inside "{block}"'
    if block != "location":
        return None
    if modifier in ("~", "~*"):
        return "in a location given by a regular expression"
    if modifier == "@":
        return "in a named location"
    return None


def check(context: Context) -> Iterator[Report]:
    for node in context.tree.named("proxy_pass"):
        block = node.parent
        if block is None or not node.args:
            continue
        parts = split_target(node.args[0])
        if parts is None or not parts[2]:
            continue  # variables (checked per request) or no URI part
        modifier = location_info(block).modifier if block.directive == "location" else ""
        where = _where(block.directive, modifier)
        if where is None:
            continue
        uri = parts[2]
        repair = (f"write `location ^~ {location_info(block).path}` if it is a prefix, or "
                  if modifier in ("~", "~*") and location_info(block).path.startswith("^/")
                  else "use ")
        yield Report(
            f'"proxy_pass" cannot have a URI part ({uri!r}) {where}: nginx -t fails; '
            f"{repair}`proxy_pass` without the URI part",
            node=node,
            headline=f'"proxy_pass" cannot have a URI part {where}',
        )
