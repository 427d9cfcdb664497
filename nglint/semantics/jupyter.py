"""Where a configuration serves Jupyter, and which location serves each websocket.

The Jupyter rules never look for locations by name.  This module finds the
servers that front Jupyter, infers each deployment's base URL, sends a sample
request for every websocket endpoint below it through the routing model, and
hands the rules the location that really serves each endpoint (after
``try_files ... @named`` fallbacks), grouped so that one defect at one location
is one finding.

## Which servers are Jupyter
A server is Jupyter-facing when it proxies somewhere (a ``proxy_pass`` in one of
its locations) and either the user said so (``# nglint: app=jupyter`` in or on
the server or a location, or the ``jupyter-prefix`` setting) or it shows one
strong sign or two weak ones:

- strong: a location path or regex naming a Jupyter endpoint (``api/kernels``,
  ``terminals/websocket``, ``api/events``, ``api/contents``, ``lsp/ws``) or the
  words ``jupyter``, ``notebook``, ``jhub``; the same words in a ``proxy_pass``
  target or upstream name, or in a comment directly above or at the top of the
  server or location; port 8888 in a ``proxy_pass`` or upstream;
- weak: ports 8000 (JupyterHub's proxy) and 8081 (the hub) in a ``proxy_pass``
  or upstream, the word ``hub``, and location paths ``/user/``, ``/hub/``,
  ``/lab``, ``/tree``.

## Base URL
From each proxying location of the server: a prefix location's path (``/`` or
``/jupyter/``; ``/jupyter`` is taken as ``/jupyter/``); for a regex, the literal
text before the endpoint it names (``/`` when that text is itself a pattern).
When the server looks like JupyterHub (port 8000/8081, ``hub`` or ``/user/`` in
it) the single-user servers live at ``{base}user/<name>/`` and those are the
URLs checked.  ``jupyter-prefix`` replaces the inference.

Sources: ``../shared/guide/JUPYTER-FACTS.md``; jupyter_server
``jupyter_server/services/kernels/websocket.py``, ``services/events/handlers.py``;
jupyter_server_terminals ``handlers.py``; jupyter-collaboration and jupyter-lsp
handler routes; JupyterHub docs ``howto/configuration/config-proxy.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from nglint.semantics import locations, request, servers
from nglint.semantics.inherit import Model
from nglint.tree import COMMENT, Node, Tree

SAMPLE_USER = "nglint"
SAMPLE_NAMED_SERVER = "nglint-named"  # JupyterHub named servers: /user/<name>/<server>/
SAMPLE_KERNEL = "0b6d3f50-9c1e-4c5e-8f3e-6a2f9d1c7b42"


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str  # below the base URL
    pings: bool  # the server pings every 30 s, so an idle socket survives a 60 s timeout


ENDPOINTS = (
    Endpoint("kernels", "kernel channels", f"api/kernels/{SAMPLE_KERNEL}/channels", True),
    Endpoint("terminals", "terminals", "terminals/websocket/1", True),
    Endpoint("events", "events", "api/events/subscribe", False),
    Endpoint("collaboration", "collaboration",
             "api/collaboration/room/json:notebook:4c1d1f3e", False),
    Endpoint("yjs", "real-time collaboration (JupyterLab 3)", "api/yjs/json:notebook:4c1d1f3e",
             False),
    # jupyter-lsp's handler is a jupyter_server WebSocketMixin: it pings like kernels
    Endpoint("lsp", "language server", "lsp/ws/pylsp", True),
)
# what a browser sends when it opens a websocket (the sample requests' headers)
WEBSOCKET_HEADERS = (("Upgrade", "websocket"), ("Connection", "Upgrade"))
STATIC_SAMPLES = ("static/lab/main.3b1f.js", "static/notebook/app.css")
CONTENTS_SAMPLE = "api/contents/Untitled.ipynb"

MARKER = re.compile(r"nglint:\s*app\s*=\s*jupyter\b", re.IGNORECASE)
# a name: "jupyter", "jhub", or "notebook" as a whole word ("notebooks_api" is not one)
JUPYTER_NAME = r"jupyter|jhub|(?<![a-z0-9])notebook(?![a-z0-9])"
STRONG_PATH = re.compile(r"api/kernels|terminals/websocket|api/events/subscribe|api/contents"
                         r"|lsp/ws|" + JUPYTER_NAME, re.IGNORECASE)
STRONG_WORD = re.compile(JUPYTER_NAME, re.IGNORECASE)
COMMENT_WORD = re.compile(r"jupyter|jhub", re.IGNORECASE)  # prose says "notebook" freely
WEAK_PATH = re.compile(r"/hub\b|^/lab\b|^/tree\b", re.IGNORECASE)
STRONG_PORT = re.compile(r":8888\b")
WEAK_PORT = re.compile(r":(8000|8081)\b")
# JupyterHub: single-user servers live below {base}user/<name>/; port 8000 alone is not
# enough (Jupyter Server is often run there too)
HUB_WORD = re.compile(r"(?<![a-z0-9])hub(?![a-z0-9])|jupyterhub|jhub|:8081\b|/hub\b",
                      re.IGNORECASE)
HUB_USER_PATH = re.compile(r"/user\b|\buser[-/]", re.IGNORECASE)
ENDPOINT_IN_PATH = re.compile(r"\(?(user[-/]|api/kernels|terminals|api/events|api/collaboration"
                              r"|api/yjs|api/contents|lsp/)")
REGEX_META = re.compile(r"[\\^$.|?*+()\[\]{}]")


def display(uri: str) -> str:
    """A sample URI as a message shows it: placeholders instead of nglint's sample names."""
    return (uri.replace(SAMPLE_KERNEL, "<id>")
            .replace(f"/user/{SAMPLE_USER}/", "/user/<name>/")
            .replace(f"/{SAMPLE_NAMED_SERVER}/", "/<server>/"))


@dataclass
class Deployment:
    """One Jupyter base URL on one server, with why nglint believes it is Jupyter."""

    server: Node
    base: str
    reason: str


@dataclass
class Landing:
    deployment: Deployment
    endpoint: Endpoint
    uri: str
    location: Node | None  # None: no location serves it
    unknown: bool = False
    via: Node | None = None  # the location a try_files fallback started from


@dataclass
class ServingGroup:
    """Every websocket endpoint that one location (or no location) serves."""

    server: Node
    location: Node | None
    landings: list[Landing] = field(default_factory=list)

    @property
    def anchor(self) -> Node:
        """Where a finding about this group points: the location, else the server."""
        return self.location or self.server

    @property
    def endpoints(self) -> list[Endpoint]:
        seen: dict[str, Endpoint] = {}
        for landing in self.landings:
            seen.setdefault(landing.endpoint.key, landing.endpoint)
        return list(seen.values())

    def describe(self, only: list[Endpoint] | None = None) -> str:
        """The endpoints affected, for a message: "the events and LSP websockets (/x/...)"."""
        wanted = only or self.endpoints
        keys = {e.key for e in wanted}
        labels = [e.label for e in wanted]
        sample = next(landing.uri for landing in self.landings if landing.endpoint.key in keys)
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        return f"the {listed} websockets ({display(sample)} ...)"

    @property
    def symptom(self) -> str:
        """What the user sees when these sockets fail."""
        if any(e.key == "kernels" for e in self.endpoints):
            return "the kernel stays 'Connecting'"
        return "JupyterLab keeps reconnecting them"


def _comments_about(node: Node) -> Iterator[str]:
    for comment in node.comments_before():
        yield comment.comment or ""
    for child in node.children or ():
        if not child.is_comment:
            break
        yield child.comment or ""
    # a comment after a one-line block is its next sibling, on the same line
    after = node.next_sibling()
    if after is not None and after.is_comment and after.line == node.line:
        yield after.comment or ""


def marked(node: Node) -> bool:
    """True when ``# nglint: app=jupyter`` is written on, above or atop the block."""
    return any(MARKER.search(text) for text in _comments_about(node))


def _survey(server: Node) -> tuple[list[Node], str]:
    """One walk of a server: its locations, and the text of its comments and settings
    (outside location paths and proxy_pass targets, which are judged per location)."""
    found: list[Node] = []
    texts = [*_comments_about(server)]
    for node in server.subtree():
        directive = node.directive
        if directive == "location":
            if node.children is not None:
                found.append(node)
            continue
        if directive == "proxy_pass":
            continue
        texts.append((node.comment or "") if directive == COMMENT else " ".join(node.args))
    return found, " ".join(texts)


def upstream_index(tree: Tree) -> dict[str, str]:
    """Upstream name -> the text of its servers (addresses and ports), built once."""
    index: dict[str, str] = {}
    for node in tree.blocks("upstream"):
        if node.args:
            servers = " ".join(" ".join(s.args) for s in node.directives("server"))
            index.setdefault(node.args[0], servers)
    return index


def _target_text(upstreams: dict[str, str], target: str) -> str:
    """A proxy_pass target plus the servers of the upstream it names (for names, ports)."""
    match = re.match(r"[a-z]+://([^/:$]+)", target)
    if match and match.group(1) in upstreams:
        return f"{target} {upstreams[match.group(1)]}"
    return target


@dataclass
class Evidence:
    """Signs that a server or location fronts Jupyter, by kind (a kind counts once)."""

    strong: set[str] = field(default_factory=set)
    weak: set[str] = field(default_factory=set)
    hub: bool = False
    user_path: bool = False
    reason: str = ""

    def add(self, strong: bool, kind: str, why: str) -> None:
        (self.strong if strong else self.weak).add(kind)
        self.reason = self.reason or why

    def merge(self, other: Evidence) -> None:
        self.strong |= other.strong
        self.weak |= other.weak
        self.hub = self.hub or other.hub
        self.user_path = self.user_path or other.user_path
        self.reason = self.reason or other.reason

    @property
    def any(self) -> bool:
        return bool(self.strong or self.weak)

    @property
    def convincing(self) -> bool:
        return bool(self.strong) or len(self.weak) >= 2


@lru_cache(maxsize=4096)
def _path_signs(path: str) -> tuple[bool, bool, bool, bool]:
    """A location path's signs: Jupyter endpoint, JupyterHub path, /user/, hub word
    (cached: every server of a large estate repeats the same paths)."""
    return (bool(STRONG_PATH.search(path)), bool(WEAK_PATH.search(path)),
            bool(HUB_USER_PATH.search(path)), bool(HUB_WORD.search(path)))


@lru_cache(maxsize=4096)
def _target_signs(target: str) -> tuple[bool, bool, bool]:
    """A proxy target's signs: Jupyter name or port, JupyterHub port, hub word."""
    return (bool(STRONG_WORD.search(target) or STRONG_PORT.search(target)),
            bool(WEAK_PORT.search(target)), bool(HUB_WORD.search(target)))


def location_evidence(location: Node, model: Model, upstreams: dict[str, str]) -> Evidence:
    evidence = Evidence()
    path = " ".join(location.args)
    jupyter_path, hub_path, user_path, hub_word = _path_signs(path)
    if jupyter_path:
        evidence.add(True, "path", f"location {path} names a Jupyter endpoint")
    if hub_path:
        evidence.add(False, "hub-path", f"location {path} looks like JupyterHub")
    if COMMENT_WORD.search(" ".join(_comments_about(location))):
        evidence.add(True, "comment", f"a comment on location {path} names Jupyter")
    # /user/ counts only with another sign: many applications have such paths
    evidence.user_path = user_path
    evidence.hub = hub_word
    handler = model.handler(location)
    if handler is not None and handler.args:
        jupyter_target, hub_port, hub_name = _target_signs(
            _target_text(upstreams, handler.args[0]))
        if jupyter_target:
            evidence.add(True, "target", f"it proxies to {handler.args[0]}")
        if hub_port:
            evidence.add(False, "port", f"it proxies to {handler.args[0]}")
        if hub_name:
            evidence.add(False, "hub-name", f"it proxies to {handler.args[0]}")
        evidence.hub = evidence.hub or hub_name
    return evidence


def server_evidence(server: Node, text: str | None = None) -> Evidence:
    """Signs in the server itself: its comments and arguments (names, paths);
    ``text`` is that text when a survey of the server already joined it."""
    evidence = Evidence()
    if text is None:
        text = _survey(server)[1]
    if COMMENT_WORD.search(text):
        evidence.add(True, "comment", "the server's comments or settings name Jupyter")
    if HUB_WORD.search(text):
        evidence.add(False, "hub-name", "the server's names mention a hub")
        evidence.hub = True
    return evidence


def _base_from_location(location: Node) -> str | None:
    """The Jupyter base URL a proxying location implies: the text before any endpoint."""
    info = locations.location_info(location)
    if info.modifier not in ("", "^~", "~", "~*"):
        return None
    path = info.path
    match = ENDPOINT_IN_PATH.search(path)
    literal = path[: match.start()] if match else path
    if info.modifier in ("~", "~*"):
        if not match:
            return None
        literal = literal.lstrip("^").replace("\\/", "/")
        if REGEX_META.search(literal):
            return "/"
    if not literal.startswith("/"):
        literal = "/" + literal
    return literal if literal.endswith("/") else literal + "/"


class JupyterView:
    """Jupyter deployments of one tree and where each websocket endpoint lands."""

    def __init__(self, tree: Tree, model: Model, prefixes: tuple[str, ...] = ()) -> None:
        self.tree = tree
        self.model = model
        self.prefixes = tuple(p if p.endswith("/") else p + "/" for p in prefixes)
        self._outcomes: dict[tuple[int, str], list[request.Outcome]] = {}
        self.deployments = list(self._find())
        self.landings = [landing for d in self.deployments for landing in self._land(d)]

    def _find(self) -> Iterator[Deployment]:
        upstreams = upstream_index(self.tree)
        # `# nglint: app=jupyter` is rare: look for it per block only when the tree has one
        markers = any(MARKER.search(c.comment or "") for c in self.tree.named(COMMENT))
        for server in servers.http_servers(self.tree):
            all_locations, text = _survey(server)
            proxying = [loc for loc in all_locations if self.model.handler(loc)]
            explicit = markers and (marked(server) or any(marked(loc) for loc in all_locations))
            if self.prefixes and (proxying or explicit):
                for prefix in self.prefixes:
                    yield Deployment(server, prefix, "jupyter-prefix setting")
                continue
            if not proxying:
                continue
            total = server_evidence(server, text)
            per_location = {id(loc): location_evidence(loc, self.model, upstreams)
                            for loc in proxying}
            for evidence in per_location.values():
                total.merge(evidence)
            if total.user_path and (total.strong or total.hub):
                # /user/ paths are JupyterHub's only next to a Jupyter or hub sign: many
                # applications have them
                total.add(False, "user-path", "a location serves JupyterHub's /user/ paths")
                total.hub = True
            if explicit:
                total.reason = "marked with # nglint: app=jupyter"
            elif not total.convincing:
                continue
            # the base URLs come from the locations that look like Jupyter themselves
            chosen = ([loc for loc in proxying if markers and marked(loc)]
                      or [loc for loc in proxying if per_location[id(loc)].any] or proxying)
            bases: list[str] = []
            for location in chosen:
                base = _base_from_location(location)
                if base and base not in bases:
                    bases.append(base)
            # a sub-location proxying to the same Jupyter (/files/, /static/) is part of
            # the deployment above it, not a base URL of its own
            bases = [b for b in bases if not any(o != b and b.startswith(o) for o in bases)]
            for base in bases or ["/"]:
                if total.hub and base.endswith("/hub/"):
                    base = base[: -len("hub/")]  # the hub has no websockets; its users do
                if total.hub and "/user/" not in base:
                    base = f"{base}user/{SAMPLE_USER}/"
                if base.endswith("/user/"):
                    base += f"{SAMPLE_USER}/"
                yield Deployment(server, base, total.reason)
                if base.endswith(f"/user/{SAMPLE_USER}/"):
                    yield Deployment(server, f"{base}{SAMPLE_NAMED_SERVER}/", total.reason)

    def outcomes(self, server: Node, uri: str) -> list[request.Outcome]:
        """What ``server`` does with a websocket request for ``uri`` (the request model),
        ``if`` branches with a content handler included."""
        key = (id(server), uri)
        found = self._outcomes.get(key)
        if found is None:
            sample = request.Request(uri=uri, headers=WEBSOCKET_HEADERS)
            found = request.serving(request.on_server(self.tree, server, sample, self.model),
                                    self.model)
            self._outcomes[key] = found
        return found

    def route(self, server: Node, uri: str) -> tuple[Node | None, bool, Node | None]:
        """The block serving ``uri`` on ``server`` (after try_files, error_page and
        rewrites), whether that is unknown, and the location the request was first
        routed to when an internal redirect moved it."""
        first = self.outcomes(server, uri)[0]
        if first.unknown:
            return None, True, None
        block = first.block if first.block is not server else None
        via = first.steps[0].node.parent if first.steps else None
        return block, False, via

    def _land(self, deployment: Deployment) -> Iterator[Landing]:
        for endpoint in ENDPOINTS:
            uri = deployment.base + endpoint.path
            for outcome in self.outcomes(deployment.server, uri):
                block = outcome.block if outcome.block is not deployment.server else None
                via = outcome.steps[0].node.parent if outcome.steps else None
                yield Landing(deployment, endpoint, uri, None if outcome.unknown else block,
                              outcome.unknown, via)

    def groups(self) -> list[ServingGroup]:
        """Landings grouped by (server, serving location), in configuration order."""
        grouped: dict[tuple[int, int], ServingGroup] = {}
        for landing in self.landings:
            if landing.unknown:
                continue
            server = landing.deployment.server
            key = (id(server), id(landing.location))
            if key not in grouped:
                grouped[key] = ServingGroup(server, landing.location)
            grouped[key].landings.append(landing)
        return list(grouped.values())

    def proxied_groups(self) -> Iterator[ServingGroup]:
        for group in self.groups():
            if group.location is not None and self.model.handler(group.location):
                yield group
