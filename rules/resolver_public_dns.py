"""A `resolver` on the Internet answering the names nginx proxies to at run time.

## What it does
For every `proxy_pass`, `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` and
`grpc_pass` whose target holds variables (nginx then resolves the host per
request, unless it names an `upstream` block), reads the `resolver` in force
there (inherited from `server` or `http`, `nglint.semantics.inherit`) and
reports it when one of its addresses is a globally routable IP: a warning for
well-known public resolvers (Google 8.8.8.8, Cloudflare 1.1.1.1, Quad9 9.9.9.9,
OpenDNS 208.67.222.222 ...), information for any other public address.
Loopback, private, link-local and shared (100.64/10) addresses pass; a resolver
given by name is not judged.  Reported once per `resolver` line, naming the
requests that use it.

## Why is this bad?
nginx's stub resolver speaks plain DNS over UDP (TCP only for truncated
answers), validates nothing (no DNSSEC) and, in the versions reviewed in 2016,
reused one UDP source port per worker, leaving the 16-bit query id as the only
secret.  Across the Internet an off-path attacker who wins that race poisons
nginx's cache: the variable `proxy_pass` then sends requests, cookies and
credentials to a host of their choosing.  The resolver also parses hostile
answers: CVE-2021-23017 (1-byte memory overwrite, nginx 0.6.18-1.20.0) was
reachable by a forged response.  A resolver on the local host or a trusted
network removes the path.

## Example
```nginx
resolver 8.8.8.8 1.1.1.1;
location / {
    proxy_pass http://$backend.internal.example;
}
```

## Use instead
```nginx
resolver 127.0.0.53 valid=30s;   # systemd-resolved, unbound, dnsmasq on the host
```

## Sources
- https://nginx.org/en/docs/http/ngx_http_core_module.html#resolver
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass
  (a target with variables is resolved with the resolver, unless it names a
  server group)
- https://nginx.org/en/security_advisories.html (CVE-2021-23017, "1-byte memory
  overwrite in resolver")
- nginx `src/core/ngx_resolver.c` (UDP, TCP on truncation)
- http://blog.zorinaq.com/nginx-resolver-vulns/ (predictable ids, one source port)
- gixy-ng's `resolver_external` plugin.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics.taint import URL_PASSES, describe_location, literal_host
from nglint.semantics.tokens import nginx_token
from nglint.tree import Node

CODE = "NG204"
NAME = "resolver-public-dns"
SEVERITY = "warning"
FIXABLE = False
TRIGGERS = frozenset({"resolver"})  # a finding needs a resolver directive in force
SECURITY_SEVERITY = 4.8

WELL_KNOWN = {
    "8.8.8.8": "Google", "8.8.4.4": "Google", "2001:4860:4860::8888": "Google",
    "2001:4860:4860::8844": "Google", "1.1.1.1": "Cloudflare", "1.0.0.1": "Cloudflare",
    "2606:4700:4700::1111": "Cloudflare", "2606:4700:4700::1001": "Cloudflare",
    "9.9.9.9": "Quad9", "149.112.112.112": "Quad9", "2620:fe::fe": "Quad9",
    "208.67.222.222": "OpenDNS", "208.67.220.220": "OpenDNS", "4.2.2.1": "Level3",
    "4.2.2.2": "Level3", "64.6.64.6": "Verisign", "64.6.65.6": "Verisign",
    "77.88.8.8": "Yandex", "94.140.14.14": "AdGuard", "76.76.2.0": "Control D",
    "185.228.168.9": "CleanBrowsing", "114.114.114.114": "114DNS", "223.5.5.5": "AliDNS",
    "223.6.6.6": "AliDNS", "119.29.29.29": "DNSPod", "180.76.76.76": "Baidu",
}


def _address(argument: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP of a resolver argument (``1.1.1.1``, ``1.1.1.1:53``, ``[::1]:5353``)."""
    text = nginx_token(argument)
    if "=" in text:
        return None  # valid=, ipv6=, status_zone=
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None  # a name: resolved at start-up, not judged


def _needs_resolver(node: Node, upstreams: set[str]) -> bool:
    target = nginx_token(node.args[0]) if node.args else ""
    if "$" not in target:
        return False
    host = literal_host(target)
    if host is None:
        return True
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name.lower() in upstreams:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
        return False
    except ValueError:
        return not name.startswith("unix:")


def check(context: Context) -> Iterator[Report]:
    upstreams = {nginx_token(block.args[0]).lower() for block in context.tree.blocks("upstream")
                 if block.args}
    users: dict[int, tuple[Node, list[Node]]] = {}
    for directive in URL_PASSES:
        for node in context.tree.named(directive):
            block = node.parent
            if block is None or not _needs_resolver(node, upstreams):
                continue
            resolver = context.model.effective(block, "resolver")
            if resolver is None or resolver.node is None:
                continue
            users.setdefault(id(resolver.node), (resolver.node, []))[1].append(node)
    for resolver_node, passes in users.values():
        public = []
        for argument in resolver_node.args:
            address = _address(argument)
            if address is not None and address.is_global:
                public.append((str(address), WELL_KNOWN.get(str(address))))
        if not public:
            continue
        known = [f"{ip} ({owner})" for ip, owner in public if owner]
        shown = ", ".join(known or [ip for ip, _ in public])
        exposed = sorted({describe_location(node) for node in passes})
        yield Report(
            f"resolver {shown} is {'a public DNS service' if known else 'on the Internet'}, "
            f"asked over plain UDP for the hosts of {len(passes)} {passes[0].directive} with "
            f"variables ({'; '.join(exposed)}): a spoofed answer sends those requests to "
            "another host; use a resolver on this host or a trusted network",
            node=resolver_node, severity=None if known else Severity.INFO,
            headline="resolver on the Internet answers the proxied host names",
            notes=[f"used by {node.directive} at line {node.line}" for node in passes]
            + [f"exposed to {item}" for item in exposed],
            related=[(node, "resolved per request here") for node in passes])
