"""A variable that nothing defines.

## What it does
Collects the variables the configuration defines (`map`, `geo`,
`split_clients`, `set`, `perl_set`, `js_set`, `set_by_lua*`, named regex
captures) and nginx's built-in ones (`$host`, `$http_*`, `$arg_*`,
`$upstream_http_*`, ...) and reports every variable used but defined nowhere.

## Why is this bad?
`nginx -t` fails with `unknown "connection_upgrade" variable` and nginx
refuses to start or reload.  The classic case: the websocket recipe's
`proxy_set_header Connection $connection_upgrade;` copied without its `map`.
In a fragment linted on its own (a `sites-available` file) the definition may
live in a file nglint was not given: there the finding is a warning.  A fragment
under the folder of a main `nginx.conf` checked in the same run counts the variables
that file's http block defines, since it joins that block once enabled.

## Example
```nginx
location / {
    proxy_set_header Connection $connection_upgrade;
}
```

## Use instead
```nginx
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
```

## Fix
For `$connection_upgrade`, adds the map to `http`; when a map from `$http_upgrade`
already defines another variable, `proxy_set_header Connection` uses that one.  In a
fragment that joins a main tree's http block, the map belongs to that block: the
fragment's own finding is not fixed (the main tree's is, when it uses the variable).

## Sources
- https://nginx.org/en/docs/varindex.html
- https://nginx.org/en/docs/http/websocket.html
- nginx `src/http/ngx_http_variables.c` (`ngx_http_variables_init_vars`:
  "unknown ... variable")
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.edits import Edit, EditError, replace_arg
from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.fixes import (
    UPGRADE_MAP_VARIABLE,
    ensure_upgrade_map,
    make_fix,
    not_fixed,
    upgrade_map,
)
from nglint.semantics.variables import undefined
from nglint.tree import Node

CODE = "NG004"
NAME = "undefined-variable"
SEVERITY = "error"
FIXABLE = True


def check(context: Context) -> Iterator[Report]:
    fragment = context.tree.context != "main"
    for use in undefined(context.tree):
        message = f"variable ${use.name} is not defined: nginx -t fails with unknown variable"
        fix = None
        if use.name == UPGRADE_MAP_VARIABLE:
            message += " (add `map $http_upgrade $connection_upgrade { default upgrade; '' " \
                       "close; }` to http)"
            if context.tree.joins is not None:
                # its http block is the main tree's: the map belongs there, not here
                # (that tree's own finding adds it when it uses the variable too)
                why = f"this file joins the http block of {context.tree.joins}: add it there"
            else:
                fix, why = make_fix("add the $connection_upgrade map", _add_map, context,
                                    use.node)
            message += not_fixed(why)
        if any("${" + use.name + "}" in arg for arg in use.node.args):
            message += (f" (${{{use.name}}} looks like an envsubst placeholder: lint the "
                        "rendered file)")
        if fragment:
            message += "; this file was linted as a fragment, the definition may be elsewhere"
        yield Report(message, node=use.node, fix=fix,
                     severity=Severity.WARNING if fragment else None)


def _add_map(context: Context, node: Node) -> list[Edit]:
    """The $connection_upgrade map; with a map from $http_upgrade under another name,
    ``proxy_set_header Connection $connection_upgrade`` uses that one instead."""
    existing = upgrade_map(context.tree)
    if existing is None:
        return ensure_upgrade_map(context.tree)[1]
    variable = existing.args[1]
    wanted = "$" + UPGRADE_MAP_VARIABLE
    if node.directive == "proxy_set_header" and len(node.args) == 2 \
            and node.args[1] in (wanted, "${" + UPGRADE_MAP_VARIABLE + "}"):
        return [replace_arg(node, 1, variable)]
    raise EditError(f"a map from $http_upgrade defines {variable}: use it here")
