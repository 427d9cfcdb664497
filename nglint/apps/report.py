"""``nglint apps``: for each server, which app each location serves, the base URLs
and the evidence behind them (what ``nglint.apps.view`` inferred), as text or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nglint.apps.view import AppView, display
from nglint.escape import visible
from nglint.semantics.inherit import Model
from nglint.semantics.servers import http_servers
from nglint.tree import Node, Tree


def _where(node: Node) -> dict[str, Any]:
    return {"file": node.path, "line": node.line}


def survey(trees: Sequence[Tree], model: Model,
           jupyter_prefixes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One object per server: its locations with a handler and their app, its
    deployments (app, base URL, evidence, endpoints checked) and unresolved apps."""
    answers: list[dict[str, Any]] = []
    for tree in trees:
        view = AppView(tree, model, jupyter_prefixes)
        for server in http_servers(tree):
            located = []
            for node in server.subtree():
                if node.directive != "location" or model.handler(node) is None:
                    continue
                attribution = view.attribution(node)
                located.append({
                    "location": " ".join(node.args), **_where(node),
                    "app": attribution.profile.name if attribution else None,
                    "score": attribution.score if attribution else 0,
                    "signs": attribution.reasons if attribution else [],
                })
            deployments = [{
                "app": d.profile.name, "title": d.profile.title, "base": d.base,
                "evidence": d.evidence,
                "endpoints": sorted({display(landing.uri) for landing in view.landings
                                     if landing.deployment is d}),
            } for d in view.deployments if d.server is server]
            unresolved = [{"app": u.profile.name, "locations": [_where(n) for n in u.locations]}
                          for u in view.unresolved if u.server is server]
            if not located and not deployments:
                continue
            answers.append({
                "server": {**_where(server), "names": [a for n in server.directives("server_name")
                                                       for a in n.args]},
                "locations": located, "deployments": deployments, "unresolved": unresolved,
            })
    return answers


def render_text(answers: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for answer in answers:
        server = answer["server"]
        names = " ".join(server["names"]) or "(no server_name)"
        lines.append(f"server {names}  {server['file']}:{server['line']}")
        for location in answer["locations"]:
            app = location["app"] or "-"
            signs = f"  ({'; '.join(location['signs'])})" if location["signs"] else ""
            lines.append(f"  location {location['location']}  {location['file']}:"
                         f"{location['line']}  -> {app}{signs}")
        for deployment in answer["deployments"]:
            lines.append(f"  {deployment['title']} at {deployment['base']}  "
                         f"(base from: {'; '.join(deployment['evidence'])})")
            for endpoint in deployment["endpoints"]:
                lines.append(f"    websocket {endpoint}")
        for unresolved in answer["unresolved"]:
            lines.append(f"  {unresolved['app']}: no base URL shown; mark it with "
                         f"`# nglint: app={unresolved['app']} base=/path/`")
    # configuration text may hold control characters: shown escaped
    return "\n".join(visible(line) for line in lines) + (
        "\n" if lines else "no server proxies anything\n")
