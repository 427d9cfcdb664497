"""A directive nginx does not know (a typo, a module not loaded, too new a directive).

## What it does
Looks every directive up in nglint's table of nginx directives for the target
nginx versions (`--nginx-version`, a range) and reports the names nginx would refuse
with `unknown directive`, suggesting the closest known name
(`proxy_set_heder` -> `proxy_set_header`).  A directive added after the target
(`http2` before 1.25.1) and an NGINX Plus-only directive are reported with that
reason: an error when every version of the target refuses it, a warning naming the
versions when only some do (`http2 on;` with the default target, nginx 1.18-1.31.4:
"on nginx 1.18-1.25.0: ...").  Map, geo, types and split_clients entries, lua code and the
bodies of unknown blocks are not directives and are never reported; removed
directives are NG010's.

Directives of third-party modules nglint does not know can be declared
(glob patterns allowed):

```toml
[tool.nglint.rules.unknown-directive]
extra-directives = ["rtmp", "rtmp_*", "vod_*"]
```

## Why is this bad?
`nginx -t` fails with `unknown directive "proxy_set_heder"` and the new
configuration is never loaded.  A typo in a rarely reloaded file is found at the
worst moment: the next restart.

## Example
```nginx
location / {
    proxy_set_heder Host $host;
}
```

## Use instead
```nginx
location / {
    proxy_set_header Host $host;
}
```

## Sources
- https://nginx.org/en/docs/dirindex.html (alphabetical index of directives)
- nginx `src/core/ngx_conf_file.c` (`ngx_conf_handler`: `unknown directive`)
- the table `nglint/data/directives.json` and how it is built:
  `tools/build_directives.py`
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives, versions
from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.tree import Node
from nglint.versions import VersionRange

CODE = "NG006"
NAME = "unknown-directive"
SEVERITY = "error"
FIXABLE = False
USES = ("directives",)
OPTIONS: dict[str, list[str]] = {"extra-directives": []}


def check(context: Context) -> Iterator[Report]:
    target = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    # name -> the versions of the target without it (a tree repeats a few hundred names;
    # ``refusing``'s own cache hashes the target each time it is asked)
    refused: dict[str, list[VersionRange]] = {}
    for node, (_where, known, _allowed, stopped) in directives.checked_directives(
            context.tree.root, target, extra, context.tree.scope).rows():
        if stopped:
            continue
        if known:  # some version of the target has it: a warning when some do not
            missing = refused.get(node.directive)
            if missing is None:
                missing = refused[node.directive] = directives.refusing(node.directive,
                                                                        target)
            if missing:
                yield from _newer(node, target, missing)
            continue
        name = node.directive
        every = directives.variants(name)
        if any(v.removed is not None and target.low >= v.removed for v in every):
            continue  # NG010 removed-directive
        later = [v.added for v in every if v.added is not None and target.high < v.added
                 and not v.plus]
        if later:
            yield Report(f'"{name}" appeared in nginx {versions.show(min(later), upper=True)} '
                         f"(the target is {target}): {target} refuses it as an unknown "
                         "directive", node=node)
            continue
        if every and all(v.plus for v in every):
            yield Report(f'unknown directive "{name}": it exists only in NGINX Plus '
                         "(the commercial version), not in open-source nginx", node=node)
            continue
        message = f'unknown directive "{name}"'
        guess = directives.suggest(name, target)
        if guess:
            message += f'; did you mean "{guess}"?'
        else:
            message += (" (a third-party module's directive? declare it in "
                        "[tool.nglint.rules.unknown-directive] extra-directives)")
        yield Report(message, node=node)


def _newer(node: Node, target: VersionRange, missing: list[VersionRange]
           ) -> Iterator[Report]:
    """A directive some versions of the target do not know yet: a warning naming them
    (one that some versions removed is NG010's)."""
    name = node.directive
    every = directives.variants(name)
    if any(v.removed is not None and v.removed <= target.high for v in every):
        return
    added = [v.added for v in every if v.added is not None and not v.plus]
    since = f" appeared in nginx {versions.show(min(added), upper=True)}" if added else \
        " is not in every nginx version"
    yield Report(f'on {versions.describe(missing)}: "{name}"{since}: '
                 f"{versions.describe(missing)} refuses it as an unknown directive "
                 f"(the target is {target})", node=node, severity=Severity.WARNING)
