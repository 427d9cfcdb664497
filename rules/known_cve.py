"""A directive in use that exposes a known nginx vulnerability on some target versions.

## What it does
For each nginx security advisory in `nglint/data/advisories.json` (CVE,
first fixed version of each series, first vulnerable version when known, and
the directive that exposes it), reports the first directive of the
configuration that exposes it, when the target range (`--nginx-version`)
includes a vulnerable version.  Like every version-dependent finding, the
message starts with the versions it is about ("on nginx 1.18-1.26.1 and
1.27.0: ...") and names the fixed releases.  Exposure: `resolver`, `mp4`,
`http3` or `listen ... quic`, `ssl_verify_client`, `dav_methods COPY|MOVE`,
`ssl_ocsp`, `proxy_set_body`, `proxy_pass https://...`.

A distribution may backport a fix into an older version number (Debian and
Ubuntu do): nglint knows version numbers only, so the finding is
information, to check against the vendor's package.

## Why is this bad?
A known vulnerability in a module the configuration uses is reachable by
remote clients (a crafted mp4 file, QUIC session or DNS answer) until nginx is
upgraded.

## Example
```nginx
location /video/ {
    mp4;
}
```

## Use instead
Upgrade nginx to a fixed release (or a vendor package with the fix), or
narrow the target with `--nginx-version` to the versions you run.

## Sources
- nginx security advisories: https://nginx.org/en/security_advisories.html
- nginx CHANGES (`<change type="security">` entries, one per release):
  https://nginx.org/en/CHANGES; data source and retrieval date in
  `nglint/data/advisories.json`
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nglint.engine import Context, Report
from nglint.security_data import load
from nglint.semantics.samples import request_path
from nglint.semantics.tokens import nginx_token
from nglint.tree import Node
from nglint.versions import Version

CODE = "NG224"
NAME = "known-cve"
SEVERITY = "info"
FIXABLE = False
SECURITY_SEVERITY = 5.0


def _version(text: str) -> Version:
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def vulnerable(version: Version, advisory: dict[str, Any]) -> bool:
    """Whether ``version`` is affected: not before ``introduced``, and below the fix of
    its series (or below the newest-series fix when its series has none).

    Every comparison is made on ``version`` (a ``Tracked`` one notes it), and the first
    release of the series after each stable fix is compared too: the engine then asks
    again at each version where the answer changes."""
    introduced = advisory.get("introduced")
    if introduced and version < _version(introduced):
        return False
    fixes = sorted(_version(text) for text in advisory["fixed"])
    newest = fixes[-1]
    if version >= newest:
        return False
    for fix in fixes[:-1]:
        next_series = (fix[0], fix[1] + 1, 0)
        if version >= fix and not version >= next_series:
            return False
    return True


def _exposes(node: Node, rule: dict[str, Any]) -> bool:
    args = [nginx_token(a) for a in node.args]
    if node.directive == "listen":
        return rule.get("listen") in args[1:]
    if node.directive != rule["directive"]:
        return False
    if "not" in rule and args[:1] and args[0] in rule["not"]:
        return False
    if "any_arg" in rule and not set(rule["any_arg"]) & {a.upper() for a in args}:
        return False
    return not ("arg_prefix" in rule and not (args and args[0].startswith(rule["arg_prefix"])))


def _first(context: Context, rule: dict[str, Any]) -> Node | None:
    names = [rule["directive"], *(["listen"] if "listen" in rule else [])]
    found = [node for name in names for node in context.tree.named(name)
             if _exposes(node, rule)]
    return min(found, key=lambda n: (n.path or "", n.line)) if found else None


def _fixed_text(advisory: dict[str, Any]) -> str:
    fixes = sorted(advisory["fixed"], key=_version)
    return f"fixed in {fixes[-1]}" + (f" (and {', '.join(fixes[:-1])} in the older stable "
                                      "series)" if len(fixes) > 1 else "")


def check(context: Context) -> Iterator[Report]:
    version = context.model.version
    for advisory in load("advisories")["advisories"]:
        node = _first(context, advisory["exposed_by"])
        if node is None or not vulnerable(version, advisory):
            continue
        words = " ".join([node.directive, *node.args])
        path = request_path(context.tree, node) if node.directive != "listen" else None
        reach = f" (requests to {path} reach it)" if path else ""
        yield Report(
            f"{advisory['cve']}: {advisory['summary']}; `{words}` uses the affected "
            f"module{reach}; {_fixed_text(advisory)} (a vendor package may carry the fix under an "
            f"older version number) — {advisory['url']}",
            node=node, headline=f"{advisory['cve']} ({advisory['summary']})")
