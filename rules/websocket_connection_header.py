"""Websockets without `Connection: upgrade` forwarded (Jupyter and every app profile).

## What it does
At the block that really serves each websocket endpoint of every app profile
(`nglint apps` lists them: Jupyter Server, JupyterHub, code-server, RStudio,
Grafana, Home Assistant, ...), checks that the effective `Connection` header
sent upstream carries the upgrade: `proxy_set_header Connection
$connection_upgrade;` with `map $http_upgrade $connection_upgrade { default
upgrade; '' close; }` in `http`. Reports an error when `Connection` is not set
(nginx then sends `Connection: close`) or set to something else, and a warning
when it is hard-coded to `upgrade`.

## Why is this bad?
`Connection` is hop-by-hop.  nginx replaces it with `close` unless told
otherwise, and Jupyter answers `400 "Connection" must be "Upgrade"`.  A
hard-coded `Connection "upgrade"` works for websockets but forces upgrade
semantics on every plain request of the location and defeats upstream
keepalive; the map sends `upgrade` only when the client asked for it.

## Example
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
}
```

## Use instead
```nginx
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
...
location / {
    proxy_pass http://jupyter;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
}
```

## Fix
Inserts (or replaces the hard-coded value with)
`proxy_set_header Connection $connection_upgrade;` and adds the map to `http`
once when no map from `$http_upgrade` exists.

## Sources
- https://nginx.org/en/docs/http/websocket.html (the map idiom)
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
  (`Connection close` is set by default)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.fixes import fix_notes, make_fix, not_fixed, upgrade_header_fix
from nglint.semantics.upstream import upstream_for

CODE = "NG103"
NAME = "websocket-connection-header"
SEVERITY = "error"
FIXABLE = True
USES = ("apps",)


def check(context: Context) -> Iterator[Report]:
    for group in context.apps.proxied_groups(need="connection"):
        location = group.proxying
        upstream = upstream_for(context.model, location)
        if upstream is None:
            continue  # not proxy_pass: nglint does not model what it sends
        entries = upstream.named("Connection")
        sent = [header for header in entries if not header.blank]
        if any("$" in header.value for header in sent):
            continue  # a variable: $connection_upgrade (NG004 checks it is defined) or similar
        upgrades = [h for h in sent if "upgrade" in h.value.lower().replace(",", " ").split()]
        style = context.options.upgrade_style
        fix, why = make_fix(f"forward Connection through the upgrade map ({style} style)",
                            upgrade_header_fix, context.model, context.tree, location, style,
                            "Connection", context.options.nginx_version)
        if upgrades:
            header = upgrades[-1]
            node = group.at(header.node)
            yield Report(
                f"Connection is hard-coded to {header.value!r} (set at "
                f"{header.where()}): plain requests of this location are sent as "
                "upgrades too; use "
                "`map $http_upgrade $connection_upgrade { default upgrade; '' close; }` and "
                "`proxy_set_header Connection $connection_upgrade`" + not_fixed(why),
                node=node, fix=fix,
                severity=Severity.WARNING,
                headline=f"Connection is hard-coded to {header.value!r}",
                notes=[*([f"Connection {header.value!r}: set at {header.where()}"]
                         if node is not header.node else []),
                       "effect: plain requests of this location are sent as upgrades too",
                       "use `map $http_upgrade $connection_upgrade { default upgrade; '' "
                       "close; }` and `proxy_set_header Connection $connection_upgrade`",
                       *fix_notes(fix, why)],
                location=group.anchor,
                related=[(header.node, "Connection set here")]
                if header.node is not None and header.node is not node else [],
            )
            continue
        last = (sent or entries)[-1] if sent or entries else None
        shown = f"'{sent[-1].value}'" if sent else "nothing"
        origin = "nginx default" if last is None or last.is_default else last.where()
        node = group.at(last.node if last is not None else None)
        yield Report(
            f"Connection is not forwarded as upgrade here (nginx sends {shown}, {origin}): "
            f"{group.describe()} fail with 400 '\"Connection\" must be \"Upgrade\"' and "
            f"{group.symptom}" + not_fixed(why),
            node=node, fix=fix,
            severity=group.severity,
            headline="Connection is not forwarded as upgrade here",
            notes=[f"nginx sends {shown} ({origin})", group.affected(),
                   f"effect: 400 '\"Connection\" must be \"Upgrade\"' and {group.symptom}",
                   *fix_notes(fix, why)],
            location=group.anchor,
            related=[(last.node, "Connection set here")]
            if last is not None and last.node is not None and last.node is not node else [],
        )
