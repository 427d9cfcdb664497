"""A file nginx cannot parse.

## What it does
Reports every file of the configuration that nginx would refuse to read: an
unbalanced brace, a directive not ended by `;`, an unterminated quote, a stray
`;` or `{`, a parameter (word, quoted string or comment) of 4096 bytes or more
(nginx's `too long parameter`), a file over 16 MiB, and template placeholders
(`{{ }}`, `<% %>`, `{% %}`) left in a file that was never rendered.  A NUL byte
is an ordinary byte, as for nginx: accepted in a value or a comment; a binary
file fails on its first unknown directive (NG006), as in nginx.

## Why is this bad?
`nginx -t` fails and the server keeps running the old configuration, or does not
start at all.  A file that does not parse is not analysed by any other rule,
so nglint cannot vouch for anything in it.

## Example
```nginx
server {
    listen 80
    server_name example.com;
}
```

## Use instead
```nginx
server {
    listen 80;
    server_name example.com;
}
```

## Sources
- nginx configuration syntax: https://nginx.org/en/docs/beginners_guide.html#conf_structure
- nginx's parser, `src/core/ngx_conf_file.c` (`ngx_conf_parse`, `ngx_conf_read_token`):
  the messages `unexpected "}"`, `unexpected end of file, expecting ";" or "}"`,
  and `too long parameter` for a token filling its `NGX_CONF_BUFFER` (4096 bytes;
  `nglint.parameter_limit`).
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report

CODE = "NG001"
NAME = "syntax-error"
SEVERITY = "error"
FIXABLE = False


def check(context: Context) -> Iterator[Report]:
    for problem in context.tree.problems:
        if problem.kind == "syntax":
            yield Report(problem.message, problem=problem)
