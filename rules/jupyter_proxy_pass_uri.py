"""Jupyter under a prefix behind a `proxy_pass` that rewrites the path.

## What it does
For each Jupyter deployment below a prefix (`/jupyter/`), looks at the
`proxy_pass` of the location that serves it.  When the target has a URI part
(`proxy_pass http://127.0.0.1:8888/;`) other than the prefix itself, nginx
replaces the matched location path with it before passing the request on.

## Why is this bad?
Jupyter generates every link, API call and websocket URL from its own
`base_url`.  With the prefix stripped, Jupyter must run with `base_url=/` and
its pages then point at `/lab`, `/api/...` outside the prefix; with a location
written without its trailing slash (`location /jupyter`) the upstream even
receives `//lab` and `//api/kernels/...`.  A URI part also makes nginx
normalise encoded paths (`%2F` in notebook names).  Pages half-load and
kernels fail.

## Example
```nginx
location /jupyter/ {
    proxy_pass http://127.0.0.1:8888/;
}
```

## Use instead
Run Jupyter with `--ServerApp.base_url=/jupyter/` and pass the path unchanged:
```nginx
location /jupyter/ {
    proxy_pass http://127.0.0.1:8888;
}
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass ("If the
  proxy_pass directive is specified with a URI, then ... the part of a
  normalized request URI matching the location is replaced by a URI")
- `../shared/guide/JUPYTER-FACTS.md` (prefix deployments need `base_url` equal to
  the prefix and `proxy_pass` without a URI part)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics import locations

CODE = "NG110"
NAME = "jupyter-proxy-pass-uri"
SEVERITY = "warning"
FIXABLE = False
TARGET = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+(?P<uri>/.*)?$", re.IGNORECASE)


def check(context: Context) -> Iterator[Report]:
    view = context.jupyter
    seen: set[int] = set()
    for deployment in view.deployments:
        if deployment.base == "/" or "/user/" in deployment.base:
            continue
        location, unknown, _ = view.route(deployment.server, deployment.base + "lab")
        handler = context.model.handler(location) if location is not None else None
        if handler is None or unknown or id(location) in seen or not handler.args:
            continue
        target = handler.args[0]
        match = TARGET.match(target)
        if match is None or "$" in target or match.group("uri") is None:
            continue  # no URI part (or variables: nginx passes the URI as built)
        uri = match.group("uri")
        info = locations.location_info(location)
        if info.modifier not in ("", "^~") or uri == info.path:
            continue
        seen.add(id(location))
        doubled = (" (the upstream even receives '//lab')"
                   if uri.endswith("/") and not info.path.endswith("/") else "")
        yield Report(
            f"proxy_pass {target} replaces {info.path} with {uri} before Jupyter sees the "
            f"request{doubled}: Jupyter under {deployment.base} needs "
            f"base_url={deployment.base} and a proxy_pass without a URI part",
            node=location,
        )
