"""Which application each proxying location serves, its base URL, and where each
websocket endpoint lands.

1. **Attribution.**  Every location with a content handler is scored against
   every profile (``nglint.apps.profile``): the signs found in its path, its
   proxy target (with the servers of the upstream it names), the comments on it
   and its server, and the server's own settings (``nglint.apps.signs``).  The app
   with the highest score at or above the threshold serves the location; a tie
   attributes nothing.  A
   marker ``# nglint: app=NAME`` on (or above, or atop) a location or its server
   decides instead, and ``--jupyter-prefix`` makes every proxying server a
   Jupyter Server deployment at those bases.
2. **Base URLs come from evidence**, per server and app: a prefix location's
   path, an anchored regex's literal prefix, either cut before the app's UI
   paths and endpoints (``/jupyter/lab`` gives ``/jupyter/``, ``/hub/`` gives
   ``/``), and ``base=`` in a marker.  A base below another base of the same app
   is part of it.  When no location gives one (only unanchored regexes, named
   locations), there is no deployment and NG111 tells how to mark it: nothing
   is checked on a guess.
3. **Landings.**  For each deployment, every endpoint below every mount of the
   app is sent as a websocket request through the request model
   (``nglint.semantics.request``): rewrites, ``try_files``/``error_page`` to
   named locations and ``if`` branches included.  A landing in a location that
   another app serves is left out (the base URL is then in doubt, not the
   location).
4. **Groups.**  Landings are grouped by (server, serving block, app): one
   finding per defect, block and app, listing the endpoints.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from nglint.apps import by_name, profiles
from nglint.apps.profile import (
    COMMENT,
    PATH,
    SERVER,
    TARGET,
    THRESHOLD,
    Endpoint,
    Profile,
)
from nglint.apps.signs import (
    MARKER,
    comments_about,
    hits,
    marker,
    server_texts,
    target_text,
    upstream_index,
)
from nglint.findings import Severity
from nglint.semantics import locations, request, servers
from nglint.semantics.inherit import Model
from nglint.semantics.tokens import nginx_token
from nglint.semantics.upstream import split_target, upstream_for
from nglint.tree import COMMENT as COMMENT_NODE
from nglint.tree import Node, Tree
from nglint.versions import Version, plain, recording, same_cell

__all__ = ["AppView", "Attribution", "Deployment", "Landing", "ServingGroup", "display"]

# a request a browser sends to open a websocket
WEBSOCKET_HEADERS = (("Upgrade", "websocket"), ("Connection", "Upgrade"))
REGEX_META = re.compile(r"[\\^$.|?*+()\[\]{}]")
# text nginx reads as a regex only after ~: a prefix location holding it is a missing ~
LOOKS_LIKE_REGEX = re.compile(r"[()|\[\]^$*+?\\]")


def display(uri: str) -> str:
    """A sample URI as messages show it: the template's placeholders, not nglint's samples."""
    for sample, template in _samples():
        uri = uri.replace(sample, template)
    return uri


@lru_cache(maxsize=1)
def _samples() -> tuple[tuple[str, str], ...]:
    """(sample, template) of every profile's endpoints and mounts, longest sample first."""
    pairs = [(sample, template) for profile in profiles()
             for template, sample in (*((e.template, e.sample) for e in profile.endpoints),
                                      *profile.mounts)
             if sample and sample != template]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


@dataclass
class Attribution:
    """Why a location is said to serve an app: its score and the signs found."""

    profile: Profile
    score: int
    reasons: list[str]
    marked: bool = False


@dataclass
class Deployment:
    """One app at one base URL of one server, with the evidence for both."""

    server: Node
    profile: Profile
    base: str
    evidence: list[str]
    locations: list[Node] = field(default_factory=list)

    def mount_bases(self) -> list[str]:
        """Where the app's own base URLs are below this one: the base itself, or for
        JupyterHub each sample single-user server, named server and service."""
        return [self.base + sample for _template, sample in self.profile.mounts]


@dataclass
class Landing:
    """Where one of an app's endpoints lands: the block serving ``uri`` (None: no
    location serves it), whether the model could not tell (``unknown``), and the
    location first routed to when a redirect moved the request (``via``)."""

    deployment: Deployment
    endpoint: Endpoint
    uri: str
    block: Node | None  # the block serving it (location, if, named location); None: none
    unknown: bool = False
    via: Node | None = None  # the location first routed to when a redirect moved it


@dataclass
class Unresolved:
    """An app recognised in a server whose base URL no location shows."""

    server: Node
    profile: Profile
    locations: list[Node]


@dataclass
class ServingGroup:
    """Every websocket endpoint of one app that one block (or no block) serves."""

    server: Node
    location: Node | None  # the serving block (a location, an `if` in it, a named location)
    profile: Profile
    landings: list[Landing] = field(default_factory=list)

    @property
    def anchor(self) -> Node:
        """Where a finding about this group points: the block, else the server."""
        return self.location or self.server

    @property
    def proxying(self) -> Node:
        """``location`` of a group ``AppView.proxied_groups`` gave, which is never None
        there.  Raises ValueError for a group no block serves."""
        if self.location is None:
            raise ValueError("a group served by no block proxies nothing")
        return self.location

    @property
    def endpoints(self) -> list[Endpoint]:
        seen: dict[str, Endpoint] = {}
        for landing in self.landings:
            seen.setdefault(landing.endpoint.key, landing.endpoint)
        return list(seen.values())

    def describe(self, only: list[Endpoint] | None = None) -> str:
        """The endpoints affected: "the Jupyter kernel channels and terminals websockets
        (/x/api/kernels/<id>/channels ...)"."""
        wanted = only or self.endpoints
        keys = {e.key for e in wanted}
        labels = [e.label for e in wanted]
        sample = next(landing.uri for landing in self.landings if landing.endpoint.key in keys)
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        noun = "websocket" if len(labels) == 1 else "websockets"
        return f"the {self.profile.title} {listed} {noun} ({display(sample)} ...)"

    def affected(self, only: list[Endpoint] | None = None) -> str:
        """A note naming the endpoints affected."""
        return f"affects {self.describe(only)}"

    def at(self, node: Node | None) -> Node:
        """Where a finding about ``node`` (a directive in force here) points: at it when
        it is written in the serving block (the line to change; an ``if`` block's
        settings are its location's), else at the block."""
        block = self.location
        while block is not None and block.directive == "if" and block.parent is not None:
            block = block.parent
        if node is not None and block is not None and node.parent is block:
            return node
        return self.anchor

    @property
    def symptom(self) -> str:
        return self.profile.symptom

    @property
    def severity(self) -> Severity | None:
        """None (the rule's own) when some endpoint exists in every version of the
        app; a warning when each exists only in some (``Endpoint.only``)."""
        return Severity.WARNING if all(e.only for e in self.endpoints) else None


def _cut(path: str, profile: Profile) -> str:
    """The base a location path shows: the text before the first UI path or endpoint
    of the app in it (``/jupyter/lab`` -> ``/jupyter/``), else the path itself."""
    cuts = [*profile.ui_paths, *(e.template.split("<")[0] for e in profile.endpoints)]
    best: int | None = None
    for cut in (c.strip("/") for c in cuts):
        if not cut:
            continue
        found = re.search(r"(?:^|/)" + re.escape(cut) + r"(?:/|$)", path)
        if found is not None:
            start = found.start() + (1 if path.startswith("/", found.start()) else 0)
            best = start if best is None else min(best, start)
    base = path if best is None else path[:best]
    if not base.startswith("/"):
        base = "/" + base
    if not base.endswith("/"):
        base = base + "/" if best is None else base.rsplit("/", 1)[0] + "/"
    return base


def base_evidence(location: Node, profile: Profile) -> tuple[str, str] | None:
    """(base URL, why) that a location shows for ``profile``, or None."""
    info = locations.location_info(location)
    path = info.path
    if info.modifier in ("", "^~", "="):
        if not path.startswith("/") or LOOKS_LIKE_REGEX.search(path):
            return None  # not a URI path (a missing ~ is NG016's)
        return _cut(path, profile), f"location {' '.join(location.args)}"
    if info.modifier in ("~", "~*") and path.startswith("^/"):
        literal = path[1:]
        meta = REGEX_META.search(literal.replace("\\/", "/"))
        literal = literal.replace("\\/", "/")
        if meta is not None:
            literal = literal[:meta.start()]
        if "/" not in literal:
            return None
        return _cut(literal, profile), f"the literal start of regex {path}"
    return None


class AppView:
    """The apps of one tree: attributions, deployments and where endpoints land."""

    def __init__(self, tree: Tree, model: Model, jupyter_prefixes: tuple[str, ...] = ()) -> None:
        self.tree = tree
        self.model = model
        self.prefixes = tuple(p if p.endswith("/") else p + "/" for p in jupyter_prefixes)
        self.attributions: dict[int, Attribution] = {}
        self._nodes: dict[int, Node] = {}
        self.unresolved: list[Unresolved] = []
        # (server, uri) -> its outcomes, the versions they depend on and the version
        # they were worked out at: shared with the views of other versions (``at``)
        self._outcomes: dict[tuple[int, str],
                             list[tuple[list[request.Outcome], frozenset[Version],
                                        Version]]] = {}
        self.deployments = list(self._find())
        self.landings = [landing for d in self.deployments for landing in self._land(d)]

    def at(self, model: Model) -> AppView:
        """This view for the model of another version whose answers the view's own do
        not depend on (the engine checks ``versions.same_cell``): attributions,
        deployments and landings are shared; outcomes asked later are worked out at
        ``model``'s version unless one already is on the same side of the versions it
        depends on."""
        view = copy.copy(self)
        view.model = model
        return view

    # -- attribution ----------------------------------------------------------
    def attribution(self, location: Node) -> Attribution | None:
        return self.attributions.get(id(location))

    def _score(self, location: Node, server_hits: tuple[tuple[int, int, str], ...],
               server_comments: str, upstreams: dict[str, str]) -> Attribution | None:
        """``server_hits``: the signs in the server's own settings (``hits(SERVER,
        ...)``), found once per server."""
        handler = self.model.handler(location)
        target = target_text(upstreams, handler.args[0]) if handler is not None and \
            handler.args else ""
        found = (*hits(PATH, " ".join(location.args)), *hits(TARGET, target),
                 *hits(COMMENT, " ".join([*comments_about(location), server_comments])),
                 *server_hits)
        scores: dict[int, tuple[int, list[str]]] = {}
        for index, weight, why in found:
            score, reasons = scores.get(index, (0, []))
            scores[index] = (score + weight, [*reasons, why])
        best = max((score for score, _ in scores.values()), default=0)
        if best < THRESHOLD:
            return None
        top = [index for index, (score, _) in scores.items() if score == best]
        if len(top) != 1:
            return None  # a tie: nglint cannot tell which app this is
        return Attribution(profiles()[top[0]], best, scores[top[0]][1])

    # -- deployments ------------------------------------------------------------
    def _find(self) -> Iterator[Deployment]:
        upstreams = upstream_index(self.tree)
        has_markers = any(MARKER.search(c.comment or "") for c in self.tree.named(COMMENT_NODE))
        surveyed: list[tuple[Node, list[Node], list[Node], str | None]] = []
        for server in servers.http_servers(self.tree):
            found, server_text, server_comments = server_texts(server)
            proxying = [loc for loc in found if self.model.handler(loc) is not None]
            server_profile, server_base = (marker(server)[:2] if has_markers else (None, None))
            if self.prefixes:
                yield from self._prefixed(server, proxying)
                continue
            server_hits = hits(SERVER, server_text) if proxying else ()
            for location in proxying:
                profile, _base, _ = marker(location) if has_markers else (None, None, None)
                if profile is not None:
                    attribution: Attribution | None = Attribution(
                        profile, 0, ["# nglint: app marker"], True)
                else:
                    attribution = self._score(location, server_hits, server_comments, upstreams)
                    if attribution is None and server_profile is not None:
                        attribution = Attribution(server_profile, 0,
                                                  ["# nglint: app marker on the server"], True)
                if attribution is not None:
                    self.attributions[id(location)] = attribution
            surveyed.append((server, found, proxying, server_base))
        self._same_upstream([loc for _s, _f, proxying, _b in surveyed for loc in proxying])
        for server, found, proxying, server_base in surveyed:
            yield from self._deployments(server, found, proxying, server_base, has_markers)

    def _prefixed(self, server: Node, proxying: list[Node]) -> Iterator[Deployment]:
        """``--jupyter-prefix``: every proxying server is Jupyter Server at those bases."""
        jupyter = by_name("jupyter-server")
        if not proxying or jupyter is None:
            return
        for location in proxying:
            self.attributions[id(location)] = Attribution(jupyter, 0, ["--jupyter-prefix"], True)
        for prefix in self.prefixes:
            yield Deployment(server, jupyter, prefix, ["--jupyter-prefix"], proxying)

    def _same_upstream(self, proxying: list[Node]) -> None:
        """A location that proxies to the same upstream as a recognised one serves the
        same app (``location /`` and ``location ~ /user/`` both to the hub's proxy)."""
        by_target: dict[str, Attribution] = {}
        keys = [self._authority(location) for location in proxying]
        for location, key in zip(proxying, keys, strict=True):
            attribution = self.attributions.get(id(location))
            if attribution is not None and key and not attribution.marked:
                by_target.setdefault(key, attribution)
        for location, key in zip(proxying, keys, strict=True):
            if id(location) in self.attributions or not key or key not in by_target:
                continue
            known = by_target[key]
            self.attributions[id(location)] = Attribution(
                known.profile, known.score, [f"it proxies to {key}, as a location recognised as "
                                             f"{known.profile.title} does"])

    def _upstream_path(self, location: Node) -> str:
        """What the upstream sees of the base: a ``proxy_pass`` URI part replaces the
        location path (nginx docs, proxy_pass), so the app's own base URL is that."""
        handler = self.model.handler(location)
        parts = split_target(nginx_token(handler.args[0])) if handler and handler.args else None
        if parts is None or parts[2] is None:
            return ""
        return f" (proxy_pass sends it to the upstream as {parts[2]})"

    def _authority(self, location: Node) -> str:
        handler = self.model.handler(location)
        parts = split_target(nginx_token(handler.args[0])) if handler and handler.args else None
        return parts[1].lower() if parts is not None else ""

    def _fallbacks(self, found: list[Node]) -> Iterator[tuple[Node, Attribution, str]]:
        """Locations whose ``try_files`` or ``error_page`` hands requests to a named
        location serving an app: their path shows that app's base URL."""
        named = {nginx_token(loc.args[0]): loc for loc in found
                 if loc.args and loc.args[0].startswith("@")}
        for location in found:
            for directive in ("try_files", "error_page"):
                for node in location.directives(directive):
                    target = nginx_token(node.args[-1]) if node.args else ""
                    attribution = self.attributions.get(id(named[target])) \
                        if target in named else None
                    if attribution is not None:
                        yield location, attribution, f"{directive} ... {target}"

    def _deployments(self, server: Node, found: list[Node], proxying: list[Node],
                     server_base: str | None, has_markers: bool) -> Iterator[Deployment]:
        per_app: dict[str, list[Node]] = {}
        bases: dict[str, list[tuple[str, str]]] = {}
        server_profile = marker(server)[0] if has_markers else None
        for location in proxying:
            attribution = self.attributions.get(id(location))
            if attribution is None:
                continue
            name = attribution.profile.name
            per_app.setdefault(name, []).append(location)
            base = marker(location)[1] if has_markers else None
            evidence = ((base, "base= in the marker") if base else
                        base_evidence(location, attribution.profile))
            if evidence is not None:
                bases.setdefault(name, []).append((evidence[0], evidence[1]
                                                   + self._upstream_path(location)))
        for location, attribution, how in self._fallbacks(found):
            evidence = base_evidence(location, attribution.profile)
            if evidence is not None:
                bases.setdefault(attribution.profile.name, []).append(
                    (evidence[0], f"{evidence[1]} hands requests over ({how})"))
        for name, attributed in per_app.items():
            profile = self.attributions[id(attributed[0])].profile
            found_bases = bases.get(name, [])
            if server_base and profile is server_profile:
                found_bases.insert(0, (server_base, "base= in the server's marker"))
            if not found_bases:
                self.unresolved.append(Unresolved(server, profile, attributed))
                continue
            merged: dict[str, list[str]] = {}
            for base, said in found_bases:
                merged.setdefault(base, []).append(said)
            kept = [b for b in merged if not any(o != b and b.startswith(o) for o in merged)]
            for base in kept:
                why = [w for b, ws in merged.items() if b.startswith(base) for w in ws]
                yield Deployment(server, profile, base, why, attributed)

    # -- landings ---------------------------------------------------------------
    def outcomes(self, server: Node, uri: str) -> list[request.Outcome]:
        """What ``server`` does with a websocket request for ``uri`` (the request
        model), ``if`` branches with a content handler included."""
        entries = self._outcomes.setdefault((id(server), uri), [])
        now = self.model.version
        for found, depends, built in entries:
            if same_cell(built, now, depends):
                self.model.consulted |= depends  # the versions it depends on, noted again
                if built != plain(now):
                    # what a rule asks of them next (the headers sent) is of this version
                    found = [outcome.replace(version=now, upstream=upstream_for(
                        self.model, outcome.upstream.block) if outcome.upstream else None)
                        for outcome in found]
                    entries.append((found, depends, plain(now)))
                return found
        sample = request.Request(uri=uri, headers=WEBSOCKET_HEADERS)
        with recording(self.model.consulted) as consulted:
            found = request.serving(request.on_server(self.tree, server, sample, self.model),
                                    self.model)
        entries.append((found, frozenset(consulted), plain(now)))
        return found

    def route(self, server: Node, uri: str) -> tuple[Node | None, bool, Node | None]:
        """The block serving ``uri`` on ``server``, whether that is unknown, and the
        location first routed to when an internal redirect moved the request."""
        first = self.outcomes(server, uri)[0]
        if first.unknown:
            return None, True, None
        block = first.block if first.block is not server else None
        via = first.steps[0].node.parent if first.steps else None
        return block, False, via

    def _owner(self, block: Node | None) -> Profile | None:
        node = block
        while node is not None and node.directive != "location":
            node = node.parent
        attribution = self.attributions.get(id(node)) if node is not None else None
        return attribution.profile if attribution is not None else None

    def _land(self, deployment: Deployment) -> Iterator[Landing]:
        profile = deployment.profile
        for _template, mount in profile.mounts:
            for endpoint in profile.endpoints:
                uri = deployment.base + mount + endpoint.sample
                for outcome in self.outcomes(deployment.server, uri):
                    block = outcome.block if outcome.block is not deployment.server else None
                    owner = self._owner(block)
                    if owner is not None and owner is not profile:
                        continue  # another app's location (see the module doc)
                    via = outcome.steps[0].node.parent if outcome.steps else None
                    yield Landing(deployment, endpoint, uri,
                                  None if outcome.unknown else block, outcome.unknown, via)

    def groups(self) -> list[ServingGroup]:
        """Landings grouped by (server, serving block, app), in configuration order."""
        grouped: dict[tuple[int, int, str], ServingGroup] = {}
        for landing in self.landings:
            if landing.unknown:
                continue
            server = landing.deployment.server
            profile = landing.deployment.profile
            key = (id(server), id(landing.block), profile.name)
            if key not in grouped:
                grouped[key] = ServingGroup(server, landing.block, profile)
            grouped[key].landings.append(landing)
        return list(grouped.values())

    def proxied_groups(self, need: str | None = None) -> Iterator[ServingGroup]:
        """Groups served by a block with a content handler; with ``need``, only those of
        apps whose profile declares it (``Profile.needs``: ``http11``, ``upgrade``,
        ``connection``, ``timeout``, ``origin``)."""
        for group in self.groups():
            if need is not None and need not in group.profile.needs:
                continue
            if group.location is not None and self.model.handler(group.location):
                yield group

    def jupyter_deployments(self) -> list[Deployment]:
        """Deployments of apps Jupyter's own rules apply to (Jupyter Server, JupyterHub)."""
        return [d for d in self.deployments if d.profile.jupyter]
