"""Fix builders shared by the rules: set a directive, set a proxy header, add the map.

They ask the nginx model what is in force and produce ``Edit``s through
``nglint.edits``, so no rule computes offsets itself.  Adding a
``proxy_set_header`` to a location that inherits its headers copies the
inherited ones in first: one new header never silently drops the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from nglint.edits import (
    Edit,
    EditError,
    Edits,
    Fix,
    block_lines,
    child_indent,
    follows_blank_line,
    indent_unit,
    insert_before,
    insert_block,
    insert_statements,
    opens_line,
    overlaps,
    own_statements,
    remove_statement,
    render,
    replace_arg,
    replace_args,
    statement_text,
)
from nglint.findings import Finding
from nglint.semantics.inherit import Model, Value
from nglint.semantics.tokens import nginx_token
from nglint.tree import Node, Tree
from nglint.upgrade import UpgradeMap, find_map, idiom, keeps_alive
from nglint.versions import VersionRange

UPGRADE_MAP_VARIABLE = "connection_upgrade"


def _commented_out(block: Node, directive: str) -> Node | None:
    """A comment of the block that is the directive switched off (``#proxy_http_version 1.1;``)."""
    pattern = re.compile(r"#\s*" + re.escape(directive) + r"\s")
    return next((child for child in block.children or () if child.is_comment
                 and child.source is block.source and child.via is block.via
                 and child.spanned and child.written().args == []
                 and pattern.match(child.written().directive.value)
                 and opens_line(child)), None)


def settings_block(block: Node) -> Node:
    """Where a proxy setting for ``block`` is written: an ``if`` block's location.

    ``proxy_set_header``, ``proxy_http_version`` and the proxy timeouts are not
    allowed in ``if`` (their context is http, server, location: nginx docs), and
    an ``if`` block inherits them from its location.
    """
    while block.directive == "if" and block.parent is not None:
        block = block.parent
    return block


def set_directive(block: Node, directive: str, args: Sequence[str],
                  after: Node | None = None) -> list[Edit]:
    """The block's own directive set to ``args``: replaced, or inserted below the line
    that comments it out, else after ``after`` when it is written in the block, else at
    the block's end (an ``if`` block's settings go to its location)."""
    block = settings_block(block)
    own = block.first(directive)
    if own is not None:
        if own.source is not block.source or own.via is not block.via:
            raise EditError(f"{directive} is set in an included file ({own.path}:{own.line})")
        return [replace_args(own, args)]
    anchor = _commented_out(block, directive)
    if anchor is None and after is not None and after in own_statements(block):
        anchor = after
    return [insert_statements(block, [render(directive, args)], anchor)]


def _inherited(model: Model, block: Node, name: str) -> list[Value]:
    return [v for v in model.array(block, "proxy_set_header")
            if len(v.args) == 2 and v.args[0].lower() != name.lower()]


def _check_copy_is_safe(model: Model, block: Node, name: str, tree: Tree | None) -> None:
    """Refuse to copy inherited headers nglint cannot see, or that differ per include site."""
    if model.array_source(block, "proxy_set_header") is None and \
            any(level.synthetic for level in block.ancestors() if level.parent is not None):
        raise EditError("this file was linted as a fragment: headers set in the http block "
                        "that includes it would be dropped; lint the whole tree (the "
                        "directory holding nginx.conf, or --within-tree)")
    if tree is None or block.via is None:
        return
    wanted = [tuple(v.args) for v in _inherited(model, block, name)]
    for site in tree.sites(block):
        if site is not block and \
                [tuple(v.args) for v in _inherited(model, site, name)] != wanted:
            raise EditError(f"{block.path} is included from several places that inherit "
                            "different headers: copying one place's headers would change "
                            f"another's (included at {site.via.path}:{site.via.line})"
                            if site.via else "the block is included from several places")


def set_proxy_header(model: Model, block: Node, name: str, value: str,
                     tree: Tree | None = None) -> list[Edit]:
    """``proxy_set_header name value`` in force at ``block``, nothing else lost.

    A block that inherits its headers gets the inherited ones first, as written
    where they are inherited from: one new header never drops the others.  Given
    the tree, a block in a file included from several places is changed only when
    every place inherits the same headers.
    """
    block = settings_block(block)
    own = list(block.directives("proxy_set_header"))
    same = [node for node in own if node.args and node.args[0].lower() == name.lower()]
    if len(same) > 1:
        raise EditError(f"the {name} header is set {len(same)} times at this level (NG015): "
                        "remove the extra lines first")
    if own:
        for node in same:
            if node.source is not block.source or node.via is not block.via:
                raise EditError(f"the {name} header is set in an included file "
                                f"({node.path}:{node.line})")
            if len(node.args) < 2:
                raise EditError(f"proxy_set_header {name} has no value (NG008)")
            return [replace_arg(node, 1, value)]
        written = {id(n) for n in own_statements(block)}
        anchor = next((n for n in reversed(own) if id(n) in written), None)
        return [insert_statements(block, [render("proxy_set_header", [name, value])], anchor)]
    _check_copy_is_safe(model, block, name, tree)
    inherited = _inherited(model, block, name)
    lines, notes = _copied_lines(model, block, inherited)
    lines.append(render("proxy_set_header", [name, value]))
    return Edits([insert_statements(block, lines)], notes)


def _whole_snippet(site: Node, values: Sequence[Value]) -> bool:
    """``include`` at ``site`` sets exactly ``values`` and nothing else: every statement
    it brings in is one of those ``proxy_set_header`` lines (comments aside)."""
    level = site.parent
    brought = [c for c in (level.children if level is not None else None) or ()
               if c.via is site and not c.is_comment]
    wanted = {id(v.node) for v in values}
    return bool(brought) and all(c.directive == "proxy_set_header" and id(c) in wanted
                                 for c in brought) and len(brought) == len(values)


def _copied_lines(model: Model, block: Node, inherited: Sequence[Value]
                  ) -> tuple[list[str], list[str]]:
    """The lines that keep the inherited headers in force at ``block``, and notes.

    Headers that all come from one ``include`` of a file holding only those headers
    are kept by copying the ``include`` line: later edits of the snippet still apply
    here.  Other headers are copied as written, and the notes say which lines were
    copied from where (they no longer follow the original).
    """
    runs: list[tuple[Node | None, list[Value]]] = []
    for value in inherited:
        site = value.node.via if value.node is not None else None
        if runs and site is not None and runs[-1][0] is site:
            runs[-1][1].append(value)
        else:
            runs.append((site, [value]))
    lines: list[str] = []
    copied: list[Value] = []
    included: list[str] = []
    for site, values in runs:
        first = values[0].node  # set wherever ``site`` is (its ``via``)
        if site is not None and first is not None and site.parent is first.parent and \
                _whole_snippet(site, values):
            lines.append(statement_text(site))
            included.append(" ".join(site.args))
            continue
        for value in values:
            lines.append(statement_text(value.node) if value.node is not None
                         else render("proxy_set_header", list(value.args)))
            copied.append(value)
    notes = [f"kept the inherited headers of {name} with `include {name};`"
             for name in included]
    if copied:
        where = ", ".join(f"{v.node.path}:{v.node.line}" if v.node is not None else "default"
                          for v in copied)
        notes.append(f"copied {len(copied)} inherited proxy_set_header "
                     f"line{'s' if len(copied) != 1 else ''} ({where}): adding one header "
                     "at this level drops the inherited ones, so they are repeated here")
    return lines, notes


def _http_block(tree: Tree) -> Node | None:
    return next(tree.blocks("http"), None)


def upgrade_map(tree: Tree) -> Node | None:
    """An existing ``map $http_upgrade $x`` that gives a ``Connection`` value (one of
    its values is ``upgrade``), whatever its variable is called, or any map that
    already defines ``$connection_upgrade`` (a second one would never be used).  A map
    from ``$http_upgrade`` that gives ``websocket`` or nothing is the strict style's
    ``Upgrade`` map: as a ``Connection`` it would send ``Connection: websocket``."""
    maps = [n for n in tree.named("map") if len(n.args) == 2]
    for node in maps:
        if node.args[0] == "$http_upgrade" and _gives_upgrade(node):
            return node
    return next((n for n in maps if n.args[1] == "$" + UPGRADE_MAP_VARIABLE), None)


def _gives_upgrade(node: Node) -> bool:
    """Whether one of a map's values is ``upgrade`` (any case)."""
    return any(entry.args and nginx_token(entry.args[-1]).lower() == "upgrade"
               for entry in node.children or () if not entry.is_comment)


def ensure_upgrade_map(tree: Tree) -> tuple[str, list[Edit]]:
    """The variable of a map from ``$http_upgrade``, adding the classic
    ``$connection_upgrade`` map when there is none (see ``ensure_map``)."""
    existing = upgrade_map(tree)
    if existing is not None:
        return existing.args[1], []
    classic = idiom("classic", keepalive=False).connection_map
    return classic.variable, ensure_map(tree, classic)


def ensure_map(tree: Tree, wanted: UpgradeMap) -> list[Edit]:
    """The edits that add ``wanted`` unless the tree already defines its variable.

    The map goes at the top of ``http``; in a fragment read in http context (a
    sites-enabled file) whose http block is nginx.conf's, at the top of the file.
    Worked out once per tree and map (every websocket fix of a tree asks for it).
    Raises EditError where the map cannot go.
    """
    def build() -> list[Edit] | str:
        try:
            return _ensure_map(tree, wanted)
        except EditError as error:
            return str(error)

    found = tree.memo(f"ensure_map {wanted.header} {wanted.body!r}", build)
    if isinstance(found, str):
        raise EditError(found)
    return list(found)


def _ensure_map(tree: Tree, wanted: UpgradeMap) -> list[Edit]:
    if find_map(tree, wanted.variable) is not None:
        return []
    http = _http_block(tree)
    if http is None:
        raise EditError("no http block to hold the map")
    if not http.synthetic:
        # after the maps from $http_upgrade at the top of http (the idiom's pair together)
        ours = [n for n in http.directives("map") if n.args[:1] == ["$http_upgrade"]
                and n.source is http.source and n.via is http.via]
        return [insert_block(http, wanted.header, wanted.body, first=not ours,
                             after=ours[-1] if ours else None)]
    top = next((n for n in tree.walk() if n.source is not None and n.spanned
                and not n.is_comment and n.parent is not None and n.parent.synthetic), None)
    if top is None or top.parent is None or top.parent.directive not in ("http", "server"):
        raise EditError("the fragment's top level is not in http: add the map to nginx.conf")
    if top.parent.directive == "server":
        raise EditError("the fragment holds server directives: add the map to its http block")
    above = _attached_comments(top)
    target = above[-1] if above else top
    lines = block_lines(wanted.header, wanted.body, indent_unit(top.parent))
    if follows_blank_line(target):
        lines.append("")  # a paragraph of its own, as the statement it goes above
    return [insert_before(target, lines)]


def upgrade_header_fix(model: Model, tree: Tree, location: Node, style: str,
                       name: str, versions: VersionRange) -> list[Edit]:
    """Forward ``name`` ("Upgrade" or "Connection") at ``location`` as the upgrade
    ``style`` says (``nglint.upgrade``), adding the map it needs.  A classic
    ``Connection`` reuses any map from ``$http_upgrade`` the tree has."""
    handler = model.handler(location)
    target = handler.args[0] if handler is not None and handler.directive == "proxy_pass" \
        and handler.args else ""
    chosen = idiom(style, keeps_alive(tree, target, versions))
    if name == "Upgrade":
        edits = ensure_map(tree, chosen.upgrade_map) if chosen.upgrade_map else []
        return edits + set_proxy_header(model, location, "Upgrade", chosen.upgrade, tree)
    if style == "classic" and (chosen.connection == "$connection_upgrade"
                               or upgrade_map(tree) is not None):
        variable, edits = ensure_upgrade_map(tree)  # the tree's own map, whatever it is
    else:
        variable, edits = chosen.connection, ensure_map(tree, chosen.connection_map)
    return edits + set_proxy_header(model, location, "Connection", variable, tree)


# declarations that mean the same wherever they sit in http (nginx docs: "Context:
# http" only; their effect is global to http, not to the block they are written in)
HTTP_DECLARATIONS = frozenset({
    "map", "geo", "split_clients", "upstream", "log_format", "limit_req_zone",
    "limit_conn_zone", "proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path",
    "scgi_cache_path",
})


def _reindented(node: Node, indent: str) -> str:
    """The statement's text as written, its later lines moved to ``indent`` (the first
    line's indentation is replaced, deeper lines keep their relative depth)."""
    source = node.source
    span = node.statement
    assert source is not None and span is not None
    text = source.text
    line_start = text.rfind("\n", 0, span.start) + 1
    old = text[line_start:span.start]
    lines = text[span.start:span.end].split(source.newline)
    moved = [lines[0]]
    for line in lines[1:]:
        body = line[len(old):] if line.startswith(old) else line.lstrip(" \t")
        moved.append(indent + body if body.strip() else "")
    return source.newline.join(moved)


def _closing_paragraph(removal: Edit, text: str, newline: str) -> Edit:
    """A removal of whole lines between two blank lines takes one of them too."""
    before, after = text[:removal.start], text[removal.end:]
    if removal.text or not before.endswith(newline * 2) or not after.startswith(newline):
        return removal
    return Edit(removal.path, removal.start, removal.end + len(newline), "")


def move_into_http(node: Node, tree: Tree) -> list[Edit]:
    """Move an http-level declaration (``map`` above ``http {``, ``upstream`` in a
    ``server``) to the http level, text kept as written.

    It goes above the http-level statement that holds it when that statement is in
    the same file (a server in a sites-enabled file keeps the change in its file),
    else to the top of the ``http`` block.  Refused (EditError) for a file included
    from several places, when ``http`` already defines the map's variable, and at
    the main level of a tree with a ``stream`` block (it may be meant for stream).
    """
    if node.source is None or not node.spanned or not opens_line(node):
        raise EditError("the statement does not start its own line")
    if len(tree.sites(node)) > 1:
        raise EditError(f"{node.path} is included from several places")
    http = node.enclosing("http")
    if http is None:
        if next(tree.blocks("stream"), None) is not None:
            raise EditError("the tree has a stream block: move it by hand to http or stream")
        http = _http_block(tree)
    if http is None:
        raise EditError("no http block to move it to")
    if node.directive == "map" and len(node.args) == 2 and any(
            other is not node and other.enclosing("http") is http and len(other.args) == 2
            and other.args[1] == node.args[1] and other.context == "http"
            for other in tree.named("map")):
        raise EditError(f"http already has a map defining {node.args[1]}")
    removal = _closing_paragraph(remove_statement(node), node.source.text,
                                 node.source.newline)
    top = next((a for a in [node, *node.ancestors()] if a.parent is http), None)
    if top is not None and top is not node and top.source is node.source:
        # the http-level statement holding it is in the same file (a sites-enabled
        # server): above it, the file keeps its own declarations
        lines = _reindented(node, "").split(node.source.newline)
        return [removal, insert_before(top, [*lines, ""])]
    if http.synthetic:
        raise EditError("nothing to move it above")
    inserted = insert_statements(http, [_reindented(node, child_indent(http))], first=True)
    return [removal, inserted]


def _attached_comments(node: Node) -> list[Node]:
    """Comments on the lines right above ``node`` (no blank line between), nearest first."""
    attached: list[Node] = []
    line = node.line
    for comment in node.comments_before():
        if comment.source is not node.source or not comment.spanned \
                or comment.line != line - 1 or not opens_line(comment):
            break
        attached.append(comment)
        line = comment.line
    return attached


def not_fixed(reason: str) -> str:
    """The sentence a finding carries when its fix cannot be made."""
    return f" (not fixed automatically: {reason})" if reason else ""


def fix_notes(fix: Fix | None, why: str) -> list[str]:
    """The note saying how a finding is fixed, or why it is not."""
    if why:
        return [f"not fixed automatically: {why}"]
    if fix is None:
        return []
    return [f"fix: {fix.description} (nglint check "
            f"{'--fix --unsafe-fixes' if fix.unsafe else '--fix'})"]


def withhold(finding: Finding, reason: str) -> None:
    """Take its fix from a finding that must not be fixed: its message and notes say
    why, as a rule's own ``not_fixed`` and ``fix_notes`` would have."""
    finding.fix = None
    finding.fixable = finding.unsafe_fixable = False
    finding.message += not_fixed(reason)
    finding.notes = [note for note in finding.notes if not note.startswith("fix: ")]
    finding.notes.append(f"not fixed automatically: {reason}")


def make_fix(description: str, build: Callable[..., list[Edit]], *args: Any,
             unsafe: bool = False) -> tuple[Fix | None, str]:
    """``Fix(build(*args))``, or None and the reason it cannot be made (for the finding).

    The notes of an ``Edits`` result (headers copied, and from where) are added to the
    description, so the fix log and the finding say them."""
    try:
        edits = build(*args)
        notes = getattr(edits, "notes", ())
        if notes:
            description = f"{description}; {'; '.join(notes)}"
        for index, first in enumerate(edits):
            if any(overlaps(first, second) for second in edits[index + 1:]):
                # apply() would garble the text: a bug of the builder, refused here
                raise EditError("internal: the edits of this fix overlap")
    except EditError as error:
        return None, str(error)
    return Fix(description, tuple(edits), unsafe), ""
