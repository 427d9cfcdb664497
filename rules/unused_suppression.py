"""A `# nglint: ignore[...]` comment that suppresses nothing.

## What it does
Reports each rule named in a `# nglint: ignore[CODE,...] reason` comment that
covered no finding of that rule in this run.  Only rules that ran are judged:
with `--select NG101`, a suppression of NG102 is not reported.

A suppression covers its own line when it follows a statement, the next line
when it stands alone, and the whole block when it is written on the block's
opening line.  This rule and `invalid-suppression` (NG014) run after the
suppressions are applied, so their own findings cannot be suppressed: turn
them off with `ignore` instead.

## Why is this bad?
A suppression outlives the problem it hid: once the configuration is fixed it
stays behind, and the next real problem of that rule on that line is hidden
without anyone deciding so.  Stale suppressions also mislead readers about
what is wrong with the configuration.

## Example
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_http_version 1.1;  # nglint: ignore[NG101] old upstream
}
```

## Use instead
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_http_version 1.1;
}
```

## Sources
- ruff's `unused-noqa` (RUF100) and nginx-lint's unused-suppression report, which
  this rule follows.
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report

CODE = "NG009"
NAME = "unused-suppression"
SEVERITY = "info"
FIXABLE = False
SEES_SUPPRESSIONS = True


def check(context: Context) -> Iterator[Report]:
    ran = context.analysis.rules_run
    for suppression in context.analysis.suppressions:
        unused = [token for code, token in suppression.codes.items()
                  if code in ran and code not in suppression.used]
        if unused:
            names = ", ".join(unused)
            yield Report(f"unused suppression of {names}: no such finding on the "
                         f"line{'s' if len(suppression.spans) > 1 else ''} it covers "
                         "(remove it from the comment)", node=suppression.node)
