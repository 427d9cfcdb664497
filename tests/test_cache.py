"""The result cache: a warm re-run answers the same, and any change invalidates it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nglint import cache, cachestate
from nglint.cli import main
from tests.helpers import FIXTURES, write

SEED = (FIXTURES / "examples" / "jupyter-seed.conf").read_text()


def _check(*args: str):
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    return result.exit_code, json.loads(result.output)


def _entries() -> list[str]:
    folder = cache.directory()
    return sorted(os.listdir(folder)) if os.path.exists(folder) else []


def test_warm_run_answers_the_same_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    cold = _check(str(tmp_path / "tree"))
    assert len(_entries()) == 1
    # prove the second answer comes from the cache: break parsing, answer unchanged
    monkeypatch.setattr("nglint.load.parse_file", lambda source: 1 / 0)
    assert _check(str(tmp_path / "tree")) == cold


def _invalidated_by(tmp_path, monkeypatch, change) -> bool:
    """Whether, after ``change``, the second run parses again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tree = tmp_path / "tree"
    write(tree, SEED.replace("events {}", "events {}\ninclude extra.conf;"))
    write(tree, "", "extra.conf")
    _check(str(tree))
    change(tree)
    calls = []
    import nglint.load

    original = nglint.load.parse_file
    monkeypatch.setattr("nglint.load.parse_file",
                        lambda source: calls.append(source.path) or original(source))
    _check(str(tree))
    return bool(calls)  # the run parsed again instead of answering from the cache


def test_a_changed_file_invalidates(tmp_path, monkeypatch):
    assert _invalidated_by(tmp_path, monkeypatch, lambda tree: write(
        tree, "# changed\n", "extra.conf"))


def test_a_new_file_in_the_tree_invalidates(tmp_path, monkeypatch):
    assert _invalidated_by(tmp_path, monkeypatch, lambda tree: write(
        tree, "server { listen 81; }\n", "conf.d/new.conf"))


def test_a_missing_include_that_appears_invalidates(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tree = tmp_path / "tree"
    write(tree, SEED.replace("events {}", "events {}\ninclude /" + str(tmp_path).strip("/")
                             + "/outside/late.conf;"))
    _, first = _check(str(tree))
    assert "NG002" in {f["code"] for f in first["findings"]}
    write(tmp_path / "outside", "", "late.conf")
    _, second = _check(str(tree))
    # what is left is the note that the include leaves the linted tree (info)
    assert not [f for f in second["findings"] if f["code"] == "NG002"
                and f["severity"] != "info"]


def test_configuration_and_version_are_part_of_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    _, everything = _check(str(tmp_path / "tree"))
    _, selected = _check("--select", "NG101", str(tmp_path / "tree"))
    assert {f["code"] for f in selected["findings"]} == {"NG101"} != \
        {f["code"] for f in everything["findings"]}
    key = cache.key([str(tmp_path)], ["settings"])
    monkeypatch.setattr(cache, "__version__", "9.9.9")
    assert cache.key([str(tmp_path)], ["settings"]) != key


def test_no_cache_bypasses(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path / "tree", SEED)
    _check("--no-cache", str(tmp_path / "tree"))
    assert _entries() == []


def test_unchanged_tree_is_not_parsed_again(tmp_path, monkeypatch):
    assert not _invalidated_by(tmp_path, monkeypatch, lambda tree: None)


def test_a_change_to_nglint_itself_is_part_of_the_key(tmp_path, monkeypatch):
    """A rule edited without a new version number (an editable install) must not be
    answered by results cached before the edit."""
    key = cache.key([str(tmp_path)], ["settings"])
    assert cache.key([str(tmp_path)], ["settings"]) == key  # the control: stable
    from nglint.rules import websocket_http_version

    rule = websocket_http_version.__file__
    stat = os.stat(rule)
    try:
        os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert cache.key([str(tmp_path)], ["settings"]) != key
    finally:
        os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns))


# --- stale answers: what the key and the entry's state must cover -----------------------

PROXY = "location / {{ proxy_pass http://127.0.0.1:{port}; {extra} }}\n"


def _codes(*args: str) -> set[str]:
    return {f["code"] for f in _check(*args)[1]["findings"]}


def _two_sites(folder) -> None:
    """a.conf and b.conf: server fragments that lint differently."""
    write(folder, "server { listen 80; " + PROXY.format(port=8888, extra="") + "}\n", "a.conf")
    write(folder, "server { listen 80; " + PROXY.format(
        port=8888, extra="proxy_http_version 1.1; proxy_read_timeout 1d;") + "}\n", "b.conf")


def test_a_retargeted_symlink_asked_for_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _two_sites(tmp_path / "sites")
    link = tmp_path / "site.conf"
    link.symlink_to(tmp_path / "sites" / "a.conf")
    first = _codes(str(link))
    link.unlink()
    link.symlink_to(tmp_path / "sites" / "b.conf")
    assert _codes(str(link)) == _codes("--no-cache", str(link)) != first


def test_a_retargeted_symlink_a_walk_finds_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _two_sites(tmp_path / "sites")
    link = tmp_path / "tree" / "conf.d" / "site.conf"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "sites" / "a.conf")
    first = _codes(str(tmp_path / "tree"))
    link.unlink()
    link.symlink_to(tmp_path / "sites" / "b.conf")
    assert _codes(str(tmp_path / "tree")) == _codes("--no-cache", str(tmp_path / "tree")) \
        != first


def test_a_retargeted_directory_symlink_is_seen(tmp_path, monkeypatch):
    """Same names under the link, other files: the walk alone cannot tell."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _two_sites(tmp_path / "sites")
    for name in ("a", "b"):
        write(tmp_path / f"tree-{name}", (tmp_path / "sites" / f"{name}.conf").read_text(),
              "site.conf")
    link = tmp_path / "tree"
    link.symlink_to(tmp_path / "tree-a")
    first = _codes(str(link))
    link.unlink()
    link.symlink_to(tmp_path / "tree-b")
    assert _codes(str(link)) == _codes("--no-cache", str(link)) != first


def test_a_new_match_of_an_include_glob_invalidates(tmp_path, monkeypatch):
    """The file asked for is not a directory: no walk sees conf.d/, its glob does."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    main_file = write(tmp_path, "events {}\nhttp { include conf.d/*.conf; }\n")
    write(tmp_path / "conf.d", "server { listen 80; }\n", "plain.conf")
    first = _codes(str(main_file))
    _two_sites(tmp_path / "conf.d")
    assert _codes(str(main_file)) == _codes("--no-cache", str(main_file)) != first


def test_the_current_directory_is_part_of_the_key(tmp_path, monkeypatch):
    """Paths in findings are relative to it: another directory, another entry."""
    monkeypatch.chdir(tmp_path)
    key = cache.key(["nginx.conf"], ["settings"])
    assert cache.key(["nginx.conf"], ["settings"]) == key
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert cache.key(["nginx.conf"], ["settings"]) != key


# --- a hit: what it reads, imports and writes --------------------------------------------

def _parsed_again(tree, monkeypatch, *args: str) -> tuple[bool, tuple]:
    """Whether a run parses (else it answered from the cache), and its answer."""
    import nglint.load

    calls = []
    original = nglint.load.parse_file
    with monkeypatch.context() as patch:
        patch.setattr("nglint.load.parse_file",
                      lambda source: calls.append(source.path) or original(source))
        answer = _check(*args, str(tree))
    return bool(calls), answer


def _entry_document() -> dict:
    from tests.test_cache_trust import decode

    [name] = _entries()
    return decode((Path(cache.directory()) / name).read_bytes())


def test_an_old_file_is_checked_by_its_stat_data(tmp_path, monkeypatch):
    """A file unchanged since well before the run is recorded with its stat signature,
    and a hit compares that instead of reading and hashing the file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = write(tmp_path / "tree", SEED)
    old = conf.stat().st_mtime_ns - 10 * cachestate.RACY_NS
    os.utime(conf, ns=(old, old))
    monkeypatch.setattr(cachestate, "RACY_NS", -10**18)  # ctime is now: trust it all the same
    cold = _check(str(conf))
    [(sha, signature)] = _entry_document()["state"]["files"].values()
    assert sha is not None and signature[3] == old
    # a read would fail the run (no configuration file: its digest is None)
    monkeypatch.setattr(cachestate, "digest", lambda path: None if path is None else 1 / 0)
    assert _parsed_again(conf, monkeypatch) == (False, cold)


def test_a_file_written_as_the_run_starts_is_hashed_until_it_is_old(tmp_path, monkeypatch):
    """Written in the timestamp tick of its read, a change could keep size and mtime:
    such a file is hashed on each hit until it has been left alone for ``RACY_NS``; the
    hit that finds it so records its stat signature, and the next hit reads nothing."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = write(tmp_path / "tree", SEED)
    cold = _check(str(conf))
    [(_, signature)] = _entry_document()["state"]["files"].values()
    assert signature is None
    hashed = []
    original = cachestate.digest
    monkeypatch.setattr(cachestate, "digest",
                        lambda path: hashed.append(path) or original(path))
    assert _parsed_again(conf, monkeypatch) == (False, cold)
    assert os.path.realpath(conf) in hashed
    [(_, signature)] = _entry_document()["state"]["files"].values()
    assert signature is None  # still too recent to trust
    monkeypatch.setattr(cachestate, "RACY_NS", -10**18)  # as if RACY_NS had passed
    assert _parsed_again(conf, monkeypatch) == (False, cold)
    [(_, signature)] = _entry_document()["state"]["files"].values()
    assert signature is not None and signature[2] == conf.stat().st_size
    hashed.clear()
    assert _parsed_again(conf, monkeypatch) == (False, cold)
    assert os.path.realpath(conf) not in hashed


def test_a_touched_file_still_answers_and_a_same_size_edit_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cachestate, "RACY_NS", -10**18)  # stat signatures recorded at once
    conf = write(tmp_path / "tree", SEED)
    cold = _check(str(conf))
    os.utime(conf)  # same bytes, new times: hashed, still the same
    assert _parsed_again(conf, monkeypatch) == (False, cold)
    # same length, mtime put back: the ctime (which no one can set) tells
    status = conf.stat()
    conf.write_text(SEED.replace("proxy_http_version 1.1", "proxy_http_version 1.0"))
    assert conf.stat().st_size == status.st_size
    os.utime(conf, ns=(status.st_atime_ns, status.st_mtime_ns))
    parsed, answer = _parsed_again(conf, monkeypatch)
    assert parsed and answer == _check("--no-cache", str(conf)) != cold


def test_another_format_is_rendered_from_the_stored_findings_then_stored(tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = write(tmp_path / "tree", SEED)
    _check(str(conf))
    expected = CliRunner().invoke(main, ["check", "--no-cache", "--format", "sarif",
                                         "--statistics", str(conf)])
    for _ in range(2):  # rendered from the findings, then from the stored output
        import nglint.load

        with monkeypatch.context() as patch:
            patch.setattr(nglint.load, "parse_file", lambda source: 1 / 0)
            result = CliRunner().invoke(main, ["check", "--format", "sarif", "--statistics",
                                               str(conf)])
        assert (result.exit_code, result.stdout, result.stderr) == (
            expected.exit_code, expected.stdout, expected.stderr)
        assert len(_entry_document()["renders"]) == 2  # json (first run) and sarif


HIT = """\
import json, sys
from nglint.cli import main
try:
    main(["check", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


def test_a_hit_imports_neither_the_engine_nor_the_rules(tmp_path, monkeypatch):
    """A warm run is start-up, one entry read and the files' stat calls."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = write(tmp_path / "tree", SEED)

    def modules() -> set[str]:
        done = subprocess.run([sys.executable, "-c", HIT, str(conf)], capture_output=True,
                              text=True, check=True)
        return set(json.loads(done.stderr))

    cold = modules()
    heavy = {"nglint.engine", "nglint.semantics", "nglint.load", "nglint.apps",
             "nglint.rules.if_is_evil", "nglint.findings", "rich"}
    assert heavy - {"rich"} <= cold  # the control: a cold run needs them
    assert not modules() & heavy


@pytest.mark.parametrize("options", [
    [], ["--quiet"], ["--statistics"], ["--output-format", "full"], ["--exit-zero"],
    ["--format", "json", "--statistics"], ["--format", "sarif"], ["--format", "junit"],
    ["--format", "github", "--fail-on", "info"], ["--select", "NG1", "--fail-on", "warning"],
    ["--color", "always"], ["--color", "always", "--output-format", "full", "--statistics"],
])
def test_a_hit_writes_what_the_run_wrote(tmp_path, monkeypatch, options):
    """Output, errors and exit status, byte for byte, from the stored output."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = str(write(tmp_path / "tree", SEED))

    def run(*extra: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["check", *extra, *options, conf])
        return result.exit_code, result.stdout, result.stderr

    cold = run("--no-cache")
    report = tmp_path / "report.out"
    run("--no-cache", "--output", str(report))
    written = report.read_text()
    assert run() == cold  # written, then stored
    import nglint.load

    monkeypatch.setattr(nglint.load, "parse_file", lambda source: 1 / 0)
    assert run() == cold  # from the stored output
    for _ in range(2):  # another output: from the findings, then stored
        report.unlink()
        assert run("--output", str(report))[0] == cold[0] and report.read_text() == written


def test_an_nginx_conf_appearing_above_a_file_within_tree_invalidates(tmp_path, monkeypatch):
    """``--within-tree`` lints a file in the tree above it: an ``nginx.conf`` that
    appears there after the entry was stored is a different tree (found in review:
    the warm run answered the fragment's findings)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    fragment = write(tmp_path / "a" / "sub",
                     "server {\n    listen 80;\n    location / {\n"
                     "        proxy_pass http://127.0.0.1:8080;\n"
                     "        proxy_set_header Host $host;\n    }\n}\n", "x.conf")
    _check("--within-tree", str(fragment))
    write(tmp_path / "a", "events {}\nhttp {\n    proxy_set_header X-A b;\n"
          "    include sub/*.conf;\n}\n")
    warm = _codes("--within-tree", str(fragment))
    assert warm == _codes("--no-cache", "--within-tree", str(fragment))
    assert "NG005" in warm  # the location's own proxy_set_header drops X-A
