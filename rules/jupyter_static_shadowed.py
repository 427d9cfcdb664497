"""A regex location serves Jupyter's static assets instead of the proxy.

## What it does
Routes Jupyter's static asset URLs (`{base}static/lab/*.js`,
`{base}static/notebook/*.css`) and reports when a regex location that does not
proxy (typically `location ~* \\.(js|css)$ { expires 1y; }`) serves them while
the Jupyter prefix itself is proxied.

## Why is this bad?
nginx tries regex locations before settling on the longest prefix, so a
caching rule for `.js` files declared anywhere in the server wins over
`location /jupyter/`: the browser gets 404s (or stale files from disk) for
JupyterLab's bundles and the page stays blank.

## Example
```nginx
location /jupyter/ { proxy_pass http://jupyter; }
location ~* \\.(js|css)$ { expires 1y; }
```

## Use instead
```nginx
location ^~ /jupyter/ { proxy_pass http://jupyter; }
```

## Fix
Unsafe (`--unsafe-fixes`): adds `^~` to the Jupyter prefix location, which
changes which location serves other paths below it.  Never offered when another
regex location next to it could match a URI below the prefix (only those anchored
to a literal start elsewhere, `^/static/`, cannot): `^~ /` beside
`location ~ \\.php$` would take every PHP request from it.

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#location (`^~`
  stops the regex search)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from nglint.apps.jupyter_server import STATIC_SAMPLES
from nglint.apps.view import display
from nglint.edits import Edit, EditError, insert_arg
from nglint.engine import Context, Report
from nglint.fixes import make_fix, not_fixed
from nglint.semantics import locations
from nglint.tree import Node

CODE = "NG109"
NAME = "jupyter-static-shadowed"
SEVERITY = "warning"
FIXABLE = True
USES = ("apps",)


def caret_tilde(location: Node, shadowing: Iterable[Node]) -> list[Edit]:
    """``location /jupyter/`` becomes ``location ^~ /jupyter/``.

    Refused (EditError) when ``^~`` would take URIs from a regex location other than
    ``shadowing`` (the ones serving Jupyter's assets): ``^~ /`` next to
    ``location ~ \\.php$`` would send every PHP request to Jupyter.
    """
    info = locations.location_info(location)
    if info.modifier != "" or len(location.args) != 1:
        raise EditError("the Jupyter location is not a plain prefix location")
    wanted = {id(node) for node in shadowing}
    for sibling in location.parent.directives("location") if location.parent else ():
        if id(sibling) in wanted or sibling is location:
            continue
        other = locations.location_info(sibling)
        if other.modifier in ("~", "~*") and _may_match_below(other.path, info.path,
                                                              other.modifier == "~*"):
            raise EditError(f"`^~` would also take URIs below {info.path} from location "
                            f"{' '.join(sibling.args)} ({sibling.path}:{sibling.line})")
    return [insert_arg(location, 0, "^~")]


_LITERAL = re.compile(r"\^((?:[^\\.\[\](){}*+?|^$]|\\[./-])*)")


def _may_match_below(regex: str, prefix: str, caseless: bool) -> bool:
    """Whether ``regex`` can match some URI that starts with ``prefix``: False only when
    it is anchored (``^/static/``) to a literal start that parts from the prefix."""
    found = _LITERAL.match(regex)
    if found is None:
        return True
    literal = found.group(1)
    if regex[found.end():found.end() + 1] in ("?", "*", "{"):
        literal = literal[:-1]  # the last character is optional
    literal = literal.replace("\\", "")
    if caseless:
        literal, prefix = literal.lower(), prefix.lower()
    return literal.startswith(prefix) or prefix.startswith(literal)


def check(context: Context) -> Iterator[Report]:
    view = context.apps
    model = context.model
    seen: set[tuple[int, int]] = set()
    for deployment, base in ((d, b) for d in view.jupyter_deployments()
                             for b in d.mount_bases()):
        base_location, unknown, _ = view.route(deployment.server, base + "lab")
        if base_location is None or unknown or model.handler(base_location) is None:
            continue
        shadows: dict[int, tuple[Node, str]] = {}
        for sample in STATIC_SAMPLES:
            uri = base + sample
            location, unknown, _ = view.route(deployment.server, uri)
            if location is None or unknown or model.handler(location) is not None:
                continue
            if locations.location_info(location).modifier not in ("~", "~*"):
                continue
            shadows.setdefault(id(location), (location, uri))
        if not shadows:
            continue
        fix, why = make_fix("mark the Jupyter location ^~", caret_tilde, base_location,
                            [node for node, _ in shadows.values()], unsafe=True)
        for location, uri in shadows.values():
            if (id(location), id(base_location)) in seen:
                continue
            seen.add((id(location), id(base_location)))
            yield Report(
                f"regex location {' '.join(location.args)} serves Jupyter's static assets "
                f"({display(uri)}) from disk instead of the proxy at {base_location.path}:"
                f"{base_location.line}; mark the Jupyter prefix location `^~`" + not_fixed(why),
                node=location, fix=fix,
                headline="this regex location serves Jupyter's static assets from disk",
                notes=[f"e.g. {display(uri)}, instead of the proxy at "
                       f"{base_location.path}:{base_location.line}",
                       "mark the Jupyter prefix location `^~`" + not_fixed(why)],
            )
