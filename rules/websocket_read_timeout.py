"""Websockets behind a short or default `proxy_read_timeout` (Jupyter and every app profile).

## What it does
At the block that really serves each websocket endpoint of every app profile
(`nglint apps` lists them: Jupyter Server, JupyterHub, code-server, RStudio,
Grafana, Home Assistant, ...), reads the effective `proxy_read_timeout`
(inherited from `server` or `http`, or the 60 s default). Below the threshold
(default 60 s) is an error; exactly 60 s is a warning when endpoints without a
server ping land there (events, collaboration, language server).

## Why is this bad?
In a websocket tunnel nginx closes the connection when nothing passed in
either direction for `proxy_read_timeout`.  Kernel and terminal sockets survive 60 s
through Jupyter's 30 s pings, but a shorter timeout drops them, and the events
and collaboration sockets have no ping at all: they drop after 60 s idle and
the browser reconnects in a loop.  Long REST calls also end in 504.

## Example
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_read_timeout 30s;
}
```

## Use instead
```nginx
location / {
    proxy_pass http://jupyter;
    proxy_read_timeout 1d;
}
```

## Options
- `threshold` (default `60s`): values below it are errors.
- `fix-value` (default `1d`, as the classic recipe's 86400): what `--fix` writes.

## Fix
Sets `proxy_read_timeout` to the `fix-value` in the serving location.

## Sources
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout
- https://nginx.org/en/docs/http/websocket.html ("the proxied server ... may close
  the connection" after `proxy_read_timeout`; pings keep it open)
- jupyter_server `base/websocket.py` (`WS_PING_INTERVAL`, 30 s, set by
  `ws_ping_interval`; used by the kernel, terminal and language-server sockets),
  `services/events/handlers.py` (no ping).
- nginx `src/http/ngx_http_upstream.c` (`ngx_http_upstream_process_upgraded`: the
  timer is re-armed by traffic in either direction).
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.fixes import fix_notes, make_fix, not_fixed, set_directive
from nglint.semantics.values import InvalidValue, describe_ms, parse_time

CODE = "NG104"
NAME = "websocket-read-timeout"
SEVERITY = "error"
FIXABLE = True
USES = ("apps",)
OPTIONS = {"threshold": "60s", "fix-value": "1d"}
DEFAULT_MS = 60_000


def check(context: Context) -> Iterator[Report]:
    threshold = parse_time(str(context.option("threshold")))
    fix_value = str(context.option("fix-value"))
    for group in context.apps.proxied_groups(need="timeout"):
        value = context.model.effective(group.proxying, "proxy_read_timeout")
        if value is None:
            continue
        try:
            timeout = parse_time(value.value)
        except InvalidValue:
            continue  # NG003 reports it
        origin = "the nginx default" if value.is_default else f"set at {value.where()}"
        location = group.proxying
        fix, why = make_fix(f"set proxy_read_timeout {fix_value}", set_directive, location,
                            "proxy_read_timeout", [fix_value])
        node = group.at(value.node)
        related = [(value.node, "proxy_read_timeout set here")] \
            if value.node is not None and value.node is not node else []
        provenance = f"proxy_read_timeout {value.value}: {origin}"
        if timeout < threshold:
            # traffic either way re-arms the timer: pinged sockets outlive any timeout
            # longer than the ping interval
            dropping = [e for e in group.endpoints if e.ping is None or timeout <= e.ping * 1000]
            if dropping:
                effect = (f"{group.describe(dropping)} drop after {describe_ms(timeout)} "
                          "without traffic")
            else:
                effect = (f"{group.describe()} survive only through the server's pings, "
                          f"and long requests end in 504 after {describe_ms(timeout)}")
            yield Report(
                f"proxy_read_timeout is {describe_ms(timeout)} here ({origin}), below "
                f"{describe_ms(threshold)}: {effect}" + not_fixed(why),
                node=node, fix=fix,
                severity=group.severity,
                headline=f"proxy_read_timeout is {describe_ms(timeout)}, below "
                         f"{describe_ms(threshold)}: idle websockets drop",
                notes=[provenance, group.affected(dropping or None),
                       f"effect: {effect.replace(group.describe(dropping or None), 'they')}",
                       *fix_notes(fix, why)],
                location=group.anchor, related=related,
            )
        elif timeout == DEFAULT_MS:
            quiet = [e for e in group.endpoints if e.ping is None]
            if quiet:
                yield Report(
                    f"proxy_read_timeout is 60s here ({origin}): {group.describe(quiet)} "
                    "have no server ping and drop after 60 s idle; long requests end in 504"
                    + not_fixed(why),
                    node=node, fix=fix,
                    severity=Severity.WARNING,
                    headline="proxy_read_timeout is 60s: idle websockets drop after 60 s",
                    notes=[provenance, group.affected(quiet),
                           "effect: they have no server ping and drop after 60 s idle; "
                           "long requests end in 504", *fix_notes(fix, why)],
                    location=group.anchor, related=related,
                )
