"""The pygls server: diagnostics on open, change and save; fixes as code actions;
hovers.  Start it with ``nglint lsp`` (stdio)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from nglint import __version__
from nglint.errors import NglintError
from nglint.escape import visible
from nglint.findings import Finding, Severity
from nglint.lsp.analysis import analyse, fix_all
from nglint.lsp.hover import hover_text
from nglint.lsp.positions import Lines

SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error,
              Severity.WARNING: types.DiagnosticSeverity.Warning,
              Severity.INFO: types.DiagnosticSeverity.Information}
UNSAFE = " (unsafe: changes behaviour beyond the finding)"
FIX_ALL = "source.fixAll.nglint"


class NglintServer(LanguageServer):
    """Keeps the last findings of each document, with their fixes, for code actions."""

    def __init__(self) -> None:
        super().__init__("nglint", __version__)
        self.findings: dict[str, list[tuple[types.Diagnostic, Finding]]] = {}

    def overlay(self) -> dict[str, bytes]:
        """Every open file document as bytes, by real path."""
        texts: dict[str, bytes] = {}
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path:
                texts[os.path.realpath(path)] = document.source.encode("utf-8", "surrogateescape")
        return texts

    def text_of(self, real: str) -> str:
        """A file's text as linted: the open document, else the disk."""
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path and os.path.realpath(path) == real:
                return document.source
        with open(real, "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")

    def lint(self, uri: str) -> None:
        path = to_fs_path(uri)
        if not path:
            return
        document = self.workspace.get_text_document(uri)
        try:
            findings = analyse(path, self.overlay())
        except NglintError as error:  # a bad .nglint.toml: what `check` would say
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error, message=visible(f"nglint: {error}")))
            findings = []
        except Exception as error:  # one line, as the command line shows it; never a crash
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error,
                message=visible(f"nglint: internal error: {type(error).__name__}: {error}")))
            findings = []
        lines = Lines(document.source)
        pairs = [(diagnostic(finding, lines), finding) for finding in findings]
        self.findings[uri] = pairs
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=document.version, diagnostics=[d for d, _ in pairs]))


def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    start = lines.at(finding.line, finding.column)
    end = lines.at(finding.end_line, finding.end_column)
    return types.Diagnostic(
        range=types.Range(start=start, end=end if end != start else
                          types.Position(line=start.line, character=start.character + 1)),
        message=finding.message, severity=SEVERITIES[finding.severity],
        code=finding.code, source="nglint", data={"rule": finding.rule})


def _overlapping(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def actions(server: NglintServer, uri: str, wanted: types.Range
            ) -> Iterable[types.CodeAction]:
    """A quick fix for each finding with a fix whose diagnostic meets ``wanted``."""
    for shown, finding in server.findings.get(uri, []):
        fix = finding.fix
        if fix is None or not fix.edits or not _overlapping(shown.range, wanted):
            continue
        changes: dict[str, list[types.TextEdit]] = {}
        for edit in fix.edits:
            lines = Lines(server.text_of(edit.path))
            changes.setdefault(from_fs_path(edit.path) or edit.path, []).append(types.TextEdit(
                range=types.Range(start=lines.of(edit.start), end=lines.of(edit.end)),
                new_text=edit.text))
        yield types.CodeAction(
            title=f"{fix.description} ({finding.code})" + (UNSAFE if fix.unsafe else ""),
            kind=types.CodeActionKind.QuickFix, diagnostics=[shown],
            is_preferred=not fix.unsafe, edit=types.WorkspaceEdit(changes=changes))


def _asked(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a code action request's ``only`` covers ``kind`` (a kind covers its
    sub-kinds: ``source`` covers ``source.fixAll.nglint``)."""
    if only is None:
        return kind.startswith(types.CodeActionKind.QuickFix)
    return any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def fix_all_action(server: NglintServer, uri: str) -> types.CodeAction | None:
    """Every safe fix of the document at once (``--fix``'s fixed point), as whole-file
    replacements of the files that change."""
    path = to_fs_path(uri)
    if not path:
        return None
    changes: dict[str, list[types.TextEdit]] = {}
    for real, (before, after) in fix_all(path, server.overlay()).items():
        old = before.decode("utf-8", "surrogateescape")
        lines = Lines(old)
        changes[from_fs_path(real) or real] = [types.TextEdit(
            range=types.Range(start=lines.of(0), end=lines.of(len(old))),
            new_text=after.decode("utf-8", "surrogateescape"))]
    if not changes:
        return None
    return types.CodeAction(title="Fix all safe nglint problems", kind=FIX_ALL,
                            edit=types.WorkspaceEdit(changes=changes))


def build() -> NglintServer:
    server = NglintServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: NglintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: NglintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: NglintServer, params: types.DidSaveTextDocumentParams) -> None:
        # the saved file may be included by (or include) the other open files
        saved = params.text_document.uri
        for uri in [saved, *(u for u in ls.workspace.text_documents if u != saved)]:
            ls.lint(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: NglintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.findings.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
    def code_action(ls: NglintServer, params: types.CodeActionParams
                    ) -> list[types.CodeAction]:
        only = params.context.only
        found: list[types.CodeAction] = []
        if _asked(only, types.CodeActionKind.QuickFix):
            found.extend(actions(ls, params.text_document.uri, params.range))
        if only is not None and _asked(only, FIX_ALL):  # never on a mere cursor move
            every = fix_all_action(ls, params.text_document.uri)
            found.extend([every] if every else [])
        return found

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: NglintServer, params: types.HoverParams) -> types.Hover | None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        lines = document.lines
        if params.position.line >= len(lines):
            return None
        line = lines[params.position.line].rstrip("\r\n")
        column = Lines(line).offset(types.Position(line=0, character=params.position.character))
        text = hover_text(line, column)
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                        value=text))

    return server


def serve() -> None:
    """Serve on stdin and stdout until the client leaves."""
    build().start_io()
