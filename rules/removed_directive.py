"""A directive or form that the target nginx version removed or deprecated.

## What it does
Reports, for the target nginx versions (`--nginx-version`, a range):

- directives nginx removed: `ssl on;` (deprecated in 1.15.0, refused from
  1.25.1), `http2_push` and `http2_push_preload` (1.25.1), `limit_zone`
  (1.7.6), `spdy_*` (1.9.5): an error when every version of the target refuses
  them, a warning naming the versions that do when only some do (`ssl on;` with
  the default target, nginx 1.18-1.31.4);
- deprecated and obsolete forms nginx still reads with a warning: `ssl on;`
  before 1.25.1, `listen ... http2` from 1.25.1 (use `http2 on;`),
  `http2_idle_timeout` and the other HTTP/2 directives made obsolete in 1.19.7;
  the message names the versions of the target that warn when not all do.

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
`--unsafe-fixes` and when every version of the target is 1.25.1 or newer:
`http2 on;` is unknown to older nginx (Debian 12 ships 1.22), so with the default
target the finding says why it is not fixed, and the target is a setting, not
necessarily the nginx that reads the file.

## Sources
- https://nginx.org/en/CHANGES (1.25.1: "the deprecated "ssl" directive is not
  supported anymore", the "http2" directive; 1.19.7: obsolete HTTP/2 directives)
- https://nginx.org/en/docs/http/ngx_http_v2_module.html#http2
- https://nginx.org/en/docs/http/ngx_http_ssl_module.html
"""

from __future__ import annotations

from collections.abc import Iterator

from nglint import directives, versions
from nglint.edits import (
    Edit,
    EditError,
    Fix,
    insert_statements,
    remove_statement,
    replace_args,
)
from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.fixes import make_fix, not_fixed
from nglint.tree import Node
from nglint.versions import VersionRange

CODE = "NG010"
NAME = "removed-directive"
SEVERITY = "error"
FIXABLE = True
USES = ("directives",)

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
    target = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    retired = directives.retired_names()
    for node, (where, _known, _allowed, _stopped) in directives.checked_directives(
            context.tree.root, target, extra, context.tree.scope).rows():
        name = node.directive
        if name not in retired and name != "listen":
            continue  # the usual case: nothing to say about this name in any version
        if name == "listen":
            if "http2" in node.args[1:] and where == "server":
                yield from _listen_http2(node, target)
            continue
        yield from _retired(node, where, target)


def _listen_http2(node: Node, target: VersionRange) -> Iterator[Report]:
    later = target.where(lambda version: version >= HTTP2_DIRECTIVE, [HTTP2_DIRECTIVE])
    if not later:
        return
    # unsafe: the target is a setting, not the nginx that will read the file; the
    # engine withholds it unless every version of the target has "http2 on;"
    fix, why = make_fix('move "http2" from listen to "http2 on;"', _http2_edits, node,
                        unsafe=True)
    yield Report(_on(later, target) + 'the "listen ... http2" parameter is deprecated since '
                 'nginx 1.25.1: use the "http2 on;" directive' + not_fixed(why),
                 node=node, severity=Severity.WARNING, fix=fix)


def _on(parts: list[VersionRange], target: VersionRange) -> str:
    """``on nginx 1.25.1-1.31.4: `` when only part of the target is concerned."""
    return "" if parts == [target] else f"on {versions.describe(parts)}: "


def _retired(node: Node, where: str, target: VersionRange) -> Iterator[Report]:
    """A removed or deprecated directive: an error when every version of the target
    refuses it, else a warning naming the versions that refuse it or warn."""
    name = node.directive
    every = directives.variants_in(name, where)
    if not every:
        return
    changes = [c for v in every for c in v.changes]
    removed = target.where(lambda version: not any(v.available(version) for v in every)
                           and any(v.removed is not None and version >= v.removed
                                   for v in every), changes)
    deprecated = target.where(lambda version: any(
        v.available(version) and v.deprecated is not None and version >= v.deprecated
        for v in every), changes)
    if not removed and not deprecated:
        return
    gone = next((v for v in every if v.removed is not None), None)
    old = next((v for v in every if v.deprecated is not None), gone)
    variant = old or gone
    assert variant is not None
    note = f" ({variant.note})" if variant.note else ""
    fix, why = _retired_fix(node)
    if removed == [target]:
        assert gone is not None and gone.removed is not None
        yield Report(f'"{name}" was removed in nginx {versions.show(gone.removed, True)}'
                     f"{note}; {target} refuses it" + not_fixed(why), node=node, fix=fix)
        return
    assert old is not None and old.deprecated is not None
    message = f'"{name}" is deprecated since nginx {versions.show(old.deprecated, True)}{note}'
    if removed:
        assert gone is not None and gone.removed is not None
        warns = f"{versions.describe(deprecated)} warns, and " if deprecated else ""
        message = (f"{message}: {warns}{versions.describe(removed)} refuses it (removed in "
                   f"{versions.show(gone.removed, True)})")
    else:
        message = _on(deprecated, target) + message
    yield Report(message + not_fixed(why), node=node, severity=Severity.WARNING, fix=fix)


def _retired_fix(node: Node) -> tuple[Fix | None, str]:
    if node.directive != "ssl" or not node.args:
        return None, ""
    if node.args[0].lower() == "off":
        return make_fix('remove "ssl off;" (the default)', lambda n: [remove_statement(n)],
                        node)
    ports = {_port(n) for n in (node.parent.directives("listen") if node.parent else ())}
    fix, why = make_fix('replace "ssl on;" with "listen ... ssl"', _ssl_on_edits, node)
    if fix is not None and "80" in ports:
        fix = Fix(fix.description, fix.edits, unsafe=True)
    return fix, why
