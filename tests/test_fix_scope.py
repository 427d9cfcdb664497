"""``--fix`` rounds after the first re-check only what the last edits can affect
(``nglint.scope``): the scoped path must give what re-checking everything gives.

Every fixture (each file, and the folders linted whole), a generated tree of 50
servers, and the CLI's ``--diff``/``--fix`` output are compared with
``NGLINT_FULL_RELINT=1``, which re-checks every tree each round.  The property
tests (``test_fix_properties``) compare both paths on generated configurations too.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nglint import scope
from nglint.discover import discover
from nglint.edits import Edit
from nglint.fix import FixResult, _in_order
from nglint.scope import FULL_ENV, Changes
from tests.fix_helpers import cli, fix_paths
from tests.helpers import FIXTURES, REPO, write

FOLDERS = [FIXTURES / "rules", FIXTURES / "apps", FIXTURES / "layouts" / "docker",
           FIXTURES / "layouts" / "etc-copy"]
FILES = sorted(p for p in FIXTURES.rglob("*.conf") if not p.name.endswith(".fixed.conf"))


def _generate(folder: Path, servers: int) -> Path:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    generate(folder, servers)
    return folder


def _summary(result: FixResult) -> dict[str, object]:
    """Everything a fix run reports: the files, the fixes and what is left."""
    return {
        "edited": result.edited,
        "originals": result.originals,
        "fixed": [(f.code, f.path, f.line, f.column, f.end_line, f.end_column, f.message)
                  for f in result.fixed],
        "remaining": [(f.code, f.path, f.line, f.column, f.end_line, f.end_column,
                       f.severity, f.message, f.fixable, f.headline, f.notes,
                       list(f.related),
                       f.fix.edits if f.fix else None) for f in result.remaining],
    }


def _both(monkeypatch: pytest.MonkeyPatch, path: Path, unsafe: bool) -> tuple[dict, dict]:
    monkeypatch.delenv(FULL_ENV, raising=False)
    scoped = _summary(fix_paths([path], unsafe=unsafe))
    monkeypatch.setenv(FULL_ENV, "1")
    full = _summary(fix_paths([path], unsafe=unsafe))
    monkeypatch.delenv(FULL_ENV)
    return scoped, full


@pytest.mark.parametrize("path", [*FILES, *FOLDERS],
                         ids=lambda p: str(p.relative_to(FIXTURES)))
def test_scoped_rounds_fix_every_fixture_as_full_rounds(monkeypatch, path):
    for unsafe in (False, True):
        scoped, full = _both(monkeypatch, path, unsafe)
        assert scoped == full


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("generated"), 50)


# variants of the generated tree that relate its servers in the ways nglint.scope
# follows: (file, text, replacement, count)
VARIANTS = {
    "as-generated": [],
    "one-port": [("conf.d/sites-0000.conf", "listen 80;", "listen 443 ssl;", -1)],
    "shared-upstream": [("conf.d/sites-0000.conf", "proxy_pass http://jupyter10;",
                         "proxy_pass http://app1;", 1)],
    "shared-variable": [("conf.d/sites-0000.conf", "root /srv/site1/public;",
                         "root /srv/site1/public; set $lab_backend jupyter20;", 1),
                        ("conf.d/sites-0000.conf", "proxy_pass http://jupyter20;",
                         "proxy_pass http://$lab_backend;", 1)],
    "http-level-finding": [("nginx.conf", "sendfile on;", "sendfile on; resolver 8.8.8.8;",
                            1),
                           ("conf.d/sites-0000.conf", "proxy_pass http://app3;",
                            "set $b app3; proxy_pass http://$b;", 1)],
    "shared-name": [("conf.d/sites-0000.conf", "server_name site1.example.com",
                     "server_name lab0.example.com", 1)],
    "suppression": [("conf.d/sites-0000.conf", "client_max_body_size 100m;",
                     "client_max_body_size 100m;  # nglint: ignore[NG105]", 1)],
}



def _own_ports(text: str) -> str:
    """Each plain server on a port of its own: the relations above then link a few
    servers, not every one on port 80."""
    ports = iter(range(10000, 20000))
    return re.sub(r"listen 80;", lambda _: f"listen {next(ports)};", text)


@pytest.mark.parametrize("own_ports", [False, True], ids=["port-80", "own-ports"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_scoped_rounds_fix_a_generated_tree_as_full_rounds(monkeypatch, tmp_path, variant,
                                                          own_ports):
    tree = _generate(tmp_path / variant, 50)
    sites = tree / "conf.d" / "sites-0000.conf"
    if own_ports:
        if variant == "one-port":
            pytest.skip("one port for every server is the other extreme")
        sites.write_text(_own_ports(sites.read_text()))
    for name, text, replacement, count in VARIANTS[variant]:
        path = tree / name
        assert text in path.read_text()
        path.write_text(path.read_text().replace(text, replacement, count))
    for unsafe in (False, True):
        scoped, full = _both(monkeypatch, tree, unsafe)
        assert scoped == full
        assert scoped["edited"]  # the tree has fixes to make


def _run(args: list[str]) -> tuple[int, str, str]:
    result = cli(*args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("formats", [["-q"], ["--output-format", "concise"],
                                     ["--format", "json"]])
def test_diff_and_fix_output_are_the_full_rounds_output(monkeypatch, generated, tmp_path,
                                                        formats):
    monkeypatch.delenv(FULL_ENV, raising=False)
    scoped_diff = _run(["check", "--no-cache", "--diff", *formats, str(generated)])
    monkeypatch.setenv(FULL_ENV, "1")
    full_diff = _run(["check", "--no-cache", "--diff", *formats, str(generated)])
    assert scoped_diff == full_diff
    assert scoped_diff[1].startswith("--- a/")
    outputs = []
    for full in (False, True):
        copy = tmp_path / f"copy-{full}"
        shutil.copytree(generated, copy)
        if full:
            monkeypatch.setenv(FULL_ENV, "1")
        else:
            monkeypatch.delenv(FULL_ENV, raising=False)
        code, out, err = _run(["check", "--no-cache", "--fix", *formats, str(copy)])
        files = {p.relative_to(copy): p.read_bytes() for p in sorted(copy.rglob("*.conf"))}
        outputs.append((code, out.replace(str(copy), "X"), err.replace(str(copy), "X"), files))
    assert outputs[0] == outputs[1]


@pytest.fixture
def scopes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int | None]]]:
    """(servers of the tree, servers re-checked or None) of every later round."""
    seen: list[tuple[int, int | None]] = []
    servers = Changes.servers

    def record(self: Changes, tree):  # type: ignore[no-untyped-def]
        found = servers(self, tree)
        seen.append((len(tree.servers), None if found is None else len(found)))
        return found

    monkeypatch.setattr(Changes, "servers", record)
    monkeypatch.delenv(FULL_ENV, raising=False)
    yield seen


def test_later_rounds_re_check_only_the_servers_an_edit_can_affect(scopes, generated):
    fix_paths([generated])
    # the Jupyter servers (one in ten) hold every fix; the others share no port, upstream
    # or variable with them, and held no finding
    assert scopes and all(found == 5 and total == 50 for total, found in scopes)


def test_the_full_path_asks_for_no_scope(scopes, generated, monkeypatch):
    monkeypatch.setenv(FULL_ENV, "1")
    fix_paths([generated])
    assert scopes == []


SHARED_PORT = """\
events {}
http {
    upstream app { server 127.0.0.1:8888; }
    server {
        listen 8080;
        server_name a.example;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }
    }
    server {
        listen 8081;
        location / { proxy_pass http://app; }
    }
    server {
        listen 8082;
        location / { return 200; }
    }
    server {
        listen 8082;
        server_name c.example;
        location / { return 204; }
    }
}
"""


def test_servers_sharing_an_upstream_are_re_checked_together(scopes, tmp_path):
    fix_paths([write(tmp_path, SHARED_PORT)])
    # the first two proxy to one upstream (h2c: a guard on one is bypassed through the
    # other); the last two share a port and are left alone
    assert scopes and all(found == 2 and total == 4 for total, found in scopes)


def test_an_edit_of_an_http_level_statement_re_checks_everything(tmp_path):
    path = write(tmp_path, SHARED_PORT)
    text = path.read_text()
    at = text.index("    upstream")
    tree = discover([str(path)])[0]
    real = next(iter(tree.sources))
    edit = Edit(real, at, at, "    proxy_read_timeout 1d;\n")
    assert Changes({real: [edit]}, [], [tree]).servers(tree) is None
    added = Edit(real, at, at, "    map $http_x $x { default 1; }\n")
    shifted = discover([str(write(tmp_path, text[:at] + added.text + text[at:]))])[0]
    assert Changes({real: [added]}, [], [tree]).servers(shifted) == set()


def test_a_suppression_comment_re_checks_everything(tmp_path):
    path = write(tmp_path, SHARED_PORT.replace("listen 8081;", "listen 8081;  # nglint: ignore"))
    tree = discover([str(path)])[0]
    assert Changes({}, [], [tree]).servers(tree) is None


def test_scoped_tree_lists_only_what_is_re_checked(tmp_path):
    tree = discover([str(write(tmp_path, SHARED_PORT))])[0]
    servers = tree.servers
    view = tree.scoped({id(servers[0])})
    assert view.servers == [servers[0]]
    assert [n.parent.parent for n in view.named("proxy_pass")] == [servers[0]]
    assert len(view.named("upstream")) == 1 and view.root is tree.root
    assert servers[1] not in view.nodes and servers[1].children[0] not in view.nodes
    proxy = servers[1].children[1].children[0]
    assert proxy.directive == "proxy_pass" and view.sites(proxy) == [proxy]


def _insert(at: int, text: str, tail: bool = False, anchor: str = "") -> Edit:
    return Edit("f", at, at, text, tail=tail, anchor=anchor, joins=True)


def test_insertions_at_one_point_go_where_a_later_round_puts_them():
    upgrade = _insert(9, "\n  proxy_set_header Upgrade $u;", anchor="proxy_set_header")
    connection = _insert(9, "\n  proxy_set_header Connection $c;", anchor="proxy_set_header")
    timeout = _insert(9, "\n  proxy_read_timeout 1d;", tail=True)
    version = _insert(9, "\n  proxy_http_version 1.1;", anchor="proxy_pass")
    # after the last one writing its own directive; a tail after all; else first
    assert _in_order([upgrade, timeout, connection, version]) == [
        version, upgrade, connection, timeout]
    host = _insert(9, "\n  proxy_set_header Host $host;", tail=True)
    assert _in_order([upgrade, timeout, host]) == [upgrade, host, timeout]
    replaced = Edit("f", 3, 5, "x")
    assert _in_order([upgrade, replaced, upgrade]) == [replaced, upgrade]


def test_full_relint_reads_the_environment(monkeypatch):
    monkeypatch.setenv(FULL_ENV, "0")
    assert not scope.full_relint()
    monkeypatch.setenv(FULL_ENV, "1")
    assert scope.full_relint()


def test_later_rounds_parse_only_the_files_an_edit_changed(monkeypatch, tmp_path):
    from nglint import fix, load

    tree = _generate(tmp_path / "parses", 50)
    parsed: list[str] = []
    real_parse = load.parse_file

    def counting(source, *edited):  # type: ignore[no-untyped-def]
        if source.path != "inserted":  # an insertion read for what it writes
            parsed.append(Path(source.path).name)
        return real_parse(source, *edited)

    monkeypatch.setattr(load, "parse_file", counting)
    monkeypatch.setattr(fix, "parse_file", counting)
    result = fix_paths([tree])
    edited = {Path(real).name for real in result.changed}
    assert edited == {"nginx.conf", "sites-0000.conf"}
    # each file once as read, an edited one once more as each round's edits left it
    rounds = {name: sum(1 for real, _ in result.applied if Path(real).name == name)
              for name in edited}
    assert sorted(parsed) == sorted(["mime.types", "nginx.conf", "sites-0000.conf",
                                     *(name for name, n in rounds.items()
                                       for _ in range(n))])


_COUNTING = """
import collections, json, os, sys
from pathlib import Path
from nglint import fix, load
counts = collections.Counter()
real_parse = load.parse_file
released = []
def counting(source, *edited):
    if source.path != "inserted":
        counts[Path(source.path).name] += 1
    return real_parse(source, *edited)
load.parse_file = counting
fix.parse_file = counting
real_release = load.Loader._release
def release(self):
    before = list(self.cache.values())
    real_release(self)
    released.append([len(parsed.ast) for parsed in before])
load.Loader._release = release
def report(code=0):
    sys.stderr.write("COUNTS " + json.dumps([counts, released]) + "\\n")
    sys.stderr.flush()
    real_exit(code)
real_exit = os._exit
os._exit = report
from nglint.cli import entry
sys.argv = ["nglint", *sys.argv[1:]]
entry()
"""


def _cli_counts(*args: str) -> tuple[dict[str, int], list[list[int]]]:
    import json
    import subprocess

    done = subprocess.run([sys.executable, "-c", _COUNTING, *args], capture_output=True,
                          text=True, check=False, cwd=REPO)
    line = next(line for line in done.stderr.splitlines() if line.startswith("COUNTS "))
    counts, released = json.loads(line[len("COUNTS "):])
    return counts, released


def test_the_cli_reuses_first_round_parses_and_a_check_frees_them(tmp_path):
    """Through the command line (``Inputs.discover`` between the fix rounds and the
    loader): a ``--diff`` parses each file once as read and an edited one again as the
    edits left it, and a plain check keeps no parse once its tree is loaded."""
    tree = _generate(tmp_path / "cli", 50)
    counts, released = _cli_counts("check", "--no-cache", "--diff", str(tree))
    assert counts == {"mime.types": 1, "nginx.conf": 2, "sites-0000.conf": 2}, counts
    assert all(all(released) for released in released), released  # kept for the rounds
    counts, released = _cli_counts("check", "--no-cache", str(tree))
    assert counts == {"mime.types": 1, "nginx.conf": 1, "sites-0000.conf": 1}, counts
    # every payload freed, each as soon as its file was expanded (``ParsedFile.spent``):
    # the loader's cache still lists the three files, emptied, until the load ends
    assert released == [[0, 0, 0]], released


# two cases an adversarial review found: scoped rounds must give the full rounds' result
SERVER_TOKENS = """events {}
http {
  server { listen 443 ssl; server_name a.example.org; ssl on; server_tokens on;
           ssl_certificate /etc/c.pem; ssl_certificate_key /etc/c.key; }
  server { listen 8081; server_name b.example.org; location /x { server_tokens build; } }
}
"""
UPPER_CASE_SCHEME = """events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 443 ssl;
        ssl_certificate /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        client_max_body_size 100m;
        # Jupyter Server (JupyterLab)
        location / {
            proxy_pass http://10.0.0.5:9000;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1d;
        }
    }
    server {
        listen 8080;
        server_name other.example.org;
        location / {
            proxy_pass HTTP://10.0.0.5:9000;
        }
    }
}
"""


@pytest.mark.parametrize(("text", "select"), [(SERVER_TOKENS, ("ALL",)),
                                              (UPPER_CASE_SCHEME, ())],
                         ids=["whole-tree-rule", "upper-case-scheme"])
def test_review_cases_fix_as_full_rounds(monkeypatch, tmp_path, text, select):
    """NG214 lists every ``server_tokens`` of the tree (``WHOLE_TREE``: whole trees are
    re-checked while it runs), and ``HTTP://`` names the same upstream as ``http://``
    (the servers are related): each scoped run leaves what a full run leaves."""
    path = write(tmp_path, text)
    monkeypatch.delenv(FULL_ENV, raising=False)
    scoped = _summary(fix_paths([path], select=select))
    monkeypatch.setenv(FULL_ENV, "1")
    full = _summary(fix_paths([path], select=select))
    assert scoped == full
    assert full["remaining"]  # the cases leave findings: the test compares something
