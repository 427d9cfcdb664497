"""Fix builders shared by the rules: set a directive, set a proxy header, add the map.

They ask the nginx model what is in force and produce ``Edit``s through
``nglint.edits``, so no rule computes offsets itself.  Adding a
``proxy_set_header`` to a location that inherits its headers copies the
inherited ones in first: one new header never silently drops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nglint.edits import (
    Edit,
    EditError,
    Fix,
    insert_before,
    insert_statements,
    own_statements,
    render,
    replace_arg,
    replace_args,
)
from nglint.semantics.inherit import Model
from nglint.tree import Node, Tree

UPGRADE_MAP_VARIABLE = "connection_upgrade"


def set_directive(block: Node, directive: str, args: Sequence[str]) -> list[Edit]:
    """The block's own directive set to ``args`` (replaced, or inserted at its end)."""
    own = block.first(directive)
    if own is not None:
        if own.source is not block.source:
            raise EditError(f"{directive} is set in an included file ({own.path}:{own.line})")
        return [replace_args(own, args)]
    return [insert_statements(block, [render(directive, args)])]


def set_proxy_header(model: Model, block: Node, name: str, value: str) -> list[Edit]:
    """``proxy_set_header name value`` in force at ``block``, nothing else lost."""
    own = list(block.directives("proxy_set_header"))
    if own:
        for node in own:
            if node.args and node.args[0].lower() == name.lower():
                if node.source is not block.source or node.via is not block.via:
                    raise EditError(f"the {name} header is set in an included file "
                                    f"({node.path}:{node.line})")
                return [replace_arg(node, 1, value)]
        written = [n for n in own if n in own_statements(block)]
        anchor = written[-1] if written else None
        return [insert_statements(block, [render("proxy_set_header", [name, value])], anchor)]
    inherited = [v for v in model.array(block, "proxy_set_header")
                 if len(v.args) == 2 and v.args[0].lower() != name.lower()]
    lines = [render("proxy_set_header", list(v.args)) for v in inherited]
    lines.append(render("proxy_set_header", [name, value]))
    return [insert_statements(block, lines)]


def _http_block(tree: Tree) -> Node | None:
    return next(tree.blocks("http"), None)


def upgrade_map(tree: Tree) -> Node | None:
    """An existing ``map $http_upgrade $x`` (whatever its variable is called)."""
    for node in tree.walk():
        if node.directive == "map" and len(node.args) == 2 and node.args[0] == "$http_upgrade":
            return node
    return None


MAP_LINES = ("map $http_upgrade $connection_upgrade {", "    default upgrade;",
             "    ''      close;", "}")


def ensure_upgrade_map(tree: Tree) -> tuple[str, list[Edit]]:
    """The variable of a map from ``$http_upgrade``, adding the map when there is none."""
    existing = upgrade_map(tree)
    if existing is not None:
        return existing.args[1], []
    http = _http_block(tree)
    if http is None:
        raise EditError("no http block to hold the map")
    if not http.synthetic:
        anchor = next((n for n in http.directives() if n.source is http.source
                       and n.statement is not None), None)
        if anchor is None:
            raise EditError("the http block has no statement to place the map by")
        return "$" + UPGRADE_MAP_VARIABLE, [insert_before(anchor, MAP_LINES)]
    # a fragment read in http or server context: its top level is inside http
    # (a sites-enabled file), so the map goes at the top of the file
    top = next((n for n in tree.walk() if n.source is not None and n.statement is not None
                and not n.is_comment and n.parent is not None and n.parent.synthetic), None)
    if top is None or top.parent is None or top.parent.directive not in ("http", "server"):
        raise EditError("the fragment's top level is not in http: add the map to nginx.conf")
    if top.parent.directive == "server":
        raise EditError("the fragment holds server directives: add the map to its http block")
    return "$" + UPGRADE_MAP_VARIABLE, [insert_before(top, MAP_LINES)]


def not_fixed(reason: str) -> str:
    """The sentence a finding carries when its fix cannot be made."""
    return f" (not fixed automatically: {reason})" if reason else ""


def make_fix(description: str, build: Callable[..., list[Edit]], *args: Any,
             unsafe: bool = False) -> tuple[Fix | None, str]:
    """``Fix(build(*args))``, or None and the reason it cannot be made (for the finding)."""
    try:
        edits = build(*args)
    except EditError as error:
        return None, str(error)
    return Fix(description, tuple(edits), unsafe), ""
