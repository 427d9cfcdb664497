"""``nglint lsp`` driven by a real LSP client (pytest-lsp, the server in a subprocess):
diagnostics inside the document's tree, the overlay of unsaved buffers, a fix applied
as a code action, unsafe fixes marked, hovers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

MAIN = """\
events {}
http {
    map $http_upgrade $connection_upgrade {
        default upgrade;
        '' close;
    }
    include conf.d/*.conf;
}
"""
APP = """\
server {
    listen 80;
    location / {  # nglint: ignore[NG108] uploads go elsewhere
        proxy_pass http://127.0.0.1:8888;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1d;
    }
}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "nglint",
                                                              "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "nginx.conf").write_text(MAIN)
    (tmp_path / "conf.d" / "app.conf").write_text(APP)
    return tmp_path


async def _open(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=from_fs_path(str(path)), language_id="nginx",
                                             version=1, text=text)))
    return (await client.wait_for_notification("textDocument/publishDiagnostics")).diagnostics


async def _change(client: LanguageClient, path: Path, version: int,
                  text: str) -> list[types.Diagnostic]:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=from_fs_path(str(path)),
                                                            version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    return (await client.wait_for_notification("textDocument/publishDiagnostics")).diagnostics


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """The client's side of a WorkspaceEdit (ASCII text: characters are UTF-16 units)."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        return sum(len(line) for line in lines[:position.line]) + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def _codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


@pytest.mark.asyncio
async def test_fix_as_code_action_clears_the_diagnostic(client: LanguageClient,
                                                        tree: Path) -> None:
    app = tree / "conf.d" / "app.conf"
    diagnostics = await _open(client, app, APP)
    # inside its tree: $connection_upgrade is defined by nginx.conf's map (no NG004)
    assert _codes(diagnostics) == ["NG106"]
    [host] = diagnostics
    assert (host.range.start.line, host.range.start.character) == (2, 4)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(app))),
        range=host.range, context=types.CodeActionContext(diagnostics=[host])))
    [action] = actions
    assert action.is_preferred and action.kind == types.CodeActionKind.QuickFix
    assert "NG106" in action.title and "unsafe" not in action.title
    [(uri, edits)] = action.edit.changes.items()
    assert uri == from_fs_path(str(app))
    fixed = _apply(APP, edits)
    assert "        proxy_set_header Host $host;\n" in fixed
    assert list(await _change(client, app, 2, fixed)) == []
    assert app.read_text() == APP  # the server never writes: the editor applies edits


@pytest.mark.asyncio
async def test_unsaved_buffer_takes_precedence(client: LanguageClient, tree: Path) -> None:
    app = tree / "conf.d" / "app.conf"
    main = tree / "nginx.conf"
    # nginx.conf open with its map deleted, unsaved: app.conf is linted against that
    await _open(client, main, MAIN.replace("$connection_upgrade", "$other"))
    diagnostics = await _open(client, app, APP)
    assert "NG004" in _codes(diagnostics)
    assert "map" in main.read_text() and "$connection_upgrade" in main.read_text()


@pytest.mark.asyncio
async def test_unsafe_fix_is_marked(client: LanguageClient, tree: Path) -> None:
    app = tree / "conf.d" / "app.conf"
    text = APP.replace("        proxy_read_timeout",
                       '        proxy_set_header Origin "";\n        proxy_read_timeout')
    diagnostics = await _open(client, app, text)
    [origin] = [d for d in diagnostics if d.code == "NG107"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(app))),
        range=origin.range, context=types.CodeActionContext(diagnostics=[origin])))
    [action] = [a for a in actions if "NG107" in a.title]
    assert "unsafe" in action.title and not action.is_preferred


@pytest.mark.asyncio
async def test_hover(client: LanguageClient, tree: Path) -> None:
    app = tree / "conf.d" / "app.conf"
    await _open(client, app, APP)

    async def hover(line: int, character: int) -> str | None:
        found = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(app))),
            position=types.Position(line=line, character=character)))
        return None if found is None else found.contents.value

    directive = await hover(4, 12)  # proxy_http_version
    assert directive is not None and "**proxy_http_version**" in directive
    assert "ngx_http_proxy_module" in directive and "location" in directive
    assert "1 argument" in directive
    rule = await hover(2, APP.splitlines()[2].index("NG108") + 2)
    assert rule is not None and rule.startswith("# NG108 ")
    assert await hover(4, 30) is None  # an argument, not a directive


@pytest.mark.asyncio
async def test_save_relints_every_open_document(client: LanguageClient, tree: Path) -> None:
    app = tree / "conf.d" / "app.conf"
    main = tree / "nginx.conf"
    assert _codes(await _open(client, app, APP)) == ["NG106"]
    broken = MAIN.replace("$connection_upgrade", "$other")
    await _open(client, main, broken)
    main.write_text(broken)  # the editor writes the file, then says so
    app_uri, main_uri = from_fs_path(str(app)), from_fs_path(str(main))
    client.diagnostics.pop(app_uri)
    client.diagnostics.pop(main_uri)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=main_uri)))
    # pytest-lsp records each notification before waking a waiter: no notification is
    # missed between two waits
    while app_uri not in client.diagnostics:
        await client.wait_for_notification("textDocument/publishDiagnostics")
    assert main_uri in client.diagnostics  # the saved file first, then the others
    assert "NG004" in _codes(client.diagnostics[app_uri])


@pytest.mark.asyncio
async def test_bad_configuration_is_one_message(client: LanguageClient, tree: Path) -> None:
    (tree / ".nglint.toml").write_text("select = [\"NG999\"]\n")
    app = tree / "conf.d" / "app.conf"
    assert list(await _open(client, app, APP)) == []
    [message] = [m for m in client.messages if m.type == types.MessageType.Error]
    assert message.message.startswith("nglint: ") and "\n" not in message.message


def test_without_pygls_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from nglint.cli import main

    for name in [n for n in sys.modules if n.startswith(("pygls", "nglint.lsp"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pygls", None)  # import pygls fails
    result = CliRunner().invoke(main, ["lsp"])
    assert result.exit_code == 2
    assert result.stderr == ("nglint: error: nglint lsp needs pygls, not installed here: "
                             "pip install 'nglint[lsp]'\n")


@pytest.mark.asyncio
async def test_fix_all(client: LanguageClient, tree: Path) -> None:
    app = tree / "conf.d" / "app.conf"
    await _open(client, app, APP)
    asked = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(app))),
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[],
                                        only=[types.CodeActionKind.SourceFixAll]))
    # a plain request (no `only`, as on a cursor move) never computes it
    plain = types.CodeActionParams(text_document=asked.text_document, range=asked.range,
                                   context=types.CodeActionContext(diagnostics=[]))
    assert not await client.text_document_code_action_async(plain)
    [action] = await client.text_document_code_action_async(asked)
    assert action.kind == "source.fixAll.nglint"
    [(uri, edits)] = action.edit.changes.items()
    assert uri == from_fs_path(str(app))
    fixed = _apply(APP, edits)
    assert "        proxy_set_header Host $host;\n" in fixed
    assert list(await _change(client, app, 2, fixed)) == []
    assert not await client.text_document_code_action_async(asked)  # nothing left to fix
