"""An Origin or Referer check that other sites pass: an open regex, or `valid_referers none`.

## What it does
Reports:

- a regex compared with `$http_origin` or `$http_referer` (`if ($http_origin
  ~ ...)`, `!~`, `~*`, `!~*`, and the regex keys of a `map` whose source is
  one of them) that also matches a string from a host the pattern does not
  name.  nglint builds strings the regex accepts (`nglint.semantics.samples`)
  and tries, on each, the attacker's variants: the host followed by another
  domain (`https://example.com.attacker.example`: the end is not anchored),
  glued behind another name (`https://attackerexample.com`: the start of the
  host is open, `[^/]+example` or a missing `^`), an unescaped `.` taking
  another character (`https://examplexcom`), and, for the Referer only, the
  whole string inside another site's URL (`https://attacker.example/?https://example.com/`:
  no `^`).  The message names the string that passes;
- `valid_referers` with `none` (a request without `Referer` is valid: any
  page can send one with `Referrer-Policy: no-referrer`) or `blocked` (a
  `Referer` that does not start with `http://` or `https://` is valid).

The finding names a request path that reaches the check when there is one.
With the option `https-only = true` (gixy's `https_only`), a regex that
accepts `http://` is reported too.

## Why is this bad?
These checks decide whether a request comes from a trusted page (CORS
headers, anti-hotlinking, CSRF protection, framing).  A regex that also
accepts `example.com.attacker.example` or `evilexample.com` lets any site an
attacker can register pass it.

## Example
```nginx
if ($http_origin ~* ^https://example.com) {
    add_header Access-Control-Allow-Origin $http_origin;
}
valid_referers none server_names;
```

## Use instead
```nginx
if ($http_origin ~* ^https://(www\\.)?example\\.com$) {
    add_header Access-Control-Allow-Origin $http_origin;
}
valid_referers server_names;
```

## Sources
- gixy's `origins` and `valid_referers` plugins (the same checks; gixy
  generates strings from the regex too):
  https://github.com/yandex/gixy/blob/master/docs/en/plugins/origins.md,
  https://github.com/yandex/gixy/blob/master/docs/en/plugins/validreferers.md
- `valid_referers`: https://nginx.org/en/docs/http/ngx_http_referer_module.html#valid_referers
  ("none: the Referer field is missing"; "blocked: ... values that do not
  start with http:// or https://")
- `Referrer-Policy: no-referrer`: https://www.w3.org/TR/referrer-policy/#referrer-policy-no-referrer
- The `Origin` header (scheme, host, port; no path): RFC 6454 section 7
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.semantics.pcre import translate_pcre
from nglint.semantics.samples import ANY, LITERAL, Sample, matches, request_path, samples
from nglint.semantics.tokens import nginx_token
from nglint.semantics.variables import map_regexes
from nglint.tree import Node

CODE = "NG220"
NAME = "origin-referer-regex"
SEVERITY = "warning"
FIXABLE = False
SECURITY_SEVERITY = 5.3
# https-only: also report a regex that accepts plain http:// (gixy's https_only option)
OPTIONS = {"https-only": False}

VARIABLES = ("$http_origin", "$http_referer")
ATTACKER = "attacker.example"
_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)?(?P<host>[^/?#:]*)(?P<rest>.*)\Z",
                  re.IGNORECASE | re.DOTALL)
_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+\Z", re.IGNORECASE)
_OPERATORS = ("~", "~*", "!~", "!~*")


def _domain(sample: Sample, start: int, host: str) -> str:
    """The host's end the pattern fixes: after its last open character (a class)."""
    kinds = sample.kinds[start:start + len(host)]
    cut = 0
    for index, kind in enumerate(kinds):
        if kind not in (LITERAL, ANY):
            cut = index + 1
    return host[cut:].lstrip(".")


def _attacks(sample: Sample, referer: bool, https_only: bool = False
             ) -> Iterator[tuple[str, str]]:
    parts = _URL.match(sample.text)
    if parts is None:
        return
    scheme, host, rest = parts.group("scheme") or "", parts.group("host"), parts.group("rest")
    if not _HOST.match(host) or not any(c.isalpha() for c in host):
        return  # no host name in this string: not a check on where a request comes from
    start = len(scheme)
    if https_only and scheme.lower() == "http://":
        yield sample.text, "plain http is accepted and the `https-only` option is set"
    yield f"{scheme}{host}.{ATTACKER}{rest}", f"a host that only starts with {host}"
    if rest:
        yield f"{scheme}{host}.{ATTACKER}", f"a host that only starts with {host}"
    domain = _domain(sample, start, host)
    if domain and "." in domain:
        yield f"{scheme}attacker{domain}{rest}", f"a host that only ends with {domain}"
    for index, char in enumerate(host):
        if char == "." and sample.kinds[start + index] == ANY:
            swapped = host[:index] + "x" + host[index + 1:]
            yield f"{scheme}{swapped}{rest}", "an unescaped `.` matches any character"
    if referer:
        yield f"https://{ATTACKER}/?{sample.text}", "the start is not anchored with `^`"
        if scheme:
            yield f"{scheme}{ATTACKER}/{host}{rest}", \
                "the part before the host name can hold another site's path"


def _bypass(pattern: str, caseless: bool, referer: bool, https_only: bool = False
            ) -> tuple[str, str] | None:
    regex, _reason = translate_pcre(pattern, caseless)
    if regex is None:
        return None  # NG013 says nglint cannot read it
    for sample in samples(regex):
        for attack, why in _attacks(sample, referer, https_only):
            if matches(regex, attack):
                return attack, why
    return None


def _header(variable: str) -> str:
    return "Origin" if variable == "$http_origin" else "Referer"


def _where(context: Context, node: Node) -> str:
    path = request_path(context.tree, node)
    return f"; requests to {path} reach this check" if path else ""


def _report(context: Context, node: Node, variable: str, pattern: str,
            found: tuple[str, str]) -> Report:
    attack, why = found
    return Report(
        f"the regex {pattern!r} on {variable} also matches {attack!r} ({why}): a page "
        f"on a host of the attacker's passes this {_header(variable)} check"
        f"{_where(context, node)}",
        node=node, headline=f"{_header(variable)} regex {pattern!r} accepts {attack!r}")


def _if_checks(context: Context) -> Iterator[Report]:
    for node in context.tree.named("if"):
        args = [nginx_token(arg) for arg in node.args]
        if len(args) != 3 or args[0] not in VARIABLES or args[1] not in _OPERATORS:
            continue
        variable, operator, pattern = args
        found = _bypass(pattern, operator.endswith("*"), variable == "$http_referer",
                        bool(context.option("https-only")))
        if found is not None:
            yield _report(context, node, variable, pattern, found)


def _map_checks(context: Context) -> Iterator[Report]:
    for key in map_regexes(context.tree):
        variable = key.source
        if variable not in VARIABLES:
            continue
        found = _bypass(key.pattern, key.caseless, variable == "$http_referer",
                        bool(context.option("https-only")))
        if found is not None:
            attack, why = found
            written = nginx_token(key.entry.directive)
            yield Report(
                f"the map key {written!r} on {variable} also matches {attack!r} ({why}): a "
                f"page on a host of the attacker's gets this map's value "
                f"{' '.join(key.entry.args)!r}", node=key.entry,
                headline=f"{_header(variable)} map regex {key.pattern!r} accepts {attack!r}")


def _valid_referers(context: Context) -> Iterator[Report]:
    for node in context.tree.named("valid_referers"):
        args = [nginx_token(arg) for arg in node.args]
        for word, meaning in (("none", "a request without a Referer header (any page can "
                               "send one with Referrer-Policy: no-referrer)"),
                              ("blocked", "a Referer that does not start with http:// or "
                               "https://")):
            if word in args:
                yield Report(
                    f"valid_referers {word} accepts {meaning}: $invalid_referer is empty "
                    f"for requests from any site{_where(context, node)}", node=node,
                    headline=f"valid_referers {word}")


def check(context: Context) -> Iterator[Report]:
    yield from _if_checks(context)
    yield from _map_checks(context)
    yield from _valid_referers(context)
