"""A block's own `add_header` drops the security headers set at an outer level.

## What it does
Reports every `server`, `location`, `if` or `limit_except` block that has its own
`add_header` while the headers in force one level up hold security headers
(`X-Frame-Options`, `Content-Security-Policy`, `Strict-Transport-Security`,
`X-Content-Type-Options`, `Referrer-Policy`, `Permissions-Policy`, the
`Cross-Origin-*` policies, ...) that the block's headers no longer hold.  The
message names the headers lost, where they were set and which requests are
answered without them.

The inheritance is nglint's model (`Model.array`): `add_header_inherit merge`
(nginx 1.29.3 and later) keeps the outer headers, `off` drops them; over a
target range that spans 1.29.3 the finding says on which versions it holds.
A header still set by headers-more's `more_set_headers` at this level or an
outer one is not lost (that module accumulates its directives from every level).

Also reports a header value written over several lines (`add_header` or
`more_set_headers`), as gixy's `add_header_multiline` does.

## Why is this bad?
`add_header` directives are inherited "if and only if there are no `add_header`
directives defined on the current level".  Adding `add_header Cache-Control
no-store;` to one location silently removes the server's
`Strict-Transport-Security` and `Content-Security-Policy` from every response
of that location.  A value over several lines is sent with the line break
(obsolete line folding, which RFC 9112 forbids): clients reject the header
or read only its first line.

## Example
```nginx
server {
    add_header X-Frame-Options DENY always;
    add_header Content-Security-Policy "default-src 'self'" always;
    location /downloads/ {
        add_header Cache-Control no-store;
    }
}
```

## Use instead
```nginx
server {
    include snippets/security-headers.conf;
    location /downloads/ {
        include snippets/security-headers.conf;
        add_header Cache-Control no-store;
    }
}
```
or, with nginx 1.29.3 and later only, `add_header_inherit merge;` in the block.

## Sources
- https://nginx.org/en/docs/http/ngx_http_headers_module.html#add_header
- https://nginx.org/en/docs/http/ngx_http_headers_module.html#add_header_inherit
  (nginx `src/http/modules/ngx_http_headers_filter_module.c` at release-1.29.3,
  `ngx_http_headers_merge_conf`)
- headers-more `src/ngx_http_headers_more_filter_module.c`
  (`ngx_http_headers_more_merge_loc_conf`: the outer commands run first)
- RFC 9112 section 5.2 (obsolete line folding)
- gixy `add_header_redefinition` and `add_header_multiline` (Yandex, MPL-2.0)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.exposure import requests_to
from nglint.semantics.inherit import Value, levels
from nglint.tree import Node

CODE = "NG211"
NAME = "add-header-redefinition"
SEVERITY = "warning"
FIXABLE = False
SECURITY_SEVERITY = 5.0

SECURITY_HEADERS = frozenset({
    "x-frame-options", "content-security-policy", "content-security-policy-report-only",
    "strict-transport-security", "x-content-type-options", "referrer-policy",
    "permissions-policy", "feature-policy", "x-xss-protection",
    "cross-origin-opener-policy", "cross-origin-embedder-policy",
    "cross-origin-resource-policy", "x-permitted-cross-domain-policies",
})
# options of more_set_headers that take a value
MORE_OPTIONS = frozenset({"-s", "-t"})


def _more_set(block: Node) -> set[str]:
    """Header names more_set_headers sets at ``block`` (every level accumulates)."""
    names: set[str] = set()
    for level in levels(block):
        for node in level.directives("more_set_headers"):
            for arg in _more_values(node):
                names.add(arg.split(":", 1)[0].strip().lower())
    return names


def _more_values(node: Node) -> list[str]:
    values: list[str] = []
    skip = False
    for arg in node.args:
        if skip:
            skip = False
        elif arg in MORE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            values.append(arg)
    return values


def _multiline(context: Context) -> Iterator[Report]:
    for node in context.tree.named("add_header"):
        if len(node.args) >= 2 and "\n" in node.args[1]:
            yield Report(f"the value of {node.args[0]} spans several lines: nginx sends the "
                         "line break (obsolete line folding), which clients reject or cut",
                         node=node, headline=f"{node.args[0]}: value over several lines")
    for node in context.tree.named("more_set_headers"):
        for value in _more_values(node):
            if "\n" in value:
                name = value.split(":", 1)[0].strip()
                yield Report(f"the value of {name} spans several lines: nginx sends the "
                             "line break (obsolete line folding), which clients reject or "
                             "cut", node=node, headline=f"{name}: value over several lines")


def _lost(model_array: list[Value], outer: list[Value], kept: set[str]) -> list[Value]:
    names = {v.args[0].lower() for v in model_array if v.args}
    seen: set[str] = set()
    lost: list[Value] = []
    for value in outer:
        if not value.args:
            continue
        name = value.args[0].lower()
        if name in SECURITY_HEADERS and name not in names and name not in kept \
                and name not in seen:
            seen.add(name)
            lost.append(value)
    return lost


def check(context: Context) -> Iterator[Report]:
    model = context.model
    for node in context.tree.named("add_header"):
        block = node.parent
        # one report per block: at its first add_header
        if block is None or block.first("add_header") is not node:
            continue
        chain = levels(block)
        if not chain or chain[0] is not block or len(chain) < 2:
            continue
        outer = model.array(chain[1], "add_header")
        if not outer:
            continue
        lost = _lost(model.array(block, "add_header"), outer, _more_set(block))
        if not lost:
            continue
        names = ", ".join(v.args[0] for v in lost)
        where = "; ".join(f"{v.args[0]} at {v.where()}" for v in lost)
        reached = requests_to(block)
        yield Report(
            f"this {block.directive}'s own add_header replaces the outer ones: {names} "
            f"(set {where}) are not sent for {reached}",
            node=node, location=block,
            headline=f"own add_header drops {names}",
            notes=[f"{v.args[0]} set at {v.where()}, not sent here" for v in lost]
            + [f"affected: {reached}",
               "repeat the headers here (a shared include), or add_header_inherit merge "
               "from nginx 1.29.3"],
            related=[(v.node, f"{v.args[0]} set here") for v in lost if v.node is not None])
    for report in _multiline(context):
        report.severity = Severity.WARNING
        yield report
