"""A directive with arguments nginx refuses: wrong count, bad flag, bad parameter.

## What it does
For every known directive in a context that allows it, checks what nginx's
`ngx_conf_handler` and the directive's own parser check before accepting it:

- the number of arguments (`proxy_pass` takes 1, `add_header` 2 or 3,
  `location` 1 or 2, `internal` none);
- a block where none is expected, or none where one is (`server;`);
- `on`/`off` flags (`gzip yes;`);
- time and size parameters, parsed as NG003 parses values: the `inactive=`,
  `max_size=`, `keys_zone=` parameters of `proxy_cache_path`, `buffer=` and
  `flush=` of `access_log`, `zone=` and `rate=` of `limit_req_zone`, the second
  argument of `proxy_buffers`, the time of `proxy_cache_valid`...;
- the parameters of `listen` (`listen 443 ssl http3;` is refused:
  `invalid parameter "http3"`; `listen ssl;` has lost its address; a parameter
  newer than the target, `quic` before 1.25.0, `multipath` before 1.29.7, is an
  error when every version of the target refuses it and a warning naming the
  versions when only some do) and the location modifier (`location ~~ /x`);
- arguments nginx takes from a fixed list, without regard to case:
  `gzip_static on|off|always`, `server_tokens`, `satisfy`, `if_modified_since`,
  `lingering_close`, and each word of `ssl_protocols`, `proxy_next_upstream`,
  `proxy_cache_use_stale`, `gzip_proxied`, `keepalive_disable`;
- the levels after `error_log`'s file (one level, or `debug_*` ones only), the
  word after `add_header`/`add_trailer` (`always`) and `fastcgi_param`
  (`if_not_empty`), `expires` (`[modified] epoch|max|off|[@|-]time`), the
  address of `allow`/`deny`, and the parameters of `limit_req`;
- an address without a port for the handlers that have no default port
  (`fastcgi_pass 127.0.0.1;`: `no port in upstream`), unless an `upstream` block
  of that name exists (checked in whole trees only);
- a `listen ... ssl` server with no `ssl_certificate`, or fewer
  `ssl_certificate_key` than certificates, in force (in the server or inherited
  from `http`; not needed with `ssl_reject_handshake on`; whole trees only).

The first arguments of time and size directives are NG003's.

## Why is this bad?
`nginx -t` fails (`invalid number of arguments in "proxy_pass" directive`,
`invalid value "yes" in "gzip" directive, it must be "on" or "off"`,
`invalid parameter "http3"`) and the configuration is not loaded.

## Example
```nginx
gzip yes;
proxy_cache_path /var/cache/nginx keys_zone=cache:10m inactive=1.5h;
listen 443 ssl htt2;
```

## Use instead
```nginx
gzip on;
proxy_cache_path /var/cache/nginx keys_zone=cache:10m inactive=90m;
listen 443 ssl;
http2 on;
```

## Sources
- nginx `src/core/ngx_conf_file.c` (`ngx_conf_handler`, `ngx_conf_set_flag_slot`,
  `ngx_conf_set_enum_slot`, `ngx_conf_set_bitmask_slot`), `src/core/ngx_log.c`
  (`ngx_log_set_levels`), `ngx_http_headers_filter_module.c` (`expires`,
  `add_header`), `ngx_http_access_module.c`, `ngx_http_limit_req_module.c`; every
  value of these tables, and values outside them, are checked against the
  installed nginx by `tests/test_validation_nginx.py`
- nginx `src/http/ngx_http_core_module.c` (`ngx_http_core_listen`,
  `ngx_http_core_location`), `src/http/ngx_http_file_cache.c`
  (`ngx_http_file_cache_set_slot`), `src/http/modules/ngx_http_log_module.c`,
  `src/http/modules/ngx_http_limit_req_module.c`
- https://nginx.org/en/docs/http/ngx_http_core_module.html#listen
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from nglint import directives, versions
from nglint.directives import Version
from nglint.engine import Context, Report
from nglint.findings import Severity
from nglint.semantics import access, values
from nglint.semantics.locations import location_info
from nglint.tree import Node, Tree
from nglint.versions import VersionRange

CODE = "NG008"
NAME = "invalid-arguments"
SEVERITY = "error"
FIXABLE = False
USES = ("directives",)

V = directives.parse_version


def _time_s(text: str) -> None:
    values.parse_time(text, is_sec=True)


def _time_ms(text: str) -> None:
    values.parse_time(text, is_sec=False)


def _number(text: str) -> None:
    if not text.isdigit():
        raise values.InvalidValue(f'"{text}" is not a number')


def _flag(text: str) -> None:
    if text.lower() not in ("on", "off"):
        raise values.InvalidValue(f'"{text}" must be "on" or "off"')


def _zone(text: str) -> None:
    name, _, size = text.rpartition(":")
    if not name or not size:
        raise values.InvalidValue(f'"{text}" must be name:size')
    values.parse_size(size)


def _rate(text: str) -> None:
    if not re.fullmatch(r"\d+r/[sm]", text):
        raise values.InvalidValue(f'"{text}" must be a number of requests per second '
                                  "(r/s) or per minute (r/m)")


CACHE_PATH: dict[str, Callable[[str], object]] = {
    "keys_zone": _zone, "inactive": _time_s, "max_size": values.parse_offset,
    "min_free": values.parse_offset, "manager_files": _number, "manager_sleep": _time_ms,
    "manager_threshold": _time_ms, "loader_files": _number, "loader_sleep": _time_ms,
    "loader_threshold": _time_ms, "purger_files": _number, "purger_sleep": _time_ms,
    "purger_threshold": _time_ms, "use_temp_path": _flag}
# directive -> {parameter name: parser} for its key=value parameters
PARAMETERS: dict[str, dict[str, Callable[[str], object]]] = {
    "proxy_cache_path": CACHE_PATH, "fastcgi_cache_path": CACHE_PATH,
    "uwsgi_cache_path": CACHE_PATH, "scgi_cache_path": CACHE_PATH,
    "access_log": {"buffer": values.parse_size, "flush": _time_ms},
    "limit_req_zone": {"zone": _zone, "rate": _rate},
    "limit_conn_zone": {"zone": _zone},
    "open_file_cache": {"max": _number, "inactive": _time_s},
}
BUFFERS = {"proxy_buffers", "fastcgi_buffers", "uwsgi_buffers", "scgi_buffers",
           "grpc_buffers", "gzip_buffers", "output_buffers", "large_client_header_buffers",
           "memcached_buffers"}
CACHE_VALID = {"proxy_cache_valid", "fastcgi_cache_valid", "uwsgi_cache_valid",
               "scgi_cache_valid"}

# listen parameters by family: name -> (value parser or None for a bare word, since)
Listen = dict[str, tuple[Callable[[str], object] | None, Version | None]]
COMMON: Listen = {"backlog": (_number, None), "rcvbuf": (values.parse_size, None),
                  "sndbuf": (values.parse_size, None), "bind": (None, None),
                  "ipv6only": (_flag, None), "so_keepalive": (None, None),
                  "ssl": (None, None), "proxy_protocol": (None, None)}
HTTP_LISTEN: Listen = COMMON | {
    "default_server": (None, None), "default": (None, None), "http2": (None, None),
    "quic": (None, V("1.25.0")), "deferred": (None, None), "reuseport": (None, None),
    "setfib": (_number, None), "fastopen": (_number, None), "accept_filter": (None, None),
    "multipath": (None, V("1.29.7")),
}
STREAM_LISTEN: Listen = COMMON | {
    "udp": (None, None), "reuseport": (None, None), "fastopen": (_number, V("1.21.0")),
    "deferred": (None, V("1.25.5")), "accept_filter": (None, V("1.25.5")),
    "setfib": (_number, V("1.25.5")), "default_server": (None, V("1.25.5")),
    "multipath": (None, V("1.29.7")),
}
# multipath: CHANGES 1.29.7; ngx_{http,stream,mail}_core_module.c at release-1.29.7
MAIL_LISTEN: Listen = COMMON | {"multipath": (None, V("1.29.7"))}
LISTEN = {"server": HTTP_LISTEN, "stream_server": STREAM_LISTEN, "mail_server": MAIL_LISTEN}


def _has_variable(text: str) -> bool:
    return "$" in text


def _before(target: VersionRange, since: Version) -> list[VersionRange]:
    """The sub-ranges of ``target`` older than ``since``."""
    return target.where(lambda version: version < since, [since])


def _listen_problems(node: Node, where: str, target: VersionRange
                     ) -> Iterator[tuple[str, Severity | None]]:
    known = LISTEN.get(where)
    if known is None or not node.args:
        return
    address = node.args[0]
    if address.partition("=")[0] in known:
        # `listen ssl;`: nginx reads the parameter as a host name and fails to resolve it
        yield (f'the address of "listen" is missing: "{address}" is a parameter (nginx '
               'looks it up as a host name and fails: host not found)', None)
        return
    for arg in node.args[1:]:
        name, equals, value = arg.partition("=")
        spec = known.get(name)
        if spec is None or (spec[0] is None and equals and name != "so_keepalive"):
            yield f'invalid parameter "{arg}" of "listen"', None
            continue
        parser, since = spec
        older = _before(target, since) if since else []
        # an error when every version of the target refuses it, else a warning
        if since and older:
            every = older == [target]
            yield (("" if every else f"on {versions.describe(older)}: ")
                   + f'the "{name}" parameter of "listen" appeared in nginx '
                   f"{versions.show(since, upper=True)} (the target is {target}): "
                   f"{'invalid parameter' if every else f'{versions.describe(older)} refuses it'}",
                   None if every else Severity.WARNING)
            if every:
                continue
        if parser is not None:
            if not equals:
                yield f'invalid parameter "{arg}" of "listen": "{name}=" needs a value', None
                continue
            try:
                parser(value)
            except values.InvalidValue as error:
                yield f'invalid value in "{arg}" of "listen": {error}', None


def _value_problems(node: Node) -> Iterator[str]:
    name = node.directive
    params = PARAMETERS.get(name)
    if params:
        for arg in node.args:
            key, equals, value = arg.partition("=")
            parser = params.get(key)
            if not equals or parser is None or _has_variable(value):
                continue
            try:
                parser(value)
            except values.InvalidValue as error:
                yield f'{name}: invalid value "{arg}": {error}'
    if name in BUFFERS and len(node.args) == 2 and not any(map(_has_variable, node.args)):
        number, size = node.args
        try:
            _number(number)
            values.parse_size(size)
        except values.InvalidValue as error:
            yield f'{name}: invalid value "{number} {size}": {error}'
    if name in CACHE_VALID and node.args and not _has_variable(node.args[-1]):
        try:
            _time_s(node.args[-1])
        except values.InvalidValue as error:
            yield f'{name}: invalid time "{node.args[-1]}": {error}'
    if name == "location" and node.args:
        info = location_info(node)
        if not info.supported and info.reason.startswith(("invalid location modifier",
                                                          "invalid number")):
            yield f"location: {info.reason}"


# ---------------------------------------------------------------- keyword arguments
# The tables of nginx's ngx_conf_enum_t / ngx_conf_bitmask_t arguments (compared
# without case, like ngx_conf_set_enum_slot and ngx_conf_set_bitmask_slot do), for
# the http variants of these directives; tests/test_validation_nginx.py checks every
# value, and a value not in the table, against the installed nginx.
HTTP_CONTEXTS = frozenset({"http", "server", "location", "if_in_server", "if_in_location",
                           "limit_except"})
UPSTREAM_ERRORS = ("error", "timeout", "invalid_header", "http_500", "http_502", "http_503",
                   "http_504", "http_403", "http_404", "http_429", "off")
ENUMS: dict[str, tuple[str, ...]] = {  # one argument, one of these
    "gzip_static": ("on", "off", "always"),  # ngx_http_gzip_static_module.c
    "server_tokens": ("on", "off", "build"),  # ngx_http_core_module.c
    "satisfy": ("all", "any"),
    "if_modified_since": ("off", "exact", "before"),
    "lingering_close": ("off", "on", "always"),
}
BITMASKS: dict[str, tuple[str, ...]] = {  # one or more arguments, each one of these
    "ssl_protocols": ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "proxy_ssl_protocols": ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "proxy_next_upstream": (*UPSTREAM_ERRORS, "non_idempotent"),
    "proxy_cache_use_stale": (*UPSTREAM_ERRORS, "updating"),
    "gzip_proxied": ("off", "expired", "no-cache", "no-store", "private", "no_last_modified",
                     "no_etag", "auth", "any"),
    "keepalive_disable": ("none", "msie6", "safari"),
}
# ngx_log_set_levels: what may follow error_log's file (compared exactly)
LOG_LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg",
              "debug_core", "debug_alloc", "debug_mutex", "debug_event", "debug_http",
              "debug_mail", "debug_stream")
# a last argument that must be this one word (compared exactly, ngx_strcmp)
LAST_WORD = {"add_header": ("always", 3), "add_trailer": ("always", 3),
             "fastcgi_param": ("if_not_empty", 3), "uwsgi_param": ("if_not_empty", 3),
             "scgi_param": ("if_not_empty", 3)}
def _keyword_problems(name: str, args: list[str], where: str) -> Iterator[str]:
    """Arguments nginx takes from a fixed list, and a few small parsers (expires,
    allow/deny addresses, limit_req parameters)."""
    # no variables here: nginx compares these words as written (only expires takes a
    # variable, see below)
    http = where in HTTP_CONTEXTS
    if name in ENUMS and http and len(args) == 1:
        if args[0].lower() not in ENUMS[name]:
            yield (f'invalid value "{args[0]}" in "{name}" directive, it must be one of: '
                   + ", ".join(ENUMS[name]))
    elif name in BITMASKS and (http or name == "ssl_protocols"):
        known = {value.lower() for value in BITMASKS[name]}
        for arg in args:
            if arg.lower() not in known:
                yield (f'invalid value "{arg}" in "{name}" directive, each must be one of: '
                       + ", ".join(BITMASKS[name]))
                break
    elif name == "error_log":
        yield from _log_level_problems(args[1:])
    elif name in LAST_WORD:
        word, count = LAST_WORD[name]
        if len(args) == count and args[-1] != word:
            yield f'invalid parameter "{args[-1]}" in "{name}": only "{word}" may follow'
    elif name == "expires" and http and not any(map(_has_variable, args)):
        yield from _expires_problems(args)  # with a variable: worked out per request
    elif name in ("allow", "deny") and http:
        problem = _address_problem(name, args[0])
        if problem:
            yield problem
    elif name == "limit_req" and http:
        yield from _limit_req_problems(args)


def _log_level_problems(levels: list[str]) -> Iterator[str]:
    # ngx_log_set_levels: one level, or debug_* levels only (no level: "error")
    level = ""
    debug = False
    for word in levels:
        if word in LOG_LEVELS[:8]:
            if level or debug:
                yield f'duplicate log level "{word}" in "error_log"'
                return
            level = word
        elif word in LOG_LEVELS[8:]:
            if level:
                yield (f'invalid log level "{word}" in "error_log": debug_* levels go '
                       "without another level")
                return
            debug = True
        else:
            yield (f'invalid log level "{word}" in "error_log" (levels: '
                   f'{", ".join(LOG_LEVELS[:8])}, or debug_* ones)')
            return


def _expires_problems(args: list[str]) -> Iterator[str]:
    # ngx_http_headers_expires: [modified] epoch|max|off|[@|-]time
    if len(args) == 2 and args[0] != "modified":
        yield f'invalid value "{args[0]}" in "expires": only "modified" may come first'
        return
    value = args[-1]
    if len(args) == 1 and value in ("epoch", "max", "off"):
        return
    daily = value.startswith("@")
    text = value[1:] if value[:1] in ("@", "-") else value
    try:
        seconds = values.parse_time(text, is_sec=True)
    except values.InvalidValue:
        yield f'invalid value "{value}" in "expires"'
        return
    if daily and len(args) == 2:
        yield '"expires" directive daily time cannot be used with "modified" parameter'
    elif daily and seconds >= 24 * 60 * 60:
        yield f'invalid value "{value}" in "expires": a daily time must be under 24 hours'


def _address_ok(text: str) -> bool:
    """ngx_http_access_rule: "all", "unix:", or what ngx_ptocidr reads
    (``nglint.semantics.access``, which NG213 reads the rules with)."""
    return access.readable(text)


def _address_problem(name: str, address: str) -> str:
    """The message for an ``allow``/``deny`` address nginx refuses, or ""."""
    if _address_ok(address):
        return ""
    return f'invalid parameter "{address}" in "{name}": an address, a CIDR, "unix:" or "all"'


def _limit_req_problems(args: list[str]) -> Iterator[str]:
    # ngx_http_limit_req: zone=name [burst=number] [nodelay | delay=number]
    zone = False
    for arg in args:
        key, equals, value = arg.partition("=")
        if key == "zone" and equals and value:
            zone = True
        elif key in ("burst", "delay") and equals:
            if not value.isdigit() or (key == "burst" and int(value) == 0):
                yield f'invalid {key} value "{value}" in "limit_req"'
                return
        elif arg != "nodelay":
            yield f'invalid parameter "{arg}" in "limit_req"'
            return
    if not zone:
        yield '"limit_req" must have "zone" parameter'


# directives _value_problems reads (a million `allow` lines need not go through it)
ACCESS = frozenset({"allow", "deny"})
VALUES_PARSED = frozenset({*PARAMETERS, *BUFFERS, *CACHE_VALID, "location"})
KEYWORDS_CHECKED = frozenset({*ENUMS, *BITMASKS, *LAST_WORD, "error_log", "expires", "allow",
                              "deny", "limit_req"})
# directives whose argument values are checked beyond their count and flags
VALUES_CHECKED = frozenset({"listen", "location", *PARAMETERS, *BUFFERS, *CACHE_VALID,
                            *KEYWORDS_CHECKED})


def _shape(name: str, count: int, is_block: bool,
           found: tuple[directives.Variant, ...]) -> tuple[str, bool]:
    """What the count of arguments and the block say: a message (or ""), and whether
    the directive is an on/off flag."""
    if all(v.block for v in found) and not is_block:
        return f'directive "{name}" has no opening "{{"', False
    if not any(v.block for v in found) and is_block:
        return f'directive "{name}" is not terminated by ";" (it takes no block)', False
    taking = [v for v in found if v.takes(count)]
    if not taking:
        return (f'invalid number of arguments in "{name}" directive: {count} given, '
                f"it takes {found[0].describe_args()}"), False
    return "", all(v.flag for v in taking)


def _values(node: Node, where: str, target: VersionRange
            ) -> list[tuple[str, Severity | None]]:
    """Each problem of the arguments and its severity (None: the rule's, an error)."""
    name = node.directive
    problems = list(_listen_problems(node, where, target)) if name == "listen" else []
    if name in KEYWORDS_CHECKED:
        problems.extend((p, None) for p in _keyword_problems(name, node.args, where))
    if name in VALUES_PARSED:
        problems.extend((p, None) for p in _value_problems(node))
    return problems


# handlers whose upstream address has no default port: `fastcgi_pass backend;` needs an
# `upstream backend {}` or a port (proxy_pass's http:// defaults to 80)
NO_DEFAULT_PORT = ("fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass", "grpc_pass")


def _whole(tree: Tree) -> bool:
    """A main configuration whose includes all resolved: everything it defines is in
    sight (in a fragment the upstream block or the certificate may be elsewhere)."""
    return tree.context == "main" and not any(p.kind == "include" for p in tree.problems)


def _missing_ports(context: Context) -> Iterator[Report]:
    """`fastcgi_pass 127.0.0.1;`: nginx -t fails with `no port in upstream`.  Only in a
    whole tree that resolved every include: elsewhere the upstream block may exist."""
    tree = context.tree
    if not _whole(tree):
        return
    upstreams = {u.args[0] for u in tree.blocks("upstream") if u.args}
    for name in NO_DEFAULT_PORT:
        for node in tree.named(name):
            if len(node.args) != 1 or "$" in node.args[0]:
                continue
            address = node.args[0].partition("://")[2] or node.args[0]
            if address.startswith("unix:") or address in upstreams:
                continue
            host_end = address.rfind("]") if address.startswith("[") else -1
            if ":" in address[host_end + 1:]:
                continue  # a port is given
            yield Report(f'no port in upstream "{address}": {name} has no default port; '
                         f'add one or define "upstream {address} {{ ... }}"', node=node)


def _missing_certificates(context: Context) -> Iterator[Report]:
    """`listen 443 ssl;` with no ssl_certificate (or key) in force: nginx -t fails.  Only
    in a whole tree that resolved every include (a certificate may be included)."""
    tree = context.tree
    if not _whole(tree):
        return
    model = context.model
    for server in tree.blocks("server"):
        if server.parent is None or server.parent.directive != "http":
            continue
        listen = next((n for n in server.directives("listen") if "ssl" in n.args[1:]), None)
        if listen is None:
            continue
        reject = model.effective(server, "ssl_reject_handshake")
        if reject is not None and reject.value == "on":
            continue  # 1.19.4+: a server that refuses every handshake needs no certificate
        certificates = model.array(server, "ssl_certificate")
        if not certificates:
            yield Report('no "ssl_certificate" is defined for the "listen ... ssl" directive '
                         "(none in this server or in http)", node=listen)
            continue
        keys = model.array(server, "ssl_certificate_key")
        if len(keys) < len(certificates):
            missing = certificates[len(keys)]
            yield Report(f'no "ssl_certificate_key" is defined for certificate '
                         f'"{missing.value}" (set at {missing.where()})', node=listen)


def check(context: Context) -> Iterator[Report]:
    version = context.options.nginx_version
    extra = directives.extra_directives(context.options.rule_options)
    # verdicts depend only on what is written and where, and a tree repeats the same
    # directives thousands of times: each is worked out once per shape and per value
    shapes: dict[tuple[int, int, bool], tuple[str, bool]] = {}
    values: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, Severity | None]]] = {}
    targets = directives.checked_directives(context.tree.root, version, extra,
                                            context.tree.scope)
    # what a directive's kind (its name, context and whether nginx stopped above it:
    # ``Targets.kinds``) says, worked out once per kind, not once per directive
    kinds: dict[int, tuple[str, str, tuple[directives.Variant, ...], bool, bool] | None] = {}
    for node, kind in zip(targets.nodes, targets.kinds, strict=True):
        if kind in kinds:
            known = kinds[kind]
        else:
            where, _known, found, stopped = targets.shapes[kind]
            name = node.directive
            known = kinds[kind] = None if not found or stopped or \
                name.endswith("_by_lua_block") else \
                (name, where, found, name in VALUES_CHECKED,
                 name in ACCESS and where in HTTP_CONTEXTS)
        if known is None:
            continue
        name, where, found, checked, address = known
        args = node.args
        shape_key = (kind, len(args), node.children is not None)
        shape = shapes.get(shape_key)
        if shape is None:
            shape = shapes[shape_key] = _shape(name, len(args), shape_key[2], found)
        message, flag = shape
        if message:
            yield Report(message, node=node)
            continue
        if flag and args[0].lower() not in ("on", "off"):
            yield Report(f'invalid value "{args[0]}" in "{name}" directive, '
                         'it must be "on" or "off"', node=node)
            continue
        if checked:
            if address:
                # no memo: 1,000,000 allow lines are 1,000,000 different addresses
                if not access.readable(args[0]):
                    yield Report(_address_problem(name, args[0]), node=node)
                continue
            value_key = (name, where, tuple(args))
            problems = values.get(value_key)
            if problems is None:
                problems = values[value_key] = _values(node, where, version)
            for problem, severity in problems:
                yield Report(problem, node=node, severity=severity)
    yield from _missing_ports(context)
    yield from _missing_certificates(context)
