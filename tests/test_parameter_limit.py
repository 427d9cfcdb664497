"""nginx's 4096-byte parameter limit (nglint.parameter_limit), against ``nginx -t``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nglint.load import parse_file
from nglint.source import SourceFile
from tests.nginx_harness import NGINX

HEAD = b"events {}\nhttp {\n    server {\n        listen 8080;\n        location / {\n"
TAIL = b"            return 204;\n        }\n    }\n}\n"

# (case id, the statement line(s), nginx refuses it)
CASES = [
    ("word-4095", b"set $x " + b"w" * 4095 + b";\n", False),
    ("word-4096", b"set $x " + b"w" * 4096 + b";\n", True),
    ("quoted-4094", b'set $x "' + b"q" * 4094 + b'";\n', False),
    ("quoted-4095", b'set $x "' + b"q" * 4095 + b'";\n', True),
    ("single-quoted-4095", b"set $x '" + b"q" * 4095 + b"';\n", True),
    ("escape-counted-as-written", b'set $x "' + b"\\\"" + b"q" * 4093 + b'";\n', True),
    ("utf8-bytes-counted", b"set $x " + "\u00e9".encode() * 2048 + b";\n", True),
    ("utf8-under", b"set $x " + "\u00e9".encode() * 2047 + b"w;\n", False),
    ("comment-4095", b"#" + b"c" * 4094 + b"\n", False),
    ("comment-4096", b"#" + b"c" * 4095 + b"\n", True),
    ("comment-4095-crlf", b"#" + b"c" * 4094 + b"\r\n", True),
    ("blanks-are-no-token", b" " * 10000 + b"set $x w;\n", False),
]


def _config(body: bytes) -> bytes:
    return HEAD + b"            " + body + TAIL


def _error(data: bytes) -> str | None:
    parsed = parse_file(SourceFile.from_bytes("nginx.conf", data))
    return parsed.error.message if parsed.error else None


@pytest.mark.parametrize(("body", "refused"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_limit(body: bytes, refused: bool) -> None:
    error = _error(_config(body))
    if refused:
        assert error is not None and error.startswith("too long parameter"), error
    else:
        assert error is None, error


def test_line_and_message() -> None:
    data = _config(b'set $x "' + b"q" * 5000 + b'";\n')
    parsed = parse_file(SourceFile.from_bytes("nginx.conf", data))
    assert parsed.error is not None and parsed.error.line == 6
    assert parsed.error.message.startswith(
        "too long parameter, probably missing terminating '\"' character")
    word = parse_file(SourceFile.from_bytes("nginx.conf", _config(b"set $x " + b"w" * 5000
                                                                  + b";\n")))
    assert word.error is not None
    assert word.error.message.startswith("too long parameter 'wwwwwwwwww'... started")


@pytest.mark.parametrize(("rest", "message"), [
    (4096, "unexpected end of file"),  # nginx 1.22.1 -t: the same, 4097 too long
    (4097, "too long parameter, probably missing terminating"),
])
def test_unterminated_quote(rest: int, message: str) -> None:
    data = b'events {}\nset $x "' + b"q" * (rest - 1) + b"\n"  # rest bytes after the quote
    error = _error(data)
    assert error is not None and error.startswith(message), error


@pytest.mark.parametrize(("body", "refused"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_nginx_agrees(tmp_path: Path, body: bytes, refused: bool) -> None:
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but nginx is missing")
        pytest.skip("nginx is not installed")
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_bytes(_config(body))
    proc = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c",
                           str(tmp_path / "nginx.conf"), "-e", "/dev/stderr"],
                          capture_output=True, text=True, timeout=30)
    assert (proc.returncode != 0) == refused, proc.stderr
    if refused:
        assert "too long parameter" in proc.stderr


@pytest.mark.parametrize(("closed", "mode"), [(True, "--no-cache"), (False, "--no-cache"),
                                            (True, "--diff")])
def test_ten_megabyte_quote_is_bounded(tmp_path: Path, closed: bool, mode: str) -> None:
    """Was 2.4 GB and 5 s (2.7 GB and 8 s unterminated, 2.5 GB and 10 s with --diff):
    one NG001 finding, and a report that does not echo the parameter.  Its time and
    memory are measured, not asserted, by ``benchmarks/run.py --only quadratic`` (a
    long line; issue 19)."""
    (tmp_path / "t").mkdir()
    quote = b'"' + b"q" * (10 << 20) + (b'";\n' if closed else b"\n")
    (tmp_path / "t" / "nginx.conf").write_bytes(_config(b"proxy_set_header X-Q " + quote))
    proc = subprocess.run([sys.executable, "-m", "nglint", "check", mode, "--select", "NG001",
                           "t"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    out = proc.stdout
    assert proc.returncode == (0 if mode == "--diff" else 1), proc.stderr
    assert "Traceback" not in proc.stderr and len(out) + len(proc.stderr) < 10_000
    if mode != "--diff":  # --diff prints the fixes only: none for a file that fails
        assert out.count("NG001 [error]") == 1, out
        assert "NG001 [error] too long parameter" in out
