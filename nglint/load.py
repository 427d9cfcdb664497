"""Load an nginx configuration into a ``Tree`` with crossplane.

Every file is read once, lexed once by crossplane's lexer (with spans recorded,
see ``nglint.source``) and parsed by crossplane's parser with its directive
table checks off (they silently drop what the 1.17-era table does not know).
Includes are resolved here, as nginx does, and expanded per include site into
fresh nodes, so crossplane's shared dicts are never mutated.
"""

from __future__ import annotations

import gc
import glob
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

from crossplane.errors import NgxParserBaseException
from crossplane.parser import _parse_with_initial_tokens

from nglint import paths
from nglint.edits import Edit
from nglint.errors import NginxSyntaxError
from nglint.lexer import group, tokenize
from nglint.reader import MAX_FILE_BYTES
from nglint.relex import retokenize
from nglint.source import SourceFile, Spans, Statement, Tokens, report_name
from nglint.tree import COMMENT, Node, Problem, Tree

CONTEXTS = ("main", "http", "server", "location")
MAX_INCLUDE_DEPTH = 32
MAX_NODES = 2_000_000
TEMPLATE_MARKERS = ("{{", "}}", "{%", "%}", "<%", "%>")
# an opening and a closing marker on one line: "}}" alone is two closing braces
_MAY_HOLD_PLACEHOLDER = re.compile(r"\{\{|\{%|<%")
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|<%.*?%>")


@dataclass
class ParsedFile:
    """One file lexed and parsed: crossplane's payload (``ast``), its statements
    with exact spans (None when they do not align with crossplane's), or the syntax
    error that stopped it."""

    source: SourceFile
    ast: list[dict] = field(default_factory=list)
    statements: list[Statement] | None = None  # None when spans did not align
    error: Problem | None = None
    # the loader frees ``ast`` and ``statements`` once the file is expanded (``spent``),
    # and parses its tokens again if it is included again; from then on it is ``shared``
    # (kept until the load ends: a snippet included by every server)
    spent: bool = False
    shared: bool = False
    # every statement, in the order of their first tokens (``Spans``): what
    # ``nglint.reparse`` moves when the file is edited (None with ``statements``)
    made: list[Statement] | None = None


def _template_hint(text: str) -> str:
    found = TEMPLATE_PLACEHOLDER.search(text)
    if not found:
        return ""
    return (f" (the file looks like a template: it holds {found.group()!r}; "
            "lint the rendered output)")


def _placeholder(tree: list[Statement]) -> tuple[str, int] | None:
    """The first template placeholder in a statement (not a comment, not a lua body)."""
    stack = list(reversed(tree))
    while stack:
        statement = stack.pop()
        if statement.terminator is None:  # a comment
            continue
        if not statement.directive.value.endswith("_by_lua_block"):
            tokens = [statement.directive, *statement.args]
            found = TEMPLATE_PLACEHOLDER.search(" ".join(token.value for token in tokens))
            if found:
                opening = found.group()[:2]
                line = next((t.line for t in tokens if opening in t.value),
                            statement.directive.line)
                return found.group(), line
        stack.extend(reversed(statement.children))
    return None


@dataclass
class Edited:
    """What an edited file was made from (``--fix``): the file before the edits, the
    edits (in that file's text, as ``nglint.edits.apply`` makes them), and its parse."""

    before: SourceFile
    edits: Sequence[Edit]
    parsed: ParsedFile | None = None


def parse_file(source: SourceFile, edited: Edited | None = None) -> ParsedFile:
    """Lex and parse one file; syntax errors become a Problem, never an exception.

    ``edited``: what ``source`` was made from: its tokens are read again only around
    the edits (``nglint.relex``) and its statements parsed again only there
    (``nglint.reparse``), wherever that gives what reading it whole gives."""
    parsed = ParsedFile(source)
    path = source.path
    if source.too_large:
        parsed.error = Problem(
            "syntax", f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: not read",
            path, 1)
        return parsed
    if source.text.startswith("\ufeff"):  # nginx: unknown directive "\ufeffhttp"
        parsed.error = Problem("syntax", "UTF-8 byte order mark at the start of the file: "
                               "nginx reads it as part of the first directive", path, 1)
        return parsed
    relexed = None if edited is None else \
        retokenize(edited.before.tokens, edited.before.text, source.text, edited.edits)
    try:
        if relexed is None:
            tokenize(source)
        else:
            source.tokens = relexed.tokens
    except NginxSyntaxError as error:
        parsed.error = Problem("syntax", error.message + _template_hint(source.text), path,
                               error.line)
        return parsed
    except NgxParserBaseException as error:
        parsed.error = Problem("syntax", error.strerror + _template_hint(source.text), path,
                               error.lineno)
        return parsed
    if relexed is not None and edited is not None and edited.parsed is not None:
        from nglint.reparse import reparse

        again = reparse(source, edited.parsed, relexed.windows)
        if again is not None:
            return again
    return parse_tokens(parsed)


def parse_tokens(parsed: ParsedFile) -> ParsedFile:
    """Group and parse the tokens ``parse_file`` read into ``parsed`` (again, for a
    file the loader freed, ``ParsedFile.spent``)."""
    source = parsed.source
    path = source.path
    tokens = source.tokens
    try:
        tree, made = group(tokens, 0, len(tokens.values), "#" in source.text)
    except NginxSyntaxError as error:
        parsed.error = Problem("syntax", error.message + _template_hint(source.text), path,
                               error.line)
        return parsed
    tokens.spans = Spans(made)
    config = crossplane_parse(tokens.for_crossplane(), path,
                              len(tokens.values) >= _NOTE_PARSER_FROM)
    if config["errors"]:
        first = config["errors"][0]
        parsed.error = Problem("syntax", first["error"], path, first["line"])
        return parsed
    placeholder = _placeholder(tree) if _MAY_HOLD_PLACEHOLDER.search(source.text) else None
    if placeholder:
        parsed.error = Problem("syntax", f"template placeholder {placeholder[0]!r} in a file "
                               "that was never rendered: lint the rendered output", path,
                               placeholder[1])
        return parsed
    parsed.ast = config["parsed"]
    if _aligned(parsed.ast, tree, tokens):
        parsed.statements, parsed.made = tree, made
    source.drop_raw()
    return parsed


# crossplane's parser is a recursive closure: the function ``_parse`` refers to itself
# through a cell, a reference cycle that also holds the payload (through its error
# handler's cells).  The command line runs without the cyclic collector, so each file
# would leave its cycle (8 MB on 2,000 files), and collecting the young generation
# after each file walks every object the payload holds (0.9 s on 1,000,000 directives).
# Instead, for a file of many tokens, the cycle is broken by hand: the first pull of a
# token notes the function (from its caller's locals), and once the parse is done the
# function's own cell is emptied, so reference counting frees it.  Noting it costs a
# microsecond, more than collecting what a small file made: a small file is collected,
# as is any file whose function was not found (should crossplane change), unless much
# else is young too (a --fix round's first file: the last round's lint, 36 ms to walk).
_NOTE_PARSER_FROM = 2_000  # tokens, or young objects


def crossplane_parse(stream: Iterator[tuple[str, int, bool]], path: str,
                     many: bool) -> dict:
    """crossplane's parse of a token stream (``Tokens.for_crossplane``), as its entry
    for the file: ``parsed`` and ``errors``.  ``many``: the stream holds many tokens
    (or is one of many streams): its parser's cycle is broken by hand, not collected."""
    parser: list[object] = []  # crossplane's parse function, once it pulls a token
    if many or gc.get_count()[0] >= _NOTE_PARSER_FROM:
        stream = chain(_note_parser(parser), stream)
    # the third argument, the folder includes resolve against, is read only to follow
    # includes, which ``single`` stops (crossplane/parser.py): none is worked out
    payload = _parse_with_initial_tokens(
        stream, path, "", catch_errors=True, single=True, comments=True,
        check_ctx=False, check_args=False,
    )
    _free_parser(parser)
    return payload["config"][0]  # type: ignore[no-any-return]


def _note_parser(found: list[object]) -> Iterator[tuple[str, int, bool]]:
    """Yields nothing: pulled first, it notes crossplane's ``_parse`` in ``found``."""
    caller = sys._getframe(1)  # crossplane's _parse, pulling its first token
    outer = caller.f_back  # _parse_with_initial_tokens, where _parse is a local
    if outer is not None and caller.f_code.co_name == "_parse":
        parse = outer.f_locals.get("_parse")
        if parse is not None:
            found.append(parse)
    del caller, outer
    yield from ()


def _free_parser(found: list[object]) -> None:
    """Break the cycle of crossplane's ``_parse`` noted by ``_note_parser``."""
    parse = found.pop() if found else None
    cells = getattr(parse, "__closure__", None) or ()
    broken = False
    for cell in cells:
        try:
            if cell.cell_contents is parse:
                cell.cell_contents = None
                broken = True
        except ValueError:  # an empty cell
            continue
    del parse, cells
    if not broken:
        gc.collect(0)


def _aligned(ast: list[dict], tree: list[Statement], tokens: Tokens) -> bool:
    """True when crossplane's statements and the span statements correspond 1:1."""
    values, lines = tokens.values, tokens.lines
    pairs: list[tuple[list[dict], Sequence[Statement]]] = [(ast, tree)]
    while pairs:
        items, spans = pairs.pop()
        if len(items) != len(spans):
            return False
        for item, span in zip(items, spans, strict=True):
            directive = item["directive"]
            first = span.first
            if directive == COMMENT:
                # crossplane gives a comment between arguments the line of its statement:
                # only the text is compared
                if values[first] != "#" + item["comment"]:
                    return False
            elif directive != values[first] or item["line"] != lines[first]:
                return False
            block = item.get("block")
            if (block is not None) != (span.stop >= 0 and values[span.stop] == "{"):
                return False
            if block is not None:
                pairs.append((block, span.children))
    return True


class Overlay(dict[str, bytes]):
    """Edited, unwritten file contents (real path -> bytes), as ``--fix`` builds them
    round after round, with the parse of every file a round read (``parsed``): the
    edits it checked, and the files no edit changed, read once.  A later round's
    loader takes those parses instead of parsing the same bytes again; it parses
    only what is not there (a file first reached in that round).

    ``scope``, set by ``--fix`` after its first round, tells the lint which servers
    of each tree the last round's edits can affect (``nglint.scope``; None: all).

    ``keep``: whether loaders add the parse of every file they read to ``parsed`` (the
    rounds of ``--fix``).  A plain check keeps none: once a tree is loaded its
    crossplane payload is freed (``Loader._release``)."""

    def __init__(self, keep: bool = False) -> None:
        super().__init__()
        self.keep = keep
        self.parsed: dict[str, ParsedFile] = {}
        self.scope: Callable[[Tree], set[int] | None] | None = None

    def put(self, real: str, data: bytes, parsed: ParsedFile) -> None:
        self[real] = data
        old = self.parsed.get(real)
        if old is not None and old is not parsed and old.ast is not parsed.ast:
            old.ast.clear()  # the earlier text's payload, freed now (``Loader._release``)
        self.parsed[real] = parsed


class Loader:
    """Reads files once and expands includes per site, as nginx resolves them."""

    def __init__(self, conf_prefix: str, overlay: Mapping[str, bytes] | None = None,
                 prefix_map: Sequence[tuple[str, str]] = ()) -> None:
        self.conf_prefix = conf_prefix
        self.overlay = overlay
        # absolute include paths as deployed -> where they are here (a repo copy of
        # /etc/nginx): longest first, so /etc/nginx/conf.d wins over /etc/nginx
        self.prefix_map = sorted(prefix_map, key=lambda pair: -len(pair[0]))
        self.root = os.path.realpath(conf_prefix)
        self.cache: dict[str, ParsedFile] = {}
        self._reals: dict[str, str] = {}
        self._globs: dict[str, list[str]] = {}
        self._reported: set[tuple[str, str, str, int | None]] = set()
        self._budget = MAX_NODES
        # one list per distinct argument list of a load (``_expand``)
        self._args: dict[str | tuple[str, ...], list[str]] = {}
        # one int object per value for every node of the load: a node's line and its
        # statement's index, read from machine-integer columns, are ints of a few
        # thousand, and an object each (28 bytes, 3.5 times the slot) was 2 MB of
        # 46,000 nodes.  Only the values nodes take are kept, and only while loading
        self._ints: dict[int, int] = {}

    def _realpath(self, path: str) -> str:
        real = self._reals.get(path)
        if real is None:
            real = self._reals[path] = paths.realpath(path)
        return real

    def _report(self, tree: Tree, problem: Problem) -> None:
        """Add a problem once (a file reached many times reports it once)."""
        key = (problem.kind, problem.message, problem.path, problem.line)
        if key not in self._reported:
            self._reported.add(key)
            tree.problems.append(problem)

    def _spend(self, tree: Tree, path: str, line: int) -> bool:
        """Count one directive or include target; False once the budget is spent."""
        self._budget -= 1
        if self._budget == -1:
            tree.problems.append(Problem(
                "syntax", f"configuration expands to more than {MAX_NODES} "
                "directives: analysis stopped", path, line))
        return self._budget >= 0

    def parsed(self, path: str) -> ParsedFile:
        real = self._realpath(path)
        name = report_name(path)  # a symlink is reported as the file it points to
        if real not in self.cache:
            # --fix: a parse of these bytes from an earlier round, or this one's, kept for
            # the next (nodes never change a parse: loaders may share it)
            overlay = self.overlay if isinstance(self.overlay, Overlay) else None
            ready = overlay.parsed.get(real) if overlay is not None else None
            if ready is not None and ready.source.path == name:
                self.cache[real] = ready
            else:
                self.cache[real] = parse_file(SourceFile.read(path, self.overlay))
                if overlay is not None and overlay.keep and real not in overlay.parsed:
                    overlay.parsed[real] = self.cache[real]
        cached = self.cache[real]
        if cached.source.path != name:  # the same file reached under another name
            return ParsedFile(
                SourceFile(name, cached.source.raw, cached.source.text, cached.source.newline,
                           cached.source.tokens),
                cached.ast, cached.statements, cached.error,
            )
        return cached

    def load(self, entry: str, context: str = "main") -> Tree:
        root = Node("", [], 0, None, None, None, children=[])
        tree = Tree(entry=entry, context=context, root=root)
        parent = root
        for name in CONTEXTS[1 : CONTEXTS.index(context) + 1]:
            block = Node(name, ["/"] if name == "location" else [], 0, None, None, parent,
                         children=[])
            parent.add_child(block)
            parent = block
        self._budget = MAX_NODES
        self._reported = set()
        try:
            file = self.parsed(entry)
        except OSError as error:
            tree.problems.append(Problem("include", f"cannot read file: {error.strerror}",
                                         entry, None))
            return tree
        self._expand(tree, file, parent, None, [self._realpath(entry)])
        self._release()
        return tree

    def _release(self) -> None:
        """Free crossplane's payload of every file this load read.

        The nodes hold what they need of it (their ``args`` lists); the statement dicts
        are reachable only from the payload, which crossplane's parser keeps alive in a
        reference cycle (a closure) until a collection that the check command does not
        run.  Emptying the parsed list in place frees them at once: on 2,000 files in
        ``conf.d/`` that was 16 MiB for the whole run.  A later ``load`` of this loader
        parses a file again (fragments that a main tree did not reach).  The parses a
        ``--fix`` overlay keeps for its next round (``Overlay.parsed``) stay whole."""
        for parsed in self.cache.values():
            if not self._kept(parsed):
                parsed.ast.clear()
        self.cache.clear()
        self._args.clear()
        self._ints.clear()

    def _kept(self, parsed: ParsedFile) -> bool:
        """Whether a ``--fix`` overlay keeps this parse for its next round."""
        return isinstance(self.overlay, Overlay) and self.overlay.keep and \
            self.overlay.parsed.get(self._realpath(parsed.source.path)) is parsed

    def _expand(self, tree: Tree, file: ParsedFile, parent: Node, via: Node | None,
                chain: list[str]) -> None:
        real = self._realpath(file.source.path)
        tree.sources.setdefault(real, file.source)
        tree.expansions.setdefault(real, []).append(file.source.path)
        if file.error:
            if real not in tree.broken_files:
                tree.problems.append(file.error)
            tree.broken_files.add(real)
            return
        cached = self.cache.get(real)
        if cached is not None and cached.spent:  # included again: its tokens parsed again
            again = parse_tokens(ParsedFile(cached.source))
            cached.ast, cached.statements, cached.error = again.ast, again.statements, \
                again.error
            cached.made = again.made
            cached.spent, cached.shared = False, True
            file = ParsedFile(file.source, cached.ast, cached.statements, cached.error)
        spans = file.statements
        source = file.source
        lines = source.tokens.lines
        shared_int = self._ints.setdefault
        work: list[tuple[list[dict], Sequence[Statement] | None, Node]] = [
            (file.ast, spans, parent)]
        known_args = self._args
        # the directive budget, kept in a local (once per node) and handed back to
        # ``self`` around what also spends it (``_spend``, an include's files)
        budget = self._budget
        while work:
            items, span_list, block = work.pop()
            children = block.children
            assert children is not None
            for index, item in enumerate(items):
                if budget <= 0:
                    self._budget = budget
                    if not self._spend(tree, source.path, item["line"]):
                        return
                    budget = self._budget
                budget -= 1
                span = span_list[index] if span_list is not None else None
                directive = item["directive"]
                # nodes never change their args: one exact-size list per distinct list
                # (a tree repeats ``deny all``, ``proxy_set_header Host $host``...), not
                # crossplane's, which grew by appends
                args = item["args"]
                key = args[0] if len(args) == 1 else tuple(args)  # (no tuple: most)
                shared = known_args.get(key)
                if shared is None:
                    shared = known_args[key] = list(args)
                if span is not None:
                    line, index = lines[span.first], span.index
                    node = Node(directive, shared, shared_int(line, line), source,
                                shared_int(index, index), block, None, via)
                else:
                    node = Node(directive, shared, item["line"], source, None, block, None,
                                via)
                if directive == COMMENT:
                    node.comment = item["comment"]
                node.position = len(children)  # Node.add_child, inlined: once per node
                children.append(node)
                inner = item.get("block")
                if inner is not None:
                    node.children = []
                    work.append((inner, span.children if span else None, node))
                elif directive == "include" and len(args) == 1:
                    self._budget = budget
                    self._include(tree, node, block, chain)
                    budget = self._budget
        self._budget = budget
        if cached is not None and cached.ast is file.ast and not cached.shared \
                and not self._kept(cached):
            # most files are included once: free the payload now (emptied in place, as
            # ``_release`` does) and parse the tokens again on a second include, so that
            # no more than one file's payload is alive at a time (peak memory)
            cached.ast.clear()
            cached.statements = cached.made = None
            cached.spent = True

    def _matches(self, pattern: str) -> list[str]:
        """The files an include names: a glob's matches, sorted, or the path itself.

        A directory among them stays: nginx reads it and fails (``pread() ... (21: Is
        a directory)``), and so does the loader (``nglint.reader``).
        """
        return sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]

    def map_prefix(self, pattern: str) -> str:
        """An absolute include path as it is here: ``prefix_map`` applied (``OLD=NEW``)."""
        for old, new in self.prefix_map:
            old = old.rstrip("/")
            if pattern == old or pattern.startswith(old + "/"):
                return new.rstrip("/") + pattern[len(old):]
        return pattern

    def _include(self, tree: Tree, node: Node, block: Node, chain: list[str]) -> None:
        pattern = node.args[0]
        if not os.path.isabs(pattern):
            # the working directory as prefix: name files as the user would (no "./")
            if self.conf_prefix not in (".", "./", ""):
                pattern = os.path.join(self.conf_prefix, pattern)
        else:
            pattern = self.map_prefix(pattern)
        path = node.path or ""
        targets = self._globs.get(pattern)
        if targets is None:  # globbed once: cycles through globs multiply the include sites
            targets = self._globs[pattern] = self._matches(pattern)
        tree.includes[pattern] = targets
        inside = self.root + os.sep
        outside = [t for t in targets  # (the real path first: it is cached, a stat is not)
                   if not self._realpath(t).startswith(inside) and os.path.exists(t)]
        if outside and os.path.isabs(node.args[0]) and self.map_prefix(node.args[0]) == \
                node.args[0]:  # a mapped prefix is where the user said the files are
            self._report(tree, Problem(
                "include", f"include {node.args[0]} reads {outside[0]}, outside the linted "
                f"tree ({self.conf_prefix}): this machine's file, not yours; map the prefix "
                "with --prefix-map OLD=NEW", path, node.line, severity="info"))
        for target in targets:
            if not self._spend(tree, path, node.line):
                return
            real = self._realpath(target)
            tree.resolved[target] = real
            if real in chain:
                self._report(tree, Problem(
                    "include", f"include cycle: {target} includes itself", path, node.line))
                continue
            if len(chain) >= MAX_INCLUDE_DEPTH:
                self._report(tree, Problem(
                    "include", f"includes nested deeper than {MAX_INCLUDE_DEPTH}", path, node.line))
                continue
            try:
                included = self.parsed(target)
            except OSError as error:
                reason = "not found" if isinstance(error, FileNotFoundError) else error.strerror
                created = _created_on_the_server(node.args[0])
                if created and isinstance(error, FileNotFoundError):
                    self._report(tree, Problem(
                        "include", f"included file {target}: not found here; {created}",
                        path, node.line, severity="warning"))
                    continue
                self._report(tree, Problem(
                    "include", f"included file {target}: {reason}", path, node.line))
                continue
            # the included statements follow the include directive in its block
            self._expand(tree, included, block, node, [*chain, real])


# files tools write on the server, never kept with the configuration: a missing one is
# expected off the server (certbot's nginx plugin: certbot/certbot-nginx, constants.py
# MOD_SSL_CONF_DEST "options-ssl-nginx.conf" and SSL_DHPARAMS_DEST "ssl-dhparams.pem")
CREATED_ON_SERVER = (
    (re.compile(r"^/etc/letsencrypt/"), "certbot creates /etc/letsencrypt/ on the server"),
    (re.compile(r"options-ssl-nginx\.conf$"), "certbot's nginx plugin writes it on the server"),
)


def _created_on_the_server(pattern: str) -> str:
    for known, why in CREATED_ON_SERVER:
        if known.search(pattern):
            return why
    return ""


def infer_context(source: SourceFile) -> str:
    """The context a fragment was written for, from its top-level directives."""
    parsed = parse_file(source)
    names = {item["directive"] for item in parsed.ast}
    if names & {"http", "events", "stream", "mail", "worker_processes", "user", "load_module"}:
        return "main"
    if names & {"server", "upstream", "map", "geo", "log_format", "split_clients",
                "limit_req_zone", "limit_conn_zone", "proxy_cache_path"}:
        return "http"
    if names & {"location", "listen", "server_name", "ssl_certificate", "ssl_certificate_key"}:
        return "server"
    return "location"
