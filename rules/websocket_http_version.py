"""Websockets proxied with HTTP/1.0 to the upstream (Jupyter and every app profile).

## What it does
Routes every websocket endpoint of every app profile (`nglint apps` lists
them: Jupyter Server, JupyterHub, code-server, RStudio, Grafana, Home
Assistant, ...) (for Jupyter: kernel channels, terminals, events,
collaboration, language server) to the location that really serves it and
checks the effective `proxy_http_version` there, inherited values and the
target nginx version's default included.

## Why is this bad?
A websocket upgrade needs HTTP/1.1.  Before nginx 1.29.7 `proxy_http_version`
defaults to 1.0: the browser receives `101 Switching Protocols` and the socket
drops at once, so the kernel loops between "Connecting" and "Disconnected".
The line is often present but commented out, or set only in a location that
does not serve every endpoint.  Silent when every version of the target
(`--nginx-version`) is 1.29.7 or later (they default to 1.1); with a target that
spans 1.29.7 (the default, nginx 1.18-1.31.4) the finding names the versions before
it ("on nginx 1.18-1.29.6: ...").

## Example
```nginx
location / {
    proxy_pass http://127.0.0.1:8888;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
}
```

## Use instead
```nginx
location / {
    proxy_pass http://127.0.0.1:8888;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
}
```

## Fix
Inserts `proxy_http_version 1.1;` in the serving location, below its `proxy_pass`
(or below the line that comments it out).

## Sources
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version
  (1.0 by default, 1.1 from 1.29.7)
- https://nginx.org/en/docs/http/websocket.html
- JupyterHub docs, `howto/configuration/config-proxy.md` (the reference configuration).
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.fixes import fix_notes, make_fix, not_fixed, set_directive

CODE = "NG101"
NAME = "websocket-http-version"
SEVERITY = "error"
FIXABLE = True
USES = ("apps",)


def check(context: Context) -> Iterator[Report]:
    for group in context.apps.proxied_groups(need="http11"):
        version = context.model.effective(group.proxying, "proxy_http_version")
        if version is None or version.value == "1.1":
            continue
        origin = "the nginx default" if version.is_default else f"set at {version.where()}"
        location = group.proxying
        fix, why = make_fix("set proxy_http_version 1.1", set_directive, location,
                            "proxy_http_version", ["1.1"], context.model.handler(location))
        node = group.at(version.node)
        yield Report(
            f"proxy_http_version is {version.value} here ({origin}): websockets need HTTP/1.1; "
            f"{group.describe()} open and drop at once: "
            f"{group.symptom}" + not_fixed(why),
            node=node, fix=fix,
            severity=group.severity,
            headline=f"proxy_http_version is {version.value} here: websockets need HTTP/1.1",
            notes=[f"proxy_http_version {version.value}: {origin}", group.affected(),
                   f"effect: they open and drop at once: {group.symptom}",
                   *fix_notes(fix, why)],
            location=group.anchor,
            related=[(version.node, "proxy_http_version set here")]
            if version.node is not None and version.node is not node else [],
        )
