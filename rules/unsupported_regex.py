"""A location regex nglint cannot evaluate, so routing through it is unknown.

## What it does
Reports every `location ~` / `location ~*` whose PCRE2 pattern has no
faithful Python translation: `\\K`, recursion (`(?R)`, `(?1)`, `(?&name)`),
backtracking verbs (`(*SKIP)`, `(*UTF)`), `\\g` references, `\\h`, `\\v`, `\\R`,
conditions on names or assertions, extended mode `(?x)`, inline flags that are
not at the start of the pattern, and patterns Python's `re` refuses.  Named
groups `(?<name>...)` / `(?'name'...)`, `\\Q...\\E`, `\\z`, `\\Z`, POSIX classes,
atomic groups and possessive quantifiers are translated and not reported.

## Why is this bad?
Nothing is wrong for nginx: this is information about nglint.  Rules that
ask which location serves a URI get "unknown" as soon as such a regex is
reached before a decision (regexes are tried in configuration order), so
they stay silent rather than guess for every URI that reaches it.

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
- nginx compiles location regexes with PCRE2 without UTF (`src/core/ngx_regex.c`,
  `ngx_regex_compile`) and tries them in order (`src/http/ngx_http_core_module.c`,
  `ngx_http_core_find_location`).
- PCRE2 syntax: https://www.pcre.org/current/doc/html/pcre2syntax.html
- Python `re` syntax: https://docs.python.org/3/library/re.html
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.locations import location_info

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
