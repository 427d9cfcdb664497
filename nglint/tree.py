"""The configuration tree every rule reads.

One ``Node`` per directive (or comment) *per include site*: a file included
from two places appears twice, each copy with its own parent, so inheritance
and routing see exactly what nginx sees.  An ``include`` directive stays in
its block and the statements it brings in follow it in the same ``children``
list, each still naming the file it was written in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from nglint.source import SourceFile, Statement

T = TypeVar("T")
COMMENT = "#"
# blocks with at most this many children are scanned, larger ones indexed by name
SCAN_LIMIT = 12


class Node:
    """A directive, a block or a comment, at one include site."""

    __slots__ = (
        "_by_name",
        "args",
        "children",
        "comment",
        "directive",
        "line",
        "parent",
        "position",
        "source",
        "span",
        "via",
    )

    def __init__(
        self,
        directive: str,
        args: list[str],
        line: int,
        source: SourceFile | None,
        span: int | None,
        parent: Node | None,
        children: list[Node] | None = None,
        via: Node | None = None,
        comment: str | None = None,
    ) -> None:
        self.directive = directive
        self.args = args
        self.line = line
        self.source = source  # None for the synthetic blocks around a fragment
        # its statement's number in ``source.tokens.spans`` (exact spans, ``statement``);
        # None when they could not be aligned
        self.span = span
        self.parent = parent
        self.children = children  # None unless the directive has a block
        self.via = via  # the include directive that brought this node's file in
        self.comment = comment
        self.position = 0  # index in the parent's children, set by add_child
        self._by_name: dict[str, list[Node]] | None = None

    def add_child(self, child: Node) -> None:
        assert self.children is not None
        child.position = len(self.children)
        self.children.append(child)

    def __repr__(self) -> str:
        return f"<Node {self.directive} {' '.join(self.args)!r} {self.path}:{self.line}>"

    @property
    def statement(self) -> Statement | None:
        """The statement as written, with its tokens' exact spans (built on each call:
        a tree keeps only the columns of ``Spans``); None for a synthetic node or when
        the spans could not be aligned."""
        if self.span is None or self.source is None:
            return None
        return self.source.tokens.statement(self.span)

    @property
    def spanned(self) -> bool:
        """Whether ``statement`` is not None, without building it."""
        return self.span is not None and self.source is not None

    def written(self) -> Statement:
        """``statement`` of a node that is ``spanned``.  Raises ValueError for one that
        is not (a synthetic node, or spans that could not be aligned): callers check
        ``spanned`` first."""
        if self.span is None or self.source is None:
            raise ValueError(f"{self!r} has no statement as written")
        return self.source.tokens.statement(self.span)

    @property
    def path(self) -> str | None:
        return self.source.path if self.source else None

    @property
    def is_block(self) -> bool:
        return self.children is not None

    @property
    def is_comment(self) -> bool:
        return self.directive == COMMENT

    @property
    def synthetic(self) -> bool:
        return self.source is None

    def directives(self, name: str | None = None) -> Iterator[Node]:
        """Direct children that are directives (not comments), optionally by name."""
        children = self.children
        if name is None:
            return (c for c in children or () if c.directive != COMMENT)
        if children is None:
            return iter(())
        if len(children) <= SCAN_LIMIT:
            return (c for c in children if c.directive == name)
        return iter((self._by_name or self._index_children()).get(name, ()))

    def first(self, name: str) -> Node | None:
        children = self.children
        if children is None:
            return None
        if len(children) <= SCAN_LIMIT:
            for child in children:
                if child.directive == name:
                    return child
            return None
        found = (self._by_name or self._index_children()).get(name)
        return found[0] if found else None

    def _index_children(self) -> dict[str, list[Node]]:
        # trees do not change once loaded: index the children of a large block by name
        # on first use, so asking an http block with thousands of servers stays cheap
        # (small blocks are scanned: an index per block would cost more memory than the
        # tree's nodes themselves)
        index: dict[str, list[Node]] = {}
        for child in self.children or ():
            index.setdefault(child.directive, []).append(child)
        self._by_name = index
        return index

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, in document order, lazily (callers that
        stop at the first match do not pay for the rest of the block)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            if node.children:
                stack.extend(reversed(node.children))

    def subtree(self) -> list[Node]:
        """``walk`` as a list, built without a generator: for a whole tree, one
        generator resumption per node adds up."""
        nodes: list[Node] = []
        add, stack = nodes.append, [self]
        pop, push = stack.pop, stack.extend
        while stack:
            node = pop()
            add(node)
            if node.children:
                push(reversed(node.children))
        return nodes

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def enclosing(self, name: str) -> Node | None:
        return next((a for a in self.ancestors() if a.directive == name), None)

    @property
    def context(self) -> str:
        """The block this node sits in, as nginx names contexts (main, http, server...)."""
        return self.parent.directive if self.parent and self.parent.parent else "main"

    def comments_before(self) -> Iterator[Node]:
        """Comment nodes directly above this one in its block (nearest first)."""
        siblings = self.parent.children if self.parent and self.parent.children else []
        for index in range(self.position - 1, -1, -1):
            if not siblings[index].is_comment:
                break
            yield siblings[index]

    def next_sibling(self) -> Node | None:
        siblings = self.parent.children if self.parent and self.parent.children else []
        return siblings[self.position + 1] if self.position + 1 < len(siblings) else None


@dataclass
class Problem:
    """Something the loader found that a rule reports (syntax, missing include)."""

    kind: str  # "syntax" or "include"
    message: str
    path: str
    line: int | None
    column: int | None = None
    severity: str | None = None  # instead of the rule's (an nginx -T dump's notes: info)


@dataclass
class Tree:
    """One entry point (a main nginx.conf or a fragment) with includes expanded."""

    entry: str
    context: str  # main, http, server or location: what the entry file was read as
    root: Node  # synthetic main context
    sources: dict[str, SourceFile] = field(default_factory=dict)  # realpath -> source
    problems: list[Problem] = field(default_factory=list)
    broken_files: set[str] = field(default_factory=set)  # realpaths that did not parse
    # what the result depends on besides the sources' bytes (for the result cache):
    # each include pattern's matches, and where each included path resolved to
    includes: dict[str, list[str]] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)
    # realpath -> the path it was reached as, once per place it was included from
    expansions: dict[str, list[str]] = field(default_factory=dict)
    # a fragment's: the entry of the main tree of the same run whose folder holds it
    # (``joins``), and the variables that tree defines in its http block (``map``,
    # ``geo``...), which its http block gives the fragment once included (``engine.lint``)
    joins: str | None = None
    http_variables: frozenset[str] = frozenset()
    _index: dict[str, list[Node]] | None = field(default=None, repr=False)
    _nodes: list[Node] | None = field(default=None, repr=False)
    _whole: Tree | None = field(default=None, repr=False)  # the tree a scoped view shows
    _scope: set[int] | None = field(default=None, repr=False)  # its server ids
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` once per tree (trees do not change once loaded): indexes that
        fixes and rules ask for many times, such as upstream blocks by name."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def sites(self, node: Node) -> list[Node]:
        """Every node of the tree that is ``node``'s statement: one per place its file
        is included from (``node`` alone for a file included once)."""
        if self._whole is not None:  # every include site, in scope or not
            return self._whole.sites(node)
        repeated = self.memo("repeated", lambda: {
            path for paths in self.expansions.values() if len(paths) > 1 for path in paths})
        if not node.spanned or node.source is None or node.source.path not in repeated:
            return [node]  # its file is included once (the usual case: nothing indexed)
        index = self.memo("sites", lambda: _by_statement(
            [n for n in self.nodes if n.source is not None and n.source.path in repeated]))
        statement = node.statement
        return index.get(statement, [node]) if statement is not None else [node]

    @property
    def nodes(self) -> list[Node]:
        """Every node, in document order (listed on first use: many rules walk it all)."""
        if self._nodes is None:
            self._nodes = self.root.subtree()
        return self._nodes

    def walk(self) -> Iterator[Node]:
        return iter(self.nodes)

    def _by_directive(self) -> dict[str, list[Node]]:
        if self._index is None:  # indexed on first use
            index: dict[str, list[Node]] = {}
            for node in self.nodes:
                index.setdefault(node.directive, []).append(node)
            self._index = index
        return self._index

    def named(self, name: str) -> list[Node]:
        """Every node of a directive, in document order."""
        return self._by_directive().get(name, [])

    def directive_names(self) -> list[str]:
        """The names of every node of the tree (directives, and '#' for comments)."""
        return list(self._by_directive())

    def blocks(self, name: str) -> Iterator[Node]:
        return (n for n in self.named(name) if n.is_block)

    @property
    def servers(self) -> list[Node]:
        return list(self.blocks("server"))

    def release(self) -> None:
        """Unlink every node from its parent and children once nothing will read this
        tree again (a ``--fix`` round's tree, once the next round starts): reference
        counting then frees the nodes, where a cyclic collection of a large tree takes
        a tenth of a second or more."""
        for node in self.nodes:
            node.parent = None
            node.children = None
            node._by_name = None
        self._nodes = self._index = None
        self._memo.clear()

    def scoped(self, servers: set[int]) -> Tree:
        """This tree as a ``--fix`` round after the first re-checks it (``nglint.scope``):
        the same root, links and sources, but ``nodes``, ``walk``, ``named`` and
        ``blocks`` list only what is outside every server block, every comment, and
        the server blocks whose ids are in ``servers`` with what is inside them.
        ``sites`` and every node's parent and children still reach the whole tree."""
        nodes: list[Node] = []
        index: dict[str, list[Node]] = {}
        stack: list[tuple[Node, bool]] = [(self.root, True)]
        while stack:
            node, kept = stack.pop()
            children = node.children
            if kept and children is not None and node.directive == "server":
                kept = id(node) in servers
            if kept or node.directive == COMMENT:
                nodes.append(node)
                index.setdefault(node.directive, []).append(node)
            if children:
                stack.extend((child, kept) for child in reversed(children))
        view = Tree(self.entry, self.context, self.root, self.sources, self.problems,
                    self.broken_files, self.includes, self.resolved)
        view._index, view._nodes, view._whole, view._scope = index, nodes, self, servers
        view.joins, view.http_variables = self.joins, self.http_variables
        return view

    @property
    def scope(self) -> set[int] | None:
        """The ids of the server blocks a scoped view re-checks (None: the whole tree)."""
        return self._scope


def _by_statement(nodes: list[Node]) -> dict[Statement, list[Node]]:
    index: dict[Statement, list[Node]] = {}
    for node in nodes:
        statement = node.statement
        if statement is not None:
            index.setdefault(statement, []).append(node)
    return index
