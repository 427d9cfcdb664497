"""A prefix location whose path is a regular expression: the `~` is missing.

## What it does
Reports a `location` without a modifier whose path holds regex syntax: a
group `(...)`, an alternation `|`, a class `[...]`, an anchor `^` or `$`,
a quantifier `*`/`+`/`?` after a character, or an escape.  Without `~` (or
`~*`) nginx reads the path as a literal prefix, which no real request
starts with.

## Why is this bad?
The location is dead: requests it was written for fall to another location.
The classic case is the websocket location of a Jupyter snippet,
`location /jupyter/(api/kernels/[^/]+/channels|terminals/websocket)/? { ... }`:
the upgrade headers it holds never apply, and kernels stay "Connecting".

## Example
```nginx
location /jupyter/(api/kernels/[^/]+/channels|terminals/websocket)/? {
    proxy_pass http://127.0.0.1:8888;
}
```

## Use instead
```nginx
location ~ ^/jupyter/(api/kernels/[^/]+/channels|terminals/websocket)/? {
    proxy_pass http://127.0.0.1:8888;
}
```
or, better, one location for the whole prefix with the upgrade handling.

## Fix
Not fixed automatically: turning the location into a regex changes which
requests every other location serves (regexes win over prefixes).

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#location (a
  location without modifier is a prefix string; regexes need `~` or `~*`)
- nginx `ngx_http_core_location` (`src/http/ngx_http_core_module.c`): without
  a modifier the name is stored as an exact or prefix string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.locations import location_info

CODE = "NG016"
NAME = "location-missing-modifier"
SEVERITY = "error"
FIXABLE = False

# regex syntax no URI path holds: a group with an alternation or a class inside, a
# class, an anchor, an escaped character, or a quantifier after a group or class
REGEX_SYNTAX = re.compile(r"\([^)]*[|\[\\][^)]*\)|\[[^\]]+\]|^\^|\$$|\\[./dws(]|[)\]][*+?]")


def check(context: Context) -> Iterator[Report]:
    for node in context.tree.blocks("location"):
        info = location_info(node)
        if not info.supported or info.modifier not in ("", "^~", "="):
            continue
        found = REGEX_SYNTAX.search(info.path)
        if found is None:
            continue
        written = " ".join(node.args)
        kind = "exact URI" if info.modifier == "=" else "prefix"
        regex = info.path if info.path.startswith("^") else "^" + info.path
        yield Report(
            f"location {written} is read as a literal {kind} ({found.group()!r} is regex "
            f"syntax): no real request reaches it; write `location ~ {regex}` if a regex "
            "was meant",
            node=node,
        )
