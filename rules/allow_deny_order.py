"""`allow`/`deny` rules that never apply, or a block that drops the outer ones.

## What it does
Reads the `allow`/`deny` list of every block that has one, in order, and reports:

- a rule that never applies because an earlier rule matches every client it
  matches (`deny all;` before `allow 10.0.0.0/8;`, `allow all;` before a deny,
  `allow 10.1.2.3;` after `deny 10.0.0.0/8;`, the same address both allowed
  and denied): a warning when the earlier rule decides the opposite, info when
  it is merely redundant; address containment is computed with CIDR ranges;
- a block whose own `allow`/`deny` replaces an outer list that ended with
  `deny all;` while its own list does not: the outer restriction is gone and
  every other client is allowed in that block (warning; a list ending with
  `allow all;` opens the block on purpose and is left alone).

## Why is this bad?
nginx checks the rules in order and the first match decides; when none matches
the request is allowed.  A rule after a broader one is dead and usually the
opposite of what was meant.  `allow` and `deny` are one list inherited "all or
nothing": a location that adds `allow 192.0.2.7;` to let a monitoring host in
drops the server's `allow 10.0.0.0/8; deny all;` and opens the location to the
whole Internet.

## Example
```nginx
server {
    allow 10.0.0.0/8;
    deny all;
    location /admin/ {
        allow 192.0.2.7;        # everyone else is now allowed here
    }
    location /internal/ {
        deny all;
        allow 10.0.0.0/8;       # never reached
    }
}
```

## Use instead
```nginx
    location /admin/ {
        allow 192.0.2.7;
        allow 10.0.0.0/8;
        deny all;
    }
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_access_module.html ("checked in
  sequence until the first match is found")
- nginx `src/http/modules/ngx_http_access_module.c`
  (`ngx_http_access_merge_loc_conf`: inherited only when the level has no rule
  of any family)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics import access
from nglint.semantics.exposure import requests_to
from nglint.semantics.inherit import ACCESS_DIRECTIVES, levels
from nglint.tree import Node

CODE = "NG213"
NAME = "allow-deny-order"
SEVERITY = "warning"
FIXABLE = False
SECURITY_SEVERITY = 6.0


def _blocks(context: Context) -> Iterator[Node]:
    seen: set[int] = set()
    for name in ACCESS_DIRECTIVES:
        last = None  # the rules of a block stand together: most share the last's
        for node in context.tree.named(name):
            block = node.parent
            if block is last:
                continue
            last = block
            if block is not None and id(block) not in seen and block.is_block:
                seen.add(id(block))
                yield block


def _where(node: Node | None) -> str:
    return f"{node.path}:{node.line}" if node is not None else "nginx default"


def _shadowed(found: list[access.Rule]) -> Iterator[Report]:
    by_all: dict[int, list[access.Rule]] = {}
    for rule, position in zip(found, access.first_covering(found), strict=True):
        if position is None:
            continue
        earlier = found[position]
        if earlier.kind == "all":
            by_all.setdefault(position, []).append(rule)
            continue
        opposite = earlier.action != rule.action
        what = "the opposite" if opposite else "the same"
        yield Report(
            f"{rule.text} never applies: {earlier.text} ({_where(earlier.value.node)}) "
            f"matches every client it matches first and decides {what}",
            node=rule.value.node, severity=None if opposite else Severity.INFO,
            headline=f"{rule.text} is shadowed by {earlier.text}",
            related=[(earlier.value.node, "matches first")] if earlier.value.node else [])
    for position, dead in by_all.items():
        first = found[position]
        texts = "; ".join(rule.text for rule in dead)
        opposite = any(rule.action != first.action for rule in dead)
        yield Report(
            f"{first.text} matches every client, so the rules after it never apply: {texts}",
            node=first.value.node, severity=None if opposite else Severity.INFO,
            headline=f"rules after {first.text} never apply",
            related=[(rule.value.node, "never applies") for rule in dead
                     if rule.value.node is not None])


def check(context: Context) -> Iterator[Report]:
    model = context.model
    for block in _blocks(context):
        own = access.rules(model.access(block))
        if not own or own[0].value.node is None or own[0].value.node.parent is not block:
            continue
        yield from _shadowed(own)
        chain = levels(block)
        if len(chain) < 2 or chain[0] is not block or access.restrictive(own) \
                or (own[-1].action == "allow" and own[-1].kind == "all"):
            continue  # ends with deny all, or opens the block on purpose with allow all
        outer = access.rules(model.access(chain[1]))
        if not access.restrictive(outer):
            continue
        source = model.access_source(chain[1])
        listed = "; ".join(rule.text for rule in outer)
        reached = requests_to(block)
        label = source.directive if source is not None else "outer level"
        yield Report(
            f"this {block.directive}'s own allow/deny replaces the {label}'s list "
            f"({listed}; at {_where(outer[0].value.node)}) and does not end with deny "
            f"all: every client its rules do not deny is allowed for {reached}",
            node=own[0].value.node, location=block,
            headline=f"own allow/deny drops the {label}'s deny all",
            notes=[f"affected: {reached}", "end the list with deny all, or repeat the "
                   "outer rules"],
            related=[(outer[-1].value.node, "no longer in force here")]
            if outer[-1].value.node is not None else [])
