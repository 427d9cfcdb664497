r"""A header or request line built from a variable that may hold a line feed.

## What it does
Reads the values nginx writes into a header or a request line: `add_header`,
`add_trailer`, the redirect target of `return` (301, 302, 303, 307, 308) and
of a redirecting `rewrite`, `proxy_set_header`, `grpc_set_header` and the
`proxy_pass` URL; reports a variable there that may hold a line feed
(`nglint.semantics.taint`): `$uri`, `$document_uri` and regex captures
matched against them whose group can match `\n` (`([^/]+)`, `(\W*)`,
`(\s.*)`), followed through `set` and `map`.  Not reported: `$request_uri`,
`$args`, `$arg_*`, `$http_*` (raw: a line feed cannot reach them), a capture
group that cannot match `\n` (`(.*)`: nginx's PCRE `.` stops at a newline;
`([^\r\n]*)`, `(\w+)`), and numbered captures (`$1`) in a redirecting `rewrite`
or in a `set` value (nginx escapes them there when the URI had `%` escapes; named
captures are variables and are not escaped).  The finding names
the requests that reach the directive.

## Why is this bad?
nginx decodes `%0D%0A` in the request path into `$uri`.  Written into a
response header, the request `/x%0D%0ASet-Cookie:%20session=attacker` adds a
header of the client's choosing (HTTP response splitting: session fixation,
cache poisoning, cross-site scripting); written into `proxy_pass`'s URL or a
`proxy_set_header`, it splits the request sent upstream.  nginx does not
escape variables in these places.

## Example
```nginx
location / {
    return 301 https://$host$uri;
}
```

## Use instead
```nginx
location / {
    return 301 https://$host$request_uri;
}
```
(`$request_uri` is the raw, still escaped URI; for a capture, a group that
excludes newlines: `([^\r\n]*)` or `(.*)`).

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#var_uri (`$uri`:
  the current URI, normalized) and #var_request_uri (the original, raw URI)
- nginx `src/http/ngx_http_parse.c` (`ngx_http_parse_complex_uri`: `%XX`
  decoded, only `%00` refused) and `src/http/ngx_http_script.c`
  (`ngx_http_script_copy_capture_code`: captures escaped only in redirects,
  arguments and rewrite-module scripts; `ngx_http_script_regex_end_code`,
  `NGX_UNESCAPE_REDIRECT`) and `src/http/modules/ngx_http_rewrite_module.c`
  (`e->quote = 1`); every case checked on nginx 1.22.1 (tests/test_security_nginx.py)
- pcre2pattern, "Full stop (period, dot)" (no newline without DOTALL)
- gixy's `http_splitting` plugin (MPL-2.0); CWE-113.
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.taint import Taint, describe_location
from nglint.semantics.tokens import nginx_token
from nglint.tree import Node

CODE = "NG203"
NAME = "response-splitting"
SEVERITY = "error"
FIXABLE = False
SECURITY_SEVERITY = 7.5

REDIRECT_CODES = frozenset({"301", "302", "303", "307", "308"})
# directive -> (index of the value, what a line feed splits)
HEADERS = {"add_header": (1, "the response"), "add_trailer": (1, "the response"),
           "proxy_set_header": (1, "the request sent upstream"),
           "grpc_set_header": (1, "the request sent upstream"),
           "proxy_pass": (0, "the request sent upstream")}


def _value(node: Node) -> tuple[str, str, bool] | None:
    """(text, what it splits, numbered captures escaped) of a header-writing node."""
    args = [nginx_token(arg) for arg in node.args]
    if node.directive in HEADERS:
        index, what = HEADERS[node.directive]
        return (args[index], what, False) if len(args) > index else None
    if node.directive == "return":
        if len(args) == 2 and args[0] in REDIRECT_CODES:
            return args[1], "the response (Location)", False
        if len(args) == 1 and args[0].startswith(("http://", "https://", "$scheme")):
            return args[0], "the response (Location)", False
        return None
    if node.directive == "rewrite" and len(args) >= 2:
        target = args[1]
        flag = args[2] if len(args) > 2 else ""
        if flag in ("redirect", "permanent") or target.startswith(
                ("http://", "https://", "$scheme")):
            # ngx_http_script_copy_capture_code escapes $1.. in a redirect (e->quote)
            return target, "the response (Location)", True
    return None


def check(context: Context) -> Iterator[Report]:
    taint = Taint(context.tree)
    seen: set[tuple[str | None, int]] = set()
    for directive in (*HEADERS, "return", "rewrite"):
        for node in context.tree.named(directive):
            found = _value(node)
            if found is None:
                continue
            if (node.path, node.line) in seen:
                continue  # the same line, included at another site
            seen.add((node.path, node.line))
            text, what, escaped = found
            sources = taint.text(text, node, "newline", escaped)
            if not sources:
                continue
            exposed = describe_location(node)
            shown = "; ".join(source.describe() for source in sources)
            yield Report(
                f"{directive} writes {shown} into {what}: it may hold a line feed (nginx "
                f"decodes %0A in the path), so {exposed} with `%0D%0A` in the path can "
                "add headers of the client's choosing (HTTP splitting); use $request_uri, "
                "or a capture that excludes newlines",
                node=node,
                headline=f"{directive}: a decoded variable may split {what}",
                notes=[f"from {source.describe()}" for source in sources]
                + [f"exposed to {exposed}"])
