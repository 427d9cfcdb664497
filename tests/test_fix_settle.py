"""``--fix`` writes only a fixed point, and never flips a shared span.

A snippet included by an enabled site (the tree rooted at nginx.conf) and by a site
that is not enabled (``sites-available/b.conf``, linted as a fragment tree of its
own) is seen by two trees.  When the sites need different text in the snippet
(NG106: ``Host $host`` on port 80, ``Host $host:$server_port`` on 8080), each tree's
fix undid the other's, round after round, until ``MAX_ROUNDS`` ended the rounds and
whichever text the last round wrote was written to disk: a second ``--fix`` changed
it again.  Now a file several trees read is edited only where every
one of them asks for the same edit (``disputes.withhold_disputed``), the findings of the
others say why they are not fixed; any other cycle (a round bringing the files back
to an earlier round's text) has its spans left as written (``nglint.fix``); and rounds
that do not settle within ``MAX_ROUNDS`` end the run with an error, writing nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nglint import disputes
from nglint import fix as fixing
from nglint.edits import Edit
from tests.fix_helpers import cli, fix_paths
from tests.helpers import write

MAIN = """\
events {}
http {
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    include sites-enabled/*;
}
"""
SITE = """\
server {{
    listen {port};
    server_name {name}.example.com;
    include snippets/jupyter.conf;
}}
"""
SNIPPET = """\
location / {{
    proxy_pass http://127.0.0.1:8888;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host {host};
    proxy_read_timeout 1d;
    client_max_body_size 100m;
}}
"""
# b.conf included too: one tree, two servers sharing the snippet
BOTH_ENABLED = MAIN.replace("include sites-enabled/*;",
                            "include sites-enabled/*;\n    include sites-available/b.conf;")


def _layout(root: Path, host: str) -> Path:
    """nginx.conf enabling sites-available/a.conf (port 80) through a symlink;
    sites-available/b.conf (port 8080) not enabled: a fragment tree.  Both include
    snippets/jupyter.conf, whose Host line is ``host``."""
    write(root, MAIN)
    write(root, SITE.format(port=80, name="a"), "sites-available/a.conf")
    write(root, SITE.format(port=8080, name="b"), "sites-available/b.conf")
    (root / "sites-enabled").mkdir()
    (root / "sites-enabled" / "a.conf").symlink_to("../sites-available/a.conf")
    return write(root, SNIPPET.format(host=host), "snippets/jupyter.conf")


def _fix(path: Path) -> tuple[int, str, str]:
    result = cli("check", "--fix", "--output-format", "full", str(path))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _second_fix_changes_nothing(path: Path) -> None:
    again = cli("check", "--diff", str(path))
    assert again.stdout == "" and again.exit_code == 0, again.stdout


@pytest.mark.parametrize("host", ["$proxy_host", "$host", "$host:$server_port"])
def test_snippet_shared_by_two_trees_needing_different_hosts_is_not_flipped(
        tmp_path: Path, host: str) -> None:
    """$proxy_host: both trees want a fix, a different one; $host: the enabled site
    is served right and the other wants the port; $host:$server_port: the reverse.
    In each case a fix of one tree breaks the other: the snippet is not edited."""
    snippet = _layout(tmp_path, host)
    # b.conf, linted alone, gets the $connection_upgrade map nginx.conf defines (NG004)
    kept = [tmp_path / "nginx.conf", tmp_path / "sites-available/a.conf"]
    before = [path.read_bytes() for path in kept]
    status, out, _ = _fix(tmp_path)
    assert snippet.read_text() == SNIPPET.format(host=host)  # never flipped
    assert [path.read_bytes() for path in kept] == before
    assert status == 0  # the NG106 warnings stay (below the default --fail-on)
    assert "NG106" in out
    assert "not fixed automatically" in out and "shared" in out
    assert "fixable with --fix" not in out.splitlines()[-1]
    _second_fix_changes_nothing(tmp_path)


def test_shared_snippet_finding_says_which_sites_disagree(tmp_path: Path) -> None:
    """Each tree's finding names the other site and what it asks for; a plain check
    says so already (no fix is offered that --fix would not make)."""
    _layout(tmp_path, "$proxy_host")
    for flags in ((), ("--fix",)):
        result = cli("check", *flags, "--format", "json", str(tmp_path))
        findings = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "NG106"]
        assert len(findings) == 2 and not any(f["fixable"] for f in findings)
        notes = sorted(n for f in findings for n in f["notes"]
                       if n.startswith("not fixed automatically"))
        assert not any(n.startswith("fix: ") for f in findings for n in f["notes"])
        assert len(notes) == 2 and all("snippets/jupyter.conf is shared with" in n
                                       for n in notes)
        # the enabled site's finding names b.conf and its Host, and the reverse
        assert any(re.search(r"sites-available/b\.conf:\d+, which asks for another edit "
                             r"there \(`send Host \$host:\$server_port`\)", n) for n in notes)
        assert any("sites-available/a.conf:4, which asks for another edit there "
                   "(`send Host $host`)" in n for n in notes)


def test_shared_snippet_right_for_the_enabled_site_is_left(tmp_path: Path) -> None:
    """Host $host serves the enabled site on port 80; b.conf's fix would break it."""
    _layout(tmp_path, "$host")
    result = cli("check", "--format", "json", str(tmp_path))
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "NG106"]
    assert not finding["fixable"]
    assert "sites-available/a.conf:4, which does not ask for this one" \
        in finding["message"]


def test_headers_of_one_tree_are_not_copied_into_a_shared_snippet(tmp_path: Path) -> None:
    """The enabled site sets a header at server level; adding Upgrade to the shared
    location would copy it there, and the other site would send it too (within one
    tree, ``fixes._check_copy_is_safe`` refuses that copy)."""
    snippet = _layout(tmp_path, "$http_host")
    write(tmp_path, SITE.format(port=80, name="a").replace(
        "    include", "    proxy_set_header X-Real-IP $remote_addr;\n    include"),
        "sites-available/a.conf")
    text = "".join(line for line in SNIPPET.format(host="$http_host").splitlines(True)
                   if "proxy_set_header" not in line)
    snippet.write_text(text)
    _fix(tmp_path)
    assert snippet.read_text() == text
    _second_fix_changes_nothing(tmp_path)


def test_other_fixes_of_the_shared_snippet_are_still_made(tmp_path: Path) -> None:
    """Only the contested span is left: the snippet's missing Upgrade line, which both
    sites need alike, is added."""
    snippet = _layout(tmp_path, "$proxy_host")
    text = SNIPPET.format(host="$proxy_host")
    snippet.write_text(text.replace("    proxy_set_header Upgrade $http_upgrade;\n", ""))
    _fix(tmp_path)
    fixed = snippet.read_text()
    assert "proxy_set_header Host $proxy_host;" in fixed
    assert "proxy_set_header Upgrade " in fixed
    _second_fix_changes_nothing(tmp_path)


def test_one_tree_two_sites_needing_different_hosts_agree_on_one(tmp_path: Path) -> None:
    """Within one tree the fix sees every include site (``Tree.sites``): one value
    that holds for both, written once (as before this change)."""
    snippet = _layout(tmp_path, "$proxy_host")
    write(tmp_path, BOTH_ENABLED)
    status, _, _ = _fix(tmp_path)
    assert snippet.read_text() == SNIPPET.format(host="$http_host")
    assert status == 0
    _second_fix_changes_nothing(tmp_path)


def test_a_fix_blind_to_other_include_sites_is_not_flipped_in_one_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mechanism, not the rule: were NG106 to see only the include site it
    reports from, its fixes for the two sites of one tree would undo each other.
    The cycle is found and the span left as written."""
    import nglint.rules.jupyter_host_header as rule

    monkeypatch.setattr(rule, "servers_of",
                        lambda block, tree: [block.enclosing("server")])
    snippet = _layout(tmp_path, "$proxy_host")
    write(tmp_path, BOTH_ENABLED)
    result = fix_paths([tmp_path])
    assert snippet.read_text() == SNIPPET.format(host="$proxy_host")
    assert not result.changed
    assert [f.code for f in result.fixed] == []
    contested = [f for f in result.remaining if f.code == "NG106"]
    assert contested and all(f.fix is None and not f.fixable for f in contested)
    assert all("not fixed automatically" in f.message for f in contested)


def test_a_fix_that_changes_nothing_is_withheld(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix that writes the text already there would be chosen round after round: the
    first round leaves the files as they were, a cycle of one round."""
    import nglint.rules.jupyter_host_header as rule

    monkeypatch.setattr(rule, "host_for_origin", lambda *servers: "$proxy_host")
    snippet = _layout(tmp_path, "$proxy_host")
    write(tmp_path, BOTH_ENABLED)
    result = fix_paths([tmp_path])
    assert not result.changed and not result.fixed
    (finding,) = {f.message: f for f in result.remaining if f.code == "NG106"}.values()
    assert finding.fix is None
    assert "do not settle" in finding.notes[-1]
    assert snippet.read_text() == SNIPPET.format(host="$proxy_host")


def test_origin_of_a_span_through_rounds() -> None:
    """``origin``: a span is moved back through each round's edits; a bound in text a
    round wrote goes to the bound of what that edit replaced."""
    text = "aaa bbb ccc"
    first = [Edit("f", 0, 0, "xx "), Edit("f", 4, 7, "BBBB")]  # "xx aaa BBBB ccc"
    assert fixing.apply(text, first) == "xx aaa BBBB ccc"
    second = Edit("f", 7, 11, "b")  # "BBBB" -> "b"
    assert disputes.origin(second, [{"f": first}]) == (4, 7)
    assert disputes.origin(Edit("f", 12, 15, ""), [{"f": first}]) == (8, 11)  # "ccc"
    assert disputes.origin(Edit("f", 1, 1, "y"), [{"f": first}]) == (0, 0)  # in "xx "
    assert disputes.origin(Edit("f", 8, 9, "y"), [{"f": first}, {}]) == (4, 7)


def test_rounds_that_do_not_settle_write_nothing(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration whose fixes take two rounds, with one round allowed: a one-line
    error, exit status 2, no file written (--fix and --diff)."""
    text = ("events {}\nhttp {\n    server {\n        listen 80;\n"
            "        proxy_set_header X-Real-IP $remote_addr;\n        location / {\n"
            "            proxy_pass http://127.0.0.1:8888;\n"
            "            proxy_http_version 1.1;\n            proxy_read_timeout 1d;\n"
            "            client_max_body_size 100m;\n        }\n    }\n}\n")
    path = write(tmp_path, text)
    assert len(fix_paths([path]).applied) == 2  # two rounds settle it
    monkeypatch.setattr(fixing, "MAX_ROUNDS", 1)
    for flag in ("--fix", "--diff"):
        result = cli("check", flag, str(path))
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("nglint: error: ")
        assert "nothing written" in lines[0]
        assert path.read_text() == text
        assert sorted(p.name for p in tmp_path.iterdir()) == ["nginx.conf"]


def test_two_trees_sharing_a_snippet_each_get_their_own_map(tmp_path: Path) -> None:
    """One finding in a snippet two main trees include: its fix rewrites the snippet
    alike for both, and each tree's http block needs its own upgrade map.  Keeping
    one tree's fix alone gave the other a snippet using a variable its http block never
    defined, and ``nginx -t`` failed there (review of 2026-11-30)."""
    import subprocess

    from tests.nginx_harness import NGINX

    shared = tmp_path / "shared" / "loc.conf"
    shared.parent.mkdir()
    shared.write_text("location /ws/ {\n    proxy_pass http://127.0.0.1:8888;\n"
                      "    proxy_http_version 1.1;\n"
                      '    proxy_set_header Connection "upgrade";\n}\n')
    mains = []
    for name, port in (("a", 80), ("b", 81)):
        (tmp_path / name / "logs").mkdir(parents=True)
        main = tmp_path / name / "nginx.conf"
        main.write_text(f"events {{}}\nhttp {{\n    server {{ listen 127.0.0.1:{port}; "
                        f"include {shared}; }}\n}}\n")
        mains.append(main)
    cli("check", "--fix", *map(str, mains))
    assert "$websocket_connection" in shared.read_text()
    for main in mains:
        assert "map $http_upgrade $websocket_connection" in main.read_text(), main
    after = cli("check", "--format", "json", "--select", "NG004", *map(str, mains))
    assert json.loads(after.output)["findings"] == []
    if NGINX is not None:
        for main in mains:
            proc = subprocess.run([NGINX, "-t", "-q", "-p", str(main.parent), "-c",
                                   str(main), "-e", "/dev/stderr"],
                                  capture_output=True, text=True, timeout=30)
            assert proc.returncode == 0, proc.stderr


def test_merged_fixes_that_clash_are_not_made() -> None:
    """Two trees' fixes for one finding: edits of their own files are all made; two
    that differ at one span of one file cannot both be, so neither is."""
    from nglint.disputes import merge_fixes
    from nglint.edits import Fix
    from nglint.findings import Finding, Severity

    def finding(*edits: Edit) -> Finding:
        return Finding("NG103", "websocket-connection-header", Severity.ERROR, "s.conf", 1,
                       1, 1, 2, "m", fixable=True, fix=Fix("forward Connection", edits))

    shared = Edit("s.conf", 10, 20, "x")
    kept = finding(shared, Edit("a.conf", 5, 5, "map a"))
    merge_fixes(kept, finding(shared, Edit("b.conf", 5, 5, "map b")))
    assert kept.fix is not None and sorted(e.path for e in kept.fix.edits) == \
        ["a.conf", "b.conf", "s.conf"]
    kept = finding(shared)
    merge_fixes(kept, finding(Edit("s.conf", 15, 25, "y")))
    assert kept.fix is None and not kept.fixable
    assert "ask for different edits" in kept.message
