"""A statement that runs on into the next line: its `;` or its arguments are missing.

## What it does
Reports a directive whose arguments continue on a later line that starts with
the name of another directive: `proxy_set_header` left without its arguments
above `proxy_http_version 1.1;`, or `listen 80` without its `;` above
`server_name`.  The finding is at the statement that lost its end, and names
the line it swallowed.

## Why is this bad?
nginx reads a statement up to its `;` whatever the lines, so the next line
becomes arguments.  Sometimes nginx refuses the result (`invalid parameter
"server_name"`); sometimes it accepts it silently: `proxy_set_header` followed by
`proxy_http_version 1.1;` sends a header named `proxy_http_version` and leaves
HTTP/1.0 in force although the file shows `proxy_http_version 1.1;`.  Fixes
never edit a block holding such a statement (a fix could hide it, for example by
adding a second `proxy_http_version`): what the author meant is unclear.

## Example
```nginx
location / {
    proxy_pass http://127.0.0.1:8888;
    proxy_set_header
    proxy_http_version 1.1;
}
```

## Use instead
```nginx
location / {
    proxy_pass http://127.0.0.1:8888;
    proxy_set_header Upgrade $http_upgrade;
    proxy_http_version 1.1;
}
```

## Sources
- nginx `src/core/ngx_conf_file.c`, `ngx_conf_read_token`: a newline is a blank
  like any other; only `;`, `{` and `}` end a statement.
- nginx configuration syntax: https://nginx.org/en/docs/beginners_guide.html#conf_structure
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.runon import run_ons

CODE = "NG017"
NAME = "missing-semicolon"
SEVERITY = "error"
FIXABLE = False


def check(context: Context) -> Iterator[Report]:
    for node, token in run_ons(context.tree):
        span = node.statement
        assert span is not None
        tokens = span.args
        swallowed = " ".join(t.value for t in tokens[tokens.index(token):])
        yield Report(
            f'"{node.directive}" runs on into line {token.line}: `{swallowed}` is read as '
            f"its arguments; a `;` or the arguments are missing at the end of line {node.line}",
            node=node,
            headline=f'"{node.directive}" has no `;`: line {token.line} is read as its '
                     "arguments",
        )
