"""A time or size value nginx refuses.

## What it does
Parses the arguments of every time directive (`proxy_read_timeout`,
`keepalive_timeout`, `ssl_session_timeout`, ...) and size directive
(`client_max_body_size`, `proxy_buffer_size`, ...) exactly as nginx does and
reports the ones nginx would refuse.  Values holding variables are skipped.

## Why is this bad?
`nginx -t` fails with `invalid value`.  Common causes: a fraction (`1.5s`),
units out of order (`30s1m`), `ms` in a seconds field, `M`/`y` in a
millisecond field, `g` in a size that only takes `k`/`m`.

## Example
```nginx
proxy_read_timeout 1.5h;
client_body_buffer_size 1g;
```

## Use instead
```nginx
proxy_read_timeout 1h30m;
client_body_buffer_size 1m;
```

## Sources
- https://nginx.org/en/docs/syntax.html
- nginx `src/core/ngx_parse.c` (`ngx_parse_time`, `ngx_parse_size`,
  `ngx_parse_offset`)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics import values

CODE = "NG003"
NAME = "invalid-value"
SEVERITY = "error"
FIXABLE = False


def _parser(directive: str):  # noqa: ANN202 - a parse function
    if directive in values.TIME_MS_DIRECTIVES:
        return lambda text: values.parse_time(text, is_sec=False)
    if directive in values.TIME_SEC_DIRECTIVES:
        return lambda text: values.parse_time(text, is_sec=True)
    if directive in values.OFFSET_DIRECTIVES:
        return values.parse_offset
    if directive in values.SIZE_DIRECTIVES:
        return values.parse_size
    return None


def check(context: Context) -> Iterator[Report]:
    tree = context.tree
    names = (values.TIME_MS_DIRECTIVES | values.TIME_SEC_DIRECTIVES | values.SIZE_DIRECTIVES)
    for node in (n for name in sorted(names) for n in tree.named(name)):
        parse = _parser(node.directive)
        if parse is None or not node.args:
            continue
        text = node.args[0]
        if "$" in text:
            continue
        try:
            parse(text)
        except values.InvalidValue as error:
            yield Report(f"{node.directive}: {error}", node=node)
        if node.directive == "keepalive_timeout" and len(node.args) > 1:
            try:  # the optional second argument (Keep-Alive header) is in seconds
                values.parse_time(node.args[1], is_sec=True)
            except values.InvalidValue as error:
                yield Report(f"{node.directive}: {error}", node=node)
