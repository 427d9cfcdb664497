"""What a ``--fix`` round's edits can affect: the servers the next round re-checks.

The first round lints every tree.  A later round lints a tree after the edits of
the round before it, and most of those trees are the same text: only the servers
listed here are re-checked (``Tree.scoped``, ``nglint.engine.lint``'s ``scope``).

The contract this rests on, which the rules keep (they model nginx, and in nginx
servers meet only there): a finding in a server depends only on that server, on
the statements outside every server, and on the servers *related* to it; two
servers are related when they listen on one port (routing, default server), share
a server name, proxy to one upstream name or host, or one defines a variable
(``set``, a named regex capture...) the other reads or defines.  Relation is
closed transitively.

A server is re-checked when it holds an edit, held a finding in the round before
(its message may cite a line an edit moved, or another fix may now be possible),
reads a variable or upstream an inserted ``map``/``geo``/``split_clients``/
``upstream`` block defines, or is related to any of those.  Every other server
held no finding and its inputs did not change: it holds none now.  The statements
outside every server are always re-checked, and a finding among them (in this
round or the one before) re-checks the whole tree: it may count what every server
does.  Anything else (an edit of an http level statement, an inserted inheritable
directive, a file that does not parse, a ``# nglint:`` comment, a fragment's
implied server) re-checks the whole tree.

A rule whose finding in one server counts what every server does (NG214 lists
every ``server_tokens`` of the tree) breaks that contract: it says so
(``WHOLE_TREE``, ``Rule.whole_tree``) and while it runs a later round re-checks
every tree whole (``nglint.engine.lint``).

``NGLINT_FULL_RELINT=1`` turns scoping off (every round lints every tree): the
equivalence tests compare both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nglint.edits import Edit, shifted
from nglint.findings import Finding
from nglint.source import SourceFile
from nglint.tree import Node, Tree

FULL_ENV = "NGLINT_FULL_RELINT"
# blocks outside servers that only define names: inserting one changes only the
# servers reading its variable or upstream
DEFINING = {"map": 1, "geo": -1, "split_clients": 1, "upstream": 0}
_VARIABLE = re.compile(r"\$\{?([A-Za-z0-9_]+)")
_CAPTURE = re.compile(r"\(\?(?:P?<|')([A-Za-z_][A-Za-z0-9_]*)[>']")
# the host a *_pass names; the scheme in any case, as nginx and split_target read it
_PASS_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?([^/:;]+)", re.IGNORECASE)


def full_relint() -> bool:
    """True when ``NGLINT_FULL_RELINT`` asks every round to lint every tree."""
    return os.environ.get(FULL_ENV, "") not in ("", "0")


def _server_of(node: Node | None) -> Node | None:
    while node is not None:
        if node.directive == "server" and node.children is not None:
            return node
        node = node.parent
    return None


def _new_spans(edits: Sequence[Edit]) -> list[tuple[int, int, Edit]]:
    """Where each edit's text is in the edited text: (start, end, edit)."""
    spans = []
    delta = 0
    for edit in edits:
        start = edit.start + delta
        spans.append((start, start + len(edit.text), edit))
        delta += len(edit.text) - (edit.end - edit.start)
    return spans


def _defined(text: str) -> set[str] | None:
    """The names an insertion outside every server defines ($variables, upstream
    names), when it inserts only name-defining blocks (``DEFINING``); else None."""
    from nglint.load import parse_file

    parsed = parse_file(SourceFile.from_bytes("inserted", text.encode("utf-8",
                                                                      "surrogateescape")))
    if parsed.error is not None or not parsed.ast:
        return None
    names: set[str] = set()
    for item in parsed.ast:
        directive = item["directive"]
        if directive == "#":
            continue
        index = DEFINING.get(directive)
        args = item.get("args", [])
        if index is None or item.get("block") is None or not args:
            return None
        name = args[index] if -len(args) <= index < len(args) else ""
        names.add(name.lstrip("$").strip("{}"))
    return names


@dataclass
class _Server:
    node: Node
    real: str
    start: int = 0  # the block's span in its file, from its statement (built once)
    end: int = 0
    keys: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)  # variables and hosts it names


def _sets(directive: str) -> bool:
    """Whether a directive defines the variable its first argument names: ``set``,
    ``auth_request_set``, ``js_set``, ``perl_set`` and the ``set_*`` of modules
    (``set_by_lua_block``, ``set_escape_uri``...)."""
    return directive == "set" or directive.endswith("_set") or directive.startswith("set_")


def _survey(node: Node, real: str) -> tuple[_Server, set[str]]:
    """A server's relation keys and the variables it defines."""
    statement = node.statement
    assert statement is not None  # Changes.servers surveys spanned servers only
    server = _Server(node, real, statement.start, statement.end)
    defines: set[str] = set()
    ports = []
    for child in node.subtree():
        args = child.args
        if child.directive == "listen" and child.parent is node and args:
            address = args[0]
            if address.startswith("unix:"):
                ports.append(address)
            else:
                tail = address.rsplit(":", 1)[-1] if not address.endswith("]") else ""
                ports.append(tail if tail.isdigit() else "80")
        elif child.directive == "server_name" and child.parent is node:
            server.keys.update("name:" + name.lower() for name in args)
        elif child.directive.endswith("_pass") and args:
            host = _PASS_HOST.match(args[0])
            if host:
                server.keys.add("upstream:" + host.group(1).lower())
                server.reads.add(host.group(1).lower())
        if not args:
            continue
        joined = "\n".join(args)  # most statements name no variable and no capture
        if "$" not in joined and "(?" not in joined:
            continue
        setting = _sets(child.directive)
        for index, arg in enumerate(args):
            if "$" in arg:
                found = _VARIABLE.findall(arg)
                server.reads.update(found)
                if index == 0 and setting and arg.startswith("$") and found:
                    defines.add(found[0])
            if "(?" in arg:
                defines.update(_CAPTURE.findall(arg))
    server.keys.update("port:" + port for port in ports or ["80", "8000"])
    return server, defines


class Changes:
    """What one ``--fix`` round changed, to scope the next round's lint."""

    def __init__(self, edits: dict[str, list[Edit]], findings: Iterable[Finding],
                 trees: Sequence[Tree]) -> None:
        """``edits``: real path -> the round's edits made in that file, in the order
        ``nglint.edits.apply`` made them (offsets of the text before them);
        ``findings``: every finding of the round; ``trees``: the round's trees."""
        self.edits = edits
        self.whole = False  # a finding in an implied server: re-check everything
        reals = {id(source): real for tree in trees for real, source in tree.sources.items()}
        # servers that held a finding: (real path, where the server starts after edits)
        self.flagged: set[tuple[str, int]] = set()
        # the entries of trees with a finding outside every server: re-checked whole
        self.outside: set[str] = set()
        entries = {id(tree.root): tree.entry for tree in trees}
        for finding in findings:
            server = _server_of(finding.node)
            if server is None:
                root = finding.node
                while root is not None and root.parent is not None:
                    root = root.parent
                if root is not None:
                    self.outside.add(entries.get(id(root), ""))
                continue
            if server.source is None or not server.spanned:
                self.whole = True
                continue
            real = reals.get(id(server.source)) or server.source.realpath()
            self.flagged.add((real, shifted(server.written().start, edits.get(real, ()))))

    def servers(self, tree: Tree) -> set[int] | None:
        """The ids of the server blocks of ``tree`` to re-check, or None: all of it."""
        if self.whole or tree.broken_files or tree.entry in self.outside:
            return None
        if any("nglint" in (node.comment or "") for node in tree.named("#")):
            return None  # whether a suppression was used is known only tree-wide
        reals = {id(source): real for real, source in tree.sources.items()}
        surveyed: list[_Server] = []
        defines_all: list[set[str]] = []
        by_file: dict[str, list[_Server]] = {}
        for node in tree.blocks("server"):
            if node.source is None or not node.spanned:
                return None
            server, defines = _survey(node, reals[id(node.source)])
            surveyed.append(server)
            defines_all.append(defines)
            by_file.setdefault(server.real, []).append(server)
        seeds: set[int] = set()
        names: set[str] = set()
        for real, edits in self.edits.items():
            if real not in tree.sources:
                continue
            for start, end, edit in _new_spans(edits):
                inside = [s for s in by_file.get(real, ()) if s.start < start and end <= s.end]
                if inside:
                    seeds.update(id(s.node) for s in inside)
                    continue
                sites = self._sites(tree, real)
                if sites is None:
                    return None
                if sites:  # a file included only inside servers
                    seeds.update(sites)
                    continue
                if edit.start != edit.end:
                    return None
                defined = _defined(edit.text)
                if defined is None:
                    return None
                names |= defined
        for server in surveyed:
            if (server.real, server.start) in self.flagged or names & server.reads:
                seeds.add(id(server.node))
        return _closure(surveyed, defines_all, seeds)

    @staticmethod
    def _sites(tree: Tree, real: str) -> set[int] | None:
        """The servers ``real``'s statements sit in when every include site of the file
        is inside a server; an empty set when none is; None when it has no statement
        or some sites are inside a server and some not."""
        source = tree.sources[real]
        servers: set[int] = set()
        outside = 0
        tops = [n for n in tree.nodes if n.source is source
                and (n.parent is None or n.parent.source is not source)]
        for top in tops:
            server = _server_of(top)
            if server is None:
                outside += 1
            else:
                servers.add(id(server))
        if not tops or (outside and servers):
            return None
        return servers


def _closure(servers: list[_Server], defines: list[set[str]], seeds: set[int]) -> set[int]:
    """``seeds`` and every server related to one of them, transitively."""
    defined = set().union(*defines) if defines else set()
    parent = list(range(len(servers)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[str, int] = {}
    for index, server in enumerate(servers):
        keys = server.keys | {"variable:" + name for name in server.reads & defined} \
            | {"variable:" + name for name in defines[index]}
        for key in keys:
            first = owner.setdefault(key, index)
            parent[find(index)] = find(first)
    roots = {find(i) for i, server in enumerate(servers) if id(server.node) in seeds}
    return {id(server.node) for i, server in enumerate(servers) if find(i) in roots}
