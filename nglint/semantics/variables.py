"""Which variables exist, and which a configuration uses.

nginx resolves every variable name when it reads the configuration: a name
that no module provides and no directive defines makes ``nginx -t`` fail with
``unknown "name" variable``.  Variables are global to the ``http`` block, so a
``map`` anywhere in ``http`` defines its variable for every server.

Defined by the configuration: ``map``, ``geo``, ``split_clients`` (their second
argument), ``set``, ``perl_set``, ``js_set``, ``set_by_lua*``, ``auth_jwt`` ...,
and named captures of regular expressions (``(?<name>...)`` / ``(?P<name>...)``
in ``location``, ``server_name``, ``if``, ``rewrite`` and ``map`` patterns).
Numbered captures ``$1``..``$9`` always exist.

Sources: https://nginx.org/en/docs/varindex.html (built-in variables, and the
prefix families ``$http_``, ``$sent_http_``, ``$arg_``, ``$cookie_``,
``$upstream_http_``...); nginx ``src/http/ngx_http_variables.c``
(``ngx_http_variables_init_vars`` raises "unknown variable").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from nglint.tree import Node, Tree

# names known by hand (newer versions, NGINX Plus, modules not installed where the table
# was built); the generated table adds every name the probed nginx and modules define
CURATED = frozenset({
    "acme_certificate", "acme_certificate_key", "ancient_browser", "args",
    "binary_remote_addr", "body_bytes_sent", "bytes_received", "bytes_sent", "connection",
    "connection_requests", "connection_time", "connections_active", "connections_reading",
    "connections_waiting", "connections_writing", "content_length", "content_type",
    "date_gmt", "date_local", "document_root", "document_uri", "fastcgi_path_info",
    "fastcgi_script_name", "gzip_ratio", "host", "hostname", "http2", "http3", "https",
    "invalid_referer", "is_args", "limit_conn_status", "limit_rate", "limit_req_status",
    "memcached_key", "modern_browser", "msec", "msie", "multipart", "nginx_version", "pid",
    "pipe", "protocol", "proxy_add_x_forwarded_for", "proxy_host", "proxy_port",
    "proxy_protocol_addr", "proxy_protocol_port", "proxy_protocol_server_addr",
    "proxy_protocol_server_port", "query_string", "realip_remote_addr",
    "realip_remote_port", "realpath_root", "remote_addr", "remote_port", "remote_user",
    "request", "request_body", "request_body_file", "request_completion",
    "request_filename", "request_id", "request_length", "request_method", "request_time",
    "request_uri", "scheme", "secure_link", "secure_link_expires", "server_addr",
    "server_name", "server_port", "server_protocol", "session_time", "slice_range", "spdy",
    "spdy_request_priority", "status", "tcpinfo_rcv_space", "tcpinfo_rtt", "tcpinfo_rttvar",
    "tcpinfo_snd_cwnd", "time_iso8601", "time_local", "uid_got", "uid_reset", "uid_set",
    "upstream_addr", "upstream_bytes_received", "upstream_bytes_sent",
    "upstream_cache_status", "upstream_connect_time", "upstream_first_byte_time",
    "upstream_header_time", "upstream_last_server_name", "upstream_queue_time",
    "upstream_response_length", "upstream_response_time", "upstream_session_time",
    "upstream_status", "uri",
})


def _table() -> frozenset[str]:
    """Every name ``nglint/data/variables.json`` (tools/build_variables.py) says the
    probed nginx and its modules define, http and stream (not the source's names that
    build lacks: ``$proxy_add_via`` is under ``#if 0``)."""
    path = Path(__file__).resolve().parent.parent / "data" / "variables.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(name for kind in ("http", "stream")
                     for name, entry in data.get(kind, {}).items()
                     if entry.get("built", True))


BUILTIN = CURATED | _table()
# families: any name with these prefixes is provided by a module
PREFIXES = ("http_", "sent_http_", "sent_trailer_", "arg_", "cookie_", "upstream_http_",
            "upstream_trailer_", "upstream_cookie_", "ssl_", "geoip_", "jwt_claim_",
            "jwt_header_", "proxy_protocol_tlv_", "mqtt_", "otel_", "jwt_payload")

# "$" and one digit 1-9 is a capture, whatever follows ("$1a" is capture 1 and "a":
# ngx_http_script_compile; nginx 1.22 -t accepts it)
VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([1-9])|([A-Za-z0-9_]+))")
NAMED_CAPTURE = re.compile(r"\(\?(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')")
# directives whose Nth argument (0-based) names a variable they define
DEFINING = {"map": 1, "geo": -1, "split_clients": 1, "set": 0, "perl_set": 0, "js_set": 0,
            "set_by_lua": 0, "set_by_lua_block": 0, "set_by_lua_file": 0,
            "set_real_ip_from": None, "auth_jwt_claim_set": 0, "auth_jwt_header_set": 0,
            "set_secure_link": 0, "set_md5": 0, "set_sha1": 0, "set_unescape_uri": 0,
            "set_escape_uri": 0, "set_encode_base64": 0, "set_decode_base64": 0,
            "set_if_empty": 0, "set_hashed_upstream": 0, "set_formatted_gmt_time": 0,
            "set_formatted_local_time": 0, "set_random": 0, "set_local_today": 0,
            "set_quote_sql_str": 0, "set_quote_json_str": 0, "set_quote_pgsql_str": 0,
            "js_var": 0, "keyval": 1, "auth_request_set": 0}
# blocks whose entries are data, not directives: their "directives" use no variables
DATA_BLOCKS = frozenset({"types", "charset_map"})
# arguments that hold regexes, by directive (index of the pattern)
REGEX_ARGS = {"location": None, "server_name": None, "if": None, "rewrite": 0, "map": None}
# directives whose arguments are Lua or JavaScript code, not nginx text
CODE_DIRECTIVES = ("_by_lua_block", "_by_lua", "js_")


class Use(NamedTuple):
    """One use of variable ``name`` (without ``$``) by a directive."""

    name: str
    node: Node


def is_builtin(name: str) -> bool:
    return name in BUILTIN or name.isdigit() or name.startswith(PREFIXES)


@lru_cache(maxsize=16384)
def _names(text: str) -> tuple[str, ...]:
    """The variables ``text`` uses (cached: trees repeat the same arguments)."""
    if "$" not in text:
        return ()
    return tuple(next(group for group in match.groups() if group)
                 for match in VARIABLE.finditer(text))


def defined(tree: Tree) -> dict[str, Node]:
    """Variables the configuration defines, with the first node defining each."""
    # by directive, through the tree's index: defining directives are few in a large tree
    found: dict[str, Node] = {}
    for directive, position in DEFINING.items():
        if position is None:
            continue
        for node in tree.named(directive):
            args = node.args
            if not args or _in_data_block(node):
                continue
            if directive == "geo":
                target = args[-1]
            elif len(args) > position:
                target = args[position]
            else:
                target = ""
            if target.startswith("$"):
                found.setdefault(target[1:].strip("{}"), node)
    for name in tree.directive_names():
        if name.startswith("geoip2"):
            for block in tree.blocks(name):
                for node in block.children or ():
                    if node.directive.startswith("$"):  # geoip2 { $country source ...; }
                        found.setdefault(node.directive[1:], node)
    regex_holders = [node for directive in ("location", "server_name", "if", "rewrite")
                     for node in tree.named(directive)]
    regex_holders += [entry for block in tree.blocks("map") for entry in block.children or ()]
    for node in regex_holders:
        for text in _regex_texts(node):
            if "(?" in text:  # a named capture needs one: skips the regex otherwise
                for match in NAMED_CAPTURE.finditer(text):
                    found.setdefault(match.group(1) or match.group(2), node)
    return found


def _in_data_block(node: Node) -> bool:
    parent = node.parent
    return parent is not None and parent.directive in ("map", "geo", "split_clients", "types")


def _regex_texts(node: Node) -> list[str]:
    directive = node.directive
    if directive in ("location", "server_name", "if", "rewrite"):
        return node.args
    if node.parent is not None and node.parent.directive == "map":
        return [directive]  # a map entry's key may be a regex with named captures
    return []


def uses(tree: Tree) -> Iterator[Use]:
    """Every variable reference in directive arguments (not in comments or code)."""
    for node in tree.walk():
        # most directives use no variable at all: one test on the joined arguments
        # (comments have none) spares them the checks below
        if "$" not in "\0".join(node.args) or node.synthetic or node.is_comment:
            continue
        if node.directive.endswith(CODE_DIRECTIVES) or node.directive.startswith("js_"):
            continue
        parent = node.parent
        if parent is not None and parent.directive in DATA_BLOCKS:
            continue
        texts = list(node.args)
        if parent is not None and parent.directive in ("map", "split_clients", "geo"):
            # a map entry: the key is a literal or regex, only the value can use variables
            texts = texts[-1:]
        elif node.directive in ("map", "geo", "split_clients"):
            texts = texts[:-1] if node.directive == "geo" else texts[:1]
        elif node.directive in DEFINING and DEFINING[node.directive] == 0:
            texts = texts[1:]
        elif node.directive in ("location", "server_name"):
            continue  # regexes: '$' is an anchor
        elif node.directive in ("if", "rewrite"):
            texts = [t for t in texts if not _looks_like_regex_position(node, t)]
        for text in texts:
            for name in _names(text):
                yield Use(name, node)


def _looks_like_regex_position(node: Node, text: str) -> bool:
    args = node.args
    if node.directive == "rewrite":
        return text is args[0]
    # if ($var ~ regex): the argument after a ~ / ~* / !~ / !~* operator is a regex
    index = next((i for i, a in enumerate(args) if a is text), -1)
    return index > 0 and args[index - 1] in ("~", "~*", "!~", "!~*")


def undefined(tree: Tree) -> Iterator[Use]:
    """Uses of variables that nothing provides (first use of each name per node); a
    fragment counts the variables of the http block it would be included in
    (``Tree.http_variables``)."""
    known = defined(tree)
    for use in uses(tree):
        if not is_builtin(use.name) and use.name not in known \
                and use.name not in tree.http_variables:
            yield use


def http_variables(tree: Tree) -> frozenset[str]:
    """The variables ``tree`` defines in its http block itself, outside every server:
    what every file included in that block, or in one of its servers, can use
    (variables are global to nginx's http configuration; a ``set`` in a server or a
    location is not counted, a fragment would not be in that block)."""
    return frozenset(name for name, node in defined(tree).items()
                     if node.enclosing("http") is not None and node.enclosing("server") is None)


class MapRegex(NamedTuple):
    """One regex key of a ``map`` block: ``~pattern`` or ``~*pattern`` (caseless)."""

    map: Node  # the map block
    entry: Node  # the ``key value;`` line
    source: str  # the variable the map reads (``$http_origin``), as written
    pattern: str
    caseless: bool


def map_regexes(tree: Tree) -> Iterator[MapRegex]:
    """Every regex key of every ``map`` (ngx_http_map_module: a key starting with ``~``
    is a regex, ``~*`` a caseless one)."""
    from nglint.semantics.tokens import nginx_token

    for node in tree.named("map"):
        if not node.args or not node.children:
            continue
        for entry in node.children:
            if entry.is_comment:
                continue
            key = nginx_token(entry.directive)
            if not key.startswith("~"):
                continue
            caseless = key.startswith("~*")
            yield MapRegex(node, entry, nginx_token(node.args[0]),
                           key[2:] if caseless else key[1:], caseless)
