"""A location that no request can reach.

## What it does
Looks at the locations of every server (and of every location holding
locations), with nglint's model of nginx's location search
(`nglint.semantics.locations`), and reports:

- two `=` locations with the same URI, or two prefix locations (plain or
  `^~`) with the same path: nginx refuses the configuration
  (`duplicate location "/api/"`), an error;
- a regex location after an identical one (same modifier, same pattern): the
  first always wins;
- a regex location anchored under a `^~` prefix that covers it
  (`location ^~ /static/` then `location ~ ^/static/.*\\.js$`): every URI the
  regex matches has that `^~` location as its longest prefix, and `^~` stops
  the regex search, so the regex never runs (unless a longer plain prefix
  location exists under it).

Regexes with a top-level alternation, or case-insensitive ones whose literal
prefix holds letters, are not judged.

## Why is this bad?
A duplicate location makes `nginx -t` fail.  An unreachable regex location is
dead configuration that looks alive: its headers, caching or access rules are
never applied, which is how `expires` or `deny` rules silently stop working.

## Example
```nginx
location ^~ /static/ { root /srv; }
location ~ ^/static/.*\\.js$ { expires 1y; }
```

## Use instead
```nginx
location ^~ /static/ {
    root /srv;
    location ~ \\.js$ { expires 1y; }
}
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#location
- nginx `src/http/ngx_http.c` (`ngx_http_join_exact_locations`: `duplicate location`),
  `src/http/ngx_http_core_module.c` (`ngx_http_core_find_location`: `noregex`)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.locations import LocationInfo, literal_prefix, location_info
from nglint.tree import Node

CODE = "NG012"
NAME = "location-unreachable"
SEVERITY = "warning"
FIXABLE = False

def _where(node: Node) -> str:
    return f"{node.path}:{node.line}" if node.path else f"line {node.line}"


def _levels(context: Context) -> Iterator[Node]:
    """The blocks that hold locations: http servers and locations (through the index)."""
    for node in context.tree.named("server"):
        if node.is_block and node.parent is not None and node.parent.directive == "http":
            yield node
    for node in context.tree.named("location"):
        if node.is_block:
            yield node


def _covering(prefix: str, caseless: bool, inclusive: list[LocationInfo]) -> LocationInfo | None:
    """The ``^~`` location that is the longest prefix of every URI starting with ``prefix``."""
    if caseless and any(c.isalpha() for c in prefix):
        return None
    always = [i for i in inclusive if prefix.startswith(i.path)]
    if not always:
        return None
    longest = max(always, key=lambda i: len(i.path))
    if longest.modifier != "^~":
        return None
    longer = [i for i in inclusive if i.path.startswith(prefix) and len(i.path) > len(prefix)]
    if any(i.modifier != "^~" for i in longer):
        return None
    return longest


def check(context: Context) -> Iterator[Report]:
    for level in _levels(context):
        exact: dict[str, LocationInfo] = {}
        inclusive: dict[str, LocationInfo] = {}
        regexes: dict[tuple[str, str], LocationInfo] = {}
        ordered_regexes: list[LocationInfo] = []
        for node in level.directives("location"):
            if not node.is_block:
                continue
            info = location_info(node)
            if info.modifier == "=":
                if info.path in exact:
                    yield Report(f'duplicate location "= {info.path}" (also at '
                                 f"{_where(exact[info.path].node)}): nginx refuses it",
                                 node=node, severity=Severity.ERROR)
                else:
                    exact[info.path] = info
            elif info.modifier in ("", "^~"):
                if info.path in inclusive:
                    yield Report(f'duplicate location "{info.path}" (also at '
                                 f"{_where(inclusive[info.path].node)}): nginx refuses it",
                                 node=node, severity=Severity.ERROR)
                else:
                    inclusive[info.path] = info
            elif info.is_regex:
                key = (info.modifier, info.path)
                if key in regexes:
                    yield Report(f'unreachable location "{info.modifier} {info.path}": the '
                                 f"same regex at {_where(regexes[key].node)} matches first",
                                 node=node)
                else:
                    regexes[key] = info
                    ordered_regexes.append(info)
        for info in ordered_regexes:
            prefix = literal_prefix(info.path)
            if not prefix:
                continue
            cover = _covering(prefix, info.modifier == "~*", list(inclusive.values()))
            if cover is not None:
                yield Report(f'unreachable location "{info.modifier} {info.path}": every URI '
                             f'it matches starts with "{cover.path}", served by "location ^~ '
                             f'{cover.path}" at {_where(cover.node)}, and "^~" skips the '
                             "regexes", node=info.node)
