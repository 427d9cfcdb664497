"""nglint positions (character offsets, 1-based columns) as LSP positions.

LSP counts a line's characters in UTF-16 code units (the default position encoding);
nglint counts Python characters of the text decoded with ``surrogateescape``.
"""

from __future__ import annotations

import bisect

from lsprotocol import types


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class Lines:
    """A document's text, answering positions for offsets and (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        position = text.find("\n")
        while position != -1:
            self.starts.append(position + 1)
            position = text.find("\n", position + 1)

    def _line_text(self, index: int) -> str:
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]

    def at(self, line: int, column: int) -> types.Position:
        """The position of a 1-based ``line`` and ``column`` (clamped to the text)."""
        index = min(max(line, 1), len(self.starts)) - 1
        before = self._line_text(index)[:max(column, 1) - 1]
        return types.Position(line=index, character=_units(before))

    def of(self, offset: int) -> types.Position:
        """The position of a character offset."""
        offset = min(max(offset, 0), len(self.text))
        index = bisect.bisect_right(self.starts, offset) - 1
        return types.Position(line=index, character=_units(self.text[self.starts[index]:offset]))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position."""
        index = min(position.line, len(self.starts) - 1)
        line = self._line_text(index)
        units = 0
        for count, char in enumerate(line):
            if units >= position.character:
                return self.starts[index] + count
            units += _units(char)
        return self.starts[index] + len(line)
