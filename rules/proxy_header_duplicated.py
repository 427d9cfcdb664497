"""A header that nginx sends upstream twice, because it is set twice at one level.

## What it does
For every block that proxies (`proxy_pass`), reads the `proxy_set_header`
list in force there and reports each header name written on more than one
line whose value is not empty.  The classic case is
`include proxy_params;` (Debian's snippet sets `Host $http_host`) followed by
`proxy_set_header Host $host;`.  `Host` is an error, any other header a
warning.  The finding points at the later line.

## Why is this bad?
nginx keeps every `proxy_set_header` line of the level in force, in order,
and sends each one whose value is not empty: two `Host` lines send two
`Host` headers.  An HTTP/1.1 server must answer 400 to a request with more
than one `Host` (RFC 9112, section 3.2); others pick either value, so
Jupyter's cross-origin check, virtual hosting or redirects depend on which.
A later `proxy_set_header X "";` does not remove an earlier `X value`
either: it is simply not sent, and the earlier line still is.  From nginx
1.31.4 only the last `Host` line counts; the earlier ones are dead code.

## Example
```nginx
location / {
    include proxy_params;               # proxy_set_header Host $http_host; ...
    proxy_set_header Host $host;
    proxy_pass http://127.0.0.1:8888;
}
```

## Use instead
```nginx
location / {
    include proxy_params;
    proxy_pass http://127.0.0.1:8888;
}
```
(or drop the snippet's line, or set every header here without the snippet).

## Fix
Not fixed automatically: which of the two values was meant is a decision,
and the other line often lives in a shared snippet.

## Sources
- nginx `src/http/modules/ngx_http_proxy_module.c`, `ngx_http_proxy_init_headers`
  (every line kept, defaults added only for names not set) and
  `ngx_http_proxy_create_request` (a header whose value is empty is skipped);
  release-1.31.4 for the separate `Host` handling.
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
- RFC 9112, section 3.2 (more than one Host: 400).
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.upstream import HOST_SEPARATE, Header, upstream_for
from nglint.tree import Node

CODE = "NG015"
NAME = "proxy-header-duplicated"
SEVERITY = "error"
FIXABLE = False


def _anchor(entries: list[Header], block: Node) -> Node:
    """The later line, preferring one written in the proxying block's own file."""
    own = [h.node for h in entries if h.node is not None and h.node.source is block.source]
    return (own or [h.node for h in entries if h.node is not None])[-1]


def check(context: Context) -> Iterator[Report]:
    model = context.model
    seen: set[int] = set()  # lines reported
    # every block whose content handler is proxy_pass (what nglint models the request of)
    levels_seen: set[int] = set()
    for handler in context.tree.named("proxy_pass"):
        block = handler.parent
        level = model.array_source(block, "proxy_set_header") if block is not None else None
        if block is None or level is None or id(level) in levels_seen:
            continue  # no lines, or lines already read at another proxying block
        levels_seen.add(id(level))
        names = [n.args[0].lower() for n in level.directives("proxy_set_header") if n.args]
        if len(names) == len(set(names)):
            continue
        upstream = upstream_for(model, block)
        if upstream is None:
            continue
        for entries in upstream.duplicates():
            anchor = _anchor(entries, block)
            if id(anchor) in seen:
                continue  # the same lines, in force at another proxying block
            seen.add(id(anchor))
            header = entries[0].name
            lines = ", ".join(f"{h.value!r} at {h.where()}" for h in entries)
            is_host = header.lower() == "host"
            if is_host and model.version >= HOST_SEPARATE:
                yield Report(
                    f"Host is set {len(entries)} times ({lines}); from nginx 1.31.4 only "
                    "the last line is sent, the others are dead: keep one",
                    node=anchor, severity=Severity.WARNING,
                    headline=f"Host is set {len(entries)} times: only the last line counts",
                    notes=[f"{h.value!r} at {h.where()}" for h in entries])
                continue
            yield Report(
                f"{header} is set {len(entries)} times at one level ({lines}): nginx "
                f"sends every line, so the upstream gets {len(entries)} {header} headers"
                + ("; HTTP/1.1 servers answer 400 to a request with two Host headers"
                   if is_host else "") + "; keep one line",
                node=anchor, severity=None if is_host else Severity.WARNING,
                headline=f"{header} is set {len(entries)} times at one level: nginx sends "
                f"{len(entries)} {header} headers",
                notes=[*(f"{h.value!r} at {h.where()}" for h in entries),
                       "HTTP/1.1 servers answer 400 to a request with two Host headers"
                       if is_host else "keep one line"])
