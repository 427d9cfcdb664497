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

A regex nglint can translate is searched with RE2 in linear time when RE2
takes it; one that needs Python's backtracking `re` (lookarounds,
backreferences, atomic groups) gets 0.2 s a search.  A regex that runs out of
that budget on a Jupyter endpoint URI (catastrophic backtracking, such as
`^/(?:[\\w-]+/?)+(?<!~)\\.png$`) is reported too: routing through it is unknown.

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

import re
from collections.abc import Iterator
from functools import lru_cache

from nglint.apps.jupyter_server import ENDPOINTS
from nglint.engine import Context, Report
from nglint.semantics.locations import location_info
from nglint.semantics.pcre import SEARCH_SECONDS, RegexTooCostly, ran_out, search, translate_pcre
from nglint.semantics.tokens import nginx_token

CODE = "NG013"
NAME = "unsupported-regex"
SEVERITY = "info"
FIXABLE = False


# what routing asks about: every Jupyter websocket endpoint at the root
PROBES = tuple(f"/{endpoint.sample}".encode() for endpoint in ENDPOINTS)


def _runs_out(regex: re.Pattern[bytes]) -> bytes | None:
    """A subject on which searching ``regex`` ran past the budget (in this run, or
    now on a Jupyter endpoint URI), or None."""
    return _probe(regex) or ran_out(regex)


@lru_cache(maxsize=4096)
def _probe(regex: re.Pattern[bytes]) -> bytes | None:
    """The Jupyter endpoint URI on which ``regex`` runs past the budget, or None.  Each
    probe costs at most the budget once (``search`` remembers a pattern that ran out),
    and a pattern is probed once: ``translate_pcre`` gives one object per pattern, and
    a large estate repeats its static-file regexes in every server."""
    for subject in PROBES:
        try:
            search(regex, subject)
        except RegexTooCostly:
            return ran_out(regex) or subject
    return None


def check(context: Context) -> Iterator[Report]:
    for node in context.tree.blocks("location"):
        info = location_info(node)
        if info.is_regex and not info.supported:
            yield Report(
                f"nglint cannot evaluate the regex {info.path!r} ({info.reason}); "
                "which location serves URIs reaching it is reported as unknown",
                node=node)
        elif info.is_regex and info.regex is not None:
            subject = _runs_out(info.regex)
            if subject is not None:
                yield Report(
                    f"nglint gave up evaluating the regex {info.path!r} after "
                    f"{SEARCH_SECONDS:g} s on {subject.decode('ascii', 'replace')!r} "
                    "(backtracking without end: RE2 cannot take it, Python's re "
                    "backtracks); which location serves URIs reaching it is reported "
                    "as unknown", node=node)
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
