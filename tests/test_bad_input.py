"""Hostile and broken input through the real command line.

Every case runs ``python -m nglint check --format json`` in a subprocess on files
written into ``tmp_path`` and checks the contract of ARCHITECTURE.md: no traceback
whatever the input, exit status 0 (nothing), 1 (findings) or 2 (usage or environment
error), one JSON document on stdout, and a finding (or a one-line error) that names the
file and the line.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 60


def run(*args: str, cwd: Path, timeout: float = TIMEOUT,
        drop_dac: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the CLI; never a traceback, whatever happened."""
    command = [sys.executable, "-m", "nglint", *args]
    if drop_dac:  # root without the capabilities that bypass file permissions
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=env)
    assert "Traceback" not in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


def check(*paths: str, cwd: Path, expect: int, timeout: float = TIMEOUT,
          drop_dac: bool = False, extra: tuple[str, ...] = ()) -> list[dict]:
    """``nglint check --format json``: the exit status and the findings of one document."""
    proc = run("check", "--format", "json", *extra, *paths, cwd=cwd, timeout=timeout,
               drop_dac=drop_dac)
    assert proc.returncode == expect, (proc.returncode, proc.stdout, proc.stderr)
    document = json.loads(proc.stdout)  # exactly one document: trailing data would fail
    assert set(document) == {"version", "findings", "summary"}
    assert document["summary"]["findings"] == len(document["findings"])
    return document["findings"]


def only(findings: list[dict], code: str, path: str, line: int | set[int]) -> dict:
    """The single finding, of ``code``, naming ``path`` at ``line``."""
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding["code"] == code, finding
    assert finding["path"] == path, finding
    lines = line if isinstance(line, set) else {line}
    assert finding["line"] in lines, finding
    assert finding["column"] >= 1
    return finding


def write(directory: Path, name: str, content: str | bytes) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return name


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line an exit-2 run prints on stderr."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert proc.stdout == ""
    return lines[0]


# --- braces, semicolons, quotes -------------------------------------------------------


def test_missing_closing_brace(tmp_path: Path) -> None:
    name = write(tmp_path, "missing.conf",
                 "events {}\nhttp {\n    server {\n        listen 8080;\n    }\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, {5, 6})  # nginx: 6
    assert "expecting \"}\"" in finding["message"]


def test_extra_closing_brace(tmp_path: Path) -> None:
    name = write(tmp_path, "extra.conf", "events {}\nhttp {\n}\n}\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 4)  # as nginx
    assert 'unexpected "}"' in finding["message"]


def test_missing_semicolon_before_brace(tmp_path: Path) -> None:
    name = write(tmp_path, "nosemi.conf", "events {}\nhttp {\n  server {\n    listen 80 }\n}\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 4)  # as nginx
    assert 'unexpected "}"' in finding["message"]


def test_missing_semicolon_at_end_of_file(tmp_path: Path) -> None:
    name = write(tmp_path, "nosemi_eof.conf", "events {}\nworker_processes 1")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 2)  # as nginx
    assert "end of file" in finding["message"]


def test_unterminated_quote(tmp_path: Path) -> None:
    name = write(tmp_path, "quote.conf",
                 'events {}\nhttp {\n  server_names_hash_bucket_size "64;\n}\n')
    # nginx names the end of the file (5); the line the quote opens is more useful
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 3)
    assert "expecting" in finding["message"]


@pytest.mark.parametrize("text", [";\n", "{\n"], ids=["semicolon", "brace"])
def test_lone_semicolon_or_brace(tmp_path: Path, text: str) -> None:
    name = write(tmp_path, "lone.conf", "events {}\n" + text)
    only(check(name, cwd=tmp_path, expect=1), "NG001", name, 2)  # as nginx


# --- templates --------------------------------------------------------------------------


@pytest.mark.parametrize(("placeholder", "kind"), [
    ("{{ host }}", "jinja"),
    ('"{{ host }}"', "jinja-quoted"),
    ("<%= @x %>", "erb"),
    ("<%= $fqdn %>", "epp"),
])
def test_template_placeholder(tmp_path: Path, placeholder: str, kind: str) -> None:
    name = write(tmp_path, f"{kind}.conf",
                 "events {}\nhttp {\n  server {\n    listen 80;\n"
                 f"    server_name {placeholder};\n  }}\n}}\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 5)
    assert "template" in finding["message"], finding


def test_closing_braces_are_not_a_template(tmp_path: Path) -> None:
    name = write(tmp_path, "braces.conf", "events {}\nhttp { server { listen 80 }}\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 2)
    assert "template" not in finding["message"], finding


def test_template_marker_in_comment_or_lua_is_fine(tmp_path: Path) -> None:
    name = write(tmp_path, "ok.conf",
                 "# managed by {{ ansible }}\nevents {}\nhttp {\n  server {\n"
                 "    location / { content_by_lua_block { local t = {{1}} } }\n  }\n}\n")
    # only the loader's rules: stock nginx has no content_by_lua_block
    assert check(name, cwd=tmp_path, expect=0, extra=("--select", "NG001,NG002")) == []


# --- includes ---------------------------------------------------------------------------


def test_missing_include(tmp_path: Path) -> None:
    name = write(tmp_path, "nginx.conf",
                 "events {}\nhttp {\n\n    include snippets/nope.conf;\n}\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG002", name, 4)
    assert "nope.conf" in finding["message"]
    assert "not found" in finding["message"]


def test_include_cycle_terminates(tmp_path: Path) -> None:
    write(tmp_path, "a.conf", "events {}\nhttp {\n  include b.conf;\n}\n")
    write(tmp_path, "b.conf", "gzip on;\ninclude a.conf;\n")
    findings = check("a.conf", cwd=tmp_path, expect=1, timeout=30)
    cycles = [f for f in findings if f["code"] == "NG002" and "cycle" in f["message"]]
    assert cycles, findings
    assert cycles[0]["path"].endswith("b.conf")
    assert cycles[0]["line"] == 2


def test_glob_include_cycles_stay_bounded(tmp_path: Path) -> None:
    """Twelve files that all ``include *.conf``: 12! include chains unless bounded."""
    for index in range(12):
        write(tmp_path, f"f{index:02d}.conf", "include *.conf;\n")
    # bounded, not timed: a run that explodes hits the subprocess timeout and fails
    findings = check("f00.conf", cwd=tmp_path, expect=1, timeout=60)
    assert any("cycle" in f["message"] for f in findings)
    assert len(findings) < 1000  # one report per include site and target, not per chain


def _make_unreadable(path: Path) -> bool:
    """chmod 000; True when reads must drop root's capabilities to fail (else skip)."""
    path.chmod(0)
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        return False
    if os.geteuid() != 0:
        pytest.skip("chmod 000 does not block reads on this file system")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root: chmod 000 does not block reads and setpriv is missing")
    probe = subprocess.run(
        [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", "cat", str(path)],
        capture_output=True, timeout=10)
    if probe.returncode == 0:
        pytest.skip("running as root: chmod 000 does not block reads, even without "
                    "CAP_DAC_OVERRIDE")
    return True


@pytest.fixture
def restore_modes(tmp_path: Path):
    yield
    for path in tmp_path.rglob("*"):
        if not path.is_symlink():
            path.chmod(stat.S_IRWXU)


@pytest.mark.usefixtures("restore_modes")
def test_unreadable_file_on_command_line(tmp_path: Path) -> None:
    name = write(tmp_path, "secret.conf", "events {}\n")
    drop = _make_unreadable(tmp_path / name)
    proc = run("check", "--format", "json", name, cwd=tmp_path, drop_dac=drop)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = error_line(proc)
    assert name in line
    assert "permission denied" in line.lower()


@pytest.mark.usefixtures("restore_modes")
def test_unreadable_file_in_directory(tmp_path: Path) -> None:
    write(tmp_path, "etc/nginx.conf", "events {}\n")
    write(tmp_path, "etc/conf.d/secret.conf", "gzip on;\n")
    drop = _make_unreadable(tmp_path / "etc/conf.d/secret.conf")
    proc = run("check", "--format", "json", "etc", cwd=tmp_path, drop_dac=drop)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = error_line(proc)
    assert "etc/conf.d/secret.conf" in line
    assert "permission denied" in line.lower()


@pytest.mark.usefixtures("restore_modes")
def test_unreadable_included_file(tmp_path: Path) -> None:
    name = write(tmp_path, "nginx.conf", "events {}\nhttp {\n  include secret.conf;\n}\n")
    write(tmp_path, "secret.conf", "gzip on;\n")
    drop = _make_unreadable(tmp_path / "secret.conf")
    finding = only(check(name, cwd=tmp_path, expect=1, drop_dac=drop), "NG002", name, 3)
    assert "secret.conf" in finding["message"]
    assert "permission denied" in finding["message"].lower()


# --- paths that are not configuration ---------------------------------------------------


def test_directory_without_configuration(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "README.txt").write_text("not nginx\n")
    proc = run("check", "--format", "json", "empty", cwd=tmp_path)
    assert proc.returncode == 2
    assert "empty" in error_line(proc)


def test_nonexistent_path(tmp_path: Path) -> None:
    proc = run("check", "--format", "json", "no/such/nginx.conf", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no/such/nginx.conf" in error_line(proc)


def test_binary_file(tmp_path: Path) -> None:
    # nginx reads NUL as any other byte: `unknown directive "\x7fELF..."` (1.22.1)
    name = write(tmp_path, "binary.conf", b"events {}\n\x7fELF\x00\x01\x02\xff\xfe;\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG006", name, 2)
    assert "unknown directive" in finding["message"]


@pytest.mark.parametrize("where", ["comment", "argument"])
def test_invalid_utf8(tmp_path: Path, where: str) -> None:
    bad = b"caf\xe9 \xff\xfe \xc3"
    if where == "comment":
        body = b"    # " + bad + b"\n    return 200;\n"
    else:
        body = b'    return 200 "' + bad + b'";\n'
    name = write(tmp_path, "latin1.conf", b"events {}\nhttp {\n  server {\n    location / {\n"
                 + body + b"    }\n  }\n}\n")
    assert check(name, cwd=tmp_path, expect=0) == []


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    line = b"    # padding padding padding padding padding padding padding padding padding\n"
    count = 50 * 1024 * 1024 // len(line) + 1
    path = tmp_path / "huge.conf"
    with open(path, "wb") as handle:
        handle.write(b"events {}\nhttp {\n")
        handle.write(line * count)
        handle.write(b"}\n")
    assert path.stat().st_size >= 50 * 1024 * 1024
    findings = check("huge.conf", cwd=tmp_path, expect=1, timeout=60)
    finding = only(findings, "NG001", "huge.conf", 1)
    assert "MiB" in finding["message"] or "large" in finding["message"]


def test_ten_thousand_nested_blocks(tmp_path: Path) -> None:
    name = write(tmp_path, "deep.conf",
                 "events {}\nhttp { server {\n" + "location /a { " * 10_000 + "\n"
                 + "}" * 10_000 + "\n} }\n")
    finding = only(check(name, cwd=tmp_path, expect=1, timeout=60), "NG001", name, 3)
    assert "nest" in finding["message"]
    assert "template" not in finding["message"]


# --- encodings and line endings --------------------------------------------------------


def test_utf8_byte_order_mark(tmp_path: Path) -> None:
    # nginx 1.22: unknown directive "\ufeffevents" in bom.conf:1
    name = write(tmp_path, "bom.conf", b"\xef\xbb\xbfevents {}\nhttp {\n}\n")
    finding = only(check(name, cwd=tmp_path, expect=1), "NG001", name, 1)
    assert "byte order mark" in finding["message"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    text = ("# windows\r\nevents {}\r\nhttp {\r\n    server {\r\n        listen 80;\r\n"
            "        location / { return 200 \"ok\"; }\r\n    }\r\n}\r\n")
    name = write(tmp_path, "crlf.conf", text)
    assert check(name, cwd=tmp_path, expect=0) == []


def test_crlf_syntax_error_line(tmp_path: Path) -> None:
    name = write(tmp_path, "crlf.conf", "events {}\r\nhttp {\r\n  listen 80 }\r\n")
    only(check(name, cwd=tmp_path, expect=1), "NG001", name, 3)


def test_file_name_not_utf8(tmp_path: Path) -> None:
    """A non-UTF-8 file name still gives one valid (UTF-8) JSON document."""
    raw = os.fsencode(tmp_path) + b"/bad\xff.conf"
    with open(raw, "wb") as handle:
        handle.write(b"events {}\nhttp {\n")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}  # strict: surrogates cannot be written
    proc = subprocess.run([sys.executable, "-m", "nglint", "check", "--format", "json",
                           os.fsdecode(raw)], cwd=tmp_path, capture_output=True, timeout=TIMEOUT,
                          env=env)
    assert b"Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout.decode("utf-8"))  # strict UTF-8
    finding = only(document["findings"], "NG001", os.fsdecode(raw), 2)
    assert os.fsencode(finding["path"]) == raw
