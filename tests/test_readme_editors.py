"""The README's editor snippets start ``nglint lsp``, and the command they name is
the one the server tests run (tests/test_lsp.py)."""

from __future__ import annotations

import json
import re

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from click.testing import CliRunner

from nglint.cli import main
from tests.test_readme_sections import blocks, section

EDITORS = section("Editors (nglint lsp)")


def test_vscode_settings() -> None:
    (settings,) = blocks(EDITORS, "json")
    loaded = json.loads(settings)
    assert loaded["glspc.server.command"] == "nglint"
    assert loaded["glspc.server.commandArguments"] == ["lsp"]
    assert loaded["glspc.server.languageId"] == ["nginx"]


def test_neovim() -> None:
    (lua,) = blocks(EDITORS, "lua")
    assert re.search(r'cmd = \{ "nglint", "lsp" \}', lua)
    assert 'vim.lsp.enable("nglint")' in lua


def test_helix() -> None:
    (toml,) = blocks(EDITORS, "toml")
    loaded = tomllib.loads(toml)
    server = loaded["language-server"]["nglint"]
    assert [server["command"], *server["args"]] == ["nglint", "lsp"]
    assert loaded["language"] == [{"name": "nginx", "language-servers": ["nglint"]}]


def test_emacs() -> None:
    (elisp,) = blocks(EDITORS, "elisp")
    assert '(nginx-mode . ("nglint" "lsp"))' in elisp
    assert elisp.count("(") == elisp.count(")")


def test_the_command_exists() -> None:
    listed = CliRunner().invoke(main, ["--help"]).output
    assert re.search(r"^\s+lsp\s", listed, re.MULTILINE)
