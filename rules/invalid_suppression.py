"""A `# nglint: ignore` comment without a reason, malformed, or naming an unknown rule.

## What it does
Checks every comment starting with `nglint: ignore`: it must read
`# nglint: ignore[CODE,...] reason`, name rules that exist (codes such as
`NG102` or names such as `websocket-upgrade-header`, separated by commas) and
say why after the brackets.  A suppression without a reason still suppresses;
a malformed one or an unknown rule suppresses nothing.

## Why is this bad?
A suppression is a decision that a finding does not apply.  Without a reason
the next reader cannot tell a deliberate exception (a same-origin deployment, an
upstream without websockets) from a silenced error, and cannot tell when the
exception stops holding.  A typo in the code or the syntax silently suppresses
nothing, so the finding the author meant to hide is still reported, or worse,
the author believes a different rule is covered.

## Example
```nginx
location / {  # nglint: ignore[NG107]
    proxy_pass http://jupyter;
    proxy_set_header Origin "";
}
```

## Use instead
```nginx
location / {  # nglint: ignore[NG107] the kiosk's own page is the only client
    proxy_pass http://jupyter;
    proxy_set_header Origin "";
}
```

## Sources
- walf443/nginx-lint: suppressions require a reason.
- The suppression syntax is described in nglint's README ("Suppressions").
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report

CODE = "NG014"
NAME = "invalid-suppression"
SEVERITY = "warning"
FIXABLE = False
SEES_SUPPRESSIONS = True


def check(context: Context) -> Iterator[Report]:
    for suppression in context.analysis.suppressions:
        for problem in suppression.problems:
            yield Report(problem, node=suppression.node)
