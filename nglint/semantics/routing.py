"""Which server and which location nginx picks for a request, in one call.

The pieces live in their own modules: ``uri`` (the request target),
``servers`` (server selection), ``locations`` (location selection) and
``pcre`` (regexes).  ``nglint.semantics.request`` goes further (internal
redirects, ``if`` branches, the request sent upstream).
"""

from __future__ import annotations

from nglint.semantics.locations import Match, router_for
from nglint.semantics.servers import merge_slashes, select
from nglint.semantics.uri import normalize_uri
from nglint.tree import Node, Tree

__all__ = ["route"]


def route(tree: Tree, uri: str, host: str | None = None,
          port: int | None = None) -> list[tuple[Node, Match]]:
    """For each server that may get the request, the location serving ``uri``
    (location selection only: ``request.simulate`` follows what happens next).

    ``uri`` is raw (as sent).  Servers are chosen by ``servers.select``, and the
    URI is normalised with the ``merge_slashes`` of the address group's default
    server, as nginx does; where nginx answers 400 (the target or the Host) the
    server is left out.
    """
    results: list[tuple[Node, Match]] = []
    for selection in select(tree, host, None, port):
        normalized = normalize_uri(uri, merge_slashes(selection.default))
        if selection.status is not None or normalized is None:
            continue
        if any(server is selection.server for server, _ in results):
            continue  # one server listening on several addresses
        results.append((selection.server, router_for(tree, selection.server).find(normalized)))
    order = {id(server): index for index, server in enumerate(tree.servers)}
    return sorted(results, key=lambda pair: order.get(id(pair[0]), 0))
