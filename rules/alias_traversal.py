"""An `alias` that lets a request climb out of the aliased directory.

## What it does
Reports an `alias` whose location lets part of the URI land right after a `/` of
the alias:

- a prefix location (plain or `^~`) without a trailing slash whose alias ends
  with one: `location /static { alias /srv/static/; }` serves
  `GET /static../secret` from `/srv/static/../secret`, that is anything in
  `/srv/` (error);
- the same location with an alias without the slash
  (`location /img { alias /srv/img; }`): `GET /img-private/x` reads
  `/srv/img-private/x`, every sibling whose name starts with `img` (warning);
- a regex location whose capture goes after a `/` of the alias while the
  pattern does not end the capture's prefix with `/`
  (`location ~ ^/dl(.*)$ { alias /srv/dl/$1; }`: `GET /dl../secret`).

The finding names the request that exposes it, checked against nglint's model of
location selection: the probe URI must be served by that location (or by a
nested one that inherits the alias).  An alias inherited into a nested location
replaces the *outer* location's name, so nesting does not expose it.

## Why is this bad?
nginx replaces the location's name in the URI with the alias and opens the
result.  URI normalisation only resolves `..` as a whole path segment:
`/static../secret` is left as is, `/static` is replaced by `/srv/static/` and the
file system resolves `/srv/static/../secret`.  Checked on nginx 1.22.1:
`GET /static../secret/passwd` returned the file `/srv/secret/passwd`.

## Example
```nginx
location /static {
    alias /srv/static/;
}
```

## Use instead
```nginx
location /static/ {
    alias /srv/static/;
}
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#alias
- nginx `src/http/ngx_http_core_module.c` (`ngx_http_map_uri_to_path`: the
  location name's length is replaced by the alias; `ngx_http_core_merge_loc_conf`
  inherits `alias` with the outer name's length); `src/http/ngx_http_parse.c`
  (`ngx_http_parse_complex_uri`: `..` only as a segment)
- gixy `alias_traversal` (Yandex, MPL-2.0), Orange Tsai, "Breaking Parser Logic"
  (Black Hat USA 2018)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.exposure import serves
from nglint.semantics.locations import LocationInfo, literal_prefix, location_info
from nglint.semantics.pcre import RegexTooCostly
from nglint.semantics.pcre import search as regex_search
from nglint.semantics.uri import to_bytes
from nglint.tree import Node

CODE = "NG210"
NAME = "alias-traversal"
SEVERITY = "error"
FIXABLE = False
TRIGGERS = frozenset({"alias"})  # reads only alias directives
SECURITY_SEVERITY = 7.5

CAPTURE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# what may follow "<prefix>../" in a probe, for regexes that demand a suffix
TAILS = ("secret", "secret.html", "secret.png", "secret.jpg", "secret.css", "secret.js",
         "secret.txt", "secret/")


def _exposed(context: Context, location: Node, alias: Node, uri: str) -> bool:
    """Whether the routing model serves ``uri`` with this alias (unknown: yes)."""
    if location.enclosing("server") is None:
        return True
    serving = serves(context.tree, location, uri)
    if serving is None:
        return True
    root = context.model.document_root(serving)
    return root is not None and root.node is alias


def _regex_probe(info: LocationInfo, alias: str) -> tuple[str, str] | None:
    """A URI this regex location matches whose capture, placed after a ``/`` of the
    alias, starts with ``../``; with the capture's name."""
    if info.regex is None:
        return None
    refs = [m.group(1) or m.group(2) for m in CAPTURE.finditer(alias)
            if alias[:m.start()].endswith("/")]
    prefix = literal_prefix(info.path)
    if not refs or prefix is None or prefix.endswith("/"):
        return None
    for tail in TAILS:
        uri = prefix + "../" + tail
        try:
            found = regex_search(info.regex, to_bytes(uri))
        except RegexTooCostly:
            return None
        if found is None:
            continue
        for ref in refs:
            try:
                captured = found.group(int(ref) if ref.isdigit() else ref)
            except (IndexError, re.error):
                continue
            if captured is not None and captured.startswith(b"../"):
                return uri, f"${ref}"
    return None


def _parent(path: str) -> str:
    trimmed = path.rstrip("/")
    return trimmed[: trimmed.rfind("/") + 1] or "/"


def check(context: Context) -> Iterator[Report]:
    for alias in context.tree.named("alias"):
        location = alias.parent
        if location is None or location.directive != "location" or len(alias.args) != 1:
            continue
        info = location_info(location)
        target = alias.args[0]
        if info.modifier in ("", "^~") and info.supported and not info.path.endswith("/"):
            if target.endswith("/"):
                uri = info.path + "../"
                if not _exposed(context, location, alias, uri + "secret"):
                    continue
                parent = _parent(target)
                yield Report(
                    f"path traversal: location {info.path} has no trailing slash and its "
                    f"alias {target} has one, so GET {uri}secret reads "
                    f"{target}../secret: every file under {parent} is served",
                    node=alias, location=location,
                    headline=f"GET {uri}… reads files under {parent}",
                    notes=[f"request path: {uri}", f"use location {info.path}/"])
            else:
                uri = info.path + "-x/"
                if not _exposed(context, location, alias, uri):
                    continue
                yield Report(
                    f"location {info.path} and its alias {target} both lack the trailing "
                    f"slash: GET {info.path}-private/ reads {target}-private/, every "
                    f"sibling of {target} whose name starts with its name is served",
                    node=alias, location=location, severity=Severity.WARNING,
                    headline=f"GET {info.path}<suffix> reads siblings {target}<suffix>",
                    notes=[f"request path: {info.path}<suffix>",
                           f"use location {info.path}/ with alias {target}/"])
        elif info.is_regex:
            probe = _regex_probe(info, target)
            if probe is None:
                continue
            uri, ref = probe
            if not _exposed(context, location, alias, uri):
                continue
            yield Report(
                f"path traversal: the regex location {info.path} captures {ref} without "
                f"a '/' before it and the alias puts it after a '/': GET {uri} makes "
                f"{ref} start with '../' and leaves the aliased directory",
                node=alias, location=location,
                headline=f"GET {uri} climbs out of the alias",
                notes=[f"request path: {uri}",
                       "end the pattern's literal part with '/' before the capture"])
