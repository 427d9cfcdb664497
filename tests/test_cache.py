"""The result cache: a warm re-run answers the same, and any change invalidates it."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from nglint import cache
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
