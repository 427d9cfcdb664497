"""nglint offsets and columns as LSP positions: UTF-16 code units, CRLF, no final newline."""

from __future__ import annotations

from lsprotocol import types

from nglint.lsp.positions import Lines


def test_utf16_units() -> None:
    text = "# caf\u00e9 \U0001f600\nlisten 80;\n"
    lines = Lines(text)
    # the emoji is two UTF-16 units: "listen" on line 1 is unaffected, the end of line 0 is
    assert lines.of(text.index("\n")) == types.Position(line=0, character=9)
    assert lines.at(2, 1) == types.Position(line=1, character=0)  # 1-based, as findings
    assert lines.at(2, 8) == types.Position(line=1, character=7)
    assert lines.at(1, 9) == types.Position(line=0, character=9)  # after the emoji
    assert lines.offset(types.Position(line=0, character=9)) == text.index("\n")
    assert lines.offset(types.Position(line=1, character=7)) == text.index("80")


def test_crlf_and_end_of_text() -> None:
    text = "events {}\r\nhttp {}"
    lines = Lines(text)
    assert lines.of(text.index("http")) == types.Position(line=1, character=0)
    assert lines.of(len(text)) == types.Position(line=1, character=7)
    assert lines.at(9, 1) == types.Position(line=1, character=0)  # past the end: clamped


def test_undecodable_bytes_count_one_unit() -> None:
    text = b"# \xff\nx;".decode("utf-8", "surrogateescape")
    assert Lines(text).of(len(text)) == types.Position(line=1, character=2)
    assert Lines(text).of(3) == types.Position(line=0, character=3)
