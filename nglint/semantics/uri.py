"""The request target as nginx reads it, and the Host header it accepts.

Re-implements (never copies) ``src/http/ngx_http_parse.c``:
``ngx_http_parse_request_line`` (control characters, space and DEL in the
request target are a 400; '?' starts the arguments, '#' ends the path) and
``ngx_http_parse_complex_uri`` (the ``sw_usual / sw_slash / sw_dot /
sw_dot_dot / sw_quoted / sw_quoted_second`` state machine).  A decoded
``%XX`` byte is fed back into the state it was read in, so ``%2F`` is a real
slash (merged, and ``%2E%2E`` is a real ``..``); decoded ``%``, ``#`` and
``?`` are kept as plain characters; ``%00``, a bad or cut escape, and ``..``
above the root are a 400.  Checked against a running nginx
(``tests/test_routing_nginx.py``).

``validate_host`` re-implements ``ngx_http_validate_host``
(``src/http/ngx_http_request.c``), the check nginx runs on the Host header and
on the host of an absolute request target.

Strings: a URI here is text decoded from its bytes as UTF-8 with
``surrogateescape``, the way nglint decodes configuration files, so location
names and URIs compare as the bytes nginx compares.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["from_bytes", "normalize_uri", "to_bytes", "validate_host"]


def to_bytes(text: str) -> bytes:
    """Text decoded with ``surrogateescape`` back to the bytes nginx compares."""
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    """Bytes as nglint's text (UTF-8 with ``surrogateescape``)."""
    return data.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# URI normalization (ngx_http_parse_request_line + ngx_http_parse_complex_uri)
# ---------------------------------------------------------------------------

_USUAL, _SLASH, _DOT, _DOT_DOT, _QUOTED, _QUOTED_SECOND = range(6)
_SLASH_B, _DOT_B, _PERCENT_B, _QUESTION_B, _HASH_B = b"/.%?#"
# a byte that is never part of the URI: what the C loop reads after the last one
_END = -1
_ABSOLUTE_FORM = re.compile(
    rb"[A-Za-z][A-Za-z0-9+.-]*://"
    rb"(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]*\]|[A-Za-z0-9.-]*)(?::[0-9]*)?")


def _hex_value(byte: int) -> int | None:
    if 0x30 <= byte <= 0x39:
        return byte - 0x30
    lower = byte | 0x20
    if 0x61 <= lower <= 0x66:
        return lower - 0x61 + 10
    return None


def _back_to_parent(out: bytearray) -> bool:
    """Drop the last segment before a '..' as nginx does (``u -= 4`` loop)."""
    pos = len(out) - 4
    while True:
        if pos < 0:
            return False  # '..' above the root: 400
        if out[pos] == _SLASH_B:
            del out[pos + 1:]
            return True
        pos -= 1


def _parse_complex(path: bytes, merge_slashes: bool) -> bytes | None:
    out = bytearray()
    state = quoted_state = _USUAL
    decoded = 0
    i = 1
    ch = path[0]
    while i <= len(path):
        advance = True
        if state in (_USUAL, _SLASH, _DOT, _DOT_DOT):
            if ch in (_QUESTION_B, _HASH_B):  # arguments or fragment: the path ends
                if state == _DOT:
                    del out[-1:]
                elif state == _DOT_DOT and not _back_to_parent(out):
                    return None
                return bytes(out)
            if ch == _PERCENT_B:
                quoted_state, state = state, _QUOTED
            elif ch == _SLASH_B:
                if state == _SLASH:
                    if not merge_slashes:
                        out.append(ch)
                elif state == _DOT:
                    del out[-1:]  # "/./" -> "/"
                elif state == _DOT_DOT:
                    if not _back_to_parent(out):
                        return None
                else:
                    out.append(ch)
                state = _SLASH
            elif ch == _DOT_B and state == _SLASH:
                out.append(ch)
                state = _DOT
            elif ch == _DOT_B and state == _DOT:
                out.append(ch)
                state = _DOT_DOT
            else:
                out.append(ch)
                state = _USUAL
        elif state == _QUOTED:
            value = _hex_value(ch)
            if value is None:
                return None
            decoded = value
            state = _QUOTED_SECOND
        else:  # _QUOTED_SECOND
            value = _hex_value(ch)
            if value is None:
                return None
            ch = (decoded << 4) + value
            if ch == 0:
                return None
            if ch in (_PERCENT_B, _HASH_B, _QUESTION_B):
                # kept as data: a decoded '%', '#' or '?' is not syntax
                out.append(ch)
                state = _USUAL
            else:
                # any other decoded byte is read again in the state the escape
                # started in: "%2F" is a slash, "%2E%2E" a real ".."
                state = quoted_state
                advance = False
        if advance:
            ch = path[i] if i < len(path) else _END
            i += 1
    if state in (_QUOTED, _QUOTED_SECOND):
        return None
    if state == _DOT:
        del out[-1:]
    elif state == _DOT_DOT and not _back_to_parent(out):
        return None
    return bytes(out)


@lru_cache(maxsize=4096)
def normalize_uri(raw: str, merge_slashes: bool = True) -> str | None:
    """The path nginx matches locations against, or None when nginx answers 400.

    ``raw`` is the request target as sent (``/a/../b%20c?x=1``; the absolute
    form ``http://host/path`` is accepted too).  The query string and any
    fragment are dropped, ``%XX`` is decoded, ``.`` and ``..`` are resolved and,
    with ``merge_slashes`` (nginx's default), runs of slashes become one.
    """
    data = to_bytes(raw)
    # nginx 1.21.1+ refuses control characters, space and DEL in the request line
    if not data or any(byte <= 0x20 or byte == 0x7F for byte in data):
        return None
    if data[0] != _SLASH_B:
        absolute = _ABSOLUTE_FORM.match(data)
        if absolute is None:
            return None
        data = data[absolute.end():] or b"/"
        if data[0] != _SLASH_B:
            return None
    path = _parse_complex(data, merge_slashes)
    return None if path is None else from_bytes(path)


# ---------------------------------------------------------------------------
# Host (ngx_http_validate_host)
# ---------------------------------------------------------------------------

_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=4096)
def validate_host(host: str) -> str | None:
    """The host name nginx looks servers up by, or None when nginx answers 400.

    Re-implements ``ngx_http_validate_host`` (``src/http/ngx_http_request.c``);
    ``host`` is the header value as ``ngx_http_parse_header_line`` hands it
    over (spaces around it already dropped), in nglint's text form (bytes as
    UTF-8 with ``surrogateescape``).  Checked on a running nginx
    (``tests/test_servers.py``).

    * A dot right after a dot (``a..b``), a ``/``, a control byte (NUL
      included), space or DEL anywhere in the value, port included, is a 400.
    * The port goes: the host ends at the first ``:``, or after the ``]`` of a
      value starting with ``[`` (an IPv6 literal keeps its colons).
    * One trailing dot goes, but only when the value's last dot ends the host
      (``a.:80`` is ``a``; ``a:80.`` is ``a``; ``a.:8.0`` stays ``a.``).
    * An empty host (``""``, ``:80``, ``.``) is a 400.
    * ASCII letters are lower-cased (nginx's ``ngx_strlow``); other bytes stay.
    """
    data = to_bytes(host)
    last_dot = -2  # "no dot yet": never right before an index
    end = len(data)
    literal = rest = False
    for index, byte in enumerate(data):
        if byte == _DOT_B:
            if last_dot == index - 1:
                return None
            last_dot = index
        elif byte == 0x3A:  # ':'
            if not literal and not rest:
                end, rest = index, True
        elif byte == 0x5B:  # '['
            if index == 0:
                literal = True
        elif byte == 0x5D:  # ']'
            if literal and not rest:
                end, rest = index + 1, True
        elif byte == _SLASH_B or byte <= 0x20 or byte == 0x7F:
            return None
    if last_dot == end - 1:
        end -= 1
    if end <= 0:
        return None
    return from_bytes(data[:end].translate(_ASCII_LOWER))
