"""An application nglint recognised, but whose base URL no location shows.

## What it does
When the locations of a server are attributed to an app (by their signs: the
proxy target's port or name, the paths) but none of them shows where the app
lives (only unanchored regexes such as `location ~ /api/kernels/`, or named
locations), nglint does not guess a base URL and checks none of that app's
websockets.  This info finding says so, and how to tell nglint.

## Why is this bad?
Nothing is wrong for nginx.  A guessed base (`/`) used to give false errors
("no location serves /api/kernels/...") while the real endpoints, under
`/jupyter/`, went unchecked.

## Example
```nginx
location ~ /api/kernels/ {
    proxy_pass http://127.0.0.1:8888;
}
```

## Use instead
Mark the location (or the server) with the app and its base URL:
```nginx
# nglint: app=jupyter base=/jupyter/
location ~ /api/kernels/ {
    proxy_pass http://127.0.0.1:8888;
}
```
or give `--jupyter-prefix /jupyter/` for Jupyter.  `nglint apps PATH` shows what
nglint inferred for every server.

## Sources
- `nglint/apps/view.py` (what counts as evidence of a base URL) and each app's
  profile in `nglint/apps/`.
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report

CODE = "NG111"
NAME = "app-base-unknown"
SEVERITY = "info"
FIXABLE = False
USES = ("apps",)


def check(context: Context) -> Iterator[Report]:
    for unresolved in context.apps.unresolved:
        profile = unresolved.profile
        first = unresolved.locations[0]
        written = ", ".join(f"location {' '.join(n.args)}" for n in unresolved.locations[:3])
        yield Report(
            f"{written} serve{'s' if len(unresolved.locations) == 1 else ''} {profile.title}, "
            "but no location shows its base URL, so its websockets are not checked; mark it "
            f"with `# nglint: app={profile.name} base=/path/`",
            node=first,
        )
