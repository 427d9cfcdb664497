"""Which requests reach a block: the words a security finding uses to name them.

A finding about a block says which request path exposes it ("requests to /admin/",
"GET /static../etc/passwd").  This module answers that once for every rule, from
nginx's own reading of a ``location`` (``nglint.semantics.locations.location_info``)
and the server's names, and checks a probe URI against the routing model
(``router_for``): a probe is named only when that location really serves it.
"""

from __future__ import annotations

from nglint.semantics.locations import location_info, router_for
from nglint.tree import Node, Tree


def server_label(server: Node | None) -> str:
    """``server example.com`` (its first name), or ``the server`` when it has none."""
    if server is None:
        return "the server"
    names = server.first("server_name")
    if names is not None and names.args and names.args[0] not in ("", "_"):
        return f"server {names.args[0]}"
    return "the server"


def requests_to(block: Node) -> str:
    """The requests a block applies to, in words: ``requests to /admin/...``,
    ``requests to = /login``, ``requests matching ~ \\.php$``, and for an ``if`` or
    ``limit_except`` those of its location with the condition."""
    if block.directive in ("if", "limit_except"):
        location = block.enclosing("location")
        condition = " ".join(block.args)
        inner = f"when if ({condition})" if block.directive == "if" else \
            f"for methods other than {condition}"
        if location is None:
            return f"requests to {server_label(block.enclosing('server'))} {inner}"
        return f"{requests_to(location)} {inner}"
    if block.synthetic:  # the block around a fragment: the includer is not in view
        return f"requests to the {block.directive} that includes this file"
    if block.directive == "location":
        info = location_info(block)
        if info.modifier in ("~", "~*"):
            return f"requests matching {info.modifier} {info.path}"
        if info.modifier == "=":
            return f"requests to = {info.path}"
        if info.modifier == "@":
            return f"requests redirected internally to {info.path}"
        return f"requests to {info.path}..."
    if block.directive == "server":
        return f"every request to {server_label(block)}"
    if block.directive == "http":
        return "every request to this http block's servers"
    return "requests here"


def serves(tree: Tree, location: Node, uri: str) -> Node | None:
    """The location that serves the normalized ``uri`` in ``location``'s server, when
    the routing model knows (None: unknown, or no server around it)."""
    server = location.enclosing("server")
    if server is None:
        return None
    match = router_for(tree, server).find(uri)
    if match.unknown:
        return None
    return match.location
