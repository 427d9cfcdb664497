"""The request model: for a request, what nginx does with it, step by step.

For a ``Request`` (target, Host, the address and port it arrives on, client
headers) ``simulate`` answers, per address:port group that can receive it:
the server (``nglint.semantics.servers``), a 400 for a target or Host nginx
rejects, the location (``nglint.semantics.locations``), the rewrite phase
(``return``, ``rewrite``, ``break`` and ``if``, whose block then holds the
configuration in force), ``try_files`` and ``error_page`` internal redirects
(to ``@named`` locations or URIs), and what is finally sent upstream
(``nglint.semantics.upstream``).

What nginx does, re-implemented (never copied):

- Phases: server rewrite, find config, location rewrite, try_files, content
  (``ngx_http_core_module.c``: ``ngx_http_core_find_config_phase``,
  ``ngx_http_core_post_rewrite_phase``; ``ngx_http_rewrite_module.c``).  An
  internal redirect to a URI starts again at the server rewrite phase; one to
  a named location starts at its location rewrite phase
  (``ngx_http_internal_redirect``, ``ngx_http_named_location``).  More than
  10 internal redirects (``NGX_HTTP_MAX_URI_CHANGES``) are a 500.
- ``if``: when the condition holds, the ``if`` block's configuration replaces
  the location's from then on (the last ``if`` that holds wins) and its own
  rewrite directives run; its ``proxy_pass`` (or the location's, when it has
  none) serves.  ``try_files`` is not merged into it
  (``ngx_http_try_files_module.c`` has no merge function).  A condition the
  model cannot evaluate forks (it holds, or it does not); nginx takes one
  path, the model follows at most ``MAX_FORKS`` forks per request and group
  and ends every further path as ``unknown`` (n such ``if``s in a row are
  2**n paths).
- ``try_files`` runs before the content handler whatever it is, so a
  location with ``proxy_pass`` and ``try_files $uri @app`` is served by
  ``@app`` for a URI that is not a file.  The model assumes **no file
  exists** (see ``nglint.semantics.evaluate``): the last parameter decides
  (``@name``, ``=code`` or a URI).
- ``error_page`` (an array directive) applies to a status nginx produces
  itself (``return code;`` without text, ``try_files ... =code``, a missing
  static file); with ``recursive_error_pages off`` only once.
- A location without a content handler serves static files: with no file, a
  404 (a 403 for ``/``: the root directory exists, with no index file).

Documentation: https://nginx.org/en/docs/http/ngx_http_rewrite_module.html,
https://nginx.org/en/docs/http/ngx_http_core_module.html#try_files,
https://nginx.org/en/docs/http/ngx_http_core_module.html#error_page.
Checked against a running nginx by ``tests/test_request_nginx.py``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple, TypedDict

from nglint.semantics.evaluate import Evaluator
from nglint.semantics.inherit import DEFAULT_NGINX_VERSION, Model, Version
from nglint.semantics.locations import router_for
from nglint.semantics.pcre import RegexTooCostly, search, translate_pcre
from nglint.semantics.servers import Listen, Selection, merge_slashes, parse_listen, select
from nglint.semantics.tokens import nginx_token
from nglint.semantics.upstream import Upstream, upstream_for
from nglint.semantics.uri import normalize_uri, to_bytes
from nglint.semantics.values import parse_size
from nglint.tree import Node, Tree

__all__ = ["Outcome", "Request", "Step", "branches", "on_server", "parse_listen_option",
           "parse_target", "requests_for", "served", "serving", "simulate"]

MAX_URI_CHANGES = 10  # NGX_HTTP_MAX_URI_CHANGES
# forks on `if` conditions the model cannot evaluate, per request and address:port
# group: n such `if`s one after another are 2**n paths (nginx itself takes one, so
# this is a limit of the model only); past it a path ends as `unknown`
MAX_FORKS = 64
REWRITE_DIRECTIVES = frozenset({"return", "rewrite", "if", "break", "set"})
# `*`, an IPv4 address or a host name, or an IPv6 address in brackets
_LISTEN_ADDRESS = re.compile(r"\*|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
_URL = re.compile(r"(?P<scheme>https?)://(?P<host>\[[^\]]*\]|[^/:?#]*)(?::(?P<port>\d+))?"
                  r"(?P<rest>[/?#].*)?\Z", re.IGNORECASE)


class Request(NamedTuple):
    """A request as a client sends it.

    ``uri`` is the request target (``/a/b?x=1``); ``host`` the Host header
    (None: not known, every server may get it); ``address``/``port`` where it
    arrives (None: any); ``headers`` the client's other headers, in order.
    """

    uri: str = "/"
    host: str | None = None
    address: str | None = None
    port: int | None = None
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "http"
    remote_addr: str | None = None

    @property
    def target(self) -> str:
        return self.uri

    @property
    def path_and_query(self) -> str:
        """``$request_uri``: the target as sent, a fragment included."""
        return self.uri


def _port(text: str) -> int | None:
    """A TCP port written in ASCII digits (1 to 65535), else None."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 5:
        return None
    number = int(text)
    return number if 0 < number < 65536 else None


class TargetFields(TypedDict, total=False):
    """The ``Request`` fields a target gives (``parse_target``): ``uri`` always, the
    rest for a full URL."""

    uri: str
    host: str
    scheme: str
    port: int


def parse_target(text: str) -> TargetFields:
    """``/path?q`` or ``http://host:port/path?q`` as ``Request`` fields.

    Raises ValueError (with the reason) for anything else: a target nginx
    would not route (``path`` without its leading slash), one that cannot be a
    request line's (a CR or LF ends the line: nginx would read an HTTP/0.9
    request), and URLs nginx answers 400 to in the request line (no host, or
    user info: ``ngx_http_parse_request_line`` takes letters, digits, ``.``
    and ``-`` in a host) or whose port no socket has.
    """
    if "\r" in text or "\n" in text:
        raise ValueError(f"{text!r}: a request target cannot hold CR or LF "
                         "(they end the request line)")
    if text.startswith("/"):
        return {"uri": text}
    match = _URL.match(text)
    if match is None or not match.group("host") or "@" in match.group("host"):
        authority = text.partition("://")[2].split("/", 1)[0]
        why = ("nginx answers 400 to a URL with user info" if "@" in authority else
               "nginx answers 400 to a URL without a host" if match is not None else
               "it must start with '/' or be a full URL (http://host:port/path)")
        raise ValueError(f"{text!r} is not a URI nglint routes: {why}")
    scheme = match.group("scheme").lower()
    port = _port(match.group("port")) if match.group("port") else None
    if match.group("port") and port is None:
        raise ValueError(f"{text!r}: port {match.group('port')[:20]!r} is not a TCP port "
                         "(1-65535)")
    host = match.group("host") + (f":{port}" if port is not None else "")
    rest = match.group("rest") or "/"
    if not rest.startswith("/"):
        rest = "/" + rest
    return {"uri": rest, "host": host, "scheme": scheme,
            "port": port if port is not None else (443 if scheme == "https" else 80)}


def parse_listen_option(text: str) -> tuple[str | None, int | None]:
    """``127.0.0.1:8080``, ``[::1]:443``, ``*:80`` or ``8080`` as (address, port).

    Raises ValueError for anything else.
    """
    address, _, port = text.rpartition(":")
    if not address and _port(text) is not None:
        address, port = "*", text
    number = _port(port)
    if number is None or not _LISTEN_ADDRESS.fullmatch(address):
        raise ValueError(f"--listen {text!r}: expected ADDRESS:PORT (127.0.0.1:8080, "
                         "[::1]:443) or a port")
    if address.startswith("["):
        try:
            ipaddress.IPv6Address(address[1:-1])
        except ValueError:
            raise ValueError(f"--listen {text!r}: {address} is not an IPv6 address") from None
    return (None if address == "*" else address.lower()), number


def requests_for(targets: Sequence[str], host: str | None, address: str | None,
                 port: int | None, headers: Sequence[str] = ()) -> list[Request]:
    """The requests ``nglint route`` asks about: each target a path or a full URL.

    A full URL brings its own Host and port; ``host`` is for paths.  Raises
    ValueError with the reason for a target nginx would not route, a URL
    given with ``--host`` too, or a header not written ``Name: value``.
    """
    client: list[tuple[str, str]] = []
    for header in headers:
        name, colon, value = header.partition(":")
        if not colon or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()):
            raise ValueError(f"--header {header!r}: expected 'Name: value'")
        if any(char in value for char in "\r\n\0"):
            raise ValueError(f"--header {header!r}: a header value cannot hold CR, LF or NUL")
        if name.strip().lower() == "host":
            raise ValueError(f"--header {header!r}: give the Host with --host "
                             "(or a full URL)")
        client.append((name.strip(), value.strip()))
    found: list[Request] = []
    for target in targets:
        fields = parse_target(target)
        if "host" in fields and host is not None:
            raise ValueError(f"{target!r} names its host: give --host only with paths")
        url_port = fields.get("port")
        found.append(Request(uri=fields["uri"], host=fields.get("host", host),
                             address=address, port=port if port is not None else url_port,
                             headers=tuple(client), scheme=fields.get("scheme", "http")))
    return found


class Step(NamedTuple):
    """One internal redirect or rewrite on the way: ``kind`` is ``try_files``,
    ``error_page``, ``rewrite`` or ``if``; ``target`` an ``@name`` or URI."""

    kind: str
    node: Node
    target: str


@dataclass
class Outcome:
    """What nginx does with a request on one address:port group.

    ``status`` is a response nginx makes itself (400, 301, ``return``'s code,
    ``=code``, 404/403 for static files, 500 for a redirect loop) and None when
    a content handler (``proxy_pass``...) serves.  ``block`` holds the
    configuration in force: the location, an ``if`` block of it, or the
    server when no location matches.  ``holds`` says whether this is what
    nginx does for the request as given (None: it depends on a value the model
    cannot know; ``branches`` outcomes are False when their condition does not
    hold for the request).
    """

    request: Request
    server: Node | None
    listen: Listen | None
    uri: str | None = None
    location: Node | None = None
    block: Node | None = None
    status: int | None = None
    steps: list[Step] = field(default_factory=list)
    branch: Node | None = None  # the `if` block in force
    holds: bool | None = True
    unknown: bool = False
    redirect: bool = False  # auto redirect (301 to the URI with a slash)
    reason: str = ""
    upstream: Upstream | None = None
    handler: Node | None = None  # the content handler serving (any *_pass, ...)
    tree: Tree | None = field(default=None, repr=False, compare=False)
    version: Version = field(default=DEFAULT_NGINX_VERSION, repr=False)  # of the model
    stopped: bool = field(default=False, repr=False)  # `break` / `rewrite ... break` ran
    changed: bool = field(default=False, repr=False)  # a rewrite changed the URI (uri_changed)

    def replace(self, **changes: Any) -> Outcome:
        """A copy with ``changes`` (``dataclasses.replace``, which runs ``__init__`` and
        costs three times as much: the request model makes thousands of these).
        Raises TypeError for a name that is not a field."""
        if not changes.keys() <= _OUTCOME_FIELDS:
            raise TypeError(f"not Outcome fields: {sorted(changes.keys() - _OUTCOME_FIELDS)}")
        copy = object.__new__(Outcome)
        copy.__dict__ = {**self.__dict__, **changes}
        return copy

    def evaluator(self) -> Evaluator | None:
        """Variables of this outcome's request where it lands (None without a tree)."""
        if self.tree is None:
            return None
        return Evaluator(self.tree, self.request, self.server, self.uri,
                         self.upstream.target if self.upstream else None,
                         port=self.listen.port if self.listen else None, version=self.version)

    def sent(self) -> list[tuple[str, str | None]]:
        """Every header line nginx sends upstream for this request, in order
        (value None where it depends on something the request does not say)."""
        evaluate = self.evaluator()
        if self.upstream is None or evaluate is None:
            return []
        return self.upstream.sent(evaluate, self.request.headers)

    @property
    def condition(self) -> str:
        if self.branch is None:
            return ""
        return "(" + " ".join(self.branch.args) + ")"


_OUTCOME_FIELDS = frozenset(f.name for f in fields(Outcome))


@dataclass
class _State:
    """What ``simulate`` carries through one request's processing: the URI changes so
    far (nginx stops past ``MAX_URI_CHANGES``), whether an ``error_page`` already
    redirected it, and the forks taken (``MAX_FORKS``)."""

    tree: Tree
    model: Model
    request: Request
    server: Node
    port: int | None
    changes: int = 0
    error_page_used: bool = False
    forks: int = 0  # see MAX_FORKS


def simulate(tree: Tree, request: Request, model: Model) -> list[Outcome]:
    """What nginx does with ``request``: one or more outcomes per address:port group.

    Several outcomes for one group mean the model forked on something it
    cannot evaluate (their ``holds`` is None).
    """
    outcomes: list[Outcome] = []
    for selection in select(tree, request.host, request.address, request.port):
        outcomes.extend(_on_selection(tree, request, model, selection))
    return outcomes


def served(tree: Tree, request: Request, model: Model) -> list[Outcome]:
    """One outcome per address:port group: what nginx does (``unknown`` when it depends)."""
    found: dict[int, Outcome] = {}
    order: list[int] = []
    for outcome in simulate(tree, request, model):
        key = id(outcome.listen) if outcome.listen is not None else id(outcome.server)
        if key not in found:
            found[key] = outcome
            order.append(key)
        else:
            found[key] = found[key].replace(unknown=True,
                                 reason=found[key].reason or "depends on a value nglint "
                                 "cannot evaluate")
    return [found[key] for key in order]


def _on_selection(tree: Tree, request: Request, model: Model,
                  selection: Selection) -> Iterator[Outcome]:
    base = Outcome(request, selection.server, selection.listen, unknown=selection.unknown,
                   block=selection.server, tree=tree, version=model.version)
    if selection.unknown:
        base.reason = "a server_name regex nglint cannot evaluate could take the request"
    if _line_too_long(model, selection.default, request):
        yield base.replace(server=selection.default, block=selection.default, status=414,
                      unknown=False, reason="request line longer than a "
                      "large_client_header_buffers buffer")
        return
    uri = normalize_uri(request.uri, merge_slashes(selection.default))
    if uri is None:
        # the request line is read before the Host: the default server answers
        yield base.replace(server=selection.default, block=selection.default, status=400,
                      unknown=False, reason="nginx rejects the request target")
        return
    if selection.status is not None:
        yield base.replace(status=selection.status, reason="nginx rejects the Host header")
        return
    state = _State(tree, model, request, selection.server, selection.listen.port)
    yield from _from_server(state, base.replace(uri=uri))


def _line_too_long(model: Model, server: Node, request: Request) -> bool:
    """Whether the request line (CRLF included) outgrows one buffer of
    ``large_client_header_buffers`` (default 4 8k) of the server reading it: nginx
    answers 414 (``ngx_http_alloc_large_header_buffer``; on nginx 1.22 a line of
    8192 bytes passes, 8193 is a 414)."""
    size = 8192
    setting = model.effective(server, "large_client_header_buffers")
    if setting is not None and len(setting.args) == 2:
        with suppress(ValueError):  # nginx -t fails on a bad size: keep the default
            size = parse_size(nginx_token(setting.args[1]))
    line = f"{request.method} {request.uri} HTTP/1.1\r\n"
    return len(line) > size and len(to_bytes(line)) > size


def _from_server(state: _State, outcome: Outcome) -> Iterator[Outcome]:
    """Server rewrite phase, then find config."""
    for result in _run(state, list(state.server.children or ()), outcome):
        if result.status is not None or result.unknown:
            yield result
            continue
        yield from _find(state, result)


def _find(state: _State, outcome: Outcome) -> Iterator[Outcome]:
    assert outcome.uri is not None
    match = router_for(state.tree, state.server).find(outcome.uri)
    if match.unknown:
        yield outcome.replace(unknown=True, location=None,
                      reason="a location regex nglint cannot evaluate (NG013)")
        return
    location = match.location
    block = location or state.server
    outcome = outcome.replace(location=location, block=block, branch=None, stopped=False,
                      changed=False)
    if match.redirect:
        yield outcome.replace(status=301, redirect=True,
                      reason="auto redirect to the URI with a slash")
        return
    if location is None:
        yield from _content(state, outcome)
        return
    yield from _in_location(state, outcome, location)


def _in_location(state: _State, outcome: Outcome, location: Node) -> Iterator[Outcome]:
    for result in _run(state, list(location.children or ()), outcome):
        if result.status is not None or result.unknown:
            yield result
        elif result.changed and not result.stopped:
            yield from _again(state, result.replace(changed=False), _find)
        else:
            yield from _content(state, result)


def _again(state: _State, outcome: Outcome,
           then: Callable[[_State, Outcome], Iterator[Outcome]]) -> Iterator[Outcome]:
    state.changes += 1
    if state.changes > MAX_URI_CHANGES:
        yield outcome.replace(status=500, reason="rewrite or internal redirection cycle")
        return
    yield from then(state, outcome)


def _run(state: _State, nodes: list[Node], outcome: Outcome) -> Iterator[Outcome]:
    for index, node in enumerate(nodes):
        directive = node.directive
        if directive not in REWRITE_DIRECTIVES:
            continue
        evaluate = _evaluator(state, outcome)
        if directive == "return":
            yield from _returned(state, outcome, node, evaluate)
            return
        if directive == "break":
            yield outcome.replace(stopped=True)
            return
        if directive == "set":
            continue  # its variable is unknown to the model (evaluate answers None)
        rest = nodes[index + 1:]
        if directive == "if":
            holds = evaluate.condition(node.args)
            if holds is False:
                continue
            # fork when the model cannot tell: the condition holds, or it does not
            if holds is None:
                state.forks += 1
                if state.forks > MAX_FORKS:
                    yield outcome.replace(unknown=True, holds=None, reason=(
                        f"more than {MAX_FORKS} if conditions nglint cannot evaluate on "
                        f"the way (line {node.line}): not followed further"))
                    return
            held = outcome.holds if holds else None
            yield from _run_if(state, node, outcome.replace(block=node, branch=node,
                                                    holds=held), rest)
            if holds is None:
                yield from _run(state, rest, outcome.replace(holds=None))
            return
        if directive == "rewrite":
            result = _rewrite(state, node, outcome, evaluate)
            if result is None:
                continue
            if result.status is not None or result.unknown:
                yield result
                return
            flag = nginx_token(node.args[2]) if len(node.args) > 2 else ""
            if flag == "break":
                yield result.replace(stopped=True)
                return
            if flag == "last":
                yield result
                return
            outcome = result  # no flag: the next directives see the new URI
    yield outcome


def _run_if(state: _State, node: Node, outcome: Outcome, rest: list[Node]) -> Iterator[Outcome]:
    for result in _run(state, list(node.children or ()), outcome):
        if result.status is not None or result.unknown or result.stopped or result.changed:
            yield result
        else:
            # the location's directives after the `if` still run, in the if's configuration
            yield from _run(state, rest, result)


def _code(text: str) -> int | None:
    """A status code as nginx reads one for ``return``, ``try_files =code`` and
    ``error_page`` (``ngx_atoi``, at most 999), else None (nginx -t fails on it)."""
    digits = text.lstrip("0") or "0"
    if not (text.isascii() and text.isdigit()) or len(digits) > 3:
        return None
    return int(digits)


def _returned(state: _State, outcome: Outcome, node: Node,
              evaluate: Evaluator) -> Iterator[Outcome]:
    yield from _error_paged(state, _return(outcome, node))


def _return(outcome: Outcome, node: Node) -> Outcome:
    """What ``return`` answers (its code), before ``error_page``."""
    args = [nginx_token(arg) for arg in node.args]
    if not args:
        return outcome.replace(unknown=True, reason="return without arguments")
    if args[0].isascii() and args[0].isdigit() and _code(args[0]) is None:
        return outcome.replace(unknown=True, reason=f"return code {args[0][:20]!r} "
                       f"(line {node.line}): nginx -t fails on it")
    if not (args[0].isascii() and args[0].isdigit()):
        return outcome.replace(status=302, reason=f"return {args[0]} (line {node.line})",
                       steps=[*outcome.steps, Step("return", node, args[0])], stopped=True)
    code = int(args[0])  # at most 999: _code above
    result = outcome.replace(status=code, reason=f"return {code} (line {node.line})",
                     steps=[*outcome.steps, Step("return", node, " ".join(args[1:]))])
    # a text is sent as is; a bare code (or a redirect) is nginx's own response, which
    # error_page may replace (ngx_http_rewrite_return_code, ngx_http_special_response)
    if len(args) == 1 or code in (301, 302, 303, 307, 308):
        return result
    return result.replace(stopped=True)


def _rewrite(state: _State, node: Node, outcome: Outcome,
             evaluate: Evaluator) -> Outcome | None:
    args = [nginx_token(arg) for arg in node.args]
    if len(args) < 2 or outcome.uri is None:
        return outcome.replace(unknown=True, reason="rewrite nglint cannot read")
    pattern, _ = translate_pcre(args[0])
    if pattern is None:
        return outcome.replace(unknown=True, reason=f"rewrite regex {args[0]!r} (NG013)")
    try:
        found = search(pattern, to_bytes(outcome.uri))
    except RegexTooCostly:
        return outcome.replace(unknown=True, reason=f"rewrite regex {args[0]!r} takes too "
                       "long on this URI (nginx's PCRE2 may stop at its match limit: 500)")
    if found is None:
        return None
    evaluate.captures = [group.decode("utf-8", "surrogateescape") if group else ""
                         for group in found.groups()]
    replacement = evaluate(args[1])
    flag = args[2] if len(args) > 2 else ""
    step = Step("rewrite", node, args[1])
    if replacement is None:
        return outcome.replace(unknown=True, steps=[*outcome.steps, step],
                       reason="rewrite to a value nglint cannot evaluate")
    if flag in ("redirect", "permanent") or replacement.startswith(
            ("http://", "https://", "$scheme")):
        return outcome.replace(status=301 if flag == "permanent" else 302,
                       steps=[*outcome.steps, step], reason=f"rewrite to {replacement}")
    # the result is the new URI as it is: not decoded, merged or resolved again
    # (ngx_http_script_regex_end_code)
    uri = replacement.partition("?")[0]
    return outcome.replace(uri=uri, steps=[*outcome.steps, step], changed=True)


def _evaluator(state: _State, outcome: Outcome, target: str | None = None) -> Evaluator:
    return Evaluator(state.tree, state.request, state.server, outcome.uri, target,
                     port=state.port, version=state.model.version)


def _named(state: _State, name: str) -> Node | None:
    # named locations live at server level (ngx_http_named_location)
    return next((node for node in state.server.directives("location")
                 if node.is_block and node.args and nginx_token(node.args[0]) == name), None)


def _to_named(state: _State, outcome: Outcome, step: Step) -> Iterator[Outcome]:
    named = _named(state, step.target)
    outcome = outcome.replace(steps=[*outcome.steps, step], status=None, branch=None)
    if named is None:
        yield outcome.replace(status=500, reason=f"no location {step.target} in this server")
        return

    def enter(state: _State, result: Outcome) -> Iterator[Outcome]:
        yield from _in_location(state, result.replace(location=named, block=named,
                                               stopped=False, changed=False), named)

    yield from _again(state, outcome, enter)


def _to_uri(state: _State, outcome: Outcome, step: Step) -> Iterator[Outcome]:
    evaluate = _evaluator(state, outcome)
    target = evaluate(step.target)
    outcome = outcome.replace(steps=[*outcome.steps, step], status=None, branch=None)
    if target is None:
        yield outcome.replace(unknown=True, reason=f"internal redirect to {step.target}, "
                      "a value nglint cannot evaluate")
        return
    # ngx_http_internal_redirect takes the URI as it is (ngx_http_split_args only)
    uri = target.partition("?")[0]
    yield from _again(state, outcome.replace(uri=uri), _from_server)


def _content(state: _State, outcome: Outcome) -> Iterator[Outcome]:
    """try_files, then the content handler (or static files)."""
    block = outcome.block or state.server
    try_files = block.first("try_files")
    if try_files is not None and try_files.args:
        last = nginx_token(try_files.args[-1])
        step = Step("try_files", try_files, last)
        if last.startswith("@"):
            yield from _to_named(state, outcome, step)
        elif last.startswith("=") and _code(last[1:]) is not None:
            yield from _status(state, outcome.replace(steps=[*outcome.steps, step]),
                               int(last[1:]), f"try_files {last} (line {try_files.line})")
        elif last.startswith("=") and last[1:].isascii() and last[1:].isdigit():
            yield outcome.replace(unknown=True, reason=f"try_files code {last[:20]!r} "
                          f"(line {try_files.line}): nginx -t fails on it")
        else:
            yield from _to_uri(state, outcome, step)
        return
    handler = state.model.handler(block)
    if handler is not None:
        upstream = upstream_for(state.model, block)
        yield outcome.replace(handler=handler, upstream=upstream)
        return
    # the index module answers 403 for the root directory itself (it exists); any
    # other directory or file does not exist
    code = 403 if outcome.uri is not None and not outcome.uri.strip("/") else 404
    yield from _status(state, outcome, code, "static file (nglint assumes none exists)")


def _status(state: _State, outcome: Outcome, code: int, reason: str) -> Iterator[Outcome]:
    yield from _error_paged(state, outcome.replace(status=code, reason=reason))


def _error_paged(state: _State, outcome: Outcome) -> Iterator[Outcome]:
    """The outcome, or where ``error_page`` sends it (every fork of that kept); an
    outcome marked ``stopped`` (a ``return`` with text) is sent as it is."""
    if outcome.stopped:
        yield outcome.replace(stopped=False)
        return
    redirected = list(_error_page(state, outcome))
    yield from redirected or [outcome]


def _error_page(state: _State, outcome: Outcome) -> Iterator[Outcome]:
    if outcome.status is None or outcome.status < 300 or state.error_page_used:
        return
    block = outcome.block or state.server
    for value in state.model.array(block, "error_page"):
        args = [nginx_token(arg) for arg in value.args]
        if len(args) < 2:
            continue
        codes = [arg for arg in args[:-1] if arg.isdigit()]
        if str(outcome.status) not in codes:
            continue
        target = args[-1]
        recursive = state.model.effective(block, "recursive_error_pages")
        if recursive is None or recursive.value != "on":
            state.error_page_used = True
        assert value.node is not None
        step = Step("error_page", value.node, target)
        if target.startswith("@"):
            yield from _to_named(state, outcome, step)
        elif target.startswith("/"):
            yield from _to_uri(state, outcome, step)
        else:
            yield outcome.replace(status=302, steps=[*outcome.steps, step],
                          reason=f"error_page redirect to {target}")
        return


def branches(outcome: Outcome, model: Model) -> list[Outcome]:
    """The ``if`` blocks of the outcome's location that change what serves it.

    For each ``if`` directly in the location that holds a content handler, a
    ``return``, a ``rewrite`` or its own configuration, the outcome when its
    condition holds: its block, handler and upstream request.  ``holds`` is
    whether the condition holds for the outcome's request (None: unknown).
    """
    location = outcome.location
    if location is None:
        return []
    found: list[Outcome] = []
    for node in location.directives("if"):
        if not node.is_block or node is outcome.branch:
            continue
        children = [child for child in node.children or () if not child.is_comment]
        if not children:
            continue
        holds = None
        if outcome.tree is not None:
            evaluate = outcome.evaluator()
            holds = evaluate.condition(node.args) if evaluate is not None else None
        returned = node.first("return")
        if returned is not None:
            args = [nginx_token(arg) for arg in returned.args]
            code = _code(args[0]) if args else None
            status = code if code is not None else 302
            found.append(outcome.replace(block=node, branch=node, holds=holds, status=status,
                                 upstream=None, handler=None,
                                 reason=f"return {' '.join(args)}"))
            continue
        handler = model.handler(node)
        found.append(outcome.replace(block=node, branch=node, holds=holds, status=None,
                             handler=handler, upstream=upstream_for(model, node),
                             reason=""))
    return found



def on_server(tree: Tree, server: Node, request: Request, model: Model) -> list[Outcome]:
    """What ``server`` does with a request it has received (no server selection).

    The URI is normalised with the server's own ``merge_slashes``; the rules
    use this to send sample requests to a server they already know.
    """
    listens = [parse_listen(node) for node in server.directives("listen")]
    listen = listens[0] if listens else Listen("*", 80, False)
    base = Outcome(request, server, listen, block=server, tree=tree, version=model.version)
    if _line_too_long(model, server, request):
        return [base.replace(status=414, reason="request line longer than a "
                        "large_client_header_buffers buffer")]
    uri = normalize_uri(request.uri, merge_slashes(server))
    if uri is None:
        return [base.replace(status=400, reason="nginx rejects the request target")]
    state = _State(tree, model, request, server, listen.port)
    return list(_from_server(state, base.replace(uri=uri)))


def serving(outcomes: list[Outcome], model: Model) -> list[Outcome]:
    """Every outcome that can serve the request: the outcomes and their ``if`` branches
    (what a rule checks: a branch that holds for some requests serves those)."""
    found: list[Outcome] = []
    for outcome in outcomes:
        found.append(outcome)
        found.extend(branch for branch in branches(outcome, model)
                     if branch.handler is not None)
    return found
