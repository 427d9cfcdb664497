"""Every human channel shows hostile file names and configuration text escaped.

The channels: the text report (concise, full, coloured), ``--format github``, the
``--fix`` log, ``--diff`` headers, error messages, click's usage errors, ``nglint
route`` and ``nglint apps``.  Each runs as in a GitHub Actions job and its output
goes through a model of the runner's command parser: no data may become a workflow
command.  Machine formats keep the exact data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from nglint.cli import main
from nglint.escape import fence_commands, pieces, visible
from nglint.report.github import escape_data, escape_property

# what must never reach a terminal or a log raw (the newline: only between lines)
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                 "\u2028\u2029\ud800-\udfff]")
SGR = re.compile("\x1b\\[[0-9;]*m")  # rich's own colours, in --color always
# the GitHub Actions runner's registered commands (ActionCommandManager's extensions)
REGISTERED = {"error", "warning", "notice", "debug", "group", "endgroup", "add-mask",
              "set-output", "save-state", "set-env", "add-path", "echo", "add-matcher",
              "remove-matcher", "stop-commands"}


def workflow_commands(output: str) -> list[tuple[str, str]]:
    """(command, raw line) for every line the runner would execute: ``::cmd ...::data``
    after leading space (v2), ``##[cmd ...]`` anywhere (v1); lines split at CR and
    LF; ``::stop-commands::TOKEN`` pauses everything until ``::TOKEN::``."""
    found: list[tuple[str, str]] = []
    stopped: str | None = None
    for line in re.split("\r\n|\r|\n", output):
        name = None
        trimmed = line.lstrip()
        if trimmed.startswith("::") and trimmed.find("::", 2) > 0:
            name = trimmed[2:trimmed.find("::", 2)].split(" ")[0]
        elif "##[" in line and "]" in line[line.find("##["):]:
            start = line.find("##[") + 3
            name = line[start:line.find("]", start)].split(" ")[0]
        if name is None:
            continue
        if stopped is not None:
            if name == stopped:
                stopped = None
            continue
        if name == "stop-commands":
            stopped = trimmed[trimmed.find("::", 2) + 2:]
            continue
        if name.lower() in REGISTERED:
            found.append((name.lower(), line))
    return found


def assert_shown_safely(output: str) -> None:
    """No raw control, bidi or separator character; no workflow command."""
    plain = SGR.sub("", output)
    assert not RAW.findall(plain), [line for line in plain.split("\n") if RAW.search(line)]
    assert workflow_commands(plain) == []


# --- the escaping function ------------------------------------------------------------

@pytest.mark.parametrize(("raw", "shown"), [
    ("plain é \u043e 漢 \\.php$ [x]", "plain é \u043e 漢 \\.php$ [x]"),  # nothing to do
    ("\x1b]0;T\x07\x1b[2J", "\\x1b]0;T\\x07\\x1b[2J"),
    ("a\tb\nc\rd\x00", "a\\x09b\\x0ac\\x0dd\\x00"),
    ("\x7f\x85\x9b2J", "\\x7f\\x85\\x9b2J"),
    ("\u202eevil\u2066x\u2069\u061c\u200e\u200f\u202a", "\\u202eevil\\u2066x\\u2069\\u061c"
     "\\u200e\\u200f\\u202a"),
    ("a\u2028b\u2029", "a\\u2028b\\u2029"),
    ("bad\udcff.conf", "bad\\xff.conf"),  # a byte that is not UTF-8, as the byte
    ("::error::x", "\\x3a:error::x"),
    ("  \u00a0::warning::x", "  \u00a0\\x3a:warning::x"),  # the runner trims first
    ("a ::b", "a ::b"),
    ("x ##[error]y", "x ##\\x5berror]y"),
    ("x\n::warning::y", "x\\x0a::warning::y"),
])
def test_visible_forms(raw, shown):
    assert visible(raw) == shown
    assert "".join(s for _, s in pieces(raw)) == shown
    assert [c for c, _ in pieces(raw)] == list(raw)


def test_a_leading_double_colon_is_kept_where_no_line_starts():
    assert visible("::1", line_start=False) == "::1"
    assert visible("::1\x1b", line_start=False) == "::1\\x1b"


@given(st.text())
def test_visible_leaves_nothing_that_acts(text):
    shown = visible(text)
    assert not RAW.search(shown) and "\n" not in shown
    assert workflow_commands(shown) == []
    shown.encode("utf-8")  # surrogates gone: always encodable


def test_github_escapes_data_and_properties():
    assert escape_data("100%\r\nx\x9b\u202e") == "100%25%0D%0Ax\\x9b\\u202e"
    assert escape_property("a:b,c\n") == "a%3Ab%2Cc%0A"
    assert escape_property("::x") == "%3A%3Ax"


def test_fence_only_in_github_actions_and_only_when_needed(monkeypatch):
    risky = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n   ::error::x\n-a\n+b\n"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert fence_commands(risky) == risky
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert fence_commands("--- a/x\n+b\n") == "--- a/x\n+b\n"
    fenced = fence_commands(risky)
    assert workflow_commands(risky) and workflow_commands(fenced) == []
    lines = fenced.split("\n")
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and lines[-2] == f"::{token}::"
    assert "\n".join(lines[1:-2]) + "\n" == risky  # the diff itself: exact
    assert fence_commands(risky) != fenced  # a new token each time


# --- every channel, with hostile names and text ----------------------------------------

HOSTILE_NAMES = [
    "\x1b]0;TITLE\x07\x1b[2J\x1b[31mred.conf",
    "c1\x9b2J.conf",
    "bidi\u202eftc.conf",
    "x\n::warning::newline.conf",
    "::error file=README.md,line=1::lead.conf",
    "  ::notice::spaced.conf",
    "v1 ##[error]old.conf",
]
HOSTILE_TEXT = "\x1b]0;T\x07\x9b2J\u202eevil\u2066 ##[error]v1 %0A\n  ::error::in-text"
SITE = ("server {{\n    listen 80;\n    server_name jupyter;\n    location / {{\n"
        "        proxy_pass http://127.0.0.1:8888;\n"
        "        proxy_set_header Upgrade \"{text}\";\n"
        "        zz\x1b[2J\x9b\u202e##[warning]x on;\n    }}\n}}\n")


@pytest.fixture
def hostile(tmp_path, monkeypatch) -> Path:
    """A folder of files with hostile names holding hostile text; a GitHub Actions run."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.chdir(tmp_path)
    for name in HOSTILE_NAMES:
        (tmp_path / name).write_text(SITE.format(text=HOSTILE_TEXT), encoding="utf-8")
    return tmp_path


def _run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


@pytest.mark.parametrize("style", [["--output-format", "concise"],
                                   ["--output-format", "full"],
                                   ["--output-format", "full", "--color", "always"],
                                   ["--output-format", "concise", "--color", "always",
                                    "--statistics"]])
def test_text_report(hostile, style):
    result = _run("check", "--no-cache", *style, *HOSTILE_NAMES)
    assert result.exit_code == 1, result.output
    assert_shown_safely(result.stdout)
    plain = SGR.sub("", result.stdout)
    for name in HOSTILE_NAMES:
        assert visible(name) in plain
    assert "x\\x0a::warning::newline.conf:" in plain
    assert "\\x3a:error file=README.md,line=1::lead.conf:" in plain
    assert "zz\\x1b[2J\\x9b\\u202e##\\x5bwarning]x" in plain  # the unknown directive
    if "full" in style:  # the source line under the headline
        assert "Upgrade \"\\x1b]0;T\\x07\\x9b2J\\u202eevil\\u2066 ##\\x5berror]v1" in plain


def test_github_format(hostile):
    result = _run("check", "--no-cache", "--format", "github", *HOSTILE_NAMES)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    commands = workflow_commands(result.stdout)
    assert len(commands) == len(lines) > len(HOSTILE_NAMES)  # one per finding, no more
    assert {name for name, _ in commands} <= {"error", "warning", "notice"}
    assert not RAW.search(result.stdout)
    files = {re.match("::[a-z]+ file=([^,]*),", line).group(1) for line in lines}
    # the runner unescapes %3A, %2C, %0A, %25: each annotation names its file
    unescaped = {f.replace("%3A", ":").replace("%2C", ",").replace("%0A", "\n")
                 .replace("%25", "%") for f in files}
    assert unescaped == {visible(n, line_start=False).replace("\\x0a", "\n")
                         for n in HOSTILE_NAMES}


def test_fix_log(hostile):
    result = _run("check", "--no-cache", "--fix", *HOSTILE_NAMES)
    assert "fixed x\\x0a::warning::newline.conf:" in result.stderr
    assert "rewrote \\x1b]0;TITLE\\x07\\x1b[2J\\x1b[31mred.conf\n" in result.stderr
    assert result.stderr.count("\nrewrote ") == len(HOSTILE_NAMES)
    assert_shown_safely(result.stderr)
    assert_shown_safely(result.stdout)


def test_diff_headers_and_body(hostile):
    result = _run("check", "--no-cache", "--diff", *HOSTILE_NAMES)
    assert result.exit_code == 1
    headers = [line for line in result.stdout.split("\n") if line.startswith(("---", "+++"))]
    assert len(headers) == 2 * len(HOSTILE_NAMES)
    assert "--- a/x\\x0a::warning::newline.conf" in headers
    assert "+++ b/bidi\\u202eftc.conf" in headers
    # the lines themselves are the file's exact text (the diff applies), fenced off
    first, second = HOSTILE_TEXT.split("\n")
    assert f'-        proxy_set_header Upgrade "{first}\n-{second}";\n' in result.stdout
    assert "zz\x1b[2J\x9b\u202e##[warning]x on;" in result.stdout
    assert result.stdout.startswith("::stop-commands::")
    assert workflow_commands(result.stdout) == []
    assert_shown_safely(result.stderr)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_error_messages(hostile, name):
    result = _run("check", "--no-cache", f"missing-{name}")
    assert result.exit_code == 2
    assert result.stderr == visible(f"nglint: error: missing-{name}: no such file or directory") \
        + "\n"
    assert_shown_safely(result.stderr)


def test_route_and_apps_text(hostile):
    for name in HOSTILE_NAMES:
        route = _run("route", name, "/", "--host", "jupyter")
        assert route.exit_code == 0, route.output
        assert f"{visible(name, line_start=False)}:1" in route.stdout  # mid-line
        assert "Upgrade" in route.stdout and "\\x1b]0;T\\x07\\x9b2J\\u202eevil" in route.stdout
        assert_shown_safely(route.stdout)
        apps = _run("apps", name)
        assert apps.exit_code == 0, apps.output
        assert f"{visible(name, line_start=False)}:4" in apps.stdout
        assert_shown_safely(apps.stdout)


def test_apps_text_shows_hostile_configuration_text_escaped(hostile):
    (hostile / "apps.conf").write_text(
        "server {\n    listen 80;\n    server_name \"a\u202e##[error]x\";\n"
        "    location \"/\x9b\u2066::x/\" { proxy_pass http://127.0.0.1:8888; }\n}\n",
        encoding="utf-8")
    result = _run("apps", "apps.conf")
    assert result.exit_code == 0, result.output
    assert "server a\\u202e##\\x5berror]x  apps.conf:1" in result.stdout
    assert "location /\\x9b\\u2066::x/  apps.conf:4" in result.stdout
    assert_shown_safely(result.stdout)


def test_route_names_a_file_that_does_not_parse_escaped(hostile):
    name = HOSTILE_NAMES[3]
    (hostile / name).write_text("server {\n", encoding="utf-8")
    result = _run("route", name, "/")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"nglint: error: {visible(name)}:")
    assert_shown_safely(result.stderr)


def test_route_text_escapes_what_the_request_names(hostile):
    result = _run("route", HOSTILE_NAMES[0], "/\x9b::error::uri", "--header",
                  "X-A: ::warning::h ##[error]x")
    assert result.exit_code == 0, result.output
    assert "/\\x9b::error::uri" in result.stdout
    assert "X-A: ::warning::h ##\\x5berror]x" in result.stdout
    assert_shown_safely(result.stdout)


def test_machine_formats_keep_the_exact_data(hostile):
    result = _run("check", "--no-cache", "--format", "json", *HOSTILE_NAMES)
    paths = {f["path"] for f in json.loads(result.stdout)["findings"]}
    assert paths == set(HOSTILE_NAMES)
    messages = " ".join(f["message"] for f in json.loads(result.stdout)["findings"])
    assert "zz\x1b[2J\x9b\u202e##[warning]x" in messages
