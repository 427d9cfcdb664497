"""A directive or form that the target nginx version removed or deprecated.

## What it does
Reports, for the target nginx version (`--nginx-version`):

- directives nginx removed: `ssl on;` (deprecated in 1.15.0, refused from
  1.25.1), `http2_push` and `http2_push_preload` (1.25.1), `limit_zone`
  (1.7.6), `spdy_*` (1.9.5): an error, nginx refuses them;
- deprecated and obsolete forms nginx still reads with a warning: `ssl on;`
  before 1.25.1, `listen ... http2` from 1.25.1 (use `http2 on;`),
  `http2_idle_timeout` and the other HTTP/2 directives made obsolete in 1.19.7.

## Why is this bad?
A removed directive makes `nginx -t` fail after an upgrade; a deprecated one
logs a warning at every reload until it is removed, and often means something
else than it seems (`ssl on;` applies to every listen socket of the server).

## Example
```nginx
server {
    listen 443 ssl http2;
    ssl on;
}
```

## Use instead
```nginx
server {
    listen 443 ssl;
    http2 on;
}
```

## Fix safety
`--fix` rewrites `ssl on;` into `ssl` on each `listen` of the server (unsafe
when the server also listens on port 80, which `ssl on;` made a TLS port too),
drops `ssl off;`, and moves `listen ... http2` to `http2 on;` only with
`--unsafe-fixes` (and when the target nginx is 1.25.1 or newer): `http2 on;` is
unknown to older nginx, and the target version is a setting, not necessarily the
nginx that reads the file (Debian 12 ships 1.22).

## Sources
- https://nginx.org/en/CHANGES (1.25.1: "the deprecated "ssl" directive is not
  supported anymore", the "http2" directive; 1.19.7: obsolete HTTP/2 directives)
- https://nginx.org/en/docs/http/ngx_http_v2_module.html#http2
- https://nginx.org/en/docs/http/ngx_http_ssl_module.html
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives
from nglint.edits import Edit, EditError, insert_statements, remove_statement, replace_args
from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.fixes import make_fix, not_fixed
from nglint.tree import Node

CODE = "NG010"
NAME = "removed-directive"
SEVERITY = "error"
FIXABLE = True

HTTP2_DIRECTIVE = (1, 25, 1)


def _port(listen: Node) -> str:
    address = listen.args[0] if listen.args else ""
    if address.startswith("unix:"):
        return ""
    if address.startswith("["):
        return address.rpartition("]:")[2] if "]:" in address else "80"
    return address.rpartition(":")[2] if ":" in address else address


def _own(node: Node, block: Node) -> bool:
    return node.source is block.source and node.via is block.via


def _ssl_on_edits(node: Node) -> list[Edit]:
    server = node.parent
    if server is None or server.directive != "server" or server.synthetic:
        raise EditError('"ssl on;" outside a server block: add "ssl" to the listen '
                        "directives of every server it covers")
    listens = list(server.directives("listen"))
    if not listens:
        raise EditError("the server has no listen directive to carry the ssl parameter")
    edits = [remove_statement(node)]
    for listen in listens:
        if not _own(listen, server):
            raise EditError(f"a listen directive is in an included file ({listen.path})")
        if "ssl" not in listen.args:
            edits.append(replace_args(listen, [listen.args[0], "ssl", *listen.args[1:]]))
    return edits


def _http2_edits(listen: Node) -> list[Edit]:
    server = listen.parent
    assert server is not None
    edits = [replace_args(listen, [a for a in listen.args if a != "http2"])]
    others = [n for n in server.directives("listen") if n is not listen and "http2" in n.args]
    first = next(n for n in server.directives("listen") if "http2" in n.args)
    for other in others:
        if not _own(other, server):
            raise EditError(f"a listen directive is in an included file ({other.path})")
    if listen is first and server.first("http2") is None:
        edits.append(insert_statements(server, ["http2 on;"], after=_last_listen(server)))
    return edits


def _last_listen(server: Node) -> Node | None:
    own = [n for n in server.directives("listen") if _own(n, server) and n.statement]
    return own[-1] if own else None


def check(context: Context) -> Iterator[Report]:
    version = context.options.nginx_version
    target = directives.format_version(version)
    extra = directives.extra_directives(context.options.rule_options)
    retired = directives.retired_names()
    for node, (where, known, _allowed, _stopped) in directives.checked_directives(
            context.tree.root, version, extra).rows():
        name = node.directive
        if name not in retired and name != "listen":
            continue  # the usual case: nothing to say about this name in any version
        if name == "listen" and "http2" in node.args[1:] and version >= HTTP2_DIRECTIVE \
                and where == "server":
            # unsafe: "http2 on;" exists only from nginx 1.25.1, and the default target
            # version is a choice, not the nginx that will read the file (Debian 12: 1.22)
            fix, why = make_fix('move "http2" from listen to "http2 on;"', _http2_edits, node,
                                unsafe=True)
            yield Report('the "listen ... http2" parameter is deprecated since nginx 1.25.1: '
                         'use the "http2 on;" directive' + not_fixed(why),
                         node=node, severity=Severity.WARNING, fix=fix)
            continue
        every = directives.variants_in(name, where)
        if not every or (known and not any(
                v.deprecated is not None and version >= v.deprecated for v in every)):
            continue
        removed = [v for v in every if v.removed is not None and version >= v.removed]
        deprecated = [v for v in every if v.deprecated is not None and version >= v.deprecated]
        variant = (removed or deprecated or [None])[0]
        if variant is None:
            continue
        note = f" ({variant.note})" if variant.note else ""
        fix, why = None, ""
        if name == "ssl" and node.args:
            if node.args[0].lower() == "off":
                fix, why = make_fix('remove "ssl off;" (the default)',
                                    lambda n: [remove_statement(n)], node)
            else:
                ports = {_port(n) for n in (node.parent.directives("listen")
                                            if node.parent else ())}
                fix, why = make_fix('replace "ssl on;" with "listen ... ssl"',
                                    _ssl_on_edits, node)
                if fix is not None and "80" in ports:
                    fix = type(fix)(fix.description, fix.edits, unsafe=True)
        if removed:
            assert variant.removed is not None
            yield Report(f'"{name}" was removed in nginx '
                         f"{directives.format_version(variant.removed)}{note}; nginx {target} "
                         "refuses it" + not_fixed(why), node=node, fix=fix)
        else:
            assert variant.deprecated is not None
            yield Report(f'"{name}" is deprecated since nginx '
                         f"{directives.format_version(variant.deprecated)}{note}"
                         + not_fixed(why), node=node, severity=Severity.WARNING, fix=fix)
