"""A TLS server that accepts protocols or cipher suites Mozilla's guideline rules out.

## What it does
For every `server` of `http` that terminates TLS (`listen ... ssl` or
`quic`), asks the model for the `ssl_protocols` and `ssl_ciphers` in force
(set at the server or in `http`, else nginx's default for the target version,
but only when nglint read every level: not for a fragment whose `http` is
elsewhere, nor past an `include` it could not read) and reports:

- `SSLv2`, `SSLv3`, `TLSv1` or `TLSv1.1` among the protocols: a warning when
  written; with the option `report-default = true`, info when it is nginx's
  default, which allows `TLSv1` and `TLSv1.1` before nginx 1.27.3 (the message
  says on which versions of the target).  Off by default: OpenSSL 3.0 and newer
  (Debian 12, Ubuntu 22.04, RHEL 9) refuse TLSv1 and TLSv1.1 at their default
  security level ("SSL 3, TLS 1.0, TLS 1.1 and DTLS 1.0 no longer working at
  the default security level of 1", OpenSSL 3.0 migration guide), so only a
  written list, which may come with `@SECLEVEL=0`, is reported by default;
- cipher strings enabling weak suites: RC4, DES and 3DES, MD5 MACs, NULL
  encryption, EXPORT and LOW strength, anonymous key exchange (`aNULL`, `ADH`,
  `AECDH`, and `ALL` without `!aNULL`); words excluded with `!` or `-` are
  not reported.

The list and the reasons are data (`nglint/data/tls.json`, with the
guideline's URL, version and retrieval date).  The OpenSSL nginx is built with
may refuse some of them (OpenSSL 3 at its default security level refuses
TLSv1 and TLSv1.1); nglint cannot see that, and the message says so.

## Why is this bad?
SSLv3 (POODLE), RC4, 3DES (Sweet32) and EXPORT suites (FREAK, Logjam) let a
network attacker decrypt or downgrade connections; TLSv1 and TLSv1.1 are
deprecated (RFC 8996) and fail compliance scans (PCI DSS).

## Example
```nginx
server {
    listen 443 ssl;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_ciphers HIGH:RC4:!aNULL;
}
```

## Use instead
```nginx
server {
    listen 443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;
}
```

## Sources
- Mozilla Server Side TLS guidelines: https://wiki.mozilla.org/Security/Server_Side_TLS
  (version and retrieval date in `nglint/data/tls.json`)
- nginx `ssl_protocols` and its default: https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_protocols;
  CHANGES 1.23.4 ("TLSv1.3 protocol is enabled by default") and 1.27.3
  ("TLSv1 and TLSv1.1 protocols are disabled by default"); `ssl_ciphers`
  default `HIGH:!aNULL:!MD5` (`NGX_DEFAULT_CIPHERS`, `ngx_http_ssl_module.c`)
- OpenSSL cipher strings: https://docs.openssl.org/3.0/man1/openssl-ciphers/
- OpenSSL 3.0 migration guide (TLS 1.0/1.1 at security level 1):
  https://docs.openssl.org/3.0/man7/migration_guide/
- RFC 8996 (TLS 1.0 and 1.1 deprecated), RFC 7568 (SSLv3), RFC 7465 (RC4)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.security_data import load
from nglint.semantics.inherit import Value, unread
from nglint.semantics.tokens import nginx_token
from nglint.tree import Node

CODE = "NG222"
NAME = "weak-tls"
SEVERITY = "warning"
FIXABLE = False
SECURITY_SEVERITY = 5.9
# report nginx's own default too (TLSv1 and TLSv1.1 before 1.27.3): off by default, as
# OpenSSL 3.0+ (every supported LTS distribution) refuses both at its default level
OPTIONS = {"report-default": False}

# words of one family: an exclusion of any of them removes the others
_FAMILY = {"ADH": "aNULL", "AECDH": "aNULL", "EXP": "EXPORT", "DES-CBC3": "DES",
           "3DES": "DES", "eNULL": "NULL", "COMPLEMENTOFALL": "NULL"}
_SPLIT = re.compile(r"[:, ]+")


def _family(word: str) -> str:
    return _FAMILY.get(word, word)


def weak_ciphers(ciphers: str) -> list[tuple[str, str]]:
    """(entry, reason) for each entry of an OpenSSL cipher string that enables weak
    suites not excluded elsewhere in it (``!X`` / ``-X``)."""
    words = load("tls")["weak_cipher_words"]
    entries = [e for e in _SPLIT.split(ciphers) if e]
    excluded = {_family(part) for e in entries if e[0] in "!-"
                for part in re.split(r"[+]", e[1:])}
    found: list[tuple[str, str]] = []
    for entry in entries:
        if entry[0] in "!-":
            continue
        body = entry.lstrip("+")
        if body.startswith("@"):
            continue  # @STRENGTH, @SECLEVEL=n
        parts = {p for piece in body.split("+") for p in (piece, *piece.split("-"))}
        if "DES" in parts and "CBC3" in parts:
            parts.add("DES-CBC3")
        for word in sorted(parts):
            if word not in words:
                continue
            if word == "ALL":
                if "aNULL" in excluded:
                    continue
            elif _family(word) in excluded:
                continue
            found.append((entry, words[word]))
            break
    return found


def _terminates_tls(server: Node) -> Node | None:
    for listen in server.directives("listen"):
        args = [nginx_token(a) for a in listen.args]
        if "ssl" in args[1:] or "quic" in args[1:]:
            return listen
    ssl = server.first("ssl")
    return ssl if ssl is not None and ssl.args[:1] == ["on"] else None


def _name(server: Node, listen: Node) -> str:
    named = server.first("server_name")
    names = [nginx_token(a) for a in (named.args if named else [])]
    host = next((n for n in names if n and not n.startswith(("~", "*", "."))), "")
    address = nginx_token(listen.args[0]) if listen.args else ""
    port = address.rpartition(":")[2] if ":" in address else address
    port = port if port.isdigit() else "443"
    if not host:
        return f"TLS clients of this server (port {port})"
    return f"https://{host}{'' if port == '443' else ':' + port}/"


def _where(value: Value) -> str:
    return "nginx's default" if value.is_default else f"set at {value.where()}"


def check(context: Context) -> Iterator[Report]:
    tls = load("tls")
    seen: set[tuple[int, str]] = set()
    for server in context.tree.blocks("server"):
        if server.enclosing("http") is None and not server.synthetic:
            continue
        listen = _terminates_tls(server)
        if listen is None:
            continue
        url = _name(server, listen)
        protocols = context.model.effective(server, "ssl_protocols")
        if protocols is not None and protocols.is_default and (
                unread(server) or not context.option("report-default")):
            protocols = None  # a level nglint did not read may set it: no guess
        if protocols is not None:
            weak = [p for p in (nginx_token(a) for a in protocols.args)
                    if p in tls["weak_protocols"]]
            node = protocols.node or listen
            if weak and (id(node), "protocols") not in seen:
                seen.add((id(node), "protocols"))
                reasons = "; ".join(f"{p}: {tls['weak_protocols'][p]}" for p in weak)
                yield Report(
                    f"ssl_protocols ({_where(protocols)}) allows {' '.join(weak)} for "
                    f"{url} ({reasons}), unless the OpenSSL nginx uses refuses them; "
                    "use `ssl_protocols TLSv1.2 TLSv1.3;` (Mozilla intermediate)",
                    node=node, headline=f"ssl_protocols allows {' '.join(weak)}",
                    severity=Severity.INFO if protocols.is_default else None)
        ciphers = context.model.effective(server, "ssl_ciphers")
        if ciphers is None or not ciphers.args or ciphers.is_default:
            continue
        bad = weak_ciphers(nginx_token(ciphers.args[0]))
        node = ciphers.node or listen
        if bad and (id(node), "ciphers") not in seen:
            seen.add((id(node), "ciphers"))
            listed = "; ".join(f"{entry!r}: {reason}" for entry, reason in bad)
            yield Report(
                f"ssl_ciphers ({_where(ciphers)}) enables weak suites for {url}: {listed}; "
                "exclude them or use Mozilla's intermediate cipher list",
                node=node, headline="ssl_ciphers enables weak suites")
