"""Text output: colour only on a terminal, configuration text printed literally; rules."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ESC = "\x1b"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "TERM", "COLUMNS")}
    env.update(TERM="xterm-256color", COLUMNS="200", **extra)
    return env


def run_piped(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "nglint", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env=environment(**env))
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def run_tty(*args: str, cwd: Path, **env: str) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal; the exit status and all output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "nglint", *args], cwd=cwd, stdin=follower,
                            stdout=follower, stderr=follower, env=environment(**env))
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        status = proc.wait(timeout=10)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "Traceback" not in output
    return status, output


def broken(tmp_path: Path) -> str:
    (tmp_path / "nginx.conf").write_text("events {}\nhttp {\n}\n}\n")
    return "nginx.conf"


def test_no_ansi_when_not_a_terminal(tmp_path: Path) -> None:
    proc = run_piped("check", broken(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "nginx.conf:4:1: NG001" in proc.stdout
    assert ESC not in proc.stdout + proc.stderr


def test_colour_on_a_terminal(tmp_path: Path) -> None:
    """The control case: on a terminal there is colour (so the checks below can fail)."""
    status, output = run_tty("check", broken(tmp_path), cwd=tmp_path)
    assert status == 1
    assert ANSI.search(output), output


def test_no_colour_on_a_terminal_with_no_color(tmp_path: Path) -> None:
    status, output = run_tty("check", broken(tmp_path), cwd=tmp_path, NO_COLOR="1")
    assert status == 1
    assert "nginx.conf:4:1: NG001" in output
    assert ESC not in output, output


def test_empty_no_color_does_not_disable_colour(tmp_path: Path) -> None:
    # https://no-color.org: "when present and not an empty string"
    status, output = run_tty("check", broken(tmp_path), cwd=tmp_path, NO_COLOR="")
    assert status == 1
    assert ANSI.search(output), output


def hostile(tmp_path: Path) -> str:
    """A file named with rich markup that includes a missing file named with escapes.

    ``[`` makes an include a glob (in nginx as in nglint), so the markup goes in the
    path of the file on the command line (folder ``[bold]x[``, file ``bold].conf``) and
    the terminal escapes (an OSC title sequence, a bell, a backspace) in the absolute
    path of the missing include.
    """
    name = "[bold]x[/bold].conf"
    (tmp_path / "[bold]x[").mkdir()
    assert not re.search(r"[*?[]", str(tmp_path))
    (tmp_path / name).write_text(
        f'events {{}}\nhttp {{\n    include "{tmp_path}/evil\x1b]0;pwned\x07\x08.conf";\n}}\n')
    return name


def test_markup_and_escapes_printed_literally(tmp_path: Path) -> None:
    name = hostile(tmp_path)
    # full: the whole message and the source line (which holds the escapes too)
    proc = run_piped("check", "--output-format", "full", name, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    line, source = proc.stdout.splitlines()[:2]
    assert line.startswith("[bold]x[/bold].conf:3:")
    assert "NG002" in line
    assert "evil\\x1b]0;pwned\\x07\\x08.conf" in line
    assert "evil\\x1b]0;pwned\\x07\\x08.conf" in source
    assert ESC not in proc.stdout and "\x07" not in proc.stdout and "\x08" not in proc.stdout
    # concise (the default in a pipe): one line, cut, nothing raw either
    proc = run_piped("check", name, cwd=tmp_path)
    (line, _) = proc.stdout.splitlines()
    assert line.startswith("[bold]x[/bold].conf:3:") and line.endswith(" …")
    assert ESC not in proc.stdout and "\x07" not in proc.stdout and "\x08" not in proc.stdout


def test_markup_and_escapes_printed_literally_on_a_terminal(tmp_path: Path) -> None:
    name = hostile(tmp_path)
    status, output = run_tty("check", name, cwd=tmp_path, NO_COLOR="1")
    assert status == 1
    assert "[bold]x[/bold].conf:3:" in output
    assert "evil\\x1b]0;pwned\\x07\\x08.conf" in output
    assert ESC not in output and "\x07" not in output


def test_markup_and_escapes_printed_literally_with_colour(tmp_path: Path) -> None:
    name = hostile(tmp_path)
    status, output = run_tty("check", name, cwd=tmp_path)
    assert status == 1
    plain = ANSI.sub("", output)  # nglint's own colours: CSI sequences only
    assert "[bold]x[/bold].conf:3:" in plain
    assert "evil\\x1b]0;pwned\\x07\\x08.conf" in plain
    assert ESC not in plain and "\x07" not in plain


def test_escapes_in_json_are_json_escapes(tmp_path: Path) -> None:
    name = hostile(tmp_path)
    proc = run_piped("check", "--format", "json", name, cwd=tmp_path)
    assert proc.returncode == 1
    assert ESC not in proc.stdout
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["path"] == name
    assert "evil\x1b]0;pwned\x07\x08.conf" in finding["message"]


def test_rules_text(tmp_path: Path) -> None:
    proc = run_piped("rules", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert ESC not in proc.stdout
    header = lines[0].split()
    assert header[:4] == ["CODE", "NAME", "SEVERITY", "FIXABLE"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert rows["NG001"][1:4] == ["syntax-error", "error", "no"]
    assert rows["NG002"][1:4] == ["include-not-found", "error", "no"]
    for row in rows.values():
        assert re.fullmatch(r"NG\d{3}", row[0])
        assert row[2] in ("error", "warning", "info")
        assert row[3] in ("yes", "no")


def test_rules_json(tmp_path: Path) -> None:
    proc = run_piped("rules", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rules = json.loads(proc.stdout)
    by_code = {rule["code"]: rule for rule in rules}
    assert by_code["NG001"]["name"] == "syntax-error"
    assert by_code["NG002"]["name"] == "include-not-found"
    for rule in rules:
        assert set(rule) >= {"code", "name", "severity", "fixable", "summary"}
        assert rule["severity"] in ("error", "warning", "info")
        assert isinstance(rule["fixable"], bool)
    assert [rule["code"] for rule in rules] == sorted(by_code)


class _Terminal:
    """A text stream that says it is a terminal, so the renderer colours through rich."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_plain_and_coloured_output_say_the_same(tmp_path: Path, monkeypatch) -> None:
    """In a pipe the text format is written without rich; on a terminal through rich.
    Without the colours both must be the same lines, for findings, statistics and the
    summary (hostile names and escapes included)."""
    import io

    from nglint.discover import discover
    from nglint.engine import Options, lint
    from nglint.registry import select
    from nglint.report import text

    monkeypatch.delenv("NO_COLOR", raising=False)
    repo = Path(__file__).resolve().parent.parent
    paths = [str(repo / "fixtures" / "examples" / "jupyter-seed.conf"),
             str(tmp_path / hostile(tmp_path))]
    findings = lint([t for p in paths for t in discover([p])], select([]), Options())
    assert len(findings) > 5
    for quiet, statistics, style in ((False, False, "full"), (False, True, "full"),
                                     (True, False, "full"), (False, False, "concise"),
                                     (False, True, "concise"), (True, False, "concise")):
        for shown in (findings, []):
            plain, terminal = io.StringIO(), _Terminal()
            text.render(shown, 2, plain, quiet=quiet, statistics=statistics, style=style)
            text.render(shown, 2, terminal, quiet=quiet, statistics=statistics, style=style)
            coloured = "".join(terminal.parts)
            if shown:
                assert ANSI.search(coloured)  # the control: rich did colour it
            assert ANSI.sub("", coloured) == plain.getvalue()
