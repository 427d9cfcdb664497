"""Websockets without the `Upgrade` header forwarded (Jupyter and every app profile).

## What it does
At the block that really serves each websocket endpoint of every app profile
(`nglint apps` lists them: Jupyter Server, JupyterHub, code-server, RStudio,
Grafana, Home Assistant, ...), checks that what nginx sends upstream from
there forwards the client's `Upgrade` header (`proxy_set_header Upgrade
$http_upgrade;`). nginx sends every line of the list in force whose value is
not empty, so a later `Upgrade ""` does not cancel an earlier `Upgrade
$http_upgrade` (`nglint.semantics.upstream`). Reports an error when it is not
forwarded, and a warning when it is hard-coded (`Upgrade "websocket"`).

## Why is this bad?
`Upgrade` is a hop-by-hop header: nginx never forwards it unless told to.
Without it Jupyter answers `400 Can "Upgrade" only to "WebSocket"` and the
kernel stays "Connecting".  A hard-coded value works for websockets but makes
every plain request of the location (REST calls, static files) ask the
upstream for an upgrade.  A location that sets only some headers drops every
header inherited from the server (see NG005), so the list in force is what
counts, not what the server block says.

## Example
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_http_version 1.1;
}
```

## Use instead
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
}
```

## Fix
Inserts `proxy_set_header Upgrade $http_upgrade;` (or replaces the hard-coded
value), copying inherited headers into the location first.

## Sources
- https://nginx.org/en/docs/http/websocket.html
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
- Tornado `websocket.py` (`Can "Upgrade" only to "WebSocket".`), used by Jupyter Server.
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.fixes import fix_notes, make_fix, not_fixed, upgrade_header_fix
from nglint.semantics.upstream import upstream_for

CODE = "NG102"
NAME = "websocket-upgrade-header"
SEVERITY = "error"
FIXABLE = True
USES = ("apps",)


def check(context: Context) -> Iterator[Report]:
    for group in context.apps.proxied_groups(need="upgrade"):
        location = group.proxying
        upstream = upstream_for(context.model, location)
        if upstream is None:
            continue  # not proxy_pass: nglint does not model what it sends
        # every Upgrade line nginx may send (lines written empty are never sent)
        sent = upstream.may_send("Upgrade")
        if any("$" in header.value for header in sent):
            continue
        header = sent[-1] if sent else None
        value = header.value if header else ""
        style = context.options.upgrade_style
        fix, why = make_fix(f"forward Upgrade ({style} style)", upgrade_header_fix, context.model,
                            context.tree, location, style, "Upgrade",
                            context.options.nginx_version)
        if not value:
            yield Report(
                f"Upgrade is not forwarded to the upstream here: {group.describe()} fail with "
                f"400 'Can \"Upgrade\" only to \"WebSocket\"' and {group.symptom}"
                + not_fixed(why),
                node=group.anchor, fix=fix,
                severity=group.severity,
                headline="Upgrade is not forwarded to the upstream here",
                notes=[group.affected(),
                       f"effect: 400 'Can \"Upgrade\" only to \"WebSocket\"' and "
                       f"{group.symptom}", *fix_notes(fix, why)],
            )
        else:
            assert header is not None
            node = group.at(header.node)
            yield Report(
                f"Upgrade is hard-coded to {value!r} (set at {header.where()}): every plain "
                "request of this location asks the upstream to upgrade; forward the client's "
                "header with `proxy_set_header Upgrade $http_upgrade`" + not_fixed(why),
                node=node, fix=fix,
                severity=Severity.WARNING,
                headline=f"Upgrade is hard-coded to {value!r}",
                notes=[*([f"Upgrade {value!r}: set at {header.where()}"]
                         if node is not header.node else []),
                       "effect: every plain request of this location asks the upstream to "
                       "upgrade; forward the client's header with "
                       "`proxy_set_header Upgrade $http_upgrade`", *fix_notes(fix, why)],
                location=group.anchor,
                related=[(header.node, "Upgrade set here")]
                if header.node is not None and header.node is not node else [],
            )
