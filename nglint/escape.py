"""How data reaches a person: every human channel escapes through ``visible``.

File names, configuration text, URIs and header values are data: printed as they
are, a control character would act on the terminal (ESC, the 8-bit CSI U+009B),
a bidirectional override would reorder what is shown ("Trojan source"), a newline
would start a line of its own, and a line starting with ``::`` (or holding
``##[``) would be executed by GitHub Actions as a workflow command.  ``visible``
turns each of these into characters that show what they are; the text report,
``--fix``/``--diff`` messages and diff headers, error messages, click's usage
errors, ``nglint route`` and ``nglint apps`` all go through it.  Machine formats
(JSON, SARIF) keep the exact data: their own escaping suffices.

The stream helpers make output survive any terminal encoding: a character the
stream cannot encode is written as its backslash escape instead of failing.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from collections.abc import Iterator
from typing import IO, Protocol

# C0 (tab included: it ends a diff header's name), DEL, C1 (U+009B is CSI on some
# terminals), the Unicode bidirectional controls (U+061C, U+200E/F, U+202A-U+202E,
# U+2066-U+2069), the line and paragraph separators, and lone surrogates (bytes of a
# file name that are not UTF-8, as surrogateescape decodes them); and "##[", the
# prefix of GitHub Actions' older command syntax, which the runner finds anywhere in
# a line
_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                      "\u2028\u2029\ud800-\udfff]|##\\[")


def _form(char: str) -> str:
    """The visible form of one escaped character: ``\\x1b``, ``\\x9b``, ``\\u202e``;
    a surrogateescape'd byte as the byte (``\\xff``)."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def pieces(text: str, line_start: bool = True) -> Iterator[tuple[str, str]]:
    """Each character of ``text`` and how it is shown (itself, or its escape):
    ``"".join(shown for _, shown in pieces(text)) == visible(text)``.  For output
    that measures what it shows column by column (the report's source excerpt);
    ``line_start=False`` for text that never begins a line (no ``::`` rule)."""
    lead = len(text) - len(text.lstrip())
    # GitHub's runner trims leading space before looking for "::"
    command = line_start and text.startswith("::", lead)
    for index, char in enumerate(text):
        if command and index == lead:
            yield char, "\\x3a"
        elif char == "[" and index >= 2 and text[index - 2:index] == "##":
            yield char, "\\x5b"
        elif _ESCAPED.match(char):
            yield char, _form(char)
        else:
            yield char, char


def visible(text: str, line_start: bool = True) -> str:
    """``text`` with every character that could act on a terminal or a CI log shown
    escaped (see the module docstring): one line, nothing hidden or reordered, never a
    workflow command.  A backslash itself is kept: the result is for people, not for
    parsing back.  ``line_start=False`` for text that cannot begin a line (a GitHub
    annotation's file name): a leading ``::`` then stays as it is."""
    if not _ESCAPED.search(text) and not (line_start and text.lstrip().startswith("::")):
        return text
    return "".join(shown for _, shown in pieces(text, line_start))


def commands_possible(text: str) -> bool:
    """Whether a line of ``text`` (multi-line) would be read as a GitHub Actions
    workflow command: starting with ``::`` after leading space, or holding ``##[``."""
    return "##[" in text or any(line.lstrip().startswith("::")
                                for line in re.split("\r\n|\r|\n", text))


def fence_commands(text: str) -> str:
    """Exact text that must stay exact (a diff to apply), safe in a GitHub Actions run:
    when ``GITHUB_ACTIONS`` is ``true`` and a line could be read as a workflow command,
    the text is wrapped in ``::stop-commands::TOKEN`` ... ``::TOKEN::``, which the
    runner documents for printing untrusted text (the token is random, so the text
    cannot end the fence).  Otherwise ``text`` unchanged."""
    if os.environ.get("GITHUB_ACTIONS") != "true" or not commands_possible(text):
        return text
    import secrets

    token = secrets.token_hex(16)
    ending = "" if text.endswith("\n") else "\n"
    return f"::stop-commands::{token}\n{text}{ending}::{token}::\n"


class Interactive(Protocol):
    """What ``colour_wanted`` asks of a stream: whether it is a terminal."""

    def isatty(self) -> bool: ...


def colour_wanted(stream: Interactive, mode: str = "auto", to_file: bool = False) -> bool:
    """``--color``: ``always``, ``never``, or ``auto``: ``NO_COLOR`` (no-color.org) turns
    colour off, ``FORCE_COLOR`` (force-color.org) on even in a pipe (not in an
    ``--output`` file), and otherwise only a terminal gets colour.  Both count only
    when not empty; ``NO_COLOR`` wins when both are set."""
    if mode in ("always", "never"):
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") and not to_file:
        return True
    return stream.isatty()


def speaks_unicode(stream: IO[str]) -> bool:
    """Whether ``stream`` encodes every character (UTF-8, -16, -32): else JSON is
    written ASCII-only, its own escapes standing for the rest."""
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name.startswith("utf")
    except LookupError:
        return False


def tolerant_streams() -> None:
    """Make stdout and stderr write a character their encoding lacks as its backslash
    escape (``\\u043e``) instead of raising UnicodeEncodeError: a latin-1 or C locale,
    ``PYTHONIOENCODING=ascii``.  Streams that cannot be reconfigured are left alone."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # closed, or not a text wrapper after all
                continue
