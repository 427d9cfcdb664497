"""Readable output: full and concise text, colour controls, the summary, where findings
about present directives point, and suppressions that follow them."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from nglint.cli import main
from nglint.findings import Finding, Related, Severity
from nglint.report import text
from tests.helpers import FIXTURES, findings, write
from tests.test_output import ANSI, ESC, run_piped, run_tty

SEED = FIXTURES / "examples" / "jupyter-seed.conf"

HARD_CODED = """events {}
http {
    server {
        listen 80;
        # nglint: ignore[NG102,NG107] the kernels only, and same-origin
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_http_version 1.0;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade "websocket";
            proxy_set_header Connection $http_connection;
            proxy_set_header Origin "";
            proxy_read_timeout 10s;
        }
    }
}
"""


def finding(**changes: object) -> Finding:
    values: dict = {"code": "NG102", "rule": "websocket-upgrade-header",
                    "severity": Severity.ERROR, "path": "a.conf", "line": 1, "column": 1,
                    "end_line": 1, "end_column": 2, "message": "m"}
    values.update(changes)
    return Finding(**values)


def test_present_directives_are_pointed_at(tmp_path: Path) -> None:
    path = write(tmp_path, HARD_CODED.replace("        # nglint: ignore[NG102,NG107] the "
                                              "kernels only, and same-origin\n", ""))
    got = {f.code: f for f in findings(path, select=("NG101", "NG102", "NG104", "NG107"))}
    lines = {code: f.line for code, f in got.items()}
    # proxy_http_version 1.0 at 7, Upgrade at 9, Origin "" at 11, proxy_read_timeout 10s at 12
    assert lines == {"NG101": 7, "NG102": 9, "NG107": 11, "NG104": 12}
    for found in got.values():
        assert [(r.line, r.role) for r in found.related] == [(5, "location")]
        assert found.related[0].message == "served by `location /`"
        assert found.headline and len(found.headline) < len(found.message)


def test_missing_directives_point_at_the_location() -> None:
    got = {(f.code, f.line) for f in findings(SEED, select=("NG101", "NG102", "NG103"))}
    assert {("NG101", 15), ("NG102", 15), ("NG103", 15)} <= got


def test_a_suppression_above_the_location_still_covers(tmp_path: Path) -> None:
    path = write(tmp_path, HARD_CODED)
    codes = {f.code for f in findings(path, select=("NG102", "NG107", "NG101", "NG009"))}
    assert "NG102" not in codes and "NG107" not in codes
    assert "NG009" not in codes  # the suppression was used
    assert "NG101" in codes  # the control: what it does not name is reported


def test_a_suppression_above_the_directive_covers(tmp_path: Path) -> None:
    text_ = HARD_CODED.replace("        # nglint: ignore[NG102,NG107] the kernels only, "
                               "and same-origin\n", "").replace(
        '            proxy_set_header Origin "";',
        '            # nglint: ignore[NG107] same-origin deployment\n'
        '            proxy_set_header Origin "";')
    path = write(tmp_path, text_)
    codes = {f.code for f in findings(path, select=("NG102", "NG107", "NG009"))}
    assert codes == {"NG102"}


def test_concise_is_one_cut_line() -> None:
    long = finding(path="conf.d/site.conf", line=12, column=5, message="word " * 60)
    line = text.concise(long)
    assert line.startswith("conf.d/site.conf:12:5: NG102 [error] word word")
    assert len(line) <= 120 and line.endswith("word …")
    short = finding(message="long message", headline="short")
    assert text.concise(short) == "a.conf:1:1: NG102 [error] short"


def test_excerpt_handles_tabs_wide_and_control_characters() -> None:
    shown, caret = text.excerpt("\tproxy_set_header X 1;", 2, 18)
    assert shown == "    proxy_set_header X 1;"
    assert caret == "    " + "^" * 16
    shown, caret = text.excerpt('set $a "日本\x1b"; x;', 15, 16)  # x after two wide chars
    assert shown == 'set $a "日本\\x1b"; x;'
    assert caret == " " * (shown.index("x;") + 2) + "^"  # each wide char is two columns
    assert ESC not in shown


def test_full_output_shows_source_caret_and_notes(tmp_path: Path) -> None:
    proc = run_piped("check", "--output-format", "full", "--select", "NG102", str(SEED),
                     cwd=tmp_path)
    out = proc.stdout
    assert f"{SEED}:25:13: NG102 [warning] Upgrade is hard-coded to 'websocket'\n" in out
    assert '  25 |             proxy_set_header Upgrade "websocket";\n' in out
    assert "     |             ^^^^" in out
    assert f"  = served by `location ~ /api/kernels/`: {SEED}:21:9\n" in out
    assert "  = fix: forward Upgrade (strict style) (nglint check --fix)\n" in out
    assert "  = affects the Jupyter" in out  # the missing-Upgrade error's endpoint note


def test_concise_is_the_default_in_a_pipe_and_full_on_a_terminal(tmp_path: Path) -> None:
    piped = run_piped("check", "--select", "NG102", str(SEED), cwd=tmp_path).stdout
    assert " | " not in piped
    assert all(len(line) <= 120 for line in piped.splitlines()[:-1])
    status, output = run_tty("check", "--select", "NG102", str(SEED), cwd=tmp_path,
                             NO_COLOR="1")
    assert status == 1 and '  25 |             proxy_set_header Upgrade "websocket";' in output


def test_colour_controls(tmp_path: Path) -> None:
    args = ("check", "--select", "NG102", str(SEED))
    assert ANSI.search(run_piped(*args, cwd=tmp_path, FORCE_COLOR="1").stdout)
    assert ESC not in run_piped(*args, cwd=tmp_path, FORCE_COLOR="").stdout  # empty: unset
    assert ESC not in run_piped(*args, cwd=tmp_path, FORCE_COLOR="1", NO_COLOR="1").stdout
    assert ANSI.search(run_piped(*args, "--color", "always", cwd=tmp_path,
                                 NO_COLOR="1").stdout)
    _, output = run_tty(*args, "--color", "never", cwd=tmp_path)
    assert ESC not in output
    report = tmp_path / "report.txt"
    run_piped(*args, "--output", str(report), cwd=tmp_path, FORCE_COLOR="1")
    assert ESC not in report.read_text(encoding="utf-8")  # FORCE_COLOR is for the stream


def test_summary_counts_files_with_findings_and_checked(tmp_path: Path) -> None:
    one = [finding(severity=Severity.ERROR)]
    assert text.summary(one, 3) == "Found 1 problem in 1 file (3 files checked): 1 error"
    two = [finding(), finding(path="b.conf", severity=Severity.WARNING, fixable=True),
           finding(path="b.conf", severity=Severity.INFO, line=2)]
    assert text.summary(two, 2) == ("Found 3 problems in 2 files (2 files checked): 1 error, "
                                    "1 warning, 1 info; 1 fixable with --fix")
    assert text.summary([], 1) == "No problems found (1 file checked)."
    out = io.StringIO()
    text.render(one, 3, out, style="concise")
    assert out.getvalue().endswith("(3 files checked): 1 error\n")


def test_json_keeps_its_contract_and_adds_parts() -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", "--no-cache", str(SEED)])
    document = json.loads(result.stdout)
    assert document["summary"]["files"] == 1 and document["summary"]["files_with_findings"] == 1
    ng101 = next(f for f in document["findings"] if f["code"] == "NG101")
    assert ng101["message"].startswith("proxy_http_version is 1.0 here (the nginx default): "
                                       "websockets need HTTP/1.1; the Jupyter")
    assert ng101["headline"] == "proxy_http_version is 1.0 here: websockets need HTTP/1.1"


def test_cached_findings_keep_their_parts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = write(tmp_path / "tree", SEED.read_text(encoding="utf-8"))
    runs = [CliRunner().invoke(main, ["check", "--output-format", "full", str(conf)]).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and "  = served by `location ~ /api/kernels/`" in runs[1]
    assert Related(**Related("a", 1, 2, "m").as_dict()) == Related("a", 1, 2, "m")
