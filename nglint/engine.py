"""Run the selected rules over loaded trees and turn their reports into findings.

The target is a range of nginx versions (``nglint.versions``); each rule is judged
across it by ``nglint.across``: the shared model is built per version, a ``Tracked``
one, and a rule runs again at each version its answers were compared with.  A fix
that writes a directive some version of the target does not know is withheld.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from nglint import across, paths, upgrade
from nglint.directives import forget_checked
from nglint.disputes import merge_fixes, withhold_disputed
from nglint.edits import Fix
from nglint.findings import Finding, Related, Severity, split_message
from nglint.fixes import not_fixed, withhold
from nglint.registry import Rule
from nglint.runon import unclear_spans
from nglint.semantics.inherit import Model
from nglint.semantics.variables import http_variables
from nglint.suppress import Suppression, Suppressions
from nglint.tree import Node, Problem, Tree
from nglint.versions import DEFAULT_RANGE, Tracked, Version, VersionRange, recording, same_cell

if TYPE_CHECKING:
    from nglint.apps.view import AppView


@dataclass
class Options:
    """Everything a run was asked for (command line merged over configuration)."""

    # the target versions; a plain (1, 22, 1) is read as the range of that one version
    nginx_version: VersionRange = DEFAULT_RANGE
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    jupyter_prefixes: tuple[str, ...] = ()
    prefix_map: tuple[tuple[str, str], ...] = ()  # --prefix-map: deployed path -> here
    # the websocket idiom fixes write (nglint.upgrade), read when the options are made
    upgrade_style: str = field(default_factory=lambda: upgrade.DEFAULT_STYLE)

    def __post_init__(self) -> None:
        if isinstance(self.nginx_version, tuple):
            self.nginx_version = VersionRange.single(self.nginx_version)


@dataclass
class Report:
    """What a rule yields: where, what, and optionally how bad (default: the rule's).

    ``message`` is the whole text (JSON, SARIF and GitHub carry it).  Optional
    structure for readable output: a short ``headline``, ``notes`` (the endpoints
    affected, the effect, the fix), ``location`` (the serving block, when ``node`` is
    a directive in it: a related location, and a suppression above it still
    counts) and ``related`` (where a value in force was set, with a label).
    """

    message: str
    node: Node | None = None
    problem: Problem | None = None
    severity: Severity | None = None
    fix: Fix | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headline: str = ""
    notes: list[str] = field(default_factory=list)
    location: Node | None = None
    related: list[tuple[Node, str]] = field(default_factory=list)


# the analyses rules share that a rule names in ``USES`` (``nglint.registry``): the app
# view (``Context.apps``) and the validation rules' pass over every directive
# (``nglint.directives.checked_directives``).  Each is dropped from a tree's analysis
# once the last rule using it has run: on 2,000 servers that is 4 MB of the peak.
SHARED = ("apps", "directives")


class Analysis:
    """The nginx model of one tree, computed once and shared by every rule."""

    def __init__(self, tree: Tree, options: Options,
                 suppressions: list[Suppression] | None = None,
                 rules_run: frozenset[str] = frozenset()) -> None:
        self.tree = tree
        self.options = options
        # the tree's ``# nglint: ignore`` comments, each knowing which of its rules it
        # used; complete only for rules with SEES_SUPPRESSIONS, which run last
        self.suppressions = suppressions or []
        self.rules_run = rules_run  # codes of every rule of this run
        # every version the models were compared with while a rule ran (Tracked)
        self.consulted: set[Version] = set()
        self.version: Version = options.nginx_version.low  # of the model asked now
        self._models: dict[Version, Model] = {}
        # memos the models of every version share, each entry valid at the versions on
        # the same side of those it depends on (``Model``'s ``shared``)
        self._shared: dict[str, Any] = {}
        self._apps: dict[Version, tuple[AppView, frozenset[Version]]] = {}

    def forget(self, name: str) -> None:
        """Drop one of the ``SHARED`` analyses: the last rule that uses it has run.
        Asked again, it is built again (the same answers: nothing is lost but time)."""
        if name == "apps":
            self._apps.clear()
        elif name == "directives":
            forget_checked(self.tree.root)
        else:
            raise ValueError(f"not a shared analysis: {name!r} (one of {SHARED})")

    def release(self) -> None:
        """Drop the models, their memos and the app view once every rule has run: an
        ``Upstream`` and its model refer to each other, and breaking that here lets
        reference counting free them (``--fix`` rounds run no full collection)."""
        for model in self._models.values():
            model.memos.clear()
        self._models.clear()
        self._shared.clear()
        self._apps.clear()

    @property
    def model(self) -> Model:
        """The model of the version being asked (one per version, built on first use)."""
        found = self._models.get(self.version)
        if found is None:
            found = self._models[self.version] = Model(Tracked(self.version, self.consulted),
                                                       self._shared)
        return found

    @cached_property
    def unclear(self) -> dict[str, list[tuple[int, int]]]:
        """Spans no fix may edit: blocks holding a run-on statement (``nglint.runon``)."""
        return unclear_spans(self.tree)

    @property
    def apps(self) -> AppView:
        known = self._apps.get(self.version)
        if known is not None:
            self.consulted |= known[1]  # what building it depended on, noted again
            return known[0]
        for built, (view, depends) in list(self._apps.items()):
            if same_cell(built, self.version, depends):  # built at a version like this
                self.consulted |= depends
                found = view.at(self.model)
                self._apps[self.version] = (found, depends)
                return found
        from nglint.apps.view import AppView

        with recording(self.consulted) as consulted:
            found = AppView(self.tree, self.model, self.options.jupyter_prefixes)
        self._apps[self.version] = (found, frozenset(consulted))
        return found


class Context:
    """What a rule sees: the tree, the options, and the shared nginx model."""

    def __init__(self, analysis: Analysis, rule: Rule) -> None:
        self.analysis = analysis
        self.tree = analysis.tree
        self.options = analysis.options
        self.rule = rule

    @property
    def model(self) -> Model:
        """The nginx model of one version: the rule runs again at the other versions of
        the target its answers depended on."""
        return self.analysis.model

    @property
    def apps(self) -> AppView:
        """Which app each location serves and where each websocket lands."""
        return self.analysis.apps

    def option(self, name: str) -> Any:
        return self.options.rule_options.get(self.rule.name, {}).get(
            name, self.rule.options.get(name))


def _first_column(text: str, line: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return 1
    column = 1
    while start < len(text) and text[start] in " \t":
        start += 1
        column += 1
    return column


def locate(report: Report, tree: Tree) -> tuple[str, int, int, int, int]:
    """path, line, column, end line, end column (1-based, end exclusive) of a report."""
    node = report.node
    if node is not None:
        return place(node, tree)
    problem = report.problem
    assert problem is not None
    line = problem.line or 1
    text = next((s.text for s in tree.sources.values() if s.path == problem.path), "")
    column = problem.column or _first_column(text, line)
    return problem.path, line, column, line, column


def place(node: Node, tree: Tree) -> tuple[str, int, int, int, int]:
    """path, line, column, end line, end column of a node's statement."""
    while node.synthetic and node.parent is not None and node.children:
        node = node.children[0]  # a fragment's synthetic block: point at its first line
    source = node.source
    if source is None:
        return tree.entry, 1, 1, 1, 1
    span = node.statement
    if span is None:
        return source.path, node.line, _first_column(source.text, node.line), node.line, \
            _first_column(source.text, node.line)
    end_token = span.terminator or (span.args[-1] if span.args else span.directive)
    line, column = source.line_col(span.directive.start)
    end_line, end_column = source.line_col(end_token.end)
    return source.path, line, column, end_line, end_column


def _serving(block: Node) -> str:
    words = " ".join([block.directive, *block.args])
    return f"served by `{words}`" if block.directive != "server" else "in this server"


def _include_site(node: Node | None) -> Node | None:
    """The include directive that brought ``node``'s file into the tree: the ``via`` of
    the outermost node of the same file around it (None in the entry file)."""
    found = None
    while node is not None and node.source is not None:
        if node.via is not None:
            found = node.via
        parent = node.parent
        if parent is None or parent.source is not node.source:
            break
        node = parent
    return found


def _unclear(fix: Fix, spans: dict[str, list[tuple[int, int]]]) -> str:
    """Why ``fix`` must not be made: one of its edits lands in a block whose meaning is
    unclear (a run-on statement, NG017); empty when it may."""
    for edit in fix.edits:
        for start, end in spans.get(edit.path, ()):
            if (start < edit.end and edit.start < end) or start < edit.start < end:
                return ("a statement of this block runs on into the next line (NG017): "
                        "fix it first")
    return ""


def _reports(rule: Rule, analysis: Analysis) -> list[Report]:
    """The rule's reports over the whole target (``across.reports``): it runs at the
    target's first version, then at each version its model was compared with."""
    def run(version: Version) -> list[Report]:
        analysis.version = version
        analysis.consulted.clear()
        return list(rule.check(Context(analysis, rule)))

    try:
        return across.reports(run, analysis.options.nginx_version, analysis.consulted)
    finally:
        analysis.version = analysis.options.nginx_version.low


def _run(rule: Rule, analysis: Analysis) -> Iterable[Finding]:
    tree, options = analysis.tree, analysis.options
    for report in _reports(rule, analysis):
        report = across.guarded(report, options.nginx_version)
        path, line, column, end_line, end_column = locate(report, tree)
        severity = options.severity_overrides.get(rule.code, report.severity or rule.severity)
        related = []
        links = [(report.location, _serving(report.location), "location")] \
            if report.location is not None and report.location is not report.node else []
        links += [(node, label, "provenance") for node, label in report.related]
        site = _include_site(report.node)
        if site is not None:  # the include that brought the file in (a sites-enabled glob)
            links.append((site, f"reached through `include {' '.join(site.args)}`", "include"))
        for node, label, role in links:
            where = place(node, tree)
            if (where[0], where[1]) != (path, line):
                related.append(Related(where[0], where[1], where[2], label, role))
        fix, message, notes = report.fix, report.message, list(report.notes)
        if fix is not None and analysis.unclear:
            reason = _unclear(fix, analysis.unclear)
            if reason:
                fix, message = None, message + not_fixed(reason)
                notes = [n for n in notes if not n.startswith("fix: ")]
                notes.append(f"not fixed automatically: {reason}")
        headline = report.headline
        if not headline:  # a rule that gives no headline: its first clause is one
            headline, rest = split_message(message)
            notes = rest + notes
        yield Finding(rule.code, rule.name, severity, path, line, column, end_line,
                      end_column, message,
                      fix is not None and not fix.unsafe, report.node,
                      fix, fix is not None and fix.unsafe, report.extra,
                      headline, notes, related)


def withhold_broken(trees: Sequence[Tree], findings: Sequence[Finding]) -> None:
    """No fix for a finding of a tree holding a file that does not parse.

    What that file says is unknown (it may define the map, set the header), so a
    fix computed without it can be wrong; the finding says why it is not fixed.
    """
    broken = {id(tree.root): tree for tree in trees if tree.broken_files}
    if not broken:
        return
    for finding in findings:
        if finding.fix is None or finding.node is None:
            continue
        root = finding.node
        while root.parent is not None:
            root = root.parent
        tree = broken.get(id(root))
        if tree is None:
            continue
        names = sorted(source.path for real, source in tree.sources.items()
                       if real in tree.broken_files)
        withhold(finding, f"{', '.join(names)} does not parse; fix it first")


def _lend_http_variables(trees: Sequence[Tree]) -> None:
    """Each fragment (a ``sites-available`` file no include reaches) in a folder that a
    main tree's http block includes from gets that tree's http-level variables: enabled,
    it is included in that http block, whose ``map``s it then sees.  Without them, a
    snippet shared by an enabled and a disabled site reported the enabled site's
    ``$connection_upgrade`` as undefined in the disabled site's tree.  A fragment of a
    folder only a ``stream`` block includes from gets nothing (stream variables are
    not http's)."""
    mains = [tree for tree in trees if tree.context == "main"]
    if not mains or len(mains) == len(trees):
        return
    folders = [(_http_folders(main), main) for main in mains]
    lent: dict[int, frozenset[str]] = {}
    for tree in trees:
        if tree.context == "main":
            continue
        folder = os.path.dirname(paths.realpath(tree.entry))
        name = os.path.basename(folder)
        # Debian's layout: sites-available/x is enabled by a link in sites-enabled/
        enabled = os.path.join(os.path.dirname(folder), name[:-len("available")] + "enabled") \
            if name.endswith("-available") else None
        main = next((main for held, main in folders if folder in held or enabled in held),
                    None)
        if main is not None:
            if id(main) not in lent:
                lent[id(main)] = http_variables(main)
            tree.joins, tree.http_variables = main.entry, lent[id(main)]


def _http_folders(main: Tree) -> set[str]:
    """The real folders ``main``'s http block includes files from: each ``include``
    pattern's folder, and the folder of each file it reached (a link in
    ``sites-enabled/`` reaches ``sites-available/``)."""
    folders: set[str] = set()
    prefix = os.path.dirname(main.entry)
    inside: set[int] = set()  # the include directives in the http block
    for include in main.named("include"):
        if include.args and include.enclosing("http") is not None:
            inside.add(id(include))
            pattern = include.args[0]
            folders.add(paths.realpath(os.path.dirname(
                pattern if os.path.isabs(pattern) else os.path.join(prefix, pattern))))
    for node in main.nodes:
        if node.via is not None and id(node.via) in inside and node.source is not None:
            folders.add(os.path.dirname(paths.realpath(node.source.path)))
    return folders


def _in_scope(node: Node | None, servers: set[int]) -> bool:
    """Whether a finding on ``node`` is re-checked: outside every server block, or in
    one of ``servers`` (ids)."""
    while node is not None:
        if node.directive == "server" and node.children is not None:
            return id(node) in servers
        node = node.parent
    return True


def _outside_servers(node: Node | None) -> bool:
    """A node outside every server block (not a loader problem's finding, no node)."""
    if node is None:
        return False
    while node is not None:
        if node.directive == "server" and node.children is not None:
            return False
        node = node.parent
    return True


def _ordinary(tree: Tree, rules: Sequence[Rule], analysis: Analysis,
              servers: set[int] | None, kept: frozenset[str] = frozenset()
              ) -> tuple[Analysis, list[Finding]]:
    """The findings of ``rules`` (not those that see suppressions) over one tree, those
    in scope when ``servers`` is given (see ``lint``).  Each of the ``SHARED`` analyses
    is dropped once the last of these rules that uses it (``Rule.uses``) has run,
    unless it is ``kept`` (a later rule uses it)."""
    found = []
    # the whole tree, even when the rules see a scope: a rule that cannot report here
    # (its TRIGGERS) is neither imported nor run
    running = [rule for rule in rules if rule.triggered(tree)]
    last = {name: index for index, rule in enumerate(running) for name in rule.uses
            if name not in kept}
    for index, rule in enumerate(running):
        for finding in _run(rule, analysis):
            if servers is None or _in_scope(finding.node, servers):
                found.append(finding)
        for name, at in last.items():
            if at == index:
                analysis.forget(name)
    return analysis, found


def lint(trees: Sequence[Tree], rules: Iterable[Rule], options: Options,
         progress: Callable[[], None] | None = None,
         scope: Callable[[Tree], set[int] | None] | None = None) -> list[Finding]:
    """All findings of ``rules`` over ``trees``, suppressions applied, deduplicated, sorted.

    Two phases, because whether a suppression was used is only known once every
    tree's findings are in (a file may be linted in several trees): the ordinary
    rules, then suppressions, then the rules that report on suppressions.
    ``progress`` is called once per tree.  ``scope`` (a ``--fix`` round after the
    first, ``nglint.scope``) gives per tree the ids of the server blocks to re-check
    (None: the whole tree): the rules see ``Tree.scoped`` and only the findings
    outside every server or in those servers are returned.  A fix that edits a file
    another tree reads too is kept only when that tree asks for the same edit
    (``disputes.withhold_disputed``).
    """
    rules = list(rules)
    if scope is not None and any(rule.whole_tree for rule in rules):
        scope = None  # a rule counts across every server: re-check whole trees
    ordinary = [r for r in rules if not r.sees_suppressions]
    late = [r for r in rules if r.sees_suppressions]
    kept = frozenset(name for rule in late for name in rule.uses)  # for the late rules
    codes = frozenset(r.code for r in rules)
    suppressions = Suppressions()
    findings: dict[tuple[str, str, int, int, str], Finding] = {}
    analyses = []
    scopes: list[set[int] | None] = []
    found_by_tree: list[list[Finding]] = []
    _lend_http_variables(trees)
    for tree in trees:
        servers = scope(tree) if scope is not None else None
        used = suppressions.collect(tree)
        analysis, found = _ordinary(tree, ordinary, Analysis(
            tree if servers is None else tree.scoped(servers), options, used, codes), servers,
            kept)
        if servers is not None and any(_outside_servers(f.node) for f in found):
            # a finding outside every server may count what every server does: the
            # whole tree, as a first round would
            servers = None
            analysis.release()
            analysis, found = _ordinary(tree, ordinary, Analysis(tree, options, used, codes),
                                        None, kept)
        scopes.append(servers)
        analyses.append(analysis)
        found_by_tree.append(found)
        if progress is not None:
            progress()
    withhold_disputed(trees, found_by_tree)  # a file two trees read: edited if both agree
    for found in found_by_tree:
        for finding in found:
            first = findings.setdefault(finding.key, finding)
            if first is not finding:  # the same finding in another tree: one fix for both
                merge_fixes(first, finding)
    passed = {f.key: f for f in suppressions.filter(findings.values())}
    for tree, analysis, servers in zip(trees, analyses, scopes, strict=True):
        for rule in late:
            if not rule.triggered(tree):
                continue
            for finding in _run(rule, analysis):
                if servers is None or _in_scope(finding.node, servers):
                    passed.setdefault(finding.key, finding)
        analysis.release()
    withhold_broken(trees, list(passed.values()))
    return sorted(passed.values(), key=Finding.sort_key)
