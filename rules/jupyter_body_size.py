"""Jupyter behind a `client_max_body_size` below 2m.

## What it does
Routes a contents request (`{base}api/contents/Untitled.ipynb`) of each Jupyter
deployment and reads the effective `client_max_body_size` at the location
that serves it (1m by default).  Reports values below the threshold (2m by
default); `0` (no limit) passes.

## Why is this bad?
Saving a notebook sends the whole document as JSON and uploading a file sends
it base64-encoded (JupyterLab uploads large files in 1 MiB chunks, about
1.4 MB each on the wire).  Above the limit nginx answers `413 Request Entity
Too Large`: saves and uploads fail while everything else works.

## Example
```nginx
location / { proxy_pass http://jupyter; }   # 1m by default
```

## Use instead
```nginx
location / {
    proxy_pass http://jupyter;
    client_max_body_size 100m;
}
```

## Options
- `threshold` (default `2m`).

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#client_max_body_size
- JupyterLab `packages/filebrowser/src/model.ts` (chunked uploads of 1 MiB)
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.apps.jupyter_server import CONTENTS_SAMPLE
from nglint.apps.view import display
from nglint.engine import Context, Report
from nglint.semantics.values import InvalidValue, parse_offset

CODE = "NG108"
NAME = "jupyter-body-size"
SEVERITY = "warning"
FIXABLE = False
USES = ("apps",)
OPTIONS = {"threshold": "2m"}
OPTION_KINDS = {"threshold": "size"}


def check(context: Context) -> Iterator[Report]:
    threshold = parse_offset(str(context.option("threshold")))
    reported: set[int] = set()
    for deployment, base in ((d, b) for d in context.apps.jupyter_deployments()
                             for b in d.mount_bases()):
        uri = base + CONTENTS_SAMPLE
        location, unknown, _ = context.apps.route(deployment.server, uri)
        if location is None or unknown or id(location) in reported:
            continue
        if context.model.handler(location) is None:
            continue
        value = context.model.effective(location, "client_max_body_size")
        if value is None:
            continue
        try:
            size = parse_offset(value.value)
        except InvalidValue:
            continue
        if 0 < size < threshold:
            reported.add(id(location))
            origin = "the nginx default" if value.is_default else f"set at {value.where()}"
            yield Report(
                f"client_max_body_size is {value.value} for {deployment.profile.title} at "
                f"{display(base)} "
                f"({origin}): saving a larger notebook or uploading a file fails with 413",
                node=location,
            )
