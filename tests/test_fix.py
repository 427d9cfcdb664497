"""``nglint check --fix`` and ``--diff``: expected outputs, minimal edits, safe writes.

Every firing fixture under ``fixtures/rules/<rule>/`` (and the seed example) is fixed
in a temporary copy and compared byte for byte with ``<name>.fixed.conf`` next to it
(no such file: fixing changes nothing).  The fixers' edits are checked on the awkward
inputs one by one (tabs, CRLF, one-line blocks, inline comments, invalid UTF-8, symlinks,
modes, includes), and so are the writes (atomic, never on a file that does not parse).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import Result

from nglint import registry
from nglint.engine import Options
from nglint.errors import NglintError
from nglint.transaction import Change, commit
from tests.fix_helpers import (
    SEED,
    UNSAFE_FOLDERS,
    cli,
    copy_fixture,
    expected_path,
    firing_fixtures,
    fix_args,
    fix_paths,
)
from tests.helpers import FIXTURES

CASES = firing_fixtures()


@pytest.fixture(autouse=True)
def _classic_idiom(request, monkeypatch) -> None:
    """The byte-for-byte tests of this file pin the classic upgrade idiom: they test
    the edits' mechanics (indentation, newlines, includes), and its short map keeps
    them readable.  The fixture files (``*.fixed.conf``) are written in the default
    style; tests/test_fix_right.py and the e2e suite test both styles."""
    if request.node.originalname not in ("test_fix_gives_the_expected_file",
                                         "test_diff_shows_the_fix_and_writes_nothing",
                                         "test_every_fixable_rule_fixture_has_its_fixed_output",
                                         "test_unsafe_fixes_need_the_flag",
                                         # these compare with the seed's fixed file
                                         "test_symlink_given_on_the_command_line",
                                         "test_mode_and_owner_are_kept",
                                         "test_fix_reports_the_findings_it_fixed"):
        monkeypatch.setattr("nglint.upgrade.DEFAULT_STYLE", "classic")


def map_block(indent: str = "    ", unit: str = "    ", nl: str = "\n") -> str:
    """The map the fixer adds, as lines at ``indent``."""
    return (f"{indent}map $http_upgrade $connection_upgrade {{{nl}"
            f"{indent}{unit}default upgrade;{nl}{indent}{unit}''      close;{nl}{indent}}}{nl}")


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


def _show(before: bytes, after: bytes) -> str:
    return "".join(difflib.unified_diff(
        before.decode("utf-8", "replace").splitlines(keepends=True),
        after.decode("utf-8", "replace").splitlines(keepends=True), "expected", "got"))


def findings_of(path: Path | str, *args: str) -> tuple[int, list[dict]]:
    result = cli("check", "--format", "json", *args, str(path))
    return result.exit_code, json.loads(result.stdout)["findings"]


def fix(path: Path | str, *args: str) -> Result:
    # full: the whole message of each finding, and its notes (why a fix was not made)
    result = cli("check", "--fix", "--output-format", "full", *args, str(path))
    assert "Traceback" not in result.output
    return result


def assert_fixed_point(*paths: Path | str, args: tuple[str, ...] = ()) -> None:
    """A second fix has nothing left to do: --diff prints nothing and exits 0."""
    for path in paths:
        again = cli("check", "--diff", *args, str(path))
        assert again.stdout == "" and again.exit_code == 0, again.stdout


# --- every fixture: the expected output, byte for byte -------------------------------------


@pytest.mark.parametrize("fixture", CASES, ids=_id)
def test_fix_gives_the_expected_file(fixture: Path, tmp_path: Path) -> None:
    copy = copy_fixture(fixture, tmp_path)
    result = fix(copy, *fix_args(fixture))
    expected = expected_path(fixture)
    want = expected.read_bytes() if expected.exists() else fixture.read_bytes()
    got = copy.read_bytes()
    assert got == want, _show(want, got)
    if got != fixture.read_bytes():
        assert str(copy) in result.stderr  # the files changed are named

    # the exit status is what a plain check of the fixed file says
    status, remaining = findings_of(copy)
    assert result.exit_code == status
    assert status == (1 if any(f["severity"] == "error" for f in remaining) else 0)
    # nothing fixable is left, and a second --fix changes nothing
    assert [f for f in remaining if f["fixable"]] == []
    second = fix(copy, *fix_args(fixture))
    assert copy.read_bytes() == want
    assert "fixed " not in second.stderr
    assert second.exit_code == result.exit_code
    assert sorted(p.name for p in tmp_path.iterdir()) == [fixture.name]  # no temp file left


@pytest.mark.parametrize("fixture", CASES, ids=_id)
def test_diff_shows_the_fix_and_writes_nothing(fixture: Path, tmp_path: Path) -> None:
    copy = copy_fixture(fixture, tmp_path)
    before = copy.read_bytes()
    mtime = copy.stat().st_mtime_ns
    result = cli("check", "--diff", *fix_args(fixture), str(copy))
    assert copy.read_bytes() == before and copy.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == [fixture.name]
    expected = expected_path(fixture)
    if not expected.exists():
        assert (result.exit_code, result.stdout) == (0, "")
        return
    assert result.exit_code == 1
    name = str(copy).lstrip("/")
    assert result.stdout.startswith(f"--- a/{name}\n+++ b/{name}\n")
    # the diff is a real patch: patch(1) turns the input into the expected file
    if shutil.which("patch"):
        (tmp_path / "fix.diff").write_text(result.stdout, newline="")
        out = tmp_path / "patched.conf"
        subprocess.run(["patch", "-s", "-o", str(out), str(copy), str(tmp_path / "fix.diff")],
                       check=True, capture_output=True)
        assert out.read_bytes() == expected.read_bytes()


def test_every_fixable_rule_fixture_has_its_fixed_output() -> None:
    """A firing fixture of a fixable rule has a .fixed.conf where that rule is gone, or
    is a case the rule does not fix (none of its findings there is fixable)."""
    fixable = {rule.name: rule.code for rule in registry.all_rules() if rule.fixable}
    for fixture in CASES:
        folder = fixture.parent.name
        if folder not in fixable:
            continue
        expected = expected_path(fixture)
        if not expected.exists():
            _, found = findings_of(fixture, *fix_args(fixture))
            own = [f for f in found if f["code"] == fixable[folder]]
            assert own and not any(f["fixable"] for f in own), \
                f"{_id(fixture)}: fixable, but no {expected.name}"
            continue
        _, remaining = findings_of(expected, *fix_args(fixture))
        assert [f["code"] for f in remaining if f["code"] == fixable[folder]] == [], folder
        assert [f for f in remaining if f["fixable"] or f["code"] == "NG001"] == []


def test_no_stale_fixed_files() -> None:
    for expected in FIXTURES.rglob("*.fixed.conf"):
        source = expected.with_name(expected.name.replace(".fixed.conf", ".conf"))
        assert source.exists(), f"{expected} has no input {source.name}"
        assert source in CASES, f"{expected}: its input is not a firing fixture"


# --- minimal edits, byte for byte ----------------------------------------------------------


def test_tabs_keep_tabs(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_bytes(b"events {}\nhttp {\n\tserver {\n\t\tlisten 80;\n\t\tlocation / {\n"
                     b"\t\t\tproxy_pass http://127.0.0.1:8888;\n\t\t}\n\t}\n}\n")
    assert fix(path).exit_code == 0
    assert path.read_bytes() == (
        "events {}\nhttp {\n" + map_block("\t", "\t") +
        "\tserver {\n\t\tlisten 80;\n\t\tlocation / {\n"
        "\t\t\tproxy_pass http://127.0.0.1:8888;\n"
        "\t\t\tproxy_http_version 1.1;\n"
        "\t\t\tproxy_set_header Upgrade $http_upgrade;\n"
        "\t\t\tproxy_set_header Connection $connection_upgrade;\n"
        "\t\t\tproxy_set_header Host $host;\n"
        "\t\t\tproxy_read_timeout 1d;\n"
        "\t\t}\n\t}\n}\n").encode()
    assert_fixed_point(path)


def test_crlf_and_two_space_indentation_kept(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_bytes(b"events {}\r\nhttp {\r\n  server {\r\n    listen 80;\r\n"
                     b"    location / {\r\n      proxy_pass http://127.0.0.1:8888;\r\n"
                     b"      proxy_set_header Host $http_host;\r\n    }\r\n  }\r\n}\r\n")
    assert fix(path).exit_code == 0
    assert path.read_bytes() == (
        b"events {}\r\nhttp {\r\n"
        b"  map $http_upgrade $connection_upgrade {\r\n    default upgrade;\r\n"
        b"    ''      close;\r\n  }\r\n"
        b"  server {\r\n    listen 80;\r\n    location / {\r\n"
        b"      proxy_pass http://127.0.0.1:8888;\r\n"
        b"      proxy_http_version 1.1;\r\n"
        b"      proxy_set_header Host $http_host;\r\n"
        b"      proxy_set_header Upgrade $http_upgrade;\r\n"
        b"      proxy_set_header Connection $connection_upgrade;\r\n"
        b"      proxy_read_timeout 1d;\r\n"
        b"    }\r\n  }\r\n}\r\n")
    assert_fixed_point(path)


def test_one_line_blocks_stay_on_their_line(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_bytes(b"events {}\r\nhttp {\r\n\tserver {\r\n\t\tlisten 80;\r\n"
                     b"\t\tlocation / { proxy_pass http://127.0.0.1:8888; } # notebook\r\n"
                     b"\t}\r\n}\r\n")
    assert fix(path).exit_code == 0
    assert path.read_bytes() == (
        b"events {}\r\nhttp {\r\n"
        b"\tmap $http_upgrade $connection_upgrade {\r\n\t\tdefault upgrade;\r\n"
        b"\t\t''      close;\r\n\t}\r\n"
        b"\tserver {\r\n\t\tlisten 80;\r\n"
        b"\t\tlocation / { proxy_pass http://127.0.0.1:8888; proxy_http_version 1.1; "
        b"proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "
        b"$connection_upgrade; proxy_set_header Host $host; proxy_read_timeout 1d; }"
        b" # notebook\r\n\t}\r\n}\r\n")
    assert_fixed_point(path)


def test_whole_configuration_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_bytes(b"events {} http { server { listen 80; "
                     b"location / { proxy_pass http://127.0.0.1:8888; } } }\n")
    assert fix(path).exit_code == 0
    assert path.read_bytes() == (
        b"events {} http { map $http_upgrade $connection_upgrade { default upgrade; '' close; }"
        b" server { listen 80; location / { proxy_pass http://127.0.0.1:8888; "
        b"proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header "
        b"Connection $connection_upgrade; proxy_set_header Host $host; "
        b"proxy_read_timeout 1d; } } }\n")
    assert_fixed_point(path)


def test_inline_comments_stay_with_their_directive(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp {  # main\n    server {\n        listen 80;\n"
                    "        location / {\n"
                    "            proxy_pass http://127.0.0.1:8888;  # the notebook\n"
                    "            proxy_set_header Host $http_host; # keep the port\n"
                    "        }\n    }\n}\n")
    assert fix(path).exit_code == 0
    assert path.read_text() == (
        "events {}\nhttp {  # main\n" + map_block() +
        "    server {\n        listen 80;\n        location / {\n"
        "            proxy_pass http://127.0.0.1:8888;  # the notebook\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Host $http_host; # keep the port\n"
        "            proxy_set_header Upgrade $http_upgrade;\n"
        "            proxy_set_header Connection $connection_upgrade;\n"
        "            proxy_read_timeout 1d;\n"
        "        }\n    }\n}\n")
    assert_fixed_point(path)


def test_invalid_utf8_elsewhere_survives(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = (b"events {}\nhttp {\n    map $http_upgrade $connection_upgrade "
                b"{ default upgrade; '' close; }\n    # caf\xe9 \xff\xfe \xc3\n    server {\n"
                b"        listen 80;\n        location / {\n"
                b"            proxy_pass http://127.0.0.1:8888; # na\xefve\n"
                b"            proxy_http_version 1.1;\n"
                b"            proxy_set_header Host $http_host;\n        }\n    }\n}\n")
    path.write_bytes(original)
    assert fix(path).exit_code == 0
    assert path.read_bytes() == original.replace(
        b"$http_host;\n", b"$http_host;\n"
        b"            proxy_set_header Upgrade $http_upgrade;\n"
        b"            proxy_set_header Connection $connection_upgrade;\n"
        b"            proxy_read_timeout 1d;\n")
    assert_fixed_point(path)


def test_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    map $http_upgrade $connection_upgrade { default upgrade;"
                " '' close; }\n    server {\n        listen 80;\n        location / {\n"
                "            proxy_pass http://127.0.0.1:8888;\n"
                "            proxy_set_header Host $http_host;\n"
                "            proxy_set_header Upgrade $http_upgrade;\n"
                "            proxy_set_header Connection $connection_upgrade;\n"
                "            proxy_read_timeout 30s;\n        }\n    }\n}")
    path.write_text(original)
    assert fix(path).exit_code == 0
    assert path.read_text() == original.replace(
        "8888;\n", "8888;\n            proxy_http_version 1.1;\n").replace("30s", "1d")
    assert_fixed_point(path)


SITE = """\
server {
    listen 8443 ssl;
    ssl_certificate /etc/ssl/jupyter.pem;
    ssl_certificate_key /etc/ssl/jupyter.key;
    location /jupyter/ {
        proxy_pass http://127.0.0.1:8888;
        proxy_set_header Host $host;
    }
}
"""
SITE_FIXED = """\
server {
    listen 8443 ssl;
    ssl_certificate /etc/ssl/jupyter.pem;
    ssl_certificate_key /etc/ssl/jupyter.key;
    location /jupyter/ {
        proxy_pass http://127.0.0.1:8888;
        proxy_http_version 1.1;
        proxy_set_header Host $host:$server_port;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1d;
    }
}
"""
MAIN = "events {}\nhttp {\n    include conf.d/*.conf;\n}\n"
MAIN_FIXED = "events {}\nhttp {\n" + map_block() + "    include conf.d/*.conf;\n}\n"


def test_symlinked_file_is_edited_at_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "jupyter.conf"
    target.write_text(SITE)
    (tmp_path / "conf.d").mkdir()
    link = tmp_path / "conf.d" / "jupyter.conf"
    link.symlink_to(target)
    main = tmp_path / "nginx.conf"
    main.write_text(MAIN)
    result = fix(main)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == SITE_FIXED
    assert main.read_text() == MAIN_FIXED
    assert sorted(p.name for p in (tmp_path / "conf.d").iterdir()) == ["jupyter.conf"]
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["jupyter.conf"]
    assert_fixed_point(main)


def test_symlink_given_on_the_command_line(tmp_path: Path) -> None:
    target = tmp_path / "seed.conf"
    shutil.copyfile(SEED, target)
    link = tmp_path / "link.conf"
    link.symlink_to(target.name)
    assert fix(link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == "seed.conf"
    assert target.read_bytes() == expected_path(SEED).read_bytes()


def test_mode_and_owner_are_kept(tmp_path: Path) -> None:
    path = copy_fixture(SEED, tmp_path)
    path.chmod(0o640)
    owner = (path.stat().st_uid, path.stat().st_gid)
    if os.geteuid() == 0:
        os.chown(path, 4321, 4322)
        owner = (4321, 4322)
    assert fix(path).exit_code == 0
    assert path.read_bytes() == expected_path(SEED).read_bytes()
    status = path.stat()
    assert stat.S_IMODE(status.st_mode) == 0o640
    assert (status.st_uid, status.st_gid) == owner


def test_included_snippet_is_edited_where_the_location_is(tmp_path: Path) -> None:
    main = tmp_path / "nginx.conf"
    main.write_text(MAIN)
    (tmp_path / "conf.d").mkdir()
    site = tmp_path / "conf.d" / "jupyter.conf"
    site.write_text(SITE)
    diff = cli("check", "--diff", str(main))
    assert diff.exit_code == 1
    assert f"+++ b/{str(main).lstrip('/')}" in diff.stdout  # included files too
    assert f"+++ b/{str(site).lstrip('/')}" in diff.stdout
    assert main.read_text() == MAIN and site.read_text() == SITE
    result = fix(main)
    assert main.read_text() == MAIN_FIXED
    assert site.read_text() == SITE_FIXED
    assert str(main) in result.stderr and str(site) in result.stderr
    assert_fixed_point(main)


def test_sites_fragment_gets_the_map_at_its_top(tmp_path: Path) -> None:
    """A server fragment read in http context: the map goes above it, in its paragraph."""
    site = tmp_path / "sites-enabled" / "jupyter"
    site.parent.mkdir()
    site.write_text("# managed by hand\n\n# the notebook server\n" + SITE)
    assert fix(site).exit_code == 0
    assert site.read_text() == ("# managed by hand\n\n" + map_block("", "    ")
                                + "\n# the notebook server\n" + SITE_FIXED)
    assert_fixed_point(site)


def test_file_included_from_two_servers_is_edited_once(tmp_path: Path) -> None:
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp {\n    map $http_upgrade $connection_upgrade {\n"
                    "        default upgrade;\n        ''      close;\n    }\n"
                    "    server {\n        listen 80;\n        include jupyter-location.conf;\n"
                    "    }\n    server {\n        listen 127.0.0.1:81;\n"
                    "        include jupyter-location.conf;\n    }\n}\n")
    snippet = tmp_path / "jupyter-location.conf"
    snippet.write_text("location / {\n    proxy_pass http://127.0.0.1:8888;\n}\n")
    before = main.read_bytes()
    assert fix(main).exit_code == 0
    assert main.read_bytes() == before
    assert snippet.read_text() == (
        "location / {\n    proxy_pass http://127.0.0.1:8888;\n    proxy_http_version 1.1;\n"
        "    proxy_set_header Upgrade $http_upgrade;\n"
        "    proxy_set_header Connection $connection_upgrade;\n"
        "    proxy_set_header Host $http_host;\n    proxy_read_timeout 1d;\n}\n")
    assert_fixed_point(main)


# --- what is never edited ------------------------------------------------------------------


def test_file_with_a_syntax_error_is_never_edited(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    server {\n        listen 80;\n        location / {\n"
                "            proxy_pass http://127.0.0.1:8888\n        }\n    }\n}\n")
    path.write_text(original)
    for args in ((), ("--unsafe-fixes",)):
        result = fix(path, *args)
        assert result.exit_code == 1
        assert path.read_text() == original
    diff = cli("check", "--diff", str(path))
    assert (diff.exit_code, diff.stdout) == (0, "")
    status, found = findings_of(path)
    assert status == 1 and [f["code"] for f in found] == ["NG001"]


def test_directive_swallowing_the_next_block_is_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp {\n    server {\n        listen 80\n"
                    "        location / {\n            proxy_pass http://127.0.0.1:8888;\n"
                    "        }\n    }\n}\n")
    status, found = findings_of(path)
    # nginx's own words: directive "listen" is not terminated by ";" (NG008: it takes no block)
    assert status == 1 and {"NG001", "NG008"} & {f["code"] for f in found}


def test_tree_with_a_broken_include_is_not_fixed(tmp_path: Path) -> None:
    """The broken file may hold the map or the headers: nothing is fixed, and why is said."""
    main = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    include maps.conf;\n    server {\n        listen 80;\n"
                "        location / {\n            proxy_pass http://127.0.0.1:8888;\n"
                "            proxy_set_header Connection $connection_upgrade;\n"
                "        }\n    }\n}\n")
    main.write_text(original)
    (tmp_path / "maps.conf").write_text(
        "map $http_upgrade $connection_upgrade {\n    default upgrade;\n    '' close\n}\n")
    result = fix(main)
    assert result.exit_code == 1
    assert main.read_text() == original
    assert "fixed " not in result.stderr
    assert "maps.conf does not parse; fix it first" in result.stdout
    assert "NG001" in result.stdout


def test_misaligned_spans_are_never_edited(tmp_path: Path, monkeypatch) -> None:
    import nglint.load

    monkeypatch.setattr(nglint.load, "_aligned", lambda ast, tree, tokens: False)
    path = copy_fixture(SEED, tmp_path)
    result = fix(path)
    assert path.read_bytes() == SEED.read_bytes()
    assert result.exit_code == 1
    assert "token spans do not align with crossplane's tree; not editing this file" \
        in result.stdout
    _, found = findings_of(path)
    assert found and not any(f["fixable"] for f in found)


# --- atomic writes (the transaction itself: tests/test_transaction.py) -------------------


def test_failed_rename_leaves_the_original_and_no_temporary(tmp_path: Path,
                                                            monkeypatch) -> None:
    path = copy_fixture(SEED, tmp_path)
    real_replace = os.replace

    def refuse(src: str, dst: str) -> None:
        if os.path.basename(src).startswith(".nglint-"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(NglintError, match="No space left on device"):
        commit([Change(str(path), SEED.read_bytes(), b"events {}\n")])
    assert path.read_bytes() == SEED.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [SEED.name]
    result = cli("check", "--fix", str(path))  # through the command line too
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert (f"{path}: cannot write the fixes: No space left on device; nothing was "
            "written, every file is as it was") in result.stderr
    assert path.read_bytes() == SEED.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [SEED.name]


def test_write_goes_through_a_temporary_in_the_same_directory(tmp_path: Path,
                                                               monkeypatch) -> None:
    path = copy_fixture(SEED, tmp_path)
    calls = []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", fd)) or real_fsync(fd))

    def replace(src: str, dst: str) -> None:
        calls.append(("replace", src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    commit([Change(str(path), SEED.read_bytes(), b"events {}\n")])
    renames = [c for c in calls if c[0] == "replace" and c[2] == str(path)]
    assert len(renames) == 1
    _, src, dst = renames[0]
    assert os.path.dirname(src) == str(tmp_path) and dst == str(path)
    assert ("fsync" in [c[0] for c in calls[:calls.index(renames[0])]])  # data synced first
    assert path.read_bytes() == b"events {}\n"
    assert [p.name for p in tmp_path.iterdir()] == [SEED.name]


# --- what the fixes write ------------------------------------------------------------------


def test_inherited_headers_are_copied_before_the_new_one(tmp_path: Path) -> None:
    """NG005: a location that inherited its headers keeps them, as written upstream."""
    path = tmp_path / "nginx.conf"
    path.write_text(
        "events {}\nhttp {\n    map $http_upgrade $connection_upgrade {\n"
        "        default upgrade;\n        ''      close;\n    }\n    server {\n"
        "        listen 80;\n"
        "        proxy_set_header Host $http_host;\n"
        "        proxy_set_header X-Forwarded-Proto \"https\"; # behind the balancer\n"
        "        proxy_set_header X-Real-IP   $remote_addr;\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_read_timeout 1d;\n"
        "        location / {\n            proxy_pass http://127.0.0.1:8888;\n        }\n"
        "    }\n}\n")
    assert fix(path).exit_code == 0
    assert path.read_text().endswith(
        "        location / {\n            proxy_pass http://127.0.0.1:8888;\n"
        "            proxy_set_header Host $http_host;\n"
        "            proxy_set_header X-Forwarded-Proto \"https\";\n"
        "            proxy_set_header X-Real-IP   $remote_addr;\n"
        "            proxy_set_header Upgrade $http_upgrade;\n"
        "            proxy_set_header Connection $connection_upgrade;\n"
        "        }\n    }\n}\n")
    _, found = findings_of(path)
    # no NG005: nothing was dropped (NG202, security, notes `Host $http_host`)
    assert [f["code"] for f in found if f["code"] != "NG202"] == ["NG108"]


def test_inherited_headers_from_http_level(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text(
        "events {}\nhttp {\n    proxy_set_header Host $http_host;\n"
        "    proxy_set_header X-Scheme $scheme;\n    server {\n        listen 80;\n"
        "        location / {\n            proxy_pass http://127.0.0.1:8888;\n"
        "            proxy_http_version 1.1;\n            proxy_read_timeout 1h;\n"
        "        }\n    }\n}\n")
    assert fix(path).exit_code == 0
    text = path.read_text()
    assert ("            proxy_read_timeout 1h;\n"
            "            proxy_set_header Host $http_host;\n"
            "            proxy_set_header X-Scheme $scheme;\n"
            "            proxy_set_header Upgrade $http_upgrade;\n"
            "            proxy_set_header Connection $connection_upgrade;\n        }") in text
    assert text.count("map $http_upgrade") == 1


def test_existing_map_is_reused_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    map $http_upgrade $ws_conn {\n        default upgrade;\n"
                "        ''      close;\n    }\n    server {\n        listen 80;\n"
                "        location / {\n            proxy_pass http://127.0.0.1:8888;\n"
                "            proxy_http_version 1.1;\n"
                "            proxy_set_header Host $http_host;\n"
                "            proxy_set_header Upgrade $http_upgrade;\n"
                "            proxy_set_header Connection \"upgrade\";\n"
                "            proxy_read_timeout 1d;\n        }\n    }\n}\n")
    path.write_text(original)
    assert fix(path).exit_code == 0
    assert path.read_text() == original.replace('"upgrade"', "$ws_conn")


def test_undefined_connection_upgrade_uses_the_existing_map(tmp_path: Path) -> None:
    """NG004: `$connection_upgrade` with a map from $http_upgrade named otherwise."""
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    map $http_upgrade $ws_conn { default upgrade; '' close; }"
                "\n    server {\n        listen 80;\n        location / {\n"
                "            proxy_pass http://127.0.0.1:8888;\n"
                "            proxy_http_version 1.1;\n"
                "            proxy_set_header Host $http_host;\n"
                "            proxy_set_header Upgrade $http_upgrade;\n"
                "            proxy_set_header Connection $connection_upgrade;\n"
                "            proxy_read_timeout 1d;\n        }\n    }\n}\n")
    path.write_text(original)
    _, found = findings_of(path)
    assert [f["code"] for f in found if f["fixable"]] == ["NG004"]
    assert fix(path).exit_code == 0
    assert path.read_text() == original.replace("$connection_upgrade", "$ws_conn")


def test_map_is_added_once_for_several_locations(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    location = ("        location {} {{\n            proxy_pass http://127.0.0.1:8888;\n"
                "            proxy_http_version 1.1;\n"
                "            proxy_set_header Host $http_host;\n"
                "            proxy_set_header Upgrade $http_upgrade;\n"
                "            proxy_set_header Connection {};\n"
                "            proxy_read_timeout 1d;\n        }}\n")
    original = ("events {}\nhttp {\n    server {\n        listen 80;\n"
                + location.format("/a/", '"upgrade"')
                + location.format("/b/", "$connection_upgrade")
                + "    }\n    server {\n        listen 81;\n        server_name hub;\n"
                + location.format("/", '"upgrade"') + "    }\n}\n")
    path.write_text(original)
    assert fix(path).exit_code == 0
    text = path.read_text()
    assert text.count("map $http_upgrade") == 1
    assert text == original.replace("http {\n", "http {\n" + map_block(), 1).replace(
        '"upgrade"', "$connection_upgrade")
    _, found = findings_of(path)
    assert [f["code"] for f in found if f["code"] not in ("NG108", "NG202")] == []


def test_read_timeout_fix_value_is_configurable(tmp_path: Path) -> None:
    path = copy_fixture(FIXTURES / "rules" / "websocket-read-timeout" / "short.conf", tmp_path)
    options = Options(rule_options={"websocket-read-timeout": {"fix-value": "2h"}})
    result = fix_paths([path], options=options)
    (real,) = result.changed
    text = result.edited[real].decode()
    assert "            proxy_read_timeout 2h;\n        }" in text
    assert "proxy_read_timeout 1d" not in text
    assert [f.code for f in result.fixed] == ["NG104"]


def test_narrow_regex_location_leaves_no_endpoint_uncovered(tmp_path: Path) -> None:
    """Websocket handling only in the old kernels/terminals regex: location / gets it too."""
    path = tmp_path / "nginx.conf"
    regex = ("        location ~* /(api/kernels/[^/]+/(channels|iopub|shell|stdin)"
             "|terminals/websocket)/? {\n            proxy_pass http://jupyter;\n"
             "            proxy_set_header Host $http_host;\n"
             "            proxy_http_version 1.1;\n"
             "            proxy_set_header Upgrade $http_upgrade;\n"
             "            proxy_set_header Connection $connection_upgrade;\n"
             "            proxy_read_timeout 1d;\n        }\n")
    original = ("events {}\nhttp {\n    map $http_upgrade $connection_upgrade {\n"
                "        default upgrade;\n        ''      close;\n    }\n"
                "    upstream jupyter {\n        server 127.0.0.1:8888;\n    }\n"
                "    server {\n        listen 80;\n        client_max_body_size 100m;\n"
                "        location / {\n            proxy_pass http://jupyter;\n"
                "            proxy_set_header Host $http_host;\n        }\n\n"
                + regex + "    }\n}\n")
    path.write_text(original)
    _, before = findings_of(path)
    assert {f["code"] for f in before} - {"NG202"} == {"NG101", "NG102", "NG103", "NG104"}
    assert fix(path).exit_code == 0
    assert path.read_text() == original.replace(
        "            proxy_pass http://jupyter;\n            proxy_set_header Host $http_host;\n"
        "        }\n",
        "            proxy_pass http://jupyter;\n            proxy_http_version 1.1;\n"
        "            proxy_set_header Host $http_host;\n"
        "            proxy_set_header Upgrade $http_upgrade;\n"
        "            proxy_set_header Connection $connection_upgrade;\n"
        "            proxy_read_timeout 1d;\n        }\n", 1)
    status, found = findings_of(path)
    assert (status, [f for f in found if f["code"] != "NG202"]) == (0, [])


@pytest.mark.parametrize("folder", sorted(UNSAFE_FOLDERS))
def test_unsafe_fixes_need_the_flag(folder: str, tmp_path: Path) -> None:
    (fixture,) = [p for p in (FIXTURES / "rules" / folder).glob("*.conf")
                  if not p.name.endswith(("_fp.conf", ".fixed.conf"))
                  and expected_path(p).exists()]
    code = registry.lookup(folder).code
    copy = copy_fixture(fixture, tmp_path)
    diff = cli("check", "--diff", str(copy))
    assert (diff.exit_code, diff.stdout) == (0, "")
    result = fix(copy)
    assert copy.read_bytes() == fixture.read_bytes()
    assert "fixed " not in result.stderr
    assert result.exit_code == 0  # a warning
    _, found = findings_of(copy)
    assert code in [f["code"] for f in found]
    assert [f["code"] for f in found if f["fixable"]] == []  # fixable: by --fix alone
    assert "1 more with --unsafe-fixes" in cli("check", str(copy)).stdout
    result = fix(copy, "--unsafe-fixes")
    assert copy.read_bytes() == expected_path(fixture).read_bytes()
    assert code not in [f["code"] for f in findings_of(copy)[1]]


def test_static_shadowed_fix_marks_the_prefix_location(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    map $http_upgrade $connection_upgrade "
                "{ default upgrade; '' close; }\n    server {\n        listen 80;\n"
                "        client_max_body_size 0;\n"
                "        location ~* \\.(js|css)$ { expires 1y; }\n"
                "        location '/jupyter/' { # the lab\n"
                "            proxy_pass http://127.0.0.1:8888; proxy_http_version 1.1;\n"
                "            proxy_set_header Host $http_host;\n"
                "            proxy_set_header Upgrade $http_upgrade;\n"
                "            proxy_set_header Connection $connection_upgrade;\n"
                "            proxy_read_timeout 1d;\n        }\n    }\n}\n")
    path.write_text(original)
    assert fix(path, "--unsafe-fixes").exit_code == 0
    assert path.read_text() == original.replace("location '/jupyter/'", "location ^~ '/jupyter/'")
    status, found = findings_of(path)
    assert (status, [f for f in found if f["code"] != "NG202"]) == (0, [])


def test_exit_status_reflects_what_remains(tmp_path: Path) -> None:
    """An error no fix can mend (NG105) keeps exit status 1 after --fix; warnings do not."""
    broken = copy_fixture(FIXTURES / "rules" / "websocket-not-proxied" / "static_root.conf",
                          tmp_path / "a")
    assert fix(broken).exit_code == 1
    assert "NG105" in [f["code"] for f in findings_of(broken)[1]]
    warned = copy_fixture(FIXTURES / "rules" / "jupyter-body-size" / "default.conf",
                          tmp_path / "b")
    result = fix(warned)
    assert result.exit_code == 0 and "NG108" in result.stdout
    assert fix(warned, "--fail-on", "warning").exit_code == 1


def test_fix_reports_the_findings_it_fixed(tmp_path: Path) -> None:
    path = copy_fixture(SEED, tmp_path)
    result = fix_paths([path])
    assert sorted(f.code for f in result.fixed) == sorted(
        ["NG101", "NG102", "NG102", "NG102", "NG103", "NG103", "NG103", "NG104"])
    assert [f.code for f in result.remaining] == ["NG108"]
    assert result.changed == [os.path.realpath(path)]
    assert path.read_bytes() == SEED.read_bytes()  # fix_paths writes nothing
    cli_result = fix(path)
    assert str(path) in cli_result.stderr
    assert path.read_bytes() == expected_path(SEED).read_bytes()


def test_origin_blanked_without_host_becomes_the_host_line(tmp_path: Path) -> None:
    """NG107 with `Origin ""` the location's last header and no Host: one edit, the Origin
    line turned into the Host line (removing it and inserting after it overlapped)."""
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    map $http_upgrade $connection_upgrade "
                "{ default upgrade; '' close; }\n    server {\n        listen 80;\n"
                "        client_max_body_size 0;\n        location / {\n"
                "            proxy_pass http://127.0.0.1:8888;\n"
                "            proxy_http_version 1.1;\n"
                "            proxy_set_header Upgrade $http_upgrade;\n"
                "            proxy_set_header Connection $connection_upgrade;\n"
                "            proxy_set_header Origin \"\"; # silences the 403\n"
                "            proxy_read_timeout 1d;\n        }\n    }\n}\n")
    path.write_text(original)
    assert fix(path).exit_code == 0
    assert path.read_text() == original  # NG107 is unsafe; NG106 is silent (Origin blanked)
    assert fix(path, "--unsafe-fixes").exit_code == 0
    assert path.read_text() == original.replace('Origin ""', "Host $host")
    assert findings_of(path) == (0, [])


def test_origin_blanked_in_an_included_file_is_not_fixed(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = ("events {}\nhttp {\n    map $http_upgrade $connection_upgrade "
                "{ default upgrade; '' close; }\n    server {\n        listen 80;\n"
                "        client_max_body_size 0;\n        location / {\n"
                "            proxy_pass http://127.0.0.1:8888;\n"
                "            include kiosk.conf;\n        }\n    }\n}\n")
    path.write_text(original)
    snippet = tmp_path / "kiosk.conf"
    snippet.write_text("proxy_http_version 1.1;\nproxy_set_header Host $http_host;\n"
                       "proxy_set_header Upgrade $http_upgrade;\n"
                       "proxy_set_header Connection $connection_upgrade;\n"
                       "proxy_set_header Origin \"\";\nproxy_read_timeout 1d;\n")
    before = snippet.read_bytes()
    result = fix(path, "--unsafe-fixes")
    assert path.read_text() == original and snippet.read_bytes() == before
    assert "not fixed automatically: Origin is blanked in an included file" in result.stdout


def test_fix_output_names_the_findings_fixed(tmp_path: Path) -> None:
    path = copy_fixture(SEED, tmp_path)
    fixed = fix_paths([path]).fixed
    result = fix(path)
    for finding in fixed:
        assert f"{finding.path}:{finding.line}" in result.stderr, finding
        assert finding.code in result.stderr


def test_unsafe_fix_is_not_announced_as_fixable_with_fix(tmp_path: Path) -> None:
    path = copy_fixture(FIXTURES / "rules" / "jupyter-origin-blanked" / "blanked.conf", tmp_path)
    result = cli("check", str(path))
    assert "fixable with --fix" not in result.stdout or "--unsafe-fixes" in result.stdout


def test_http2_move_needs_unsafe_fixes(tmp_path: Path) -> None:
    """`http2 on;` is unknown before nginx 1.25.1: never written without --unsafe-fixes,
    nor for a target range that starts before 1.25.1 (the default: the finding says why)."""
    fixture = FIXTURES / "rules" / "removed-directive" / "listen_http2.conf"
    copy = copy_fixture(fixture, tmp_path)
    before = fixture.read_bytes().count(b"http2 on;")
    fix(copy, "--nginx-version", "1.25.1-")
    assert copy.read_bytes().count(b"http2 on;") == before
    withheld = fix(copy, "--unsafe-fixes")
    assert copy.read_bytes().count(b"http2 on;") == before
    assert '"http2" needs nginx \u2265 1.25.1; the target range starts at 1.18' in \
        withheld.stdout
    fix(copy, "--unsafe-fixes", "--nginx-version", "1.25.1-")
    assert copy.read_bytes().count(b"http2 on;") > before
