"""Target nginx versions as a range: parsing, the default, and findings judged across it."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import pytest
from click.testing import CliRunner

from nglint.cli import main
from nglint.engine import Options
from nglint.semantics.inherit import Model
from nglint.tree import Tree
from nglint.versions import (
    DEFAULT_RANGE,
    NEWEST_KNOWN,
    SERIES_END,
    Tracked,
    VersionRange,
    describe,
)
from tests.helpers import findings, load, write

DASH = "\u2013"


@pytest.mark.parametrize(("text", "low", "high"), [
    ("1.22", (1, 22, 0), (1, 22, 0)),  # one version, X.Y is X.Y.0 as before
    ("1.22.1", (1, 22, 1), (1, 22, 1)),
    ("1.18-1.30", (1, 18, 0), (1, 30, SERIES_END)),  # X.Y as an upper bound: its series
    ("1.18-1.29.6", (1, 18, 0), (1, 29, 6)),
    (" 1.18 \u2013 1.30 ", (1, 18, 0), (1, 30, SERIES_END)),  # an en dash, spaces
    ("1.25.1-", (1, 25, 1), NEWEST_KNOWN),
    ("-1.24", (1, 18, 0), (1, 24, SERIES_END)),
    ("1.40-", (1, 40, 0), (1, 40, 0)),  # newer than nglint knows: that version alone
])
def test_ranges_parse(text: str, low: tuple[int, int, int], high: tuple[int, int, int]) -> None:
    assert VersionRange.parse(text) == VersionRange(low, high)


@pytest.mark.parametrize(("text", "message"), [
    ("1", "invalid nginx version '1': expected X.Y or X.Y.Z, or a range"),
    ("1.x", "invalid nginx version '1.x'"),
    ("1.2.3.4", "invalid nginx version '1.2.3.4'"),
    ("1.\u00b2", "invalid nginx version"),  # digits that are not ASCII
    ("-", "invalid nginx version range '-'"),
    ("1.30-1.18", "invalid nginx version range '1.30-1.18': 1.30 is newer than 1.18"),
    ("1.18-1.20-1.22", "invalid nginx version '1.20-1.22'"),
])
def test_bad_ranges_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=None) as error:
        VersionRange.parse(text)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_bad_range_on_the_command_line_exits_2(tmp_path: Path) -> None:
    conf = write(tmp_path, "events {}\n")
    result = CliRunner().invoke(main, ["check", "--nginx-version", "1.30-1.18", str(conf)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "nglint: error: invalid nginx version range '1.30-1.18': 1.30 is newer than 1.18"]


def test_the_default_is_ubuntu_22_04_to_the_newest_release() -> None:
    assert VersionRange((1, 18, 0), (1, 31, 4)) == DEFAULT_RANGE
    assert str(DEFAULT_RANGE) == f"nginx 1.18{DASH}1.31.4"
    assert Options().nginx_version == DEFAULT_RANGE
    # the default's sources are written where --help and `nglint explain versions` say
    explained = CliRunner().invoke(main, ["explain", "versions"]).stdout
    assert "Ubuntu 22.04" in explained and "release-1.31.4" in explained
    assert f"1.18{DASH}1.31.4" in CliRunner().invoke(main, ["check", "--help"]).stdout


def test_split_where_and_display() -> None:
    target = VersionRange.parse("1.18-1.30")
    parts = target.split([(1, 29, 7), (1, 25, 1), (1, 12, 0), (1, 40, 0)])
    assert [part.text for part in parts] == [f"1.18{DASH}1.25.0", f"1.25.1{DASH}1.29.6",
                                             f"1.29.7{DASH}1.30"]
    newer = target.where(lambda v: v >= (1, 25, 1), [(1, 25, 1), (1, 29, 7)])
    assert newer == [VersionRange((1, 25, 1), (1, 30, SERIES_END))]  # adjacent ones joined
    assert describe([parts[0], parts[2]]) == f"nginx 1.18{DASH}1.25.0 and 1.29.7{DASH}1.30"
    assert (1, 22, 1) in target and (1, 31, 0) not in target


def test_a_tracked_version_notes_what_it_is_compared_with() -> None:
    consulted: set[tuple[int, int, int]] = set()
    version = Tracked((1, 22, 1), consulted)
    assert version >= (1, 22, 0) and version < (1, 29, 7) and version > (1, 20, 1)
    assert consulted == {(1, 22, 0), (1, 29, 7), (1, 20, 2)}
    assert version == (1, 22, 1) and hash(version) == hash((1, 22, 1))


@pytest.mark.parametrize("other", [(1, 22), (1, 21), (1, 22, 0), (1, 22, 1), (1, 23), (1,)])
def test_a_tracked_version_notes_where_the_comparison_changes(other: tuple[int, ...]) -> None:
    """Each noted version is the first at which the comparison's answer differs from
    the version just before it, for short tuples too (``(1, 22, 0) > (1, 22)``)."""
    for compare in (operator.ge, operator.lt, operator.gt, operator.le):
        consulted: set[tuple[int, int, int]] = set()
        compare(Tracked((1, 22, 1), consulted), other)
        (boundary,) = consulted
        major, minor, patch = boundary
        before = ((major, minor, patch - 1) if patch else (major, minor - 1, 999) if minor
                  else (major - 1, 999, 999))
        assert compare(boundary, other) != compare(before, other), (compare, other, boundary)


def _messages(path: Path, target: str | None = None, code: str = "") -> list[tuple[str, str]]:
    options = Options(nginx_version=VersionRange.parse(target)) if target else Options()
    return [(f.severity.name.lower(), f.message) for f in findings(path, options=options)
            if not code or f.code == code]


def test_a_directive_unknown_to_part_of_the_range_is_a_warning(tmp_path: Path) -> None:
    conf = write(tmp_path, "events {}\nhttp {\n    server {\n        listen 443 ssl;\n"
                 "        http2 on;\n    }\n}\n")
    assert _messages(conf, code="NG006") == [("warning", (
        f'on nginx 1.18{DASH}1.25.0: "http2" appeared in nginx 1.25.1: nginx 1.18{DASH}1.25.0 '
        f"refuses it as an unknown directive (the target is nginx 1.18{DASH}1.31.4)"))]
    assert _messages(conf, "1.18-1.24", "NG006") == [("error", (
        f'"http2" appeared in nginx 1.25.1 (the target is nginx 1.18{DASH}1.24): nginx '
        f"1.18{DASH}1.24 refuses it as an unknown directive"))]
    assert _messages(conf, "1.25.1-", "NG006") == []


def test_a_directive_removed_in_part_of_the_range_is_a_warning(tmp_path: Path) -> None:
    conf = write(tmp_path, "events {}\nhttp {\n    server {\n        listen 443;\n"
                 "        ssl on;\n    }\n}\n")
    [(severity, message)] = _messages(conf, code="NG010")
    assert severity == "warning"
    assert message.startswith('"ssl" is deprecated since nginx 1.15.0')
    assert message.endswith(f"nginx 1.18{DASH}1.25.0 warns, and nginx 1.25.1{DASH}1.31.4 "
                            "refuses it (removed in 1.25.1)")
    [(severity, message)] = _messages(conf, "1.26-1.30", "NG010")
    assert severity == "error" and f"nginx 1.26{DASH}1.30 refuses it" in message
    [(severity, message)] = _messages(conf, "1.22.1", "NG010")
    assert severity == "warning" and "refuses" not in message


CASE = """\
events {}
pid logs/nginx.pid;
http {
    server {
        listen 443 ssl http2;
        server_name www.example.org;
        ssl_certificate hub.crt;
        ssl_certificate_key hub.key;
        root /var/www/html;
    }
}
"""


def _case(tmp_path: Path) -> Path:
    """Debian 12's nginx 1.22 and `listen ... http2` (the shared case
    fix/default-target-vs-installed-nginx, rebuilt here)."""
    conf = write(tmp_path, CASE)
    write(tmp_path, "", "hub.crt")
    write(tmp_path, "", "hub.key")
    return conf


def _check(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)["findings"] if result.stdout else []


def test_default_target_does_not_write_http2_for_nginx_1_22(tmp_path: Path) -> None:
    conf = _case(tmp_path)
    status, found = _check(str(conf))
    assert status == 0
    [finding] = found
    assert (finding["code"], finding["severity"]) == ("NG010", "warning")
    assert finding["message"] == (
        f'on nginx 1.25.1{DASH}1.31.4: the "listen ... http2" parameter is deprecated since '
        'nginx 1.25.1: use the "http2 on;" directive (not fixed automatically: "http2" '
        "needs nginx \u2265 1.25.1; the target range starts at 1.18)")
    fixed = CliRunner().invoke(main, ["check", "--no-cache", "--fix", "--unsafe-fixes",
                                      str(conf)])
    assert fixed.exit_code == 0 and conf.read_text() == CASE  # nginx 1.22 still reads it
    # a target that starts at 1.25.1 takes the fix
    CliRunner().invoke(main, ["check", "--no-cache", "--fix", "--unsafe-fixes",
                              "--nginx-version", "1.25.1-", str(conf)])
    assert "        listen 443 ssl;\n        http2 on;\n" in conf.read_text()
    # and the default target then says that nginx before 1.25.1 refuses it
    status, found = _check(str(conf))
    assert status == 0 and [f["message"].split(":")[0] for f in found] == [
        f"on nginx 1.18{DASH}1.25.0"]


def test_model_findings_name_the_versions_of_the_default(tmp_path: Path) -> None:
    conf = write(tmp_path, """\
events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1d;
        }
    }
}
""")
    options = {"1.18-1.31.4": [("error", f"on nginx 1.18{DASH}1.29.6: proxy_http_version is "
                                         "1.0 here (the nginx default)")],
               "1.29.7-": [], "1.22.1": [("error", "proxy_http_version is 1.0 here (the "
                                          "nginx default)")]}
    for target, expected in options.items():
        found = [(f.severity.name.lower(), f.message.split(": websockets")[0])
                 for f in findings(conf, options=Options(
                     nginx_version=VersionRange.parse(target))) if f.code == "NG101"]
        assert found == expected, target


def _tree(tmp_path: Path, text: str) -> Tree:
    [tree] = load(write(tmp_path, text))
    return tree


def test_upstream_keepalive_is_on_by_default_from_1_29_7(tmp_path: Path) -> None:
    tree = _tree(tmp_path, "events {}\nhttp {\n    upstream a { server 127.0.0.1:1; }\n"
                 "    upstream b { server 127.0.0.1:2; keepalive 0; }\n}\n")
    a, b = tree.blocks("upstream")
    assert Model((1, 29, 6)).upstream_keepalive(a).args == ("0",)
    assert Model((1, 29, 7)).upstream_keepalive(a).args == ("32", "local")
    assert Model((1, 30, 0)).upstream_keepalive(a).is_default
    assert Model((1, 30, 0)).upstream_keepalive(b).args == ("0",)
    consulted: set[tuple[int, int, int]] = set()
    Model(Tracked((1, 18, 0), consulted)).upstream_keepalive(a)
    assert consulted == {(1, 29, 7)}  # judged across a range: it splits there


def test_route_shows_the_upstream_keepalive_of_its_version(tmp_path: Path) -> None:
    conf = write(tmp_path, "events {}\nhttp {\n    upstream hub { server 127.0.0.1:8000; }\n"
                 "    server {\n        listen 80;\n        location / { proxy_pass http://hub; }\n"
                 "        location /x { proxy_pass http://127.0.0.1:9000; }\n    }\n}\n")

    def keepalive(uri: str, target: str) -> object:
        result = CliRunner().invoke(main, ["route", str(conf), uri, "--format", "json",
                                           "--nginx-version", target])
        return json.loads(result.stdout)[0]["upstream"]["keepalive"]

    assert keepalive("/", "1.22") == {"value": "0", "file": None, "line": None}
    assert keepalive("/", "1.30") == {"value": "32 local", "file": None, "line": None}
    assert keepalive("/x", "1.30") is None  # an address, not an upstream{} block


def test_wordings_that_differ_by_version_are_one_finding(tmp_path: Path) -> None:
    conf = write(tmp_path, """\
events {}
http {
    server {
        listen 80;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_read_timeout 1d;
        }
    }
}
""")
    [finding] = [f for f in findings(conf) if f.code == "NG103"]
    assert finding.message.startswith(f"on nginx 1.18{DASH}1.29.6: Connection is not forwarded "
                                      "as upgrade here (nginx sends 'close'")
    assert f"; on nginx 1.29.7{DASH}1.31.4: Connection is not forwarded as upgrade here " \
           "(nginx sends nothing" in finding.message
    assert finding.headline == "Connection is not forwarded as upgrade here"  # every version
    assert f"on nginx 1.29.7{DASH}1.31.4: nginx sends nothing (nginx default)" in finding.notes
    [single] = [f for f in findings(conf, options=Options(nginx_version=(1, 22, 1)))
                if f.code == "NG103"]
    assert single.message.startswith("Connection is not forwarded as upgrade here (nginx "
                                      "sends 'close'")


def test_a_listen_parameter_newer_than_part_of_the_range_is_a_warning(tmp_path: Path) -> None:
    conf = write(tmp_path, "events {}\nhttp {\n    server {\n        listen 443 quic;\n"
                 "        listen 8443 multipath;\n    }\n}\n")
    assert _messages(conf, code="NG008") == [
        ("warning", f'on nginx 1.18{DASH}1.24: the "quic" parameter of "listen" appeared in '
                    f"nginx 1.25.0 (the target is nginx 1.18{DASH}1.31.4): nginx 1.18{DASH}1.24 "
                    "refuses it"),
        ("warning", f'on nginx 1.18{DASH}1.29.6: the "multipath" parameter of "listen" '
                    f"appeared in nginx 1.29.7 (the target is nginx 1.18{DASH}1.31.4): nginx "
                    f"1.18{DASH}1.29.6 refuses it")]
    assert [severity for severity, _ in _messages(conf, "1.22.1", "NG008")] == ["error", "error"]
    assert _messages(conf, "1.29.7-", "NG008") == []


def test_the_default_range_reaches_every_change_nglint_knows() -> None:
    """The newest release nglint knows is at least the newest fact of its model and of
    its directive table: a later fact would be judged outside the default target."""
    from nglint import directives
    from nglint.semantics.inherit import MODEL_CHANGES

    table = [c for found in directives.table().values() for v in found for c in v.changes]
    assert max([*MODEL_CHANGES, *table]) <= NEWEST_KNOWN == DEFAULT_RANGE.high


def test_a_fix_is_valid_only_if_every_version_has_what_it_writes() -> None:
    from nglint import directives
    from nglint.edits import Edit, Fix

    def written(text: str) -> Fix:
        return Fix("test", (Edit("nginx.conf", 0, 0, text),))

    http2 = written("\n        http2 on;")
    assert directives.unavailable(http2, DEFAULT_RANGE) == (
        '"http2" needs nginx \u2265 1.25.1; the target range starts at 1.18')
    assert directives.unavailable(http2, VersionRange.parse("1.25.1-")) == ""
    assert directives.unavailable(written("ssl on;"), DEFAULT_RANGE) == (
        f'"ssl" is unknown to nginx 1.25.1{DASH}1.31.4, which the target includes')
    # arguments are not statements: only what starts the text or follows ; { }
    assert directives.unavailable(written("443 ssl http2"), VersionRange.parse("1.22")) == ""
    assert directives.unavailable(written("proxy_http_version 1.1;"), DEFAULT_RANGE) == ""
