"""A location or server_name regex nglint cannot evaluate, so routing through it is unknown.

## What it does
Reports every `location ~` / `location ~*` and every `server_name ~...` whose
PCRE2 pattern has no faithful Python translation: `\\K`, recursion (`(?R)`,
`(?1)`, `(?&name)`), backtracking verbs (`(*SKIP)`, `(*UTF)`), `\\g` references,
`\\h`, `\\v`, `\\R`, conditions on names or assertions, extended mode `(?x)`,
the option settings `(?n)`, `(?J)`, `(?U)`, and patterns Python's `re` refuses.
Named groups `(?<name>...)` / `(?'name'...)`, `\\Q...\\E`, `\\z`, `\\Z`, POSIX
classes, atomic groups, possessive quantifiers and the option settings `(?i)`,
`(?s)`, `(?m)`, `(?^)` anywhere in the pattern are translated and not reported.

## Why is this bad?
Nothing is wrong for nginx: this is information about nglint.  Rules that
ask which location serves a URI, or which server takes a Host, get
"unknown" as soon as such a regex is reached before a decision (regexes are
tried in configuration order, server_name regexes after every exact and
wildcard name), so they stay silent rather than guess.

## Example
```nginx
location ~ ^/files/\\K.*$ {
    return 200 "file";
}
```

## Use instead
```nginx
location ~ ^/files/(?<rest>.*)$ {
    return 200 "file";
}
```

## Sources
- nginx `location`: https://nginx.org/en/docs/http/ngx_http_core_module.html#location
- nginx `server_name`: https://nginx.org/en/docs/http/server_names.html
- nginx compiles location and server_name regexes with PCRE2 without UTF
  (`src/core/ngx_regex.c`, `ngx_regex_compile`) and tries them in order
  (`src/http/ngx_http_core_module.c`, `ngx_http_core_find_location`;
  `src/http/ngx_http_request.c`, `ngx_http_find_virtual_server`).  A
  server_name pattern with a capital letter is caseless
  (`ngx_http_core_server_name`).
- PCRE2 syntax: https://www.pcre.org/current/doc/html/pcre2syntax.html
- Python `re` syntax: https://docs.python.org/3/library/re.html
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.locations import location_info
from nglint.semantics.pcre import translate_pcre
from nglint.semantics.tokens import nginx_token

CODE = "NG013"
NAME = "unsupported-regex"
SEVERITY = "info"
FIXABLE = False


def check(context: Context) -> Iterator[Report]:
    for node in context.tree.blocks("location"):
        info = location_info(node)
        if info.is_regex and not info.supported:
            yield Report(
                f"nglint cannot evaluate the regex {info.path!r} ({info.reason}); "
                "which location serves URIs reaching it is reported as unknown",
                node=node)
    for node in context.tree.named("server_name"):
        if node.enclosing("stream") is not None or node.enclosing("mail") is not None:
            continue
        for arg in node.args:
            name = nginx_token(arg)
            if not name.startswith("~") or len(name) < 2:
                continue
            pattern = name[1:]
            # ngx_http_core_server_name: a pattern with a capital letter is caseless
            caseless = any("A" <= char <= "Z" for char in pattern)
            compiled, reason = translate_pcre(pattern, caseless)
            if compiled is None:
                yield Report(
                    f"nglint cannot evaluate the server_name regex {pattern!r} ({reason}); "
                    "which server takes Host values reaching it is reported as unknown",
                    node=node)
