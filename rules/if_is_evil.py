"""An `if` in a location that does more than return or rewrite.

## What it does
Reports an `if` inside a `location` whose body does not end the request with
`return` or `rewrite ... last|redirect|permanent`, when

- the body holds directives other than the rewrite module's (`add_header`,
  `proxy_pass`, `root`, `expires`, ...): info, naming them;
- or the location has `try_files`: a warning, since `try_files` is not in force
  while the condition holds.

An `if` whose body only sets variables (`set`, `break`, a `rewrite` without a
flag) in a location without `try_files` is left alone, as is every `if` at
server level.

## Why is this bad?
An `if` in a location is an implicit nested location.  When its condition is
true the request is served with the `if` block's configuration, not the
location's: directives that do not inherit (`try_files`) are gone, array
directives written in the `if` (`add_header`) replace the location's, and
the nginx wiki's "If is Evil" page lists further surprises.  The only fully
safe things to do inside `if` in a location are `return ...;` and
`rewrite ... last;`.

## Example
```nginx
location / {
    try_files $uri $uri/ /index.php?$args;
    if ($http_user_agent ~* bot) {
        add_header X-Robots-Tag noindex;
    }
}
```

## Use instead
```nginx
map $http_user_agent $robots { ~*bot noindex; default ""; }
server {
    location / {
        try_files $uri $uri/ /index.php?$args;
        add_header X-Robots-Tag $robots;
    }
}
```

## Sources
- https://github.com/nginxinc/nginx-wiki/blob/master/source/start/topics/depth/ifisevil.rst
  ("If is Evil... when used in location context")
- https://nginx.org/en/docs/http/ngx_http_rewrite_module.html#if
- nginx `src/http/modules/ngx_http_rewrite_module.c` (`ngx_http_rewrite_if`:
  the block is a location configuration of its own, `noname`)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.exposure import requests_to
from nglint.tree import Node

CODE = "NG212"
NAME = "if-is-evil"
SEVERITY = "info"
FIXABLE = False
SECURITY_SEVERITY = 3.0

REWRITE_MODULE = frozenset({"return", "rewrite", "set", "break", "rewrite_log",
                            "uninitialized_variable_warn"})
LEAVING_FLAGS = frozenset({"last", "redirect", "permanent"})


def _leaves(node: Node) -> bool:
    """Whether the statement ends the request's stay in the ``if`` block."""
    if node.directive == "return":
        return True
    return node.directive == "rewrite" and len(node.args) == 3 and node.args[2] in LEAVING_FLAGS


def check(context: Context) -> Iterator[Report]:
    for block in context.tree.blocks("if"):
        location = block.parent
        if location is None or location.directive != "location":
            continue
        body = list(block.directives())
        if any(_leaves(node) for node in body):
            continue
        others = [node for node in body if node.directive not in REWRITE_MODULE
                  and node.directive != "include"]
        names = ", ".join(dict.fromkeys(node.directive for node in others))
        condition = " ".join(block.args)
        reached = requests_to(location)
        tried = location.first("try_files")
        if tried is not None:
            yield Report(
                f"when if ({condition}) holds, {reached} are served by the if block, "
                f"where try_files (line {tried.line}) is not in force"
                + (f"; the block also sets {names}" if names else ""),
                node=block, location=location, severity=Severity.WARNING,
                headline=f"try_files is ignored when if ({condition}) holds",
                notes=[f"affected: {reached} when if ({condition})",
                       "use return/rewrite ... last in the if, or a map"])
        elif others:
            yield Report(
                f"if ({condition}) in a location holds {names}: when it holds, {reached} "
                "are served with the if block's configuration (If is Evil); only return "
                "and rewrite ... last are safe there",
                node=block, location=location,
                headline=f"if in location sets {names}",
                notes=[f"affected: {reached} when if ({condition})",
                       "use a map and a variable, or return/rewrite ... last"])
