"""Which server and which location nginx picks for a request, in one call.

The pieces live in their own modules: ``uri`` (the request target),
``servers`` (server selection), ``locations`` (location selection) and
``pcre`` (regexes).  ``nglint.semantics.request`` goes further (internal
redirects, ``if`` branches, the request sent upstream).
"""

from __future__ import annotations

from nglint.semantics.locations import Match, router_for
from nglint.semantics.servers import merge_slashes, select_servers
from nglint.semantics.uri import normalize_uri
from nglint.tree import Node, Tree

__all__ = ["route"]


def route(tree: Tree, uri: str, host: str | None = None,
          port: int | None = None) -> list[tuple[Node, Match]]:
    """For each server that may get the request, the location serving ``uri``.

    ``uri`` is raw (as sent); servers for which nginx would answer 400 (see
    ``normalize_uri``) are left out.
    """
    results: list[tuple[Node, Match]] = []
    for server in select_servers(tree, host, port):
        normalized = normalize_uri(uri, merge_slashes(server))
        if normalized is not None:
            results.append((server, router_for(tree, server).find(normalized)))
    return results
