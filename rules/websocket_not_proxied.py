"""A websocket endpoint (Jupyter or another app profile) that no proxying location serves.

## What it does
Routes every websocket endpoint of every app profile (`nglint apps` lists
them: Jupyter Server, JupyterHub, code-server, RStudio, Grafana, Home
Assistant, ...) below each deployment's base URL with nginx's location-
matching rules and reports the ones that land in a location without
`proxy_pass` (static files, `return`, `try_files` without a proxying `@named`
fallback) or in no location at all.

## Why is this bad?
The request never reaches Jupyter: nginx answers it itself (404 from the
document root, a redirect, a static file), so the websocket cannot open.  It
happens when a regex location for static files, a `return`, or a location
list that proxies only some paths (`/api/`, `/lab`) sits in front of Jupyter.

## Example
```nginx
location /lab { proxy_pass http://jupyter; }
location /api/ { proxy_pass http://jupyter; }
# /terminals/websocket/1 is served by no location
```

## Use instead
Proxy the whole Jupyter prefix from one location:
```nginx
location / { proxy_pass http://jupyter; ... }
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#location
- https://nginx.org/en/docs/http/request_processing.html
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report

CODE = "NG105"
NAME = "websocket-not-proxied"
SEVERITY = "error"
FIXABLE = False
USES = ("apps",)


def _what_it_does(location) -> str:  # noqa: ANN001 - a Node
    for name in ("return", "rewrite", "try_files", "alias", "root", "fastcgi_pass",
                 "uwsgi_pass", "grpc_pass"):
        node = location.first(name)
        if node is not None:
            return f"`{name} {' '.join(node.args)}`"
    return "static files from the document root"


def check(context: Context) -> Iterator[Report]:
    model = context.model
    for group in context.apps.groups():
        if group.location is None:
            yield Report(
                f"no location serves {group.describe()}: nginx answers 404 and the websockets "
                f"never reach {group.profile.title}",
                node=group.server,
                severity=group.severity,
                headline=f"no location serves {group.profile.title}'s websockets: nginx "
                         "answers 404",
                notes=[group.affected()],
            )
        elif model.handler(group.location) is None:
            yield Report(
                f"{group.describe()} are served by this location, which does not proxy "
                f"(it serves {_what_it_does(group.location)}): the websockets never reach "
                f"{group.profile.title}",
                node=group.location,
                severity=group.severity,
                headline=f"this location serves {group.profile.title}'s websockets but does "
                         "not proxy",
                notes=[group.affected(),
                       f"it serves {_what_it_does(group.location)}: the websockets never "
                       f"reach {group.profile.title}"],
            )
