"""nginx's limit on one parameter: a token must fit its 4096-byte read buffer.

``src/core/ngx_conf_file.c`` (nginx 1.22.1) reads a file through a buffer of
``NGX_CONF_BUFFER`` (4096) bytes.  When the buffer runs out, the token being
read is moved to its start and the rest refilled; a token that already fills
the whole buffer is refused (``ngx_conf_read_token``): ``too long parameter,
probably missing terminating '"' character`` inside quotes, else ``too long
parameter "<first 10 bytes>..." started``, at the token's first line.  The
bytes counted run from the token's first byte (after an opening quote; a
comment's ``#``) through the last byte read before the token is complete:

- a word: every byte of it (4096 bytes are refused, 4095 pass);
- a quoted string: the content and the closing quote (content of 4095 bytes
  refused, 4094 passes), escapes counted as written;
- a comment: ``#`` up to the line feed, a CR included (4096 refused);
- an unterminated quote: everything to the end of the file, when more than 4096
  bytes (nginx looks for the end of the file first).

Checked against ``nginx -t`` 1.22.1 (tests/test_filesystem.py).
"""

from __future__ import annotations

from operator import sub
from typing import TYPE_CHECKING

from nglint.errors import NginxSyntaxError

if TYPE_CHECKING:  # nglint.lexer calls this module while it lexes
    from nglint.source import Tokens

__all__ = ["NGX_CONF_BUFFER", "check_parameters", "unterminated"]

NGX_CONF_BUFFER = 4096


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _message(text: str, start: int, quoted: bool) -> str:
    if quoted:
        return (f"too long parameter, probably missing terminating {text[start]!r} character "
                f"(nginx refuses a parameter of {NGX_CONF_BUFFER} bytes or more, "
                "NGX_CONF_BUFFER)")
    first = text[start:start + 10].encode("utf-8", "surrogateescape").decode("utf-8",
                                                                               "replace")
    return (f"too long parameter {first!r}... started (nginx refuses a parameter of "
            f"{NGX_CONF_BUFFER} bytes or more, NGX_CONF_BUFFER)")


def check_parameters(text: str, tokens: Tokens) -> None:
    """Raise NginxSyntaxError (nginx's message, the token's line) for the first token
    nginx would refuse as too long.  Cost: one comparison per token, bytes counted
    only for tokens of a quarter of the limit or more (UTF-8 takes at most 4 bytes a
    character)."""
    starts, ends, quoted = tokens.starts, tokens.ends, tokens.quoted
    if max(map(sub, ends, starts), default=0) < NGX_CONF_BUFFER // 4:
        return  # no token is long enough (the usual case, counted in C)
    for index, start in enumerate(starts):
        end = ends[index]
        if end - start < NGX_CONF_BUFFER // 4:
            continue
        if quoted[index]:
            # the opening quote is not counted: content and closing quote are
            counted = _bytes(text[start + 1:end])
        elif text[start] == "#":
            counted = _bytes(text[start:end])
            if text[end:end + 1] == "\r":  # the span leaves out the CR of a CRLF line end
                counted += 1
        else:
            counted = _bytes(text[start:end])
        if counted >= NGX_CONF_BUFFER:
            raise NginxSyntaxError(_message(text, start, quoted[index] == 1),
                                   tokens.lines[index])


def unterminated(text: str, start: int, line: int) -> None:
    """Raise NginxSyntaxError when the quote opened at ``start`` and never closed runs
    past nginx's limit before the end of the file (nginx says so instead of "unexpected
    end of file"); return when it is shorter.  nginx checks for the end of the file
    before the limit, so exactly 4096 bytes left still end as "unexpected end of
    file"."""
    if _bytes(text[start + 1:]) > NGX_CONF_BUFFER:
        raise NginxSyntaxError(_message(text, start, True), line)
