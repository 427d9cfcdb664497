"""Jupyter or JupyterHub under a prefix behind a `proxy_pass` or `rewrite` that changes the path.

## What it does
For each Jupyter Server or JupyterHub deployment below a prefix (`/jupyter/`,
`/jhub/`), follows a request for its UI through the request model to the
location that serves it.  When the `proxy_pass` target has a URI part
(`proxy_pass http://127.0.0.1:8888/;`) other than the prefix itself, nginx
replaces the matched location path with it before passing the request on;
when a `rewrite ... break` on the way leaves a URI outside the prefix
(`rewrite ^/jupyter/(.*)$ /$1 break;`), that URI is what the upstream gets.
A hub is no exception: `JupyterHub.base_url` must equal the prefix too.

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

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics import locations
from nglint.semantics.request import Outcome, Step
from nglint.semantics.upstream import split_target

CODE = "NG110"
NAME = "jupyter-proxy-pass-uri"
SEVERITY = "warning"
FIXABLE = False
USES = ("apps",)


def _stripping_rewrite(outcome: Outcome, base: str) -> Step | None:
    """A ``rewrite ... break`` on the way whose result no longer starts with the base."""
    rewrites = [step for step in outcome.steps if step.kind == "rewrite"]
    if rewrites and outcome.uri is not None and not outcome.uri.startswith(base):
        return rewrites[-1]
    return None


def check(context: Context) -> Iterator[Report]:
    view = context.apps
    seen: set[int] = set()
    for deployment in view.jupyter_deployments():
        base = deployment.base
        if base == "/":
            continue  # nothing to strip
        sample = deployment.mount_bases()[0] + "lab"
        outcome = view.outcomes(deployment.server, sample)[0]
        location = outcome.location
        handler = context.model.handler(outcome.block) if outcome.block is not None else None
        if handler is None or outcome.unknown or location is None or id(location) in seen \
                or not handler.args:
            continue
        title = deployment.profile.title
        setting = "JupyterHub.base_url" if deployment.profile.name == "jupyterhub" \
            else "base_url"
        rewrite = _stripping_rewrite(outcome, base)
        if rewrite is not None:
            seen.add(id(location))
            yield Report(
                f"`rewrite {' '.join(rewrite.node.args)}` strips {base} before {title} sees "
                f"the request (the upstream gets {outcome.uri}): {title} under {base} needs "
                f"{setting}={base} and the path passed unchanged",
                node=rewrite.node,
                headline=f"this rewrite strips {base} before {title} sees the request",
                notes=[f"the upstream gets {outcome.uri}",
                       f"{title} under {base} needs {setting}={base} and the path passed "
                       "unchanged"],
            )
            continue
        target = handler.args[0]
        parts = split_target(target)
        if parts is None or parts[2] is None:
            continue  # no URI part (or variables: nginx passes the URI as built)
        uri = parts[2]
        info = locations.location_info(location)
        if info.modifier not in ("", "^~") or uri == info.path:
            continue
        seen.add(id(location))
        doubled = (" (the upstream even receives '//lab')"
                   if uri.endswith("/") and not info.path.endswith("/") else "")
        yield Report(
            f"proxy_pass {target} replaces {info.path} with {uri} before {title} sees the "
            f"request{doubled}: {title} under {base} needs {setting}={base} and a "
            "proxy_pass without a URI part",
            node=handler,
            headline=f"proxy_pass replaces {info.path} with {uri} before {title} sees it",
            notes=[f"{title} under {base} needs {setting}={base} and a proxy_pass without a "
                   "URI part" + doubled],
        )
